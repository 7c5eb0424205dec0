import { describe, expect, it } from 'vitest';
import { checkPackageName, isScoped } from '../../src/guard/package-name.js';

describe('checkPackageName', () => {
  it.each([
    'ms',
    'left-pad',
    'is-number',
    '@types/ms',
    '@isaacs/string-locale-compare',
    'a',
    'a.b_c-d',
    'constructor',
    'events', // a core module name, and an ordinary registry package
    'x'.repeat(214),
  ])('accepts %s', (name) => {
    expect(checkPackageName(name)).toEqual({ errors: [], legacy: [] });
  });

  it.each([
    ['', 'name is empty'],
    ['.hidden', 'cannot start with a period'],
    ['_private', 'cannot start with an underscore'],
    ['-dash', 'cannot start with a hyphen'],
    [' padded', 'leading or trailing spaces'],
    ['node_modules', 'node_modules is not a valid package name'],
    ['favicon.ico', 'favicon.ico is not a valid package name'],
    ['a/b', 'URL-friendly'],
    ['a b', 'URL-friendly'],
    ['../../etc', 'cannot start with a period'],
    ['@scope/.hidden', 'cannot start with a period'],
    ['@scope/a/b', 'URL-friendly'],
    ['@scope/', 'URL-friendly'],
    ['@/x', 'URL-friendly'],
    ['@sc ope/x', 'URL-friendly'],
    ['caf\u00e9', 'URL-friendly'],
    ['a\u0000b', 'URL-friendly'],
    ['__proto__', 'cannot start with an underscore'],
  ])('rejects %j (%s)', (name, reason) => {
    const { errors } = checkPackageName(name);
    expect(errors.join('; ')).toContain(reason);
  });

  it.each([
    ['JSONStream', 'capital letters'],
    ['x'.repeat(215), 'longer than 214'],
    ["it's", 'special characters'],
    ['@scope/Upper', 'capital letters'],
  ])('marks %s as legacy (%s), not invalid', (name, reason) => {
    const result = checkPackageName(name);
    expect(result.errors).toEqual([]);
    expect(result.legacy.join('; ')).toContain(reason);
  });

  it('tells scoped names', () => {
    expect(isScoped('@types/ms')).toBe(true);
    expect(isScoped('ms')).toBe(false);
  });
});
