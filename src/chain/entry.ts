/**
 * stax chain v1: the entry model, its canonical serialization and its hash.
 *
 * A chain file is JSON Lines: one header line, then one entry per line. An entry's hash is
 * SHA-256 over the RFC 8785 (JCS) canonical form of the entry without its `hash` and `sig`
 * members. Writers put those two members last, after the canonical body, so that the line
 * itself is `body-without-closing-brace + ,"hash":"…" [+ ,"sig":{…}] + }` and a verifier
 * can hash the line's own bytes once it has confirmed the body is canonical.
 * man/stax-chain.5 is the full specification.
 */
import { hash as oneShotHash } from 'node:crypto';
import { canonicalize, keysSortedDeep } from '../json/jcs.js';
import { GENESIS_HASH } from './report.js';

export const FORMAT_ID = 'stax-chain';
export const FORMAT_VERSION = 1;
export { GENESIS_HASH };

export type ChainKind = 'trail' | 'codebank' | 'guard' | 'case' | string;

export interface ChainHeader {
  format: typeof FORMAT_ID;
  version: typeof FORMAT_VERSION;
  kind: ChainKind;
  /** Who keeps this log, as a checkpoint origin: `example.com/agents/recon`. */
  origin: string;
  /** RFC 3339 UTC time the chain was created. */
  created: string;
  [extra: string]: unknown;
}

/** The signature that binds an entry's hash to its actor (see src/trail/sign.ts). */
export interface EntrySignature {
  /** Verifier key name and ID, `name+keyid`. */
  key: string;
  /** Base64 Ed25519 signature. */
  sig: string;
}

/** The fields an entry is hashed over: everything but `hash` and `sig`. */
export interface EntryBody {
  seq: number;
  ts: string;
  actor: string;
  action: string;
  payload: unknown;
  prev: string;
  session?: string;
  [extra: string]: unknown;
}

export interface ChainEntry extends EntryBody {
  hash: string;
  sig?: EntrySignature;
}

export function sha256Hex(text: string): string {
  // One-shot crypto.hash (Node >= 20.12) costs half of createHash().update().digest() for
  // a few hundred bytes, which is what a chain verifier does a million times.
  return oneShotHash('sha256', text, 'hex');
}

export function bodyOf(entry: Record<string, unknown>): Record<string, unknown> {
  const { hash: _hash, sig: _sig, ...body } = entry;
  return body;
}

export function hashBody(body: Record<string, unknown>): string {
  return sha256Hex(canonicalize(body));
}

/** Serializes a new entry as one line (without the newline) and returns it with its hash. */
export function serializeEntry(body: EntryBody, sign?: (hash: string) => EntrySignature): { line: string; hash: string; entry: ChainEntry } {
  const canonical = canonicalize(body);
  const hash = sha256Hex(canonical);
  const sig = sign?.(hash);
  const tail = sig === undefined ? '' : `,"sig":${canonicalize(sig)}`;
  const line = `${canonical.slice(0, -1)},"hash":"${hash}"${tail}}`;
  const entry: ChainEntry = sig === undefined ? { ...body, hash } : { ...body, hash, sig };
  return { line, hash, entry };
}

/** The canonical line of an entry already made (for exports and re-writes). */
export function entryLine(entry: ChainEntry): string {
  const canonical = canonicalize(bodyOf(entry));
  const tail = entry.sig === undefined ? '' : `,"sig":${canonicalize(entry.sig)}`;
  return `${canonical.slice(0, -1)},"hash":"${entry.hash}"${tail}}`;
}

export function serializeHeader(header: ChainHeader): string {
  return canonicalize(header);
}

const HASH_MEMBER = ',"hash":"';

/**
 * The hash of a parsed entry's content. When `line` is the text it was parsed from and
 * that text is the canonical layout a stax writer produces, the line's own bytes are hashed
 * (one JSON.stringify to confirm, no re-serialization); otherwise the body is canonicalized.
 */
export function computeEntryHash(entry: Record<string, unknown>, line?: string): string {
  const body = bodyOf(entry);
  if (line !== undefined) {
    const at = line.lastIndexOf(HASH_MEMBER);
    if (at > 0 && line.charCodeAt(at + HASH_MEMBER.length + 64) === 0x22) {
      const canonical = line.slice(0, at) + '}';
      if (JSON.stringify(body) === canonical && keysSortedDeep(body)) return sha256Hex(canonical);
    }
  }
  return hashBody(body);
}
