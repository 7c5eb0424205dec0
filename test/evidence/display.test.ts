import { describe, expect, it } from 'vitest';
import { formatPayloadForTerminal } from '../../src/evidence/display.js';

const ESC = '\x1b';
// Anything a terminal could act on: C0 but newline, DEL, C1, bidi controls, LS/PS.
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/;

const show = (text: string, max = 1 << 20): string => formatPayloadForTerminal(Buffer.from(text, 'utf8'), max);

describe('formatPayloadForTerminal', () => {
  it('pretty-prints JSON with two spaces, like JSON.stringify', () => {
    const text = '{"a":1,"b":[1,{"c":null}],"d":{},"e":[],"f":"x"}';
    expect(show(text)).toBe(JSON.stringify(JSON.parse(text), null, 2));
  });

  it('keeps numbers and escapes exactly as captured', () => {
    expect(show('{"id":12345678901234567890,"q":"\\u0041"}')).toBe('{\n  "id": 12345678901234567890,\n  "q": "\\u0041"\n}');
  });

  it.each([
    ['ESC and CSI (clear screen)', `${ESC}[2J${ESC}[H`],
    ['OSC (set window title) ended by BEL', `${ESC}]0;pwned\x07`],
    ['OSC 8 hyperlink ended by ST', `${ESC}]8;;https://evil.example${ESC}\\click${ESC}]8;;${ESC}\\`],
    ['8-bit CSI (C1)', '\u009b31m'],
    ['bidi override', 'user\u202eexe.txt'],
    ['bidi isolates', '\u2066a\u2069'],
    ['line separator', 'a\u2028b'],
    ['carriage return hiding a line', 'harmless\rEVIL'],
  ])('neutralizes %s in JSON and in plain text', (_what, attack) => {
    const asJson = show(JSON.stringify({ path: attack, [attack]: 1 }));
    const asText = show(`GET /${attack} HTTP/1.1`);
    for (const out of [asJson, asText]) {
      expect(out).not.toMatch(UNSAFE);
      expect(out).not.toContain(ESC);
    }
  });

  it('keeps layout line breaks but shows line breaks inside text', () => {
    expect(show('line1\nline2\r\n')).toBe('line1\nline2\\r\n');
  });

  it('falls back to a hex dump for bytes that are not UTF-8', () => {
    const out = formatPayloadForTerminal(Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0xff, 0x00, 0x41]), 100);
    expect(out).toBe('00000000  1b 5b 32 4a ff 00 41                             |.[2J..A|');
  });

  it('shows at most maxBytes and says how much was left out', () => {
    const out = show(JSON.stringify({ a: 'x'.repeat(100) }), 20);
    expect(out).toBe('{"a":"xxxxxxxxxxxxxx\n… 88 more bytes not shown');
  });

  it('does not call a character cut at maxBytes corrupt', () => {
    const out = formatPayloadForTerminal(Buffer.from('ééé', 'utf8'), 3);
    expect(out).toBe('é\n… 3 more bytes not shown');
  });

  it('does not let deep nesting blow up the output', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const out = show(deep, 10_000);
    expect(out.length).toBeLessThanOrEqual(8 * 10_000 + 4096);
  });

  it('refuses a negative maxBytes', () => {
    expect(() => show('{}', -1)).toThrow(/maxBytes/);
  });
});
