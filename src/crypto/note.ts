/**
 * C2SP signed-note v1 (c2sp.org/signed-note) with Ed25519 keys, and the key encodings of
 * golang.org/x/mod/sumdb/note, which every tlog tool reads:
 *
 *   verifier key  <name>+<key ID, 8 hex>+<base64(0x01 || 32-byte public key)>
 *   signer key    PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(0x01 || 32-byte seed)>
 *   note          <text ending in "\n">"\n"("— <name> <base64(key ID || signature)>\n")+
 *
 * Opening follows the spec and Go's note.Open: unknown keys are ignored and reported; a
 * known key whose signature fails rejects the whole note; no verified signature rejects
 * it. Where Go is lenient we are not: every signature line from a known key is verified
 * (Go skips a second one from the same key unchecked), base64 must be canonical, and an
 * ambiguous verifier list is an error rather than a guess.
 */
import { createHash } from 'node:crypto';
import { keyPairFromSeed, sign, verify, PUBLIC_KEY_LENGTH, SEED_LENGTH } from './ed25519.js';
import { bytesEqual, fromBase64, toBase64 } from './encoding.js';

/** The signature type byte of Ed25519 in signed-note. */
export const ALG_ED25519 = 0x01;
/** Go's note.Open stops at 100; the spec asks verifiers to accept at least 16. */
export const MAX_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // EM DASH, SPACE
const PRIVATE_PREFIX = 'PRIVATE+KEY+';

export type NoteErrorCode =
  /** Not UTF-8, a control character other than "\n" (a CR of CRLF, a tab), or text not ending in "\n". */
  | 'NOTE_TEXT_INVALID'
  /** No blank line followed by signature lines. */
  | 'NOTE_UNSIGNED'
  /** A line of the signature block is not "— <name> <base64>". */
  | 'SIGNATURE_LINE_MALFORMED'
  | 'TOO_MANY_SIGNATURES'
  /** A signature by a known key does not verify. */
  | 'SIGNATURE_INVALID'
  /** Signatures exist, but none is by a known key. */
  | 'NO_TRUSTED_SIGNATURE'
  /** A key text or key bytes are not in the expected shape. */
  | 'KEY_MALFORMED'
  | 'KEY_NAME_INVALID'
  /** The key ID written in a key does not match its name and public key. */
  | 'KEY_ID_MISMATCH'
  | 'KEY_ALGORITHM_UNSUPPORTED'
  /** Two different verifier keys share a name and key ID. */
  | 'KEY_AMBIGUOUS';

export interface NoteErrorEvidence {
  /** 1-based line of the note. */
  line?: number;
  keyName?: string;
  /** 8 hex digits. */
  keyId?: string;
  expected?: string;
  found?: string;
}

export class NoteError extends Error {
  override readonly name = 'NoteError';
  readonly code: NoteErrorCode;
  readonly line: number | undefined;
  readonly keyName: string | undefined;
  readonly keyId: string | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(code: NoteErrorCode, message: string, evidence: NoteErrorEvidence = {}) {
    super(evidence.line === undefined ? message : `line ${evidence.line}: ${message}`);
    this.code = code;
    this.line = evidence.line;
    this.keyName = evidence.keyName;
    this.keyId = evidence.keyId;
    this.expected = evidence.expected;
    this.found = evidence.found;
  }
}

export interface NoteVerifier {
  name: string;
  /** uint32, the first 4 bytes of SHA-256(name || "\n" || 0x01 || publicKey), big-endian. */
  keyId: number;
  publicKey: Uint8Array;
}

/** A signer is also a verifier of its own signatures. */
export interface NoteSigner extends NoteVerifier {
  /** seed || publicKey, 64 bytes. */
  secretKey: Uint8Array;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The base64 text as it appears in the note: key ID || signature. */
  base64: string;
  /** The signature bytes, without the key ID. */
  signature: Uint8Array;
  /** 1-based line of the note. */
  line: number;
}

export interface ParsedNote {
  /** The signed text, ending in "\n". */
  text: string;
  signatures: NoteSignature[];
}

export interface OpenedNote {
  text: string;
  /** One entry per known key that signed, in note order. */
  verifiedBy: NoteSignature[];
  /** Signatures by keys not given, each distinct line once. Not checked. */
  unknownSignatures: NoteSignature[];
}

/** Non-empty, no Unicode space, no "+", no control character, well-formed UTF-16. */
export function isValidKeyName(name: string): boolean {
  // \s misses U+0085 (NEL), which Go's unicode.IsSpace counts.
  return name !== '' && !/[\s\u0085+\u0000-\u001f]/u.test(name) && isWellFormed(name);
}

export function keyId(name: string, publicKey: Uint8Array): number {
  checkName(name);
  checkLength('public key', publicKey, PUBLIC_KEY_LENGTH);
  const digest = createHash('sha256')
    .update(name, 'utf8')
    .update(Uint8Array.of(0x0a, ALG_ED25519))
    .update(publicKey)
    .digest();
  return digest.readUInt32BE(0);
}

export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = keyId(name, publicKey);
  return `${name}+${hex8(id)}+${toBase64(withAlg(publicKey))}`;
}

export function parseVerifierKey(text: string): NoteVerifier {
  const { name, id, key } = splitKey(text, 'verifier key');
  const publicKey = algorithmKey(key, name, 'public key');
  checkKeyId(name, id, publicKey);
  return { name, keyId: id, publicKey };
}

/** The seed is the secret: keep the result out of logs and error messages. */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  checkName(name);
  checkLength('seed', seed, SEED_LENGTH);
  const { publicKey } = keyPairFromSeed(seed);
  return `${PRIVATE_PREFIX}${name}+${hex8(keyId(name, publicKey))}+${toBase64(withAlg(seed))}`;
}

/** Error messages never quote the key text, which holds the seed. */
export function parseSignerKey(text: string): NoteSigner {
  if (!text.startsWith(PRIVATE_PREFIX)) {
    throw new NoteError('KEY_MALFORMED', `a signer key starts with ${PRIVATE_PREFIX}`);
  }
  const { name, id, key } = splitKey(text.slice(PRIVATE_PREFIX.length), 'signer key', true);
  const seed = algorithmKey(key, name, 'seed');
  const pair = keyPairFromSeed(seed);
  checkKeyId(name, id, pair.publicKey);
  return { name, keyId: id, publicKey: pair.publicKey, secretKey: pair.secretKey };
}

/** Signs `text` (which must end in "\n") with each signer, in order, once per key. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  checkText(text, 'note text');
  if (!text.endsWith('\n')) {
    throw new NoteError('NOTE_TEXT_INVALID', 'note text must end with a newline');
  }
  if (signers.length === 0) throw new NoteError('NOTE_UNSIGNED', 'a signed note needs at least one signer');
  if (signers.length > MAX_SIGNATURES) {
    throw new NoteError('TOO_MANY_SIGNATURES', `more than ${MAX_SIGNATURES} signers`);
  }
  const message = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  let lines = '';
  for (const signer of signers) {
    checkKeyId(signer.name, signer.keyId, signer.publicKey);
    checkLength('secret key', signer.secretKey, 2 * SEED_LENGTH);
    if (!bytesEqual(signer.secretKey.subarray(SEED_LENGTH), signer.publicKey)) {
      throw new NoteError('KEY_MALFORMED', 'signer public key does not match its secret key', {
        keyName: signer.name,
        keyId: hex8(signer.keyId),
      });
    }
    const slot = `${signer.name}\n${signer.keyId}`;
    if (seen.has(slot)) continue;
    seen.add(slot);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(signer.keyId);
    const sig = sign(message, signer.secretKey);
    lines += `${SIG_PREFIX}${signer.name} ${toBase64(Buffer.concat([id, sig]))}\n`;
  }
  return `${text}\n${lines}`;
}

/** Splits a signed note into text and signature lines, checking form only, not signatures. */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const s = typeof note === 'string' ? note : decodeUtf8(note);
  checkText(s, 'note');
  // The text may hold blank lines itself: the last one separates it from the signatures.
  const split = s.lastIndexOf('\n\n');
  if (split < 0) {
    throw new NoteError('NOTE_UNSIGNED', 'no blank line followed by signature lines');
  }
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  const firstLine = countLines(text) + 2;
  if (block === '') {
    throw new NoteError('NOTE_UNSIGNED', 'no signature lines after the blank line', { line: firstLine });
  }
  const lines = block.split('\n');
  const last = lines.pop();
  if (last !== '') {
    throw new NoteError('SIGNATURE_LINE_MALFORMED', 'the last signature line does not end with a newline', {
      line: firstLine + lines.length,
    });
  }
  if (lines.length > MAX_SIGNATURES) {
    throw new NoteError('TOO_MANY_SIGNATURES', `${lines.length} signature lines; at most ${MAX_SIGNATURES} are read`, {
      expected: `<= ${MAX_SIGNATURES}`,
      found: String(lines.length),
    });
  }
  const signatures = lines.map((line, i) => parseSignatureLine(line, firstLine + i));
  return { text, signatures };
}

/**
 * Parses and verifies a signed note against trusted keys. Throws NoteError unless at
 * least one signature is by a given key and every signature by a given key verifies.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = indexVerifiers(verifiers);
  const { text, signatures } = parseNote(note);
  const message = Buffer.from(text, 'utf8');
  const verifiedBy: NoteSignature[] = [];
  const verifiedKeys = new Set<string>();
  const unknownSignatures: NoteSignature[] = [];
  const unknownLines = new Set<string>();

  for (const sig of signatures) {
    const slot = `${sig.name}\n${sig.keyId}`;
    const v = known.get(slot);
    if (v === undefined) {
      // Same name or same ID as a known key, but not both: a different key (spec).
      const line = `${sig.name} ${sig.base64}`;
      if (!unknownLines.has(line)) {
        unknownLines.add(line);
        unknownSignatures.push(sig);
      }
      continue;
    }
    if (!verify(message, sig.signature, v.publicKey)) {
      throw new NoteError('SIGNATURE_INVALID', `signature by ${sig.name}+${hex8(sig.keyId)} does not verify`, {
        line: sig.line,
        keyName: sig.name,
        keyId: hex8(sig.keyId),
      });
    }
    if (!verifiedKeys.has(slot)) {
      verifiedKeys.add(slot);
      verifiedBy.push(sig);
    }
  }
  if (verifiedBy.length === 0) {
    const seen = unknownSignatures.map((s) => `${s.name}+${hex8(s.keyId)}`);
    const expected = [...known.values()].map((v) => `${v.name}+${hex8(v.keyId)}`);
    throw new NoteError(
      'NO_TRUSTED_SIGNATURE',
      `no signature by a trusted key (signed by: ${seen.join(', ')}; trusted: ${expected.join(', ') || 'none'})`,
      { expected: expected.join(' '), found: seen.join(' ') },
    );
  }
  return { text, verifiedBy, unknownSignatures };
}

function parseSignatureLine(line: string, lineNo: number): NoteSignature {
  const bad = (why: string): NoteError => new NoteError('SIGNATURE_LINE_MALFORMED', why, { line: lineNo });
  if (!line.startsWith(SIG_PREFIX)) {
    throw bad('a signature line starts with an em dash (U+2014) and a space');
  }
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0) throw bad('a signature line is "— <key name> <base64 signature>"');
  const name = rest.slice(0, space);
  const base64 = rest.slice(space + 1);
  if (!isValidKeyName(name)) throw bad(`invalid key name ${JSON.stringify(name)}`);
  const bytes = fromBase64(base64);
  if (bytes === undefined) throw bad('the signature is not canonical standard base64');
  // 4 bytes of key ID and at least one of signature, as Go's note.Open requires.
  if (bytes.length < 5) throw bad(`the signature is ${bytes.length} bytes; the key ID alone takes 4`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { name, keyId: view.readUInt32BE(0), base64, signature: bytes.subarray(4), line: lineNo };
}

function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const known = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const slot = `${v.name}\n${v.keyId}`;
    const other = known.get(slot);
    if (other !== undefined && !bytesEqual(other.publicKey, v.publicKey)) {
      throw new NoteError('KEY_AMBIGUOUS', `two different keys are named ${v.name}+${hex8(v.keyId)}`, {
        keyName: v.name,
        keyId: hex8(v.keyId),
      });
    }
    known.set(slot, v);
  }
  return known;
}

/** Splits "<name>+<hex8>+<base64>"; the base64 may itself hold "+". */
function splitKey(text: string, what: string, secret = false): { name: string; id: number; key: Uint8Array } {
  // A garbled signer key may put pieces of the seed where the name or ID belong: quote nothing.
  const quote = (part: string): string => (secret ? '' : ` ${JSON.stringify(part)}`);
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) {
    throw new NoteError('KEY_MALFORMED', `${what}${quote(text)} is not <name>+<key ID>+<base64 key>`);
  }
  const name = text.slice(0, first);
  const idHex = text.slice(first + 1, second);
  const key = fromBase64(text.slice(second + 1));
  if (!isValidKeyName(name)) {
    throw new NoteError(
      'KEY_NAME_INVALID',
      `${what} name${quote(name)} is empty or holds a space, "+" or a control character`,
    );
  }
  if (!/^[0-9a-fA-F]{8}$/.test(idHex)) {
    throw new NoteError('KEY_MALFORMED', `${what} key ID${quote(idHex)} is not 8 hex digits`);
  }
  if (key === undefined || key.length === 0) {
    throw new NoteError('KEY_MALFORMED', `${what}${quote(name)} does not end in canonical standard base64`);
  }
  return { name, id: Number.parseInt(idHex, 16), key };
}

/** Strips and checks the algorithm byte of an encoded key. */
function algorithmKey(key: Uint8Array, name: string, what: string): Uint8Array {
  if (key[0] !== ALG_ED25519) {
    throw new NoteError(
      'KEY_ALGORITHM_UNSUPPORTED',
      `key ${name} has signature type 0x${key[0]!.toString(16).padStart(2, '0')}; only Ed25519 (0x01) is supported`,
      { keyName: name, expected: '0x01', found: `0x${key[0]!.toString(16).padStart(2, '0')}` },
    );
  }
  const raw = key.subarray(1);
  if (raw.length !== 32) {
    throw new NoteError('KEY_MALFORMED', `key ${name}: an Ed25519 ${what} is 32 bytes, not ${raw.length}`, {
      keyName: name,
      expected: '32',
      found: String(raw.length),
    });
  }
  return raw;
}

function checkKeyId(name: string, id: number, publicKey: Uint8Array): void {
  const computed = keyId(name, publicKey);
  if (computed !== id) {
    const message = `key ${name} has key ID ${hex8(id)}, but its key hashes to ${hex8(computed)}`;
    throw new NoteError('KEY_ID_MISMATCH', message, {
      keyName: name,
      keyId: hex8(id),
      expected: hex8(computed),
      found: hex8(id),
    });
  }
}

function checkName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new NoteError(
      'KEY_NAME_INVALID',
      `key name ${JSON.stringify(name)} is empty or holds a space, "+" or a control character`,
    );
  }
}

function checkLength(what: string, bytes: Uint8Array, length: number): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
    const found = bytes instanceof Uint8Array ? String(bytes.length) : typeof bytes;
    throw new NoteError('KEY_MALFORMED', `an Ed25519 ${what} is ${length} bytes, not ${found}`, {
      expected: String(length),
      found,
    });
  }
}

/** Notes are UTF-8 with no control character but "\n" (spec, "Format"). */
function checkText(s: string, what: string): void {
  if (!isWellFormed(s)) {
    throw new NoteError('NOTE_TEXT_INVALID', `${what} holds a lone surrogate, which has no UTF-8 encoding`);
  }
  const m = /[\u0000-\u0009\u000b-\u001f]/.exec(s);
  if (m !== null) {
    const found = `U+${m[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
    const name = found === 'U+000D' ? 'a carriage return (CRLF line ends?)' : `control character ${found}`;
    throw new NoteError('NOTE_TEXT_INVALID', `${what} holds ${name}; only "\\n" is allowed`, {
      line: countLines(s.slice(0, m.index)) + 1,
      found,
    });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new NoteError('NOTE_TEXT_INVALID', 'note is not valid UTF-8');
  }
}

function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function countLines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function withAlg(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = ALG_ED25519;
  out.set(key, 1);
  return out;
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}
