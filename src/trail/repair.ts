/**
 * Finds and removes a torn last line: bytes after the last newline that a writer killed
 * mid-write left behind. A complete entry is never removed: if the bytes after the last
 * newline already form a whole entry (the writer died just before the newline), the
 * newline is added instead.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { StaxError, fileError } from '../errors.js';
import { FileLock } from '../chain/lock.js';
import { assertRegularFile } from '../fs/regular.js';

export interface TornTail {
  file: string;
  /** Size of the file now. */
  size: number;
  /** Offset where the torn bytes start (just after the last newline). */
  offset: number;
  /** How many bytes are torn (0: nothing to repair). */
  tornBytes: number;
  /** What repair does: nothing, cut the torn bytes, or add the missing newline. */
  action: 'none' | 'truncate' | 'add-newline';
  /** The torn bytes, escaped for display (at most 200 characters). */
  preview: string;
}

const MAX_TAIL = 16 * 1024 * 1024 + 1;

export function findTornTail(file: string): TornTail {
  assertRegularFile(file);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw fileError(file, err);
  }
  try {
    return inspect(fd, file);
  } finally {
    closeSync(fd);
  }
}

function inspect(fd: number, file: string): TornTail {
  const size = fstatSync(fd).size;
  const want = Math.min(size, MAX_TAIL);
  const buf = Buffer.alloc(want);
  readSync(fd, buf, 0, want, size - want);
  if (size === 0 || buf[want - 1] === 0x0a) return { file, size, offset: size, tornBytes: 0, action: 'none', preview: '' };
  const nl = buf.lastIndexOf(0x0a);
  if (nl < 0 && want < size) throw new StaxError('INPUT_INVALID', 'the last line is longer than 16 MiB; not a stax chain', { file });
  const torn = buf.subarray(nl + 1);
  const offset = size - torn.length;
  const preview = JSON.stringify(torn.subarray(0, 200).toString('utf8')).slice(1, -1);
  return { file, size, offset, tornBytes: torn.length, action: isCompleteEntry(torn) ? 'add-newline' : 'truncate', preview };
}

function isCompleteEntry(bytes: Buffer): boolean {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    return typeof v === 'object' && v !== null && typeof v.hash === 'string' && Number.isSafeInteger(v.seq);
  } catch {
    return false;
  }
}

/** Repairs under the chain's lock, re-checking that the tail is still the one inspected. */
export async function repairTornTail(expected: TornTail): Promise<TornTail> {
  const lock = FileLock.for(expected.file);
  await lock.acquire();
  let fd: number | undefined;
  try {
    fd = openSync(expected.file, 'r+');
    const now = inspect(fd, expected.file);
    if (now.size !== expected.size || now.offset !== expected.offset || now.action !== expected.action) {
      throw new StaxError('INPUT_INVALID', 'the file changed since it was inspected; run repair again', { file: expected.file });
    }
    if (now.action === 'truncate') ftruncateSync(fd, now.offset);
    if (now.action === 'add-newline') writeSync(fd, '\n', now.size);
    fdatasyncSync(fd);
    return now;
  } catch (err) {
    if (err instanceof StaxError) throw err;
    throw fileError(expected.file, err, 'repair');
  } finally {
    if (fd !== undefined) closeSync(fd);
    lock.release();
  }
}
