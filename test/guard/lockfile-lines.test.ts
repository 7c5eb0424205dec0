import { describe, expect, it } from 'vitest';
import { scanLockfileLines } from '../../src/guard/lockfile-lines.js';

describe('scanLockfileLines', () => {
  it('records the keys of "packages" and nothing nested in them', () => {
    const text = [
      '{',
      '  "packages": {',
      '    "": { "name": "root" },',
      '    "node_modules/a": {',
      '      "dependencies": { "node_modules/fake": "1" }',
      '    },',
      '    "node_modules/b": {}',
      '  }',
      '}',
    ].join('\n');
    const lines = scanLockfileLines(text, 100);
    expect([...lines.packages]).toEqual([
      ['', 3],
      ['node_modules/a', 4],
      ['node_modules/b', 7],
    ]);
  });

  it('records the v1 tree at every level', () => {
    const text = JSON.stringify(
      { dependencies: { a: { version: '1', dependencies: { b: { version: '2', dependencies: { c: {} } } } }, d: {} } },
      null,
      2,
    );
    const lines = scanLockfileLines(text, 100);
    const a = lines.dependencies.get('a');
    const b = a?.dependencies.get('b');
    const c = b?.dependencies.get('c');
    const textLines = text.split('\n');
    expect(textLines[(a?.line ?? 0) - 1]).toContain('"a": {');
    expect(textLines[(b?.line ?? 0) - 1]).toContain('"b": {');
    expect(textLines[(c?.line ?? 0) - 1]).toContain('"c": {}');
    expect(textLines[(lines.dependencies.get('d')?.line ?? 0) - 1]).toContain('"d": {}');
  });

  it('ignores "packages" and "dependencies" that are not at the top', () => {
    const text = '{"x": {"packages": {"node_modules/a": {}}, "dependencies": {"a": {}}}}';
    const lines = scanLockfileLines(text, 100);
    expect(lines.packages.size).toBe(0);
    expect(lines.dependencies.size).toBe(0);
  });

  it('decodes escaped keys and skips braces and quotes inside strings', () => {
    const text = '{\n"packages": {\n"node_modules/\\u0061": {"x": "{[\\"}]"},\n"node_modules/\\"q\\\\": {}\n}\n}';
    expect(JSON.parse(text)).toBeTruthy();
    const lines = scanLockfileLines(text, 100);
    expect([...lines.packages]).toEqual([
      ['node_modules/a', 3],
      ['node_modules/"q\\', 4],
    ]);
  });

  it('lets a duplicate key win as JSON.parse does', () => {
    const text = '{\n"dependencies": {\n"a": {"dependencies": {"x": {}}},\n"a": {}\n}\n}';
    const lines = scanLockfileLines(text, 100);
    expect(lines.dependencies.get('a')?.line).toBe(4);
    expect(lines.dependencies.get('a')?.dependencies.size).toBe(0);
  });

  it('stops past the nesting limit', () => {
    const deep = '['.repeat(50) + ']'.repeat(50);
    expect(scanLockfileLines(deep, 49).tooDeep).toBe(true);
    expect(scanLockfileLines(deep, 50).tooDeep).toBe(false);
  });
});
