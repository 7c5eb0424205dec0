/**
 * The install guard end to end, with real parts only: verdaccio on the loopback address,
 * fixture packages published to it by the real npm, projects with the hook installed, and
 * real `npm ci` / `npm install` runs by the machine's npm (11 on CI) and by npm 12 (run by
 * the Node 22 it needs). What a registry serves is what it logs, so "nothing fetched"
 * means: no tarball request reached the registry (every run has a fresh npm cache).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, guardTrail, lastInstallCheck, machineNpm, makeTempRoot, npm12, readJson, run, startRegistry, tarballGets, type FixturePackage, type Npm, type Registry, type Run } from './helpers.js';
import { REPO } from '../../support/cli.js';

let temp: ReturnType<typeof makeTempRoot>;
let registry: Registry;
let box: Sandbox;
let npm11: Npm;
let npmNext: Npm;
/** A project whose lockfile is fully approved, with the hook installed. */
let good: string;

const DEPS = { 'ok-pkg': '1.0.0', 'two-ver': '^1.0.0', scripted: '1.0.0' };
/** Writes a marker into the project folder when the package's install script runs. */
const MARK = (name: string) => `node -e "require('fs').writeFileSync(require('path').join(process.env.INIT_CWD, '${name}'), String(Date.now()))"`;

function since(mark: number) {
  return registry.requests.slice(mark);
}

async function npmIn(npm: Npm, args: string[], cwd: string, options: { stax?: boolean } = {}): Promise<Run & { mark: number }> {
  const mark = registry.requests.length;
  const r = await run([...npm.argv, ...args], { cwd, env: box.env({ npm, stax: options.stax }) });
  return { ...r, mark };
}

async function lockfileFor(project: string): Promise<void> {
  const r = await run([...npm11.argv, 'install', '--package-lock-only', '--ignore-scripts'], { cwd: project, env: box.env({ npm: npm11 }) });
  if (r.code !== 0) throw new Error(`npm install --package-lock-only failed in ${project}:\n${r.stderr}`);
}

function editManifest(project: string, edit: (m: Record<string, unknown>) => void): void {
  const m = readJson(join(project, 'package.json'));
  edit(m);
  writeFileSync(join(project, 'package.json'), JSON.stringify(m, null, 2) + '\n');
}

async function staxOk(args: string[], cwd: string): Promise<Run> {
  const r = await box.stax(args, cwd);
  if (r.code !== 0) throw new Error(`stax ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

beforeAll(async () => {
  temp = makeTempRoot();
  [npm11, npmNext, registry] = await Promise.all([machineNpm(), npm12(), startRegistry(temp.path)]);
  box = new Sandbox(temp.path, registry);
  const fixtures: FixturePackage[] = [
    { name: 'ok-pkg', version: '1.0.0' },
    { name: 'two-ver', version: '1.0.0' },
    { name: 'two-ver', version: '2.0.0' },
    { name: 'scripted', version: '1.0.0', scripts: { install: MARK('scripted-ran') } },
    { name: 'evil', version: '1.0.0', scripts: { postinstall: MARK('evil-ran') } },
    { name: 'swap', version: '1.0.0', files: { 'index.js': 'module.exports = "the approved bytes";\n' } },
    // Stands in for stax installed as a devDependency: its bin runs this checkout.
    { name: 'stax', version: '0.0.1', bin: { stax: 'bin/stax.js' }, files: { 'bin/stax.js': `#!/usr/bin/env node\nimport(${JSON.stringify(`file://${join(REPO, 'bin/stax.js')}`)});\n` } },
  ];
  // Two versions of one package: one publish at a time.
  for (const f of fixtures) await box.publish(f, npm11);

  good = box.project('good', { dependencies: DEPS });
  await lockfileFor(good);
  await staxOk(['approve', '--from-lockfile', '--yes', '--allow-host', registry.host], good);
  await staxOk(['hook', 'install'], good);
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  temp?.cleanup();
});

describe('npm 12: the hook runs before anything is fetched', () => {
  it('lets an approved npm ci through, having checked before the first tarball request', async () => {
    const project = box.copy(good, 'n12-ci-ok');
    const r = await npmIn(npmNext, ['ci'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stax hook: ✔ 3 package\(s\) allowed, 1 flagged for npm ci \(npm 12\./);
    const gets = since(r.mark).filter((q) => q.url.endsWith('.tgz'));
    expect(tarballGets(gets).sort()).toEqual(['ok-pkg@1.0.0', 'scripted@1.0.0', 'two-ver@1.0.0']);
    const entry = lastInstallCheck(project)!;
    expect(entry.payload).toMatchObject({ command: 'npm ci', npm: npmNext.version, allowed: true, blocked: [], failOpen: false });
    expect(Date.parse(entry.ts)).toBeLessThanOrEqual(Math.min(...gets.map((g) => g.at)));
    expect(existsSync(join(project, 'node_modules', 'ok-pkg'))).toBe(true);
  });

  it('lets an approved bare npm install through', async () => {
    const project = box.copy(good, 'n12-install-ok');
    const r = await npmIn(npmNext, ['install'], project);
    expect(r.code, r.stderr).toBe(0);
    const entry = lastInstallCheck(project)!;
    expect(entry.payload).toMatchObject({ command: 'npm install', allowed: true });
    const gets = since(r.mark).filter((q) => q.url.endsWith('.tgz'));
    expect(gets).toHaveLength(3);
    expect(Date.parse(entry.ts)).toBeLessThanOrEqual(Math.min(...gets.map((g) => g.at)));
  });

  it('blocks an unapproved package in npm ci and in npm install: no tarball is fetched, node_modules is not created', async () => {
    const project = box.copy(good, 'n12-unapproved');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    await lockfileFor(project);
    for (const command of ['ci', 'install']) {
      const r = await npmIn(npmNext, [command], project);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`stax hook: ✘ npm ${command} (npm ${npmNext.version}) blocked: 1 package(s) not allowed`);
      expect(r.stderr).toMatch(/\| evil +\| 1\.0\.0 +\| NOT_APPROVED/);
      expect(r.stderr).toContain('has fetched nothing yet');
      expect(tarballGets(since(r.mark))).toEqual([]);
      expect(existsSync(join(project, 'node_modules'))).toBe(false);
      expect(lastInstallCheck(project)!.payload).toMatchObject({ command: `npm ${command}`, allowed: false, blocked: [{ name: 'evil', version: '1.0.0', codes: ['NOT_APPROVED', 'INSTALL_SCRIPT'] }] });
    }
  });

  it('blocks a version that is not the approved one', async () => {
    const project = box.copy(good, 'n12-wrong-version');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>)['two-ver'] = '2.0.0'));
    await lockfileFor(project);
    const r = await npmIn(npmNext, ['ci'], project);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\| two-ver +\| 2\.0\.0 +\| VERSION_NOT_APPROVED/);
    expect(tarballGets(since(r.mark))).toEqual([]);
  });

  it('blocks a tarball that changed under an approved version (unpublished, republished with other bytes)', async () => {
    const project = box.copy(good, 'n12-integrity');
    await staxOk(['approve', 'swap', '1.0.0'], project);
    await box.unpublish('swap@1.0.0', npm11);
    await box.publish({ name: 'swap', version: '1.0.0', files: { 'index.js': 'module.exports = "other bytes";\n' } }, npm11);
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).swap = '1.0.0'));
    await lockfileFor(project);
    const r = await npmIn(npmNext, ['ci'], project);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\| swap +\| 1\.0\.0 +\| INTEGRITY_MISMATCH/);
    expect(tarballGets(since(r.mark))).toEqual([]);
  });

  it('blocks a bare npm install when package.json asks for what the lockfile lacks: npm would resolve it unchecked', async () => {
    const project = box.copy(good, 'n12-drift');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    const r = await npmIn(npmNext, ['install'], project);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\| evil +\| 1\.0\.0 +\| LOCKFILE_STALE/);
    expect(r.stderr).toContain('stax npm install');
    // Not even evil's metadata: npm 12 had resolved nothing yet.
    expect(since(r.mark).filter((q) => q.url.includes('evil'))).toEqual([]);
    expect(tarballGets(since(r.mark))).toEqual([]);
  });

  it('fails closed, saying what to do, when stax cannot be found', async () => {
    const project = box.copy(good, 'n12-no-stax');
    const r = await npmIn(npmNext, ['ci'], project, { stax: false });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('stax hook: install blocked: stax is not installed (install your copy globally: npm install -g <stax checkout or tarball>; see man stax-hook)');
    expect(tarballGets(since(r.mark))).toEqual([]);
  });

  it('with --fail-open lets a blocked install through, loudly, and records failOpen: true', async () => {
    const project = box.copy(good, 'n12-fail-open');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    await lockfileFor(project);
    await staxOk(['hook', 'install', '--fail-open'], project);
    expect((readJson(join(project, 'package.json')).scripts as Record<string, string>).preinstall).toContain('stax hook run --fail-open || exit $?');
    const r = await npmIn(npmNext, ['ci'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('FAIL-OPEN');
    expect(lastInstallCheck(project)!.payload).toMatchObject({ allowed: true, failOpen: true, blocked: [{ name: 'evil', version: '1.0.0', codes: ['NOT_APPROVED', 'INSTALL_SCRIPT'] }] });
    expect(tarballGets(since(r.mark))).toContain('evil@1.0.0');
  });

  it('cannot see a devDependency stax in npm ci: node_modules is emptied before the hook runs', async () => {
    const project = box.project('n12-devdep', { dependencies: { 'ok-pkg': '1.0.0' }, devDependencies: { stax: '0.0.1' } });
    await lockfileFor(project);
    await staxOk(['approve', '--from-lockfile', '--yes', '--allow-host', registry.host], project);
    await staxOk(['hook', 'install'], project);
    const first = await npmIn(npm11, ['ci'], project, { stax: false });
    expect(first.code, first.stderr).toBe(0); // npm 7-11: installed first, so node_modules/.bin/stax is there
    const r = await npmIn(npmNext, ['ci'], project, { stax: false });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('stax is not installed');
    expect(tarballGets(since(r.mark))).toEqual([]);
  });
});

describe('the machine npm (7 to 11): the hook runs after installing', () => {
  it('lets an approved npm ci through, but only after every tarball was fetched', async (ctx) => {
    if (npm11.major >= 12 || npm11.major < 7) ctx.skip();
    const project = box.copy(good, 'n11-ci-ok');
    const r = await npmIn(npm11, ['ci'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toContain(`runs this check only after installing`);
    const entry = lastInstallCheck(project)!;
    expect(entry.payload).toMatchObject({ command: 'npm ci', npm: npm11.version, allowed: true });
    const gets = since(r.mark).filter((q) => q.url.endsWith('.tgz'));
    expect(gets).toHaveLength(3);
    expect(Date.parse(entry.ts)).toBeGreaterThanOrEqual(Math.max(...gets.map((g) => g.at)));
  });

  it('fails a blocked npm ci loudly, too late: the package is installed and its install script has run', async (ctx) => {
    if (npm11.major >= 12 || npm11.major < 7) ctx.skip();
    const project = box.copy(good, 'n11-unapproved');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    await lockfileFor(project);
    const r = await npmIn(npm11, ['ci'], project);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\| evil +\| 1\.0\.0 +\| NOT_APPROVED/);
    expect(r.stderr).toContain('TOO LATE TO PREVENT');
    expect(r.stderr).toContain('npm ci --ignore-scripts');
    expect(tarballGets(since(r.mark))).toContain('evil@1.0.0');
    // npm 11 leaves what it installed in place after the failed preinstall.
    expect(existsSync(join(project, 'node_modules', 'evil'))).toBe(true);
    const ran = Number(readFileSync(join(project, 'evil-ran'), 'utf8'));
    expect(ran).toBeLessThanOrEqual(Date.parse(lastInstallCheck(project)!.ts));
  });

  it('checks before npm ci --ignore-scripts when run by hand, as in CI', async () => {
    const project = box.copy(good, 'manual-ci');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    await lockfileFor(project);
    const r = await box.stax(['hook', 'run'], project);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stax hook: ✘ stax hook run blocked: 1 package(s) not allowed');
    expect(r.stderr).not.toContain('TOO LATE');
    expect(lastInstallCheck(project)!.payload).toMatchObject({ command: 'stax hook run', npm: null, allowed: false });
  });
});

describe('stax npm: what the hook cannot see', () => {
  async function snapshot(project: string) {
    return {
      manifest: readFileSync(join(project, 'package.json')),
      lock: readFileSync(join(project, 'package-lock.json')),
      modules: readdirSync(join(project, 'node_modules')).sort(),
      mtime: statSync(join(project, 'node_modules')).mtimeMs,
    };
  }

  for (const which of ['machine', 'npm 12'] as const) {
    it(`blocks npm install <unapproved pkg> (${which} npm) without touching package.json, the lockfile or node_modules`, async () => {
      const npm = which === 'machine' ? npm11 : npmNext;
      const project = box.copy(good, `wrap-block-${which.replace(' ', '')}`);
      const installed = await npmIn(npmNext, ['ci'], project);
      expect(installed.code, installed.stderr).toBe(0);
      const before = await snapshot(project);
      const mark = registry.requests.length;
      const r = await box.stax(['npm', 'install', 'evil'], project, box.env({ npm }));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain('✘ npm install evil: blocked, 1 package(s) not allowed; nothing was changed');
      expect(r.stdout).toMatch(/\| evil +\| 1\.0\.0 +\| NOT_APPROVED/);
      expect(await snapshot(project)).toEqual(before);
      expect(tarballGets(since(mark))).toEqual([]);
      expect(lastInstallCheck(project)!.payload).toMatchObject({ command: 'stax npm install evil', allowed: false });
    });
  }

  it('runs npm install <approved pkg> for real, and the project gets it', async () => {
    const project = box.copy(good, 'wrap-allow');
    editManifest(project, (m) => delete (m.dependencies as Record<string, string>)['two-ver']);
    await lockfileFor(project);
    const r = await box.stax(['npm', 'install', 'two-ver@1.0.0'], project, box.env({ npm: npmNext }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✔ npm install two-ver@1.0.0: checked before running');
    expect((readJson(join(project, 'package.json')).dependencies as Record<string, string>)['two-ver']).toBeDefined();
    expect(existsSync(join(project, 'node_modules', 'two-ver', 'package.json'))).toBe(true);
    expect(guardTrail(project).filter((e) => e.action === 'install.check').map((e) => e.payload.command)).toContain('stax npm install two-ver@1.0.0');
  });
});

describe('stax hook status', () => {
  it('reports npm 12 with the hook, stax, a lockfile and a verified allowlist as covered', async () => {
    const r = await box.stax(['hook', 'status', '--json'], good, box.env({ npm: npmNext }));
    const status = JSON.parse(r.stdout) as { covered: boolean; lines: Array<{ id: string; verdict: string }>; npm: { version: string } };
    expect(status.lines.filter((l) => l.verdict === 'gap')).toEqual([]);
    expect(r.code).toBe(0);
    expect(status.covered).toBe(true);
    expect(status.npm.version).toBe(npmNext.version);
    expect(status.lines.find((l) => l.id === 'install-pkg')?.verdict).toBe('info');
  });

  it('reports npm 7-11 as a gap', async (ctx) => {
    if (npm11.major >= 12) ctx.skip();
    const r = await box.stax(['hook', 'status', '--json'], good, box.env({ npm: npm11 }));
    expect(r.code).toBe(1);
    const status = JSON.parse(r.stdout) as { lines: Array<{ id: string; verdict: string }> };
    expect(status.lines.filter((l) => l.verdict === 'gap').map((l) => l.id)).toEqual(['npm']);
  });

  it('reports ignore-scripts as a gap, and it is one: npm then installs an unapproved package', async () => {
    const project = box.copy(good, 'ignore-scripts');
    editManifest(project, (m) => ((m.dependencies as Record<string, string>).evil = '1.0.0'));
    await lockfileFor(project);
    writeFileSync(join(project, '.npmrc'), `registry=${registry.url}\nignore-scripts=true\n`);
    const s = await box.stax(['hook', 'status', '--json'], project, box.env({ npm: npmNext }));
    expect(s.code).toBe(1);
    const status = JSON.parse(s.stdout) as { lines: Array<{ id: string; verdict: string; found: string }> };
    expect(status.lines.find((l) => l.id === 'ignore-scripts')).toMatchObject({ verdict: 'gap', found: expect.stringContaining(join(project, '.npmrc')) });
    const r = await npmIn(npmNext, ['ci'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(project, 'node_modules', 'evil'))).toBe(true);
  });
});
