import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseJson } from '../../src/json/parse.js';
import { compareCodePoints, floatRepr, pythonDumps, pythonDumpsFields, type PythonDumpsOptions } from '../../src/json/python.js';
import { JsonNumber, type JsonObject, type JsonValue } from '../../src/json/value.js';

const compact: PythonDumpsOptions = { separators: 'compact' };
const spaced: PythonDumpsOptions = { separators: 'default' };

/** What Python prints for json.dumps(json.loads(text), sort_keys=True), both separator styles. */
function dumps(text: string): [string, string] {
  const v = parseJson(text, { allowNonFinite: true });
  return [pythonDumps(v, compact), pythonDumps(v, spaced)];
}

describe('pythonDumps: hand-written cases', () => {
  it.each([
    // Integers: any size, -0 is 0.
    ['0', '0'],
    ['-0', '0'],
    ['7', '7'],
    ['-12', '-12'],
    ['12345678901234567890123456789', '12345678901234567890123456789'],
    ['-98765432109876543210', '-98765432109876543210'],
    // Floats: repr, positional in 1e-4 <= |x| < 1e16.
    ['1.0', '1.0'],
    ['1.50', '1.5'],
    ['100.0', '100.0'],
    ['1e2', '100.0'],
    ['1E+2', '100.0'],
    ['-0.0', '-0.0'],
    ['0.0', '0.0'],
    ['0e10', '0.0'],
    ['-0e-5', '-0.0'],
    ['0.1', '0.1'],
    ['0.0001', '0.0001'],
    ['0.00009999', '9.999e-05'],
    ['0.00001', '1e-05'],
    ['1e-7', '1e-07'],
    ['1.5e-10', '1.5e-10'],
    ['1e15', '1000000000000000.0'],
    ['1234567890123456.7', '1234567890123456.8'],
    ['9999999999999998.0', '9999999999999998.0'],
    ['1e16', '1e+16'],
    ['1.5e16', '1.5e+16'],
    ['12345678901234567890.0', '1.2345678901234567e+19'],
    ['1e21', '1e+21'],
    ['1.2345e300', '1.2345e+300'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['5e-324', '5e-324'],
    ['2.2250738585072014e-308', '2.2250738585072014e-308'],
    ['1795315169.7887309', '1795315169.7887309'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['0.1e1', '1.0'],
    ['123456789012345678901234567890.5e-20', '1234567890.1234567'],
    // Overflow and non-finite tokens.
    ['1e400', 'Infinity'],
    ['-1e400', '-Infinity'],
    ['1e-400', '0.0'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['-Infinity', '-Infinity'],
    // Literals and empty containers.
    ['true', 'true'],
    ['false', 'false'],
    ['null', 'null'],
    ['[]', '[]'],
    ['{}', '{}'],
    ['[[], {}, [[]]]', '[[],{},[[]]]'],
  ])('%s dumps as %s', (text, expected) => {
    expect(dumps(text)[0]).toBe(expected);
  });

  it.each([
    [String.raw`"plain / text ~"`, String.raw`"plain / text ~"`],
    [String.raw`"\" \\ \/"`, String.raw`"\" \\ /"`],
    [String.raw`"\n\r\t\b\f"`, String.raw`"\n\r\t\b\f"`],
    [String.raw`"\u0000\u0001\u001f"`, String.raw`"\u0000\u0001\u001f"`],
    [String.raw`"\u007f"`, String.raw`"\u007f"`],
    [String.raw`"\u0080 é €"`, String.raw`"\u0080 \u00e9 \u20ac"`],
    ['"é€"', String.raw`"\u00e9\u20ac"`],
    ['"\u{1F600}"', String.raw`"\ud83d\ude00"`],
    [String.raw`"\uD83D\uDE00"`, String.raw`"\ud83d\ude00"`],
    [String.raw`"\ud800 \udfff \ude00\ud83d"`, String.raw`"\ud800 \udfff \ude00\ud83d"`],
    [String.raw`"\uFEFF\u2028\u2029\uffff"`, String.raw`"\ufeff\u2028\u2029\uffff"`],
  ])('string %s dumps as %s', (text, expected) => {
    expect(dumps(text)[0]).toBe(expected);
  });

  it('uses the two separator styles', () => {
    expect(dumps('{"b": [1, 2.0], "a": {"c": null}}')).toEqual([
      '{"a":{"c":null},"b":[1,2.0]}',
      '{"a": {"c": null}, "b": [1, 2.0]}',
    ]);
    expect(dumps('[]')).toEqual(['[]', '[]']);
    expect(dumps('[{}]')).toEqual(['[{}]', '[{}]']);
  });

  it('sorts keys at every level and keeps array order', () => {
    expect(dumps('{"z": [{"y": 1, "x": 2}, 3, 1], "a": {"c": {"e": 1, "d": 2}, "b": 0}}')[0]).toBe(
      '{"a":{"b":0,"c":{"d":2,"e":1}},"z":[{"x":2,"y":1},3,1]}',
    );
  });

  it('sorts keys by code point, not by UTF-16 code unit', () => {
    // U+1F600 is stored as D83D DE00, below U+E000 and U+FFFF in UTF-16 order.
    expect(dumps('{"\u{1F600}": 1, "\uffff": 2, "\ue000": 3, "a": 4, "\ud7ff": 5}')[0]).toBe(
      String.raw`{"a":4,"\ud7ff":5,"\ue000":3,"\uffff":2,"\ud83d\ude00":1}`,
    );
    // A lone surrogate is its own code point, below U+E000.
    expect(dumps(String.raw`{"\ue000": 1, "\ud800": 2, "\ud83d\ude00": 3}`)[0]).toBe(
      String.raw`{"\ud800":2,"\ue000":1,"\ud83d\ude00":3}`,
    );
    expect(dumps('{"ab": 1, "a": 2, "": 3, "B": 4}')[0]).toBe('{"":3,"B":4,"a":2,"ab":1}');
  });

  it('sorts large objects correctly too', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `k${(i * 7919) % 200}`);
    keys.push('\u{1F600}', '\uffff', '\ud800');
    const text = '{' + keys.map((k, i) => `${JSON.stringify(k)}: ${i}`).join(', ') + '}';
    const out = parseJson(dumps(text)[0]) as JsonObject;
    expect([...out.keys()]).toEqual([...keys].sort(compareCodePoints));
    expect([...out.keys()].slice(-3)).toEqual(['\ud800', '\uffff', '\u{1F600}']);
  });

  it('escapes keys like values', () => {
    expect(dumps(String.raw`{"a\"b\n\u00e9": 1}`)[0]).toBe(String.raw`{"a\"b\n\u00e9":1}`);
  });

  it('dumps a listed subset of fields', () => {
    const entry = parseJson('{"hash": "h", "seq": 1, "ts": 1.5, "payload": {"b": 1, "a": 2}, "extra": null}') as JsonObject;
    expect(pythonDumpsFields(entry, ['ts', 'seq', 'payload', 'missing'], compact)).toBe(
      '{"payload":{"a":2,"b":1},"seq":1,"ts":1.5}',
    );
    expect(pythonDumpsFields(entry, ['seq', 'seq', 'hash'], spaced)).toBe('{"hash": "h", "seq": 1}');
    expect(pythonDumpsFields(entry, [], compact)).toBe('{}');
    expect(pythonDumpsFields(entry, ['nope'], compact)).toBe('{}');
    // The entry itself is untouched.
    expect([...entry.keys()]).toEqual(['hash', 'seq', 'ts', 'payload', 'extra']);
  });

  it('does not reorder or change the value it dumps', () => {
    const v = parseJson('{"b": {"d": 1, "c": 2}, "a": [3, 1]}');
    pythonDumps(v, compact);
    expect(pythonDumps(v, compact)).toBe('{"a":[3,1],"b":{"c":2,"d":1}}');
    expect([...(v as JsonObject).keys()]).toEqual(['b', 'a']);
  });

  it('prints JS doubles the way float.__repr__ does', () => {
    expect([1, -1.5, 1e16, 1e-5, 123e-20, -0, 0.1 + 0.2].map(floatRepr)).toEqual([
      '1.0',
      '-1.5',
      '1e+16',
      '1e-05',
      '1.23e-18',
      '-0.0',
      '0.30000000000000004',
    ]);
  });
});

describe('compareCodePoints', () => {
  it('orders like Python str comparison', () => {
    const sorted = ['b', '\u{10000}', '', '\ue000', 'a', '\ud800', 'ab', '\ud800x', '\u{1F600}', '\uffff'].sort(
      compareCodePoints,
    );
    expect(sorted).toEqual(['', 'a', 'ab', 'b', '\ud800', '\ud800x', '\ue000', '\uffff', '\u{10000}', '\u{1F600}']);
  });
});

// ---- Against the real Python ----

const tmp = mkdtempSync(join(tmpdir(), 'stax-json-python-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PYTHON_DUMPS = `
import json, sys
with open(sys.argv[1], encoding="utf-8", newline="\\n") as f:
    for line in f:
        v = json.loads(line)
        sys.stdout.write(json.dumps(v, sort_keys=True, separators=(",", ":")) + "\\n")
        sys.stdout.write(json.dumps(v, sort_keys=True) + "\\n")
`;

/** Runs one python3 over all texts (one per line) and returns its two outputs for each. */
function pythonOutputs(texts: readonly string[]): Array<[string, string]> {
  const file = join(tmp, `cases-${Date.now()}-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, texts.map((t) => t + '\n').join(''), 'utf8');
  const out = execFileSync('python3', ['-c', PYTHON_DUMPS, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const lines = out.split('\n');
  return texts.map((_, i) => [lines[2 * i]!, lines[2 * i + 1]!]);
}

/** JSON text for a value, with every number token as it is: the input both sides read. */
function jsonText(v: JsonValue): string {
  if (v instanceof JsonNumber) return v.raw;
  if (Array.isArray(v)) return '[' + v.map(jsonText).join(', ') + ']';
  if (v instanceof Map) return '{' + [...v].map(([k, item]) => JSON.stringify(k) + ': ' + jsonText(item)).join(', ') + '}';
  // JSON.stringify escapes lone surrogates, so the file stays valid UTF-8.
  return JSON.stringify(v);
}

const unit = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), weight: 6 },
  { arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), weight: 3 },
  {
    arbitrary: fc.constantFrom(
      '\u0000', '\u001f', '\n', '\r', '\t', '\b', '\f', '"', '\\', '/', '\u007f', '\u0080', '\u00e9',
      '\u2028', '\ufeff', '\ud7ff', '\ue000', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00',
      '\u{10000}', '\u{1F600}', '\u{10FFFF}',
    ),
    weight: 3,
  },
);
const text = fc.string({ unit, maxLength: 12 });

const floatToken = fc.oneof(
  fc.double().map((x) => {
    if (Number.isNaN(x)) return 'NaN';
    if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
    if (Object.is(x, -0)) return '-0.0';
    const s = String(x);
    return /[.e]/.test(s) ? s : s + '.0';
  }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toExponential()),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x.toPrecision(17).replace(/^(-?\d+)$/, '$1.0')),
  fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 25n }), fc.stringMatching(/^[0-9]{1,25}$/), fc.integer({ min: -340, max: 340 }), fc.boolean())
    .map(([int, frac, exp, neg]) => `${neg ? '-' : ''}${int}.${frac}${exp === 0 ? '' : `e${exp}`}`),
  fc.integer({ min: -30, max: 30 }).map((e) => `1e${e}`),
  fc.constantFrom(
    '1e16', '1e15', '1e-4', '1e-5', '0.0001', '0.00009999999999999999', '9999999999999998.0', '1e400', '-1e400',
    '1e-400', '5e-324', '2.2250738585072014e-308', '2.225073858507201e-308', '1.7976931348623157e308', '1E+2', '1e+0',
    '-0.0', '0.0', '1795315169.7887309', '123456789012345678.0',
  ),
);
const intToken = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.constant('-0'),
);
const numberValue = fc.oneof(floatToken, intToken).map((raw) => new JsonNumber(raw));
const keyText = fc.oneof(text, fc.constantFrom('a', 'b', '\ue000', '\uffff', '\u{1F600}', '\ud800', '__proto__', ''));

const { value } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<JsonValue>(null, true, false),
    text,
    numberValue,
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .uniqueArray(fc.tuple(keyText, tie('value')), { selector: ([k]) => k, maxLength: 6 })
      .map((entries) => new Map(entries) as JsonValue),
  ),
}));

describe('pythonDumps against python3', () => {
  it('matches byte for byte on random values', () => {
    const seed = Date.now() ^ (Math.random() * 0x7fffffff);
    const texts = fc.sample(value, { numRuns: 400, seed }).map(jsonText);
    const expected = pythonOutputs(texts);
    const mismatches = texts.flatMap((t, i) => {
      const ours = dumps(t);
      return ours[0] === expected[i]![0] && ours[1] === expected[i]![1]
        ? []
        : [{ input: t, ours, python: expected[i] }];
    });
    expect(mismatches, `fast-check seed ${seed}`).toEqual([]);
  });

  it('matches on numbers of every shape', () => {
    const seed = Date.now() ^ (Math.random() * 0x7fffffff);
    const texts = fc.sample(fc.array(numberValue, { minLength: 1, maxLength: 20 }), { numRuns: 300, seed }).map(jsonText);
    const expected = pythonOutputs(texts);
    const ours = texts.map(dumps);
    expect(ours, `fast-check seed ${seed}`).toEqual(expected);
  });

  it('matches on the hand-written cases above and on an audit-log-like entry', () => {
    const texts = [
      '{"seq": 0, "id": "89e95fb5-6e90-4af3-a8ad-ecb4a1427d63", "ts": 1795315170.760229, "actor": {"name": "Zo\\u00eb", "roles": ["admin"]}, "payload": {"ratio": 0.6509344730398537, "size": 423938499, "note": null, "ok": true}}',
      '[1e16, 1e15, 1e-5, 1e-4, -0.0, -0, 0.1, 5e-324, 1e400, -1e400, NaN, Infinity, -Infinity, 12345678901234567890123]',
      '["\\u0000\\u007f\\u0080\\ud800\\udfff\\ud83d\\ude00/\\"\\\\\\b\\f\\n\\r\\t", "\u00e9\u{1F600}\u2028"]',
      '{"\u{1F600}": 1, "\\uffff": 2, "\\ue000": 3, "\\ud800": 4, "a": {"b": [], "a": {}}}',
      '{' + Array.from({ length: 300 }, (_, i) => `${JSON.stringify(String.fromCodePoint(0xdf00 + i * 0x101))}: ${i}`).join(', ') + '}',
    ];
    expect(texts.map(dumps)).toEqual(pythonOutputs(texts));
  });
});
