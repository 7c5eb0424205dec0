import { describe, expect, it } from 'vitest';
import { JsonNumber, fromPlain, toPlain, type JsonValue } from '../../src/json/value.js';

describe('JsonNumber', () => {
  it('tells integer tokens from float tokens', () => {
    for (const raw of ['0', '-0', '7', '-12', '12345678901234567890123']) expect(new JsonNumber(raw).isInteger).toBe(true);
    for (const raw of ['1.0', '1e2', '1E2', '-0.0', '1e-7', 'NaN', 'Infinity', '-Infinity']) {
      expect(new JsonNumber(raw).isInteger).toBe(false);
    }
  });

  it('knows the non-finite tokens', () => {
    expect(['NaN', 'Infinity', '-Infinity', '1e400', '1'].map((raw) => new JsonNumber(raw).isNonFinite)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('converts to the nearest double', () => {
    expect(new JsonNumber('1E+2').toNumber()).toBe(100);
    expect(Object.is(new JsonNumber('-0').toNumber(), -0)).toBe(true);
    expect(new JsonNumber('9007199254740993').toNumber()).toBe(9007199254740992);
    expect(new JsonNumber('1e400').toNumber()).toBe(Infinity);
    expect(new JsonNumber('-1e400').toNumber()).toBe(-Infinity);
    expect(new JsonNumber('NaN').toNumber()).toBeNaN();
    expect(new JsonNumber('-Infinity').toNumber()).toBe(-Infinity);
  });

  it('makes tokens from doubles that convert back to the same double', () => {
    expect(JsonNumber.fromNumber(-0).raw).toBe('-0');
    expect(JsonNumber.fromNumber(1.5).raw).toBe('1.5');
    expect(JsonNumber.fromNumber(1e21).raw).toBe('1e+21');
    expect(JsonNumber.fromNumber(NaN).raw).toBe('NaN');
    expect(JsonNumber.fromNumber(-Infinity).raw).toBe('-Infinity');
    for (const x of [0, -0, 5e-324, 0.1, 123456789, 2 ** 60, 1.7976931348623157e308]) {
      expect(Object.is(JsonNumber.fromNumber(x).toNumber(), x)).toBe(true);
    }
  });
});

describe('toPlain', () => {
  it('converts to ordinary values', () => {
    const v: JsonValue = new Map<string, JsonValue>([
      ['a', [new JsonNumber('1'), new JsonNumber('2.5'), null, true, 'x']],
      ['b', new Map()],
    ]);
    expect(toPlain(v)).toEqual({ a: [1, 2.5, null, true, 'x'], b: {} });
  });

  it('keeps __proto__ an own data property and leaves prototypes alone', () => {
    const plain = toPlain(new Map([['__proto__', new Map([['x', 1 as unknown as JsonValue]])]])) as object;
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(Object.hasOwn(plain, '__proto__')).toBe(true);
    expect(Object.keys(plain)).toEqual(['__proto__']);
  });
});

describe('fromPlain', () => {
  it('converts ordinary values', () => {
    const v = fromPlain({ a: [1, 2.5, -0, null, true, 'x'], b: 10n ** 30n, c: new JsonNumber('1.0') });
    expect(v).toEqual(
      new Map<string, JsonValue>([
        ['a', [new JsonNumber('1'), new JsonNumber('2.5'), new JsonNumber('-0'), null, true, 'x']],
        ['b', new JsonNumber('1000000000000000000000000000000')],
        ['c', new JsonNumber('1.0')],
      ]),
    );
  });

  it('accepts Maps with string keys and own __proto__ properties', () => {
    expect(fromPlain(new Map([['k', 'v']]))).toEqual(new Map([['k', 'v']]));
    const o = JSON.parse('{"__proto__": 1}') as unknown;
    expect(fromPlain(o)).toEqual(new Map([['__proto__', new JsonNumber('1')]]));
  });

  it('refuses what JSON cannot hold, instead of dropping it', () => {
    expect(() => fromPlain({ a: undefined })).toThrow(/\$\.a: a undefined has no JSON form/);
    expect(() => fromPlain([() => 1])).toThrow(TypeError);
    expect(() => fromPlain(Symbol('s'))).toThrow(TypeError);
    expect(() => fromPlain(new Map([[1, 'x']]))).toThrow(/not a string/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => fromPlain(cyclic)).toThrow(/circular/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(toPlain(fromPlain([shared, shared]))).toEqual([{ x: 1 }, { x: 1 }]);
  });
});
