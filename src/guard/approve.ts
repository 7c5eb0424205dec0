/**
 * Changes to the allowlist: approve, revoke, re-sign. Each is one atomic write of the
 * signed file and one `allowlist.change` entry in the guard trail, with serial + 1, made
 * under a lock beside the allowlist so that two approvers never lose each other's change.
 *
 * Before anything changes, the allowlist on disk must verify exactly as a check verifies it
 * (signature, then the guard trail): a change on top of an edited or rolled-back file would
 * launder it. After signing, the new file must verify the same way, or nothing is written.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import semver from 'semver';
import { FileLock } from '../chain/lock.js';
import { StaxError, fileError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { findHmacKey } from '../keys/secret-file.js';
import { loadSigner, loadTrustedKeys, resolveKeyFile } from '../keys/store.js';
import {
  DEFAULT_TRUSTED_KEYS,
  GuardError,
  allowlistDigest,
  cloneBody,
  dict,
  emptyAllowlist,
  isHost,
  isTimestamp,
  own,
  parseAllowlist,
  serializeAllowlist,
  signAllowlist,
  sourceKind,
  trustedKeysPath,
  verificationMode,
  verifySignature,
  type Allowlist,
  type AllowlistBody,
  type ModeOptions,
  type SignatureCheck,
  type SigningKeys,
} from './allowlist.js';
import { allowlistPath, guardTrailPath, integrityDiffers, openAllowlist, sourceKey, type OpenedAllowlist } from './check.js';
import { appendAllowlistChange, readGuardTrail, type AllowlistChange } from './guard-trail.js';
import { isValidIntegrity, type PackageSource } from './lockfile-spec.js';
import type { Lockfile } from './lockfile.js';
import { checkPackageName } from './package-name.js';

export interface ChangeOptions extends ModeOptions {
  allowlist?: string;
  /** Default .stax/guard.jsonl; null: neither checked nor written (not recommended). */
  guardTrail?: string | null;
  /** Ed25519 private keys to sign with: files, or names in the key folder. */
  keys?: string[];
  /** Who makes the change: recorded in each approval and as the guard-trail actor. */
  actor: string;
  now?: Date;
}

export interface ChangeResult {
  allowlist: string;
  guardTrail: string | null;
  /** True when this change created the allowlist. */
  created: boolean;
  previousSerial: number | null;
  serial: number;
  digest: string;
  changes: AllowlistChange[];
  signedWith: { hmac: boolean; ed25519: string[] };
  trailEntry: { seq: number; hash: string } | null;
}

export type ApprovalItem =
  | { kind: 'version'; name: string; version: string; integrity: string; host: string | null; installScript: boolean | null }
  | { kind: 'range'; name: string; range: string }
  | { kind: 'source'; name: string; source: string };

export interface ApprovalMeta {
  note?: string | null;
  /** RFC 3339 time (see parseExpires). */
  expires?: string | null;
  /** Registry hosts to add to `hosts`. */
  hosts?: string[];
}

export type RevokeTarget = { name: string; version?: string } | { source: string } | { host: string };

// ---- keys -------------------------------------------------------------------------------

/** The keys a change is signed with: the HMAC key (env or file) and/or Ed25519 keys. */
export function signingKeys(o: ChangeOptions): SigningKeys {
  const hmac = findHmacKey({ env: o.env, file: o.hmacKeyFile === undefined ? undefined : resolve(o.cwd, o.hmacKeyFile) });
  const signers = (o.keys ?? []).map((k) => loadSigner(resolveKeyFile(k, o.env, o.cwd)));
  const hmacKey = hmac === undefined ? null : hmac();
  if (hmacKey === null && signers.length === 0) {
    throw new StaxError('KEY_MISSING', 'an allowlist change must be signed: export STAX_HMAC_KEY=<secret> (or pass --hmac-key-file FILE), or pass --key NAME (create one with: stax key generate --name <you>)');
  }
  return { hmacKey, signers };
}

/** Refuses a signed document that `stax check` would not accept with the same settings. */
function assertCheckable(doc: Allowlist, o: ChangeOptions, file: string, keys: SigningKeys): void {
  try {
    verifySignature(doc, verificationMode(o), file);
  } catch (err) {
    if (!(err instanceof StaxError)) throw err;
    const names = keys.signers.map((s) => s.name);
    const hint =
      err.code === 'KEY_MISSING'
        ? `it is signed with Ed25519 only and there is no ${DEFAULT_TRUSTED_KEYS}: add the public key (stax key show ${names[0] ?? '<name>'} >> ${DEFAULT_TRUSTED_KEYS}), or sign with STAX_HMAC_KEY as well`
        : `${err.message}; add the signing key to the trusted keys (stax key show ${names[0] ?? '<name>'} >> ${DEFAULT_TRUSTED_KEYS}) or sign with --key <a trusted key>`;
    throw new GuardError('UNTRUSTED_KEY', 'KEY_INVALID', `not written: stax check could not verify the new allowlist: ${hint}`, { file, cause: err });
  }
}

// ---- the change itself ------------------------------------------------------------------

type Verify = (doc: Allowlist, file: string) => SignatureCheck;

async function applyChange(o: ChangeOptions, mutate: (body: AllowlistBody, now: string) => AllowlistChange[], verify?: Verify): Promise<ChangeResult> {
  const keys = signingKeys(o);
  const file = allowlistPath(o);
  const trailFile = guardTrailPath(o);
  const now = (o.now ?? new Date()).toISOString();
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw fileError(dirname(file), err, 'create the folder');
  }
  const lock = FileLock.for(file);
  await lock.acquire();
  try {
    let current: OpenedAllowlist | null = null;
    let previousBytes: Buffer | null = null;
    if (existsSync(file)) {
      current = await openAllowlist(o, verify);
      previousBytes = readFileSync(file);
    } else if (trailFile !== null && existsSync(trailFile)) {
      const trail = await readGuardTrail(trailFile);
      if (trail.latest !== null) {
        throw new GuardError('ALLOWLIST_MISSING', 'FILE_NOT_FOUND', `the allowlist is gone, but the guard trail records serial ${trail.latest.serial}: restore it (from version control) instead of starting a new one`, { file });
      }
    }
    const body = current === null ? emptyAllowlist(new Date(now)) : cloneBody(current.allowlist);
    const changes = mutate(body, now);
    if (changes.length === 0) throw new StaxError('USAGE', 'nothing to change');
    body.serial = (current?.allowlist.serial ?? 0) + 1;
    body.updated = now;
    const signed = signAllowlist(body, keys);
    // Never write a file that the reader would refuse, nor one the check could not verify.
    parseAllowlist(serializeAllowlist(signed), file);
    assertCheckable(signed, o, file, keys);
    const digest = allowlistDigest(signed);
    writeFileAtomic(file, serializeAllowlist(signed), { overwrite: true });
    let trailEntry: ChangeResult['trailEntry'] = null;
    if (trailFile !== null) {
      try {
        const e = await appendAllowlistChange(trailFile, { serial: signed.serial, digest, changes }, { actor: o.actor, cwd: o.cwd });
        trailEntry = { seq: e.seq, hash: e.hash };
      } catch (err) {
        // Put the old file back: an allowlist the trail does not know would fail every check.
        if (previousBytes !== null) writeFileAtomic(file, previousBytes, { overwrite: true });
        else unlinkSync(file);
        throw err;
      }
    }
    return {
      allowlist: file,
      guardTrail: trailFile,
      created: current === null,
      previousSerial: current?.allowlist.serial ?? null,
      serial: signed.serial,
      digest,
      changes,
      signedWith: { hmac: signed.signatures.hmac !== undefined, ed25519: (signed.signatures.ed25519 ?? []).map((s) => s.key) },
      trailEntry,
    };
  } finally {
    lock.release();
  }
}

/** Approves packages, ranges, sources and hosts in one signed change. */
export async function approve(o: ChangeOptions, items: ApprovalItem[], meta: ApprovalMeta = {}): Promise<ChangeResult> {
  for (const item of items) validateItem(item);
  for (const h of meta.hosts ?? []) if (!isHost(h)) throw new StaxError('USAGE', `"${h}" is not a host (host or host:port, lower case, no scheme)`);
  if (meta.expires != null && !isTimestamp(meta.expires)) throw new StaxError('USAGE', `expiry "${meta.expires}" is not an RFC 3339 time`);
  if (meta.note != null && meta.note.length > 10_000) throw new StaxError('USAGE', 'the note is longer than 10,000 characters');
  if (o.actor.trim() === '' || o.actor.length > 256) throw new StaxError('USAGE', 'the approver (--by, $STAX_ACTOR) must be 1 to 256 characters');
  return applyChange(o, (body, now) => {
    const changes: AllowlistChange[] = [];
    for (const h of meta.hosts ?? []) {
      if (!body.hosts.includes(h)) {
        body.hosts.push(h);
        changes.push({ op: 'approve', host: h });
      }
    }
    const stamp = { approvedBy: o.actor, approvedAt: now, note: meta.note ?? null, expires: meta.expires ?? null };
    for (const item of items) {
      if (item.kind === 'source') {
        body.sources[item.source] = { name: item.name, ...stamp };
        changes.push({ op: 'approve', name: item.name, source: item.source });
        continue;
      }
      let entry = own(body.packages, item.name);
      if (entry === undefined) body.packages[item.name] = entry = { versions: dict(), ranges: dict() };
      if (item.kind === 'range') {
        entry.ranges[item.range] = { ...stamp, weak: true };
        changes.push({ op: 'approve', name: item.name, range: item.range });
        continue;
      }
      const before = own(entry.versions, item.version);
      if (before !== undefined && integrityDiffers(before.integrity, item.integrity) !== null) {
        throw new StaxError('USAGE', `${item.name} ${item.version} is already approved with another integrity (${before.integrity.slice(0, 23)}…, now ${item.integrity.slice(0, 23)}…): the same version with other bytes. If you trust the new bytes, revoke it first: stax revoke ${item.name} ${item.version}`);
      }
      if (item.host !== null && !body.hosts.includes(item.host)) {
        throw new StaxError('USAGE', `${item.name} ${item.version} comes from ${item.host}, which is not an allowed registry host (${body.hosts.join(', ') || 'none'}); if you trust it, add --allow-host ${item.host}`);
      }
      entry.versions[item.version] = { integrity: item.integrity, host: item.host, installScript: item.installScript, ...stamp };
      changes.push({ op: 'approve', name: item.name, version: item.version });
    }
    return changes;
  });
}

function validateItem(item: ApprovalItem): void {
  const errors = checkPackageName(item.name).errors;
  if (errors.length > 0) throw new StaxError('USAGE', `"${item.name}" is not an npm package name: ${errors.join('; ')}`);
  switch (item.kind) {
    case 'version':
      if (semver.valid(item.version) !== item.version) throw new StaxError('USAGE', `"${item.version}" is not an exact version (4.17.21); approve a range with --range`);
      if (!isValidIntegrity(item.integrity)) throw new StaxError('USAGE', `"${item.integrity}" is not a Subresource Integrity string (sha512-…, as in package-lock.json)`);
      if (item.host !== null && !isHost(item.host)) throw new StaxError('USAGE', `"${item.host}" is not a host`);
      return;
    case 'range':
      if (item.range.trim() === '' || semver.validRange(item.range) === null) throw new StaxError('USAGE', `"${item.range}" is not a semver range (^4.17.0, ~1.2, >=2 <3)`);
      return;
    case 'source':
      if (sourceKind(item.source) === null) throw new StaxError('USAGE', `"${item.source}" is not a git, file: or http(s) source; give it exactly as the lockfile's "resolved" has it`);
      return;
  }
}

/** Revokes versions, ranges, whole packages, sources or hosts in one signed change. */
export async function revoke(o: ChangeOptions, targets: RevokeTarget[]): Promise<ChangeResult> {
  return applyChange(o, (body) => {
    const changes: AllowlistChange[] = [];
    for (const t of targets) {
      if ('host' in t) {
        const i = body.hosts.indexOf(t.host);
        if (i < 0) throw new StaxError('USAGE', `${t.host} is not an allowed host`);
        body.hosts.splice(i, 1);
        changes.push({ op: 'revoke', host: t.host });
        continue;
      }
      if ('source' in t) {
        const s = own(body.sources, t.source);
        if (s === undefined) throw new StaxError('USAGE', `the source ${t.source} is not approved`);
        delete body.sources[t.source];
        changes.push({ op: 'revoke', name: s.name, source: t.source });
        continue;
      }
      const entry = own(body.packages, t.name);
      if (t.version === undefined) {
        const sources = Object.keys(body.sources).filter((k) => body.sources[k]!.name === t.name);
        if (entry === undefined && sources.length === 0) throw new StaxError('USAGE', `${t.name} is not in the allowlist`);
        delete body.packages[t.name];
        for (const k of sources) delete body.sources[k];
        changes.push({ op: 'revoke', name: t.name });
        continue;
      }
      if (entry !== undefined && own(entry.versions, t.version) !== undefined) {
        delete entry.versions[t.version];
        changes.push({ op: 'revoke', name: t.name, version: t.version });
      } else if (entry !== undefined && own(entry.ranges, t.version) !== undefined) {
        delete entry.ranges[t.version];
        changes.push({ op: 'revoke', name: t.name, range: t.version });
      } else {
        throw new StaxError('USAGE', `${t.name} ${t.version} is not approved${entry === undefined ? '' : ` (approved: ${[...Object.keys(entry.versions), ...Object.keys(entry.ranges)].join(', ') || 'nothing'})`}`);
      }
      if (Object.keys(entry.versions).length === 0 && Object.keys(entry.ranges).length === 0) delete body.packages[t.name];
    }
    return changes;
  });
}

export interface ResignOptions extends ChangeOptions {
  /** The HMAC key the current file was signed with, when it is being replaced. */
  previousHmacKeyFile?: string;
}

/**
 * Re-signs the allowlist unchanged but for serial and time, after a key rotation or to move
 * from HMAC to Ed25519. The current file must verify with any configured means: the trusted
 * keys, the previous HMAC key (--previous-hmac-key-file or STAX_HMAC_KEY_PREVIOUS), or the
 * current HMAC key.
 */
export async function resign(o: ResignOptions): Promise<ChangeResult> {
  const verify: Verify = (doc, file) => {
    const errors: unknown[] = [];
    const trusted = trustedKeysPath(o);
    if (trusted !== null) {
      try {
        return verifySignature(doc, { kind: 'ed25519', trusted: loadTrustedKeys(trusted) }, file);
      } catch (err) {
        errors.push(err);
      }
    }
    const previous = findHmacKey({ env: { STAX_HMAC_KEY: o.env.STAX_HMAC_KEY_PREVIOUS }, file: o.previousHmacKeyFile === undefined ? undefined : resolve(o.cwd, o.previousHmacKeyFile) });
    const current = findHmacKey({ env: o.env, file: o.hmacKeyFile === undefined ? undefined : resolve(o.cwd, o.hmacKeyFile) });
    for (const key of [previous, current]) {
      if (key === undefined) continue;
      try {
        return verifySignature(doc, { kind: 'hmac', key: key() }, file);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
    throw new StaxError('KEY_MISSING', 'cannot verify the current allowlist before re-signing: give the previous HMAC key (--previous-hmac-key-file FILE or STAX_HMAC_KEY_PREVIOUS), or trusted keys that signed it');
  };
  return applyChange(o, () => [{ op: 'sign' }], verify);
}

// ---- approving what a lockfile holds ----------------------------------------------------

export interface Candidate {
  kind: 'version' | 'source';
  name: string;
  version: string;
  /** SRI from the lockfile (version candidates). */
  integrity: string | null;
  /** The exact source spec (source candidates). */
  source: string | null;
  from: PackageSource;
  host: string | null;
  installScript: boolean | null;
  dev: boolean;
  optional: boolean;
  /** Every lockfile location that holds it. */
  paths: string[];
  line: number;
  /** A range that allows it today (weakly), if any. */
  range: string | null;
}

export interface Skipped {
  name: string;
  version: string;
  path: string;
  why: string;
}

/**
 * Every package of a lockfile that the allowlist does not yet pin: registry packages by
 * name, version and the lockfile's integrity (no network), git/file/remote ones by their
 * exact source. Entries that cannot be approved safely from the lockfile are listed, with why.
 */
export function lockfileCandidates(lock: Lockfile, a: AllowlistBody | null): { candidates: Candidate[]; skipped: Skipped[] } {
  const allowlist = a ?? emptyAllowlist(new Date(0));
  const bad = new Map<string, string[]>();
  for (const p of lock.problems) if (p.severity === 'error') bad.set(p.path, [...(bad.get(p.path) ?? []), p.code]);
  const byKey = new Map<string, Candidate>();
  const conflicts = new Set<string>();
  const skipped: Skipped[] = [];
  for (const p of lock.packages) {
    if (p.source === 'link' || p.source === 'workspace') continue;
    const skip = (why: string): void => void skipped.push({ name: p.name, version: p.version, path: p.path, why });
    const problems = bad.get(p.path);
    if (problems !== undefined) {
      skip(`the lockfile entry has problems (${problems.join(', ')}); run stax check for details`);
      continue;
    }
    let key: string;
    let candidate: Candidate;
    const base = { name: p.name, version: p.version, from: p.source, installScript: p.hasInstallScript ?? null, dev: p.dev, optional: p.optional, paths: [p.path], line: p.line, range: null };
    if (p.source === 'registry') {
      // Inside its bundler's tarball: covered by the bundler's approval (see check.ts).
      if (p.bundled) continue;
      if (p.integrity === undefined) {
        skip('the lockfile records no integrity for it');
        continue;
      }
      const entry = own(allowlist.packages, p.name);
      const exact = entry === undefined ? undefined : own(entry.versions, p.version);
      if (exact !== undefined) {
        if (integrityDiffers(exact.integrity, p.integrity) !== null) skip('approved with another integrity than the lockfile has: review, then revoke and approve again');
        continue;
      }
      const range = entry === undefined ? undefined : Object.keys(entry.ranges).find((r) => semver.satisfies(p.version, r));
      key = `${p.name}@${p.version}`;
      candidate = { ...base, kind: 'version', integrity: p.integrity, source: null, host: p.resolvedMissing ? null : (p.registryHost ?? null), range: range ?? null };
    } else {
      const spec = sourceKey(p);
      if (spec === null) {
        skip('no source spec to approve it by');
        continue;
      }
      const approved = own(allowlist.sources, spec);
      if (approved !== undefined) {
        if (approved.name !== p.name) skip(`its source is approved for another package (${approved.name})`);
        continue;
      }
      key = `source ${spec}`;
      candidate = { ...base, kind: 'source', integrity: p.integrity ?? null, source: spec, host: null };
    }
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, candidate);
    } else if (seen.integrity !== candidate.integrity || seen.name !== candidate.name) {
      conflicts.add(key);
    } else {
      seen.paths.push(p.path);
      seen.dev &&= p.dev;
      seen.optional &&= p.optional;
    }
  }
  for (const key of conflicts) {
    const c = byKey.get(key)!;
    byKey.delete(key);
    skipped.push({ name: c.name, version: c.version, path: c.paths.join(', '), why: 'the lockfile holds it twice with different integrity or names; review the lockfile' });
  }
  return { candidates: [...byKey.values()], skipped };
}

export function candidateItem(c: Candidate): ApprovalItem {
  return c.kind === 'source'
    ? { kind: 'source', name: c.name, source: c.source! }
    : { kind: 'version', name: c.name, version: c.version, integrity: c.integrity!, host: c.host, installScript: c.installScript };
}

// ---- expiry -----------------------------------------------------------------------------

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000 };

/** `--expires`: an ISO date or time, or a duration from now (`90d`, `12w`, `1y`, `48h`). */
export function parseExpires(text: string, now: Date): string {
  const usage = new StaxError('USAGE', `--expires "${text}": give an ISO date (2027-01-31), a time (2027-01-31T12:00:00Z) or a duration (90d, 12w, 1y, 48h)`);
  const t = text.trim();
  let ms: number;
  const duration = /^(\d{1,6})([hdwy])$/.exec(t);
  if (duration !== null) {
    ms = now.getTime() + Number(duration[1]) * UNIT_MS[duration[2]!]!;
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    ms = Date.parse(`${t}T00:00:00Z`);
    if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== t) throw usage;
  } else if (isTimestamp(t)) {
    ms = Date.parse(t);
  } else {
    throw usage;
  }
  if (!Number.isFinite(ms) || ms > 8.64e15) throw usage;
  if (ms <= now.getTime()) throw new StaxError('USAGE', `--expires ${t} is not in the future`);
  return new Date(ms).toISOString();
}
