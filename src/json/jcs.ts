/**
 * RFC 8785 JSON Canonicalization Scheme for plain JavaScript values (as JSON.parse makes
 * them). RFC 8785 defines string escaping and number formatting as ECMAScript's
 * JSON.stringify does them, so those are delegated; what JCS adds is member order, sorted
 * by UTF-16 code units, which is what Array#sort compares by default.
 */

export class CanonicalizationError extends Error {
  override readonly name = 'CanonicalizationError';
  readonly code = 'NOT_CANONICALIZABLE' as const;
}

export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalizationError(`${value} cannot be represented in JSON`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalize(value[i]);
        return out + ']';
      }
      const keys = Object.keys(value).sort();
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        out += (i === 0 ? '' : ',') + JSON.stringify(k) + ':' + canonicalize((value as Record<string, unknown>)[k]);
      }
      return out + '}';
    }
    default:
      throw new CanonicalizationError(`a ${typeof value} cannot be represented in JSON`);
  }
}

/**
 * True when `value` serializes with JSON.stringify to exactly its canonical form: every
 * object's keys already in sorted order. Lets a verifier accept a canonical line with one
 * JSON.stringify instead of rebuilding it.
 */
export function keysSortedDeep(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (!keysSortedDeep(item)) return false;
    return true;
  }
  let prev: string | undefined;
  for (const k in value) {
    if (prev !== undefined && !(prev < k)) return false;
    prev = k;
    if (!keysSortedDeep((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}
