/**
 * The lossless JSON value model. Audit logs are hashed over bytes that other programs
 * wrote, so a parsed value must remember what a plain `JSON.parse` forgets: whether a
 * number was written as an int or a float, digits beyond double precision, key order, and
 * keys such as `__proto__` that an ordinary object would swallow.
 */

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

/** Insertion order is source order. A Map, so `__proto__` and `constructor` are plain keys. */
export type JsonObject = Map<string, JsonValue>;

/** A number kept as its source token: "1", "-0", "1.0", "1E+2", "123456789012345678901234", "NaN". */
export class JsonNumber {
  constructor(readonly raw: string) {}

  /**
   * True for an integer token (no fraction, no exponent). Python's json.loads makes these
   * `int` and everything else `float`, and the two print differently ("1" vs "1.0").
   */
  get isInteger(): boolean {
    const raw = this.raw;
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      // '.', 'e', 'E', and the letters of NaN / Infinity
      if (c === 0x2e || c >= 0x41) return false;
    }
    return true;
  }

  /** True for the bare tokens NaN, Infinity and -Infinity (Python writes them; RFC 8259 does not allow them). */
  get isNonFinite(): boolean {
    const raw = this.raw;
    return raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity';
  }

  /** The nearest double. Tokens too large for a double become ±Infinity, as in Python's float(). */
  toNumber(): number {
    return Number(this.raw);
  }

  /**
   * A token for a JS number: the shortest round-trip digits, "-0" for negative zero (so
   * `toNumber` gives it back), "NaN" / "Infinity" / "-Infinity" for non-finite values.
   */
  static fromNumber(n: number): JsonNumber {
    return new JsonNumber(Object.is(n, -0) ? '-0' : String(n));
  }

  toString(): string {
    return this.raw;
  }
}

/**
 * Converts to ordinary JS values: numbers become doubles (precision beyond 2^53 is lost),
 * objects become plain objects whose keys are all own data properties, `__proto__` too.
 * Recursive: fine at parseJson's default maxDepth (1000), not for values thousands deep.
 */
export function toPlain(v: JsonValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof JsonNumber) return v.toNumber();
  if (Array.isArray(v)) return v.map(toPlain);
  const o: Record<string, unknown> = {};
  for (const [k, item] of v) {
    // Assignment would call the __proto__ setter; defineProperty makes a data property.
    Object.defineProperty(o, k, { value: toPlain(item), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

/**
 * Converts an ordinary JS value. Numbers become `JsonNumber.fromNumber`, bigints integer
 * tokens; objects contribute their own enumerable string keys in property order. Anything
 * JSON cannot hold (undefined, functions, symbols, cycles) is a TypeError rather than
 * being dropped the way JSON.stringify drops it.
 */
export function fromPlain(v: unknown): JsonValue {
  return convert(v, new Set(), '$');
}

function convert(v: unknown, ancestors: Set<object>, path: string): JsonValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return JsonNumber.fromNumber(v);
    case 'bigint':
      return new JsonNumber(v.toString());
    case 'object':
      break;
    default:
      throw new TypeError(`${path}: a ${typeof v} has no JSON form`);
  }
  if (v === null) return null;
  if (v instanceof JsonNumber) return v;
  if (ancestors.has(v)) throw new TypeError(`${path}: circular reference`);
  ancestors.add(v);
  let result: JsonValue;
  if (Array.isArray(v)) {
    result = v.map((item, i) => convert(item, ancestors, `${path}[${i}]`));
  } else if (v instanceof Map) {
    result = new Map();
    for (const [k, item] of v) {
      if (typeof k !== 'string') throw new TypeError(`${path}: map key ${String(k)} is not a string`);
      result.set(k, convert(item, ancestors, `${path}.${k}`));
    }
  } else {
    result = new Map();
    for (const k of Object.keys(v)) {
      result.set(k, convert((v as Record<string, unknown>)[k], ancestors, `${path}.${k}`));
    }
  }
  ancestors.delete(v);
  return result;
}
