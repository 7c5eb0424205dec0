/**
 * Tracehound THCS evidence envelopes: reading one safely, and writing one.
 *
 * Layout (all integers big-endian):
 *   0  4   magic "THCS"
 *   4  2   version (1)
 *   6  4   originalSize: length of the canonical JSON payload
 *   10 4   compressedSize
 *   14 64  lowercase hex SHA-256 of the compressed bytes, ASCII
 *   78 ..  compressedSize bytes of gzip; the file ends exactly there
 * The payload's own SHA-256 is not in the envelope: it is the hex half of the signature
 * the envelope is stored under (`<category>:<hex>.thcs`).
 *
 * Everything in an envelope may be a lie told by whoever wrote it, so sizes are claims:
 * nothing is allocated from them, reads stop one byte past the declared end, and inflation
 * stops one chunk past originalSize.
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import zlib from 'node:zlib';
import { StaxError, fileError } from '../errors.js';
import { neutralize } from '../text/terminal.js';
import { canonicalJson, classifyPayloadJson, type PayloadJson } from './canonical.js';
import { inflateGzipMembers } from './inflate.js';
import {
  looksLikeEnvelopeName,
  parseSignature,
  parseSignatureName,
  signatureFileName,
  type EvidenceSignature,
} from './signature.js';

export const MAGIC = Buffer.from('THCS', 'latin1');
export const ENVELOPE_VERSION = 1;
export const HEADER_LENGTH = 78;
/** Largest compressedSize we read: Tracehound payloads are capped at 1 MB by default. */
export const MAX_COMPRESSED_SIZE = 256 * 1024 * 1024;
/** Largest originalSize we inflate; inflation streams, so this bounds time, not memory. */
export const MAX_ORIGINAL_SIZE = 1024 * 1024 * 1024;
/** Payloads up to this size are kept in the report and checked as JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const HASH_FIELD = /^[0-9a-f]{64}$/;
const READ_CHUNK = 1024 * 1024;

/**
 * Verdict codes, in the order the checks run; the first failure is the verdict. TRUNCATED
 * is checked twice: a file shorter than the header before TOO_LARGE, a short body after.
 */
export const ENVELOPE_FAILURES = [
  'BAD_MAGIC',
  'BAD_VERSION',
  'TRUNCATED',
  'TOO_LARGE',
  'TRAILING_BYTES',
  'BAD_HASH_FIELD',
  'HASH_MISMATCH',
  'BAD_GZIP',
  'BAD_CRC',
  'SIZE_EXCEEDED',
  'SIZE_MISMATCH',
  'BAD_SIGNATURE_NAME',
  'PAYLOAD_HASH_MISMATCH',
] as const;
export type EnvelopeFailure = (typeof ENVELOPE_FAILURES)[number];
export type EnvelopeVerdict = 'OK' | EnvelopeFailure;

export interface EnvelopeSource {
  /** The envelope's bytes; when given, `path` only names the report. */
  bytes?: Buffer;
  /** File to read when `bytes` is not given. */
  path?: string;
  /** File name to take the signature from; defaults to the base name of `path`. */
  name?: string;
}

export interface InspectOptions {
  /** `<category>:<hex>` to check the payload against; overrides the file name. */
  signature?: string;
  /** Payloads up to this many bytes are returned and checked as JSON (default 16 MiB). */
  maxPayloadBytes?: number;
  /** Claims above this compressedSize are TOO_LARGE (default and ceiling 256 MiB). */
  maxCompressedSize?: number;
  /** Claims above this originalSize are TOO_LARGE (default and ceiling 1 GiB). */
  maxOriginalSize?: number;
}

export interface EnvelopeReport {
  /** Path read, or null for bytes given in memory. */
  file: string | null;
  /** File name the signature was looked for in. */
  name: string | null;
  /** Signature the payload is checked against, or null when none is known. */
  signature: EvidenceSignature | null;
  signatureSource: 'option' | 'name' | null;
  version: number | null;
  originalSize: number | null;
  compressedSize: number | null;
  /** The header's hash field as found (latin1, so every byte shows). */
  declaredHash: string | null;
  /** SHA-256 of the compressed region, when the file holds all of it. */
  actualHash: string | null;
  /** Size of the file; for a pipe or device, the bytes read (a lower bound). */
  fileSize: number;
  /** Gzip members met, counting one that failed. */
  members: number;
  /** Bytes the decompressor actually produced, even past originalSize. */
  inflatedBytes: number;
  /** The payload, once inflation succeeded and when within maxPayloadBytes. */
  payload?: Buffer;
  /** SHA-256 of the whole inflated payload, once inflation succeeded. */
  payloadHash: string | null;
  /**
   * Whether the payload is UTF-8 JSON exactly as Tracehound serializes it; null when the
   * payload was not kept. Information, not a verdict: the signature hashes the bytes as they
   * are, so a hand-written or other-version payload is still authentic evidence, and
   * refusing bytes that are not JSON would hide exactly what an investigator needs to see.
   */
  payloadJson: PayloadJson | null;
  verdict: EnvelopeVerdict;
  /** One line: what was checked, what was expected and what was found. */
  message: string;
  /** Expected and found values of the failed check; null for OK. */
  evidence: { expected: string; found: string } | null;
}

interface Limits {
  maxPayloadBytes: number;
  maxCompressedSize: number;
  maxOriginalSize: number;
}

function limit(name: string, value: number | undefined, fallback: number, ceiling: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0 || value > ceiling) {
    throw new StaxError('USAGE', `${name}: expected an integer from 0 to ${ceiling}, found ${value}`);
  }
  return value;
}

/** Sequential reads that never allocate more than the bytes actually there plus one chunk. */
interface Reader {
  /** Size known up front (a regular file or a buffer), else null. */
  size: number | null;
  consumed: number;
  read(length: number): Promise<Buffer>;
}

function bufferReader(bytes: Buffer): Reader {
  const reader: Reader = {
    size: bytes.length,
    consumed: 0,
    read: async (length) => {
      const out = bytes.subarray(reader.consumed, reader.consumed + length);
      reader.consumed += out.length;
      return out;
    },
  };
  return reader;
}

async function fileReader(fh: FileHandle, path: string): Promise<Reader> {
  const stat = await fh.stat().catch((err: unknown) => {
    throw fileError(path, err);
  });
  const reader: Reader = {
    size: stat.isFile() ? stat.size : null,
    consumed: 0,
    read: async (length) => {
      // Chunked, so a header claiming 256 MiB over a 100-byte file allocates 1 MiB at most.
      const parts: Buffer[] = [];
      let total = 0;
      while (total < length) {
        const want = Math.min(length - total, READ_CHUNK);
        const buf = Buffer.alloc(want);
        let bytesRead: number;
        try {
          ({ bytesRead } = await fh.read(buf, 0, want, null));
        } catch (err) {
          throw fileError(path, err);
        }
        if (bytesRead === 0) break;
        parts.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
        total += bytesRead;
      }
      reader.consumed += total;
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    },
  };
  return reader;
}

const hexBytes = (bytes: Uint8Array): string =>
  bytes.length === 0 ? 'no bytes' : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Reads an envelope and runs every check in order, stopping at the first failure. Only
 * problems with the input itself (unreadable file, bad options) throw; a damaged or
 * forged envelope is a verdict in the report.
 */
export async function inspectEnvelope(source: EnvelopeSource, options: InspectOptions = {}): Promise<EnvelopeReport> {
  const limits: Limits = {
    maxPayloadBytes: limit('maxPayloadBytes', options.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES, MAX_ORIGINAL_SIZE),
    maxCompressedSize: limit('maxCompressedSize', options.maxCompressedSize, MAX_COMPRESSED_SIZE, MAX_COMPRESSED_SIZE),
    maxOriginalSize: limit('maxOriginalSize', options.maxOriginalSize, MAX_ORIGINAL_SIZE, MAX_ORIGINAL_SIZE),
  };
  let optionSignature: EvidenceSignature | null = null;
  if (options.signature !== undefined) {
    optionSignature = parseSignature(options.signature);
    if (optionSignature === null) {
      throw new StaxError(
        'USAGE',
        `signature: expected <category>:<64 lowercase hex>, found "${neutralize(options.signature, 120)}"`,
      );
    }
  }
  if (source.bytes !== undefined) return inspect(source, bufferReader(source.bytes), optionSignature, limits);
  if (source.path === undefined) throw new StaxError('USAGE', 'inspectEnvelope: expected bytes or a path, found neither');

  const path = source.path;
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    return await inspect(source, await fileReader(fh, path), optionSignature, limits);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function inspect(
  source: EnvelopeSource,
  reader: Reader,
  optionSignature: EvidenceSignature | null,
  limits: Limits,
): Promise<EnvelopeReport> {
  const name = source.name ?? (source.path === undefined ? null : basename(source.path));
  // A `.thcs` file is stored under its signature, so such a name that is not a signature
  // is itself a finding; any other name (or none) just means there is nothing to check.
  const parsedName = name === null ? null : parseSignatureName(name);
  const nameClaimsSignature = optionSignature === null && name !== null && looksLikeEnvelopeName(name);
  const signature: EvidenceSignature | null =
    optionSignature ?? (parsedName === null ? null : { category: parsedName.category, hash: parsedName.hash });

  const r: EnvelopeReport = {
    file: source.path ?? null,
    name,
    signature,
    signatureSource: optionSignature !== null ? 'option' : signature !== null ? 'name' : null,
    version: null,
    originalSize: null,
    compressedSize: null,
    declaredHash: null,
    actualHash: null,
    fileSize: 0,
    members: 0,
    inflatedBytes: 0,
    payloadHash: null,
    payloadJson: null,
    verdict: 'OK',
    message: '',
    evidence: null,
  };
  const fail = (verdict: EnvelopeFailure, what: string, expected: string, found: string): EnvelopeReport => {
    r.verdict = verdict;
    r.evidence = { expected, found };
    r.message = `${what}: expected ${expected}, found ${found}`;
    return r;
  };

  const head = await reader.read(HEADER_LENGTH);
  r.fileSize = reader.size ?? reader.consumed;
  const magicSeen = head.subarray(0, MAGIC.length);
  if (!magicSeen.equals(MAGIC.subarray(0, magicSeen.length))) {
    return fail('BAD_MAGIC', 'magic', `54 48 43 53 ("THCS")`, hexBytes(magicSeen));
  }
  if (head.length >= 6) {
    r.version = head.readUInt16BE(4);
    if (r.version !== ENVELOPE_VERSION) return fail('BAD_VERSION', 'version', String(ENVELOPE_VERSION), String(r.version));
  }
  if (head.length < HEADER_LENGTH) {
    return fail('TRUNCATED', 'file length', `at least ${HEADER_LENGTH} bytes (header)`, `${head.length}`);
  }
  const originalSize = head.readUInt32BE(6);
  const compressedSize = head.readUInt32BE(10);
  r.originalSize = originalSize;
  r.compressedSize = compressedSize;
  r.declaredHash = head.toString('latin1', 14, HEADER_LENGTH);

  if (compressedSize > limits.maxCompressedSize) {
    return fail('TOO_LARGE', 'compressedSize', `at most ${limits.maxCompressedSize} bytes`, `${compressedSize}`);
  }
  if (originalSize > limits.maxOriginalSize) {
    return fail('TOO_LARGE', 'originalSize', `at most ${limits.maxOriginalSize} bytes`, `${originalSize}`);
  }

  // One byte more than declared tells trailing data apart without reading it all.
  const body = await reader.read(compressedSize + 1);
  r.fileSize = reader.size ?? reader.consumed;
  const expectedLength = `${HEADER_LENGTH + compressedSize} bytes (${HEADER_LENGTH} + compressedSize ${compressedSize})`;
  if (body.length < compressedSize) return fail('TRUNCATED', 'file length', expectedLength, `${r.fileSize}`);
  const compressed = body.subarray(0, compressedSize);
  r.actualHash = sha256(compressed);
  if (body.length > compressedSize) {
    return fail('TRAILING_BYTES', 'file length', expectedLength, reader.size === null ? `more than ${HEADER_LENGTH + compressedSize}` : `${reader.size}`);
  }
  if (!HASH_FIELD.test(r.declaredHash)) {
    return fail('BAD_HASH_FIELD', 'hash field', '64 lowercase hex characters', `"${neutralize(r.declaredHash)}"`);
  }
  if (r.actualHash !== r.declaredHash) {
    return fail('HASH_MISMATCH', 'sha256 of compressed bytes', `${r.declaredHash} (header)`, r.actualHash);
  }

  const payloadHash = createHash('sha256');
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let keeping = true;
  const inflated = await inflateGzipMembers(
    compressed,
    originalSize,
    (chunk) => {
      payloadHash.update(chunk);
      if (!keeping) return;
      keptBytes += chunk.length;
      if (keptBytes > limits.maxPayloadBytes) {
        keeping = false;
        kept.length = 0;
      } else kept.push(chunk);
    },
    HEADER_LENGTH,
  );
  r.members = inflated.members;
  r.inflatedBytes = inflated.produced;
  if (inflated.problem !== null) {
    const p = inflated.problem;
    r.verdict = p.code;
    r.evidence = { expected: p.expected, found: p.found };
    r.message = p.message;
    return r;
  }

  r.payloadHash = payloadHash.digest('hex');
  if (keeping) {
    r.payload = Buffer.concat(kept, keptBytes);
    r.payloadJson = classifyPayloadJson(r.payload);
  }
  if (inflated.produced !== originalSize) {
    return fail('SIZE_MISMATCH', 'inflated size', `${originalSize} bytes (originalSize)`, `${inflated.produced}`);
  }
  if (signature === null && nameClaimsSignature) {
    return fail('BAD_SIGNATURE_NAME', 'file name', '<category>:<64 lowercase hex>.thcs', `"${neutralize(name ?? '', 200)}"`);
  }
  if (signature !== null && r.payloadHash !== signature.hash) {
    const from = r.signatureSource === 'option' ? 'given signature' : 'file name';
    return fail('PAYLOAD_HASH_MISMATCH', 'payload sha256', `${signature.hash} (${from})`, r.payloadHash);
  }

  const members = `${r.members} gzip member${r.members === 1 ? '' : 's'}`;
  r.message =
    signature === null
      ? `envelope intact (${members}, ${originalSize} payload bytes); no signature known, payload hash not checked`
      : `envelope intact (${members}, ${originalSize} payload bytes); payload sha256 matches ${signature.category}:${signature.hash}`;
  return r;
}

export interface AssembleOptions {
  /** Version field to write; tests use it to build BAD_VERSION envelopes. */
  version?: number;
}

/** Wraps compressed bytes in the 78-byte header, with their SHA-256 as the hash field. */
export function assembleEnvelope(compressed: Buffer, originalSize: number, options: AssembleOptions = {}): Buffer {
  const version = options.version ?? ENVELOPE_VERSION;
  if (!Number.isInteger(version) || version < 0 || version > 0xffff) {
    throw new StaxError('INPUT_INVALID', `version: expected 0 to 65535, found ${version}`);
  }
  if (!Number.isInteger(originalSize) || originalSize < 0 || originalSize > 0xffff_ffff) {
    throw new StaxError('INPUT_INVALID', `originalSize: expected 0 to 4294967295, found ${originalSize}`);
  }
  if (compressed.length > 0xffff_ffff) {
    throw new StaxError('INPUT_INVALID', `compressed data: expected at most 4294967295 bytes, found ${compressed.length}`);
  }
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(version, 4);
  header.writeUInt32BE(originalSize, 6);
  header.writeUInt32BE(compressed.length, 10);
  header.write(sha256(compressed), 14, 'latin1');
  return Buffer.concat([header, compressed]);
}

export interface BuildOptions {
  /** Category for the signature (default `unknown`). */
  category?: string;
  /** Gzip level; Tracehound writes level 6, which reproduces its envelopes byte for byte. */
  level?: number;
}

export interface BuiltEnvelope {
  bytes: Buffer;
  /** The payload bytes that were compressed. */
  payload: Buffer;
  /** SHA-256 hex of `payload`: the hash half of the signature. */
  signatureHash: string;
  signature: string;
  /** The name Tracehound would store the envelope under. */
  fileName: string;
}

/**
 * Builds an envelope the way Tracehound does: canonical JSON, gzip, header. A Buffer is
 * taken as the payload bytes unchanged, so tests can wrap non-canonical or non-JSON data.
 */
export function buildEnvelope(payload: Buffer | object, options: BuildOptions = {}): BuiltEnvelope {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(canonicalJson(payload), 'utf8');
  const signatureHash = sha256(bytes);
  const category = options.category ?? 'unknown';
  const parsed = parseSignature(`${category}:${signatureHash}`);
  if (parsed === null) {
    throw new StaxError('INPUT_INVALID', `category: expected a lowercase word, found "${neutralize(category, 80)}"`);
  }
  const compressed = zlib.gzipSync(bytes, { level: options.level ?? 6 });
  return {
    bytes: assembleEnvelope(compressed, bytes.length),
    payload: bytes,
    signatureHash,
    signature: `${category}:${signatureHash}`,
    fileName: signatureFileName(parsed),
  };
}
