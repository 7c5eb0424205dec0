/**
 * Bounded inflation of gzip data that may hold several members.
 *
 * RFC 1952 §2.2 makes a gzip file a series of members whose outputs concatenate, so more
 * than one member is legal and each has its own CRC32 and ISIZE. We do not hand the data
 * to zlib's gunzip: it reports neither where a member ended nor which member failed, and
 * Node's gunzip silently accepts zero bytes after the last member, hiding appended data.
 * Instead each member's header (ID1 ID2 CM FLG MTIME XFL OS, then FEXTRA, FNAME, FCOMMENT,
 * FHCRC) is parsed here, its raw deflate body goes through an InflateRaw stream, and its
 * 8-byte trailer is checked here. InflateRaw stops at the end of the deflate stream and its
 * `bytesWritten` counts the input it consumed, which is exactly where the trailer starts.
 *
 * The output is bounded by streaming, not by `maxOutputLength`: the stream's chunk size is
 * at most the remaining budget + 1, the stream is destroyed as soon as a chunk crosses the
 * budget, and every chunk is counted, so a bomb costs at most one chunk beyond the budget
 * and the caller learns exactly how many bytes were produced.
 */
import zlib from 'node:zlib';

export type InflateFailure = 'BAD_GZIP' | 'BAD_CRC' | 'SIZE_EXCEEDED';

export interface InflateProblem {
  code: InflateFailure;
  message: string;
  expected: string;
  found: string;
}

export interface InflateOutcome {
  /** Members whose header was read, including one that then failed. */
  members: number;
  /** Bytes the decompressor emitted, counting the chunk that crossed the limit, if any. */
  produced: number;
  problem: InflateProblem | null;
}

const FTEXT = 0x01;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const FRESERVED = 0xff & ~(FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT);
const FIXED_HEADER = 10;
const TRAILER = 8;
const MAX_CHUNK = 64 * 1024;

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

type HeaderResult = { ok: true; length: number } | { ok: false; problem: InflateProblem };

function problem(code: InflateFailure, what: string, expected: string, found: string): InflateProblem {
  return { code, message: `${what}: expected ${expected}, found ${found}`, expected, found };
}

function parseMemberHeader(data: Buffer, at: number, label: string): HeaderResult {
  const fail = (what: string, expected: string, found: string, code: InflateFailure = 'BAD_GZIP'): HeaderResult => ({
    ok: false,
    problem: problem(code, `${label} ${what}`, expected, found),
  });
  const truncated = (field: string): HeaderResult =>
    fail(field, 'it within the compressed data', `the data ends at member offset ${data.length - at}`);

  if (data.length - at < FIXED_HEADER) {
    if (data[at] !== 0x1f || (data.length - at > 1 && data[at + 1] !== 0x8b)) {
      return fail('magic', '1f 8b', hex(data.subarray(at, at + 2)));
    }
    return truncated('header (10 bytes)');
  }
  if (data[at] !== 0x1f || data[at + 1] !== 0x8b) return fail('magic', '1f 8b', hex(data.subarray(at, at + 2)));
  const cm = data[at + 2]!;
  if (cm !== 8) return fail('compression method', '8 (deflate)', String(cm));
  const flg = data[at + 3]!;
  if ((flg & FRESERVED) !== 0) return fail('flags', 'reserved bits 5-7 clear', `0x${flg.toString(16).padStart(2, '0')}`);

  let p = at + FIXED_HEADER;
  if ((flg & FEXTRA) !== 0) {
    if (data.length - p < 2) return truncated('FEXTRA length');
    const xlen = data.readUInt16LE(p);
    p += 2;
    if (data.length - p < xlen) return truncated(`FEXTRA field (${xlen} bytes)`);
    p += xlen;
  }
  for (const [flag, field] of [
    [FNAME, 'FNAME'],
    [FCOMMENT, 'FCOMMENT'],
  ] as const) {
    if ((flg & flag) === 0) continue;
    const end = data.indexOf(0, p);
    if (end === -1) return truncated(`${field} terminator`);
    p = end + 1;
  }
  if ((flg & FHCRC) !== 0) {
    if (data.length - p < 2) return truncated('FHCRC');
    // RFC 1952 §2.3.1: the two least significant bytes of the CRC32 of the header so far.
    const computed = zlib.crc32(data.subarray(at, p)) & 0xffff;
    const stored = data.readUInt16LE(p);
    if (computed !== stored) {
      return fail('header CRC16', `0x${stored.toString(16).padStart(4, '0')} (stored)`, `0x${computed.toString(16).padStart(4, '0')}`, 'BAD_CRC');
    }
    p += 2;
  }
  return { ok: true, length: p - at };
}

type RawOutcome =
  | { kind: 'end'; produced: number; crc: number; consumed: number }
  | { kind: 'exceeded'; produced: number }
  | { kind: 'error'; produced: number; detail: string };

function inflateRawBounded(input: Buffer, budget: number, onData: (chunk: Buffer) => void): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const chunkSize = Math.min(MAX_CHUNK, Math.max(zlib.constants.Z_MIN_CHUNK, budget + 1));
    const z = zlib.createInflateRaw({ chunkSize });
    let produced = 0;
    let crc = 0;
    let settled = false;
    const settle = (outcome: RawOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    z.on('data', (chunk: Buffer) => {
      if (settled) return;
      produced += chunk.length;
      if (produced > budget) {
        settle({ kind: 'exceeded', produced });
        z.destroy();
        return;
      }
      crc = zlib.crc32(chunk, crc);
      onData(chunk);
    });
    z.on('end', () => settle({ kind: 'end', produced, crc, consumed: z.bytesWritten }));
    z.on('error', (err: Error) => settle({ kind: 'error', produced, detail: err.message }));
    z.end(input);
  });
}

/**
 * Inflates every gzip member of `data`, passing output to `onData` while the total stays
 * within `limit` bytes, and stops at the first problem. `baseOffset` is where `data` starts
 * in the file, so messages give offsets a hex editor can use.
 */
export async function inflateGzipMembers(
  data: Buffer,
  limit: number,
  onData: (chunk: Buffer) => void,
  baseOffset = 0,
): Promise<InflateOutcome> {
  let members = 0;
  let produced = 0;
  let at = 0;
  const done = (p: InflateProblem | null): InflateOutcome => ({ members, produced, problem: p });

  if (data.length === 0) return done(problem('BAD_GZIP', 'gzip data', 'at least one member', '0 bytes'));
  while (at < data.length) {
    const label = `gzip member ${members + 1} at file offset ${baseOffset + at}`;
    if (members > 0 && (data[at] !== 0x1f || data[at + 1] !== 0x8b)) {
      // Not another member: appended data the hash field happens to cover.
      const rest = data.length - at;
      return done(
        problem('BAD_GZIP', `data after gzip member ${members} at file offset ${baseOffset + at}`, 'end of compressed data or another member (1f 8b)', `${rest} trailing byte${rest === 1 ? '' : 's'} starting ${hex(data.subarray(at, at + 4))}`),
      );
    }
    const header = parseMemberHeader(data, at, label);
    members += 1;
    if (!header.ok) return done(header.problem);

    const bodyStart = at + header.length;
    const raw = await inflateRawBounded(data.subarray(bodyStart), limit - produced, onData);
    produced += raw.produced;
    if (raw.kind === 'exceeded') {
      return done(problem('SIZE_EXCEEDED', 'inflated size', `at most ${limit} bytes (originalSize)`, `${produced} bytes before inflation was stopped`));
    }
    if (raw.kind === 'error') return done(problem('BAD_GZIP', `${label} deflate data`, 'a valid deflate stream', raw.detail));

    const trailerAt = bodyStart + raw.consumed;
    if (data.length - trailerAt < TRAILER) {
      return done(problem('BAD_GZIP', `${label} trailer`, '8 bytes (CRC32, ISIZE)', `${data.length - trailerAt}`));
    }
    const storedCrc = data.readUInt32LE(trailerAt);
    if (storedCrc !== raw.crc) {
      return done(problem('BAD_CRC', `${label} CRC32`, `${hex32(storedCrc)} (trailer)`, `${hex32(raw.crc)} (computed)`));
    }
    // ISIZE is the member's output length modulo 2^32 (RFC 1952 §2.3.1).
    const storedSize = data.readUInt32LE(trailerAt + 4);
    const actualSize = raw.produced % 0x1_0000_0000;
    if (storedSize !== actualSize) {
      return done(problem('BAD_GZIP', `${label} ISIZE`, `${storedSize} (trailer)`, `${actualSize} bytes inflated`));
    }
    at = trailerAt + TRAILER;
  }
  return done(null);
}
