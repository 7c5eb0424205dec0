import { describe, expect, it } from 'vitest';
import { parseSignature, parseSignatureName, signatureFileName } from '../../src/evidence/signature.js';

const hash = '78750349b65b98d77c1798427c1474f56138259b8bf641d71473252d0ea3492f';

describe('parseSignatureName', () => {
  it.each([
    [`injection:${hash}.thcs`, { category: 'injection', hash, separator: ':' }],
    [`ddos_${hash}.thcs`, { category: 'ddos', hash, separator: '_' }],
    [`flood%3A${hash}.thcs`, { category: 'flood', hash, separator: '%3A' }],
    [`flood%3a${hash}.thcs`, { category: 'flood', hash, separator: '%3A' }],
    [`credential-stuffing:${hash}.thcs`, { category: 'credential-stuffing', hash, separator: ':' }],
    [`bot2:${hash}.thcs`, { category: 'bot2', hash, separator: ':' }],
  ])('%s', (name, expected) => {
    expect(parseSignatureName(name)).toEqual(expected);
  });

  it.each([
    ['no category', `:${hash}.thcs`],
    ['uppercase category', `Spam:${hash}.thcs`],
    ['uppercase hash', `spam:${hash.toUpperCase()}.thcs`],
    ['short hash', `spam:${hash.slice(2)}.thcs`],
    ['long hash', `spam:${hash}00.thcs`],
    ['other extension', `spam:${hash}.json`],
    ['no extension', `spam:${hash}`],
    ['a path', `../spam:${hash}.thcs`],
    ['underscore inside the category', `sql_injection:${hash}.thcs`],
    ['an escape in the category', `\x1b[31m:${hash}.thcs`],
    ['a category too long', `${'a'.repeat(65)}:${hash}.thcs`],
    ['two separators', `spam::${hash}.thcs`],
  ])('rejects %s', (_what, name) => {
    expect(parseSignatureName(name)).toBeNull();
  });
});

describe('parseSignature', () => {
  it('parses the signature string and round-trips to the file name', () => {
    const sig = parseSignature(`malware:${hash}`);
    expect(sig).toEqual({ category: 'malware', hash });
    expect(signatureFileName(sig!)).toBe(`malware:${hash}.thcs`);
  });

  it('accepts no stand-ins for ":" in a signature string', () => {
    expect(parseSignature(`malware_${hash}`)).toBeNull();
    expect(parseSignature(`malware%3A${hash}`)).toBeNull();
  });
});
