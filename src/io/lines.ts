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

export async function* readLineBatches(chunks: AsyncIterable<Buffer>, options: LineOptions): AsyncGenerator<Line[]> {
  let carry: Buffer | null = null;
  let number = 0;
  for await (const chunk of chunks) {
    const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
    const lastNl = buf.lastIndexOf(0x0a);
    if (lastNl < 0) {
      if (buf.length > options.maxLineBytes) tooLong(options, number + 1);
      carry = buf;
      continue;
    }
    const batch: Line[] = [];
    number = splitInto(buf.subarray(0, lastNl + 1), number, batch, options);
    carry = lastNl + 1 < buf.length ? Buffer.from(buf.subarray(lastNl + 1)) : null;
    if (carry !== null && carry.length > options.maxLineBytes) tooLong(options, number + 1);
    yield batch;
  }
  if (carry !== null && carry.length > 0) {
    const line = decodeLine(carry, number + 1, false);
    yield [line];
  }
}

function splitInto(block: Buffer, number: number, out: Line[], options: LineOptions): number {
  let text: string | null = null;
  try {
    text = strict.decode(block);
  } catch {
    text = null; // some line in the block is bad: fall back to line-by-line decoding below
  }
  if (text !== null && text.length === block.length) {
    // Pure ASCII block: character offsets are byte offsets, the common fast case.
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      const crlf = nl > start && text.charCodeAt(nl - 1) === 13;
      if (nl - start > options.maxLineBytes) tooLong(options, number + 1);
      out.push({ text: text.slice(start, crlf ? nl - 1 : nl), number: ++number, terminated: true, crlf, invalidUtf8: false, bytes: nl + 1 - start });
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

function decodeLine(bytes: Buffer, number: number, terminated: boolean): Line {
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

function tooLong(options: LineOptions, number: number): never {
  throw new StaxError('INPUT_TOO_LARGE', `line ${number} is longer than ${options.maxLineBytes} bytes`, { file: options.file });
}
