/**
 * Splits a byte stream into lines, in batches (one batch per chunk) so that a million-line
 * file does not pay for a million async iterations. Lines are decoded as strict UTF-8; a
 * line that is not valid UTF-8 is flagged, not fatal, so a verifier can report it with its
 * index and go on.
 */
import { TextDecoder } from 'node:util';
import { StaxError } from '../errors.js';

export interface Line {
  /** The line's text without its `\n` (and without a `\r` before it). */
  text: string;
  /** 1-based line number. */
  number: number;
  /** False only for a last line that had no `\n`: possibly a torn write. */
  terminated: boolean;
  /** The line ended in `\r\n`. */
  crlf: boolean;
  /** The bytes were not valid UTF-8; `text` then holds a lossy decoding. */
  invalidUtf8: boolean;
  /** Byte length of the line including its terminator; lets repair cut exact bytes. */
  bytes: number;
}

export interface LineOptions {
  /** The longest line accepted, in bytes; a longer one is an error naming the line. */
  maxLineBytes: number;
  file: string;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Whole lines of a byte stream, several at a time: each terminated block ends in `\n`; the
 * last block, when the stream does not end in `\n`, is the unterminated rest. Verifiers that
 * split lines on other threads read these; `readLineBatches` splits them here.
 */
export interface LineBlock {
  bytes: Buffer;
  terminated: boolean;
}

/** A line longer than the limit is ahead; the reader of the blocks knows its number. */
export class LineTooLong extends Error {}

export async function* readLineBlocks(chunks: AsyncIterable<Buffer>, options: { maxLineBytes: number }): AsyncGenerator<LineBlock> {
  let carry: Buffer | null = null;
  for await (const chunk of chunks) {
    const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl < 0) {
      if (buf.length > options.maxLineBytes) throw new LineTooLong();
      carry = buf;
      continue;
    }
    carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : null;
    yield { bytes: buf.subarray(0, lastNl + 1), terminated: true };
    if (carry !== null && carry.length > options.maxLineBytes) throw new LineTooLong();
  }
  if (carry !== null && carry.length > 0) yield { bytes: carry, terminated: false };
}

export async function* readLineBatches(chunks: AsyncIterable<Buffer>, options: LineOptions): AsyncGenerator<Line[]> {
  let number = 0;
  try {
    for await (const block of readLineBlocks(chunks, options)) {
      if (!block.terminated) {
        yield [decodeLine(block.bytes, number + 1, false)];
        continue;
      }
      const batch: Line[] = [];
      number = splitLines(block.bytes, number, batch, options);
      yield batch;
    }
  } catch (err) {
    if (err instanceof LineTooLong) tooLong(options, number + 1);
    throw err;
  }
}

/** Splits a block of whole lines (ending in `\n`) into `out`, numbering on from `number`; returns the last number. */
export function splitLines(block: Buffer, number: number, out: Line[], options: LineOptions): number {
  let text: string | null = null;
  try {
    text = strict.decode(block);
  } catch {
    text = null; // some line in the block is bad: fall back to line-by-line decoding below
  }
  if (text !== null) {
    // Valid UTF-8 (the common case): split the decoded text. In a pure ASCII block
    // character offsets are byte offsets; otherwise each line's bytes are counted.
    const ascii = text.length === block.length;
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const crlf = nl > start && text.charCodeAt(nl - 1) === 13;
      const lineText = text.slice(start, crlf ? nl - 1 : nl);
      const bytes = ascii ? nl + 1 - start : Buffer.byteLength(lineText) + (crlf ? 2 : 1);
      if (bytes - 1 > options.maxLineBytes) tooLong(options, number + 1);
      out.push({ text: lineText, number: ++number, terminated: true, crlf, invalidUtf8: false, bytes });
      start = nl + 1;
    }
    return number;
  }
  let start = 0;
  for (;;) {
    const nl = block.indexOf(0x0a, start);
    if (nl < 0) break;
    if (nl - start > options.maxLineBytes) tooLong(options, number + 1);
    const line = decodeLine(block.subarray(start, nl + 1), ++number, true);
    out.push(line);
    start = nl + 1;
  }
  return number;
}

export function decodeLine(bytes: Buffer, number: number, terminated: boolean): Line {
  let end = terminated ? bytes.length - 1 : bytes.length;
  const crlf = end > 0 && bytes[end - 1] === 13;
  if (crlf) end -= 1;
  const body = bytes.subarray(0, end);
  try {
    return { text: strict.decode(body), number, terminated, crlf, invalidUtf8: false, bytes: bytes.length };
  } catch {
    return { text: lossy.decode(body), number, terminated, crlf, invalidUtf8: true, bytes: bytes.length };
  }
}

export function tooLong(options: LineOptions, number: number): never {
  throw new StaxError('INPUT_TOO_LARGE', `line ${number} is longer than ${options.maxLineBytes} bytes`, { file: options.file });
}
