import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonParseError, parseJson, type JsonParseErrorCode, type ParseOptions } from '../../src/json/parse.js';
import { JsonNumber, toPlain, type JsonValue } from '../../src/json/value.js';

function parseError(text: string, options?: ParseOptions): JsonParseError {
  try {
    parseJson(text, options);
  } catch (err) {
    expect(err).toBeInstanceOf(JsonParseError);
    return err as JsonParseError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

function codeOf(text: string, options?: ParseOptions): JsonParseErrorCode {
  return parseError(text, options).code;
}

describe('parseJson: values', () => {
  it('parses scalars', () => {
    expect(parseJson('null')).toBe(null);
    expect(parseJson('true')).toBe(true);
    expect(parseJson('false')).toBe(false);
    expect(parseJson('"hi"')).toBe('hi');
    expect(parseJson('""')).toBe('');
  });

  it('keeps every number token exactly', () => {
    const tokens = [
      '0',
      '-0',
      '1',
      '-1',
      '1.0',
      '-0.0',
      '1e2',
      '1E+2',
      '1e-2',
      '1.5E-007',
      '0.1',
      '12345678901234567890123',
      '-98765432109876543210987654321',
      '1795315169.7887309',
      '3.14159265358979323846264338327950288',
      '1e400',
      '4.9e-324',
    ];
    for (const token of tokens) {
      const v = parseJson(token);
      expect(v).toBeInstanceOf(JsonNumber);
      expect((v as JsonNumber).raw).toBe(token);
    }
    const arr = parseJson('[9007199254740993, 1.0, 1]') as JsonNumber[];
    expect(arr.map((n) => n.raw)).toEqual(['9007199254740993', '1.0', '1']);
    expect(arr.map((n) => n.isInteger)).toEqual([true, false, true]);
  });

  it('keeps object key order and nests', () => {
    const v = parseJson('{"b": 1, "a": {"d": [true, null], "c": "x"}}');
    expect(v).toBeInstanceOf(Map);
    const m = v as Map<string, JsonValue>;
    expect([...m.keys()]).toEqual(['b', 'a']);
    expect([...(m.get('a') as Map<string, JsonValue>).keys()]).toEqual(['d', 'c']);
    expect(toPlain(v)).toEqual({ b: 1, a: { d: [true, null], c: 'x' } });
  });

  it('parses empty containers, with and without whitespace inside', () => {
    for (const text of ['[]', '[ ]', '[\n\t\r ]', '{}', '{ }', '{\n}']) {
      const v = parseJson(text);
      expect(Array.isArray(v) ? v.length : (v as Map<string, JsonValue>).size).toBe(0);
    }
  });

  it('keeps __proto__ and constructor as plain data keys', () => {
    const v = parseJson('{"__proto__": {"polluted": true}, "constructor": 1, "toString": "x"}') as Map<string, JsonValue>;
    expect([...v.keys()]).toEqual(['__proto__', 'constructor', 'toString']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const plain = toPlain(v) as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.keys(plain)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(plain, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('accepts whitespace around and between every token', () => {
    const spaced = ' \t\n\r{ \t\n\r"a" \t\n\r: \t\n\r[ \t\n\r1 \t\n\r, \t\n\r2 \t\n\r] \t\n\r, "b":true} \t\n\r';
    expect(toPlain(parseJson(spaced))).toEqual({ a: [1, 2], b: true });
    expect(parseJson('\n\n  7  \n')).toEqual(new JsonNumber('7'));
  });

  it('decodes every escape form', () => {
    expect(parseJson(String.raw`"\" \\ \/ \b \f \n \r \t"`)).toBe('" \\ / \b \f \n \r \t');
    expect(parseJson(String.raw`"\u0041\u00e9\u00E9\u20AC\u0000\u001f"`)).toBe('Aéé€\u0000\u001f');
    expect(parseJson(String.raw`"\ud83d\ude00"`)).toBe('😀');
    expect(parseJson(String.raw`"a\nb\tc"`)).toBe('a\nb\tc');
    expect(parseJson(String.raw`{"k\u0065y": "\u0076"}`)).toEqual(new Map([['key', 'v']]));
  });

  it('keeps lone surrogate escapes as they are, as Python does', () => {
    expect(parseJson(String.raw`"\ud800"`)).toBe('\ud800');
    expect(parseJson(String.raw`"\udfff x \ud83d"`)).toBe('\udfff x \ud83d');
    expect(parseJson(String.raw`"\ude00\ud83d"`)).toBe('\ude00\ud83d');
  });

  it('passes non-ASCII, DEL and raw astral characters through', () => {
    expect(parseJson('"é€😀\u007f\u2028"')).toBe('é€😀\u007f\u2028');
  });

  it('accepts NaN and Infinity tokens only when asked', () => {
    const options = { allowNonFinite: true };
    expect((parseJson('NaN', options) as JsonNumber).raw).toBe('NaN');
    expect((parseJson('[Infinity, -Infinity]', options) as JsonNumber[]).map((n) => n.raw)).toEqual([
      'Infinity',
      '-Infinity',
    ]);
    expect(codeOf('NaN')).toBe('NON_FINITE');
    expect(codeOf('[1, Infinity]')).toBe('NON_FINITE');
    expect(codeOf('{"a": -Infinity}')).toBe('NON_FINITE');
    expect(parseError('[1, -Infinity]').offset).toBe(4);
    // Only Python's exact spellings.
    for (const text of ['nan', 'Nan', 'inf', '-NaN', '+Infinity', 'Infinit', '-Inf', 'infinity']) {
      expect(codeOf(text, options)).toBe('SYNTAX');
    }
  });

  it('keeps the last value of a repeated key when asked, at the first key position', () => {
    const v = parseJson('{"a": 1, "b": 2, "a": 3}', { duplicateKeys: 'last' }) as Map<string, JsonValue>;
    expect([...v.keys()]).toEqual(['a', 'b']);
    expect(toPlain(v)).toEqual({ a: 3, b: 2 });
  });

  it('parses long strings with escapes spread through them', () => {
    const s = 'abc\u0000"\\/\n😀\ud800'.repeat(2000);
    expect(parseJson(JSON.stringify(s))).toBe(s);
  });

  it('parses nesting up to maxDepth, iteratively', () => {
    const depth = 1000;
    expect(() => parseJson('['.repeat(depth) + ']'.repeat(depth))).not.toThrow();
    const deep = 100_000;
    const v = parseJson('['.repeat(deep) + '1' + ']'.repeat(deep), { maxDepth: deep });
    let levels = 0;
    let cur: JsonValue = v;
    while (Array.isArray(cur)) {
      cur = cur[0]!;
      levels++;
    }
    expect(levels).toBe(deep);
  });
});

describe('parseJson: errors', () => {
  it.each([
    ['', 'SYNTAX'],
    ['   ', 'SYNTAX'],
    ['nul', 'SYNTAX'],
    ['True', 'SYNTAX'],
    ['[1, 2', 'SYNTAX'],
    ['[1 2]', 'SYNTAX'],
    ['[1,]', 'SYNTAX'],
    ['[,1]', 'SYNTAX'],
    ['{"a": 1,}', 'SYNTAX'],
    ['{"a" 1}', 'SYNTAX'],
    ['{"a": }', 'SYNTAX'],
    ['{a: 1}', 'SYNTAX'],
    ["{'a': 1}", 'SYNTAX'],
    ['{"a": 1 "b": 2}', 'SYNTAX'],
    ['{"a": 1]', 'SYNTAX'],
    ['[1}', 'SYNTAX'],
    ['1 2', 'SYNTAX'],
    ['{} {}', 'SYNTAX'],
    ['01', 'SYNTAX'],
    ['-01', 'SYNTAX'],
    ['00', 'SYNTAX'],
    ['-', 'SYNTAX'],
    ['-a', 'SYNTAX'],
    ['1.', 'SYNTAX'],
    ['1.e5', 'SYNTAX'],
    ['.5', 'SYNTAX'],
    ['+1', 'SYNTAX'],
    ['1e', 'SYNTAX'],
    ['1e+', 'SYNTAX'],
    ['1E-x', 'SYNTAX'],
    ['0x10', 'SYNTAX'],
    ['1_000', 'SYNTAX'],
    ['"abc', 'SYNTAX'],
    ['"abc\\"', 'SYNTAX'],
    ['"\\', 'SYNTAX'],
    ['["a", "b', 'SYNTAX'],
    ['"\\x41"', 'SYNTAX'],
    ['"\\a"', 'SYNTAX'],
    ["\"\\'\"", 'SYNTAX'],
    ['"\\U0041"', 'SYNTAX'],
    ['"\\u12"', 'SYNTAX'],
    ['"\\u12G4"', 'SYNTAX'],
    ['"\\u', 'SYNTAX'],
    ['"\\u00', 'SYNTAX'],
    ['"a\nb"', 'SYNTAX'],
    ['"a\tb"', 'SYNTAX'],
    ['"\u0000"', 'SYNTAX'],
    ['"\u001f"', 'SYNTAX'],
    ['"\\n\r"', 'SYNTAX'],
    ['\u00a0 1', 'SYNTAX'],
    ['1 \u2028', 'SYNTAX'],
    ['1 \ufeff', 'SYNTAX'],
    ['/* c */ 1', 'SYNTAX'],
    ['\ufeff{}', 'BOM'],
    ['\ufeff', 'BOM'],
    ['{"a": 1, "a": 2}', 'DUPLICATE_KEY'],
    ['[{"x": {"k": 1, "j": 2, "k": 3}}]', 'DUPLICATE_KEY'],
    ['{"a": 1, "\\u0061": 2}', 'DUPLICATE_KEY'],
    ['NaN', 'NON_FINITE'],
  ] as const)('%j is %s', (text, code) => {
    expect(codeOf(text)).toBe(code);
  });

  it('reports where the problem is, as offset, line and column', () => {
    const e = parseError('{\n  "a": 1,\n  "b": x\n}');
    expect(e.code).toBe('SYNTAX');
    expect(e.name).toBe('JsonParseError');
    expect(e.offset).toBe(19);
    expect([e.line, e.column]).toEqual([3, 8]);
    expect(e.message).toBe("unexpected character 'x' at line 3 column 8");

    const dup = parseError('{"a":1, "a":2}');
    expect(dup.message).toBe('duplicate key "a" at line 1 column 9');
    expect(dup.offset).toBe(8);
    expect(dup.key).toBe('a');
    expect(parseError('[1 2]').key).toBeUndefined();

    expect(parseError('[1, 2').message).toBe('unexpected end of input at line 1 column 6');
    expect(parseError('"abc').message).toBe('unterminated string at line 1 column 1');
    expect(parseError('["a\tb"]').message).toBe('control character U+0009 in string at line 1 column 4');
    expect(parseError('01').message).toBe('leading zero in number at line 1 column 1');
    expect(parseError('1.').message).toBe(
      'unexpected end of input (expected a digit after the decimal point) at line 1 column 3',
    );
    expect(parseError('"\\x"').message).toBe('invalid escape "\\\\x" at line 1 column 2');
    expect(parseError('\ufeff{}').message).toMatch(/^unexpected byte order mark/);
    expect(parseError('{}\u202e').message).toBe('unexpected character U+202E at line 1 column 3');
  });

  it('keeps messages to one short printable line, whatever the input', () => {
    const longKey = 'k\u202e\n'.repeat(1000);
    const text = `{${JSON.stringify(longKey)}: 1, ${JSON.stringify(longKey)}: 2}`;
    const e = parseError(text);
    expect(e.code).toBe('DUPLICATE_KEY');
    expect(e.key).toBe(longKey);
    expect(e.message).toMatch(/^[\x20-\x7e]{1,200}$/);
  });

  it('stops at maxDepth with TOO_DEEP, quickly and without overflowing the stack', () => {
    const started = Date.now();
    for (const open of ['[', '{"a":', '[{"a":']) {
      const e = parseError(open.repeat(100_000));
      expect(e.code).toBe('TOO_DEEP');
      expect(e.message).toMatch(/^nesting deeper than 1000 levels at line 1 column \d+$/);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    expect(codeOf('['.repeat(1001) + ']'.repeat(1001))).toBe('TOO_DEEP');
    expect(codeOf('[[[]]]', { maxDepth: 2 })).toBe('TOO_DEEP');
    expect(() => parseJson('[[]]', { maxDepth: 2 })).not.toThrow();
    expect(codeOf('[]', { maxDepth: 0 })).toBe('TOO_DEEP');
    expect(parseJson('1', { maxDepth: 0 })).toEqual(new JsonNumber('1'));
  });
});

describe('parseJson against JSON.parse', () => {
  const lenient: ParseOptions = { duplicateKeys: 'last', maxDepth: 10_000 };

  it('gives the same values for any valid JSON', () => {
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (text) => {
        expect(toPlain(parseJson(text, lenient))).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts and rejects the same texts', () => {
    const alphabet = fc.constantFrom(...'{}[],:"\\ \n\t0123456789-+.eEtrufalsnu\u0000\u001f\ufeffx'.split(''));
    const mutated = fc
      .tuple(fc.json(), fc.nat(), fc.nat(3), alphabet)
      .map(([text, at, op, ch]) => {
        const i = text.length === 0 ? 0 : at % text.length;
        if (op === 0) return text.slice(0, i) + text.slice(i + 1);
        if (op === 1) return text.slice(0, i) + ch + text.slice(i);
        if (op === 2) return text.slice(0, i) + ch + text.slice(i + 1);
        return text.slice(0, i);
      });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ unit: alphabet, maxLength: 30 })), (text) => {
        let expected: unknown;
        let nativeOk = true;
        try {
          expected = JSON.parse(text);
        } catch {
          nativeOk = false;
        }
        let ours: unknown;
        try {
          ours = toPlain(parseJson(text, lenient));
        } catch (err) {
          expect(err).toBeInstanceOf(JsonParseError);
          expect(nativeOk).toBe(false);
          return;
        }
        expect(nativeOk).toBe(true);
        expect(ours).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
