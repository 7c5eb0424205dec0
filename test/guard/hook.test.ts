import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaxError } from '../../src/errors.js';
import { CHAIN, addHook, classifyPreinstall, hookScript, lockfileDrift, removeHook } from '../../src/guard/hook.js';
import { runInProcess, tempDir } from '../support/cli.js';

const GUARD = hookScript();
const tmp = tempDir('stax-hook-');
afterAll(() => tmp.cleanup());

function roundTrip(original: string): { installed: string; removed: string } {
  const installed = addHook(original).text;
  return { installed, removed: removeHook(installed).text };
}

describe('hook install and uninstall, as text edits of package.json', () => {
  const cases: Array<[string, string]> = [
    ['two spaces, no scripts', '{\n  "name": "a",\n  "version": "1.0.0"\n}\n'],
    ['four spaces, other scripts', '{\n    "name": "a",\n    "scripts": {\n        "test": "vitest"\n    },\n    "private": true\n}\n'],
    ['tabs, CRLF, no final newline', '{\r\n\t"name": "a",\r\n\t"dependencies": {\r\n\t\t"ms": "^2.1.3"\r\n\t}\r\n}'],
    ['minified', '{"name":"a","scripts":{"build":"tsc"}}'],
    ['minified, no scripts', '{"name":"a"}'],
    ['empty object', '{}\n'],
    ['a BOM and odd spacing', '\ufeff{ "name" : "a" ,\n  "scripts" : { "test" : "x" } }\n'],
    ['an existing preinstall with escapes', '{\n  "scripts": {\n    "preinstall": "node -e \\"console.log(\\u0027hi\\u0027)\\" || echo \\/ok"\n  }\n}\n'],
  ];
  it.each(cases)('%s: uninstall gives back the original bytes', (_name, original) => {
    const { installed, removed } = roundTrip(original);
    expect(installed).not.toBe(original);
    expect(removed).toBe(original);
    const pre = (JSON.parse(installed.replace(/^\ufeff/, '')) as { scripts: { preinstall: string } }).scripts.preinstall;
    expect(pre.startsWith(GUARD)).toBe(true);
  });

  it('keeps the indentation, line endings and key order of the file', () => {
    const crlf = addHook('{\r\n\t"name": "a",\r\n\t"version": "1.0.0"\r\n}\r\n').text;
    expect(crlf).toBe(`{\r\n\t"name": "a",\r\n\t"version": "1.0.0",\r\n\t"scripts": {\r\n\t\t"preinstall": ${JSON.stringify(GUARD)}\r\n\t}\r\n}\r\n`);
    const first = addHook('{\n  "scripts": {\n    "test": "x",\n    "build": "y"\n  }\n}\n').text;
    expect(first).toBe(`{\n  "scripts": {\n    "preinstall": ${JSON.stringify(GUARD)},\n    "test": "x",\n    "build": "y"\n  }\n}\n`);
    expect(addHook('{"name":"a"}').text).toBe(`{"name":"a","scripts":{"preinstall":${JSON.stringify(GUARD)}}}`);
  });

  it('chains in front of an existing preinstall, keeping its text as written', () => {
    const original = '{\n  "scripts": {\n    "preinstall": "node setup.js \\u0026\\u0026 echo done"\n  }\n}\n';
    const edit = addHook(original);
    expect(edit.action).toBe('chained');
    expect(edit.text).toContain(`"preinstall": "${GUARD}${CHAIN}node setup.js \\u0026\\u0026 echo done"`);
    expect(removeHook(edit.text)).toEqual({ text: original, action: 'unchained' });
    const open = addHook(edit.text, { failOpen: true });
    expect(open.text).toContain(`stax hook run --fail-open || exit $?${CHAIN}node setup.js \\u0026\\u0026 echo done"`);
    expect(removeHook(open.text).text).toBe(original);
  });

  it('is idempotent, and switches to and from --fail-open in place', () => {
    const once = addHook('{\n  "name": "a"\n}\n').text;
    expect(addHook(once)).toEqual({ text: once, action: 'unchanged' });
    const open = addHook(once, { failOpen: true });
    expect(open.action).toBe('updated');
    expect(classifyPreinstall((JSON.parse(open.text) as { scripts: { preinstall: string } }).scripts.preinstall)).toMatchObject({ form: 'installed', failOpen: true });
    expect(addHook(open.text).text).toBe(once);
    expect(removeHook(open.text).text).toBe('{\n  "name": "a"\n}\n');
  });

  it('recognizes a hook an older stax wrote (another message), updates and removes it', () => {
    const older = `command -v stax >/dev/null || { echo 'old words' >&2; exit 1; }; stax hook run || exit $?`;
    const text = `{\n  "scripts": {\n    "preinstall": ${JSON.stringify(`${older}${CHAIN}make`)}\n  }\n}\n`;
    expect(classifyPreinstall(`${older}${CHAIN}make`)).toMatchObject({ form: 'chained', chained: 'make' });
    expect(addHook(text)).toEqual({ text: `{\n  "scripts": {\n    "preinstall": ${JSON.stringify(`${GUARD}${CHAIN}make`)}\n  }\n}\n`, action: 'updated' });
    expect(removeHook(text).text).toBe('{\n  "scripts": {\n    "preinstall": "make"\n  }\n}\n');
  });

  it('replaces an empty preinstall, which cannot follow &&', () => {
    const edit = addHook('{"scripts":{"preinstall":" "}}');
    expect(edit).toEqual({ text: `{"scripts":{"preinstall":${JSON.stringify(GUARD)}}}`, action: 'installed' });
  });

  it('leaves a hand-written stax hook run alone', () => {
    const text = '{"scripts":{"preinstall":"npx --no-install stax hook run"}}';
    expect(addHook(text)).toEqual({ text, action: 'custom' });
    expect(removeHook(text)).toEqual({ text, action: 'custom' });
  });

  it('removes nothing when there is no hook', () => {
    for (const text of ['{}', '{"scripts":{"preinstall":"echo hi"}}', '{"scripts":{}}']) expect(removeHook(text)).toEqual({ text, action: 'absent' });
  });

  it('refuses package.json that npm would read differently from a person, or cannot read', () => {
    const code = (text: string): string => {
      try {
        addHook(text);
      } catch (err) {
        return (err as StaxError).code;
      }
      return 'none';
    };
    // Two "scripts": JSON.parse (npm) takes the second, a reader may see the first.
    expect(code('{"scripts":{"preinstall":"a"},"scripts":{}}')).toBe('INPUT_INVALID');
    expect(code('{"scripts":{"preinstall":"a","preinstall":"b"}}')).toBe('INPUT_INVALID');
    expect(code('[]')).toBe('INPUT_INVALID');
    expect(code('{"scripts":[]}')).toBe('INPUT_INVALID');
    expect(code('{"scripts":{"preinstall":1}}')).toBe('INPUT_INVALID');
    expect(code('{"name": "a",}')).toBe('INPUT_INVALID');
  });
});

describe('the installed script, run by a real sh', () => {
  const bin = join(tmp.path, 'bin');
  mkdirSync(bin, { recursive: true });
  const sh = (script: string, stax: 'allows' | 'blocks' | 'missing') => {
    const dir = join(bin, stax);
    mkdirSync(dir, { recursive: true });
    if (stax !== 'missing') {
      writeFileSync(join(dir, 'stax'), `#!/bin/sh\necho "stax $*"\nexit ${stax === 'allows' ? 0 : 1}\n`);
      chmodSync(join(dir, 'stax'), 0o755);
    }
    const r = spawnSync('/bin/sh', ['-c', script], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('runs the check, then the project script', () => {
    expect(sh(`${GUARD}${CHAIN}echo project`, 'allows')).toEqual({ code: 0, out: 'stax hook run\nproject\n', err: '' });
  });

  it('stops at a blocked check, whatever the chained script does with || or ;', () => {
    for (const rest of ['echo a || echo b', 'echo a; echo b', 'false || true']) {
      const r = sh(`${GUARD}${CHAIN}${rest}`, 'blocks');
      expect(r.code, rest).toBe(1);
      expect(r.out, rest).toBe('stax hook run\n');
    }
  });

  it('blocks, and says what to do, when stax is not installed', () => {
    const r = sh(`${GUARD}${CHAIN}echo project`, 'missing');
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe('stax hook: install blocked: stax is not installed (install your copy globally: npm install -g <stax checkout or tarball>; see man stax-hook)\n');
  });
});

describe('lockfile drift', () => {
  const lock = JSON.stringify({
    lockfileVersion: 3,
    packages: {
      '': {},
      'node_modules/ms': { version: '2.1.3' },
      'node_modules/lp': { name: 'left-pad', version: '1.3.0' },
      'node_modules/local': { resolved: 'vendor/local', link: true },
      'node_modules/gitdep': { version: '1.0.0', resolved: 'git+ssh://git@github.com/a/b.git#abc' },
    },
  });
  it('finds what package.json asks for that the lockfile does not have or does not satisfy', async () => {
    const manifest = JSON.stringify({
      dependencies: { ms: '^2.1.0', lp: 'npm:left-pad@^1.3.0', local: 'file:vendor/local', gitdep: 'github:a/b', added: '^1.0.0' },
      devDependencies: { ms: '^3.0.0' },
      optionalDependencies: { other: 'npm:left-pad@1' },
    });
    const drift = await lockfileDrift(manifest, lock);
    expect(drift.map((d) => [d.name, d.spec, d.locked])).toEqual([
      ['added', '^1.0.0', null],
      ['other', 'npm:left-pad@1', null],
    ]);
    const newer = await lockfileDrift(JSON.stringify({ dependencies: { ms: '^3.0.0', lp: 'npm:right-pad@1' } }), lock);
    expect(newer.map((d) => d.message)).toEqual([
      'package.json asks for ms@^3.0.0, but the lockfile has 2.1.3',
      'package.json asks for lp@npm:right-pad@1, but the lockfile has left-pad under that name',
    ]);
  });

  it('reads lockfile v1 too, and leaves unreadable files to the check', async () => {
    expect(await lockfileDrift('{"dependencies":{"ms":"^2"}}', '{"lockfileVersion":1,"dependencies":{"ms":{"version":"2.1.3"}}}')).toEqual([]);
    expect(await lockfileDrift('{"dependencies":{"ms":"^2"}}', 'not json')).toEqual([]);
    expect(await lockfileDrift('{"dependencies":{"__proto__":"^1"}}', '{"packages":{}}')).toHaveLength(1);
  });
});

// ---- the command layer, in-process ------------------------------------------------------

const SRI = 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==';
const OTHER = 'sha512-uEZe2ZEkwoQ3vtp4wvxgUsUdiYi5MjX8m2ATwJEq2FmHDGlNQuEwTqvkOBuTnqLHTXbz3VLwv6KyeaKmGj/Otg==';
const KEY = { STAX_HMAC_KEY: 'unit-test-key' };

function project(name: string, deps: Record<string, string>, locked: Record<string, { version: string; integrity: string }>): string {
  const dir = join(tmp.path, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', dependencies: deps }, null, 2) + '\n');
  const packages: Record<string, unknown> = { '': { name, version: '1.0.0', dependencies: deps } };
  for (const [n, p] of Object.entries(locked)) packages[`node_modules/${n}`] = { version: p.version, resolved: `https://registry.npmjs.org/${n}/-/${n}-${p.version}.tgz`, integrity: p.integrity };
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name, version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n');
  return dir;
}

const NPM12 = { npm_lifecycle_event: 'preinstall', npm_command: 'ci', npm_config_user_agent: 'npm/12.2.0 node/v22.23.3 linux x64 workspaces/false' };
const NPM11 = { npm_lifecycle_event: 'preinstall', npm_command: 'install', npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false' };

describe('stax hook run', () => {
  const dir = project('run', { ms: '^2.1.3' }, { ms: { version: '2.1.3', integrity: SRI } });
  beforeAll(async () => {
    const approved = await runInProcess(['approve', 'ms', '2.1.3', '--integrity', SRI], { cwd: dir, env: KEY });
    expect(approved.code, approved.stderr).toBe(0);
  });
  const trail = (): Array<{ action: string; payload: Record<string, unknown> }> =>
    readFileSync(join(dir, '.stax/guard.jsonl'), 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { action: string; payload: Record<string, unknown> });

  it('allows an approved lockfile: exit 0, one line on stderr, an install.check in the guard trail', async () => {
    const r = await runInProcess(['hook', 'run'], { cwd: dir, env: { ...KEY, ...NPM12, npm_package_json: join(dir, 'package.json') } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^stax hook: ✔ 1 package\(s\) allowed for npm ci \(npm 12\.2\.0\); recorded in the guard trail, entry 1\n$/);
    expect(trail().pop()).toMatchObject({ action: 'install.check', payload: { command: 'npm ci', npm: '12.2.0', allowed: true, blocked: [], failOpen: false, lockfile: join(dir, 'package-lock.json') } });
  });

  it('blocks a changed integrity; under npm 11 it says it is too late and what to do', async () => {
    const bad = project('run-bad', { ms: '^2.1.3' }, { ms: { version: '2.1.3', integrity: OTHER } });
    mkdirSync(join(bad, '.stax'));
    for (const f of ['allowlist.json', 'guard.jsonl']) writeFileSync(join(bad, '.stax', f), readFileSync(join(dir, '.stax', f)));
    const r = await runInProcess(['hook', 'run'], { cwd: bad, env: { ...KEY, ...NPM11 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stax hook: ✘ npm install (npm 11.19.1) blocked: 1 package(s) not allowed');
    expect(r.stderr).toMatch(/\| ms +\| 2\.1\.3 +\| INTEGRITY_MISMATCH/);
    expect(r.stderr).toContain('TOO LATE TO PREVENT: npm 11.19.1 runs the preinstall script only AFTER installing');
    const json = await runInProcess(['hook', 'run', '--json'], { cwd: bad, env: { ...KEY, ...NPM12 } });
    const result = JSON.parse(json.stdout) as { allowed: boolean; tooLate: boolean; npm: { timing: string }; blocked: unknown[]; advice: string[] };
    expect(result).toMatchObject({ allowed: false, tooLate: false, npm: { timing: 'before-fetch' }, blocked: [{ name: 'ms', version: '2.1.3', codes: ['INTEGRITY_MISMATCH'] }] });
    expect(result.advice).toContain('npm 12.2.0 has fetched nothing yet: the install is stopped before any blocked package arrived');
  });

  it('fails closed without a key, and records why', async () => {
    const r = await runInProcess(['hook', 'run'], { cwd: dir, env: NPM12 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('blocked: the guard cannot check: no key to verify the allowlist with');
    expect(trail().pop()!.payload).toMatchObject({ allowed: false, failOpen: false, error: { code: 'KEY_MISSING' } });
  });

  it('with --fail-open lets it through and records failOpen: true', async () => {
    const r = await runInProcess(['hook', 'run', '--fail-open'], { cwd: dir, env: NPM12 });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('FAIL-OPEN');
    expect(trail().pop()!.payload).toMatchObject({ allowed: true, failOpen: true });
  });

  it('blocks a bare install when package.json asks for more than the lockfile has', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'run', dependencies: { ms: '^2.1.3', 'left-pad': '^1.3.0' } }));
    const r = await runInProcess(['hook', 'run', '--json'], { cwd: dir, env: { ...KEY, ...NPM12, npm_command: 'install' } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ blocked: [{ name: 'left-pad', version: '^1.3.0', codes: ['LOCKFILE_STALE'] }], drift: [{ name: 'left-pad', locked: null }] });
  });
});

describe('stax hook install / uninstall', () => {
  it('edits ./package.json and says what it did', async () => {
    const dir = join(tmp.path, 'cli-install');
    mkdirSync(dir);
    const original = '{\n\t"name": "x",\n\t"scripts": {\n\t\t"preinstall": "node prep.js"\n\t}\n}\n';
    writeFileSync(join(dir, 'package.json'), original);
    const r = await runInProcess(['hook', 'install', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ action: 'chained', changed: true, before: 'node prep.js', after: `${GUARD}${CHAIN}node prep.js` });
    expect((await runInProcess(['hook', 'install'], { cwd: dir })).stdout).toContain('the preinstall hook is installed already');
    const u = await runInProcess(['hook', 'uninstall'], { cwd: dir });
    expect(u.stdout).toContain("removed the guard; the project's own preinstall script stays");
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).toBe(original);
  });

  it('exits 2 without a package.json', async () => {
    const r = await runInProcess(['hook', 'install'], { cwd: join(tmp.path) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no package.json here');
  });
});
