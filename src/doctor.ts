/**
 * `stax doctor`: the facts a bug report needs, gathered without side effects. It reports
 * versions, the platform, how the project is set up (install hook, ignore-scripts, the files
 * under .stax/), the signing keys and their permissions, and which variables are set.
 *
 * Secrets never leave this module: environment variables are reported as set or unset, never
 * with their values; key files are read only to check them; the package.json script that runs
 * the hook is reduced to the program and sub-command it runs (a script line may carry an
 * inline `STAX_HMAC_KEY=...`); and npm runs without any STAX_* variable in its environment.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { arch, homedir, release } from 'node:os';
import { join, sep } from 'node:path';
import semver from 'semver';
import { keyDir, listKeys } from './keys/store.js';
import { PROJECT_DIR } from './trail/paths.js';

export type DoctorCode =
  /** A private key file that group or others can access. */
  | 'KEY_INSECURE'
  /** A file in the key folder that is not a usable stax private key. */
  | 'KEY_INVALID'
  /** The key folder exists but cannot be listed. */
  | 'KEY_DIR_UNREADABLE'
  /** ./package.json is not valid JSON. */
  | 'PACKAGE_JSON_INVALID'
  /** This Node.js is outside the versions stax supports. */
  | 'NODE_UNSUPPORTED'
  /** npm did not answer (not installed, or timed out). */
  | 'NPM_UNAVAILABLE'
  /** The install hook is installed but ignore-scripts stops npm from running it. */
  | 'HOOK_NOT_RUN'
  /** A lock file beside a chain: an append in progress, or one that crashed. */
  | 'LOCK_PRESENT';

export interface Finding {
  /** A problem makes doctor exit 1; a warning is worth knowing. */
  severity: 'problem' | 'warning';
  code: DoctorCode;
  message: string;
}

export interface DoctorOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** stax's own version. */
  version: string;
  /** The name stax was called by. */
  programName: string;
  /** The Node.js versions stax supports (package.json engines.node). */
  nodeRange?: string;
  /** How long each npm child process may take (ms). */
  npmTimeoutMs?: number;
  terminal?: { stdout: boolean; stderr: boolean; colorLevel: number };
}

export interface KeyFacts {
  name: string;
  keyId: string;
  mode: string;
  secure: boolean;
  problem: string | null;
}

export interface DoctorReport {
  stax: { version: string; calledAs: string };
  node: { version: string; supported: boolean | null; range: string | null };
  npm: { version: string | null; error: string | null };
  platform: { os: string; release: string; arch: string };
  project: {
    packageJson: 'present' | 'absent' | 'invalid';
    /** A "stax" configuration key in package.json. */
    staxConfigInPackageJson: boolean;
    /** The install-lifecycle script that runs stax, if any. */
    hook: { installed: boolean; script: string | null; runs: string | null };
    /** npm's effective ignore-scripts setting in this folder, or null when npm did not say. */
    ignoreScripts: boolean | null;
    /** Files under .stax/, relative to the working directory. */
    files: Array<{ path: string; exists: boolean }>;
  };
  keys: { dir: string; exists: boolean; keys: KeyFacts[] };
  /** Each variable that matters, as "set" or "unset": never its value. */
  environment: Record<string, 'set' | 'unset'>;
  terminal: { stdout: boolean; stderr: boolean; colorLevel: number } | null;
  findings: Finding[];
  /** No finding of severity problem. */
  ok: boolean;
}

const KNOWN_VARIABLES = ['STAX_HMAC_KEY', 'STAX_HMAC_KEY_PREVIOUS', 'STAX_SIGNING_KEY', 'STAX_KEY_DIR', 'STAX_ACTOR', 'STAX_DEBUG', 'XDG_CONFIG_HOME', 'NO_COLOR', 'FORCE_COLOR', 'CI', 'TERM'];
const PROJECT_FILES = ['config.json', 'trail.jsonl', 'trail.jsonl.checkpoint', 'allowlist.json', 'trusted-keys.txt', 'guard.jsonl', 'codebank.jsonl'];
/** npm lifecycle scripts that run during `npm install` (npm docs, "Life Cycle Operation Order"). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'preprepare', 'prepare', 'postprepare', 'dependencies'];
const RUNS_STAX = /(?:^|[\s;&|(])(?:npx\s+(?:--no-install\s+|--no\s+|-y\s+)?)?(stax|tracehound)(?:\s+([a-z][\w-]*))?(?=\s|$|[;&|)])/;

export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
  const findings: Finding[] = [];
  const { env, cwd } = options;
  const npmEnv = childEnv(env);
  const timeout = options.npmTimeoutMs ?? 10_000;
  const [npmVersion, ignoreScripts] = await Promise.all([
    // --logs-max=0: npm would otherwise leave a debug log in its cache for every run.
    runNpm(['--version', '--logs-max=0'], cwd, npmEnv, timeout),
    runNpm(['config', 'get', 'ignore-scripts', '--logs-max=0'], cwd, npmEnv, timeout),
  ]);
  if (npmVersion.error !== null) findings.push({ severity: 'warning', code: 'NPM_UNAVAILABLE', message: `npm --version: ${npmVersion.error}` });

  const range = options.nodeRange ?? null;
  const supported = range === null ? null : semver.satisfies(process.versions.node, range);
  if (supported === false) findings.push({ severity: 'problem', code: 'NODE_UNSUPPORTED', message: `Node.js ${process.version} is not one stax supports (${range})` });

  const project = projectFacts(cwd, findings);
  const ignore = ignoreScripts.value === 'true' ? true : ignoreScripts.value === 'false' ? false : null;
  if (project.hook.installed && ignore === true) {
    findings.push({
      severity: 'warning',
      code: 'HOOK_NOT_RUN',
      message: `the ${project.hook.script} script runs ${project.hook.runs}, but npm's ignore-scripts is true here: npm install runs no lifecycle script, so the hook never runs`,
    });
  }

  return {
    stax: { version: options.version, calledAs: options.programName },
    node: { version: process.version, supported, range },
    npm: { version: npmVersion.value, error: npmVersion.error },
    platform: { os: process.platform, release: release(), arch: arch() },
    project: { ...project, ignoreScripts: ignore },
    keys: keyFacts(env, findings),
    environment: environmentFacts(env),
    terminal: options.terminal ?? null,
    findings,
    ok: !findings.some((f) => f.severity === 'problem'),
  };
}

/** The environment for npm: the caller's, less every STAX_* variable (npm needs none). */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('STAX_')) out[k] = v;
  return out;
}

function runNpm(args: string[], cwd: string, env: NodeJS.ProcessEnv, timeout: number): Promise<{ value: string | null; error: string | null }> {
  return new Promise((resolve) => {
    // npm is npm.cmd on Windows, which only a shell can start.
    execFile('npm', args, { cwd, env, timeout, windowsHide: true, shell: process.platform === 'win32', maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err === null) {
        resolve({ value: stdout.trim(), error: null });
        return;
      }
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const why = e.code === 'ENOENT' ? 'npm is not on PATH' : e.killed ? `no answer within ${timeout / 1000} s` : `failed (${String(e.code ?? 'error')})`;
      resolve({ value: null, error: why });
    });
  });
}

function projectFacts(cwd: string, findings: Finding[]): Omit<DoctorReport['project'], 'ignoreScripts'> {
  let packageJson: DoctorReport['project']['packageJson'] = 'absent';
  let staxConfig = false;
  const hook: DoctorReport['project']['hook'] = { installed: false, script: null, runs: null };
  const pkgFile = join(cwd, 'package.json');
  if (existsSync(pkgFile)) {
    try {
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8').replace(/^\ufeff/, '')) as unknown;
      packageJson = 'present';
      if (pkg !== null && typeof pkg === 'object' && !Array.isArray(pkg)) {
        const manifest = pkg as Record<string, unknown>;
        staxConfig = Object.hasOwn(manifest, 'stax');
        const scripts = manifest.scripts;
        if (scripts !== null && typeof scripts === 'object') {
          for (const name of INSTALL_SCRIPTS) {
            const command = (scripts as Record<string, unknown>)[name];
            const m = typeof command === 'string' ? RUNS_STAX.exec(command) : null;
            if (m !== null) {
              hook.installed = true;
              hook.script = name;
              hook.runs = m[2] === undefined ? m[1]! : `${m[1]} ${m[2]}`;
              break;
            }
          }
        }
      }
    } catch (err) {
      packageJson = 'invalid';
      const why = err instanceof SyntaxError ? 'not valid JSON' : `unreadable (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
      findings.push({ severity: 'problem', code: 'PACKAGE_JSON_INVALID', message: `./package.json is ${why}; npm cannot install this project` });
    }
  }
  const dir = join(cwd, PROJECT_DIR);
  const files = PROJECT_FILES.map((name) => ({ path: `${PROJECT_DIR}/${name}`, exists: existsSync(join(dir, name)) }));
  try {
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.lock')) {
        findings.push({ severity: 'warning', code: 'LOCK_PRESENT', message: `${PROJECT_DIR}/${name} exists: an append is in progress, or a writer died holding it (the next writer removes a dead holder's lock)` });
      }
    }
  } catch {
    // No .stax/ folder: nothing set up yet, which is a fact, not a problem.
  }
  return { packageJson, staxConfigInPackageJson: staxConfig, hook, files };
}

function keyFacts(env: Record<string, string | undefined>, findings: Finding[]): DoctorReport['keys'] {
  const dir = keyDir(env);
  const shown = tildify(dir, env);
  const exists = existsSync(dir);
  let listed: ReturnType<typeof listKeys>['keys'] = [];
  try {
    listed = listKeys(env).keys;
  } catch (err) {
    findings.push({ severity: 'problem', code: 'KEY_DIR_UNREADABLE', message: `the key folder ${shown} cannot be listed (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
  }
  const keys = listed.map((k) => ({ name: k.name, keyId: k.keyId, mode: k.mode, secure: k.secure, problem: k.problem }));
  for (const k of listed) {
    if (!k.secure) {
      findings.push({ severity: 'problem', code: 'KEY_INSECURE', message: `key ${k.name} (${tildify(k.file, env)}) has mode ${k.mode}: group or others can access it. Fix with: chmod 600 ${shellPath(k.file, env)}` });
    } else if (k.problem !== null) {
      findings.push({ severity: 'problem', code: 'KEY_INVALID', message: `key file ${tildify(k.file, env)}: ${k.problem}` });
    }
  }
  if (exists) {
    try {
      const mode = statSync(dir).mode & 0o777;
      if ((mode & 0o022) !== 0) {
        findings.push({ severity: 'problem', code: 'KEY_INSECURE', message: `the key folder ${shown} has mode ${mode.toString(8).padStart(3, '0')}: others can add or replace keys in it. Fix with: chmod 700 ${shellPath(dir, env)}` });
      }
    } catch {
      // Listed above already, or gone since: nothing more to say.
    }
  }
  return { dir: shown, exists, keys };
}

function environmentFacts(env: Record<string, string | undefined>): Record<string, 'set' | 'unset'> {
  const names = [...KNOWN_VARIABLES, ...Object.keys(env).filter((k) => k.startsWith('STAX_') && !KNOWN_VARIABLES.includes(k)).sort()];
  const out: Record<string, 'set' | 'unset'> = {};
  for (const name of names) out[name] = env[name] === undefined ? 'unset' : 'set';
  return out;
}

/** A path under the home folder as ~/..., so a report does not carry the user's home path. */
function tildify(path: string, env: Record<string, string | undefined>): string {
  const home = env.HOME || homedir();
  return home !== '' && (path === home || path.startsWith(home + sep)) ? `~${path.slice(home.length)}` : path;
}

/** A path for a command line to paste: "$HOME/..." under the home folder, else single-quoted. */
function shellPath(path: string, env: Record<string, string | undefined>): string {
  const shown = tildify(path, env);
  return shown.startsWith('~') ? `"$HOME${shown.slice(1).replace(/["$`\\]/g, '\\$&')}"` : `'${path.replace(/'/g, `'\\''`)}'`;
}
