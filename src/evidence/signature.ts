/**
 * Tracehound evidence signatures: `<category>:<sha256 hex of the canonical payload>`.
 * An envelope is stored under its signature plus `.thcs`, so the file name is the only
 * link between the envelope and the payload hash Tracehound recorded in its audit chain.
 */

export interface EvidenceSignature {
  /** Threat category: injection, ddos, flood, spam, malware, unknown, or a newer one. */
  category: string;
  /** Lowercase hex SHA-256 of the uncompressed canonical payload. */
  hash: string;
}

export interface SignatureName extends EvidenceSignature {
  /** How the name separated category and hash: `:` as written, or a stand-in for it. */
  separator: ':' | '_' | '%3A';
}

/** Categories Tracehound ships with; others are accepted as long as they look like one. */
export const KNOWN_CATEGORIES: readonly string[] = ['injection', 'ddos', 'flood', 'spam', 'malware', 'unknown'];

export const ENVELOPE_EXTENSION = '.thcs';

// Categories are open-ended, so accept any short lowercase word (digits and inner hyphens
// allowed) but nothing that could smuggle a path, a separator or an escape into a name.
const CATEGORY = '[a-z][a-z0-9]*(?:-[a-z0-9]+)*';
const HASH = '[0-9a-f]{64}';
const SIGNATURE_RE = new RegExp(`^(${CATEGORY}):(${HASH})$`);
// ':' cannot survive everywhere: NTFS reads `a:b` as the alternate data stream `b` of file
// `a`, Windows tools refuse it, and object stores (S3 keys in URLs, some sync tools) hand
// it back percent-encoded or replaced. So `_` and `%3A` (either hex case, RFC 3986 §2.1)
// are accepted in place of ':' in file names, never in a signature string itself.
const NAME_RE = new RegExp(`^(${CATEGORY})(:|_|%3[Aa])(${HASH})\\.thcs$`);
const MAX_CATEGORY_LENGTH = 64;

/** Parses a signature string `<category>:<64 lowercase hex>`; null when it is not one. */
export function parseSignature(text: string): EvidenceSignature | null {
  const m = SIGNATURE_RE.exec(text);
  if (m === null) return null;
  const [, category, hash] = m;
  if (category === undefined || hash === undefined || category.length > MAX_CATEGORY_LENGTH) return null;
  return { category, hash };
}

/**
 * Parses an envelope's file name (a base name, not a path): `<category>:<64 lowercase hex>.thcs`,
 * or the same with `_` or `%3A` for ':'. Null when the name is not a signature name.
 */
export function parseSignatureName(fileName: string): SignatureName | null {
  const m = NAME_RE.exec(fileName);
  if (m === null) return null;
  const [, category, sep, hash] = m;
  if (category === undefined || sep === undefined || hash === undefined) return null;
  if (category.length > MAX_CATEGORY_LENGTH) return null;
  const separator = sep === ':' || sep === '_' ? sep : '%3A';
  return { category, hash, separator };
}

/** The name Tracehound stores an envelope under. */
export function signatureFileName(signature: EvidenceSignature): string {
  return `${signature.category}:${signature.hash}${ENVELOPE_EXTENSION}`;
}

/** True when a file name claims to be an envelope, so it must also be a signature name. */
export function looksLikeEnvelopeName(fileName: string): boolean {
  return fileName.toLowerCase().endsWith(ENVELOPE_EXTENSION);
}
