/**
 * Byte-exact emulation of Python 3's
 * `json.dumps(json.loads(text), sort_keys=True, ensure_ascii=True, separators=...)`.
 * Many audit-log writers hash that string, so a verifier must rebuild it exactly:
 *
 * - json.loads makes integer tokens `int` (any size, printed as their digits, "-0" as 0)
 *   and every other number `float`, printed by float.__repr__ (`floatRepr` below).
 * - ensure_ascii escapes every code unit outside 0x20..0x7E as \uXXXX in lowercase hex,
 *   so astral characters come out as surrogate pairs; "/" is not escaped.
 * - sort_keys orders by code point (Python str comparison), not by UTF-16 code unit.
 *
 * The output is pure ASCII, so its UTF-8 bytes are its char codes.
 */
import { JsonNumber, type JsonObject, type JsonValue } from './value.js';

export interface PythonDumpsOptions {
  /** 'compact' is separators=(",", ":"); 'default' is Python's default (", ", ": "). */
  separators: 'compact' | 'default';
}

/**
 * Recursive, like Python's encoder, which stops with RecursionError near 1000 levels: a
 * value from parseJson's default maxDepth is fine, one nested tens of thousands deep is not.
 */
export function pythonDumps(v: JsonValue, options: PythonDumpsOptions): string {
  const w = new Writer(options);
  w.value(v);
  return w.out;
}

/**
 * Dumps a dict holding the listed fields that `obj` has (absent ones are skipped), as
 * Python would dump `{k: obj[k] for k in fields if k in obj}`: the subset of an entry
 * that a log writer hashed, without building a new Map.
 */
export function pythonDumpsFields(obj: JsonObject, fields: readonly string[], options: PythonDumpsOptions): string {
  const present: KeyInfo[] = [];
  for (const k of fields) {
    if (obj.has(k)) {
      const info = keyInfo(k);
      if (!present.includes(info)) present.push(info);
    }
  }
  const w = new Writer(options);
  w.members(obj, present);
  return w.out;
}

class Writer {
  out = '';
  private readonly itemSep: string;
  private readonly keySep: string;

  constructor(options: PythonDumpsOptions) {
    const compact = options.separators === 'compact';
    this.itemSep = compact ? ',' : ', ';
    this.keySep = compact ? ':' : ': ';
  }

  value(v: JsonValue): void {
    if (typeof v === 'string') {
      this.out += quote(v);
    } else if (v instanceof JsonNumber) {
      this.out += numberRepr(v);
    } else if (v === null) {
      this.out += 'null';
    } else if (v === true) {
      this.out += 'true';
    } else if (v === false) {
      this.out += 'false';
    } else if (Array.isArray(v)) {
      if (v.length === 0) {
        this.out += '[]';
        return;
      }
      this.out += '[';
      this.value(v[0]!);
      for (let i = 1; i < v.length; i++) {
        this.out += this.itemSep;
        this.value(v[i]!);
      }
      this.out += ']';
    } else {
      const keys: KeyInfo[] = [];
      for (const k of v.keys()) keys.push(keyInfo(k));
      this.members(v, keys);
    }
  }

  /** Writes `obj` as a dict of the given keys, which it sorts in place. */
  members(obj: JsonObject, keys: KeyInfo[]): void {
    if (keys.length === 0) {
      this.out += '{}';
      return;
    }
    sortKeys(keys);
    this.out += '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      if (i > 0) this.out += this.itemSep;
      this.out += key.quoted + this.keySep;
      this.value(obj.get(key.key)!);
    }
    this.out += '}';
  }
}

/** What sorting and writing a key needs, computed once per distinct key. */
interface KeyInfo {
  readonly key: string;
  readonly quoted: string;
  /** Only keys with surrogates sort differently by code point than by UTF-16 unit. */
  readonly surrogates: boolean;
}

// Log entries repeat a few keys endlessly. Bounded against hostile input, and only short
// keys, which are copies rather than slices that could pin a whole parsed document.
const KEY_INFO = new Map<string, KeyInfo>();
const KEY_INFO_MAX = 4096;
const KEY_INFO_MAX_LENGTH = 12;
const SURROGATE = /[\ud800-\udfff]/;

function keyInfo(key: string): KeyInfo {
  let info = KEY_INFO.get(key);
  if (info === undefined) {
    info = { key, quoted: quote(key), surrogates: SURROGATE.test(key) };
    if (key.length <= KEY_INFO_MAX_LENGTH) {
      if (KEY_INFO.size >= KEY_INFO_MAX) KEY_INFO.clear();
      KEY_INFO.set(key, info);
    }
  }
  return info;
}

/** Sorts in place by code point, as Python sorts str. */
function sortKeys(keys: KeyInfo[]): void {
  let byCodePoint = false;
  for (const k of keys) byCodePoint ||= k.surrogates;
  if (keys.length > 16) {
    keys.sort(byCodePoint ? (a, b) => compareCodePoints(a.key, b.key) : (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return;
  }
  // Insertion sort: faster than Array#sort for the small objects of log entries, and
  // linear when the writer already sorted its keys.
  for (let i = 1; i < keys.length; i++) {
    const item = keys[i]!;
    let j = i - 1;
    while (j >= 0 && (byCodePoint ? compareCodePoints(keys[j]!.key, item.key) > 0 : keys[j]!.key > item.key)) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = item;
  }
}

/**
 * UTF-16 order puts astral characters (surrogates D800..DFFF) before U+E000..U+FFFF;
 * Python puts them after. A lone surrogate is its own code point, as in Python.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n) {
    // Everything before i is equal, so both strings are at a code point boundary.
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

function numberRepr(n: JsonNumber): string {
  const raw = n.raw;
  if (n.isInteger) return raw === '-0' ? '0' : raw;
  return floatRepr(n.toNumber());
}

/**
 * Python's float.__repr__: the shortest digits that round-trip (the same digits as JS's
 * Number#toString), positional when the decimal exponent is in -4..15 (with ".0" when
 * there is no fraction), otherwise d.ddde±XX with at least two exponent digits.
 */
export function floatRepr(x: number): string {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = x < 0 ? -x : x;
  // Here both languages write positional notation with the same digits.
  if (abs >= 1e-4 && abs < 1e16) {
    const s = String(x);
    return s.includes('.') ? s : s + '.0';
  }
  const { digits, exponent } = shortestDigits(abs);
  const sign = x < 0 ? '-' : '';
  const mantissa = digits.length === 1 ? digits : digits[0] + '.' + digits.slice(1);
  const e = exponent < 0 ? -exponent : exponent;
  return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}

/** Shortest round-trip digits of a positive finite double, and the exponent of its first digit. */
function shortestDigits(abs: number): { digits: string; exponent: number } {
  // toExponential() without an argument gives as many digits as needed to be unique: the shortest.
  const s = abs.toExponential();
  const e = s.indexOf('e');
  const mantissa = s.slice(0, e);
  return {
    digits: mantissa.length > 1 ? mantissa[0] + mantissa.slice(2) : mantissa,
    exponent: Number(s.slice(e + 1)),
  };
}

// Printable ASCII other than '"' and '\': copied as is.
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

// How each UTF-16 code unit is written inside a string; non-ASCII entries are made on first
// use, since text outside ASCII tends to repeat its characters.
const ESCAPES: Array<string | undefined> = new Array(0x10000);
for (let c = 0; c < 0x80; c++) {
  ESCAPES[c] = c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : unicodeEscape(c);
}
ESCAPES[0x22] = '\\"';
ESCAPES[0x5c] = '\\\\';
ESCAPES[0x08] = '\\b';
ESCAPES[0x09] = '\\t';
ESCAPES[0x0a] = '\\n';
ESCAPES[0x0c] = '\\f';
ESCAPES[0x0d] = '\\r';

function unicodeEscape(c: number): string {
  return '\\u' + c.toString(16).padStart(4, '0');
}

/** A JSON string literal as Python's ensure_ascii encoder writes it. */
function quote(s: string): string {
  if (PLAIN.test(s)) return '"' + s + '"';
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) continue;
    if (i > runStart) out += s.slice(runStart, i);
    out += ESCAPES[c] ?? (ESCAPES[c] = unicodeEscape(c));
    runStart = i + 1;
  }
  if (runStart < s.length) out += s.slice(runStart);
  return out + '"';
}
