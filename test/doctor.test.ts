import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { doctor, type DoctorOptions } from '../src/doctor.js';
import { generateKey } from '../src/keys/store.js';
import { tempDir } from './support/cli.js';

const tmp = tempDir('stax-doctor-');
afterAll(() => tmp.cleanup());
let n = 0;

/** A fresh project folder and key folder, with a package.json holding `scripts`. */
function setup(pkg: unknown | string | null, extraEnv: Record<string, string> = {}): DoctorOptions {
  const root = join(tmp.path, `case-${n++}`);
  const cwd = join(root, 'project');
  mkdirSync(cwd, { recursive: true });
  if (pkg !== null) writeFileSync(join(cwd, 'package.json'), typeof pkg === 'string' ? pkg : JSON.stringify(pkg));
  return {
    cwd,
    env: { PATH: process.env.PATH, HOME: join(root, 'home'), STAX_KEY_DIR: join(root, 'keys'), ...extraEnv },
    version: '9.9.9',
    programName: 'stax',
    nodeRange: '>=20',
  };
}

describe('doctor', () => {
  it('reports versions, platform, and a clean project as ok', async () => {
    const r = await doctor(setup({ name: 'p' }));
    expect(r.stax).toEqual({ version: '9.9.9', calledAs: 'stax' });
    expect(r.node).toEqual({ version: process.version, supported: true, range: '>=20' });
    expect(r.npm.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.platform.os).toBe(process.platform);
    expect(r.project).toMatchObject({ packageJson: 'present', staxConfigInPackageJson: false, hook: { installed: false, script: null, runs: null } });
    expect(r.project.files.map((f) => f.path)).toContain('.stax/allowlist.json');
    expect(r.keys).toEqual({ dir: expect.any(String), exists: false, keys: [] });
    expect(r.ok).toBe(true);
  });

  it('finds the hook in an install script, and says when ignore-scripts keeps npm from running it', async () => {
    const options = setup({ name: 'p', scripts: { test: 'vitest', preinstall: 'STAX_HMAC_KEY=inline-secret npx stax check --json' } });
    writeFileSync(join(options.cwd, '.npmrc'), 'ignore-scripts=true\n');
    const r = await doctor(options);
    // The script line is reduced to what it runs: an inline secret never reaches the report.
    expect(r.project.hook).toEqual({ installed: true, script: 'preinstall', runs: 'stax check' });
    expect(JSON.stringify(r)).not.toContain('inline-secret');
    expect(r.project.ignoreScripts).toBe(true);
    expect(r.findings.map((f) => f.code)).toContain('HOOK_NOT_RUN');
    expect(r.ok).toBe(true);
  });

  it('does not take a script that only mentions stax in passing for the hook', async () => {
    const r = await doctor(setup({ scripts: { postinstall: 'echo staxed', prepare: 'node build.js --stax' } }));
    expect(r.project.hook.installed).toBe(false);
  });

  it('calls a package.json that is not JSON a problem', async () => {
    const r = await doctor(setup('{"name": '));
    expect(r.project.packageJson).toBe('invalid');
    expect(r.findings.map((f) => f.code)).toEqual(['PACKAGE_JSON_INVALID']);
    expect(r.ok).toBe(false);
  });

  it('lists keys with their permissions, and calls a key others can read a problem', async () => {
    const options = setup({ name: 'p' });
    const good = generateKey('alice', { env: options.env });
    const bad = generateKey('bob', { env: options.env });
    chmodSync(bad.privateKeyFile, 0o644);
    const r = await doctor(options);
    expect(r.keys.exists).toBe(true);
    expect(r.keys.keys).toEqual([
      { name: 'alice', keyId: good.keyId, mode: '600', secure: true, problem: null },
      { name: 'bob', keyId: '', mode: '644', secure: false, problem: expect.stringMatching(/mode 644/) },
    ]);
    const insecure = r.findings.filter((f) => f.code === 'KEY_INSECURE');
    expect(insecure).toHaveLength(1);
    expect(insecure[0]!.message).toMatch(/chmod 600/);
    expect(r.ok).toBe(false);
  });

  it('reports variables as set or unset, never their values', async () => {
    const options = setup({ name: 'p' }, { STAX_HMAC_KEY: 'known-secret-value', STAX_CUSTOM: 'x', NO_COLOR: '1' });
    const r = await doctor(options);
    expect(r.environment).toMatchObject({ STAX_HMAC_KEY: 'set', STAX_SIGNING_KEY: 'unset', STAX_CUSTOM: 'set', NO_COLOR: 'set', CI: 'unset' });
    expect(JSON.stringify(r)).not.toContain('known-secret-value');
  });

  it('says when this Node.js is outside the supported range', async () => {
    const r = await doctor({ ...setup({ name: 'p' }), nodeRange: '<1' });
    expect(r.node.supported).toBe(false);
    expect(r.findings.map((f) => f.code)).toContain('NODE_UNSUPPORTED');
  });

  /** A stand-in npm on PATH that records its environment, answers, or hangs. */
  function fakeNpm(body: string): string {
    const bin = join(tmp.path, `bin-${n++}`);
    mkdirSync(bin);
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return bin;
  }

  it.skipIf(process.platform === 'win32')('starts npm without any STAX_* variable', async () => {
    const seen = join(tmp.path, 'npm-env.txt');
    const bin = fakeNpm(`env > '${seen}'\necho 10.9.9`);
    const options = setup({ name: 'p' }, { STAX_HMAC_KEY: 'known-secret-value', STAX_SIGNING_KEY: 'k' });
    const r = await doctor({ ...options, env: { ...options.env, PATH: `${bin}:${process.env.PATH}` } });
    expect(r.npm.version).toBe('10.9.9');
    const env = readFileSync(seen, 'utf8');
    expect(env).toMatch(/^HOME=/m);
    expect(env).not.toMatch(/^STAX_/m);
  });

  it.skipIf(process.platform === 'win32')('gives up on an npm that does not answer', async () => {
    const bin = fakeNpm('sleep 5');
    const options = setup({ name: 'p' });
    const r = await doctor({ ...options, env: { ...options.env, PATH: `${bin}:${process.env.PATH}` }, npmTimeoutMs: 300 });
    expect(r.npm).toEqual({ version: null, error: 'no answer within 0.3 s' });
    expect(r.project.ignoreScripts).toBeNull();
  });

  it('reports npm as unavailable when it is not on PATH, without failing', async () => {
    const options = setup({ name: 'p' });
    const r = await doctor({ ...options, env: { ...options.env, PATH: join(tmp.path, 'no-such-bin') } });
    expect(r.npm).toEqual({ version: null, error: 'npm is not on PATH' });
    expect(r.project.ignoreScripts).toBeNull();
    expect(r.findings.map((f) => f.code)).toContain('NPM_UNAVAILABLE');
    expect(r.ok).toBe(true);
  });
});
