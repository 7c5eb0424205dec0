/**
 * Facts about the npm that runs (or would run) the install hook: which version, which
 * command, whether it runs the project's `preinstall` before it fetches anything, and
 * whether `ignore-scripts` switches the hook off.
 *
 * What npm does, observed with npm 11.19 and 12.2 against a local registry (test/guard/e2e):
 *  - npm 12 runs the root `preinstall` of a bare `npm install` before it resolves or fetches
 *    anything (the lockfile is still the one on disk), and that of `npm ci` after it has
 *    checked the lockfile against package.json and emptied node_modules, before any tarball
 *    is fetched.
 *  - npm 7 to 11 run it only after every dependency is fetched, unpacked and (npm 11: with a
 *    warning) its install scripts run: the hook can still fail the command, not prevent it.
 *  - No npm runs the root `preinstall` for `npm install <pkg>`.
 *  - `ignore-scripts` (any npmrc, `npm_config_ignore_scripts`, `--ignore-scripts`) stops it.
 *
 * This module is on the hook's start-up path: node built-ins only.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

/** When npm runs the root project's `preinstall` relative to fetching the dependencies. */
export type PreinstallTiming = 'before-fetch' | 'after-install' | 'unknown';

/** The first npm major that runs the root preinstall before fetching. */
export const FIRST_EARLY_PREINSTALL_MAJOR = 12;

export interface NpmInvocation {
  /** True when npm runs this process as the project's `preinstall` script. */
  underNpm: boolean;
  /** `npm_lifecycle_event`: `preinstall` under the hook. */
  event: string | null;
  /** `npm_command`: `install`, `ci`, `update`, ... */
  command: string | null;
  /** npm's version, from `npm_config_user_agent` (else `npm_config_npm_version`). */
  npmVersion: string | null;
  /** The Node.js version npm reports running on. */
  nodeVersion: string | null;
  timing: PreinstallTiming;
  /** `npm_package_json`: the package.json whose script this is. */
  packageJson: string | null;
  /** `INIT_CWD`: where the user ran npm. */
  initCwd: string | null;
}

/** `npm/11.19.1 node/v20.20.2 linux x64 workspaces/false` → versions. */
export function parseUserAgent(ua: string | undefined): { npm: string; node: string | null } | null {
  if (ua === undefined) return null;
  const npm = /(?:^|\s)npm\/(\d+\.\d+\.\d+[^\s]*)/.exec(ua);
  if (npm === null) return null;
  const node = /(?:^|\s)node\/v?(\d+\.\d+\.\d+[^\s]*)/.exec(ua);
  return { npm: npm[1]!, node: node === null ? null : node[1]! };
}

export function npmMajor(version: string | null): number | null {
  if (version === null) return null;
  const m = /^(\d+)\./.exec(version);
  return m === null ? null : Number(m[1]);
}

export function preinstallTiming(npmVersion: string | null): PreinstallTiming {
  const major = npmMajor(npmVersion);
  if (major === null) return 'unknown';
  if (major >= FIRST_EARLY_PREINSTALL_MAJOR) return 'before-fetch';
  // npm 6 and older are out of support; they too ran the root script after installing.
  return 'after-install';
}

export function npmInvocation(env: Env): NpmInvocation {
  const ua = parseUserAgent(env.npm_config_user_agent);
  const npmVersion = ua?.npm ?? nonEmpty(env.npm_config_npm_version);
  const event = nonEmpty(env.npm_lifecycle_event);
  return {
    underNpm: event === 'preinstall',
    event,
    command: nonEmpty(env.npm_command),
    npmVersion,
    nodeVersion: ua?.node ?? null,
    timing: preinstallTiming(npmVersion),
    packageJson: nonEmpty(env.npm_package_json),
    initCwd: nonEmpty(env.INIT_CWD),
  };
}

function nonEmpty(s: string | undefined): string | null {
  return s === undefined || s === '' ? null : s;
}

// ---- npmrc ------------------------------------------------------------------------------

export type NpmrcLevel = 'env' | 'project' | 'user' | 'global' | 'builtin';

export interface NpmrcFile {
  level: Exclude<NpmrcLevel, 'env'>;
  file: string;
}

/**
 * npm's local prefix: the nearest folder at or above `cwd` with a package.json or a
 * node_modules folder (npm's own rule), else `cwd`.
 */
export function findLocalPrefix(cwd: string): string {
  let dir = resolve(cwd);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'node_modules'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(cwd);
    dir = up;
  }
}

/** A config value from the environment as npm reads it: `npm_config_<key>`, any case, `-` as `_`. */
export function envConfig(env: Env, key: string): { name: string; value: string } | null {
  const want = `npm_config_${key.replace(/-/g, '_')}`.toLowerCase();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.toLowerCase() === want) return { name, value };
  }
  return null;
}

/** The npmrc files npm reads for a project, lowest precedence first. */
export function npmrcFiles(cwd: string, env: Env): NpmrcFile[] {
  const files: NpmrcFile[] = [];
  const execpath = nonEmpty(env.npm_execpath);
  if (execpath !== null) files.push({ level: 'builtin', file: join(dirname(dirname(execpath)), 'npmrc') });
  const prefix = envConfig(env, 'prefix')?.value ?? (process.platform === 'win32' ? dirname(process.execPath) : dirname(dirname(process.execPath)));
  files.push({ level: 'global', file: envConfig(env, 'globalconfig')?.value ?? join(prefix, 'etc', 'npmrc') });
  const user = envConfig(env, 'userconfig')?.value ?? join(env.HOME || homedir(), '.npmrc');
  files.push({ level: 'user', file: user });
  const project = join(findLocalPrefix(cwd), '.npmrc');
  // npm skips the project file when it is the user file (a project in the home folder).
  if (resolve(project) !== resolve(user)) files.push({ level: 'project', file: project });
  return files;
}

/**
 * The `key = value` pairs of an npmrc (ini without sections, as npm writes them), `${VAR}`
 * expanded as npm does. A missing or unreadable file is empty.
 */
export function readNpmrc(file: string, env: Env): Map<string, string> {
  const out = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    let value = eq < 0 ? 'true' : line.slice(eq + 1).trim();
    if (/^"(?:[^"\\]|\\.)*"$/.test(value)) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        // keep as written
      }
    }
    value = value.replace(/(\\*)\$\{([^${}]+)\}/g, (all, slashes: string, name: string) => (slashes.length % 2 === 1 ? all.slice(1) : slashes + (env[name] ?? '')));
    out.set(key, value);
  }
  return out;
}

export interface SettingSource {
  level: NpmrcLevel;
  /** The npmrc file, or the environment variable's name. */
  where: string;
  value: string;
}

export interface IgnoreScriptsFacts {
  /** The value npm uses, by precedence of the sources below (env wins over project over user ...). */
  effective: boolean;
  /** Every place that sets ignore-scripts, lowest precedence first. */
  sources: SettingSource[];
}

export function isTrue(value: string): boolean {
  return value.trim().toLowerCase() === 'true';
}

/** Where ignore-scripts is set for this project, and what npm will make of it. */
export function ignoreScripts(cwd: string, env: Env): IgnoreScriptsFacts {
  const sources: SettingSource[] = [];
  for (const f of npmrcFiles(cwd, env)) {
    const value = readNpmrc(f.file, env).get('ignore-scripts');
    if (value !== undefined) sources.push({ level: f.level, where: f.file, value });
  }
  const fromEnv = envConfig(env, 'ignore-scripts');
  if (fromEnv !== null) sources.push({ level: 'env', where: fromEnv.name, value: fromEnv.value });
  const last = sources[sources.length - 1];
  // In the environment npm reads an empty value as false; in an npmrc, a bare key as true.
  return { effective: last !== undefined && isTrue(last.value), sources };
}

// ---- asking npm itself ------------------------------------------------------------------

export interface NpmAnswer {
  value: string | null;
  /** Why there is no value: npm missing, timed out, failed. */
  error: string | null;
}

/** Runs `npm <args>` and returns its trimmed stdout. Never throws. */
export function askNpm(args: string[], cwd: string, env: Env, timeoutMs: number, npm = 'npm'): Promise<NpmAnswer> {
  return new Promise((done) => {
    const childEnv: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('STAX_')) childEnv[k] = v;
    // npm is npm.cmd on Windows, which only a shell can start.
    execFile(npm, args, { cwd, env: childEnv, timeout: timeoutMs, windowsHide: true, shell: process.platform === 'win32', maxBuffer: 1024 * 1024 }, (err, stdout) => {
      if (err === null) {
        done({ value: stdout.trim(), error: null });
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      done({ value: null, error: e.code === 'ENOENT' ? 'npm is not on PATH' : e.killed ? `no answer within ${timeoutMs / 1000} s` : `npm ${args.join(' ')} failed (${String(e.code ?? 'error')})` });
    });
  });
}

/** Finds a program on PATH the way a shell would; null when absent. */
export function whichOnPath(program: string, env: Env): string | null {
  const path = env.PATH ?? env.Path ?? '';
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    for (const ext of exts) {
      const candidate = join(dir, program + ext);
      if (existsSync(candidate)) return candidate;
    }
  }
  return null;
}
