/**
 * Appends entries to a stax chain file: the library API behind `stax log`, the code bank,
 * the guard trail and any program that logs many entries.
 *
 * - O(1): an append reads only the file's last line (for the previous hash and sequence),
 *   never the whole file, and writes one line with O_APPEND.
 * - Serialized across processes by a lock file beside the chain (src/chain/lock.ts).
 * - Durable on return: with durability 'fsync' (the default) an append's promise resolves
 *   only after fdatasync. Appends issued together share one lock, one write and one
 *   fdatasync (group commit), which is how a program logs 100,000 entries quickly.
 * - A torn last line (a writer killed mid-write) is never appended after: the writer
 *   refuses until `stax trail repair` has removed exactly the torn bytes.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StaxError, fileError } from '../errors.js';
import {
  FORMAT_ID,
  FORMAT_VERSION,
  GENESIS_HASH,
  serializeEntry,
  serializeHeader,
  type ChainEntry,
  type ChainHeader,
  type EntryBody,
  type EntrySignature,
} from './entry.js';
import { FileLock } from './lock.js';

export type Durability = 'fsync' | 'none';

export interface NewEntry {
  actor: string;
  action: string;
  payload?: unknown;
  session?: string;
  /** Defaults to now. */
  ts?: string;
  /** Extra hashed fields (a code bank commit's label, say). */
  extra?: Record<string, unknown>;
}

export interface WriterOptions {
  /** Header for a chain that does not exist yet; without it, a missing file is an error. */
  create?: { kind: string; origin: string; extra?: Record<string, unknown> };
  durability?: Durability;
  /** Signs each entry's hash (see src/trail/sign.ts). */
  sign?: (hash: string, body: EntryBody) => EntrySignature;
  lockTimeoutMs?: number;
}

interface Tail {
  seq: number;
  hash: string;
  /** File size when the tail was read: if unchanged later, nobody else appended. */
  size: number;
}

interface Pending {
  entry: NewEntry;
  resolve(e: ChainEntry): void;
  reject(err: unknown): void;
}

export class ChainWriter {
  private readonly lock: FileLock;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private cached: Tail | null = null;

  constructor(
    readonly path: string,
    private readonly options: WriterOptions = {},
  ) {
    this.lock = FileLock.for(path);
  }

  /** Appends one entry; resolves once it is written (and synced, by default). */
  append(entry: NewEntry): Promise<ChainEntry> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.flushing ??= this.flushSoon();
    });
  }

  /** Appends several entries under one lock and one sync. */
  appendMany(entries: NewEntry[]): Promise<ChainEntry[]> {
    return Promise.all(entries.map((e) => this.append(e)));
  }

  private async flushSoon(): Promise<void> {
    // Let callers that append in a loop without awaiting fill the batch first.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const written = await this.writeBatch(batch.map((p) => p.entry));
          batch.forEach((p, i) => p.resolve(written[i]!));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async writeBatch(entries: NewEntry[]): Promise<ChainEntry[]> {
    if (this.options.create) {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
      } catch (err) {
        throw fileError(dirname(this.path), err, 'create the folder');
      }
    }
    await this.lock.acquire({ timeoutMs: this.options.lockTimeoutMs });
    let fd: number | undefined;
    try {
      try {
        // Always O_APPEND: every write lands at the end, whoever else grew the file. Without
        // `create`, a missing file is an error rather than a new chain.
        fd = openSync(this.path, constants.O_RDWR | constants.O_APPEND | (this.options.create ? constants.O_CREAT : 0), 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new StaxError('FILE_NOT_FOUND', 'no such chain file (create it by appending with a header)', { file: this.path, cause: err });
        }
        throw fileError(this.path, err, 'open for appending');
      }
      const info = fstatSync(fd);
      if (!info.isFile()) throw new StaxError('FILE_UNREADABLE', 'is not a regular file; a chain is appended to a file', { file: this.path });
      const size = info.size;
      let header = '';
      let tail: Tail;
      if (size === 0) {
        const create = this.options.create;
        if (create === undefined) throw new StaxError('INPUT_INVALID', 'the chain file is empty: it has no header', { file: this.path });
        // The origin becomes the first line of every checkpoint: one plain printable line.
        if (create.origin === '' || /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/.test(create.origin)) {
          throw new StaxError('USAGE', `the origin ${JSON.stringify(create.origin)} must be one printable line (such as example.com/agents/recon)`, { file: this.path });
        }
        const h: ChainHeader = { ...create.extra, format: FORMAT_ID, version: FORMAT_VERSION, kind: create.kind, origin: create.origin, created: new Date().toISOString() };
        header = serializeHeader(h) + '\n';
        tail = { seq: -1, hash: GENESIS_HASH, size: 0 };
      } else if (this.cached !== null && this.cached.size === size) {
        tail = this.cached;
      } else {
        tail = readTail(fd, size, this.path);
      }
      let seq = tail.seq;
      let prev = tail.hash;
      const lines: string[] = [];
      const written: ChainEntry[] = [];
      for (const e of entries) {
        checkNewEntry(e, this.path);
        const body: EntryBody = { ...e.extra, seq: ++seq, ts: e.ts ?? new Date().toISOString(), actor: e.actor, action: e.action, payload: e.payload ?? null, prev };
        if (e.session !== undefined) body.session = e.session;
        const sign = this.options.sign;
        const { line, hash, entry } = serializeEntry(body, sign === undefined ? undefined : (h) => sign(h, body));
        lines.push(line);
        written.push(entry);
        prev = hash;
      }
      const bytes = Buffer.from(header + lines.join('\n') + '\n', 'utf8');
      // O_APPEND: the position is always the end, even if the file grew since fstat.
      writeAll(fd, bytes, this.path);
      if ((this.options.durability ?? 'fsync') === 'fsync') {
        try {
          fdatasyncSync(fd);
        } catch (err) {
          throw fileError(this.path, err, 'sync');
        }
      }
      this.cached = { seq, hash: prev, size: size + bytes.length };
      return written;
    } catch (err) {
      this.cached = null;
      throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
      this.lock.release();
    }
  }

  /** Waits for every pending append. */
  async close(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }
}

/** Refuses what the verifier would then reject: such an entry would spoil the chain for good. */
function checkNewEntry(e: NewEntry, path: string): void {
  if (typeof e.actor !== 'string' || e.actor === '') throw new StaxError('USAGE', 'an entry needs a non-empty actor', { file: path });
  if (typeof e.action !== 'string' || e.action === '') throw new StaxError('USAGE', 'an entry needs a non-empty action', { file: path });
  for (const key of Object.keys(e.extra ?? {})) {
    if (['seq', 'ts', 'actor', 'action', 'payload', 'prev', 'session', 'hash', 'sig'].includes(key)) {
      throw new StaxError('USAGE', `"${key}" is an entry field of its own, not an extra field`, { file: path });
    }
  }
}

function writeAll(fd: number, bytes: Buffer, path: string): void {
  let off = 0;
  try {
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    throw fileError(path, err, 'append to');
  }
}

const TAIL_STEP = 64 * 1024;
const MAX_LINE = 16 * 1024 * 1024;

/** Reads the last line of a chain file: the only part an append needs. */
export function readTail(fd: number, size: number, path: string): Tail {
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  if (last[0] !== 0x0a) {
    throw new StaxError('INPUT_INVALID', "the last line is incomplete (a write was cut off); run 'stax trail repair' before appending", { file: path });
  }
  let want = Math.min(size, TAIL_STEP);
  for (;;) {
    const buf = Buffer.alloc(want);
    readSync(fd, buf, 0, want, size - want);
    const nl = buf.lastIndexOf(0x0a, want - 2);
    if (nl >= 0 || want === size) {
      const line = buf.subarray(nl + 1, want - 1).toString('utf8');
      return { ...parseTailLine(line, path), size };
    }
    if (want >= MAX_LINE) throw new StaxError('INPUT_INVALID', 'the last line is longer than 16 MiB', { file: path });
    want = Math.min(size, want * 4);
  }
}

function parseTailLine(line: string, path: string): { seq: number; hash: string } {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(line.replace(/\r$/, '')) as Record<string, unknown>;
  } catch {
    throw new StaxError('INPUT_INVALID', "the last line is not valid JSON; run 'stax verify' on the file", { file: path });
  }
  if (v !== null && typeof v === 'object' && v.format === FORMAT_ID) {
    if (v.version !== FORMAT_VERSION) throw new StaxError('INPUT_INVALID', `unsupported stax chain version ${String(v.version)}`, { file: path });
    return { seq: -1, hash: GENESIS_HASH };
  }
  if (v === null || typeof v !== 'object' || !Number.isSafeInteger(v.seq) || typeof v.hash !== 'string' || !/^[0-9a-f]{64}$/.test(v.hash)) {
    throw new StaxError('INPUT_INVALID', 'the last line is not a stax chain entry; is this a stax chain?', { file: path });
  }
  return { seq: v.seq as number, hash: v.hash };
}
