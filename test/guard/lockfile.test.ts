import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaxError } from '../../src/errors.js';
import {
  findLockfile,
  parseLockfile,
  readLockfile,
  type LockedPackage,
  type Lockfile,
  type LockfileProblemCode,
} from '../../src/guard/lockfile.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/lockfiles/', import.meta.url));
const NPM_WRITTEN = [
  'v3-resolved.package-lock.json',
  'v3-no-resolved.package-lock.json',
  'v2-resolved.package-lock.json',
  'v1.package-lock.json',
  'npm-shrinkwrap.json',
];
const HAND_EDITED = ['v3-git.package-lock.json', 'v2-git.package-lock.json', 'v1-git.package-lock.json'];

const load = (name: string): Promise<Lockfile> => readLockfile(join(FIXTURES, name));

function pkg(lock: Lockfile, path: string): LockedPackage {
  const found = lock.packages.find((p) => p.path === path);
  if (found === undefined) throw new Error(`no package at ${path}`);
  return found;
}

function problems(lock: Lockfile): Array<[LockfileProblemCode, string]> {
  return lock.problems.map((p) => [p.code, p.path]);
}

/** The StaxError that `fn` throws. */
function thrown(fn: () => unknown): StaxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StaxError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

async function rejected(promise: Promise<unknown>): Promise<StaxError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StaxError) return err;
    throw err;
  }
  throw new Error('did not reject');
}

const INTEGRITY = `sha512-${'A'.repeat(86)}==`;

/** A registry entry as npm writes it. */
function reg(name: string, version: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return {
    version,
    resolved: `https://registry.npmjs.org/${name}/-/${base}-${version}.tgz`,
    integrity: INTEGRITY,
    ...extra,
  };
}

/** A v3 lockfile with these entries beside the root, as npm formats it. */
function v3(packages: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  const root = { name: 'app', version: '1.0.0' };
  return JSON.stringify(
    { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': root, ...packages }, ...top },
    null,
    2,
  );
}

function v1(dependencies: Record<string, unknown>): string {
  return JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 1, requires: true, dependencies }, null, 2);
}

describe('npm-written lockfiles', () => {
  it('reads a v3 lockfile with resolved URLs', async () => {
    const lock = await load('v3-resolved.package-lock.json');
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.name).toBe('stax-lockfile-fixture');
    expect(lock.version).toBe('1.0.0');
    expect(lock.problems).toEqual([]);
    expect(lock.workspaces).toEqual(['packages/a', 'packages/b']);
    expect(lock.root).toMatchObject({
      name: 'stax-lockfile-fixture',
      line: 7,
      workspaces: ['packages/*'],
      bundleDependencies: ['left-pad'],
      devDependencies: { '@types/ms': '0.7.34', 'is-odd': '0.1.2' },
      optionalDependencies: { fsevents: '2.3.3', 'is-even': '1.0.0' },
    });
    expect(lock.root.dependencies?.lp).toBe('npm:left-pad@1.2.0');
    expect(lock.packages).toHaveLength(27);

    expect(pkg(lock, 'node_modules/ms')).toEqual({
      path: 'node_modules/ms',
      name: 'ms',
      version: '2.1.3',
      source: 'registry',
      resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz',
      resolvedMissing: false,
      integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      registryHost: 'registry.npmjs.org',
      dev: false,
      optional: false,
      devOptional: false,
      peer: false,
      bundled: false,
      inBundle: false,
      hasInstallScript: false,
      line: 178,
    });
    expect(pkg(lock, 'node_modules/@types/ms')).toMatchObject({ name: '@types/ms', version: '0.7.34', dev: true });
    expect(pkg(lock, 'node_modules/lp')).toMatchObject({
      name: 'left-pad',
      alias: 'lp',
      version: '1.2.0',
      source: 'registry',
      resolved: 'https://registry.npmjs.org/left-pad/-/left-pad-1.2.0.tgz',
    });
    expect(pkg(lock, 'node_modules/left-pad').alias).toBeUndefined();
    expect(pkg(lock, 'node_modules/fsevents')).toMatchObject({ optional: true, dev: false });
    expect(pkg(lock, 'node_modules/is-odd')).toMatchObject({ devOptional: true, dev: false, optional: false });
    expect(pkg(lock, 'node_modules/is-odd/node_modules/is-number')).toMatchObject({
      version: '3.0.0',
      devOptional: true,
    });
    expect(pkg(lock, 'node_modules/react')).toMatchObject({ peer: true, version: '18.3.1' });
  });

  it("tells the project's bundle from a dependency's", async () => {
    const lock = await load('v3-resolved.package-lock.json');
    // Bundled by the project: still fetched from the registry, with resolved and integrity.
    expect(pkg(lock, 'node_modules/left-pad')).toMatchObject({ inBundle: true, bundled: false, source: 'registry' });
    expect(pkg(lock, 'node_modules/left-pad').resolved).toBeDefined();
    // Inside with-bundle's tarball: nothing to fetch, no resolved, and not "missing" one.
    const inside = pkg(lock, 'node_modules/with-bundle/node_modules/ms');
    expect(inside).toMatchObject({ inBundle: true, bundled: true, version: '2.1.2', resolvedMissing: false });
    expect(inside.resolved).toBeUndefined();
    expect(inside.integrity).toBeUndefined();
  });

  it('reads file:, remote, link and workspace entries', async () => {
    const lock = await load('v3-resolved.package-lock.json');
    expect(pkg(lock, 'node_modules/local-tarball')).toMatchObject({
      source: 'file',
      version: '1.0.0',
      resolved: 'file:vendor/local-tarball-1.0.0.tgz',
    });
    expect(pkg(lock, 'node_modules/local-tarball').registryHost).toBeUndefined();
    expect(pkg(lock, 'node_modules/remote-pkg')).toMatchObject({
      source: 'remote',
      version: '1.0.0',
      resolved: 'http://127.0.0.1:48213/remote-pkg-1.0.0.tgz',
      registryHost: '127.0.0.1:48213',
    });
    expect(pkg(lock, 'node_modules/local-folder')).toMatchObject({
      source: 'link',
      version: '',
      resolved: 'vendor/local-folder',
    });
    expect(pkg(lock, 'vendor/local-folder')).toMatchObject({
      source: 'file',
      name: 'local-folder',
      version: '2.0.0',
      hasInstallScript: true,
    });
    expect(pkg(lock, 'node_modules/@fixture/a')).toMatchObject({
      source: 'link',
      name: '@fixture/a',
      resolved: 'packages/a',
    });
    expect(pkg(lock, 'packages/a')).toMatchObject({ source: 'workspace', name: '@fixture/a', version: '0.1.0' });
    expect(pkg(lock, 'packages/b')).toMatchObject({ source: 'workspace', name: 'ws-b', version: '' });
    expect(pkg(lock, 'packages/a/node_modules/ms')).toMatchObject({ source: 'registry', version: '2.0.0' });
  });

  it('reads a v3 lockfile without resolved URLs, saying so', async () => {
    const lock = await load('v3-no-resolved.package-lock.json');
    expect(lock.problems).toEqual([]);
    const registry = lock.packages.filter((p) => p.source === 'registry');
    expect(registry.length).toBe(18);
    for (const p of registry) {
      expect(p.resolved, p.path).toBeUndefined();
      expect(p.registryHost, p.path).toBeUndefined();
      // Only what comes inside a dependency's tarball is not fetched from the registry.
      expect(p.resolvedMissing, p.path).toBe(!p.bundled);
      if (!p.bundled) expect(p.integrity, p.path).toMatch(/^sha512-/);
    }
    // npm keeps resolved for what does not come from the registry.
    expect(pkg(lock, 'node_modules/remote-pkg')).toMatchObject({ source: 'remote', resolvedMissing: false });
    expect(pkg(lock, 'node_modules/local-tarball')).toMatchObject({ source: 'file', resolvedMissing: false });
    expect(pkg(lock, 'node_modules/lp')).toMatchObject({ name: 'left-pad', alias: 'lp', resolvedMissing: true });
  });

  it('finds the same packages with and without resolved URLs', async () => {
    const [a, b] = await Promise.all([load('v3-resolved.package-lock.json'), load('v3-no-resolved.package-lock.json')]);
    const key = (p: LockedPackage): string => `${p.path} ${p.name} ${p.version} ${p.source} ${p.integrity ?? ''}`;
    expect(b.packages.map(key)).toEqual(a.packages.map(key));
  });

  it('reads a v2 lockfile as its v3 twin, and its two trees agree', async () => {
    const [two, three] = await Promise.all([
      load('v2-resolved.package-lock.json'),
      load('v3-resolved.package-lock.json'),
    ]);
    expect(two.lockfileVersion).toBe(2);
    expect(two.problems).toEqual([]);
    const withoutLine = ({ line: _line, ...rest }: LockedPackage): Omit<LockedPackage, 'line'> => rest;
    expect(two.packages.map(withoutLine)).toEqual(three.packages.map(withoutLine));
    expect(two.workspaces).toEqual(three.workspaces);
  });

  it('reads a v1 lockfile written by npm 6', async () => {
    const lock = await load('v1.package-lock.json');
    expect(lock.lockfileVersion).toBe(1);
    expect(lock.problems).toEqual([]);
    expect(lock.root).toEqual({ name: 'stax-lockfile-fixture', version: '1.0.0', line: 1, workspaces: [] });
    expect(lock.workspaces).toEqual([]);
    expect(lock.packages.map((p) => p.path)).toEqual([
      'node_modules/@isaacs/string-locale-compare',
      'node_modules/@types/ms',
      'node_modules/fsevents',
      'node_modules/is-buffer',
      'node_modules/is-even',
      'node_modules/is-number',
      'node_modules/is-odd',
      'node_modules/is-odd/node_modules/is-number',
      'node_modules/kind-of',
      'node_modules/left-pad',
      'node_modules/local-folder',
      'node_modules/local-tarball',
      'node_modules/lp',
      'node_modules/ms',
      'node_modules/remote-pkg',
      'node_modules/use-sync-external-store',
      'node_modules/with-bundle',
      'node_modules/with-bundle/node_modules/ms',
    ]);
    for (const p of lock.packages) {
      expect(p.hasInstallScript, p.path).toBeUndefined();
      expect(p.peer || p.devOptional, p.path).toBe(false);
    }
    expect(pkg(lock, 'node_modules/@types/ms')).toMatchObject({ dev: true, line: 12 });
    expect(pkg(lock, 'node_modules/fsevents')).toMatchObject({ optional: true });
    expect(pkg(lock, 'node_modules/lp')).toMatchObject({
      name: 'left-pad',
      alias: 'lp',
      version: '1.2.0',
      source: 'registry',
      registryHost: 'registry.npmjs.org',
    });
    expect(pkg(lock, 'node_modules/is-odd/node_modules/is-number')).toMatchObject({ version: '3.0.0', line: 51 });
    expect(pkg(lock, 'node_modules/with-bundle/node_modules/ms')).toMatchObject({
      bundled: true,
      inBundle: true,
      resolvedMissing: false,
      line: 107,
    });
    // v1 writes the spec where the version would be: the spec goes to resolved.
    expect(pkg(lock, 'node_modules/local-folder')).toMatchObject({
      source: 'link',
      version: '',
      resolved: 'vendor/local-folder',
    });
    expect(pkg(lock, 'node_modules/local-tarball')).toMatchObject({
      source: 'file',
      version: '',
      resolved: 'file:vendor/local-tarball-1.0.0.tgz',
      integrity: expect.stringMatching(/^sha512-/) as unknown,
    });
    expect(pkg(lock, 'node_modules/remote-pkg')).toMatchObject({
      source: 'remote',
      version: '',
      resolved: 'http://127.0.0.1:48213/remote-pkg-1.0.0.tgz',
      registryHost: '127.0.0.1:48213',
    });
  });

  it('agrees with v3 on the registry packages both versions lock', async () => {
    const [one, three] = await Promise.all([load('v1.package-lock.json'), load('v3-resolved.package-lock.json')]);
    for (const old of one.packages.filter((p) => p.source === 'registry')) {
      const current = pkg(three, old.path);
      expect([current.name, current.version, current.resolved, current.integrity], old.path).toEqual([
        old.name,
        old.version,
        old.resolved,
        old.integrity,
      ]);
    }
  });

  it('reads an npm-shrinkwrap.json', async () => {
    const lock = await load('npm-shrinkwrap.json');
    expect(lock.file).toBe(join(FIXTURES, 'npm-shrinkwrap.json'));
    expect(lock.packages).toEqual([
      expect.objectContaining({ path: 'node_modules/ms', version: '2.1.3', source: 'registry', line: 14 }),
    ]);
  });

  it('reads git dependencies in all three versions', async () => {
    const [three, two, one] = await Promise.all(HAND_EDITED.map(load));
    const url = 'git+ssh://git@github.com/stax-fixtures/gitdep.git#0123456789abcdef0123456789abcdef01234567';
    for (const lock of [three, two]) {
      expect(lock?.problems).toEqual([]);
      expect(pkg(lock as Lockfile, 'node_modules/gitdep')).toMatchObject({
        name: 'gitdep',
        version: '1.0.0',
        source: 'git',
        resolved: url,
        resolvedMissing: false,
      });
    }
    expect(one?.problems).toEqual([]);
    expect(pkg(one as Lockfile, 'node_modules/gitdep')).toMatchObject({
      source: 'git',
      version: '',
      resolved: 'github:stax-fixtures/gitdep#0123456789abcdef0123456789abcdef01234567',
    });
  });

  it.each([...NPM_WRITTEN, ...HAND_EDITED])('gives each package of %s the line of its key', async (name) => {
    const lock = await load(name);
    const lines = (await readFile(join(FIXTURES, name), 'utf8')).split('\n');
    expect(lock.packages.length).toBeGreaterThan(0);
    for (const p of lock.packages) {
      const key = lock.lockfileVersion === 1 ? p.path.slice(p.path.lastIndexOf('node_modules/') + 13) : p.path;
      expect(lines[p.line - 1], `${name} ${p.path}`).toBe(
        `${' '.repeat(lines[p.line - 1]?.search(/\S/) ?? 0)}"${key}": {`,
      );
    }
  });
});

describe('findLockfile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stax-findlock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers npm-shrinkwrap.json as npm does', async () => {
    const err = await rejected(findLockfile(dir));
    expect(err.code).toBe('FILE_NOT_FOUND');
    await writeFile(join(dir, 'package-lock.json'), v3({}));
    expect(await findLockfile(dir)).toBe(join(dir, 'package-lock.json'));
    await writeFile(join(dir, 'npm-shrinkwrap.json'), v3({}));
    expect(await findLockfile(dir)).toBe(join(dir, 'npm-shrinkwrap.json'));
  });
});

describe('a lockfile that cannot be used', () => {
  it.each([
    [
      'says 3 but has only dependencies',
      JSON.stringify({ lockfileVersion: 3, dependencies: { a: { version: '1.0.0' } } }),
      /lockfileVersion 3 but has only the version 1 "dependencies"/,
    ],
    ['says 2 but has neither tree', JSON.stringify({ lockfileVersion: 2 }), /lockfileVersion 2 but has no "packages"/],
    [
      'says 1 but has packages',
      JSON.stringify({ lockfileVersion: 1, packages: { '': {} } }),
      /lockfileVersion 1 but has a "packages" object/,
    ],
    [
      'says 3 but has both trees',
      JSON.stringify({ lockfileVersion: 3, packages: { '': {} }, dependencies: {} }),
      /lockfileVersion 3 but also has the version 1 "dependencies"/,
    ],
    ['has no lockfileVersion', JSON.stringify({ name: 'x', packages: {} }), /no "lockfileVersion"/],
    ['has lockfileVersion 4', JSON.stringify({ lockfileVersion: 4, packages: {} }), /unsupported lockfileVersion 4 /],
    [
      'has lockfileVersion "3"',
      JSON.stringify({ lockfileVersion: '3', packages: {} }),
      /unsupported lockfileVersion "3"/,
    ],
    ['has lockfileVersion 0', JSON.stringify({ lockfileVersion: 0 }), /unsupported lockfileVersion 0/],
    [
      'has lockfileVersion 2.5',
      JSON.stringify({ lockfileVersion: 2.5, packages: {} }),
      /unsupported lockfileVersion 2.5/,
    ],
    ['is an array', '[]', /top level is an array/],
    ['is null', 'null', /top level is null/],
    ['has packages as an array', JSON.stringify({ lockfileVersion: 3, packages: [] }), /"packages" is an array/],
    [
      'has dependencies as a string',
      JSON.stringify({ lockfileVersion: 1, dependencies: 'x' }),
      /"dependencies" is a string/,
    ],
    ['is empty', '', /^not valid JSON: /],
    ['is cut short', '{"lockfileVersion": 3, "packages": {', /^not valid JSON: /],
  ])('%s: INPUT_INVALID', (_what, text, message) => {
    const err = thrown(() => parseLockfile(text, 'package-lock.json'));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.file).toBe('package-lock.json');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('\n');
  });

  it('says where the JSON breaks, on one line, with nothing from the file that a terminal would obey', () => {
    const err = thrown(() =>
      parseLockfile('{\n  "lockfileVersion": 3,\n  "packages": {\n    "a": 1,,\n  }\n}', 'x.json'),
    );
    expect(err.message).toMatch(/^not valid JSON: .* \(line 4, column 12\)$/);
    const evil = thrown(() => parseLockfile('\u001b]0;owned\u0007\n\u001b[2J', 'x.json'));
    expect(evil.message).not.toMatch(/[\u0000-\u001f]/);
    expect(evil.message).toContain('\\x1b');
  });

  it('accepts a byte-order mark, as npm does', () => {
    const lock = parseLockfile(`\ufeff${v3({ 'node_modules/ms': reg('ms', '2.1.3') })}`, 'x.json');
    expect(lock.packages[0]).toMatchObject({ name: 'ms', line: 11 });
  });
});

describe('hostile entries', () => {
  it('reports path traversal in packages keys and keeps the entries', () => {
    const lock = parseLockfile(
      v3({
        'node_modules/../../etc': reg('etc', '1.0.0'),
        '/etc/passwd': { version: '1.0.0' },
        'node_modules/a/../../../x': reg('x', '1.0.0'),
        'node_modules\\..\\..\\y': reg('y', '1.0.0'),
        'node_modules/ok': reg('ok', '1.0.0'),
      }),
      'x.json',
    );
    expect(problems(lock).filter(([code]) => code === 'PATH_TRAVERSAL')).toEqual([
      ['PATH_TRAVERSAL', 'node_modules/../../etc'],
      ['PATH_TRAVERSAL', '/etc/passwd'],
      ['PATH_TRAVERSAL', 'node_modules/a/../../../x'],
      ['PATH_TRAVERSAL', 'node_modules\\..\\..\\y'],
    ]);
    expect(lock.packages.map((p) => p.path)).toEqual([
      'node_modules/../../etc',
      '/etc/passwd',
      'node_modules/a/../../../x',
      'node_modules\\..\\..\\y',
      'node_modules/ok',
    ]);
    const first = lock.problems[0];
    expect(first).toMatchObject({ severity: 'error', line: 11 });
    // The name is still derived, after the last node_modules/, and is itself refused.
    expect(pkg(lock, 'node_modules/../../etc').name).toBe('../../etc');
    expect(problems(lock)).toContainEqual(['NAME_INVALID', 'node_modules/../../etc']);
    expect(lock.problems.filter((p) => p.path === 'node_modules/ok')).toEqual([]);
  });

  it('allows a folder outside the project only where a link points', () => {
    const lock = parseLockfile(
      v3({
        '../shared': { name: 'shared', version: '1.0.0' },
        '../shared/node_modules/ms': reg('ms', '2.1.3'),
        '../../elsewhere': { name: 'elsewhere', version: '1.0.0' },
        'node_modules/shared': { resolved: '../shared', link: true },
        'node_modules/abs': { resolved: '/etc', link: true },
        'node_modules/nowhere': { link: true },
        'node_modules/missing': { resolved: 'lib/missing', link: true },
      }),
      'x.json',
    );
    expect(problems(lock)).toEqual([
      ['PATH_OUTSIDE', '../../elsewhere'],
      ['PATH_TRAVERSAL', 'node_modules/abs'],
      ['LINK_INVALID', 'node_modules/nowhere'],
      ['LINK_INVALID', 'node_modules/missing'],
    ]);
    expect(pkg(lock, '../shared')).toMatchObject({ source: 'file', name: 'shared' });
    expect(pkg(lock, 'node_modules/shared')).toMatchObject({ source: 'link', resolved: '../shared' });
  });

  it('reports invalid package names as problems, not crashes', () => {
    const lock = parseLockfile(
      v3({
        'node_modules/.bin': reg('.bin', '1.0.0'),
        'node_modules/Bad Name': { version: '1.0.0', integrity: INTEGRITY },
        'node_modules/JSONStream': reg('JSONStream', '1.3.5'),
        'node_modules/alias': { ...reg('evil', '1.0.0'), name: '../evil' },
        [`node_modules/${'x'.repeat(300)}`]: reg('x'.repeat(300), '1.0.0'),
        'node_modules/@scope': reg('scope', '1.0.0'),
      }),
      'x.json',
    );
    expect(problems(lock)).toEqual([
      ['NAME_INVALID', 'node_modules/.bin'],
      ['NAME_INVALID', 'node_modules/Bad Name'],
      ['NAME_LEGACY', 'node_modules/JSONStream'],
      ['NAME_INVALID', 'node_modules/alias'],
      ['RESOLVED_MISMATCH', 'node_modules/alias'],
      ['NAME_LEGACY', `node_modules/${'x'.repeat(300)}`],
      // A scope without a name: the best name to show is "@scope", itself invalid.
      ['PATH_INVALID', 'node_modules/@scope'],
      ['NAME_INVALID', 'node_modules/@scope'],
      ['RESOLVED_MISMATCH', 'node_modules/@scope'],
    ]);
    expect(lock.problems.find((p) => p.code === 'NAME_LEGACY')?.severity).toBe('warning');
    expect(pkg(lock, 'node_modules/alias')).toMatchObject({ name: '../evil', alias: 'alias' });
    expect(lock.packages).toHaveLength(6);
  });

  it('is not polluted by __proto__ or constructor keys', () => {
    const text = `{
  "name": "app",
  "lockfileVersion": 3,
  "__proto__": { "polluted": "top" },
  "packages": {
    "": {
      "name": "app",
      "dependencies": { "__proto__": "1.0.0", "constructor": "2.0.0" },
      "workspaces": { "__proto__": ["evil/*"] }
    },
    "__proto__": { "version": "1.0.0", "polluted": "packages" },
    "node_modules/constructor": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/constructor/-/constructor-1.0.0.tgz",
      "integrity": "${INTEGRITY}"
    },
    "node_modules/__proto__": { "version": "1.0.0", "__proto__": { "dev": true } }
  }
}`;
    const lock = parseLockfile(text, 'x.json');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).dev).toBeUndefined();
    expect(Object.getPrototypeOf(lock.root.dependencies)).toBeNull();
    expect(Object.keys(lock.root.dependencies ?? {})).toEqual(['__proto__', 'constructor']);
    expect(Object.hasOwn(lock.root.dependencies ?? {}, '__proto__')).toBe(true);
    expect(lock.root.workspaces).toEqual([]);
    expect(lock.packages.map((p) => [p.path, p.name, p.line])).toEqual([
      ['__proto__', '__proto__', 11],
      ['node_modules/constructor', 'constructor', 12],
      ['node_modules/__proto__', '__proto__', 17],
    ]);
    expect(pkg(lock, 'node_modules/__proto__').dev).toBe(false);
    expect(pkg(lock, 'node_modules/constructor').source).toBe('registry');
    expect(problems(lock)).toEqual([
      ['ENTRY_ORPHAN', '__proto__'],
      ['NAME_INVALID', 'node_modules/__proto__'],
      ['INTEGRITY_MISSING', 'node_modules/__proto__'],
    ]);

    const old = parseLockfile(
      '{"lockfileVersion":1,"dependencies":{"__proto__":{"version":"1.0.0"},"constructor":{"version":"1.0.0","dependencies":{"__proto__":{"version":"2.0.0"}}}}}',
      'x.json',
    );
    expect(old.packages.map((p) => p.path)).toEqual([
      'node_modules/__proto__',
      'node_modules/constructor',
      'node_modules/constructor/node_modules/__proto__',
    ]);
    expect(({} as Record<string, unknown>).version).toBeUndefined();
  });

  it('reports entries and fields of the wrong type', () => {
    const lock = parseLockfile(
      v3({
        'node_modules/str': 'evil',
        'node_modules/arr': [],
        'node_modules/num': { version: 1, integrity: INTEGRITY },
        'node_modules/flag': { ...reg('flag', '1.0.0'), dev: 'yes', optional: 0 },
      }),
      'x.json',
    );
    expect(lock.problems.map((p) => [p.code, p.path, p.severity])).toEqual([
      ['ENTRY_INVALID', 'node_modules/str', 'error'],
      ['ENTRY_INVALID', 'node_modules/arr', 'error'],
      ['ENTRY_INVALID', 'node_modules/num', 'error'],
      ['VERSION_INVALID', 'node_modules/num', 'error'],
      ['ENTRY_INVALID', 'node_modules/flag', 'warning'],
      ['ENTRY_INVALID', 'node_modules/flag', 'warning'],
    ]);
    expect(lock.packages.map((p) => p.path)).toEqual(['node_modules/num', 'node_modules/flag']);
    // npm reads these flags by truthiness.
    expect(pkg(lock, 'node_modules/flag')).toMatchObject({ dev: true, optional: false });
  });

  it('reports a registry URL that names another package or version', () => {
    const lock = parseLockfile(
      v3({
        'node_modules/left-pad': {
          ...reg('left-pad', '1.3.0'),
          resolved: 'https://registry.npmjs.org/evil/-/evil-6.6.6.tgz',
        },
        'node_modules/ms': { ...reg('ms', '2.1.3'), resolved: 'https://registry.npmjs.org/ms/-/ms-0.0.1.tgz' },
        'node_modules/@types/ms': {
          ...reg('@types/ms', '0.7.34'),
          resolved: 'https://registry.npmjs.org/@types/ms/-/evil-0.7.34.tgz',
        },
        'node_modules/lp': { ...reg('left-pad', '1.2.0'), name: 'left-pad' },
      }),
      'x.json',
    );
    expect(lock.problems.map((p) => [p.code, p.path, p.line])).toEqual([
      ['RESOLVED_MISMATCH', 'node_modules/left-pad', 11],
      ['RESOLVED_MISMATCH', 'node_modules/ms', 16],
      ['RESOLVED_MISMATCH', 'node_modules/@types/ms', 21],
    ]);
    expect(lock.problems[0]?.message).toContain('"evil"');
    expect(lock.problems[1]?.message).toContain('"0.0.1"');
    expect(pkg(lock, 'node_modules/left-pad')).toMatchObject({
      source: 'registry',
      registryHost: 'registry.npmjs.org',
    });
  });

  it('classifies what resolved says, and reports what it cannot', () => {
    const lock = parseLockfile(
      v3({
        'node_modules/a': { version: '1.0.0', resolved: 'https://example.com/x.tgz', integrity: INTEGRITY },
        'node_modules/b': { version: '1.0.0', resolved: 'git+https://gitlab.com/x/b.git#abc' },
        'node_modules/c': { version: '1.0.0', resolved: 'file:c-1.0.0.tgz', integrity: INTEGRITY },
        'node_modules/d': { version: '1.0.0', resolved: 'javascript:alert(1)', integrity: INTEGRITY },
        'node_modules/e': { ...reg('e', '1.0.0'), integrity: 'md5-abc' },
        'node_modules/f': { ...reg('f', '1.0.0'), integrity: undefined },
        'node_modules/g': { version: 'latest', integrity: INTEGRITY },
        'node_modules/h': { integrity: INTEGRITY },
        'node_modules/i': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/i/-/i-1.0.0.tgz?token=x',
          integrity: INTEGRITY,
        },
      }),
      'x.json',
    );
    expect(pkg(lock, 'node_modules/a')).toMatchObject({ source: 'remote', registryHost: 'example.com' });
    expect(pkg(lock, 'node_modules/b')).toMatchObject({ source: 'git' });
    expect(pkg(lock, 'node_modules/c')).toMatchObject({ source: 'file' });
    expect(pkg(lock, 'node_modules/d')).toMatchObject({ source: 'remote' });
    expect(pkg(lock, 'node_modules/g')).toMatchObject({ source: 'registry', resolvedMissing: true });
    expect(pkg(lock, 'node_modules/i')).toMatchObject({ source: 'registry' });
    expect(problems(lock)).toEqual([
      ['RESOLVED_INVALID', 'node_modules/d'],
      ['INTEGRITY_INVALID', 'node_modules/e'],
      ['INTEGRITY_MISSING', 'node_modules/f'],
      ['VERSION_INVALID', 'node_modules/g'],
      ['VERSION_INVALID', 'node_modules/h'],
    ]);
  });

  it('reports a folder entry nothing points to, and tells workspaces by pattern', () => {
    const lock = parseLockfile(
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'app', workspaces: ['apps/*', '!apps/private'] },
          'apps/web': { name: 'web', version: '1.0.0' },
          'apps/private': { name: 'private', version: '1.0.0' },
          'tools/x': { name: 'x', version: '1.0.0' },
          'node_modules/web': { resolved: 'apps/web', link: true },
          'node_modules/private': { resolved: 'apps/private', link: true },
        },
      }),
      'x.json',
    );
    expect(lock.workspaces).toEqual(['apps/web']);
    expect(pkg(lock, 'apps/private').source).toBe('file');
    expect(problems(lock)).toEqual([['ENTRY_ORPHAN', 'tools/x']]);
  });

  it('reports a v2 lockfile whose two trees disagree, at the line npm 6 reads', () => {
    const text = JSON.stringify(
      {
        name: 'app',
        lockfileVersion: 2,
        packages: {
          '': { name: 'app' },
          'node_modules/ms': reg('ms', '2.1.3'),
          'node_modules/a': reg('a', '1.0.0'),
          'node_modules/a/node_modules/b': reg('b', '1.0.0'),
        },
        dependencies: {
          ms: { version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', integrity: INTEGRITY },
          a: {
            version: '1.0.0',
            resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz',
            integrity: `sha512-${'B'.repeat(86)}==`,
            dependencies: {
              b: { version: '6.6.6', resolved: 'https://registry.npmjs.org/b/-/b-6.6.6.tgz' },
              evil: { version: '1.0.0', resolved: 'https://registry.npmjs.org/evil/-/evil-1.0.0.tgz' },
            },
          },
        },
      },
      null,
      2,
    );
    const lock = parseLockfile(text, 'x.json');
    const lines = text.split('\n');
    expect(lock.problems.map((p) => [p.code, p.path, lines[p.line - 1]?.trim()])).toEqual([
      ['SECTIONS_DISAGREE', 'node_modules/a', '"a": {'],
      ['SECTIONS_DISAGREE', 'node_modules/a/node_modules/b', '"b": {'],
      ['SECTIONS_DISAGREE', 'node_modules/a/node_modules/evil', '"evil": {'],
    ]);
    expect(lock.problems[0]?.message).toContain('integrity differs');
    expect(lock.problems[1]?.message).toContain('version "6.6.6" vs "1.0.0"');
    expect(lock.problems[2]?.message).toContain('"packages" has nothing');
    // The guard checks what npm 7+ installs: "packages".
    expect(lock.packages.map((p) => p.path)).toEqual([
      'node_modules/ms',
      'node_modules/a',
      'node_modules/a/node_modules/b',
    ]);
  });

  it('reports hostile names in a v1 tree', () => {
    const lock = parseLockfile(
      v1({
        '../../../etc': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz',
          integrity: INTEGRITY,
        },
        ok: {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/ok/-/ok-1.0.0.tgz',
          integrity: INTEGRITY,
          dependencies: { 'a/b': { version: '1.0.0', integrity: INTEGRITY }, junk: 7 },
        },
        alias: { version: 'npm:Evil Name@1.0.0', integrity: INTEGRITY },
        abs: { version: 'file:/etc' },
        sibling: { version: 'file:../sibling', dependencies: { ms: { version: '2.1.3', integrity: INTEGRITY } } },
      }),
      'x.json',
    );
    expect(problems(lock)).toEqual([
      ['PATH_TRAVERSAL', 'node_modules/../../../etc'],
      ['NAME_INVALID', 'node_modules/../../../etc'],
      ['RESOLVED_MISMATCH', 'node_modules/../../../etc'],
      ['PATH_INVALID', 'node_modules/ok/node_modules/a/b'],
      ['NAME_INVALID', 'node_modules/ok/node_modules/a/b'],
      ['ENTRY_INVALID', 'node_modules/ok/node_modules/junk'],
      ['NAME_INVALID', 'node_modules/alias'],
      ['PATH_TRAVERSAL', 'node_modules/abs'],
    ]);
    // A linked folder's dependencies are located in that folder, as v2/v3 write them.
    expect(pkg(lock, '../sibling/node_modules/ms')).toMatchObject({ name: 'ms', resolvedMissing: true });
    expect(pkg(lock, 'node_modules/alias')).toMatchObject({
      name: 'Evil Name',
      alias: 'alias',
      version: '1.0.0',
      resolvedMissing: true,
    });
  });
});

describe('size and depth', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stax-lockfile-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a file over the size limit before reading it', async () => {
    const file = join(dir, 'big.json');
    await writeFile(file, v3({ 'node_modules/ms': reg('ms', '2.1.3') }));
    const err = await rejected(readLockfile(file, { maxBytes: 100 }));
    expect(err.code).toBe('INPUT_TOO_LARGE');
    expect(err.message).toContain('larger than 100 bytes');
    expect(thrown(() => parseLockfile('{}'.padEnd(200), 'x.json', { maxBytes: 100 })).code).toBe('INPUT_TOO_LARGE');
  });

  it('refuses deep nesting cleanly, wherever it is', () => {
    const depth = 200_000;
    const deep = `{"lockfileVersion":3,"packages":{"":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    const err = thrown(() => parseLockfile(deep, 'x.json'));
    expect(err.code).toBe('INPUT_TOO_LARGE');
    expect(err.message).toBe('nested deeper than 1000 levels');
  });

  it('reads a v1 tree nested as deep as the limit allows, and no deeper', () => {
    const chain = (levels: number): string => {
      let inner = '{"version":"1.0.0"}';
      for (let i = 1; i < levels; i++) inner = `{"version":"1.0.0","dependencies":{"a":${inner}}}`;
      return `{"lockfileVersion":1,"dependencies":{"a":${inner}}}`;
    };
    const lock = parseLockfile(chain(490), 'x.json');
    expect(lock.packages).toHaveLength(490);
    expect(lock.packages[489]?.path).toBe(Array.from({ length: 490 }, () => 'node_modules/a').join('/'));
    expect(thrown(() => parseLockfile(chain(600), 'x.json')).code).toBe('INPUT_TOO_LARGE');
  });

  it('refuses a v1 tree built to make its locations blow up memory', () => {
    let inner = `{"dependencies":{${Array.from({ length: 20_000 }, (_, i) => `"p${i}":{}`).join(',')}}}`;
    for (let i = 0; i < 480; i++) inner = `{"dependencies":{"a":${inner}}}`;
    const err = thrown(() => parseLockfile(`{"lockfileVersion":1,"dependencies":{"a":${inner}}}`, 'x.json'));
    expect(err.code).toBe('INPUT_TOO_LARGE');
  });

  it('reads a large lockfile quickly, lines and all', () => {
    const packages: Record<string, unknown> = {};
    for (let i = 0; i < 50_000; i++) packages[`node_modules/p${i}`] = reg(`p${i}`, '1.0.0');
    const text = v3(packages);
    const start = performance.now();
    const lock = parseLockfile(text, 'x.json');
    expect(performance.now() - start).toBeLessThan(5000);
    expect(lock.packages).toHaveLength(50_000);
    expect(lock.problems).toEqual([]);
    const last = lock.packages[49_999];
    expect(text.split('\n')[(last?.line ?? 0) - 1]).toBe('    "node_modules/p49999": {');
  });
});

describe('readLockfile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stax-readlock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a missing file and a directory', async () => {
    expect((await rejected(readLockfile(join(dir, 'nope.json')))).code).toBe('FILE_NOT_FOUND');
    await mkdir(join(dir, 'sub'));
    const err = await rejected(readLockfile(join(dir, 'sub')));
    expect(err.code).toBe('FILE_UNREADABLE');
    expect(err.message).toBe('is a directory');
  });

  it('refuses bytes that are not UTF-8', async () => {
    const file = join(dir, 'latin1.json');
    await writeFile(
      file,
      Buffer.concat([
        Buffer.from('{"lockfileVersion":3,"packages":{"node_modules/caf'),
        Buffer.from([0xe9]),
        Buffer.from('":{}}}'),
      ]),
    );
    const err = await rejected(readLockfile(file));
    expect(err).toMatchObject({ code: 'INPUT_INVALID', message: 'not valid UTF-8 text', file });
  });

  it('does not wait on a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    const err = await rejected(readLockfile(fifo));
    expect(err).toMatchObject({ code: 'FILE_UNREADABLE', message: 'is not a regular file' });
  });
});
