/**
 * Checks a block of whole lines on its own: splits it, runs checkLine's rules on each line
 * (JSON, shape, hash) and packs the results compactly. A line in the writer's own layout is
 * checked on its bytes (scanCanonicalBytes, then SHA-256 of those bytes); any other line is
 * decoded and goes through checkLine. Runs on the main thread, and on the worker threads of
 * the parallel verifier (stax-worker.ts) for a large file.
 */
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { TextDecoder } from 'node:util';
import { StaxError } from '../errors.js';
import { decodeLine, splitLines, type Line } from '../io/lines.js';
import { scanCanonicalBytes, type CanonicalBytes } from '../chain/line-scan.js';
import { checkEntryText, checkLine, type LineCheck } from './stax.js';
import type { BlockRequest, BlockResult } from './stax-parallel.js';

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Per-line results, grown as lines come: kinds, seqs and the hash and prev bytes. */
class Packer {
  kinds: Uint8Array;
  seqs: Float64Array;
  hashBytes: Uint8Array;
  lines = 0;
  hashLength = 0;

  constructor(expectedLines: number) {
    this.kinds = new Uint8Array(expectedLines);
    this.seqs = new Float64Array(expectedLines);
    this.hashBytes = new Uint8Array(expectedLines * 128);
  }

  /** Room for one more line; returns its index. */
  next(): number {
    if (this.lines === this.kinds.length) {
      const kinds = new Uint8Array(this.lines * 2 + 16);
      kinds.set(this.kinds);
      this.kinds = kinds;
      const seqs = new Float64Array(kinds.length);
      seqs.set(this.seqs);
      this.seqs = seqs;
    }
    if (this.hashLength + 128 > this.hashBytes.length) {
      const bytes = new Uint8Array(this.hashBytes.length * 2 + 2048);
      bytes.set(this.hashBytes.subarray(0, this.hashLength));
      this.hashBytes = bytes;
    }
    return this.lines++;
  }

  /** A line whose entry verified on its own: its seq, hash and prev. */
  entry(i: number, seq: number, hash: string, prev: string): void {
    this.seqs[i] = seq;
    writeAscii(this.hashBytes, this.hashLength, hash);
    writeAscii(this.hashBytes, this.hashLength + 64, prev);
    this.hashLength += 128;
  }

  /** The same from bytes of the block. */
  entryBytes(i: number, seq: number, b: Uint8Array, hash: number, prev: number): void {
    this.seqs[i] = seq;
    const out = this.hashBytes;
    const at = this.hashLength;
    for (let k = 0; k < 64; k++) {
      out[at + k] = b[hash + k]!;
      out[at + 64 + k] = b[prev + k]!;
    }
    this.hashLength += 128;
  }

  hashes(): string {
    return Buffer.from(this.hashBytes.buffer, this.hashBytes.byteOffset, this.hashLength).toString('latin1');
  }
}

function writeAscii(out: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
}

export function checkBlock(req: BlockRequest): BlockResult {
  const bytes = Buffer.from(req.bytes, 0, req.length);
  const texts: string[] | null = req.wantTexts ? [] : null;
  const others: Array<[number, LineCheck]> = [];
  const out = new Packer(Math.ceil(bytes.length / 128) + 16);
  let crlf = false;
  let tooLongAt = 0;

  /** Everything but the byte fast path: checkLine's rules on the line's text. */
  const viaText = (i: number, text: string): void => {
    const check: LineCheck = text.charCodeAt(0) !== 0x7b && text.trim() === '' ? { kind: 'blank' } : checkEntryText(text);
    if (check.kind === 'entry' && check.computed === check.hash) {
      out.entry(i, check.seq, check.hash, check.prev);
    } else {
      out.kinds[i] = 1;
      // Visitors parse the text again on the main thread; the parsed entry stays here.
      others.push([i, check.kind === 'entry' ? { ...check, entry: null } : check]);
    }
  };

  if (req.terminated && bytes.length <= req.maxLineBytes && isUtf8(bytes)) {
    // The common case: valid UTF-8, and no line can be too long. An entry in the writer's
    // own layout is checked on its bytes, without a string (scanCanonicalBytes); any other
    // line is decoded and checked as checkLine would.
    const scan: CanonicalBytes = { at: 0, seq: 0, prev: 0, hash: 0 };
    let start = 0;
    const n = bytes.length;
    while (start < n) {
      const i = out.next();
      const stop = scanCanonicalBytes(bytes, start, n, scan);
      if (stop > 0 && (bytes[stop] === 0x0a || (bytes[stop] === 13 && bytes[stop + 1] === 0x0a)) && hashMatches(bytes, start, scan)) {
        if (texts !== null) texts.push(strict.decode(bytes.subarray(start, stop)));
        out.entryBytes(i, scan.seq, bytes, scan.hash, scan.prev);
        if (bytes[stop] === 13) {
          crlf = true;
          start = stop + 2;
        } else {
          start = stop + 1;
        }
        continue;
      }
      const nl = bytes.indexOf(0x0a, start);
      let end = nl;
      if (end > start && bytes[end - 1] === 13) {
        end--;
        crlf = true;
      }
      const text = strict.decode(bytes.subarray(start, end));
      texts?.push(text);
      viaText(i, text);
      start = nl + 1;
    }
  } else {
    const lines: Line[] = [];
    try {
      if (req.terminated) splitLines(bytes, 0, lines, { maxLineBytes: req.maxLineBytes, file: '' });
      else lines.push(decodeLine(bytes, 1, false));
    } catch (err) {
      if (!(err instanceof StaxError && err.code === 'INPUT_TOO_LARGE')) throw err;
      tooLongAt = lines.length + 1;
    }
    for (const line of lines) {
      if (line.crlf) crlf = true;
      const i = out.next();
      texts?.push(line.text);
      const check = checkLine(line);
      if (check.kind === 'entry' && check.computed === check.hash) {
        out.entry(i, check.seq, check.hash, check.prev);
      } else {
        out.kinds[i] = 1;
        others.push([i, check.kind === 'entry' ? { ...check, entry: null } : check]);
      }
    }
  }
  const n = out.lines;
  return {
    id: req.id,
    lines: n,
    crlf,
    kinds: out.kinds.slice(0, n),
    seqs: out.seqs.slice(0, n),
    hashes: out.hashes(),
    others,
    texts,
    tooLongAt,
    bytes: req.bytes,
  };
}

/**
 * SHA-256 of the line's canonical body, bytes [start, at) and `}`, against the recorded
 * hash. The body's closing brace is written over the `,` at `at` for the moment of hashing:
 * the block is ours, and this saves a copy of every line.
 */
function hashMatches(b: Buffer, start: number, scan: CanonicalBytes): boolean {
  const saved = b[scan.at]!;
  b[scan.at] = 0x7d;
  const computed = hash('sha256', b.subarray(start, scan.at + 1), 'hex');
  b[scan.at] = saved;
  for (let i = 0; i < 64; i++) if (computed.charCodeAt(i) !== b[scan.hash + i]) return false;
  return true;
}
