import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandArg, toLabel } from '../../src/codebank/walk.js';
import { bankExclusions } from '../../src/codebank/bank.js';
import { tempDir } from '../support/cli.js';

const tmp = tempDir('stax-walk-');
afterAll(() => tmp.cleanup());
const root = tmp.path;

function tree(files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}
tree({ 'a/x.py': '1', 'a/b/y.py': '2', 'a/b/.hidden.py': '3', 'a/b/c/z.txt': '4', '.stax/codebank.jsonl': '{}', 'top.py': '5' });
symlinkSync('..', join(root, 'a/b/up'));           // a loop once followed
symlinkSync('x.py', join(root, 'a/alias.py'));
execFileSync('mkfifo', [join(root, 'a/pipe')]);

const rels = (paths: Array<{ path: string }>): string[] => paths.map((p) => relative(root, p.path));

describe('expandArg', () => {
  const exclude = bankExclusions(join(root, '.stax/codebank.jsonl'), root);

  it('walks a folder in name order, lists links as links and skips FIFOs with a reason', () => {
    const e = expandArg('a', root, { followSymlinks: false, exclude });
    expect(e.kind).toBe('folder');
    expect(rels(e.files)).toEqual(['a/alias.py', 'a/b/.hidden.py', 'a/b/c/z.txt', 'a/b/up', 'a/b/y.py', 'a/x.py']);
    expect(e.files.find((f) => f.path.endsWith('up'))?.type).toBe('symlink');
    expect(e.skipped).toEqual([{ path: join(root, 'a/pipe'), kind: 'special', reason: expect.stringMatching(/fifo/) }]);
  });

  it('follows links when told, and stops at a link back to a folder being walked', () => {
    const e = expandArg('a', root, { followSymlinks: true, exclude });
    expect(rels(e.files)).toContain('a/alias.py');
    expect(e.files.every((f) => f.type === 'file')).toBe(true);
    expect(e.skipped).toContainEqual({ path: join(root, 'a/b/up'), kind: 'loop', reason: expect.stringMatching(/loop/) });
  });

  it('leaves out the bank and .stax/ when walking the root', () => {
    const e = expandArg('.', root, { followSymlinks: false, exclude });
    expect(rels(e.files).some((p) => p.startsWith('.stax'))).toBe(false);
    expect(rels(e.files)).toContain('top.py');
  });

  it('expands globs itself, without dotfiles unless asked', () => {
    expect(rels(expandArg('a/**/*.py', root, { followSymlinks: false }).files)).toEqual(['a/alias.py', 'a/b/y.py', 'a/x.py']);
    expect(rels(expandArg('a/*/*.py', root, { followSymlinks: false }).files)).toEqual(['a/b/y.py']);
    expect(rels(expandArg('**/.*.py', root, { followSymlinks: false }).files)).toEqual(['a/b/.hidden.py']);
    expect(expandArg('nope/*.py', root, { followSymlinks: false }).files).toEqual([]);
    expect(expandArg('nope.py', root, { followSymlinks: false }).kind).toBe('missing');
  });

  it('labels are POSIX paths relative to the root', () => {
    expect(toLabel(root, join(root, 'a', 'b', 'y.py'))).toBe('a/b/y.py');
    expect(toLabel(join(root, 'a'), join(root, 'top.py'))).toBe('../top.py');
  });
});
