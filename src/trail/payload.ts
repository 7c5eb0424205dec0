/**
 * Turns payload text from the command line, a file or stdin into a JSON value that a stax
 * chain stores exactly. RFC 8785 hashes numbers as IEEE doubles, so an integer beyond 2^53
 * would be silently rounded: it is refused with advice instead.
 */
import { StaxError } from '../errors.js';
import { JsonParseError, parseJson } from '../json/parse.js';
import { findInexactNumber } from '../json/exact.js';
import { toPlain, type JsonValue } from '../json/value.js';

export function parsePayload(text: string, source: string): unknown {
  let value: JsonValue;
  try {
    value = parseJson(text.replace(/^\ufeff/, ''), { duplicateKeys: 'error' });
  } catch (err) {
    const detail = err instanceof JsonParseError ? err.message : String(err);
    throw new StaxError('INPUT_INVALID', `the payload is not valid JSON: ${detail}`, { file: source });
  }
  const inexact = findInexactNumber(value);
  if (inexact !== null) {
    throw new StaxError('INPUT_INVALID', `the payload number ${inexact} cannot be stored exactly (beyond 2^53 or out of range); write it as a string`, { file: source });
  }
  return toPlain(value);
}
