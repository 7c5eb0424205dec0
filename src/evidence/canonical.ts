/**
 * The canonical JSON Tracehound writes into envelopes and hashes into signatures.
 *
 * Tracehound (packages/core/src/utils/encode.ts) serializes with `JSON.stringify` and a
 * replacer that rebuilds every object with `Object.keys(obj).sort()`. That is not RFC 8785
 * (JCS): a JavaScript object always enumerates integer-like keys ("2", "10") first in
 * numeric order, whatever order they were inserted in, so Tracehound writes {"2":..,"10":..}
 * where JCS writes {"10":..,"2":..}. Signatures are hashes of Tracehound's bytes, so we
 * mirror its mechanism exactly instead of using a JCS implementation.
 */
import { StaxError } from '../errors.js';

export type PayloadJson = 'canonical' | 'not-canonical' | 'invalid';

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  // A null-prototype object, so a parsed "__proto__" key stays an ordinary key instead of
  // replacing the prototype (Tracehound's `{}` would silently drop it).
  const sorted = Object.create(null) as Record<string, unknown>;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj).sort()) sorted[key] = obj[key];
  return sorted;
}

/** Tracehound's canonical JSON text of a JSON value: keys sorted, no whitespace. */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, strictSortKeys) as string | undefined;
  } catch (err) {
    if (err instanceof StaxError) throw err;
    // Circular structures and nesting too deep for the stack.
    throw new StaxError('INPUT_INVALID', `payload is not serializable: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new StaxError('INPUT_INVALID', 'payload: expected a JSON value, found undefined');
  return text;
}

// Refuses what Tracehound's validatePayloadStructure refuses: JSON.stringify would turn these
// into null or drop them, and two different payloads would share one signature.
function strictSortKeys(key: string, value: unknown): unknown {
  const where = key === '' ? 'payload' : `payload key ${JSON.stringify(key)}`;
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new StaxError('INPUT_INVALID', `${where}: expected a JSON value, found ${typeof value}`);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new StaxError('INPUT_INVALID', `${where}: expected a finite number, found ${value}`);
      }
      return value;
    default:
      return sortKeys(key, value);
  }
}

/**
 * Whether payload bytes are UTF-8 JSON, and whether they are exactly what Tracehound's
 * serializer would write for the value they hold.
 */
export function classifyPayloadJson(payload: Uint8Array): PayloadJson {
  let value: unknown;
  try {
    // fatal: malformed UTF-8 is not silently replaced; ignoreBOM: a BOM is kept, so it makes
    // the text invalid JSON rather than vanishing (Tracehound never writes one).
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload);
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  let canonical: string;
  try {
    canonical = JSON.stringify(value, sortKeys);
  } catch {
    // V8 parses nesting of any depth but stringifies recursively; what it cannot stringify,
    // Tracehound cannot have written either.
    return 'not-canonical';
  }
  return Buffer.from(canonical, 'utf8').equals(payload) ? 'canonical' : 'not-canonical';
}
