/**
 * checkProject (docs/guard-design.md): the allowlist's signature first, then the rollback
 * check against the guard trail, then every lockfile package against the allowlist.
 *
 * This is the install hook's path, run before every npm install: it reads three small files
 * and imports neither pacote nor the prompts. It fails closed: no allowlist, no key, a bad
 * signature, a rollback or an unreadable lockfile throw; only `checkProjectFailOpen`, which
 * a user must ask for, lets an install through anyway, and it says so in the guard trail.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import semver from 'semver';
import { StaxError } from '../errors.js';
import { defaultActor } from '../trail/paths.js';
import {
  DEFAULT_ALLOWLIST,
  allowlistDigest,
  own,
  readAllowlist,
  verificationMode,
  verifySignature,
  type Allowlist,
  type Approval,
  type ModeOptions,
  type SignatureCheck,
  type VersionApproval,
} from './allowlist.js';
import { DEFAULT_GUARD_TRAIL, appendInstallCheck, assertCurrent, fileDigest, readGuardTrail, type GuardTrailState, type InstallCheckPayload } from './guard-trail.js';
import { findLockfile, readLockfile, type LockedPackage, type Lockfile, type LockfileProblem } from './lockfile.js';
import { nameFromLocation, parentLocation } from './lockfile-path.js';
import { checkPackageName } from './package-name.js';
import { hostOf, loadNpmConfig, registryFor, type NpmConfig } from './resolve.js';

export interface CheckOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Default: npm-shrinkwrap.json, else package-lock.json in cwd. */
  lockfile?: string;
  /** Default: .stax/allowlist.json. */
  allowlist?: string;
  /** Default: .stax/trusted-keys.txt when it exists. */
  trustedKeys?: string;
  hmacKeyFile?: string;
  /** Default: .stax/guard.jsonl; null: no rollback check. */
  guardTrail?: string | null;
  /** name@version specs to check besides the lockfile. */
  extra?: string[];
  /**
   * The registry npm fetches from, for lockfile entries without `resolved`. Default: npm's
   * configured registries (scoped ones included), read only when such an entry exists.
   */
  registry?: string;
  now?: Date;
}

export type VerdictCode =
  | 'NOT_APPROVED'
  | 'VERSION_NOT_APPROVED'
  | 'INTEGRITY_MISMATCH'
  | 'INTEGRITY_MISSING'
  | 'HOST_NOT_ALLOWED'
  | 'SOURCE_NOT_APPROVED'
  | 'EXPIRED'
  | 'RANGE_ONLY'
  | 'INSTALL_SCRIPT'
  | 'INSTALL_SCRIPT_NEW'
  | 'LOCKFILE_PROBLEM';

export interface PackageVerdict {
  name: string;
  version: string;
  path: string;
  line: number | null;
  source: 'registry' | 'git' | 'file' | 'link' | 'remote' | 'workspace';
  dev: boolean;
  optional: boolean;
  status: 'allowed' | 'flagged' | 'blocked';
  reasons: Array<{ code: VerdictCode; message: string }>;
}

export interface CheckResult {
  lockfile: string | null;
  allowlist: string;
  serial: number;
  signature: { mode: 'ed25519' | 'hmac'; signedBy: string[] };
  packages: PackageVerdict[];
  counts: { allowed: number; flagged: number; blocked: number };
  /** No package blocked. */
  ok: boolean;
  /** Things to know that block nothing (an interrupted approval not yet in the guard trail). */
  warnings: string[];
}

// ---- the allowlist, verified ------------------------------------------------------------

export interface OpenOptions extends ModeOptions {
  allowlist?: string;
  guardTrail?: string | null;
}

export interface OpenedAllowlist {
  file: string;
  allowlist: Allowlist;
  digest: string;
  signature: SignatureCheck;
  /** The guard trail as read, or null when the rollback check is off. */
  trail: GuardTrailState | null;
  /** Set when the allowlist is one unrecorded change ahead of the trail (src/guard/guard-trail.ts). */
  warning: string | null;
}

export function allowlistPath(o: { cwd: string; allowlist?: string }): string {
  return resolve(o.cwd, o.allowlist ?? DEFAULT_ALLOWLIST);
}

export function guardTrailPath(o: { cwd: string; guardTrail?: string | null }): string | null {
  return o.guardTrail === null ? null : resolve(o.cwd, o.guardTrail ?? DEFAULT_GUARD_TRAIL);
}

/**
 * Reads the allowlist, verifies its signature (as a check does, unless `verify` says
 * otherwise), then checks it against the guard trail.
 */
export async function openAllowlist(o: OpenOptions, verify?: (doc: Allowlist, file: string) => SignatureCheck): Promise<OpenedAllowlist> {
  const file = allowlistPath(o);
  const allowlist = await readAllowlist(file);
  const signature = verify === undefined ? verifySignature(allowlist, verificationMode(o), file) : verify(allowlist, file);
  const digest = allowlistDigest(allowlist);
  const trailFile = guardTrailPath(o);
  const trail = trailFile === null ? null : await readGuardTrail(trailFile);
  const warning = trail === null ? null : assertCurrent(trail, allowlist.serial, digest, file);
  return { file, allowlist, digest, signature, trail, warning };
}

// ---- the check --------------------------------------------------------------------------

export async function checkProject(options: CheckOptions): Promise<CheckResult> {
  const opened = await openAllowlist(options);
  const now = options.now ?? new Date();
  const extra = (options.extra ?? []).map(parseSpec);

  let lockfilePath: string | null = null;
  if (options.lockfile !== undefined) {
    lockfilePath = resolve(options.cwd, options.lockfile);
  } else {
    try {
      lockfilePath = await findLockfile(options.cwd);
    } catch (err) {
      if (!(err instanceof StaxError && err.code === 'FILE_NOT_FOUND')) throw err;
      // Packages named on the command line can be checked without a lockfile.
      if (extra.length === 0) {
        throw new StaxError('FILE_NOT_FOUND', 'no npm-shrinkwrap.json or package-lock.json here: create one with npm install --package-lock-only, or pass --lockfile FILE', { file: options.cwd });
      }
    }
  }
  const lockfile: Lockfile | null = lockfilePath === null ? null : await readLockfile(lockfilePath);
  if (options.registry !== undefined && hostOf(options.registry) === null) {
    throw new StaxError('USAGE', `the registry "${options.registry}" is not a URL (https://registry.npmjs.org/)`);
  }

  let npm: Pick<NpmConfig, 'registry' | 'scopes'> | null = null;
  if (lockfile?.packages.some((p) => p.resolvedMissing)) {
    npm = options.registry !== undefined ? { registry: options.registry, scopes: {} } : await loadNpmConfig(options.cwd, options.env);
  }
  const evaluator = new Evaluator(opened.allowlist, now, npm);

  const packages: PackageVerdict[] = [];
  if (lockfile !== null) {
    const problems = new Map<string, LockfileProblem[]>();
    for (const p of lockfile.problems) problems.set(p.path, [...(problems.get(p.path) ?? []), p]);
    // Bundled packages last: each may stand on the verdict of the package that bundles it.
    const verdicts = new Map<string, PackageVerdict>();
    const byPath = new Map(lockfile.packages.map((p) => [p.path, p]));
    for (const p of [...lockfile.packages.filter((p) => !p.bundled), ...lockfile.packages.filter((p) => p.bundled)]) {
      const parent = p.bundled ? bundlerOf(p, byPath) : undefined;
      const v = evaluator.locked(p, parent === undefined ? undefined : verdicts.get(parent.path));
      for (const problem of problems.get(p.path) ?? []) addProblem(v, problem);
      problems.delete(p.path);
      verdicts.set(p.path, v.done());
    }
    for (const p of lockfile.packages) packages.push(verdicts.get(p.path)!);
    // Problems on the root or on entries the reader could not keep still count.
    for (const [path, list] of problems) {
      const v = new Verdict({
        name: path === '' ? (lockfile.root.name ?? '(project)') : path,
        version: path === '' ? (lockfile.root.version ?? '') : '',
        path,
        line: list[0]?.line ?? null,
        source: 'workspace',
        dev: false,
        optional: false,
      });
      for (const problem of list) addProblem(v, problem);
      packages.push(v.done());
    }
  }
  for (const spec of extra) packages.push(evaluator.requested(spec.name, spec.version));

  const counts = { allowed: 0, flagged: 0, blocked: 0 };
  for (const p of packages) counts[p.status]++;
  return {
    lockfile: lockfile?.file ?? null,
    allowlist: opened.file,
    serial: opened.allowlist.serial,
    signature: opened.signature,
    packages,
    counts,
    ok: counts.blocked === 0,
    warnings: opened.warning === null ? [] : [opened.warning],
  };
}

/** The nearest enclosing package that is not itself bundled: the one whose tarball carries `p`. */
function bundlerOf(p: LockedPackage, byPath: Map<string, LockedPackage>): LockedPackage | undefined {
  let key = p.path;
  for (let depth = 0; depth < 1000; depth++) {
    const parent = parentLocation(key, nameFromLocation(key));
    const found = parent === '' ? undefined : byPath.get(parent);
    if (found === undefined || !found.bundled) return found;
    key = parent;
  }
  return undefined;
}

function addProblem(v: Verdict, p: LockfileProblem): void {
  // The reader's INTEGRITY_MISSING says what our own INTEGRITY_MISSING already says.
  if (p.code === 'INTEGRITY_MISSING' && v.has('INTEGRITY_MISSING')) return;
  const message = `${p.code}: ${p.message}`;
  if (p.severity === 'error') v.block('LOCKFILE_PROBLEM', message);
  else v.flag('LOCKFILE_PROBLEM', message);
}

/** `name@version` (a scoped name keeps its leading @). */
export function parseSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  const name = at > 0 ? spec.slice(0, at) : spec;
  const version = at > 0 ? spec.slice(at + 1) : '';
  const errors = checkPackageName(name).errors;
  if (errors.length > 0) throw new StaxError('USAGE', `"${spec}" does not name an npm package: ${errors.join('; ')}`);
  return { name, version };
}

type Identity = Omit<PackageVerdict, 'status' | 'reasons'>;

class Verdict {
  private readonly reasons: PackageVerdict['reasons'] = [];
  private level = 0;

  constructor(private readonly id: Identity) {}

  block(code: VerdictCode, message: string): void {
    this.reasons.push({ code, message });
    this.level = 2;
  }

  flag(code: VerdictCode, message: string): void {
    this.reasons.push({ code, message });
    this.level = Math.max(this.level, 1);
  }

  has(code: VerdictCode): boolean {
    return this.reasons.some((r) => r.code === code);
  }

  done(): PackageVerdict {
    return { ...this.id, status: this.level === 2 ? 'blocked' : this.level === 1 ? 'flagged' : 'allowed', reasons: this.reasons };
  }
}

class Evaluator {
  constructor(
    private readonly a: Allowlist,
    private readonly now: Date,
    private readonly npm: Pick<NpmConfig, 'registry' | 'scopes'> | null,
  ) {}

  private expired(x: Approval): boolean {
    return x.expires !== null && Date.parse(x.expires) <= this.now.getTime();
  }

  /**
   * One lockfile entry. A bundled entry arrives inside the tarball of `bundler`, whose
   * approval (pinned integrity, exact source) covers its bytes: unless it has an approval of
   * its own, it is allowed when its bundler is, and blocked when its bundler is blocked.
   */
  locked(p: LockedPackage, bundler?: PackageVerdict): Verdict {
    const v = new Verdict({ name: p.name, version: p.version, path: p.path, line: p.line, source: p.source, dev: p.dev, optional: p.optional });
    if (p.source === 'link' || p.source === 'workspace') return v; // the project's own folders
    if (bundler !== undefined && !this.hasOwnApproval(p)) {
      if (bundler.status === 'blocked') v.block('NOT_APPROVED', `${p.name} ${p.version} comes bundled inside ${bundler.name} ${bundler.version}, which is blocked`);
    } else if (p.source === 'registry') {
      this.registry(v, p);
    } else {
      this.source(v, p);
    }
    if (p.hasInstallScript === true && !v.has('INSTALL_SCRIPT_NEW')) {
      v.flag('INSTALL_SCRIPT', `${p.name} ${p.version} runs an install script (preinstall, install or postinstall) when installed`);
    }
    return v;
  }

  private hasOwnApproval(p: LockedPackage): boolean {
    if (p.source !== 'registry') {
      const spec = sourceKey(p);
      return spec !== null && own(this.a.sources, spec) !== undefined;
    }
    const entry = own(this.a.packages, p.name);
    if (entry === undefined || p.version === '') return false;
    return own(entry.versions, p.version) !== undefined || Object.keys(entry.ranges).some((r) => semver.satisfies(p.version, r));
  }

  private registry(v: Verdict, p: LockedPackage): void {
    const entry = own(this.a.packages, p.name);
    if (entry === undefined) {
      v.block('NOT_APPROVED', `${p.name} is not in the allowlist; review it, then: stax approve ${p.name} ${p.version}`);
      return;
    }
    const exact = p.version === '' ? undefined : own(entry.versions, p.version);
    if (exact !== undefined) {
      if (this.expired(exact)) {
        v.block('EXPIRED', `the approval of ${p.name} ${p.version} expired on ${exact.expires}; approve it again to keep it`);
        return;
      }
      this.integrity(v, p, exact);
      this.host(v, p, exact);
      if (exact.installScript === false && p.hasInstallScript === true) {
        v.block('INSTALL_SCRIPT_NEW', `${p.name} ${p.version} was approved without an install script, but the lockfile says it has one now`);
      }
      return;
    }
    const ranges = Object.keys(entry.ranges).filter((r) => p.version !== '' && semver.satisfies(p.version, r));
    const live = ranges.filter((r) => !this.expired(entry.ranges[r]!));
    if (live.length > 0) {
      v.flag('RANGE_ONLY', `${p.name} ${p.version} is allowed only through the range ${live.join(', ')}: weaker than a pinned version, nothing fixes its integrity`);
      this.integrity(v, p, null);
      this.host(v, p, null);
      return;
    }
    if (ranges.length > 0) {
      v.block('EXPIRED', `${p.name} ${p.version} matches only expired range approvals (${ranges.join(', ')})`);
      return;
    }
    const known = [...Object.keys(entry.versions), ...Object.keys(entry.ranges)];
    v.block('VERSION_NOT_APPROVED', `${p.name} ${p.version || '(no version)'} is not approved${known.length > 0 ? ` (approved: ${known.join(', ')})` : ''}; review it, then: stax approve ${p.name} ${p.version}`);
  }

  /** Pinned integrity against the lockfile's. Bundled packages come inside their parent's tarball, checked there. */
  private integrity(v: Verdict, p: LockedPackage, exact: VersionApproval | null): void {
    if (p.bundled) return;
    if (p.integrity === undefined) {
      v.block('INTEGRITY_MISSING', `the lockfile records no integrity for ${p.name} ${p.version}, so npm cannot check what it downloads; regenerate the lockfile`);
      return;
    }
    if (exact === null) return;
    const why = integrityDiffers(exact.integrity, p.integrity);
    if (why !== null) v.block('INTEGRITY_MISMATCH', `${p.name} ${p.version}: ${why}; the tarball is not the one approved`);
  }

  private host(v: Verdict, p: LockedPackage, exact: VersionApproval | null): void {
    if (p.bundled) return;
    let host: string | null;
    let from: string;
    if (p.resolvedMissing) {
      const registry = registryFor(p.name, this.npm ?? { registry: '', scopes: {} });
      host = hostOf(registry);
      from = `the configured registry ${host ?? registry}`;
    } else {
      host = p.registryHost ?? null;
      from = host ?? String(p.resolved);
    }
    if (host === null || !this.a.hosts.includes(host)) {
      v.block('HOST_NOT_ALLOWED', `${p.name} ${p.version} would be fetched from ${from}, which is not an allowed registry host (allowed: ${this.a.hosts.join(', ') || 'none'})`);
    } else if (exact !== null && exact.host !== null && exact.host !== host) {
      v.block('HOST_NOT_ALLOWED', `${p.name} ${p.version} was approved from ${exact.host}, but would be fetched from ${from}`);
    }
  }

  private source(v: Verdict, p: LockedPackage): void {
    const spec = sourceKey(p);
    const approval = spec === null ? undefined : own(this.a.sources, spec);
    if (spec === null || approval === undefined) {
      const where = spec ?? p.path;
      v.block('SOURCE_NOT_APPROVED', `${p.name} comes from a ${p.source} source (${where}), which is not approved; review it, then: stax approve ${p.name} --source '${where}'`);
      return;
    }
    if (approval.name !== p.name) {
      v.block('SOURCE_NOT_APPROVED', `the source ${spec} is approved for the package ${approval.name}, not ${p.name}`);
      return;
    }
    if (this.expired(approval)) v.block('EXPIRED', `the approval of ${spec} expired on ${approval.expires}; approve it again to keep it`);
  }

  /** A package named on the command line: no lockfile facts, only the approvals. */
  requested(name: string, version: string): PackageVerdict {
    const v = new Verdict({ name, version, path: version === '' ? name : `${name}@${version}`, line: null, source: 'registry', dev: false, optional: false });
    const entry = own(this.a.packages, name);
    if (entry === undefined) {
      v.block('NOT_APPROVED', `${name} is not in the allowlist`);
      return v.done();
    }
    const exact = semver.valid(version) === version ? own(entry.versions, version) : undefined;
    if (exact !== undefined) {
      if (this.expired(exact)) v.block('EXPIRED', `the approval of ${name} ${version} expired on ${exact.expires}`);
      else if (exact.installScript === true) v.flag('INSTALL_SCRIPT', `${name} ${version} runs an install script when installed`);
      return v.done();
    }
    const isVersion = semver.valid(version) === version;
    const ranges = isVersion ? Object.keys(entry.ranges).filter((r) => semver.satisfies(version, r)) : Object.hasOwn(entry.ranges, version) ? [version] : [];
    const live = ranges.filter((r) => !this.expired(entry.ranges[r]!));
    if (live.length > 0) v.flag('RANGE_ONLY', `${name}@${version} is allowed only through the range ${live.join(', ')}`);
    else if (ranges.length > 0) v.block('EXPIRED', `${name}@${version} matches only expired range approvals (${ranges.join(', ')})`);
    else if (!isVersion) v.block('VERSION_NOT_APPROVED', `${name}@${version || '(no version)'}: name an exact approved version`);
    else v.block('VERSION_NOT_APPROVED', `${name} ${version} is not approved`);
    return v.done();
  }
}

/**
 * The exact source an entry is approved by: the lockfile's `resolved` (git URL with commit,
 * `file:` spec, tarball URL); for a folder entry npm writes without one, `file:<location>`.
 */
export function sourceKey(p: LockedPackage): string | null {
  if (p.resolved !== undefined && p.resolved !== '') return p.resolved;
  if (p.source === 'file') return `file:${p.path}`;
  return null;
}

const ALG_RANK: Record<string, number> = { sha1: 1, sha256: 2, sha384: 3, sha512: 4 };

function parseSri(sri: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const token of sri.trim().split(/\s+/)) {
    const dash = token.indexOf('-');
    if (dash < 0) continue;
    const alg = token.slice(0, dash);
    const digest = token.slice(dash + 1).split('?')[0]!;
    if (!Object.hasOwn(ALG_RANK, alg)) continue;
    if (!out.has(alg)) out.set(alg, new Set());
    out.get(alg)!.add(digest);
  }
  return out;
}

/** Null when the lockfile's integrity holds the pinned hash of their strongest shared algorithm; else why not. */
export function integrityDiffers(pinned: string, locked: string): string | null {
  const a = parseSri(pinned);
  const b = parseSri(locked);
  const shared = [...a.keys()].filter((alg) => b.has(alg)).sort((x, y) => ALG_RANK[y]! - ALG_RANK[x]!);
  const alg = shared[0];
  if (alg === undefined) return `the lockfile's integrity (${[...b.keys()].join(', ') || 'none'}) shares no hash algorithm with the approved one (${[...a.keys()].join(', ')})`;
  const locks = b.get(alg)!;
  if ([...a.get(alg)!].some((d) => locks.has(d))) return null;
  return `the lockfile's ${alg} is ${[...locks][0]!.slice(0, 16)}…, the approved one is ${[...a.get(alg)!][0]!.slice(0, 16)}…`;
}

// ---- fail-open --------------------------------------------------------------------------

export interface FailOpenOptions extends CheckOptions {
  /** What was about to run, for the guard trail: `npm install`, `stax check`. */
  command: string;
  npm?: string | null;
  /** Who ran it (default $STAX_ACTOR, else the user name). */
  actor?: string;
}

export interface FailOpenOutcome {
  ok: true;
  failOpen: true;
  /** The check as it came out, or null when it could not run. */
  result: CheckResult | null;
  /** Why the check could not run, when it could not. */
  error: { code: string; reason?: string; message: string; file?: string } | null;
  /** What the check would have blocked. */
  wouldBlock: Array<{ name: string; version: string; codes: string[] }>;
  /** The guard trail entry that records it, or null with recordError. */
  recorded: { file: string; seq: number } | null;
  recordError: string | null;
  /** The loud line a caller prints. */
  warning: string;
}

/**
 * `--fail-open`, which only a user may choose: runs the check, never blocks, and records
 * the decision in the guard trail as `install.check` with `failOpen: true`, including what
 * would have been blocked or why the check could not run.
 */
export async function checkProjectFailOpen(o: FailOpenOptions): Promise<FailOpenOutcome> {
  let result: CheckResult | null = null;
  let error: FailOpenOutcome['error'] = null;
  try {
    result = await checkProject(o);
  } catch (err) {
    const json = err instanceof StaxError ? (err.toJSON() as { code: string; message: string; reason?: string; file?: string }) : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
    error = json;
  }
  const wouldBlock = (result?.packages ?? []).filter((p) => p.status === 'blocked').map((p) => ({ name: p.name, version: p.version, codes: p.reasons.map((r) => r.code) }));
  const why =
    error !== null
      ? `the guard could not check (${error.message})`
      : wouldBlock.length > 0
        ? `${wouldBlock.length} package(s) would have been blocked: ${wouldBlock.slice(0, 5).map((b) => `${b.name}@${b.version}`).join(', ')}${wouldBlock.length > 5 ? ', …' : ''}`
        : null;
  let recorded: FailOpenOutcome['recorded'] = null;
  let recordError: string | null = null;
  const trail = guardTrailPath(o);
  if (trail === null) {
    recordError = 'no guard trail (--no-guard-trail): nothing recorded';
  } else {
    if (!existsSync(trail)) {
      recordError = `no guard trail at ${trail}: nothing recorded`;
    } else {
      const lockfile = result?.lockfile ?? (o.lockfile === undefined ? null : resolve(o.cwd, o.lockfile));
      const payload: InstallCheckPayload = {
        lockfile,
        lockfileDigest: lockfile === null ? null : await fileDigest(lockfile),
        npm: o.npm ?? null,
        command: o.command,
        allowed: true,
        blocked: wouldBlock,
        failOpen: true,
      };
      if (error !== null) payload.error = { code: error.reason ?? error.code, message: error.message };
      try {
        const entry = await appendInstallCheck(trail, payload, { actor: o.actor ?? defaultActor(o.env), cwd: o.cwd });
        recorded = { file: trail, seq: entry.seq };
      } catch (err) {
        recordError = `could not record in ${trail}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  }
  const warning =
    `FAIL-OPEN: the install guard is not enforcing${why === null ? '' : `: ${why}`}. ` +
    (recorded !== null ? `Recorded in ${recorded.file} (entry ${recorded.seq}, failOpen: true).` : `NOT recorded: ${recordError}.`);
  return { ok: true, failOpen: true, result, error, wouldBlock, recorded, recordError, warning };
}

