/**
 * Shows a captured payload on a terminal. Payloads are attacker-written by definition (they
 * are the requests Tracehound quarantined), so whatever form is chosen, every line goes
 * through `neutralize` and nothing in the payload can act on the terminal.
 */
import { StaxError } from '../errors.js';
import { neutralize } from '../text/terminal.js';

/**
 * JSON pretty-printed with 2-space indentation when the payload is UTF-8 JSON; otherwise
 * UTF-8 text with control characters escaped; otherwise a hex dump. At most `maxBytes`
 * of the payload are shown, and a payload cut short is never parsed as JSON.
 */
export function formatPayloadForTerminal(payload: Buffer, maxBytes: number): string {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new StaxError('USAGE', `maxBytes: expected a non-negative integer, found ${maxBytes}`);
  }
  const shown = payload.subarray(0, maxBytes);
  const cut = payload.length - shown.length;
  const note = cut > 0 ? `\n… ${cut} more byte${cut === 1 ? '' : 's'} not shown` : '';
  const text = decodeUtf8(shown, cut > 0);
  if (text === null) return hexDump(shown) + note;
  if (cut === 0) {
    const pretty = prettyJson(text, 8 * maxBytes + 4096);
    if (pretty !== null) return neutralizeLines(pretty);
  }
  return neutralizeLines(text) + note;
}

// Line by line, so the layout's own line breaks survive while any in the data (inside a
// non-JSON payload) become visible `\r`, and every other control is escaped.
function neutralizeLines(text: string): string {
  return text
    .split('\n')
    .map((line) => neutralize(line))
    .join('\n');
}

function decodeUtf8(bytes: Uint8Array, partial: boolean): string | null {
  try {
    // stream: a payload cut at maxBytes may end inside a character; that is not corruption.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: partial });
  } catch {
    return null;
  }
}

const TOKEN_END = /[\s,:{}[\]"]/;

/**
 * Re-indents JSON text without re-serializing it: JSON.parse + JSON.stringify would round
 * 12345678901234567890 to 12345678901234567000, rewrite escapes and move integer-like keys
 * first, and a forensic view must show the numbers and strings that were captured. Null when
 * the text is not JSON or the layout would grow past `maxOutput` (deep nesting costs
 * indentation quadratically).
 */
function prettyJson(text: string, maxOutput: number): string | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const out: string[] = [];
  let length = 0;
  let depth = 0;
  const emit = (s: string): void => {
    out.push(s);
    length += s.length;
  };
  const newline = (): void => emit('\n' + '  '.repeat(depth));
  const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

  for (let i = 0; i < text.length; i++) {
    if (length > maxOutput) return null;
    const c = text[i]!;
    if (c === '"') {
      // Copy the string verbatim; JSON.parse already proved it is well formed.
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      emit(text.slice(i, j + 1));
      i = j;
    } else if (c === '{' || c === '[') {
      let j = i + 1;
      while (isSpace(text[j])) j++;
      if (text[j] === (c === '{' ? '}' : ']')) {
        emit(c + text[j]!);
        i = j;
      } else {
        emit(c);
        depth++;
        newline();
      }
    } else if (c === '}' || c === ']') {
      depth--;
      newline();
      emit(c);
    } else if (c === ',') {
      emit(',');
      newline();
    } else if (c === ':') {
      emit(': ');
    } else if (!isSpace(c)) {
      // Numbers and literals: copy up to the next structural character or whitespace.
      let j = i + 1;
      while (j < text.length && !TOKEN_END.test(text[j]!)) j++;
      emit(text.slice(i, j));
      i = j - 1;
    }
  }
  return length > maxOutput ? null : out.join('');
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}
