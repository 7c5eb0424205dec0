/**
 * Verifies a large stax chain (JSON Lines) on several threads. The main thread reads the
 * file in blocks of whole lines and hands them out; worker threads (stax-worker.ts), and
 * the main thread for its own share, split, parse and hash the lines of a block
 * (checkBlock); the main thread then feeds the results, in file order, to the same LineSink
 * and StaxChainChecker as the single-threaded path, so that sequence and link checks,
 * visitors and the report come out exactly the same (test/formats/stax-parallel.test.ts).
 *
 * Memory stays flat: at most two blocks per thread are in flight, block buffers go to a
 * worker and come back to be reused, and results carry no parsed entries, only a kind, a
 * seq and the two hashes of each entry (and the lines' text when visitors need entries).
 */
import { Worker } from 'node:worker_threads';
import { StaxError } from '../errors.js';
import { decodeLine, tooLong, type LineOptions } from '../io/lines.js';
import type { LineCheck, LineSink } from './stax.js';
import { checkBlock } from './stax-block.js';

export interface BlockRequest {
  id: number;
  /** Whole lines in bytes[0, length): moved to the worker and back, then reused. */
  bytes: ArrayBuffer;
  length: number;
  /** False only for the last block of a file that does not end in a newline. */
  terminated: boolean;
  maxLineBytes: number;
  wantTexts: boolean;
}

export interface BlockResult {
  id: number;
  lines: number;
  crlf: boolean;
  /** Per line: 0 an entry whose hash matched (its seq in `seqs`, hashes in `hashes`); 1 see `others`. */
  kinds: Uint8Array;
  seqs: Float64Array;
  /** Hash then prev, 64 characters each, for each line of kind 0 in order. */
  hashes: string;
  others: Array<[number, LineCheck]>;
  /** The lines' text, when visitors need the parsed entries. */
  texts: string[] | null;
  /** 1-based number within the block of a line over the length limit, or 0. */
  tooLongAt: number;
  /** The request's buffer, handed back for the next block. */
  bytes: ArrayBuffer;
}

export interface ParallelOptions extends LineOptions {
  /** Worker threads; 0 checks every block on this thread. */
  workers: number;
  wantTexts: boolean;
}

const IN_FLIGHT_PER_WORKER = 2;
// Blocks travel in a few buffers that go to a worker and come back: memory a worker frees
// only at its next GC would otherwise pile up, a block at a time.
const BUFFER_BYTES = (1 << 20) + (64 << 10);

export async function verifyLineBlocks(chunks: AsyncIterable<Buffer>, sink: LineSink, options: ParallelOptions): Promise<void> {
  const pool = new Pool(options.workers);
  const pending: Array<{ result: Promise<BlockResult>; terminated: boolean }> = [];
  const maxPending = (options.workers + 1) * IN_FLIGHT_PER_WORKER;
  let lineOffset = 0;
  let nextId = 0;

  const apply = (r: BlockResult, terminated: boolean): void => {
    if (r.tooLongAt > 0) tooLong(options, lineOffset + r.tooLongAt);
    if (r.crlf) sink.sawCrlf = true;
    const { kinds, seqs, hashes, others, texts } = r;
    let k = 0;
    let o = 0;
    for (let i = 0; i < r.lines; i++) {
      const number = lineOffset + i + 1;
      const text = texts === null ? null : texts[i]!;
      if (kinds[i] === 0) {
        const hash = hashes.slice(k, k + 64);
        const prev = hashes.slice(k + 64, k + 128);
        k += 128;
        sink.checked({ kind: 'entry', seq: seqs[i]!, prev, hash, computed: hash, dup: null, entry: null }, text, number, false);
      } else {
        sink.checked(others[o++]![1], text, number, !terminated);
      }
    }
    lineOffset += r.lines;
  };

  const drain = async (keep: number): Promise<void> => {
    while (pending.length > keep) {
      const next = pending.shift()!;
      const r = await next.result;
      apply(r, next.terminated);
      pool.recycle(r.bytes);
    }
  };

  /** Sends carry + chunk[0, end) to a worker, copied into a buffer that comes back. */
  const dispatch = (carry: Buffer | null, chunk: Buffer | null, end: number, terminated: boolean): void => {
    const length = (carry?.length ?? 0) + end;
    const spare = pool.spare.pop();
    const bytes = spare !== undefined && spare.byteLength >= length ? spare : new ArrayBuffer(Math.max(length, BUFFER_BYTES));
    const view = new Uint8Array(bytes);
    if (carry !== null) view.set(carry);
    if (chunk !== null && end > 0) view.set(chunk.subarray(0, end), carry?.length ?? 0);
    const req: BlockRequest = { id: nextId++, bytes, length, terminated, maxLineBytes: options.maxLineBytes, wantTexts: options.wantTexts };
    // The main thread checks every (workers + 1)th block itself: one isolate fewer than a
    // worker per core, which is most of the memory the workers add.
    const mine = req.id % (options.workers + 1) === options.workers;
    pending.push({ result: mine ? Promise.resolve(checkBlock(req)) : pool.run(req), terminated });
  };

  try {
    let carry: Buffer | null = null;
    for await (const read of chunks) {
      let chunk = read;
      if (sink.expectsHeader) {
        // The header is the first line, checked here; what follows it is read on as a chunk.
        const buf: Buffer = carry === null ? Buffer.from(read) : Buffer.concat([carry, read]);
        const nl = buf.indexOf(0x0a);
        if (nl < 0) {
          if (buf.length > options.maxLineBytes) tooLong(options, 1);
          carry = buf;
          continue;
        }
        if (nl > options.maxLineBytes) tooLong(options, 1);
        sink.line(decodeLine(buf.subarray(0, nl + 1), 1, true));
        lineOffset = 1;
        carry = null;
        chunk = buf.subarray(nl + 1);
        if (chunk.length === 0) continue;
      }
      const lastNl = chunk.lastIndexOf(0x0a);
      if (lastNl < 0) {
        carry = carry === null ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
        if (carry.length > options.maxLineBytes) {
          // The single-threaded reader names the line by number: finish the lines before it.
          await drain(0);
          tooLong(options, lineOffset + 1);
        }
        continue;
      }
      dispatch(carry, chunk, lastNl + 1, true);
      carry = Buffer.from(chunk.subarray(lastNl + 1));
      if (carry.length > options.maxLineBytes) {
        await drain(0);
        tooLong(options, lineOffset + 1);
      }
      await drain(maxPending - 1);
    }
    if (carry !== null && carry.length > 0) {
      if (sink.expectsHeader) sink.line(decodeLine(carry, 1, false));
      else dispatch(carry, null, 0, false);
    }
    await drain(0);
  } finally {
    // Results still in flight after an error are not wanted; their rejections are not either.
    for (const p of pending) p.result.catch(() => {});
    await pool.close();
  }
}

class Pool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve(r: BlockResult): void; reject(e: unknown): void }>();
  private turn = 0;
  private failure: unknown = null;
  /** Buffers back from the workers, for the next blocks. */
  readonly spare: ArrayBuffer[] = [];

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      // Small heaps: a worker holds one block's lines at a time.
      const w = new Worker(new URL('./stax-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 6 } });
      w.on('message', (r: BlockResult) => {
        const waiter = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        waiter?.resolve(r);
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (code !== 0) this.fail(new StaxError('INPUT_INVALID', `a verifier thread stopped (exit code ${code})`));
      });
      this.workers.push(w);
    }
  }

  recycle(bytes: ArrayBuffer): void {
    if (bytes.byteLength === BUFFER_BYTES && this.spare.length < 8) this.spare.push(bytes);
  }

  run(req: BlockRequest): Promise<BlockResult> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(req.id, { resolve, reject });
      const w = this.workers[this.turn++ % this.workers.length]!;
      w.postMessage(req, [req.bytes]);
    });
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
