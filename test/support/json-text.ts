/**
 * Writes the lossless JsonValue model (src/json/value.ts) back to text, for tests that
 * edit real files: every number is written as its source token, so a Python float `2.0`
 * stays `2.0` and an int beyond 2^53 keeps its digits; object members keep their order.
 *
 * With `indent` and `ensureAscii` it reproduces Python's `json.dump(v, f, indent=2)`
 * byte for byte; with `separators: [', ', ': ']` and `ensureAscii`, `json.dumps(v)`;
 * without options, a compact JS-style `JSON.stringify` layout.
 */
import { JsonNumber, type JsonObject, type JsonValue } from '../../src/json/value.js';

export interface WriteJsonOptions {
  /** Spaces per level; lines break as in Python's indent= and JSON.stringify(v, null, n). */
  indent?: number;
  /** [item separator, key separator]. Default [',', ':'] flat, [',', ': '] with indent. */
  separators?: [string, string];
  /** Escape every character outside printable ASCII as \uXXXX, as Python's ensure_ascii. */
  ensureAscii?: boolean;
}

export function writeJson(v: JsonValue, options: WriteJsonOptions = {}): string {
  const indent = options.indent;
  const [itemSep, keySep] = options.separators ?? (indent === undefined ? [',', ':'] : [',', ': ']);
  const quote = options.ensureAscii ? quoteAscii : (s: string): string => JSON.stringify(s);

  const write = (value: JsonValue, level: number): string => {
    if (value === null) return 'null';
    if (value === true) return 'true';
    if (value === false) return 'false';
    if (typeof value === 'string') return quote(value);
    if (value instanceof JsonNumber) return value.raw;
    const items: string[] = Array.isArray(value)
      ? value.map((item) => write(item, level + 1))
      : [...value].map(([k, item]) => quote(k) + keySep + write(item, level + 1));
    const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
    if (items.length === 0) return open + close;
    if (indent === undefined) return open + items.join(itemSep) + close;
    const pad = '\n' + ' '.repeat(indent * (level + 1));
    return open + pad + items.join(itemSep.trimEnd() + pad) + '\n' + ' '.repeat(indent * level) + close;
  };
  return write(v, 0);
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** Python's ensure_ascii: everything outside ' '..'~' becomes \uXXXX (lowercase hex). */
function quoteAscii(s: string): string {
  return '"' + s.replace(/["\\]|[^\x20-\x7e]/g, (ch) => SHORT_ESCAPES[ch] ?? '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0')) + '"';
}

/** A deep copy, so that a mutation never reaches the base document. */
export function cloneJson<T extends JsonValue>(v: T): T {
  if (v === null || typeof v !== 'object' || v instanceof JsonNumber) return v;
  if (Array.isArray(v)) return v.map((item) => cloneJson(item)) as T;
  return new Map([...(v as JsonObject)].map(([k, item]) => [k, cloneJson(item)])) as T;
}

export function asObject(v: JsonValue | undefined): JsonObject {
  if (!(v instanceof Map)) throw new TypeError('expected a JSON object');
  return v;
}
