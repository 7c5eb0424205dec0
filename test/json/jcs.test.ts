import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalize, keysSortedDeep } from '../../src/json/jcs.js';
import { FIXTURES } from '../support/cli.js';

// RFC 8785 test data from cyberphone/json-canonicalization (copied from shared/vectors/jcs).
const VECTORS = join(FIXTURES, 'vectors/jcs');

describe('RFC 8785 canonicalization against the reference test data', () => {
  const names = readdirSync(join(VECTORS, 'input')).filter((f) => f.endsWith('.json'));
  it('has all six reference cases', () => {
    expect(names.sort()).toEqual(['arrays.json', 'french.json', 'structures.json', 'unicode.json', 'values.json', 'weird.json']);
  });
  for (const name of names) {
    it(`canonicalizes ${name} to the exact expected bytes`, () => {
      const input = JSON.parse(readFileSync(join(VECTORS, 'input', name), 'utf8')) as unknown;
      const expected = readFileSync(join(VECTORS, 'output', name));
      const hex = readFileSync(join(VECTORS, 'outhex', name.replace('.json', '.txt')), 'utf8').replace(/\s+/g, '');
      const actual = Buffer.from(canonicalize(input), 'utf8');
      expect(actual.toString('hex')).toBe(hex);
      expect(actual.equals(expected)).toBe(true);
    });
  }
});

describe('canonicalize', () => {
  it('sorts keys by UTF-16 code units, not code points', () => {
    // U+E000 sorts after the surrogate pair of U+1F600 in UTF-16 order.
    expect(canonicalize({ '\ue000': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ue000":1}');
  });
  it('keeps __proto__ as an ordinary key', () => {
    const value = JSON.parse('{"b":1,"__proto__":{"x":1}}') as unknown;
    expect(canonicalize(value)).toBe('{"__proto__":{"x":1},"b":1}');
  });
  it('formats numbers as ECMAScript does', () => {
    expect(canonicalize([-0, 1e21, 1e-7, 0.1, 1.5e300, 123456789012345680000])).toBe('[0,1e+21,1e-7,0.1,1.5e+300,123456789012345680000]');
  });
  it('refuses values JSON cannot hold', () => {
    expect(() => canonicalize(Number.NaN)).toThrow(/cannot be represented/);
    expect(() => canonicalize({ a: undefined })).toThrow(/undefined/);
    expect(() => canonicalize(10n)).toThrow(/bigint/);
  });
  it('detects unsorted keys at any depth', () => {
    expect(keysSortedDeep({ a: 1, b: [{ c: 1, d: 2 }] })).toBe(true);
    expect(keysSortedDeep({ a: 1, b: [{ d: 1, c: 2 }] })).toBe(false);
    expect(keysSortedDeep({ b: 1, a: 2 })).toBe(false);
  });
});
