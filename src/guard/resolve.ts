/**
 * What the user's npm would fetch: its effective registry settings, and (for approvals) the
 * version, integrity, tarball host and install scripts of `name@version` on that registry.
 *
 * Settings come from `npm config list --json`, run once, which applies npm's own precedence
 * (builtin, global, user and project .npmrc, environment). That listing leaves out auth
 * (`//host/:_authToken` and friends), so those keys are read from the same .npmrc files,
 * with `${VAR}` expanded as npm does; they go to pacote only and are never printed. When npm
 * cannot be run, the .npmrc files and `npm_config_*` variables are read directly.
 *
 * pacote is imported only inside resolvePackage: the install hook's check path loads this
 * module for the registry settings alone.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { StaxError } from '../errors.js';
import { GuardError } from './allowlist.js';
import { isValidIntegrity } from './lockfile-spec.js';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

export interface NpmConfig {
  /** The default registry, ending in "/". */
  registry: string;
  /** Scoped registries: `@acme` → URL. */
  scopes: Record<string, string>;
  strictSSL: boolean;
  /** CA certificates (PEM), from `ca` or the `cafile`. */
  ca: string[] | null;
  proxy: string | null;
  httpsProxy: string | null;
  noProxy: string | null;
  /** Where the settings came from. */
  source: 'npm' | 'npmrc';
  /**
   * `//host/path/:_authToken`-style keys. Secrets: a non-enumerable property, so that
   * JSON.stringify of a config (in --json output, say) never shows them.
   */
  readonly auth: Record<string, string>;
}

type Env = Record<string, string | undefined>;

/** Loads npm's effective registry settings for a project folder. */
export async function loadNpmConfig(cwd: string, env: Env): Promise<NpmConfig> {
  const listed = await npmConfigList(cwd, env);
  const localPrefix = findLocalPrefix(cwd);
  const userconfig = str(listed?.userconfig) ?? envConfig(env, 'userconfig') ?? join(env.HOME || homedir(), '.npmrc');
  const globalconfig = str(listed?.globalconfig) ?? envConfig(env, 'globalconfig') ?? join(dirname(dirname(process.execPath)), 'etc', 'npmrc');
  // npm's order: global, then user, then project; later files win. The project file is
  // skipped when it is the user file (a project in the home folder).
  const files = [globalconfig, userconfig];
  const projectRc = join(localPrefix, '.npmrc');
  if (projectRc !== userconfig) files.push(projectRc);
  const fromFiles: Record<string, string> = Object.create(null);
  for (const f of files) Object.assign(fromFiles, readNpmrc(f, env));
  const auth: Record<string, string> = Object.create(null);
  // A `${VAR}` left unexpanded (the variable is not set) is no credential: npm refuses it too.
  for (const [k, v] of Object.entries(fromFiles)) if (k.startsWith('//') && !/\$\{[^}]*\}/.test(v)) auth[k] = v;

  let settings: Record<string, unknown>;
  let source: NpmConfig['source'];
  if (listed !== null) {
    settings = listed;
    source = 'npm';
  } else {
    settings = { ...fromFiles };
    for (const [k, v] of Object.entries(env)) {
      const m = /^npm_config_(.+)$/i.exec(k);
      if (m !== null && v !== undefined) settings[m[1]!.toLowerCase().replace(/(?!^)_/g, '-')] = v;
    }
    source = 'npmrc';
  }
  const scopes: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(settings)) {
    const m = /^(@[^:]+):registry$/.exec(k);
    if (m !== null && typeof v === 'string' && v !== '') scopes[m[1]!] = withSlash(v);
  }
  const config: NpmConfig = {
    registry: withSlash(str(settings.registry) ?? DEFAULT_REGISTRY),
    scopes,
    strictSSL: settings['strict-ssl'] !== false && settings['strict-ssl'] !== 'false',
    ca: readCa(settings),
    proxy: str(settings.proxy),
    httpsProxy: str(settings['https-proxy']),
    noProxy: Array.isArray(settings.noproxy) ? settings.noproxy.filter((x) => typeof x === 'string' && x !== '').join(',') || null : str(settings.noproxy),
    source,
    auth: {},
  };
  Object.defineProperty(config, 'auth', { value: auth, enumerable: false });
  return config;
}

/** The registry npm uses for a package: its scope's, else the default. */
export function registryFor(name: string, config: Pick<NpmConfig, 'registry' | 'scopes'>): string {
  if (name.startsWith('@')) {
    const scope = name.slice(0, name.indexOf('/'));
    if (Object.hasOwn(config.scopes, scope)) return config.scopes[scope]!;
  }
  return config.registry;
}

/** `host[:port]` of a URL, as lockfile registryHost and allowlist hosts spell it. */
export function hostOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.host === '' ? null : u.host.toLowerCase();
  } catch {
    return null;
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function envConfig(env: Env, key: string): string | null {
  for (const [k, v] of Object.entries(env)) if (k.toLowerCase() === `npm_config_${key}` && v) return v;
  return null;
}

function readCa(settings: Record<string, unknown>): string[] | null {
  const ca = settings.ca;
  if (typeof ca === 'string' && ca !== '') return [ca];
  if (Array.isArray(ca)) return ca.filter((x): x is string => typeof x === 'string');
  const cafile = str(settings.cafile);
  if (cafile === null) return null;
  try {
    // npm splits a cafile into its certificates the same way.
    const text = readFileSync(cafile, 'utf8');
    const certs = text.split(/(?<=-----END CERTIFICATE-----)/).map((c) => c.trim()).filter((c) => c.startsWith('-----BEGIN'));
    return certs.length > 0 ? certs : null;
  } catch {
    return null;
  }
}

/** Runs `npm config list --json`; null when npm cannot be run or says nothing usable. */
function npmConfigList(cwd: string, env: Env): Promise<Record<string, unknown> | null> {
  const childEnv = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  return new Promise((done) => {
    execFile('npm', ['config', 'list', '--json'], { cwd, env: childEnv, timeout: 30_000, maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
      if (err !== null) return done(null);
      try {
        const v = JSON.parse(stdout) as unknown;
        done(typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
      } catch {
        done(null);
      }
    });
  });
}

/** The folder npm treats as the project: the nearest with package.json or node_modules. */
function findLocalPrefix(cwd: string): string {
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'node_modules'))) return dir;
    if (dirname(dir) === dir) return cwd;
  }
}

/** Reads one .npmrc (ini: `key = value`, `;`/`#` comments), expanding `${VAR}` from env. */
export function readNpmrc(file: string, env: Env): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  return parseNpmrc(text, env);
}

export function parseNpmrc(text: string, env: Env): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const expand = (s: string): string => s.replace(/(?<!\\)\$\{([^${}?]+)(\?)?\}/g, (m, name: string, optional?: string) => env[name] ?? (optional ? '' : m));
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = expand((eq < 0 ? line : line.slice(0, eq)).trim());
    let value = eq < 0 ? 'true' : line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      try {
        value = String(JSON.parse(value));
      } catch {
        value = value.slice(1, -1);
      }
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    if (key !== '') out[key] = expand(value);
  }
  return out;
}

// ---- resolving a package ----------------------------------------------------------------

export interface ResolvedPackage {
  name: string;
  version: string;
  /** SRI from the registry's dist.integrity (or its sha1 shasum for very old packages). */
  integrity: string;
  tarball: string;
  /** `host[:port]` of the tarball URL. */
  host: string;
  /** preinstall, install or postinstall script, or a binding.gyp npm would build. */
  installScript: boolean;
  registry: string;
  /** True when no version was asked for and the `latest` tag was taken. */
  latest: boolean;
  deprecated: string | null;
}

interface Manifest {
  name?: unknown;
  version?: unknown;
  _integrity?: unknown;
  _resolved?: unknown;
  scripts?: unknown;
  hasInstallScript?: unknown;
  gypfile?: unknown;
  deprecated?: unknown;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_SOCKET_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'FETCH_ERROR', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Resolves `name@version` (or the `latest` tag) on the configured registry. A registry that
 * cannot be reached is an error, never a pass; so is a manifest naming another package or
 * version than the one asked for.
 */
export async function resolvePackage(name: string, version: string | undefined, config: NpmConfig): Promise<ResolvedPackage> {
  if (version !== undefined && semver.valid(version) !== version) {
    throw new StaxError('USAGE', `"${version}" is not an exact version; give one (4.17.21), or approve a range with --range`);
  }
  const registry = registryFor(name, config);
  const { default: pacote } = await import('pacote');
  // A private cache: an unreachable registry must fail here, not be answered from a stale copy.
  const cache = mkdtempSync(join(tmpdir(), 'stax-pacote-'));
  const options: Record<string, unknown> = {
    ...config.auth,
    registry: config.registry,
    fullMetadata: true,
    preferOnline: true,
    cache,
    strictSSL: config.strictSSL,
    retry: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    timeout: 60_000,
  };
  for (const [scope, url] of Object.entries(config.scopes)) options[`${scope}:registry`] = url;
  if (config.ca !== null) options.ca = config.ca;
  if (config.proxy !== null) options.proxy = config.proxy;
  if (config.httpsProxy !== null) options.httpsProxy = config.httpsProxy;
  if (config.noProxy !== null) options.noProxy = config.noProxy;
  let m: Manifest;
  try {
    m = (await pacote.manifest(`${name}@${version ?? 'latest'}`, options)) as unknown as Manifest;
  } catch (err) {
    throw registryError(err, name, version, registry);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
  const got = `${String(m.name)}@${String(m.version)}`;
  if (m.name !== name || typeof m.version !== 'string' || semver.valid(m.version) !== m.version || (version !== undefined && m.version !== version)) {
    throw new GuardError('REGISTRY_ERROR', 'INPUT_INVALID', `the registry ${redact(registry)} answered ${name}@${version ?? 'latest'} with a manifest for ${got}; nothing was approved`);
  }
  const integrity = typeof m._integrity === 'string' ? m._integrity : '';
  if (!isValidIntegrity(integrity)) throw new GuardError('REGISTRY_ERROR', 'INPUT_INVALID', `the registry gives no integrity for ${got}; nothing was approved`);
  const tarball = typeof m._resolved === 'string' ? m._resolved : '';
  const host = hostOf(tarball);
  if (host === null || !/^https?:$/.test(new URL(tarball).protocol)) {
    throw new GuardError('REGISTRY_ERROR', 'INPUT_INVALID', `the registry gives no http(s) tarball URL for ${got}; nothing was approved`);
  }
  const scripts = typeof m.scripts === 'object' && m.scripts !== null ? (m.scripts as Record<string, unknown>) : {};
  const installScript = m.hasInstallScript === true || m.gypfile === true || ['preinstall', 'install', 'postinstall'].some((s) => Object.hasOwn(scripts, s) && typeof scripts[s] === 'string');
  return {
    name,
    version: m.version,
    integrity,
    tarball,
    host,
    installScript,
    registry,
    latest: version === undefined,
    deprecated: typeof m.deprecated === 'string' && m.deprecated !== '' ? m.deprecated : null,
  };
}

/** A URL or message without the user:password some registry URLs carry. */
export function redact(text: string): string {
  return text.replace(/(\/\/)[^/@\s]+@/g, '$1***@');
}

function registryError(err: unknown, name: string, version: string | undefined, registryUrl: string): StaxError {
  const registry = redact(registryUrl);
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const spec = `${name}@${version ?? 'latest'}`;
  const offline = 'to approve without the network, pass the integrity from a lockfile: --integrity sha512-…';
  if (NETWORK_CODES.has(code) || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket hang up|network/i.test(String(e.message))) {
    const why = code !== '' && code !== 'FETCH_ERROR' ? code : 'network error';
    return new GuardError('REGISTRY_UNREACHABLE', 'FILE_UNREADABLE', `cannot reach the registry ${registry} (${why}) to resolve ${spec}; nothing was approved (${offline})`, { cause: err });
  }
  if (code === 'E404') return new GuardError('REGISTRY_ERROR', 'FILE_NOT_FOUND', `no package ${name} on the registry ${registry}; nothing was approved`, { cause: err });
  if (code === 'ETARGET') return new GuardError('REGISTRY_ERROR', 'FILE_NOT_FOUND', `${name} has no version ${version ?? 'tagged latest'} on the registry ${registry}; nothing was approved`, { cause: err });
  if (code === 'E401' || code === 'E403') {
    return new GuardError('REGISTRY_ERROR', 'FILE_UNREADABLE', `the registry ${registry} refused access to ${name} (${code.slice(1)}): check your npm login or the auth token for that registry in .npmrc`, { cause: err });
  }
  const detail = redact(typeof e.message === 'string' ? e.message.split('\n')[0]!.slice(0, 300) : String(err));
  return new GuardError('REGISTRY_ERROR', 'FILE_UNREADABLE', `resolving ${spec} on ${registry} failed: ${detail}; nothing was approved`, { cause: err });
}
