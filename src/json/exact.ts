/**
 * stax chains hash with RFC 8785, whose numbers are IEEE doubles. A number that a double
 * cannot hold exactly (an integer beyond 2^53, an overflow, NaN) would be silently changed
 * on the way in; callers refuse it instead and name it.
 */
import { JsonNumber, type JsonValue } from './value.js';

/** The raw text of the first number in `v` that a double cannot hold, or null. */
export function findInexactNumber(v: JsonValue | undefined): string | null {
  if (v instanceof JsonNumber) {
    const n = v.toNumber();
    return !Number.isFinite(n) || (v.isInteger && !Number.isSafeInteger(n)) ? v.raw : null;
  }
  if (Array.isArray(v)) {
    for (const item of v) {
      const bad = findInexactNumber(item);
      if (bad !== null) return bad;
    }
  } else if (v instanceof Map) {
    for (const item of v.values()) {
      const bad = findInexactNumber(item);
      if (bad !== null) return bad;
    }
  }
  return null;
}
