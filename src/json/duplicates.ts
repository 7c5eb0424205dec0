/**
 * Finds a repeated key in any object of a JSON text. JSON.parse keeps the last of two
 * equal keys silently; other parsers keep the first. A chain entry with a repeated key
 * could show a reviewer one value and a verifier another, so verifiers call this when a
 * hash does not match and report it by name.
 */
import { JsonParseError, parseJson } from './parse.js';

export function findDuplicateKey(text: string): string | null {
  try {
    parseJson(text, { duplicateKeys: 'error', allowNonFinite: true });
    return null;
  } catch (err) {
    if (err instanceof JsonParseError && err.code === 'DUPLICATE_KEY') return err.key ?? '';
    return null;
  }
}
