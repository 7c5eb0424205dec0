/**
 * Neutralizes untrusted text before it reaches a terminal. Trails, payloads, labels and
 * package names come from files an attacker may have written; an escape sequence in them
 * could rewrite the screen, hide lines or set the window title. Every C0 and C1 control
 * character, DEL, and the Unicode bidirectional and line/paragraph separators are shown as
 * visible escapes instead (`\x1b`, `\u202e`), so nothing is lost and nothing is executed.
 */

// C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, LS/PS, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function neutralize(text: string, maxLength?: number): string {
  let s = text;
  let cut = false;
  if (maxLength !== undefined && s.length > maxLength) {
    s = s.slice(0, maxLength);
    cut = true;
  }
  s = s.replace(UNSAFE, (ch) => {
    const named = NAMED[ch];
    if (named !== undefined) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return cut ? s + '…' : s;
}

/** True when the text would be changed by `neutralize`. */
export function hasUnsafeCharacters(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}
