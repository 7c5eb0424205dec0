/**
 * Reads npm lockfiles (package-lock.json, npm-shrinkwrap.json; lockfileVersion 1, 2, 3)
 * into one normalized list of packages for the guard to check.
 *
 * The lockfile is hostile input: whoever wrote it may want the guard to see something
 * other than what npm will install. So the reader
 *  - refuses a file whose body does not match its lockfileVersion (npm 7+ reads
 *    "packages", npm 6 reads "dependencies": a file can show each a different tree);
 *  - in v2, where both trees are present, reports where "dependencies" disagrees with
 *    "packages";
 *  - reports, without stopping, bad package names, locations that climb out of
 *    node_modules, registry URLs naming another package than the entry, malformed
 *    integrity: every such finding is a `problems` entry with the line to annotate;
 *  - keeps every entry it can read in `packages`, problems or not, so nothing is hidden
 *    from the allowlist check;
 *  - never indexes an object with a key taken from the file (Maps and Object.hasOwn
 *    only), so keys like `__proto__` are plain data.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { StaxError, fileError } from '../errors.js';
import { neutralize } from '../text/terminal.js';
import { scanLockfileLines, type DependencyLines } from './lockfile-lines.js';
import { nameFromFolder, parentLocation, parseLocation, workspaceMatcher } from './lockfile-path.js';
import {
  httpUrl,
  isFileSpec,
  isGitSpec,
  isTarballPath,
  isValidIntegrity,
  parseNpmAlias,
  readRegistryTarball,
  type PackageSource,
} from './lockfile-spec.js';
import { checkPackageName } from './package-name.js';

export type { PackageSource } from './lockfile-spec.js';

export interface LockedPackage {
  /**
   * Location in the tree: the v2/v3 key (`node_modules/a/node_modules/@s/b`,
   * `packages/a` for a workspace folder); for v1, made the same way from the nesting.
   */
  path: string;
  /** The real package name; for an `npm:` alias the target's name. */
  name: string;
  /** For an `npm:` alias, the name it is installed under (the last name in `path`). */
  alias?: string;
  /**
   * The version as locked. '' when the lockfile records none: links, workspaces without
   * a version, and v1 git/remote/file entries, whose `version` holds the spec (kept in
   * `resolved`).
   */
  version: string;
  source: PackageSource;
  /**
   * As in the lockfile: a tarball URL, `git+…#commit`, `file:…`; for a link the folder it
   * points to, relative to the project root.
   */
  resolved?: string;
  /**
   * True when a registry package has no `resolved` (npm's omit-lockfile-registry-resolved
   * drops it): npm will fetch it from whatever registry is configured at install time.
   */
  resolvedMissing: boolean;
  /** Subresource Integrity string as in the lockfile. */
  integrity?: string;
  /** Host (with port, if any) of `resolved` for registry and remote tarballs. */
  registryHost?: string;
  dev: boolean;
  optional: boolean;
  devOptional: boolean;
  peer: boolean;
  /**
   * True when the package arrives inside another dependency's tarball (that dependency
   * lists it in bundleDependencies), so npm neither fetches nor checks it on its own.
   * Packages bundled by the project itself are fetched normally: `inBundle` without
   * `bundled`.
   */
  bundled: boolean;
  /** The lockfile's `inBundle` (v1: `bundled`): listed in some bundleDependencies. */
  inBundle: boolean;
  /** The v2/v3 `hasInstallScript`; undefined for v1, which does not record it. */
  hasInstallScript: boolean | undefined;
  /** 1-based line of the entry's key in the lockfile text. */
  line: number;
}

export type LockfileProblemCode =
  /** Not an npm package name (validate-npm-package-name's errors). */
  | 'NAME_INVALID'
  /** A name only packages published before 2017's rules may have (capitals, > 214 characters, ~'!()*). */
  | 'NAME_LEGACY'
  /** A location with `..` past its start, or an absolute path. */
  | 'PATH_TRAVERSAL'
  /** A location that is not a well-formed tree location (backslash, empty segment, broken node_modules chain). */
  | 'PATH_INVALID'
  /** A folder outside the project that no link points to. */
  | 'PATH_OUTSIDE'
  /** An entry or field of the wrong type, or missing what the entry needs. */
  | 'ENTRY_INVALID'
  /** A registry package whose version is not a semver version. */
  | 'VERSION_INVALID'
  /** A `resolved` that is neither an http(s) URL, a git URL nor a file: spec. */
  | 'RESOLVED_INVALID'
  /** A registry tarball URL naming another package or version than the entry. */
  | 'RESOLVED_MISMATCH'
  /** An `integrity` that is not a Subresource Integrity string. */
  | 'INTEGRITY_INVALID'
  /** A downloaded package without `integrity`: npm cannot check what it gets. */
  | 'INTEGRITY_MISSING'
  /** A link without a target, to an absolute path, or to a folder with no entry. */
  | 'LINK_INVALID'
  /** A folder entry no link points to and no workspace pattern matches. */
  | 'ENTRY_ORPHAN'
  /** v2 only: the "dependencies" tree (read by npm 6) differs from "packages" (npm 7+). */
  | 'SECTIONS_DISAGREE';

export interface LockfileProblem {
  code: LockfileProblemCode;
  /** 'error': the entry cannot be trusted as written. 'warning': legal but worth a look. */
  severity: 'error' | 'warning';
  /** The entry's location (as in LockedPackage.path; '' for the root). */
  path: string;
  /** 1-based line of the entry in the lockfile. */
  line: number;
  message: string;
}

export interface LockRoot {
  name?: string;
  version?: string;
  /** Line of the root entry (`packages[""]`); 1 for v1. */
  line: number;
  /** The root's declared specs: v2/v3 record them in `packages[""]`; v1 does not (undefined). */
  dependencies?: Readonly<Record<string, string>>;
  devDependencies?: Readonly<Record<string, string>>;
  optionalDependencies?: Readonly<Record<string, string>>;
  peerDependencies?: Readonly<Record<string, string>>;
  bundleDependencies?: readonly string[];
  /** The root's `workspaces` patterns as written. */
  workspaces: string[];
}

export interface Lockfile {
  file: string;
  lockfileVersion: 1 | 2 | 3;
  name?: string;
  version?: string;
  /** Every entry except the root project itself, in lockfile order (v1: depth first). */
  packages: LockedPackage[];
  root: LockRoot;
  /** Locations of the workspace folders (the `path` of each 'workspace' package). */
  workspaces: string[];
  problems: LockfileProblem[];
}

export interface LockfileOptions {
  /** Refuse larger input (INPUT_TOO_LARGE). Default DEFAULT_MAX_LOCKFILE_BYTES. */
  maxBytes?: number;
}

/** 128 MiB: the largest real lockfiles are tens of MiB. */
export const DEFAULT_MAX_LOCKFILE_BYTES = 128 * 1024 * 1024;
/** Deepest JSON nesting accepted; a v1 tree nests two levels per package (≈ 500 packages deep). */
export const MAX_LOCKFILE_NESTING = 1000;
/** The names npm reads, in its order of preference. */
export const LOCKFILE_NAMES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;

const MiB = 1024 * 1024;

// ---- reading ----------------------------------------------------------------------------

/** The lockfile npm would use in `dir`: npm-shrinkwrap.json wins over package-lock.json. */
export async function findLockfile(dir: string): Promise<string> {
  for (const name of LOCKFILE_NAMES) {
    const candidate = join(dir, name);
    try {
      await stat(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(candidate, err);
    }
  }
  throw new StaxError('FILE_NOT_FOUND', `no ${LOCKFILE_NAMES.join(' or ')} here`, { file: dir });
}

export async function readLockfile(path: string, options: LockfileOptions = {}): Promise<Lockfile> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LOCKFILE_BYTES;
  let bytes: Buffer;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; the stat below then refuses it.
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (info.isDirectory()) throw new StaxError('FILE_UNREADABLE', 'is a directory', { file: path });
      // A FIFO or device has no meaningful size and may never end: read only regular files.
      if (!info.isFile()) throw new StaxError('FILE_UNREADABLE', 'is not a regular file', { file: path });
      if (info.size > maxBytes) throw tooLarge(path, maxBytes);
      // Read at most maxBytes + 1, in case the file grows after the stat.
      const buffer = Buffer.allocUnsafe(Math.min(info.size, maxBytes) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length === buffer.length) break;
      }
      if (length > maxBytes) throw tooLarge(path, maxBytes);
      if (length > info.size) {
        throw new StaxError('FILE_UNREADABLE', 'the file grew while it was read; try again', { file: path });
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof StaxError) throw err;
    throw fileError(path, err);
  }
  let text: string;
  try {
    // fatal: a lockfile is UTF-8; replacement characters would hide bytes from the check.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new StaxError('INPUT_INVALID', 'not valid UTF-8 text', { file: path, cause: err });
  }
  return parseLockfile(text, path, options);
}

function tooLarge(file: string, maxBytes: number): StaxError {
  return new StaxError('INPUT_TOO_LARGE', `larger than ${formatSize(maxBytes)}, the most stax reads as a lockfile`, {
    file,
  });
}

function formatSize(bytes: number): string {
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`;
}

// ---- parsing ----------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property only: never one inherited from Object.prototype (`constructor`, ...). */
function own(obj: JsonObject, key: string): Json | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Untrusted text made safe for a one-line message. */
function q(text: string): string {
  return `"${neutralize(text, 120)}"`;
}

export function parseLockfile(text: string, file: string, options: LockfileOptions = {}): Lockfile {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_LOCKFILE_BYTES;
  // UTF-16 units never outnumber UTF-8 bytes, so this never refuses what readLockfile takes.
  if (text.length > maxBytes) throw tooLarge(file, maxBytes);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;

  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new StaxError('INPUT_INVALID', `not valid JSON: ${neutralize(detail, 200)}${jsonErrorPlace(body, detail)}`, {
      file,
      cause: err,
    });
  }
  if (!isObject(data)) {
    throw new StaxError('INPUT_INVALID', `not a lockfile: the top level is ${describe(data)}, not an object`, { file });
  }

  const lockfileVersion = checkVersion(data, file);
  const lines = scanLockfileLines(body, MAX_LOCKFILE_NESTING);
  if (lines.tooDeep) {
    throw new StaxError('INPUT_TOO_LARGE', `nested deeper than ${MAX_LOCKFILE_NESTING} levels`, { file });
  }

  const reader = new Reader(file, body.length);
  const topName = own(data, 'name');
  const topVersion = own(data, 'version');
  let result: Lockfile;
  if (lockfileVersion === 1) {
    const deps = own(data, 'dependencies');
    const root: LockRoot = { line: 1, workspaces: [] };
    if (typeof topName === 'string') root.name = topName;
    if (typeof topVersion === 'string') root.version = topVersion;
    const packages = isObject(deps) ? reader.readTree(deps, lines.dependencies, false).map(ordered) : [];
    result = { file, lockfileVersion, packages, root, workspaces: [], problems: reader.problems };
  } else {
    const packagesObj = own(data, 'packages') as JsonObject;
    const { packages, root } = reader.readPackages(packagesObj, lines.packages);
    if (lockfileVersion === 2) {
      const deps = own(data, 'dependencies');
      if (isObject(deps)) reader.crossCheck(deps, lines.dependencies, packages);
    }
    const workspaces = packages.filter((p) => p.source === 'workspace').map((p) => p.path);
    result = { file, lockfileVersion, packages, root, workspaces, problems: reader.problems };
  }
  // Problems were found in passes over the file; report them in its order.
  result.problems.sort((a, b) => a.line - b.line);
  const name = typeof topName === 'string' ? topName : result.root.name;
  const version = typeof topVersion === 'string' ? topVersion : result.root.version;
  if (name !== undefined) result.name = name;
  if (version !== undefined) result.version = version;
  return result;
}

/** " (line L, column C)" when the JSON error gives a position. */
function jsonErrorPlace(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (m?.[1] === undefined) return '';
  const position = Math.min(Number(m[1]), text.length);
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return ` (line ${line}, column ${position - lineStart + 1})`;
}

/** Checks lockfileVersion and that the body has the shape that version has. */
function checkVersion(data: JsonObject, file: string): 1 | 2 | 3 {
  const raw = own(data, 'lockfileVersion');
  const invalid = (message: string): StaxError => new StaxError('INPUT_INVALID', message, { file });
  if (raw === undefined) {
    throw invalid('no "lockfileVersion": not a package-lock.json or npm-shrinkwrap.json');
  }
  if (raw !== 1 && raw !== 2 && raw !== 3) {
    const shown = typeof raw === 'string' ? q(raw) : typeof raw === 'number' ? String(raw) : describe(raw);
    throw invalid(`unsupported lockfileVersion ${shown} (stax reads 1, 2 and 3)`);
  }
  const packages = own(data, 'packages');
  const deps = own(data, 'dependencies');
  if (packages !== undefined && !isObject(packages)) {
    throw invalid(`"packages" is ${describe(packages)}, not an object`);
  }
  if (deps !== undefined && !isObject(deps)) {
    throw invalid(`"dependencies" is ${describe(deps)}, not an object`);
  }
  if (raw === 1 && packages !== undefined) {
    throw invalid('says lockfileVersion 1 but has a "packages" object, which only versions 2 and 3 have');
  }
  if (raw !== 1 && packages === undefined) {
    throw invalid(
      deps === undefined
        ? `says lockfileVersion ${raw} but has no "packages" object`
        : `says lockfileVersion ${raw} but has only the version 1 "dependencies" tree, no "packages"`,
    );
  }
  if (raw === 3 && deps !== undefined) {
    // npm 7+ reads "packages", npm 6 reads "dependencies": a v3 file with both can show
    // each a different tree, and npm never writes one.
    throw invalid('says lockfileVersion 3 but also has the version 1 "dependencies" tree, which only version 2 keeps');
  }
  return raw;
}

/** Where a problem is: an entry's location and line. */
interface At {
  path: string;
  line: number;
}

interface PackageNode {
  pkg: LockedPackage;
  /** The location it is required from ('' for the root or a workspace folder). */
  parent: string;
  resolved: string | undefined;
}

interface Fields {
  version: string | undefined;
  resolved: string | undefined;
  integrity: string | undefined;
  name: string | undefined;
}

/** What a node_modules entry's resolved/version say about its source. */
interface Origin {
  source: PackageSource;
  resolved: string | undefined;
  registryHost: string | undefined;
  resolvedMissing: boolean;
}

class Reader {
  readonly problems: LockfileProblem[] = [];
  readonly #file: string;
  /** Total length of the v1 locations made, against a tree that nests to blow up memory. */
  #pathBudget: number;

  constructor(file: string, textLength: number) {
    this.#file = file;
    this.#pathBudget = textLength * 8 + 16 * MiB;
  }

  #problem(code: LockfileProblemCode, severity: 'error' | 'warning', at: At, message: string): void {
    this.problems.push({ code, severity, path: at.path, line: at.line, message });
  }

  #string(entry: JsonObject, key: string, at: At): string | undefined {
    const value = own(entry, key);
    if (value === undefined || typeof value === 'string') return value;
    this.#problem('ENTRY_INVALID', 'error', at, `"${key}" is ${describe(value)}, not a string; ignored`);
    return undefined;
  }

  /** npm treats these flags by truthiness; anything but a boolean is worth saying. */
  #flag(entry: JsonObject, key: string, at: At): boolean {
    const value = own(entry, key);
    if (value === undefined || typeof value === 'boolean') return value === true;
    this.#problem('ENTRY_INVALID', 'warning', at, `"${key}" is ${describe(value)}, not a boolean`);
    return Boolean(value);
  }

  #fields(entry: JsonObject, at: At): Fields {
    return {
      version: this.#string(entry, 'version', at),
      resolved: this.#string(entry, 'resolved', at),
      integrity: this.#string(entry, 'integrity', at),
      name: this.#string(entry, 'name', at),
    };
  }

  #checkName(name: string, what: string, at: At): void {
    const { errors, legacy } = checkPackageName(name);
    if (errors.length > 0) {
      this.#problem(
        'NAME_INVALID',
        'error',
        at,
        `${what} ${q(name)} is not a valid npm package name: ${errors.join('; ')}`,
      );
    } else if (legacy.length > 0) {
      this.#problem(
        'NAME_LEGACY',
        'warning',
        at,
        `${what} ${q(name)} breaks today's npm name rules (${legacy.join('; ')}); only packages published before 2017 may`,
      );
    }
  }

  /** Where a node_modules entry comes from, from its resolved (or, failing that, version). */
  #origin(name: string, version: string, resolved: string | undefined, inDepBundle: boolean, at: At): Origin {
    if (resolved === undefined) {
      // omit-lockfile-registry-resolved drops resolved from registry packages only; a
      // package inside a dependency's tarball never has one.
      return { source: 'registry', resolved: undefined, registryHost: undefined, resolvedMissing: !inDepBundle };
    }
    if (isGitSpec(resolved)) return { source: 'git', resolved, registryHost: undefined, resolvedMissing: false };
    if (isFileSpec(resolved)) return { source: 'file', resolved, registryHost: undefined, resolvedMissing: false };
    const url = httpUrl(resolved);
    if (url === undefined) {
      this.#problem(
        'RESOLVED_INVALID',
        'error',
        at,
        `"resolved" ${q(resolved)} is neither an http(s) URL, a git URL nor a file: spec`,
      );
      return { source: 'remote', resolved, registryHost: undefined, resolvedMissing: false };
    }
    const tarball = readRegistryTarball(url);
    if (tarball === undefined) {
      return { source: 'remote', resolved, registryHost: url.host, resolvedMissing: false };
    }
    if (tarball.name !== name) {
      this.#problem(
        'RESOLVED_MISMATCH',
        'error',
        at,
        `"resolved" is a tarball of ${q(tarball.name)}, not of ${q(name)}`,
      );
    } else if (tarball.version !== version) {
      this.#problem(
        'RESOLVED_MISMATCH',
        'error',
        at,
        tarball.version === undefined
          ? `"resolved" tarball file name does not start with the package name ${q(name)}`
          : `"resolved" is the tarball of version ${q(tarball.version)}, but the entry says ${q(version)}`,
      );
    }
    return { source: 'registry', resolved, registryHost: url.host, resolvedMissing: false };
  }

  #checkEntry(pkg: LockedPackage, downloaded: boolean): void {
    if (pkg.source === 'registry' && semver.valid(pkg.version) === null) {
      this.#problem(
        'VERSION_INVALID',
        'error',
        pkg,
        pkg.version === ''
          ? 'registry package without a "version"'
          : `version ${q(pkg.version)} is not a semver version`,
      );
    }
    if (pkg.integrity !== undefined && !isValidIntegrity(pkg.integrity)) {
      this.#problem(
        'INTEGRITY_INVALID',
        'error',
        pkg,
        `"integrity" ${q(pkg.integrity)} is not a Subresource Integrity string`,
      );
    } else if (pkg.integrity === undefined && downloaded && !pkg.bundled) {
      this.#problem('INTEGRITY_MISSING', 'warning', pkg, 'no "integrity": npm cannot check the tarball it downloads');
    }
  }

  // ---- v2/v3 ----

  readPackages(packagesObj: JsonObject, lines: Map<string, number>): { packages: LockedPackage[]; root: LockRoot } {
    const keys = Object.keys(packagesObj);
    const rootEntry = own(packagesObj, '');
    const root = this.#readRoot(isObject(rootEntry) ? rootEntry : undefined, lines.get('') ?? 1);
    const isWorkspace = workspaceMatcher(root.workspaces);

    const linkTargets = new Set<string>();
    for (const key of keys) {
      const entry = own(packagesObj, key);
      if (key === '' || !isObject(entry)) continue;
      const resolved = own(entry, 'resolved');
      if (own(entry, 'link') && typeof resolved === 'string') linkTargets.add(resolved);
    }

    /** Every entry read, in lockfile order. */
    const items: LockedPackage[] = [];
    /** Entries that come from somewhere (not links, not plain folders), by location. */
    const nodes = new Map<string, PackageNode>();
    for (const key of keys) {
      if (key === '') continue;
      const line = lines.get(key) ?? 1;
      const at: At = { path: key, line };
      const entry = own(packagesObj, key);
      if (!isObject(entry)) {
        this.#problem('ENTRY_INVALID', 'error', at, `entry is ${describe(entry)}, not an object; skipped`);
        continue;
      }
      const location = parseLocation(key);
      if (location.problem !== undefined) {
        this.#problem(location.problem.code, 'error', at, `${q(key)}: ${location.problem.message}`);
      }
      const inTree = location.names.length > 0;
      const folder = inTree ? location.folder : key;
      if ((folder === '..' || folder.startsWith('../')) && !linkTargets.has(folder)) {
        this.#problem(
          'PATH_OUTSIDE',
          'error',
          at,
          `${q(key)} lies outside the project folder and no link points there`,
        );
      }

      const fields = this.#fields(entry, at);
      const isLink = this.#flag(entry, 'link', at);
      const pkg: LockedPackage = {
        path: key,
        name: '',
        version: fields.version ?? '',
        source: 'registry',
        resolvedMissing: false,
        dev: this.#flag(entry, 'dev', at),
        optional: this.#flag(entry, 'optional', at),
        devOptional: this.#flag(entry, 'devOptional', at),
        peer: this.#flag(entry, 'peer', at),
        bundled: false,
        inBundle: this.#flag(entry, 'inBundle', at),
        hasInstallScript: this.#flag(entry, 'hasInstallScript', at),
        line,
      };
      if (fields.integrity !== undefined) pkg.integrity = fields.integrity;
      items.push(pkg);

      if (inTree) {
        pkg.name = location.name;
        this.#checkName(location.name, 'name', at);
        if (fields.name !== undefined && fields.name !== location.name && !isLink) {
          // npm writes "name" in a node_modules entry only for an alias.
          pkg.name = fields.name;
          pkg.alias = location.name;
          this.#checkName(fields.name, 'aliased name', at);
        }
      } else {
        pkg.name = fields.name ?? nameFromFolder(key);
        if (fields.name !== undefined) this.#checkName(fields.name, 'name', at);
      }

      if (isLink) {
        pkg.source = 'link';
        this.#readLink(pkg, fields.resolved, packagesObj);
      } else if (!inTree && fields.resolved === undefined) {
        // A folder of the project: a workspace, or the target of a file: folder dependency.
        pkg.source = !folder.startsWith('..') && isWorkspace(key) ? 'workspace' : 'file';
        if (pkg.source === 'file' && !linkTargets.has(key) && !folder.startsWith('..')) {
          this.#problem(
            'ENTRY_ORPHAN',
            'warning',
            at,
            `folder entry ${q(key)}: no link points to it and no workspace pattern matches it`,
          );
        }
      } else {
        nodes.set(key, { pkg, parent: inTree ? parentLocation(key, location.name) : '', resolved: fields.resolved });
      }
    }

    // `bundled` depends on the parent's entry, which may come later in the file.
    markBundled(nodes);
    for (const { pkg, resolved } of nodes.values()) {
      applyOrigin(pkg, this.#origin(pkg.name, pkg.version, resolved, pkg.bundled, pkg));
      const downloaded =
        pkg.source === 'registry' ||
        pkg.source === 'remote' ||
        (pkg.source === 'file' && isTarballPath(resolved ?? ''));
      this.#checkEntry(pkg, downloaded);
    }
    return { packages: items.map(ordered), root };
  }

  #readLink(pkg: LockedPackage, target: string | undefined, packagesObj: JsonObject): void {
    if (target === undefined) {
      this.#problem('LINK_INVALID', 'error', pkg, 'link without "resolved": it points nowhere');
      return;
    }
    pkg.resolved = target;
    const location = parseLocation(target);
    if (location.problem !== undefined) {
      const code = location.problem.code === 'PATH_TRAVERSAL' ? 'PATH_TRAVERSAL' : 'LINK_INVALID';
      this.#problem(code, 'error', pkg, `link target ${q(target)}: ${location.problem.message}`);
    } else if (!isObject(own(packagesObj, target))) {
      this.#problem('LINK_INVALID', 'warning', pkg, `link target ${q(target)} has no entry in "packages"`);
    }
  }

  #readRoot(entry: JsonObject | undefined, line: number): LockRoot {
    const root: LockRoot = { line, workspaces: [] };
    if (entry === undefined) return root;
    const name = own(entry, 'name');
    const version = own(entry, 'version');
    if (typeof name === 'string') root.name = name;
    if (typeof version === 'string') root.version = version;
    for (const key of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'] as const) {
      const specs = this.#specs(own(entry, key), key, line);
      if (specs !== undefined) root[key] = specs;
    }
    const bundle = own(entry, 'bundleDependencies') ?? own(entry, 'bundledDependencies');
    if (Array.isArray(bundle)) root.bundleDependencies = bundle.filter((b): b is string => typeof b === 'string');
    // package.json allows `workspaces: [...]` or `workspaces: { packages: [...] }`.
    let workspaces = own(entry, 'workspaces');
    if (isObject(workspaces)) workspaces = own(workspaces, 'packages');
    if (Array.isArray(workspaces)) root.workspaces = workspaces.filter((w): w is string => typeof w === 'string');
    else if (workspaces !== undefined) {
      this.#problem(
        'ENTRY_INVALID',
        'warning',
        { path: '', line },
        `root "workspaces" is ${describe(workspaces)}, not a list of patterns`,
      );
    }
    return root;
  }

  #specs(value: Json | undefined, key: string, line: number): Record<string, string> | undefined {
    if (value === undefined) return undefined;
    // Null prototype: a dependency called "__proto__" is stored, not obeyed.
    const out = Object.create(null) as Record<string, string>;
    if (!isObject(value)) {
      this.#problem(
        'ENTRY_INVALID',
        'warning',
        { path: '', line },
        `root "${key}" is ${describe(value)}, not an object`,
      );
      return out;
    }
    for (const [name, spec] of Object.entries(value)) {
      if (typeof spec === 'string') out[name] = spec;
      else
        this.#problem(
          'ENTRY_INVALID',
          'warning',
          { path: '', line },
          `root "${key}" gives ${q(name)} ${describe(spec)}, not a spec string`,
        );
    }
    return out;
  }

  // ---- v1 (and v2's copy) ----

  /**
   * Reads a v1 "dependencies" tree depth first, without recursion. `quiet` leaves out
   * problems: the v2 cross-check reports differences, not the same findings twice.
   */
  readTree(deps: JsonObject, lines: Map<string, DependencyLines>, quiet: boolean): LockedPackage[] {
    const out: LockedPackage[] = [];
    interface Level {
      entries: [string, Json][];
      index: number;
      lines: Map<string, DependencyLines> | undefined;
      /** Location the level's packages are installed below ('' for the root). */
      base: string;
    }
    const stack: Level[] = [{ entries: Object.entries(deps), index: 0, lines, base: '' }];
    while (stack.length > 0) {
      const level = stack[stack.length - 1] as Level;
      const next = level.entries[level.index++];
      if (next === undefined) {
        stack.pop();
        continue;
      }
      const [installName, entry] = next;
      const path = `${level.base === '' ? '' : `${level.base}/`}node_modules/${installName}`;
      this.#pathBudget -= path.length;
      if (this.#pathBudget < 0) {
        throw new StaxError('INPUT_TOO_LARGE', 'the "dependencies" tree nests too deeply for its size', {
          file: this.#file,
        });
      }
      const lineNode = level.lines?.get(installName);
      const at: At = { path, line: lineNode?.line ?? 1 };
      if (!isObject(entry)) {
        if (!quiet) this.#problem('ENTRY_INVALID', 'error', at, `entry is ${describe(entry)}, not an object; skipped`);
        continue;
      }
      const pkg = this.#readV1Entry(installName, entry, at, quiet);
      out.push(pkg);
      const children = own(entry, 'dependencies');
      if (isObject(children)) {
        // A linked folder's own dependencies live in that folder, as v2/v3 locate them.
        const base =
          pkg.source === 'link' && pkg.resolved !== undefined && parseLocation(pkg.resolved).problem === undefined
            ? pkg.resolved
            : path;
        stack.push({ entries: Object.entries(children), index: 0, lines: lineNode?.dependencies, base });
      } else if (children !== undefined && !quiet) {
        this.#problem(
          'ENTRY_INVALID',
          'error',
          at,
          `"dependencies" is ${describe(children)}, not an object; its packages are not read`,
        );
      }
    }
    return out;
  }

  #readV1Entry(installName: string, entry: JsonObject, at: At, quiet: boolean): LockedPackage {
    // Quiet: whatever this entry reports is dropped again at the end.
    const saved = this.problems.length;
    const { path, line } = at;
    const fields = this.#fields(entry, at);
    const bundled = this.#flag(entry, 'bundled', at);
    const pkg: LockedPackage = {
      path,
      name: installName,
      version: '',
      source: 'registry',
      resolvedMissing: false,
      dev: this.#flag(entry, 'dev', at),
      optional: this.#flag(entry, 'optional', at),
      devOptional: false,
      peer: false,
      // npm 6 marks `bundled` on everything inside a dependency's tarball, and never on
      // what the project bundles itself.
      bundled,
      inBundle: bundled,
      hasInstallScript: undefined,
      line,
    };
    if (fields.integrity !== undefined) pkg.integrity = fields.integrity;

    const location = parseLocation(path);
    if (location.problem !== undefined) {
      this.#problem(
        location.problem.code,
        'error',
        at,
        `${q(installName)} makes the location ${q(path)}: ${location.problem.message}`,
      );
    }
    this.#checkName(installName, 'name', at);

    const spec = fields.version ?? '';
    const alias = parseNpmAlias(spec);
    let downloaded = false;
    if (alias !== undefined) {
      pkg.name = alias.name;
      pkg.alias = installName;
      pkg.version = alias.version;
      this.#checkName(alias.name, 'aliased name', at);
      applyOrigin(pkg, this.#origin(pkg.name, pkg.version, fields.resolved, bundled, at));
      downloaded = true;
    } else if (isFileSpec(spec)) {
      const target = spec.slice('file:'.length);
      if (isTarballPath(target)) {
        pkg.source = 'file';
        pkg.resolved = fields.resolved ?? spec;
        downloaded = true;
      } else {
        // npm 6 symlinks a file: folder, as npm 7+ writes a link entry.
        pkg.source = 'link';
        pkg.resolved = target;
        const problem = parseLocation(target).problem;
        if (problem !== undefined) {
          const code = problem.code === 'PATH_TRAVERSAL' ? 'PATH_TRAVERSAL' : 'LINK_INVALID';
          this.#problem(code, 'error', at, `link target ${q(target)}: ${problem.message}`);
        }
      }
    } else if (isGitSpec(spec)) {
      pkg.source = 'git';
      pkg.resolved = fields.resolved ?? spec;
    } else if (httpUrl(spec) !== undefined) {
      pkg.source = 'remote';
      pkg.resolved = fields.resolved ?? spec;
      pkg.registryHost = httpUrl(pkg.resolved)?.host ?? (httpUrl(spec) as URL).host;
      downloaded = true;
    } else {
      pkg.version = spec;
      applyOrigin(pkg, this.#origin(pkg.name, pkg.version, fields.resolved, bundled, at));
      downloaded = pkg.source !== 'git';
    }
    this.#checkEntry(pkg, downloaded);
    if (quiet) this.problems.length = saved;
    return pkg;
  }

  /**
   * v2 keeps the v1 tree beside "packages" for npm 6. Every package that tree would
   * install must be the one "packages" locks at the same place, or npm 6 users get
   * something the guard never saw.
   */
  crossCheck(deps: JsonObject, lines: Map<string, DependencyLines>, packages: readonly LockedPackage[]): void {
    const byPath = new Map(packages.map((p) => [p.path, p]));
    for (const old of this.readTree(deps, lines, true)) {
      if (old.source === 'link') continue;
      const current = byPath.get(old.path);
      const shown = q(old.alias ?? old.name);
      if (current === undefined) {
        this.#problem(
          'SECTIONS_DISAGREE',
          'error',
          old,
          `"dependencies" has ${shown} at ${q(old.path)}, where "packages" has nothing (npm 6 would install it)`,
        );
        continue;
      }
      const differences: string[] = [];
      if (current.name !== old.name) differences.push(`name ${q(old.name)} vs ${q(current.name)}`);
      if (old.version !== '' && current.version !== old.version)
        differences.push(`version ${q(old.version)} vs ${q(current.version)}`);
      if (old.resolved !== undefined && current.resolved !== undefined && old.resolved !== current.resolved) {
        differences.push(`resolved ${q(old.resolved)} vs ${q(current.resolved)}`);
      }
      if (old.integrity !== undefined && current.integrity !== undefined && old.integrity !== current.integrity) {
        differences.push('integrity differs');
      }
      if (differences.length > 0) {
        this.#problem(
          'SECTIONS_DISAGREE',
          'error',
          old,
          `"dependencies" and "packages" disagree on ${shown} at ${q(old.path)}: ${differences.join(', ')} (npm 6 reads "dependencies", npm 7+ "packages")`,
        );
      }
    }
  }
}

/** The same package with its keys in the interface's order, for readable JSON output. */
function ordered(pkg: LockedPackage): LockedPackage {
  const out: LockedPackage = { path: pkg.path, name: pkg.name } as LockedPackage;
  if (pkg.alias !== undefined) out.alias = pkg.alias;
  out.version = pkg.version;
  out.source = pkg.source;
  if (pkg.resolved !== undefined) out.resolved = pkg.resolved;
  out.resolvedMissing = pkg.resolvedMissing;
  if (pkg.integrity !== undefined) out.integrity = pkg.integrity;
  if (pkg.registryHost !== undefined) out.registryHost = pkg.registryHost;
  out.dev = pkg.dev;
  out.optional = pkg.optional;
  out.devOptional = pkg.devOptional;
  out.peer = pkg.peer;
  out.bundled = pkg.bundled;
  out.inBundle = pkg.inBundle;
  out.hasInstallScript = pkg.hasInstallScript;
  out.line = pkg.line;
  return out;
}

function applyOrigin(pkg: LockedPackage, origin: Origin): void {
  pkg.source = origin.source;
  pkg.resolvedMissing = origin.resolvedMissing;
  if (origin.resolved !== undefined) pkg.resolved = origin.resolved;
  if (origin.registryHost !== undefined) pkg.registryHost = origin.registryHost;
}

/**
 * Sets `bundled` as Arborist's getBundler decides it: a package in a bundle is bundled by
 * its parent, unless the parent is itself in a bundle, in which case it shares the
 * parent's bundler. A chain that reaches the project root (or a workspace folder) without
 * meeting a dependency that is not in a bundle was bundled by the project: fetched normally.
 */
function markBundled(nodes: Map<string, PackageNode>): void {
  const memo = new Map<string, boolean>();
  for (const [path, node] of nodes) {
    if (!node.pkg.inBundle) continue;
    const chain: string[] = [];
    let current: PackageNode | undefined = node;
    let currentPath = path;
    let answer = false;
    while (current !== undefined) {
      const known = memo.get(currentPath);
      if (known !== undefined) {
        answer = known;
        break;
      }
      chain.push(currentPath);
      const parent: PackageNode | undefined = current.parent === '' ? undefined : nodes.get(current.parent);
      if (parent === undefined) break; // root, a workspace folder, or no entry: the project's bundle
      if (!parent.pkg.inBundle) {
        answer = true;
        break;
      }
      currentPath = current.parent;
      current = parent;
    }
    for (const p of chain) memo.set(p, answer);
    node.pkg.bundled = answer;
  }
}
