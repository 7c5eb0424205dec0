import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.js';

const SECRET = 'known-secret-value';
const tmp = tempDir('stax-doctor-cli-');
afterAll(() => tmp.cleanup());
const project = join(tmp.path, 'project');
mkdirSync(join(project, '.stax'), { recursive: true });
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'p', scripts: { preinstall: 'stax check' } }));
writeFileSync(join(project, '.stax', 'trusted-keys.txt'), '');
const env = { HOME: join(tmp.path, 'home'), STAX_KEY_DIR: join(tmp.path, 'keys'), STAX_HMAC_KEY: SECRET, STAX_SIGNING_KEY: SECRET, STAX_ACTOR: SECRET, CI: 'true' };

describe('stax doctor', () => {
  it('prints the facts and never a secret from the environment', async () => {
    for (const args of [['doctor'], ['doctor', '--json']]) {
      const r = await runCli(args, { cwd: project, env });
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.code).toBe(0);
    }
  });

  it('prints the object it returns with --json', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: project, env });
    const report = JSON.parse(r.stdout) as Record<string, any>;
    expect(report.stax.calledAs).toBe('stax');
    expect(report.environment).toMatchObject({ STAX_HMAC_KEY: 'set', STAX_SIGNING_KEY: 'set', STAX_KEY_DIR: 'set', CI: 'set', FORCE_COLOR: 'unset' });
    expect(report.project.hook).toEqual({ installed: true, script: 'preinstall', runs: 'stax check' });
    expect(report.project.files).toContainEqual({ path: '.stax/trusted-keys.txt', exists: true });
    expect(report.ok).toBe(true);
  });

  it('exits 1 when a key file can be read by others, and says how to fix it', async () => {
    const keys = join(tmp.path, 'keys-bad');
    const made = await runCli(['key', 'generate', '--name', 'alice'], { cwd: project, env: { ...env, STAX_KEY_DIR: keys } });
    expect(made.code).toBe(0);
    chmodSync(join(keys, 'alice.key'), 0o644);
    const r = await runCli(['doctor'], { cwd: project, env: { ...env, STAX_KEY_DIR: keys } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/KEY_INSECURE .*chmod 600/);
    expect(r.stdout).not.toContain(SECRET);
  });

  it('exits 2 for a bad option', async () => {
    const r = await runCli(['doctor', '--npm-timeout', 'soon'], { cwd: project });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
