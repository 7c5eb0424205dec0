/**
 * A strict RFC 8259 parser into the lossless value model (value.ts). Every number keeps
 * its source token; objects are Maps in source order. The parser is iterative, with its
 * own stack, so hostile nesting ends in a TOO_DEEP error instead of a stack overflow.
 *
 * It runs over whole audit logs, so the hot paths avoid per-character work where they
 * can: a string without escapes is found by native searches and taken as one slice, keys
 * are interned, and the remaining scans are charCodeAt loops.
 */
import { JsonNumber, type JsonObject, type JsonValue } from './value.js';

export interface ParseOptions {
  /** Accept the bare tokens NaN, Infinity and -Infinity that Python's json.dumps writes. Default false. */
  allowNonFinite?: boolean;
  /** What a repeated key in one object does: fail, or keep the last value (Python's behaviour). Default 'error'. */
  duplicateKeys?: 'error' | 'last';
  /** Most arrays and objects open at once. Default 1000, about where Python's json.loads hits its recursion limit. */
  maxDepth?: number;
}

export type JsonParseErrorCode = 'SYNTAX' | 'DUPLICATE_KEY' | 'TOO_DEEP' | 'NON_FINITE' | 'BOM';

export class JsonParseError extends Error {
  override readonly name = 'JsonParseError';
  readonly code: JsonParseErrorCode;
  /** UTF-16 index into the text. */
  readonly offset: number;
  /** 1-based; lines end at "\n". */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  /** For DUPLICATE_KEY, the repeated key in full (the message shows it shortened and escaped). */
  readonly key: string | undefined;

  constructor(code: JsonParseErrorCode, problem: string, text: string, offset: number, key?: string) {
    const { line, column } = lineAndColumn(text, offset);
    super(`${problem} at line ${line} column ${column}`);
    this.code = code;
    this.offset = offset;
    this.line = line;
    this.column = column;
    this.key = key;
  }
}

export function parseJson(text: string, options: ParseOptions = {}): JsonValue {
  return new Parser(text, options).parse();
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

// Char codes, named for reading; plain consts so every build inlines them the same way.
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const SLASH = 0x2f;
const ZERO = 0x30;
const NINE = 0x39;
const COLON = 0x3a;
const UPPER_E = 0x45;
const UPPER_I = 0x49;
const UPPER_N = 0x4e;
const LBRACKET = 0x5b;
const BACKSLASH = 0x5c;
const RBRACKET = 0x5d;
const LOWER_B = 0x62;
const LOWER_E = 0x65;
const LOWER_F = 0x66;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const LOWER_T = 0x74;
const LOWER_U = 0x75;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const BOM = 0xfeff;

class Parser {
  private readonly text: string;
  private readonly end: number;
  private readonly allowNonFinite: boolean;
  private readonly lastKeyWins: boolean;
  private readonly maxDepth: number;
  private pos = 0;
  /** Where the next backslash or control character is, from the last search on; `end` when none. */
  private nextSpecial = -1;

  constructor(text: string, options: ParseOptions) {
    this.text = text;
    this.end = text.length;
    this.allowNonFinite = options.allowNonFinite ?? false;
    this.lastKeyWins = (options.duplicateKeys ?? 'error') === 'last';
    this.maxDepth = options.maxDepth ?? 1000;
  }

  parse(): JsonValue {
    const text = this.text;
    if (text.charCodeAt(0) === BOM) {
      throw new JsonParseError('BOM', 'unexpected byte order mark (U+FEFF); strip it before parsing', text, 0);
    }
    // Open containers, innermost last; for an object, the key its next value goes under.
    const containers: Array<JsonValue[] | JsonObject> = [];
    const keys: string[] = [];
    let value: JsonValue;

    this.skipWhitespace();
    for (;;) {
      // Read one value; an opening bracket pushes a container and reads its first member.
      const c = text.charCodeAt(this.pos);
      if (c === QUOTE) {
        value = this.readString();
      } else if ((c >= ZERO && c <= NINE) || c === MINUS) {
        value = this.readNumber();
      } else if (c === LBRACE || c === LBRACKET) {
        if (containers.length >= this.maxDepth) {
          throw new JsonParseError('TOO_DEEP', `nesting deeper than ${this.maxDepth} levels`, text, this.pos);
        }
        this.pos++;
        this.skipWhitespace();
        if (c === LBRACKET) {
          if (text.charCodeAt(this.pos) === RBRACKET) {
            this.pos++;
            value = [];
          } else {
            containers.push([]);
            keys.push('');
            continue;
          }
        } else if (text.charCodeAt(this.pos) === RBRACE) {
          this.pos++;
          value = new Map();
        } else {
          const map: JsonObject = new Map();
          containers.push(map);
          keys.push('');
          this.readKey(map, keys, containers.length - 1);
          continue;
        }
      } else {
        value = this.readLiteral(c);
      }

      // Put the value in its container; each closing bracket completes another value.
      for (;;) {
        const depth = containers.length - 1;
        if (depth < 0) {
          this.skipWhitespace();
          if (this.pos < this.end) this.unexpected();
          return value;
        }
        const container = containers[depth]!;
        if (Array.isArray(container)) {
          container.push(value);
        } else {
          container.set(keys[depth]!, value);
        }
        this.skipWhitespace();
        const next = text.charCodeAt(this.pos);
        if (next === COMMA) {
          this.pos++;
          this.skipWhitespace();
          if (!Array.isArray(container)) this.readKey(container, keys, depth);
          break;
        }
        if (next !== (Array.isArray(container) ? RBRACKET : RBRACE)) this.unexpected();
        this.pos++;
        value = container;
        containers.pop();
        keys.pop();
      }
    }
  }

  /** Reads `"key" :` and the whitespace after it, leaving pos at the member's value. */
  private readKey(map: JsonObject, keys: string[], depth: number): void {
    const at = this.pos;
    if (this.text.charCodeAt(at) !== QUOTE) this.unexpected();
    const key = this.readString(true);
    if (!this.lastKeyWins && map.has(key)) {
      throw new JsonParseError('DUPLICATE_KEY', `duplicate key ${quote(key)}`, this.text, at, key);
    }
    keys[depth] = key;
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) !== COLON) this.unexpected();
    this.pos++;
    this.skipWhitespace();
  }

  private skipWhitespace(): void {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = text.charCodeAt(++pos);
    this.pos = pos;
  }

  /** pos is at the opening quote. Keys are interned: see `KEYS`. */
  private readString(isKey = false): string {
    const text = this.text;
    const start = this.pos + 1;
    // Native searches beat a charCodeAt loop several times over: find the closing quote,
    // and take the string as one slice if no backslash or control character comes first.
    const close = text.indexOf('"', start);
    if (close !== -1) {
      if (this.nextSpecial < start) this.nextSpecial = findSpecial(text, start);
      if (close < this.nextSpecial) {
        this.pos = close + 1;
        return isKey ? internKey(text, start, close) : text.slice(start, close);
      }
    }
    return this.readEscapedString(start);
  }

  /** The slow path: decodes escapes, copying the runs between them one slice each. */
  private readEscapedString(start: number): string {
    const text = this.text;
    const end = this.end;
    let out = '';
    let pos = start;
    let runStart = pos;
    while (pos < end) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        this.pos = pos + 1;
        return out + text.slice(runStart, pos);
      }
      if (c === BACKSLASH) {
        out += text.slice(runStart, pos);
        out += this.readEscape(pos);
        pos += text.charCodeAt(pos + 1) === LOWER_U ? 6 : 2;
        runStart = pos;
        continue;
      }
      if (c < SPACE) this.controlCharacter(pos);
      pos++;
    }
    return this.unterminated(start - 1);
  }

  /** The character an escape at `at` stands for. Lone surrogates from \uXXXX are kept, as Python keeps them. */
  private readEscape(at: number): string {
    const text = this.text;
    const c = text.charCodeAt(at + 1);
    switch (c) {
      case QUOTE:
        return '"';
      case BACKSLASH:
        return '\\';
      case SLASH:
        return '/';
      case LOWER_B:
        return '\b';
      case LOWER_F:
        return '\f';
      case LOWER_N:
        return '\n';
      case LOWER_R:
        return '\r';
      case LOWER_T:
        return '\t';
      case LOWER_U: {
        let code = 0;
        for (let i = at + 2; i < at + 6; i++) {
          const digit = hexDigit(text.charCodeAt(i));
          if (digit < 0) {
            if (i >= this.end) return this.unterminated(at);
            throw new JsonParseError('SYNTAX', `invalid \\u escape ${quote(text.slice(at, i + 1))}`, text, at);
          }
          code = code * 16 + digit;
        }
        return String.fromCharCode(code);
      }
      default:
        if (at + 1 >= this.end) return this.unterminated(at);
        throw new JsonParseError('SYNTAX', `invalid escape ${quote(text.slice(at, at + 2))}`, text, at);
    }
  }

  /** pos is at '-' or a digit. Grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
  private readNumber(): JsonNumber {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    let c = text.charCodeAt(pos);
    if (c === MINUS) {
      c = text.charCodeAt(++pos);
      if (c === UPPER_I) {
        this.pos = pos;
        return this.readNonFinite('-Infinity', start);
      }
    }
    if (c === ZERO) {
      c = text.charCodeAt(++pos);
      if (c >= ZERO && c <= NINE) {
        throw new JsonParseError('SYNTAX', 'leading zero in number', text, pos - 1);
      }
    } else if (c > ZERO && c <= NINE) {
      do c = text.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    } else {
      this.pos = pos;
      this.unexpected('a digit');
    }
    if (c === DOT) {
      c = text.charCodeAt(++pos);
      if (!(c >= ZERO && c <= NINE)) {
        this.pos = pos;
        this.unexpected('a digit after the decimal point');
      }
      do c = text.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    }
    if (c === LOWER_E || c === UPPER_E) {
      c = text.charCodeAt(++pos);
      if (c === PLUS || c === MINUS) c = text.charCodeAt(++pos);
      if (!(c >= ZERO && c <= NINE)) {
        this.pos = pos;
        this.unexpected('a digit in the exponent');
      }
      do c = text.charCodeAt(++pos);
      while (c >= ZERO && c <= NINE);
    }
    this.pos = pos;
    return new JsonNumber(text.slice(start, pos));
  }

  /** true, false, null, NaN, Infinity; anything else is unexpected. */
  private readLiteral(c: number): JsonValue {
    const text = this.text;
    const pos = this.pos;
    if (c === LOWER_T && text.startsWith('true', pos)) {
      this.pos = pos + 4;
      return true;
    }
    if (c === LOWER_F && text.startsWith('false', pos)) {
      this.pos = pos + 5;
      return false;
    }
    if (c === LOWER_N && text.startsWith('null', pos)) {
      this.pos = pos + 4;
      return null;
    }
    if (c === UPPER_N) return this.readNonFinite('NaN', pos);
    if (c === UPPER_I) return this.readNonFinite('Infinity', pos);
    return this.unexpected();
  }

  /** pos is where `token` should start, without its sign; `start` is where the token starts. */
  private readNonFinite(token: 'NaN' | 'Infinity' | '-Infinity', start: number): JsonNumber {
    const word = token === '-Infinity' ? 'Infinity' : token;
    if (!this.text.startsWith(word, this.pos)) return this.unexpected();
    if (!this.allowNonFinite) {
      throw new JsonParseError('NON_FINITE', `non-finite number ${token} is not allowed`, this.text, start);
    }
    this.pos += word.length;
    return new JsonNumber(token);
  }

  /** Throws SYNTAX for whatever is at pos. */
  private unexpected(expected?: string): never {
    const text = this.text;
    const pos = this.pos;
    const wanted = expected === undefined ? '' : ` (expected ${expected})`;
    if (pos >= this.end) throw new JsonParseError('SYNTAX', `unexpected end of input${wanted}`, text, pos);
    throw new JsonParseError('SYNTAX', `unexpected character ${describe(text.charCodeAt(pos))}${wanted}`, text, pos);
  }

  private unterminated(at: number): never {
    throw new JsonParseError('SYNTAX', 'unterminated string', this.text, at);
  }

  private controlCharacter(at: number): never {
    const c = this.text.charCodeAt(at);
    throw new JsonParseError('SYNTAX', `control character ${describe(c)} in string`, this.text, at);
  }
}

/**
 * Recently seen short keys. Log entries repeat the same keys thousands of times; handing
 * out one string object per key saves an allocation and lets Map reuse the string's
 * cached hash. A slot holds the last key that hashed to it, so the cache stays small.
 * Only keys shorter than V8's 13-character minimum for sliced strings are kept: those are
 * copies, so the cache never pins a whole source document in memory.
 */
const KEYS: Array<string | undefined> = new Array(512).fill(undefined);
const KEY_MAX_LENGTH = 12;

function internKey(text: string, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > KEY_MAX_LENGTH) return text.slice(start, end);
  const slot = (length * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1) * 3 + text.charCodeAt(start + (length >> 1))) & 511;
  const cached = KEYS[slot];
  if (cached !== undefined && cached.length === length && text.startsWith(cached, start)) return cached;
  return (KEYS[slot] = text.slice(start, end));
}

const SPECIAL = /[\\\x00-\x1f]/g;

function findSpecial(text: string, from: number): number {
  SPECIAL.lastIndex = from;
  return SPECIAL.test(text) ? SPECIAL.lastIndex - 1 : text.length;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** A character for a one-line message: 'x' when printable ASCII, U+XXXX otherwise. */
function describe(c: number): string {
  if (c > 0x20 && c < 0x7f) return c === 0x27 ? `"'"` : `'${String.fromCharCode(c)}'`;
  return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Quotes text from the input for a one-line message: short, and only printable ASCII. */
function quote(s: string): string {
  const shown = s.length > 40 ? s.slice(0, 40) + '...' : s;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
