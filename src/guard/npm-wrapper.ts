/**
 * `stax npm <args>`: npm, checked before it changes anything. The preinstall hook never
 * sees `npm install <pkg>` (no npm runs it there) and, before npm 12, sees a bare install
 * only after the fact. This wrapper lets the real npm compute the would-be lockfile in a
 * scratch copy of the project (`--package-lock-only --ignore-scripts`: no tarball fetched,
 * no script run), checks that lockfile against the allowlist, and runs the real command in
 * the project only when nothing is blocked. Blocked: it prints why and exits 1, and the
 * project (package.json, lockfile, node_modules) is untouched.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { Writable } from 'node:stream';
import { Exit, StaxError, type ExitCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { CheckResult } from './check.js';
import { recordDecision, type BlockedItem } from './hook.js';
import { findLocalPrefix } from './npm-env.js';

type Env = Record<string, string | undefined>;

/** npm's command names and aliases (npm 11/12 `lib/utils/cmd-list.js`), by what the guard does. */
const FAMILIES: Record<string, 'install' | 'ci' | 'update'> = Object.assign(Object.create(null) as Record<string, 'install' | 'ci' | 'update'>, {
  install: 'install', i: 'install', add: 'install', in: 'install', ins: 'install', inst: 'install', insta: 'install', instal: 'install',
  isnt: 'install', isnta: 'install', isntal: 'install', isntall: 'install', 'install-test': 'install', it: 'install',
  ci: 'ci', 'clean-install': 'ci', ic: 'ci', 'install-clean': 'ci', 'isntall-clean': 'ci', 'install-ci-test': 'ci', cit: 'ci', 'clean-install-test': 'ci', sit: 'ci',
  update: 'update', up: 'update', upgrade: 'update', udpate: 'update',
});

export interface NpmCommand {
  /** The npm command as typed. */
  name: string;
  family: 'install' | 'ci' | 'update';
  /** Everything after the command name. */
  rest: string[];
  /** The package specs among `rest` (arguments that are not options). */
  specs: string[];
}

/** Options of npm install/update that take a value: their value is not a package spec. */
const VALUE_OPTIONS = new Set([
  '--registry', '--cache', '--prefix', '--userconfig', '--globalconfig', '--tag', '--omit', '--include', '--install-strategy',
  '--workspace', '-w', '--lockfile-version', '--before', '--script-shell', '--loglevel', '--save-prefix', '--cpu', '--os', '--libc', '--otp',
]);

/** Reads `npm <command> <args>`: put the npm command first (`stax npm install -D x`). */
export function parseNpmArgs(args: string[]): NpmCommand {
  const [name, ...rest] = args;
  if (name === undefined) throw new StaxError('USAGE', 'give an npm command: stax npm install [pkg...], stax npm ci or stax npm update');
  const family = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
  if (family === undefined) {
    throw new StaxError(
      'USAGE',
      name.startsWith('-')
        ? `put the npm command first: stax npm install ${args.join(' ')}`
        : `stax npm guards install, ci and update; "${name}" installs nothing the guard checks: run npm ${name} directly`,
    );
  }
  const specs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') {
      specs.push(...rest.slice(i + 1));
      break;
    }
    if (a.startsWith('-')) {
      if (a === '-g' || a === '--global' || a === '--location=global' || (a === '--location' && rest[i + 1] === 'global')) {
        throw new StaxError('USAGE', 'stax npm guards a project through its lockfile; a global install (-g) has none: check it with stax check <name>@<version> first');
      }
      if (!a.includes('=') && VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    specs.push(a);
  }
  if (family === 'ci' && specs.length > 0) throw new StaxError('USAGE', `npm ${name} installs the lockfile as it is and takes no packages (${specs.join(' ')})`);
  return { name, family, rest, specs };
}

export interface NpmWrapperOptions {
  cwd: string;
  env: Env;
  /** The npm arguments: command first. */
  args: string[];
  allowlist?: string;
  trustedKeys?: string;
  hmacKeyFile?: string;
  guardTrail?: string | null;
  actor?: string;
  /** The npm program (default `npm` on PATH). */
  npm?: string;
  /** Where the real npm's output goes; default: this process's own streams. */
  output?: { stdout: Writable; stderr: Writable };
}

export interface PlannedChange {
  path: string;
  name: string;
  from: string | null;
  to: string | null;
}

export interface NpmWrapperResult {
  project: string;
  command: string[];
  family: NpmCommand['family'];
  /** The lockfile the check ran on: the scratch one npm computed, or the project's for ci. */
  checkedLockfile: string | null;
  check: CheckResult;
  /** What the command would change in the lockfile (install, update). */
  changes: PlannedChange[];
  blocked: BlockedItem[];
  /** Whether the real command ran. */
  ran: boolean;
  /** The real npm's exit code when it ran. */
  npmExitCode: number | null;
  /**
   * After the real command: did npm install exactly what was checked? When it resolved
   * differently (the registry changed in between), the new lockfile was checked again.
   */
  after: { sameAsChecked: boolean; check: CheckResult | null } | null;
  recorded: { file: string; seq: number } | null;
  recordError: string | null;
}

export async function runNpmGuarded(o: NpmWrapperOptions): Promise<NpmWrapperResult> {
  const cmd = parseNpmArgs(o.args);
  const project = findLocalPrefix(o.cwd);
  const { checkProject } = await import('./check.js');
  const verify = { env: o.env, allowlist: o.allowlist, trustedKeys: o.trustedKeys, hmacKeyFile: o.hmacKeyFile, guardTrail: o.guardTrail };
  const commandLine = ['npm', ...o.args];
  let scratch: string | null = null;
  try {
    let checkedLockfile: string | null;
    let changes: PlannedChange[] = [];
    if (cmd.family === 'ci') {
      checkedLockfile = projectLockfile(project);
      if (checkedLockfile === null) throw new StaxError('FILE_NOT_FOUND', `npm ${cmd.name} needs a lockfile, and there is none: create one with stax npm install`, { file: project });
    } else {
      scratch = mkdtempSync(join(tmpdir(), 'stax-npm-'));
      copyProject(project, scratch);
      const args = [cmd.name, ...cmd.rest, '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'];
      const npm = await runNpm(o.npm ?? 'npm', args, scratch, withoutSecrets(o.env), 'capture');
      if (npm.code !== 0) {
        const tail = npm.output.trim().split('\n').slice(-12).join('\n');
        throw new StaxError('INPUT_INVALID', `npm could not work out what "${['npm', ...o.args].join(' ')}" would install (exit ${npm.code}), so nothing was changed:\n${tail}`);
      }
      checkedLockfile = projectLockfile(scratch);
      if (checkedLockfile === null) throw new StaxError('INTERNAL', 'npm wrote no lockfile in the scratch folder (is package-lock=false set?); nothing was changed');
      changes = lockfileChanges(projectLockfile(project), checkedLockfile);
    }
    const check = await checkProject({ cwd: project, lockfile: checkedLockfile, ...verify });
    const blocked = check.packages.filter((p) => p.status === 'blocked').map((p) => ({ name: p.name, version: p.version, codes: p.reasons.map((r) => r.code) }));
    const rec = await recordDecision({ cwd: project, ...verify }, { result: check, error: null, blocked, allowed: blocked.length === 0, command: `stax ${commandLine.join(' ')}`, npmVersion: null, actor: o.actor });
    const base = { project, command: commandLine, family: cmd.family, checkedLockfile, check, changes, blocked, ...rec };
    if (blocked.length > 0) return { ...base, ran: false, npmExitCode: null, after: null };

    // A bare install takes exactly the lockfile just checked: npm would write the same one,
    // and npm 12's preinstall hook then sees a lockfile that matches package.json.
    if (cmd.family === 'install' && cmd.specs.length === 0 && scratch !== null) {
      const target = join(project, checkedLockfile.slice(scratch.length + 1));
      const next = readFileSync(checkedLockfile);
      if (!existsSync(target) || !readFileSync(target).equals(next)) writeFileAtomic(target, next, { overwrite: true });
    }
    const real = await runNpm(o.npm ?? 'npm', o.args, project, o.env, o.output ?? 'inherit');
    let after: NpmWrapperResult['after'] = null;
    if (real.code === 0 && cmd.family !== 'ci') {
      const now = projectLockfile(project);
      const same = now !== null && lockfileChanges(checkedLockfile, now).length === 0;
      after = { sameAsChecked: same, check: same || now === null ? null : await checkProject({ cwd: project, lockfile: now, ...verify }) };
    }
    return { ...base, ran: true, npmExitCode: real.code, after };
  } finally {
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}

export function wrapperExitCode(r: NpmWrapperResult): ExitCode {
  if (r.blocked.length > 0) return Exit.CHECK_FAILED;
  if (r.after?.check !== null && r.after?.check !== undefined && !r.after.check.ok) return Exit.CHECK_FAILED;
  if (r.npmExitCode !== null && r.npmExitCode !== 0) return Exit.USAGE;
  return Exit.OK;
}

function projectLockfile(dir: string): string | null {
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

/** The environment for npm in the scratch folder: no stax secrets (it runs no scripts, but still). */
function withoutSecrets(env: Env): Env {
  const out: Env = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('STAX_')) out[k] = v;
  return out;
}

/**
 * What npm reads to resolve: package.json, the lockfile, the project .npmrc, the
 * package.json of each workspace folder, and `file:` dependencies inside the project
 * (linked, not copied).
 */
function copyProject(project: string, scratch: string): void {
  for (const name of ['package.json', 'npm-shrinkwrap.json', 'package-lock.json', '.npmrc']) {
    if (existsSync(join(project, name))) copyFileSync(join(project, name), join(scratch, name));
  }
  const inside = (rel: string): string | null => {
    const n = normalize(rel);
    return n === '' || n === '.' || isAbsolute(n) || n.startsWith('..') || n.split(sep).includes('node_modules') ? null : n;
  };
  const link = (rel: string): void => {
    const n = inside(rel);
    if (n === null || !existsSync(join(project, n)) || existsSync(join(scratch, n))) return;
    mkdirSync(dirname(join(scratch, n)), { recursive: true });
    symlinkSync(join(project, n), join(scratch, n), lstatSync(join(project, n)).isDirectory() ? 'dir' : 'file');
  };
  const manifest = readJson(join(project, 'package.json'));
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = manifest?.[field];
    if (deps === null || typeof deps !== 'object') continue;
    for (const spec of Object.values(deps as Record<string, unknown>)) {
      if (typeof spec === 'string' && spec.startsWith('file:')) link(spec.slice(5));
    }
  }
  const lock = readJson(projectLockfile(project) ?? '');
  const packages = lock?.packages;
  if (packages !== null && typeof packages === 'object') {
    for (const key of Object.keys(packages as object)) {
      const n = inside(key);
      if (n === null || !existsSync(join(project, n, 'package.json'))) continue;
      // A workspace folder: npm needs its package.json (and reads nothing else of it to resolve).
      mkdirSync(join(scratch, n), { recursive: true });
      if (!existsSync(join(scratch, n, 'package.json'))) copyFileSync(join(project, n, 'package.json'), join(scratch, n, 'package.json'));
    }
  }
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8').replace(/^\ufeff/, '')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Packages added, removed or changed (version, integrity or source) between two lockfiles. */
export function lockfileChanges(before: string | null, after: string): PlannedChange[] {
  const entries = (file: string | null): Map<string, { name: string; version: string; key: string }> => {
    const out = new Map<string, { name: string; version: string; key: string }>();
    const packages = file === null ? null : readJson(file)?.packages;
    if (packages === null || packages === undefined || typeof packages !== 'object') return out;
    for (const [path, raw] of Object.entries(packages as Record<string, unknown>)) {
      if (path === '' || raw === null || typeof raw !== 'object') continue;
      const e = raw as Record<string, unknown>;
      const name = typeof e.name === 'string' ? e.name : path.slice(path.lastIndexOf('node_modules/') + 13);
      const version = typeof e.version === 'string' ? e.version : '';
      out.set(path, { name, version, key: JSON.stringify([version, e.integrity ?? null, e.resolved ?? null, e.link ?? null]) });
    }
    return out;
  };
  const a = entries(before);
  const b = entries(after);
  const changes: PlannedChange[] = [];
  for (const [path, e] of b) {
    const old = a.get(path);
    if (old === undefined) changes.push({ path, name: e.name, from: null, to: e.version });
    else if (old.key !== e.key) changes.push({ path, name: e.name, from: old.version, to: e.version });
  }
  for (const [path, e] of a) if (!b.has(path)) changes.push({ path, name: e.name, from: e.version, to: null });
  return changes;
}

/** Runs npm; 'capture' collects its output, 'inherit' shares this process's terminal. */
function runNpm(npm: string, args: string[], cwd: string, env: Env, stdio: 'capture' | 'inherit' | { stdout: Writable; stderr: Writable }): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(npm, args, {
      cwd,
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
      stdio: stdio === 'inherit' ? ['inherit', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
      // npm is npm.cmd on Windows, which only a shell can start.
      shell: process.platform === 'win32',
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    if (stdio !== 'inherit') {
      child.stdout?.on('data', (d: Buffer) => (stdio === 'capture' ? chunks.push(d) : stdio.stdout.write(d)));
      child.stderr?.on('data', (d: Buffer) => (stdio === 'capture' ? chunks.push(d) : stdio.stderr.write(d)));
    }
    child.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? new StaxError('FILE_NOT_FOUND', `cannot run ${npm}: not on PATH`, { cause: err }) : err),
    );
    child.on('close', (code, signal) => done({ code: code ?? (signal === null ? 1 : 128), output: Buffer.concat(chunks).toString('utf8') }));
  });
}
