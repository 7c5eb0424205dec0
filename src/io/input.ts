/**
 * Opens an input file (or `-` for stdin) as a stream of bytes, gunzipping transparently
 * when the first two bytes are the gzip magic. Nothing is read whole: verification streams.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { StaxError, fileError } from '../errors.js';

export interface Input {
  /** The path as the user gave it (`-` for stdin). */
  path: string;
  /** True when the bytes were gzip-compressed on disk. */
  gzip: boolean;
  /** The decompressed bytes, in chunks. Can be iterated once. */
  chunks: AsyncIterable<Buffer>;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const CHUNK = 1 << 20;

export async function openInput(path: string, stdin?: Readable): Promise<Input> {
  if (path === '-') {
    if (stdin === undefined) throw new StaxError('USAGE', "'-' (standard input) is not available here");
    return fromStream('-', stdin);
  }
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw fileError(path, err);
  }
  if (info.isDirectory()) throw new StaxError('FILE_UNREADABLE', 'is a directory, not a file', { file: path });
  let gzip = false;
  if (info.isFile()) {
    // Peek at the magic with a separate read: createReadStream can then stream from 0.
    let handle;
    try {
      handle = await open(path, 'r');
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
    } catch (err) {
      throw fileError(path, err);
    } finally {
      await handle?.close();
    }
  } else {
    // A FIFO or a character device: no peeking without consuming, so sniff the first chunk.
    return fromStream(path, createReadStream(path, { highWaterMark: CHUNK }));
  }
  const raw = createReadStream(path, { highWaterMark: CHUNK });
  return { path, gzip, chunks: guard(path, gzip ? raw.pipe(createGunzip({ chunkSize: CHUNK })) : raw, raw, gzip) };
}

/** Sniffs gzip from the first chunk of a stream that cannot be re-read. */
async function fromStream(path: string, stream: Readable): Promise<Input> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: IteratorResult<Buffer>;
  try {
    first = await iterator.next();
  } catch (err) {
    throw fileError(path, err);
  }
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const gzip = head.length >= 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (first.done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield Buffer.from(next.value);
    }
  }
  if (!gzip) return { path, gzip, chunks: guard(path, replay(), undefined, false) };
  const gunzip = createGunzip({ chunkSize: CHUNK });
  (async () => {
    try {
      for await (const chunk of replay()) if (!gunzip.write(chunk)) await new Promise((r) => gunzip.once('drain', r));
      gunzip.end();
    } catch (err) {
      gunzip.destroy(err as Error);
    }
  })();
  return { path, gzip, chunks: guard(path, gunzip, undefined, true) };
}

/** Converts stream errors into StaxErrors that name the file. */
async function* guard(path: string, source: AsyncIterable<Buffer>, raw: Readable | undefined, gzip: boolean): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of source) yield chunk;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (gzip && code.startsWith('Z_')) {
      throw new StaxError('INPUT_INVALID', `gzip data is corrupt or truncated (${(err as Error).message})`, { file: path, cause: err });
    }
    throw fileError(path, err);
  } finally {
    raw?.destroy();
  }
}
