/**
 * fast-check arbitraries for the fuzz suites: JSON texts written the many ways other tools
 * write them, byte mutations aimed at the characters parsers care about, random chunkings
 * of a stream, and entries for ChainWriter.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';

// ---- strings ------------------------------------------------------------------------

/** Characters that break naive parsers and terminals, and keys that name prototype members. */
const HOSTILE_CHARS = ['"', '\\', '/', '\n', '\r', '\t', '\u0000', '\u001b', '\u007f', '\u009b', '\u2028', '\u2029', '\u202e', '\ufeff', 'é', '€', '😀', '\ud800', '\udfff'];
export const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'hash', 'sig', ''];

/** One UTF-16 string unit: mostly printable ASCII, often a hostile or astral character, sometimes a lone surrogate. */
const unit = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_CHARS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** Any JS string, lone surrogates and control characters included. */
export const anyString = (maxLength = 12): fc.Arbitrary<string> => fc.array(unit, { maxLength }).map((parts) => parts.join(''));

/** A non-empty string without lone surrogates: what a well-behaved writer may be given. */
export const wellFormedString = (maxLength = 12): fc.Arbitrary<string> =>
  fc.array(unit, { minLength: 1, maxLength }).map((p) => p.join('')).filter((s) => s !== '' && !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));

export const objectKey = fc.oneof({ weight: 4, arbitrary: anyString(8) }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS) });

// ---- plain JS values (what JSON.parse makes) --------------------------------------------

/** A plain object with these members as own data properties, `__proto__` included. */
export function plainObject(pairs: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of pairs) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

const finiteNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.constantFrom(0, 1, -1, 0.1, 12.5, 1e21, 1e-7, 2 ** 53 - 1, -(2 ** 53 - 1), 5e-324, 1.7976931348623157e308),
);

/** JSON values as JSON.parse returns them: finite numbers, hostile strings and keys, bounded depth. */
export const plainJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    finiteNumber,
    anyString(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(objectKey, tie('value')), { maxLength: 4 }).map(plainObject),
  ),
})).value;

// ---- JSON text, written the ways other tools write it --------------------------------

const whitespace = fc.constantFrom('', '', '', ' ', '\n', '  ', '\t', '\r\n', '\n    ');

/** One piece of a JSON string literal's body: a plain character or an escape. */
const stringPiece = fc.oneof(
  { weight: 6, arbitrary: unit.filter((c) => c !== '"' && c !== '\\' && c.charCodeAt(0) >= 0x20) },
  { weight: 2, arbitrary: fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t', '\\u0000', '\\u001b', '\\u00e9', '\\u00E9', '\\ud83d\\ude00', '\\ud800', '\\udfff', '\\u2028', '\\ufeff') },
);

export const stringToken = fc.array(stringPiece, { maxLength: 10 }).map((p) => `"${p.join('')}"`);
const keyToken = fc.oneof({ weight: 4, arbitrary: stringToken }, { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_KEYS.map((k) => JSON.stringify(k))) });

/** Number tokens as Python, JS and hand-editors write them: ints, floats, exponents, huge, -0. */
export const numberToken = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.constantFrom('0', '-0', '1.0', '-0.0', '2.50', '1e5', '1E+2', '1e-7', '-1.5e-300', '1e400', '-1e400', '1e-400', '123456789012345678901234567890', '18446744073709551617', '0.1', '100.0'),
);

/** Valid JSON text (RFC 8259), maybe with duplicate keys, in any layout. */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false'),
    numberToken,
    stringToken,
    fc.tuple(fc.array(fc.tuple(whitespace, tie('value'), whitespace), { maxLength: 4 }), whitespace).map(([items, ws]) => (items.length === 0 ? `[${ws}]` : `[${items.map(([a, v, b]) => a + v + b).join(',')}]`)),
    fc.tuple(fc.array(fc.tuple(whitespace, keyToken, whitespace, whitespace, tie('value'), whitespace), { maxLength: 4 }), whitespace).map(([members, ws]) =>
      members.length === 0 ? `{${ws}}` : `{${members.map(([a, k, b, c, v, d]) => `${a}${k}${b}:${c}${v}${d}`).join(',')}}`,
    ),
  ),
})).value;

/** A top-level JSON object with distinct keys (decoded), each value any JSON text. */
export const jsonObjectText = fc
  .tuple(fc.uniqueArray(fc.tuple(keyToken, fc.constantFrom(...['', ' ', '\n'])), { selector: ([k]) => JSON.parse(k) as string, maxLength: 6 }), fc.array(jsonText, { minLength: 6, maxLength: 6 }), whitespace, whitespace)
  .map(([keys, values, lead, trail]) => `${lead}{${keys.map(([k, ws], i) => `${ws}${k}${ws}:${ws}${values[i]!}${ws}`).join(',')}}${trail}`);

// ---- byte mutations ---------------------------------------------------------------------

/** Bytes that matter to JSON, JSON Lines, UTF-8 and gzip. */
const INTERESTING_BYTES = [0x0a, 0x0d, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x00, 0xff, 0xc3, 0xef, 0xbb, 0xbf, 0x80, 0x30, 0x31, 0x39, 0x65, 0x2d, 0x2e, 0x1b, 0x1f, 0x8b, 0x61, 0x66];
export const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING_BYTES));

/** Snippets a hostile writer would splice in. */
const SNIPPETS = ['\n', '\r\n', '1e400', 'NaN', '-Infinity', '[[[[[[[[[[[[[[[[', ']]]]', '{"a":1,"a":2}', '"__proto__":{"x":1},', '"constructor":', '\ufeff', '\u001b[2J', '\u009b31m', '\u202e', '\\u', '\\ud800', '\xff\xfe', '"', '}', ',', ':', ' ', '\u0000', 'é', '😀', '\u2028'];

export type Mutation =
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; byte: number }
  | { kind: 'delete'; at: number }
  | { kind: 'splice'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), text: fc.constantFrom(...SNIPPETS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }) },
);

export function applyMutation(buf: Buffer, m: Mutation): Buffer {
  const n = buf.length;
  const at = n === 0 ? 0 : m.at % (n + (m.kind === 'insert' || m.kind === 'splice' ? 1 : 0));
  switch (m.kind) {
    case 'set': {
      if (n === 0) return buf;
      const out = Buffer.from(buf);
      out[at] = m.byte;
      return out;
    }
    case 'insert':
      return Buffer.concat([buf.subarray(0, at), Buffer.of(m.byte), buf.subarray(at)]);
    case 'delete':
      return n === 0 ? buf : Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]);
    case 'splice':
      return Buffer.concat([buf.subarray(0, at), Buffer.from(m.text, m.text === '\xff\xfe' ? 'latin1' : 'utf8'), buf.subarray(at)]);
    case 'truncate':
      return buf.subarray(0, at);
    case 'duplicate':
      return Buffer.concat([buf.subarray(0, at + m.length), buf.subarray(at)]);
  }
}

export const mutations = (max = 6): fc.Arbitrary<Mutation[]> => fc.array(mutation, { minLength: 1, maxLength: max });

export function mutate(buf: Buffer, ms: readonly Mutation[]): Buffer {
  return ms.reduce(applyMutation, buf);
}

/**
 * Exactly one byte changed, inserted or deleted somewhere in a buffer of `length` bytes.
 * `set` always changes the byte (the replacement is taken modulo the other 255 values).
 */
export const singleByteEdit = (length: number): fc.Arbitrary<Mutation> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: 0, max: length - 1 }), byte }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.integer({ min: 0, max: length }), byte }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.integer({ min: 0, max: length - 1 }) }) },
  );

/** Applies a single-byte edit; a `set` to the byte already there becomes a different byte. */
export function applySingleByteEdit(buf: Buffer, m: Mutation): Buffer {
  if (m.kind === 'set' && buf[m.at] === m.byte) return applyMutation(buf, { ...m, byte: (m.byte + 1) % 256 });
  return applyMutation(buf, m);
}

export function describeMutation(m: Mutation, buf: Buffer): string {
  const around = (at: number): string => JSON.stringify(buf.subarray(Math.max(0, at - 20), at + 20).toString('latin1'));
  switch (m.kind) {
    case 'set':
      return `byte ${m.at} (${JSON.stringify(String.fromCharCode(buf[m.at] ?? 0))}) set to 0x${m.byte.toString(16)} in ${around(m.at)}`;
    case 'insert':
      return `0x${m.byte.toString(16)} inserted at ${m.at} in ${around(m.at)}`;
    case 'delete':
      return `byte ${m.at} deleted in ${around(m.at)}`;
    default:
      return JSON.stringify(m);
  }
}

// ---- streams ---------------------------------------------------------------------------

/** Cut points for splitting a buffer into chunks: a stream may deliver any of them. */
export const cuts = fc.array(fc.nat(), { maxLength: 8 });

export function chunk(buf: Buffer, at: readonly number[]): Buffer[] {
  if (buf.length === 0) return [];
  const points = [...new Set(at.map((a) => a % buf.length))].filter((p) => p > 0).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    out.push(buf.subarray(start, p));
    start = p;
  }
  out.push(buf.subarray(start));
  return out;
}

/** An in-memory stream of these chunks, as `verifyFile('-', { stdin })` reads it. */
export function streamOf(chunks: readonly Buffer[]): Readable {
  return Readable.from(chunks.map((c) => Buffer.from(c)), { objectMode: false });
}

// ---- chain entries -----------------------------------------------------------------------

export interface FuzzEntry {
  actor: string;
  action: string;
  payload: unknown;
  session?: string;
}

/** Entries within ChainWriter's contract: non-empty actor and action, JSON payloads. */
export const chainEntry: fc.Arbitrary<FuzzEntry> = fc
  .record({ actor: wellFormedString(10), action: wellFormedString(10), payload: plainJson, session: fc.option(anyString(6), { nil: undefined }) })
  .map(({ session, ...rest }) => (session === undefined ? rest : { ...rest, session }));
