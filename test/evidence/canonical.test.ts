import { describe, expect, it } from 'vitest';
import { canonicalJson, classifyPayloadJson } from '../../src/evidence/canonical.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ path: '/', method: 'GET', headers: { 'x-b': '1', 'x-a': '2' }, list: [{ z: 1, y: 2 }] })).toBe(
      '{"headers":{"x-a":"2","x-b":"1"},"list":[{"y":2,"z":1}],"method":"GET","path":"/"}',
    );
  });

  it('puts integer-like keys first in numeric order, as Tracehound’s JSON.stringify does (unlike RFC 8785)', () => {
    expect(canonicalJson({ b: 1, '10': 2, '2': 3, a: 4 })).toBe('{"2":3,"10":2,"a":4,"b":1}');
  });

  it('keeps a "__proto__" key as data', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"a":1}') as object;
    expect(canonicalJson(value)).toBe('{"__proto__":{"x":1},"a":1}');
  });
});

describe('classifyPayloadJson', () => {
  it.each([
    ['{"a":1,"b":[true,null,"é"]}', 'canonical'],
    ['"just a string"', 'canonical'],
    ['{"2":1,"10":2}', 'canonical'],
    ['{"10":2,"2":1}', 'not-canonical'],
    ['{"a":1,"a":2}', 'not-canonical'],
    ['{"a":1.0}', 'not-canonical'],
    ['{"a":"\\u00e9"}', 'not-canonical'],
    ['{"a":1}\n', 'not-canonical'],
    ['{"a":', 'invalid'],
    ['\ufeff{"a":1}', 'invalid'],
    ['', 'invalid'],
  ])('%j is %s', (text, expected) => {
    expect(classifyPayloadJson(bytes(text))).toBe(expected);
  });

  it('rejects malformed UTF-8 instead of replacing it', () => {
    expect(classifyPayloadJson(Buffer.from([0x22, 0xc3, 0x28, 0x22]))).toBe('invalid');
  });

  it('survives nesting too deep to re-serialize', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(['not-canonical', 'invalid']).toContain(classifyPayloadJson(bytes(deep)));
  });
});
