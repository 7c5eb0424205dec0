/**
 * The signed allowlist (`.stax/allowlist.json`, docs/guard-design.md): its model, a strict
 * reader, the canonical bytes it is signed over, and HMAC and Ed25519 signatures.
 *
 * The file is hostile input. TrailStax's guardian signed each entry on its own and never
 * checked that an entry belonged to the name it was filed under, so entries could be moved
 * between packages; here one signature covers the whole document, every key is validated
 * (npm names, exact versions, ranges, source specs), a repeated JSON key is an error (two
 * readers could see two values), unknown members are refused, and records are null-prototype
 * objects read with Object.hasOwn only, so `__proto__` or `constructor` are never special.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import semver from 'semver';
import { StaxError, fileError, type ErrorCode, type ExitCode, Exit } from '../errors.js';
import { canonicalize } from '../json/jcs.js';
import { JsonParseError, parseJson } from '../json/parse.js';
import { toPlain } from '../json/value.js';
import { sign, verify } from '../crypto/ed25519.js';
import { fromBase64, toBase64 } from '../crypto/encoding.js';
import type { NoteSigner } from '../crypto/note.js';
import { findHmacKey } from '../keys/secret-file.js';
import { keyLabel, loadTrustedKeys, type TrustedKeys } from '../keys/store.js';
import { PROJECT_DIR } from '../trail/paths.js';
import { httpUrl, isFileSpec, isGitSpec, isValidIntegrity } from './lockfile-spec.js';
import { checkPackageName } from './package-name.js';

export const ALLOWLIST_FORMAT = 'stax-allowlist';
export const ALLOWLIST_VERSION = 1;
export const DEFAULT_HOSTS: readonly string[] = ['registry.npmjs.org'];
export const DEFAULT_ALLOWLIST = join(PROJECT_DIR, 'allowlist.json');
export const DEFAULT_TRUSTED_KEYS = join(PROJECT_DIR, 'trusted-keys.txt');
/** Far above any real allowlist (a 5,000-package project writes about 2 MiB). */
export const MAX_ALLOWLIST_BYTES = 16 * 1024 * 1024;
/** Prefix of the Ed25519-signed message, so a signature can never be replayed as another kind. */
export const ED25519_DOMAIN = 'stax-allowlist/v1\n';

// ---- model ------------------------------------------------------------------------------

export interface Approval {
  approvedBy: string;
  /** RFC 3339 UTC. */
  approvedAt: string;
  note: string | null;
  /** RFC 3339 UTC, or null for no expiry. */
  expires: string | null;
}

export interface VersionApproval extends Approval {
  /** SRI, as in lockfiles. */
  integrity: string;
  /** The registry host the tarball was resolved from; null: any host in `hosts`. */
  host: string | null;
  /** Whether the approved version runs install scripts; null when unknown (offline approval). */
  installScript: boolean | null;
}

export interface RangeApproval extends Approval {
  /** Always true: a range is visibly weaker than a pinned version. */
  weak: true;
}

export interface SourceApproval extends Approval {
  /** The package this exact source must install. */
  name: string;
}

export interface PackageApprovals {
  versions: Record<string, VersionApproval>;
  ranges: Record<string, RangeApproval>;
}

export interface Ed25519Signature {
  /** `name+keyid`, as in trusted-keys files. */
  key: string;
  /** Base64 Ed25519 signature of ED25519_DOMAIN || canonical bytes. */
  sig: string;
}

export interface AllowlistSignatures {
  /** Hex HMAC-SHA256 of the canonical bytes. */
  hmac?: string;
  ed25519?: Ed25519Signature[];
}

export interface AllowlistBody {
  format: typeof ALLOWLIST_FORMAT;
  version: typeof ALLOWLIST_VERSION;
  serial: number;
  updated: string;
  hosts: string[];
  packages: Record<string, PackageApprovals>;
  sources: Record<string, SourceApproval>;
}

export interface Allowlist extends AllowlistBody {
  signatures: AllowlistSignatures;
}

/** A record that treats every key, `__proto__` included, as plain data. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** The value filed under `key`, never an inherited one. */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** An allowlist with nothing approved, serial 0: the first change makes it serial 1. */
export function emptyAllowlist(now: Date): AllowlistBody {
  return {
    format: ALLOWLIST_FORMAT,
    version: ALLOWLIST_VERSION,
    serial: 0,
    updated: now.toISOString(),
    hosts: [...DEFAULT_HOSTS],
    packages: dict(),
    sources: dict(),
  };
}

/** A deep copy, so that a change never touches the document it started from. */
export function cloneBody(a: AllowlistBody): AllowlistBody {
  const packages = dict<PackageApprovals>();
  for (const [name, p] of Object.entries(a.packages)) {
    const versions = dict<VersionApproval>();
    for (const [v, x] of Object.entries(p.versions)) versions[v] = { ...x };
    const ranges = dict<RangeApproval>();
    for (const [r, x] of Object.entries(p.ranges)) ranges[r] = { ...x };
    packages[name] = { versions, ranges };
  }
  const sources = dict<SourceApproval>();
  for (const [s, x] of Object.entries(a.sources)) sources[s] = { ...x };
  return { format: a.format, version: a.version, serial: a.serial, updated: a.updated, hosts: [...a.hosts], packages, sources };
}

// ---- errors -----------------------------------------------------------------------------

/** Why the guard refused: a closed set, so callers and tests match on it, not on text. */
export type GuardFailure =
  | 'ALLOWLIST_MISSING'
  | 'ALLOWLIST_INVALID'
  /** No signature of the mode the check requires. */
  | 'UNSIGNED'
  /** A signature that does not verify. */
  | 'BAD_SIGNATURE'
  /** Ed25519 signatures only by keys that are not trusted. */
  | 'UNTRUSTED_KEY'
  /** The allowlist is older than the newest change the guard trail records. */
  | 'ROLLBACK'
  /** The allowlist is not the one the guard trail's newest change recorded. */
  | 'ALLOWLIST_MISMATCH'
  | 'GUARD_TRAIL_MISSING'
  | 'GUARD_TRAIL_INVALID'
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_ERROR';

export class GuardError extends StaxError {
  readonly reason: GuardFailure;

  constructor(reason: GuardFailure, code: ErrorCode, message: string, options: { file?: string; cause?: unknown; exitCode?: ExitCode } = {}) {
    super(code, message, options);
    this.reason = reason;
  }

  override toJSON(): { code: ErrorCode; reason: GuardFailure; message: string; file?: string } {
    return { ...super.toJSON(), reason: this.reason };
  }
}

function invalid(file: string, message: string): GuardError {
  return new GuardError('ALLOWLIST_INVALID', 'INPUT_INVALID', `not a valid allowlist: ${message}`, { file });
}

// ---- reading ----------------------------------------------------------------------------

/** Reads and validates an allowlist file; a missing file says how to create one. */
export async function readAllowlist(file: string): Promise<Allowlist> {
  let text: string;
  try {
    // O_NONBLOCK: a FIFO must not hang the check; fstat below refuses it.
    const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new StaxError('FILE_UNREADABLE', info.isDirectory() ? 'is a directory' : 'is not a regular file', { file });
      if (info.size > MAX_ALLOWLIST_BYTES) throw tooLarge(file);
      const buffer = Buffer.allocUnsafe(Math.min(info.size, MAX_ALLOWLIST_BYTES) + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0 || (length += bytesRead) === buffer.length) break;
      }
      if (length > MAX_ALLOWLIST_BYTES) throw tooLarge(file);
      text = new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, length));
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof StaxError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GuardError('ALLOWLIST_MISSING', 'FILE_NOT_FOUND', 'no allowlist; create it by approving packages: stax approve <name> <version>, or stax approve --from-lockfile', { file, cause: err });
    }
    if (err instanceof TypeError) throw invalid(file, 'not UTF-8 text');
    throw fileError(file, err);
  }
  return parseAllowlist(text, file);
}

function tooLarge(file: string): StaxError {
  return new StaxError('INPUT_TOO_LARGE', `larger than ${MAX_ALLOWLIST_BYTES / 1024 / 1024} MiB, the most stax reads as an allowlist`, { file });
}

/** Parses and validates allowlist text. Throws GuardError ALLOWLIST_INVALID naming the file and the member. */
export function parseAllowlist(text: string, file: string): Allowlist {
  let value: unknown;
  try {
    // Depth 8 is all the format has; anything deeper is refused before it costs anything.
    value = toPlain(parseJson(text, { duplicateKeys: 'error', maxDepth: 8 }));
  } catch (err) {
    if (err instanceof JsonParseError) {
      const why =
        err.code === 'DUPLICATE_KEY'
          ? `repeats the key ${JSON.stringify(err.key ?? '')} (${err.message}); readers disagree on which value counts`
          : err.code === 'TOO_DEEP'
            ? `${err.message}, deeper than the format ever nests`
            : `not valid JSON: ${err.message}`;
      throw invalid(file, why);
    }
    throw err;
  }
  return validateAllowlist(value, file);
}

type Obj = Record<string, unknown>;

class Validator {
  constructor(readonly file: string) {}

  fail(where: string, message: string): never {
    throw invalid(this.file, `${where} ${message}`);
  }

  object(v: unknown, where: string, keys?: { required: readonly string[]; optional?: readonly string[] }): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'is not a JSON object');
    const o = v as Obj;
    if (keys !== undefined) {
      for (const k of keys.required) if (!Object.hasOwn(o, k)) this.fail(where, `has no "${k}"`);
      const allowed = new Set([...keys.required, ...(keys.optional ?? [])]);
      for (const k of Object.keys(o)) if (!allowed.has(k)) this.fail(where, `has an unknown member ${JSON.stringify(k)}`);
    }
    return o;
  }

  string(v: unknown, where: string, max = 4096): string {
    if (typeof v !== 'string') this.fail(where, 'is not a string');
    if (v.length > max) this.fail(where, `is longer than ${max} characters`);
    return v;
  }

  nonEmpty(v: unknown, where: string): string {
    const s = this.string(v, where, 256);
    if (s.trim() === '') this.fail(where, 'is empty');
    return s;
  }

  timestamp(v: unknown, where: string): string {
    const s = this.string(v, where, 64);
    if (!isTimestamp(s)) this.fail(where, `is not an RFC 3339 time: ${JSON.stringify(s)}`);
    return s;
  }

  nullable<T>(v: unknown, check: (v: unknown) => T): T | null {
    return v === null ? null : check(v);
  }

  approval(o: Obj, where: string): Approval {
    return {
      approvedBy: this.nonEmpty(o.approvedBy, `${where}.approvedBy`),
      approvedAt: this.timestamp(o.approvedAt, `${where}.approvedAt`),
      note: this.nullable(o.note, (v) => this.string(v, `${where}.note`, 10_000)),
      expires: this.nullable(o.expires, (v) => this.timestamp(v, `${where}.expires`)),
    };
  }
}

const APPROVAL_KEYS = ['approvedBy', 'approvedAt', 'note', 'expires'] as const;
const TOP_KEYS = ['format', 'version', 'serial', 'updated', 'hosts', 'packages', 'sources'] as const;

export function validateAllowlist(value: unknown, file: string): Allowlist {
  const c: Validator = new Validator(file);
  const top = c.object(value, 'the document', { required: TOP_KEYS, optional: ['signatures'] });
  if (top.format !== ALLOWLIST_FORMAT) c.fail('"format"', `is ${JSON.stringify(top.format)}, expected "${ALLOWLIST_FORMAT}"`);
  if (top.version !== ALLOWLIST_VERSION) c.fail('"version"', `is ${JSON.stringify(top.version)}; this stax reads version ${ALLOWLIST_VERSION} (upgrade stax)`);
  const serial = top.serial;
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 1) c.fail('"serial"', 'is not a whole number of at least 1');
  const updated = c.timestamp(top.updated, '"updated"');

  if (!Array.isArray(top.hosts)) c.fail('"hosts"', 'is not an array');
  const hosts: string[] = [];
  for (const [i, h] of (top.hosts as unknown[]).entries()) {
    const host = c.string(h, `hosts[${i}]`, 300);
    if (!isHost(host)) c.fail(`hosts[${i}]`, `is not a host name (host or host:port, lower case, no scheme): ${JSON.stringify(host)}`);
    if (hosts.includes(host)) c.fail(`hosts[${i}]`, `repeats ${host}`);
    hosts.push(host);
  }

  const packages = dict<PackageApprovals>();
  for (const [name, entry] of Object.entries(c.object(top.packages, '"packages"'))) {
    const at = `packages[${JSON.stringify(name)}]`;
    const nameErrors = checkPackageName(name).errors;
    if (nameErrors.length > 0) c.fail(at, `is not an npm package name: ${nameErrors.join('; ')}`);
    const p = c.object(entry, at, { required: ['versions', 'ranges'] });
    const versions = dict<VersionApproval>();
    for (const [version, raw] of Object.entries(c.object(p.versions, `${at}.versions`))) {
      const where = `${at}.versions[${JSON.stringify(version)}]`;
      if (semver.valid(version) !== version) c.fail(where, 'is not an exact semver version');
      const o = c.object(raw, where, { required: [...APPROVAL_KEYS, 'integrity', 'host', 'installScript'] });
      const integrity = c.string(o.integrity, `${where}.integrity`);
      if (!isValidIntegrity(integrity)) c.fail(`${where}.integrity`, 'is not a Subresource Integrity string (sha512-…)');
      const host = c.nullable(o.host, (v) => c.string(v, `${where}.host`, 300));
      if (host !== null && !isHost(host)) c.fail(`${where}.host`, `is not a host name: ${JSON.stringify(host)}`);
      if (o.installScript !== null && typeof o.installScript !== 'boolean') c.fail(`${where}.installScript`, 'is not true, false or null');
      versions[version] = { integrity, host, installScript: o.installScript as boolean | null, ...c.approval(o, where) };
    }
    const ranges = dict<RangeApproval>();
    for (const [range, raw] of Object.entries(c.object(p.ranges, `${at}.ranges`))) {
      const where = `${at}.ranges[${JSON.stringify(range)}]`;
      if (range.trim() === '' || range.length > 256 || semver.validRange(range) === null) c.fail(where, 'is not a semver range');
      const o = c.object(raw, where, { required: [...APPROVAL_KEYS, 'weak'] });
      if (o.weak !== true) c.fail(`${where}.weak`, 'is not true (a range approval is always marked weak)');
      ranges[range] = { ...c.approval(o, where), weak: true };
    }
    packages[name] = { versions, ranges };
  }

  const sources = dict<SourceApproval>();
  for (const [source, raw] of Object.entries(c.object(top.sources, '"sources"'))) {
    const where = `sources[${JSON.stringify(source)}]`;
    if (source.length > 4096 || sourceKind(source) === null) c.fail(where, 'is not a git, file: or http(s) source spec');
    const o = c.object(raw, where, { required: [...APPROVAL_KEYS, 'name'] });
    const name = c.string(o.name, `${where}.name`, 300);
    const nameErrors = checkPackageName(name).errors;
    if (nameErrors.length > 0) c.fail(`${where}.name`, `is not an npm package name: ${nameErrors.join('; ')}`);
    sources[source] = { name, ...c.approval(o, where) };
  }

  const signatures: AllowlistSignatures = {};
  if (top.signatures !== undefined) {
    const s = c.object(top.signatures, '"signatures"', { required: [], optional: ['hmac', 'ed25519'] });
    if (s.hmac !== undefined) {
      const h = c.string(s.hmac, 'signatures.hmac', 64);
      if (!/^[0-9a-f]{64}$/.test(h)) c.fail('signatures.hmac', 'is not 64 lower-case hex digits');
      signatures.hmac = h;
    }
    if (s.ed25519 !== undefined) {
      const list = s.ed25519;
      if (!Array.isArray(list)) c.fail('signatures.ed25519', 'is not an array');
      if (list.length > 100) c.fail('signatures.ed25519', 'holds more than 100 signatures');
      signatures.ed25519 = (list as unknown[]).map((raw, i) => {
        const o = c.object(raw, `signatures.ed25519[${i}]`, { required: ['key', 'sig'] });
        return { key: c.string(o.key, `signatures.ed25519[${i}].key`, 300), sig: c.string(o.sig, `signatures.ed25519[${i}].sig`, 200) };
      });
    }
  }
  return { format: ALLOWLIST_FORMAT, version: ALLOWLIST_VERSION, serial: serial as number, updated, hosts, packages, sources, signatures };
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function isTimestamp(s: string): boolean {
  return TIMESTAMP.test(s) && Number.isFinite(Date.parse(s));
}

/** `registry.npmjs.org`, `127.0.0.1:4873`, `[::1]:4873`: what URL.host gives for a registry URL. */
export function isHost(s: string): boolean {
  return /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/.test(s);
}

/** What kind of non-registry source a spec is, or null. */
export function sourceKind(spec: string): 'git' | 'file' | 'remote' | null {
  if (isGitSpec(spec)) return 'git';
  if (isFileSpec(spec)) return 'file';
  if (httpUrl(spec) !== undefined) return 'remote';
  return null;
}

// ---- writing ----------------------------------------------------------------------------

/** The file text: a fixed member order, packages and versions sorted, two-space indent. */
export function serializeAllowlist(a: Allowlist): string {
  const packages = dict<unknown>();
  for (const name of Object.keys(a.packages).sort()) {
    const p = a.packages[name]!;
    const versions = dict<unknown>();
    for (const v of Object.keys(p.versions).sort(semver.compare)) {
      const x = p.versions[v]!;
      versions[v] = { integrity: x.integrity, host: x.host, installScript: x.installScript, approvedBy: x.approvedBy, approvedAt: x.approvedAt, note: x.note, expires: x.expires };
    }
    const ranges = dict<unknown>();
    for (const r of Object.keys(p.ranges).sort()) {
      const x = p.ranges[r]!;
      ranges[r] = { approvedBy: x.approvedBy, approvedAt: x.approvedAt, note: x.note, expires: x.expires, weak: true };
    }
    packages[name] = { versions, ranges };
  }
  const sources = dict<unknown>();
  for (const s of Object.keys(a.sources).sort()) {
    const x = a.sources[s]!;
    sources[s] = { name: x.name, approvedBy: x.approvedBy, approvedAt: x.approvedAt, note: x.note, expires: x.expires };
  }
  const doc = { format: a.format, version: a.version, serial: a.serial, updated: a.updated, hosts: a.hosts, packages, sources, signatures: a.signatures };
  return JSON.stringify(doc, null, 2) + '\n';
}

// ---- canonical form and signatures --------------------------------------------------------

/** RFC 8785 bytes of the document without `signatures`: what every signature covers. */
export function canonicalBytes(doc: AllowlistBody): Buffer {
  const { signatures: _omit, ...body } = doc as Allowlist;
  return Buffer.from(canonicalize(body), 'utf8');
}

/** `sha256-<base64>` of the canonical bytes, as the guard trail records it. */
export function allowlistDigest(doc: AllowlistBody): string {
  return `sha256-${createHash('sha256').update(canonicalBytes(doc)).digest('base64')}`;
}

export function hmacSignature(doc: AllowlistBody, key: Buffer): string {
  return createHmac('sha256', key).update(canonicalBytes(doc)).digest('hex');
}

export function ed25519Signature(doc: AllowlistBody, signer: NoteSigner): Ed25519Signature {
  const message = Buffer.concat([Buffer.from(ED25519_DOMAIN, 'utf8'), canonicalBytes(doc)]);
  return { key: keyLabel(signer), sig: toBase64(sign(message, signer.secretKey)) };
}

export interface SigningKeys {
  hmacKey: Buffer | null;
  signers: readonly NoteSigner[];
}

/** Signs the body with every key given; at least one is required. */
export function signAllowlist(body: AllowlistBody, keys: SigningKeys): Allowlist {
  if (keys.hmacKey === null && keys.signers.length === 0) {
    throw new StaxError('KEY_MISSING', 'an allowlist change must be signed: set STAX_HMAC_KEY (or --hmac-key-file FILE), or pass --key NAME (an Ed25519 key from stax key generate)');
  }
  const signatures: AllowlistSignatures = {};
  if (keys.hmacKey !== null) signatures.hmac = hmacSignature(body, keys.hmacKey);
  if (keys.signers.length > 0) signatures.ed25519 = keys.signers.map((s) => ed25519Signature(body, s));
  return { ...body, signatures };
}

/** How a check verifies: with trusted Ed25519 keys, or with the HMAC key. */
export type VerifyMode = { kind: 'ed25519'; trusted: TrustedKeys } | { kind: 'hmac'; key: Buffer };

export interface SignatureCheck {
  mode: 'ed25519' | 'hmac';
  /** Ed25519: the trusted keys whose signatures verified (`name+keyid`); HMAC: ["hmac"]. */
  signedBy: string[];
}

export interface ModeOptions {
  cwd: string;
  env: Record<string, string | undefined>;
  /** A trusted-keys file; default .stax/trusted-keys.txt when it exists. */
  trustedKeys?: string;
  hmacKeyFile?: string;
}

/** The trusted-keys file in force, or null (HMAC mode). */
export function trustedKeysPath(o: Pick<ModeOptions, 'cwd' | 'trustedKeys'>): string | null {
  if (o.trustedKeys !== undefined) return resolve(o.cwd, o.trustedKeys);
  const fallback = join(o.cwd, DEFAULT_TRUSTED_KEYS);
  return existsSync(fallback) ? fallback : null;
}

export const KEY_MISSING_HELP =
  'no key to verify the allowlist with: export STAX_HMAC_KEY=<secret> (or pass --hmac-key-file FILE), ' +
  `or use Ed25519: stax key generate --name <you>, then stax key show <you> >> ${DEFAULT_TRUSTED_KEYS}`;

/**
 * The mode a check uses (docs/guard-design.md): trusted keys configured → Ed25519 required
 * (public keys only: safe where npm hands the environment to install scripts); else HMAC
 * with the key from the environment or a file; neither → KEY_MISSING. Never a default key.
 */
export function verificationMode(o: ModeOptions): VerifyMode {
  const trusted = trustedKeysPath(o);
  if (trusted !== null) return { kind: 'ed25519', trusted: loadTrustedKeys(trusted) };
  const hmac = findHmacKey({ env: o.env, file: o.hmacKeyFile === undefined ? undefined : resolve(o.cwd, o.hmacKeyFile) });
  if (hmac === undefined) throw new StaxError('KEY_MISSING', KEY_MISSING_HELP);
  return { kind: 'hmac', key: hmac() };
}

/** Verifies the signature the mode requires. Throws GuardError (exit 1) when it does not hold. */
export function verifySignature(doc: Allowlist, mode: VerifyMode, file: string): SignatureCheck {
  const fail = (reason: GuardFailure, message: string): GuardError =>
    new GuardError(reason, 'INPUT_INVALID', message, { file, exitCode: Exit.CHECK_FAILED });
  if (mode.kind === 'hmac') {
    const recorded = doc.signatures.hmac;
    if (recorded === undefined) {
      throw fail('UNSIGNED', 'the allowlist has no HMAC signature' + (doc.signatures.ed25519?.length ? `; it is Ed25519-signed: list the signing keys in ${DEFAULT_TRUSTED_KEYS} (or pass --trusted-keys FILE)` : ''));
    }
    const expected = Buffer.from(hmacSignature(doc, mode.key), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(recorded, 'hex'))) {
      throw fail('BAD_SIGNATURE', 'the HMAC signature does not verify: the file was edited after it was signed, or signed with another key. Undo the edit (git diff), or approve again with the right key');
    }
    return { mode: 'hmac', signedBy: ['hmac'] };
  }
  const sigs = doc.signatures.ed25519 ?? [];
  if (sigs.length === 0) {
    throw fail('UNSIGNED', `the allowlist has no Ed25519 signature, and ${mode.trusted.file} is in force: Ed25519 by a trusted key is required${doc.signatures.hmac !== undefined ? ' (an HMAC signature is not enough here; re-sign with: stax allowlist sign --key <name>)' : ''}`);
  }
  const message = Buffer.concat([Buffer.from(ED25519_DOMAIN, 'utf8'), canonicalBytes(doc)]);
  const signedBy: string[] = [];
  for (const s of sigs) {
    const key = mode.trusted.byId.get(s.key);
    if (key === undefined) continue;
    const sig = fromBase64(s.sig);
    if (sig === undefined || !verify(message, sig, key.publicKey)) {
      throw fail('BAD_SIGNATURE', `the Ed25519 signature by ${s.key} does not verify: the file was edited after it was signed. Undo the edit (git diff), or approve again`);
    }
    if (!signedBy.includes(s.key)) signedBy.push(s.key);
  }
  if (signedBy.length === 0) {
    throw fail('UNTRUSTED_KEY', `signed only by keys not in ${mode.trusted.file}: ${sigs.map((s) => s.key).join(', ')}`);
  }
  return { mode: 'ed25519', signedBy };
}
