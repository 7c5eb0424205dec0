/**
 * Evidence folders: listing a Tracehound quarantine folder, inspecting every envelope in it
 * with bounded concurrency, filtering, sorting and counting the results, and cross-checking
 * them against a Tracehound audit chain.
 *
 * A quarantine folder is as hostile as the envelopes in it: names are only trusted once
 * they parse as signatures, symbolic links are not followed (an attacker who can write the
 * folder could otherwise point `x.thcs` at any file the examiner can read), and a file
 * that vanishes between listing and reading is noted, not fatal.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { VerifyReport } from '../chain/report.js';
import { StaxError, fileError, type ErrorCode } from '../errors.js';
import { verifyTracehoundAudit } from '../formats/tracehound.js';
import { openInput } from '../io/input.js';
import {
  ENVELOPE_FAILURES,
  HEADER_LENGTH,
  MAGIC,
  MAX_COMPRESSED_SIZE,
  inspectEnvelope,
  type EnvelopeReport,
  type EnvelopeVerdict,
  type InspectOptions,
} from './envelope.js';
import { looksLikeEnvelopeName, parseSignature } from './signature.js';

/** Envelopes up to this size are read once into memory and inspected from there. */
export const IN_MEMORY_LIMIT = 32 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 8;

/** A chain record as the cross-check sees it; `time` is null when the timestamp is not a date. */
export interface ChainRecordRef {
  /** 0-based position in the chain. */
  index: number;
  id: string;
  type: string;
  signature: string;
  /** Milliseconds since the epoch, as recorded. */
  timestamp: number;
  /** The timestamp as an ISO 8601 UTC time. */
  time: string | null;
}

/**
 * What the inspection found about one envelope: the library's report without the payload
 * bytes (so that it is plain JSON), plus a few derived facts for tables and filters.
 */
export interface EnvelopeFacts extends Omit<EnvelopeReport, 'payload'> {
  /** The signature's category, when a signature is known. */
  category: string | null;
  /** originalSize / compressedSize, from the header's claims; null when not known. */
  ratio: number | null;
  /** Whether the payload's SHA-256 was compared with a signature (from the name or an option). */
  payloadHashChecked: boolean;
  /** SHA-256 of the whole file as read, when asked for (bundles). */
  fileSha256?: string | null;
  /** The chain records that name this envelope's signature, when a chain was given. */
  records?: ChainRecordRef[];
}

export interface SkippedEntry {
  name: string;
  reason: 'symlink' | 'not-a-file' | 'vanished' | 'unreadable';
  /** For `unreadable`: the error code and message. */
  code?: ErrorCode;
  message?: string;
}

export interface DirectoryScan {
  directory: string;
  /** Every envelope inspected, in name order. */
  envelopes: EnvelopeFacts[];
  /** `.thcs` entries that were not inspected, and why. */
  skipped: SkippedEntry[];
  /** Other files in the folder (not `.thcs`), which are not evidence envelopes. */
  otherFiles: number;
}

export interface ScanOptions {
  /** Envelopes inspected at the same time (default 8). */
  concurrency?: number;
  /** Payload bytes kept per envelope; 0 (the default) keeps none. */
  maxPayloadBytes?: number;
  /** Also compute each file's own SHA-256. */
  hashFiles?: boolean;
  /** Called after each envelope, with how many are done out of how many. */
  onProgress?: (done: number, total: number) => void;
}

export function envelopeFacts(report: EnvelopeReport, extra: { fileSha256?: string | null } = {}): EnvelopeFacts {
  const { payload: _payload, ...rest } = report;
  const ratio =
    report.originalSize !== null && report.compressedSize !== null && report.compressedSize > 0
      ? report.originalSize / report.compressedSize
      : null;
  const facts: EnvelopeFacts = {
    ...rest,
    category: report.signature?.category ?? null,
    ratio,
    // The payload check is the last one: it ran when the verdict is OK or is its own failure.
    payloadHashChecked: report.signature !== null && (report.verdict === 'OK' || report.verdict === 'PAYLOAD_HASH_MISMATCH'),
  };
  if (extra.fileSha256 !== undefined) facts.fileSha256 = extra.fileSha256;
  return facts;
}

/** Identity of a file version, to notice when it changes. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

const stampOf = (s: Stats): FileStamp => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });

export interface InspectedFile {
  report: EnvelopeReport;
  fileSha256: string | null;
  stamp: FileStamp;
}

// O_NOFOLLOW: a symbolic link swapped in after the listing is refused (ELOOP), not read.
// O_NONBLOCK: a FIFO swapped in cannot hang the scan; it has no effect on regular files.
const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/**
 * Inspects one envelope of a folder: opened without following links, read once (when it
 * is small enough) so that the verdict, the file hash and the stamp describe the same bytes.
 * Returns null when the file is not a regular file any more.
 */
export async function inspectFolderFile(
  path: string,
  name: string,
  options: InspectOptions & { hashFile?: boolean } = {},
): Promise<InspectedFile | null> {
  const { hashFile, ...inspectOptions } = options;
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw fileError(path, err);
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) return null;
    const stamp = stampOf(info);
    if (info.size <= IN_MEMORY_LIMIT) {
      const bytes = await readAt(fh, 0, IN_MEMORY_LIMIT + 1, info.size + 1, path);
      if (bytes.length <= IN_MEMORY_LIMIT) {
        const report = await inspectEnvelope({ bytes, path, name }, inspectOptions);
        return { report, fileSha256: hashFile === true ? sha256(bytes) : null, stamp };
      }
    }
    // Larger than any envelope Tracehound writes (a TOO_LARGE or TRAILING_BYTES verdict to
    // come): the library streams it from the path instead, reopening it.
    let fileSha256: string | null = null;
    if (hashFile === true) {
      const hash = createHash('sha256');
      for (let at = 0; ; ) {
        const more = await readAt(fh, at, 1024 * 1024, 1024 * 1024, path);
        if (more.length === 0) break;
        hash.update(more);
        at += more.length;
      }
      fileSha256 = hash.digest('hex');
    }
    const report = await inspectEnvelope({ path, name }, inspectOptions);
    return { report, fileSha256, stamp };
  } catch (err) {
    if (err instanceof StaxError) throw err;
    throw fileError(path, err);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Up to `max` bytes from `position`. Buffers are sized from `expected` (the size stat gave,
 * plus one to see growth), never from `max`, so a small file costs a small allocation.
 */
async function readAt(fh: Awaited<ReturnType<typeof open>>, position: number, max: number, expected: number, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  while (total < max) {
    const want = Math.min(max - total, Math.max(expected - total, 4096), 1024 * 1024);
    const buf = Buffer.alloc(want);
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, 0, want, position + total));
    } catch (err) {
      throw fileError(path, err);
    }
    if (bytesRead === 0) break;
    parts.push(buf.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(parts, total);
}

export interface FolderListing {
  /** Names of regular `.thcs` files, sorted. */
  envelopes: string[];
  skipped: SkippedEntry[];
  otherFiles: number;
}

/** Lists the envelope files of a folder (not recursing), without following links. */
export async function listEnvelopeFiles(directory: string): Promise<FolderListing> {
  let info;
  try {
    info = await stat(directory);
  } catch (err) {
    throw fileError(directory, err);
  }
  if (!info.isDirectory()) throw new StaxError('USAGE', 'is not a directory', { file: directory });
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (err) {
    throw fileError(directory, err);
  }
  const envelopes: string[] = [];
  const skipped: SkippedEntry[] = [];
  let otherFiles = 0;
  for (const entry of entries) {
    if (!looksLikeEnvelopeName(entry.name)) {
      if (!entry.isDirectory()) otherFiles++;
      continue;
    }
    if (entry.isFile()) envelopes.push(entry.name);
    else skipped.push({ name: entry.name, reason: entry.isSymbolicLink() ? 'symlink' : 'not-a-file' });
  }
  envelopes.sort(byName);
  skipped.sort((a, b) => byName(a.name, b.name));
  return { envelopes, skipped, otherFiles };
}

/** Inspects every envelope of a folder, `concurrency` at a time. */
export async function scanDirectory(directory: string, options: ScanOptions = {}): Promise<DirectoryScan> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new StaxError('USAGE', `concurrency: expected a positive integer, found ${concurrency}`);
  }
  const listing = await listEnvelopeFiles(directory);
  const skipped = [...listing.skipped];
  let done = 0;
  const results = await mapLimit(listing.envelopes, concurrency, async (name) => {
    const path = join(directory, name);
    try {
      const got = await inspectFolderFile(path, name, { maxPayloadBytes: options.maxPayloadBytes ?? 0, hashFile: options.hashFiles === true });
      if (got === null) {
        skipped.push({ name, reason: 'not-a-file' });
        return null;
      }
      return envelopeFacts(got.report, options.hashFiles === true ? { fileSha256: got.fileSha256 } : {});
    } catch (err) {
      if (!(err instanceof StaxError)) throw err;
      // Gone between the listing and the read: Tracehound evacuates envelopes it no longer holds.
      if (err.code === 'FILE_NOT_FOUND') skipped.push({ name, reason: 'vanished' });
      else skipped.push({ name, reason: 'unreadable', code: err.code, message: err.message });
      return null;
    } finally {
      done++;
      options.onProgress?.(done, listing.envelopes.length);
    }
  });
  skipped.sort((a, b) => byName(a.name, b.name));
  return {
    directory,
    envelopes: results.filter((r): r is EnvelopeFacts => r !== null),
    skipped,
    otherFiles: listing.otherFiles,
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep their order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// Code-unit order, as `ls` in the C locale: stable across machines and locales.
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// Filters, sorting and counts

export const SORT_KEYS = ['name', 'category', 'size', 'ratio', 'verdict'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** Verdicts in check order, then OK: sorting by verdict puts the failures first. */
export const VERDICTS: readonly EnvelopeVerdict[] = [...ENVELOPE_FAILURES, 'OK'];

export interface EnvelopeFilter {
  category?: string;
  /** A verdict code, or `FAILED` for every verdict but OK. */
  verdict?: string;
}

export function parseVerdictFilter(text: string): string {
  const v = text.toUpperCase();
  if (v === 'FAILED' || (VERDICTS as readonly string[]).includes(v)) return v;
  throw new StaxError('USAGE', `--verdict: expected OK, FAILED or one of ${ENVELOPE_FAILURES.join(', ')}; found "${text}"`);
}

export function parseSortKey(text: string): SortKey {
  if ((SORT_KEYS as readonly string[]).includes(text)) return text as SortKey;
  throw new StaxError('USAGE', `--sort: expected one of ${SORT_KEYS.join(', ')}; found "${text}"`);
}

export function matchesFilter(e: EnvelopeFacts, filter: EnvelopeFilter): boolean {
  if (filter.category !== undefined && e.category !== filter.category.toLowerCase()) return false;
  if (filter.verdict !== undefined) {
    if (filter.verdict === 'FAILED') return e.verdict !== 'OK';
    return e.verdict === filter.verdict;
  }
  return true;
}

/**
 * A sorted copy. Names and categories sort ascending; size (bytes on disk) and ratio sort
 * largest first, where a forged size claim or a compression bomb shows; verdicts sort in
 * check order with OK last. Ties fall back to the name, so the order is total.
 */
export function sortEnvelopes(envelopes: readonly EnvelopeFacts[], key: SortKey): EnvelopeFacts[] {
  const name = (e: EnvelopeFacts): string => e.name ?? e.file ?? '';
  const nullLast = (a: number | null, b: number | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : b - a);
  const cmp: Record<SortKey, (a: EnvelopeFacts, b: EnvelopeFacts) => number> = {
    name: () => 0,
    category: (a, b) => byName(a.category ?? '\uffff', b.category ?? '\uffff'),
    size: (a, b) => b.fileSize - a.fileSize,
    ratio: (a, b) => nullLast(a.ratio, b.ratio),
    verdict: (a, b) => VERDICTS.indexOf(a.verdict) - VERDICTS.indexOf(b.verdict),
  };
  return [...envelopes].sort((a, b) => cmp[key](a, b) || byName(name(a), name(b)));
}

export interface VerdictCounts {
  total: number;
  ok: number;
  failed: number;
  /** Envelopes per verdict, only verdicts that occur, in check order with OK last. */
  byVerdict: Partial<Record<EnvelopeVerdict, number>>;
}

export function countVerdicts(envelopes: readonly EnvelopeFacts[]): VerdictCounts {
  const byVerdict: Partial<Record<EnvelopeVerdict, number>> = {};
  for (const v of VERDICTS) {
    const n = envelopes.filter((e) => e.verdict === v).length;
    if (n > 0) byVerdict[v] = n;
  }
  const ok = byVerdict.OK ?? 0;
  return { total: envelopes.length, ok, failed: envelopes.length - ok, byVerdict };
}

export interface CategoryStats {
  /** null for envelopes whose name is not a signature. */
  category: string | null;
  envelopes: number;
  ok: number;
  failed: number;
  /** Bytes on disk. */
  fileBytes: number;
  /** Payload bytes of the envelopes that verified (other envelopes' sizes are unproven claims). */
  payloadBytes: number;
}

export interface VerdictStats {
  verdict: EnvelopeVerdict;
  envelopes: number;
  fileBytes: number;
}

export interface EvidenceStats {
  directory: string;
  counts: VerdictCounts;
  /** Bytes on disk of every envelope. */
  fileBytes: number;
  /** Payload bytes of the envelopes that verified. */
  payloadBytes: number;
  byCategory: CategoryStats[];
  byVerdict: VerdictStats[];
  skipped: SkippedEntry[];
  otherFiles: number;
}

export function evidenceStats(scan: DirectoryScan): EvidenceStats {
  const cats = new Map<string | null, CategoryStats>();
  for (const e of scan.envelopes) {
    let c = cats.get(e.category);
    if (c === undefined) {
      c = { category: e.category, envelopes: 0, ok: 0, failed: 0, fileBytes: 0, payloadBytes: 0 };
      cats.set(e.category, c);
    }
    c.envelopes++;
    c.fileBytes += e.fileSize;
    if (e.verdict === 'OK') {
      c.ok++;
      c.payloadBytes += e.originalSize ?? 0;
    } else c.failed++;
  }
  const byVerdict: VerdictStats[] = [];
  for (const verdict of VERDICTS) {
    const hits = scan.envelopes.filter((e) => e.verdict === verdict);
    if (hits.length > 0) byVerdict.push({ verdict, envelopes: hits.length, fileBytes: hits.reduce((n, e) => n + e.fileSize, 0) });
  }
  const byCategory = [...cats.values()].sort((a, b) => byName(a.category ?? '\uffff', b.category ?? '\uffff'));
  return {
    directory: scan.directory,
    counts: countVerdicts(scan.envelopes),
    fileBytes: byCategory.reduce((n, c) => n + c.fileBytes, 0),
    payloadBytes: byCategory.reduce((n, c) => n + c.payloadBytes, 0),
    byCategory,
    byVerdict,
    skipped: scan.skipped,
    otherFiles: scan.otherFiles,
  };
}

// ---------------------------------------------------------------------------------------
// The audit chain, and the cross-check

/** ISO 8601 for a millisecond timestamp; null when it is not a representable date. */
export function isoTime(ms: number): string | null {
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export interface TimeSpan {
  first: string | null;
  last: string | null;
  firstMs: number;
  lastMs: number;
  durationMs: number;
}

export interface ChainCheck {
  /** The chain's own verification, as `stax verify` reports it. */
  report: VerifyReport;
  /** Records per type (neutralization, evacuation, ...). */
  byType: Record<string, number>;
  /** Earliest and latest record timestamps; null for a chain without readable records. */
  span: TimeSpan | null;
  /** Records whose signature no inspected envelope carries; null when not applicable (one file). */
  unmatchedRecords: ChainRecordRef[] | null;
  /** Names of inspected envelopes that no record names. */
  unmatchedEnvelopes: string[];
}

export interface LoadedChain {
  report: VerifyReport;
  records: ChainRecordRef[];
}

/**
 * Verifies a Tracehound AuditChain export and collects its records. A chain that does not
 * verify still yields the records that parsed: an examiner needs to see what it claims.
 */
export async function loadChain(path: string, stdin?: Readable): Promise<LoadedChain> {
  const input = await openInput(path, stdin);
  const records: ChainRecordRef[] = [];
  const report = await verifyTracehoundAudit(input, (index, r) => {
    records.push({ index, id: r.id, type: r.type, signature: r.signature, timestamp: r.timestamp, time: isoTime(r.timestamp) });
  });
  return { report, records };
}

export function timeSpan(records: readonly ChainRecordRef[]): TimeSpan | null {
  let first = Infinity;
  let last = -Infinity;
  for (const r of records) {
    if (isoTime(r.timestamp) === null) continue;
    if (r.timestamp < first) first = r.timestamp;
    if (r.timestamp > last) last = r.timestamp;
  }
  if (first === Infinity) return null;
  return { first: isoTime(first), last: isoTime(last), firstMs: first, lastMs: last, durationMs: last - first };
}

export interface CrossChecked {
  /** Copies of the envelopes, each with its `records`. */
  envelopes: EnvelopeFacts[];
  chain: ChainCheck;
}

/**
 * Pairs envelopes with chain records by signature. An envelope whose name carries no
 * signature is paired through the payload hash it was found to have, if any. With
 * `listUnmatchedRecords` false (one envelope inspected on its own) the rest of the chain is
 * not reported as missing evidence.
 */
export function crossCheck(envelopes: readonly EnvelopeFacts[], chain: LoadedChain, listUnmatchedRecords: boolean): CrossChecked {
  const byHash = new Map<string, ChainRecordRef[]>();
  for (const r of chain.records) {
    const sig = parseSignature(r.signature);
    if (sig === null) continue;
    const list = byHash.get(sig.hash);
    if (list === undefined) byHash.set(sig.hash, [r]);
    else list.push(r);
  }
  const matched = new Set<number>();
  const out: EnvelopeFacts[] = [];
  const unmatchedEnvelopes: string[] = [];
  for (const e of envelopes) {
    let records: ChainRecordRef[];
    if (e.signature !== null) {
      const wanted = `${e.signature.category}:${e.signature.hash}`;
      records = (byHash.get(e.signature.hash) ?? []).filter((r) => r.signature === wanted);
    } else if (e.payloadHash !== null) {
      records = byHash.get(e.payloadHash) ?? [];
    } else records = [];
    for (const r of records) matched.add(r.index);
    if (records.length === 0) unmatchedEnvelopes.push(e.name ?? e.file ?? '-');
    out.push({ ...e, records });
  }
  const byType: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const r of chain.records) byType[r.type] = (byType[r.type] ?? 0) + 1;
  return {
    envelopes: out,
    chain: {
      report: chain.report,
      byType: { ...byType },
      span: timeSpan(chain.records),
      unmatchedRecords: listUnmatchedRecords ? chain.records.filter((r) => !matched.has(r.index)) : null,
      unmatchedEnvelopes,
    },
  };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

// ---------------------------------------------------------------------------------------
// Single envelopes from a stream, and payload excerpts for JSON

/**
 * Reads one envelope from a stream (standard input) without trusting its sizes: the header
 * first, then at most compressedSize + 1 more bytes, the extra byte being how trailing data
 * still shows. Stops early when the first bytes are not an envelope at all.
 */
export async function readEnvelopeStream(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  let need: number | null = null;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    parts.push(b);
    total += b.length;
    if (need === null && total >= HEADER_LENGTH) {
      const head = Buffer.concat(parts, total).subarray(0, HEADER_LENGTH);
      const compressedSize = head.readUInt32BE(10);
      need = !head.subarray(0, MAGIC.length).equals(MAGIC) || compressedSize > MAX_COMPRESSED_SIZE ? HEADER_LENGTH : HEADER_LENGTH + compressedSize + 1;
    }
    if (need !== null && total >= need) break;
  }
  const all = Buffer.concat(parts, total);
  return need === null ? all : all.subarray(0, need);
}

export interface PayloadExcerpt {
  encoding: 'base64';
  /** The first `bytes` bytes of the payload. */
  data: string;
  bytes: number;
  /** The whole payload's length. */
  totalBytes: number;
  truncated: boolean;
}

/** The first `maxBytes` of a payload as base64, for JSON output; null when there is no payload. */
export function payloadExcerpt(payload: Buffer | undefined, maxBytes: number): PayloadExcerpt | null {
  if (payload === undefined) return null;
  const shown = payload.subarray(0, maxBytes);
  return { encoding: 'base64', data: shown.toString('base64'), bytes: shown.length, totalBytes: payload.length, truncated: shown.length < payload.length };
}
