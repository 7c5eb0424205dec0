/**
 * Verifies a stax chain v1, in either of its two forms: JSON Lines (header line, then one
 * entry per line; optionally gzip) or the single JSON document `{...header, "entries": [...]}`
 * that `stax trail export` writes. Both go through the same per-entry check, so they verify
 * identically. Memory stays flat: only the current entry and a few hashes are held.
 */
import { FORMAT_ID, FORMAT_VERSION, computeEntryHash, type ChainEntry, type ChainHeader } from '../chain/entry.js';
import { GENESIS_HASH, ReportBuilder, isHex64, shortHash, unkeyedChainLimits, type VerifyReport } from '../chain/report.js';
import { readJsonDocument } from '../io/json-document.js';
import type { Input } from '../io/input.js';
import { readLineBatches } from '../io/lines.js';
import { findDuplicateKey } from '../json/duplicates.js';

export const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

/** Sees every entry that parsed, in order, with the hash its content has. */
export interface EntryVisitor {
  header?(header: ChainHeader, report: ReportBuilder): void;
  entry(index: number, entry: ChainEntry, computedHash: string, report: ReportBuilder, line?: number): void;
  finish?(report: ReportBuilder): void;
}

export interface StaxReport extends VerifyReport {
  origin: string | null;
  kind: string | null;
}

/** Checks one entry against the chain so far: shape, hash, sequence, link. */
export class StaxChainChecker {
  private expectedSeq = 0;
  private prev = GENESIS_HASH;
  private sawHeader = false;
  header: ChainHeader | null = null;

  constructor(
    readonly report: ReportBuilder,
    private readonly visitors: EntryVisitor[],
  ) {}

  acceptHeader(value: unknown, line: number | undefined): void {
    this.sawHeader = true;
    const h = value as Partial<ChainHeader> | null;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) {
      this.report.problem(null, 'MALFORMED', 'the header is not a JSON object', line);
      return;
    }
    if (h.format !== FORMAT_ID) {
      this.report.problem(null, 'MALFORMED', `the header's format is ${JSON.stringify(h.format)}, expected "${FORMAT_ID}"`, line);
      return;
    }
    if (h.version !== FORMAT_VERSION) {
      this.report.problem(null, 'MALFORMED', `unsupported stax chain version ${JSON.stringify(h.version)} (this stax reads version ${FORMAT_VERSION}; upgrade stax)`, line);
      return;
    }
    for (const field of ['kind', 'origin', 'created'] as const) {
      if (typeof h[field] !== 'string' || h[field] === '') {
        this.report.problem(null, 'MALFORMED', `the header has no "${field}" string`, line);
      }
    }
    this.header = h as ChainHeader;
    for (const v of this.visitors) v.header?.(this.header, this.report);
  }

  acceptEntry(text: string, line: number | undefined, lastUnterminated = false): void {
    const index = this.report.entries;
    const report = this.report;
    if (!this.sawHeader) {
      report.problem(null, 'MALFORMED', 'the chain has no header', line);
      this.sawHeader = true;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      if (lastUnterminated) {
        report.problem(index, 'TORN_TAIL', `the last line is an incomplete write (${Buffer.byteLength(text)} bytes without a newline); 'stax trail repair' removes exactly those bytes`, line);
      } else {
        report.problem(index, 'MALFORMED', `entry ${index} is not valid JSON: ${(err as Error).message}`, line);
      }
      report.entries++;
      return;
    }
    report.entries++;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      report.problem(index, 'MALFORMED', `entry ${index} is not a JSON object`, line);
      return;
    }
    const entry = value as Record<string, unknown>;
    const shapeError = checkShape(entry);
    if (shapeError !== null) {
      report.problem(index, 'MALFORMED', `entry ${index}: ${shapeError}`, line);
      return;
    }
    const e = entry as ChainEntry;
    const computed = computeEntryHash(entry, text);
    if (computed !== e.hash) {
      // A duplicate key hides one value from JSON.parse; say so instead of a bare mismatch.
      const dup = findDuplicateKey(text);
      if (dup !== null) report.problem(index, 'DUPLICATE_KEY', `entry ${index} repeats the key "${dup}"; readers disagree on which value counts`, line);
      else report.problem(index, 'HASH_MISMATCH', `entry ${index}: recorded hash ${shortHash(e.hash)} but the content hashes to ${shortHash(computed)}`, line);
    }
    if (e.seq !== this.expectedSeq) {
      report.problem(index, 'SEQUENCE_GAP', `entry ${index}: expected seq ${this.expectedSeq}, found ${e.seq}`, line);
    }
    if (e.prev !== this.prev) {
      report.problem(index, 'LINK_BROKEN', `entry ${index}: prev is ${shortHash(e.prev)} but the previous entry's hash is ${shortHash(this.prev)}`, line);
    }
    // Follow the chain as recorded so that one bad entry is reported once, not at every later link.
    this.expectedSeq = e.seq + 1;
    this.prev = e.hash;
    report.head = e.hash;
    for (const v of this.visitors) v.entry(index, e, computed, report, line);
  }

  finish(): void {
    if (!this.sawHeader) this.report.problem(null, 'EMPTY', 'the file is empty: no header and no entries');
    for (const v of this.visitors) v.finish?.(this.report);
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkShape(e: Record<string, unknown>): string | null {
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 0) return '"seq" must be a non-negative integer';
  if (typeof e.ts !== 'string' || !RFC3339.test(e.ts)) return '"ts" must be an RFC 3339 time';
  if (typeof e.actor !== 'string' || e.actor === '') return '"actor" must be a non-empty string';
  if (typeof e.action !== 'string' || e.action === '') return '"action" must be a non-empty string';
  if (!Object.hasOwn(e, 'payload')) return 'missing "payload"';
  if (!isHex64(e.prev)) return '"prev" must be 64 lowercase hex digits';
  if (!isHex64(e.hash)) return '"hash" must be 64 lowercase hex digits';
  if (e.session !== undefined && typeof e.session !== 'string') return '"session" must be a string';
  if (e.sig !== undefined) {
    const s = e.sig as Record<string, unknown> | null;
    if (typeof s !== 'object' || s === null || typeof s.key !== 'string' || typeof s.sig !== 'string') {
      return '"sig" must be an object with "key" and "sig" strings';
    }
  }
  return null;
}

export interface StaxVerifyOptions {
  visitors?: EntryVisitor[];
  /** Set by callers that add keys or checkpoints, which lift the unkeyed-chain limits. */
  keyed?: boolean;
}

export async function verifyStaxLines(input: Input, options: StaxVerifyOptions = {}): Promise<StaxReport> {
  const report = new ReportBuilder(input.path, 'stax');
  const checker = new StaxChainChecker(report, options.visitors ?? []);
  let first = true;
  let sawCrlf = false;
  for await (const batch of readLineBatches(input.chunks, { maxLineBytes: MAX_ENTRY_BYTES, file: input.path })) {
    for (const line of batch) {
      let text = line.text;
      if (line.crlf) sawCrlf = true;
      if (first) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) {
          text = text.slice(1);
          report.note('the file starts with a UTF-8 byte order mark; it was ignored');
        }
        if (line.invalidUtf8) report.problem(null, 'MALFORMED', 'the header line is not valid UTF-8', line.number);
        else acceptHeaderText(checker, text, line.number);
        continue;
      }
      if (line.invalidUtf8) {
        report.problem(report.entries, 'MALFORMED', `entry ${report.entries} is not valid UTF-8`, line.number);
        report.entries++;
        continue;
      }
      if (text.trim() === '') {
        report.problem(null, 'MALFORMED', `line ${line.number} is blank; stax writers never write blank lines`, line.number);
        continue;
      }
      checker.acceptEntry(text, line.number, !line.terminated);
    }
  }
  if (sawCrlf) report.note('lines end in CRLF; hashes are computed from the values, so this does not change them');
  if (input.gzip) report.note('read through gzip');
  checker.finish();
  if (!options.keyed) unkeyedChainLimits(report);
  return { ...report.finish(), origin: checker.header?.origin ?? null, kind: checker.header?.kind ?? null };
}

function acceptHeaderText(checker: StaxChainChecker, text: string, line: number): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    checker.report.problem(null, 'MALFORMED', `the header line is not valid JSON: ${(err as Error).message}`, line);
    return;
  }
  checker.acceptHeader(value, line);
}

/** The single-document form: header members plus an `entries` array. */
export async function verifyStaxDocument(input: Input, options: StaxVerifyOptions = {}): Promise<StaxReport> {
  const report = new ReportBuilder(input.path, 'stax');
  const checker = new StaxChainChecker(report, options.visitors ?? []);
  const header: Record<string, unknown> = {};
  let headerDone = false;
  const closeHeader = (): void => {
    if (!headerDone) {
      headerDone = true;
      checker.acceptHeader(header, 1);
    }
  };
  let sawEntries = false;
  for await (const events of readJsonDocument(input.chunks, { file: input.path, arrays: new Set(['entries']), maxPieceChars: MAX_ENTRY_BYTES })) {
    for (const ev of events) {
      if (ev.kind === 'start' && ev.container !== 'object') {
        report.problem(null, 'MALFORMED', 'a stax chain document must be a JSON object');
      } else if (ev.kind === 'member') {
        if (headerDone) {
          report.problem(null, 'MALFORMED', `header field "${ev.key}" comes after the entries`, ev.line);
          continue;
        }
        try {
          Object.defineProperty(header, ev.key, { value: JSON.parse(ev.text), enumerable: true, configurable: true, writable: true });
        } catch (err) {
          report.problem(null, 'MALFORMED', `header field "${ev.key}" is not valid JSON: ${(err as Error).message}`, ev.line);
        }
      } else if (ev.kind === 'element') {
        sawEntries = true;
        closeHeader();
        checker.acceptEntry(ev.text, ev.line);
      }
    }
  }
  closeHeader();
  if (!sawEntries && !Object.hasOwn(header, 'entries')) report.note('the document has no "entries" array');
  if (input.gzip) report.note('read through gzip');
  checker.finish();
  if (!options.keyed) unkeyedChainLimits(report);
  return { ...report.finish(), origin: checker.header?.origin ?? null, kind: checker.header?.kind ?? null };
}

/** Picks the JSON Lines or the document form from the first bytes. */
export function verifyStax(input: Input, sample: string, options: StaxVerifyOptions = {}): Promise<StaxReport> {
  const firstLine = /^\ufeff?\s*\{[^\n]*\}\s*(\n|$)/.test(sample);
  const documentForm = /^\ufeff?\s*\{[^\n]*"entries"\s*:/.test(sample);
  return firstLine && !documentForm ? verifyStaxLines(input, options) : verifyStaxDocument(input, options);
}
