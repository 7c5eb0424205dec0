import { describe, expect, it } from 'vitest';
import { compileGlob, hasGlob } from '../../src/codebank/glob.js';

describe('compileGlob', () => {
  // pattern, path relative to the cwd, matches?
  const table: Array<[string, string, boolean]> = [
    ['*.py', 'a.py', true],
    ['*.py', 'dir/a.py', false],
    ['*.py', '.hidden.py', false],
    ['.*.py', '.hidden.py', true],
    ['a?.py', 'ab.py', true],
    ['a?.py', 'a/.py', false],
    ['a?.py', 'abc.py', false],
    ['agents/**/*.py', 'agents/x.py', true],
    ['agents/**/*.py', 'agents/a/b/x.py', true],
    ['agents/**/*.py', 'agents/.git/x.py', false],
    ['agents/**/*.py', 'other/x.py', false],
    ['agents/**', 'agents/a/b/c.txt', true],
    ['**/utils.py', 'a/b/utils.py', true],
    ['**/utils.py', 'utils.py', true],
    ['src/*/index.ts', 'src/cli/index.ts', true],
    ['src/*/index.ts', 'src/cli/sub/index.ts', false],
    ['a+b(c)[d]/*.js', 'a+b(c)[d]/x.js', true],
    ['*', 'x', true],
  ];
  it.each(table)('%s against %s → %s', (pattern, path, expected) => {
    const g = compileGlob(pattern, '/work');
    const abs = `/work/${path}`;
    const inside = abs.startsWith(`${g.base}/`);
    expect(inside && g.matches(abs.slice(g.base.length + 1))).toBe(expected);
  });

  it('splits off the static folder the walk starts from', () => {
    expect(compileGlob('agents/recon/**/*.py', '/w')).toMatchObject({ base: '/w/agents/recon', rest: '**/*.py', deep: true });
    expect(compileGlob('/srv/x/*.py', '/w')).toMatchObject({ base: '/srv/x', rest: '*.py', deep: false, depth: 1 });
    expect(compileGlob('*/*.py', '/w')).toMatchObject({ base: '/w', rest: '*/*.py', depth: 2 });
  });

  it('knows a pattern from a path', () => {
    expect(hasGlob('a/*.py')).toBe(true);
    expect(hasGlob('a/b?.py')).toBe(true);
    expect(hasGlob('a/b.py')).toBe(false);
  });
});
