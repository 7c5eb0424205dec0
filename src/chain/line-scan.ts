/**
 * Recognizes, without parsing, the exact line layout a stax writer produces: the RFC 8785
 * (JCS) form of the entry body with its closing brace replaced by `,"hash":"…"}` (or
 * `,"hash":"…","sig":{…}}`). For such a line the body's canonical form is the line's own
 * text up to the hash member, so a verifier can hash it directly: no JSON.parse, no
 * re-serialization. That is most of the cost of verifying a million-entry chain.
 *
 * It is deliberately conservative. It answers null, and the verifier then takes the full
 * path (JSON.parse, then canonicalize), for anything unusual: escapes, control characters
 * or surrogates anywhere in the line, whitespace, keys out of order or repeated, numbers
 * not in their shortest ECMAScript form, nesting deeper than 64, fields of unexpected
 * types. It must never accept a line whose body is not canonical (the hash would then be
 * over bytes that are not the canonical form); a needless null only costs speed.
 */

/** What a canonical line says about the fields the chain checks, read without a parse. */
export interface CanonicalLine {
  /** Index of the `,` before `"hash"`: `text.slice(0, at) + '}'` is the canonical body. */
  at: number;
  seq: number | undefined;
  ts: string | undefined;
  actor: string | undefined;
  action: string | undefined;
  prev: string | undefined;
  session: string | undefined;
  hasPayload: boolean;
  hash: string;
  /** The JSON text of `sig`, when the line has one. */
  sigText: string | undefined;
}

// Anything that needs decoding (escapes), that JSON forbids raw (controls), or that JCS
// may write differently (lone surrogates): such lines take the full path.
const NEEDS_FULL_PATH = /[\\\x00-\x1f\ud800-\udfff]/;
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const LBRACE = 0x7b;
const RBRACE = 0x7d;

export function scanCanonicalLine(t: string): CanonicalLine | null {
  const n = t.length;
  if (t.charCodeAt(0) !== LBRACE || t.charCodeAt(n - 1) !== RBRACE || NEEDS_FULL_PATH.test(t)) return null;
  const out: CanonicalLine = {
    at: -1,
    seq: undefined,
    ts: undefined,
    actor: undefined,
    action: undefined,
    prev: undefined,
    session: undefined,
    hasPayload: false,
    hash: '',
    sigText: undefined,
  };
  let pos = 1;
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    if (t.charCodeAt(pos) !== QUOTE) return null;
    const keyStart = pos + 1;
    const keyEnd = stringEnd(t, keyStart, n);
    if (keyEnd < 0 || t.charCodeAt(keyEnd + 1) !== COLON) return null;
    const valueStart = keyEnd + 2;
    const field = topField(t, keyStart, keyEnd);
    if (field === F_HASH) return prevStart < 0 ? null : hashAndSig(t, pos - 1, valueStart, out);
    // Sorted by UTF-16 code units (JCS), strictly: a repeated key is never canonical.
    if (field === F_SIG || (prevStart >= 0 && compareRanges(t, prevStart, prevEnd, keyStart, keyEnd) >= 0)) return null;
    const end = skipValue(t, valueStart, n);
    if (end < 0) return null;
    if (field !== F_OTHER) {
      const c = t.charCodeAt(valueStart);
      if (field === F_SEQ) {
        if (c !== MINUS && !(c >= ZERO && c <= NINE)) return null;
        out.seq = Number(t.slice(valueStart, end));
      } else if (field === F_PAYLOAD) {
        out.hasPayload = true;
      } else {
        if (c !== QUOTE) return null;
        const value = t.slice(valueStart + 1, end - 1);
        if (field === F_TS) out.ts = value;
        else if (field === F_ACTOR) out.actor = value;
        else if (field === F_ACTION) out.action = value;
        else if (field === F_PREV) out.prev = value;
        else out.session = value;
      }
    }
    if (t.charCodeAt(end) !== COMMA) return null; // the body must go on to the hash member
    prevStart = keyStart;
    prevEnd = keyEnd;
    pos = end + 1;
  }
}

const F_OTHER = 0;
const F_SEQ = 1;
const F_TS = 2;
const F_ACTOR = 3;
const F_ACTION = 4;
const F_PREV = 5;
const F_SESSION = 6;
const F_PAYLOAD = 7;
const F_HASH = 8;
const F_SIG = 9;

/** Which of the fields the chain checks the key t[start, end) is. */
function topField(t: string, start: number, end: number): number {
  switch (end - start) {
    case 2:
      return t.startsWith('ts', start) ? F_TS : F_OTHER;
    case 3:
      return t.startsWith('seq', start) ? F_SEQ : t.startsWith('sig', start) ? F_SIG : F_OTHER;
    case 4:
      return t.startsWith('prev', start) ? F_PREV : t.startsWith('hash', start) ? F_HASH : F_OTHER;
    case 5:
      return t.startsWith('actor', start) ? F_ACTOR : F_OTHER;
    case 6:
      return t.startsWith('action', start) ? F_ACTION : F_OTHER;
    case 7:
      return t.startsWith('session', start) ? F_SESSION : t.startsWith('payload', start) ? F_PAYLOAD : F_OTHER;
    default:
      return F_OTHER;
  }
}

/** Compares t[a, aEnd) with t[b, bEnd) by UTF-16 code units, as JCS sorts keys. */
function compareRanges(t: string, a: number, aEnd: number, b: number, bEnd: number): number {
  const la = aEnd - a;
  const lb = bEnd - b;
  const m = la < lb ? la : lb;
  for (let i = 0; i < m; i++) {
    const d = t.charCodeAt(a + i) - t.charCodeAt(b + i);
    if (d !== 0) return d;
  }
  return la - lb;
}

/**
 * The index of the quote that closes the string whose first character is at `i`, or -1.
 * scanCanonicalLine has made sure the line holds no backslash, so the next quote closes it.
 */
function stringEnd(t: string, i: number, _n: number): number {
  return t.indexOf('"', i);
}

/** `,"hash":"…"` at `at`, then `}` or `,"sig":{…}}`, then the end of the line. */
function hashAndSig(t: string, at: number, valueStart: number, out: CanonicalLine): CanonicalLine | null {
  const n = t.length;
  if (t.charCodeAt(valueStart) !== QUOTE) return null;
  const hashEnd = stringEnd(t, valueStart + 1, n);
  if (hashEnd < 0) return null;
  out.at = at;
  out.hash = t.slice(valueStart + 1, hashEnd);
  let pos = hashEnd + 1;
  if (t.startsWith(',"sig":', pos)) {
    const sigStart = pos + 7;
    pos = skipValue(t, sigStart, n);
    if (pos < 0) return null;
    out.sigText = t.slice(sigStart, pos);
  }
  return pos === n - 1 ? out : null;
}

// Open containers of skipValue: 1 for an object, 2 for an array, and each object's last key.
const KIND = new Uint8Array(MAX_DEPTH + 1);
const KEY_START = new Int32Array(MAX_DEPTH + 1);
const KEY_END = new Int32Array(MAX_DEPTH + 1);

/** The index just past the canonical JSON value at `i`, or -1. Iterative: no recursion. */
function skipValue(t: string, i: number, n: number): number {
  let depth = 0;
  for (;;) {
    // A value starts at i.
    const c = t.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(t, i + 1, n);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === LBRACE || c === LBRACKET) {
      const close = c === LBRACE ? RBRACE : RBRACKET;
      if (t.charCodeAt(i + 1) === close) {
        i += 2;
      } else {
        if (depth >= MAX_DEPTH) return -1;
        depth++;
        i++;
        if (c === LBRACKET) {
          KIND[depth] = 2;
          continue;
        }
        KIND[depth] = 1;
        KEY_START[depth] = -1;
        i = readKey(t, i, n, depth);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      i = scanNumber(t, i);
      if (i < 0) return -1;
    } else if (t.startsWith('true', i) || t.startsWith('null', i)) {
      i += 4;
    } else if (t.startsWith('false', i)) {
      i += 5;
    } else {
      return -1;
    }
    // A value ended at i: close containers until one goes on.
    for (;;) {
      if (depth === 0) return i;
      const next = t.charCodeAt(i);
      if (next === COMMA) {
        i++;
        if (KIND[depth] === 1) {
          i = readKey(t, i, n, depth);
          if (i < 0) return -1;
        }
        break;
      }
      if (next !== (KIND[depth] === 1 ? RBRACE : RBRACKET)) return -1;
      i++;
      depth--;
    }
  }
}

/** Reads `"key":` at i, checks it sorts after the object's previous key, returns the value's index. */
function readKey(t: string, i: number, n: number, depth: number): number {
  if (t.charCodeAt(i) !== QUOTE) return -1;
  const end = stringEnd(t, i + 1, n);
  if (end < 0 || t.charCodeAt(end + 1) !== COLON) return -1;
  const prev = KEY_START[depth]!;
  if (prev >= 0 && compareRanges(t, prev, KEY_END[depth]!, i + 1, end) >= 0) return -1;
  KEY_START[depth] = i + 1;
  KEY_END[depth] = end;
  return end + 2;
}

/** A number token, accepted only in the form ECMAScript's Number#toString (and so JCS) writes it. */
function scanNumber(t: string, start: number): number {
  let pos = start;
  let plainInt = true;
  for (;;) {
    const c = t.charCodeAt(pos);
    if (c >= ZERO && c <= NINE) pos++;
    else if (c === MINUS || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65) {
      // - + . E e: a sign, a fraction or an exponent
      if (!(c === MINUS && pos === start)) plainInt = false;
      pos++;
    } else break;
  }
  const digits = pos - start - (t.charCodeAt(start) === MINUS ? 1 : 0);
  // Common case: an integer of at most 15 digits without a leading zero is its own shortest form.
  if (plainInt && digits >= 1 && digits <= 15) {
    const first = t.charCodeAt(pos - digits);
    if (first !== ZERO) return pos;
    return digits === 1 && t.charCodeAt(start) !== MINUS ? pos : -1; // "0", never "-0" or "01"
  }
  const token = t.slice(start, pos);
  const n = Number(token);
  return Number.isFinite(n) && String(n) === token ? pos : -1;
}

/**
 * What scanCanonicalBytes found: byte offsets into the block, and the seq. Reused from line
 * to line (one object per block, not per line).
 */
export interface CanonicalBytes {
  /** Offset of the `,` before `"hash"`: bytes [lineStart, at) + `}` are the canonical body. */
  at: number;
  seq: number;
  /** Offsets of the 64 hex digits of `prev` and of `hash`. */
  prev: number;
  hash: number;
}

/**
 * scanCanonicalLine for the UTF-8 bytes of a line that starts at b[start], for the
 * verifier's hot loop: no string per line at all. Returns the offset just past the entry's
 * closing brace, or -1; the line is canonical only if a newline (or CR LF) follows there,
 * which the caller checks. `end` bounds the scan (the end of the block): a newline can
 * never be inside an accepted entry, so the scan finds the end of the line by itself. It accepts less: only an entry that is also well-formed
 * in every field the chain checks (seq a plain integer, ts in RFC 3339, actor and action not
 * empty, payload present, prev and hash 64 lowercase hex digits, session a string, no sig).
 * Anything else answers false and goes through scanCanonicalLine and checkShape, which say
 * what is wrong. The caller has checked that the bytes are valid UTF-8, and checks that the
 * 64 characters at `hash` are the hash it computes.
 *
 * Bytes compare as code points; JCS sorts keys by UTF-16 code units. The two orders differ
 * only for characters beyond U+FFFF, whose lead bytes (F0..F4) send the line away.
 */
export function scanCanonicalBytes(b: Uint8Array, start: number, end: number, out: CanonicalBytes): number {
  if (end - start < 2 || b[start] !== LBRACE) return -1;
  let pos = start + 1;
  let prevStart = -1;
  let prevEnd = -1;
  let seen = 0;
  for (;;) {
    if (b[pos] !== QUOTE) return -1;
    const keyStart = pos + 1;
    const keyEnd = stringEndB(b, keyStart, end);
    if (keyEnd < 0 || keyEnd + 1 >= end || b[keyEnd + 1] !== COLON) return -1;
    const valueStart = keyEnd + 2;
    const field = topFieldB(b, keyStart, keyEnd);
    if (field === F_HASH) {
      // `"hash":"<64 characters>"}` ends the entry: a signed entry takes the other path.
      // The caller compares them with the hash it computes, which is 64 hex digits.
      if (prevStart < 0 || valueStart + 67 > end || b[valueStart] !== QUOTE || b[valueStart + 65] !== QUOTE || b[valueStart + 66] !== RBRACE) return -1;
      const required = (1 << F_SEQ) | (1 << F_TS) | (1 << F_ACTOR) | (1 << F_ACTION) | (1 << F_PREV) | (1 << F_PAYLOAD);
      if ((seen & required) !== required) return -1;
      out.at = pos - 1;
      out.hash = valueStart + 1;
      return valueStart + 67;
    }
    if (field === F_SIG || (prevStart >= 0 && compareRangesB(b, prevStart, prevEnd, keyStart, keyEnd) >= 0)) return -1;
    // prev is always 64 hex digits: checked in place, not scanned as a string.
    const valueEnd = field === F_PREV ? (valueStart + 66 <= end && b[valueStart] === QUOTE && b[valueStart + 65] === QUOTE && hex64B(b, valueStart + 1) ? valueStart + 66 : -1) : skipValueB(b, valueStart, end);
    if (valueEnd < 0 || valueEnd >= end || b[valueEnd] !== COMMA) return -1;
    if (field !== F_OTHER) {
      seen |= 1 << field;
      const c = b[valueStart]!;
      if (field === F_SEQ) {
        // A plain integer of at most 15 digits: anything else takes the checked path.
        const digits = valueEnd - valueStart;
        if (digits > 15 || c < ZERO || c > NINE || (c === ZERO && digits > 1)) return -1;
        let n = 0;
        for (let i = valueStart; i < valueEnd; i++) {
          const d = b[i]!;
          if (d < ZERO || d > NINE) return -1;
          n = n * 10 + (d - ZERO);
        }
        out.seq = n;
      } else if (field === F_PAYLOAD) {
        // any value
      } else {
        if (c !== QUOTE) return -1;
        const s = valueStart + 1;
        const e = valueEnd - 1;
        if (field === F_TS) {
          if (!rfc3339B(b, s, e)) return -1;
        } else if (field === F_PREV) {
          out.prev = s;
        } else if (field === F_ACTOR || field === F_ACTION) {
          if (e === s) return -1;
        }
      }
    }
    prevStart = keyStart;
    prevEnd = keyEnd;
    pos = valueEnd + 1;
  }
}

function topFieldB(b: Uint8Array, start: number, end: number): number {
  // By length and first letter, then the rest: these are the only keys that matter.
  const c = b[start];
  switch (end - start) {
    case 2:
      return c === 0x74 && b[start + 1] === 0x73 ? F_TS : F_OTHER;
    case 3:
      if (c !== 0x73) return F_OTHER;
      if (b[start + 1] === 0x65 && b[start + 2] === 0x71) return F_SEQ;
      return b[start + 1] === 0x69 && b[start + 2] === 0x67 ? F_SIG : F_OTHER;
    case 4:
      if (c === 0x70) return bytesAre(b, start, 'prev') ? F_PREV : F_OTHER;
      return c === 0x68 && bytesAre(b, start, 'hash') ? F_HASH : F_OTHER;
    case 5:
      return c === 0x61 && bytesAre(b, start, 'actor') ? F_ACTOR : F_OTHER;
    case 6:
      return c === 0x61 && bytesAre(b, start, 'action') ? F_ACTION : F_OTHER;
    case 7:
      if (c === 0x73) return bytesAre(b, start, 'session') ? F_SESSION : F_OTHER;
      return c === 0x70 && bytesAre(b, start, 'payload') ? F_PAYLOAD : F_OTHER;
    default:
      return F_OTHER;
  }
}

function bytesAre(b: Uint8Array, start: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (b[start + i] !== word.charCodeAt(i)) return false;
  return true;
}

function compareRangesB(b: Uint8Array, a: number, aEnd: number, c: number, cEnd: number): number {
  const la = aEnd - a;
  const lc = cEnd - c;
  const m = la < lc ? la : lc;
  for (let i = 0; i < m; i++) {
    const d = b[a + i]! - b[c + i]!;
    if (d !== 0) return d;
  }
  return la - lc;
}

/** The offset of the closing quote of the string whose first byte is at i, or -1. */
function stringEndB(b: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i;
    // A backslash needs decoding, a control byte is not JSON, F0..F4 start characters
    // beyond U+FFFF (surrogate pairs in JavaScript strings): all take the other path.
    if (c === 0x5c || c < 0x20 || c >= 0xf0) return -1;
  }
  return -1;
}

const LOWER_HEX = new Uint8Array(256);
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1;

function hex64B(b: Uint8Array, s: number): boolean {
  let ok = 1;
  for (let i = s; i < s + 64; i++) ok &= LOWER_HEX[b[i]!]!;
  return ok === 1;
}

/** ^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$ over b[s, e). */
function rfc3339B(b: Uint8Array, s: number, e: number): boolean {
  if (e - s < 20) return false;
  const digit = (i: number): boolean => b[i]! >= ZERO && b[i]! <= NINE;
  for (const i of DATE_DIGITS) if (!digit(s + i)) return false;
  if (b[s + 4] !== MINUS || b[s + 7] !== MINUS || b[s + 10] !== 0x54 || b[s + 13] !== COLON || b[s + 16] !== COLON) return false;
  let i = s + 19;
  if (b[i] === 0x2e) {
    i++;
    if (i >= e || !digit(i)) return false;
    while (i < e && digit(i)) i++;
  }
  if (i === e - 1) return b[i] === 0x5a; // Z
  if (i !== e - 6 || (b[i] !== 0x2b && b[i] !== MINUS)) return false;
  return digit(i + 1) && digit(i + 2) && b[i + 3] === COLON && digit(i + 4) && digit(i + 5);
}

const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

// Open containers of skipValueB, as for skipValue.
const KIND_B = new Uint8Array(MAX_DEPTH + 1);
const KEY_START_B = new Int32Array(MAX_DEPTH + 1);
const KEY_END_B = new Int32Array(MAX_DEPTH + 1);

/** The offset just past the canonical JSON value at i (before end), or -1. */
function skipValueB(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  for (;;) {
    if (i >= end) return -1;
    const c = b[i]!;
    if (c === QUOTE) {
      const close = stringEndB(b, i + 1, end);
      if (close < 0) return -1;
      i = close + 1;
    } else if (c === LBRACE || c === LBRACKET) {
      const close = c === LBRACE ? RBRACE : RBRACKET;
      if (i + 1 < end && b[i + 1] === close) {
        i += 2;
      } else {
        if (depth >= MAX_DEPTH) return -1;
        depth++;
        i++;
        if (c === LBRACKET) {
          KIND_B[depth] = 2;
          continue;
        }
        KIND_B[depth] = 1;
        KEY_START_B[depth] = -1;
        i = readKeyB(b, i, end, depth);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      i = scanNumberB(b, i, end);
      if (i < 0) return -1;
    } else if (c === 0x74 && i + 4 <= end && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65) {
      i += 4; // true
    } else if (c === 0x6e && i + 4 <= end && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c) {
      i += 4; // null
    } else if (c === 0x66 && i + 5 <= end && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65) {
      i += 5; // false
    } else {
      return -1;
    }
    for (;;) {
      if (depth === 0) return i;
      if (i >= end) return -1;
      const next = b[i];
      if (next === COMMA) {
        i++;
        if (KIND_B[depth] === 1) {
          i = readKeyB(b, i, end, depth);
          if (i < 0) return -1;
        }
        break;
      }
      if (next !== (KIND_B[depth] === 1 ? RBRACE : RBRACKET)) return -1;
      i++;
      depth--;
    }
  }
}

function readKeyB(b: Uint8Array, i: number, end: number, depth: number): number {
  if (i >= end || b[i] !== QUOTE) return -1;
  const close = stringEndB(b, i + 1, end);
  if (close < 0 || close + 1 >= end || b[close + 1] !== COLON) return -1;
  const prev = KEY_START_B[depth]!;
  if (prev >= 0 && compareRangesB(b, prev, KEY_END_B[depth]!, i + 1, close) >= 0) return -1;
  KEY_START_B[depth] = i + 1;
  KEY_END_B[depth] = close;
  return close + 2;
}

function scanNumberB(b: Uint8Array, start: number, end: number): number {
  let pos = start;
  let plainInt = true;
  while (pos < end) {
    const c = b[pos]!;
    if (c >= ZERO && c <= NINE) pos++;
    else if (c === MINUS || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65) {
      if (!(c === MINUS && pos === start)) plainInt = false;
      pos++;
    } else break;
  }
  const digits = pos - start - (b[start] === MINUS ? 1 : 0);
  if (plainInt && digits >= 1 && digits <= 15) {
    if (b[pos - digits] !== ZERO) return pos;
    return digits === 1 && b[start] !== MINUS ? pos : -1;
  }
  let token = '';
  for (let i = start; i < pos; i++) token += String.fromCharCode(b[i]!);
  const n = Number(token);
  return Number.isFinite(n) && String(n) === token ? pos : -1;
}
