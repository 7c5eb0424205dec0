import { describe, expect, it } from 'vitest';
import {
  nameFromFolder,
  nameFromLocation,
  parentLocation,
  parseLocation,
  workspaceMatcher,
} from '../../src/guard/lockfile-path.js';

describe('parseLocation', () => {
  it.each([
    ['node_modules/a', '', ['a']],
    ['node_modules/@s/b', '', ['@s/b']],
    ['node_modules/a/node_modules/@s/b/node_modules/c', '', ['a', '@s/b', 'c']],
    ['packages/a/node_modules/ms', 'packages/a', ['ms']],
    ['../sibling/node_modules/x', '../sibling', ['x']],
    ['packages/a', 'packages/a', []],
    ['../../lib', '../../lib', []],
  ])('reads %s', (key, folder, names) => {
    const location = parseLocation(key);
    expect(location.problem).toBeUndefined();
    expect(location.folder).toBe(folder);
    expect(location.names).toEqual(names);
    expect(location.name).toBe(names[names.length - 1] ?? '');
  });

  it.each([
    ['node_modules/../../etc', 'PATH_TRAVERSAL'],
    ['node_modules/a/../../../etc/passwd', 'PATH_TRAVERSAL'],
    ['packages/../../x', 'PATH_TRAVERSAL'],
    ['node_modules/@s/../../x', 'PATH_TRAVERSAL'],
    ['node_modules\\..\\..\\x', 'PATH_TRAVERSAL'],
    ['/etc/passwd', 'PATH_TRAVERSAL'],
    ['/node_modules/a', 'PATH_TRAVERSAL'],
    ['C:/Windows/node_modules/a', 'PATH_TRAVERSAL'],
    ['\\\\server\\share', 'PATH_TRAVERSAL'],
    ['node_modules\\a', 'PATH_INVALID'],
    ['node_modules//a', 'PATH_INVALID'],
    ['node_modules/./a', 'PATH_INVALID'],
    ['node_modules/a/', 'PATH_INVALID'],
    ['node_modules', 'PATH_INVALID'],
    ['node_modules/@scope', 'PATH_INVALID'],
    ['node_modules/a/b', 'PATH_INVALID'],
    ['node_modules/a\nb', 'PATH_INVALID'],
  ])('rejects %j with %s', (key, code) => {
    expect(parseLocation(key).problem?.code).toBe(code);
  });

  it('still names a malformed location after its last node_modules/', () => {
    expect(parseLocation('node_modules/../../etc').name).toBe('../../etc');
    expect(nameFromLocation('x/node_modules/@s/b')).toBe('@s/b');
    expect(nameFromLocation('packages/a')).toBe('');
  });

  it('names folders as npm does', () => {
    expect(nameFromFolder('packages/a')).toBe('a');
    expect(nameFromFolder('packages/@fixture/a')).toBe('@fixture/a');
    expect(nameFromFolder('lib')).toBe('lib');
  });

  it('finds where a package is required from', () => {
    expect(parentLocation('node_modules/a', 'a')).toBe('');
    expect(parentLocation('node_modules/a/node_modules/@s/b', '@s/b')).toBe('node_modules/a');
    expect(parentLocation('packages/a/node_modules/ms', 'ms')).toBe('packages/a');
  });
});

describe('workspaceMatcher', () => {
  it.each([
    [['packages/*'], 'packages/a', true],
    [['packages/*'], 'packages/a/b', false],
    [['./packages/*/'], 'packages/a', true],
    [['packages/**'], 'packages/a/b', true],
    [['**/tools'], 'x/y/tools', true],
    [['apps/web'], 'apps/web', true],
    [['apps/web'], 'apps/webx', false],
    [['{apps,libs}/*'], 'libs/x', true],
    [['packages/a?'], 'packages/ab', true],
    [['packages/*', '!packages/secret'], 'packages/secret', false],
    [['packages/*', '!packages/secret'], 'packages/open', true],
    [[], 'packages/a', false],
    [['[ab]'], 'a', false],
  ])('%j matches %s: %s', (patterns, folder, expected) => {
    expect(workspaceMatcher(patterns)(folder)).toBe(expected);
  });

  it('stays fast on patterns made to backtrack', () => {
    const pattern = `${'**/'.repeat(40)}${'*a'.repeat(40)}b`;
    const folder = `${'x/'.repeat(200)}${'a'.repeat(2000)}`;
    const start = performance.now();
    expect(workspaceMatcher([pattern])(folder)).toBe(false);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
