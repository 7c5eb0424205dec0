/**
 * Verifies a stax chain v1, in either of its two forms: JSON Lines (header line, then one
 * entry per line; optionally gzip) or the single JSON document `{...header, "entries": [...]}`
 * that `stax trail export` writes. Both go through the same per-entry check, so they verify
 * identically. Memory stays flat: only the current entry and a few hashes are held.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { FORMAT_ID, FORMAT_VERSION, computeEntryHash, sha256Hex, type ChainEntry, type ChainHeader } from '../chain/entry.js';
import { scanCanonicalLine } from '../chain/line-scan.js';
import { CanonicalizationError } from '../json/jcs.js';
import { GENESIS_HASH, ReportBuilder, isHex64, shortHash, unkeyedChainLimits, type VerifyReport } from '../chain/report.js';
import { readJsonDocument } from '../io/json-document.js';
import type { Input } from '../io/input.js';
import type { Line } from '../io/lines.js';
import { verifyLineBlocks } from './stax-parallel.js';
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
  // After a gap the sequence may go on from the recorded seq (an entry was deleted), from
  // the expected one (one seq was edited) or from the highest so far (two were swapped):
  // accepting any of them reports each bad entry once instead of every entry after it.
  private expectedSeq = 0;
  private altSeq = 0;
  private maxSeq = -1;
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
    this.accept(checkEntryText(text), text, line, lastUnterminated);
  }

  /**
   * The in-order half of the check: everything that depends on the entries before this
   * one. `check` is what checkEntryText found in the entry's text, here or on a worker
   * thread; `text` is only read when visitors need the parsed entry.
   */
  accept(check: EntryCheck, text: string | null, line: number | undefined, lastUnterminated = false): void {
    const index = this.report.entries;
    const report = this.report;
    if (!this.sawHeader) {
      report.problem(null, 'MALFORMED', 'the chain has no header', line);
      this.sawHeader = true;
    }
    if (check.kind === 'json') {
      if (lastUnterminated) {
        report.problem(index, 'TORN_TAIL', `the last line is an incomplete write (${check.bytes} bytes without a newline); 'stax trail repair' removes exactly those bytes`, line);
      } else {
        report.problem(index, 'MALFORMED', `entry ${index} is not valid JSON: ${check.error}`, line);
      }
      report.entries++;
      return;
    }
    report.entries++;
    if (check.kind === 'notObject') {
      report.problem(index, 'MALFORMED', `entry ${index} is not a JSON object`, line);
      return;
    }
    if (check.kind === 'shape') {
      report.problem(index, 'MALFORMED', `entry ${index}: ${check.error}`, line);
      return;
    }
    if (check.kind === 'deep') {
      report.problem(index, 'MALFORMED', `entry ${index} is nested ${check.depth} levels deep, too deep to hash`, line);
      return;
    }
    const e = check;
    const computed = check.computed;
    if (computed !== e.hash) {
      // A duplicate key hides one value from JSON.parse; say so instead of a bare mismatch.
      if (e.dup !== null) report.problem(index, 'DUPLICATE_KEY', `entry ${index} repeats the key "${e.dup}"; readers disagree on which value counts`, line);
      else report.problem(index, 'HASH_MISMATCH', `entry ${index}: recorded hash ${shortHash(e.hash)} but the content hashes to ${shortHash(computed)}`, line);
    }
    if (e.seq !== this.expectedSeq && e.seq !== this.altSeq && e.seq !== this.maxSeq + 1) {
      report.problem(index, 'SEQUENCE_GAP', `entry ${index}: expected seq ${this.expectedSeq}, found ${e.seq}`, line);
      this.altSeq = this.expectedSeq + 1;
    } else {
      this.altSeq = e.seq + 1;
    }
    this.maxSeq = Math.max(this.maxSeq, e.seq);
    if (e.prev !== this.prev) {
      report.problem(index, 'LINK_BROKEN', `entry ${index}: prev is ${shortHash(e.prev)} but the previous entry's hash is ${shortHash(this.prev)}`, line);
    }
    // Follow the chain as recorded so that one bad entry is reported once, not at every later link.
    this.expectedSeq = e.seq + 1;
    this.prev = e.hash;
    report.head = e.hash;
    if (this.visitors.length > 0) {
      const entry = check.entry ?? (JSON.parse(text!) as ChainEntry);
      for (const v of this.visitors) v.entry(index, entry, computed, report, line);
    }
  }

  finish(): void {
    if (!this.sawHeader) this.report.problem(null, 'EMPTY', 'the file is empty: no header and no entries');
    for (const v of this.visitors) v.finish?.(this.report);
  }
}

/**
 * What one entry's text says on its own, before any check against the entries before it.
 * Plain data, so that worker threads can compute it for a large file (stax-parallel.ts)
 * and the report comes out the same whichever thread made it.
 */
export type EntryCheck =
  | { kind: 'json'; error: string; bytes: number }
  | { kind: 'notObject' }
  | { kind: 'shape'; error: string }
  | { kind: 'deep'; depth: number }
  | {
      kind: 'entry';
      seq: number;
      prev: string;
      hash: string;
      computed: string;
      /** A repeated key, looked for only when the hash does not match. */
      dup: string | null;
      /** The parsed entry, when this check parsed it; visitors parse the text otherwise. */
      entry: ChainEntry | null;
    };

/**
 * Checks an entry's text: JSON, shape, and the hash of its content. A line in the exact
 * layout stax writers produce is checked without a parse (chain/line-scan.ts); any other
 * text is parsed and canonicalized, with the same results.
 */
export function checkEntryText(text: string): EntryCheck {
  const fast = scanCanonicalLine(text);
  if (fast !== null) {
    const computed = sha256Hex(text.slice(0, fast.at) + '}');
    // The writer's own shape passes this quick test; anything else gets checkShape's message.
    const quick =
      fast.sigText === undefined &&
      fast.hasPayload &&
      Number.isSafeInteger(fast.seq) &&
      fast.seq! >= 0 &&
      fast.actor !== '' &&
      fast.actor !== undefined &&
      fast.action !== '' &&
      fast.action !== undefined &&
      fast.ts !== undefined &&
      RFC3339.test(fast.ts) &&
      quickHex64(fast.prev) &&
      (computed === fast.hash || isHex64(fast.hash));
    if (!quick) {
      const light: Record<string, unknown> = { seq: fast.seq, ts: fast.ts, actor: fast.actor, action: fast.action, prev: fast.prev, hash: fast.hash, session: fast.session };
      if (fast.hasPayload) light.payload = null;
      if (fast.sigText !== undefined) light.sig = JSON.parse(fast.sigText);
      const shapeError = checkShape(light);
      if (shapeError !== null) return { kind: 'shape', error: shapeError };
    }
    // A canonical line has no repeated key: strictly sorted keys are checked by the scan.
    return { kind: 'entry', seq: fast.seq!, prev: fast.prev!, hash: computed === fast.hash ? computed : fast.hash, computed, dup: null, entry: null };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'json', error: (err as Error).message, bytes: Buffer.byteLength(text) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'notObject' };
  const entry = value as Record<string, unknown>;
  const shapeError = checkShape(entry);
  if (shapeError !== null) return { kind: 'shape', error: shapeError };
  const e = entry as ChainEntry;
  let computed: string;
  try {
    computed = computeEntryHash(entry, text);
  } catch (err) {
    // 1e400 parses as Infinity, which RFC 8785 cannot hash: no stax writer produces it.
    if (err instanceof CanonicalizationError) return { kind: 'shape', error: `it holds a number JSON cannot represent exactly (${err.message})` };
    if (!(err instanceof RangeError)) throw err;
    return { kind: 'deep', depth: nestingDepth(text) };
  }
  return { kind: 'entry', seq: e.seq, prev: e.prev, hash: e.hash, computed, dup: computed === e.hash ? null : findDuplicateKey(text), entry: e };
}

/** Maximum nesting of a JSON text, counted without recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

const NOT_HEX = /[^0-9a-f]/;

/** isHex64 for a string, about a third faster than the anchored pattern. */
function quickHex64(v: string | undefined): boolean {
  return v !== undefined && v.length === 64 && !NOT_HEX.test(v);
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

/** What one line after the header says on its own: computed here, or on a worker thread. */
export type LineCheck = EntryCheck | { kind: 'invalidUtf8' } | { kind: 'blank' };

export function checkLine(line: Line): LineCheck {
  if (line.invalidUtf8) return { kind: 'invalidUtf8' };
  if (line.text.trim() === '') return { kind: 'blank' };
  return checkEntryText(line.text);
}

/**
 * Verifies the JSON Lines form. Files of 32 MiB and more are checked on worker threads too
 * (stax-parallel.ts); the same code checks each block either way, and the same checker
 * takes the results line by line in order.
 */
export async function verifyStaxLines(input: Input, options: StaxVerifyOptions = {}): Promise<StaxReport> {
  const report = new ReportBuilder(input.path, 'stax');
  const checker = new StaxChainChecker(report, options.visitors ?? []);
  const lines = new LineSink(checker);
  const lineOptions = { maxLineBytes: MAX_ENTRY_BYTES, file: input.path };
  // Blocks of lines are checked on their own (stax-block.ts), on worker threads for a large
  // file; the checks that depend on earlier entries run here, in order, either way.
  const workers = parallelWorkers(input);
  await verifyLineBlocks(input.chunks, lines, { ...lineOptions, workers, wantTexts: (options.visitors ?? []).length > 0 });
  if (lines.sawCrlf) report.note('lines end in CRLF; hashes are computed from the values, so this does not change them');
  if (input.gzip) report.note('read through gzip');
  checker.finish();
  if (!options.keyed) staxPlainLimits(report);
  return { ...report.finish(), origin: checker.header?.origin ?? null, kind: checker.header?.kind ?? null };
}

/** Takes the lines of a JSON Lines chain in order: the header first, then entries. */
export class LineSink {
  sawCrlf = false;
  private first = true;

  constructor(readonly checker: StaxChainChecker) {}

  get expectsHeader(): boolean {
    return this.first;
  }

  line(line: Line): void {
    if (line.crlf) this.sawCrlf = true;
    if (this.first) this.header(line);
    else this.checked(checkLine(line), line.text, line.number, !line.terminated);
  }

  /** A line after the header, with what checkLine found in it. */
  checked(check: LineCheck, text: string | null, number: number, lastUnterminated: boolean): void {
    const report = this.checker.report;
    if (check.kind === 'invalidUtf8') {
      // A writer killed inside a multi-byte character leaves bad UTF-8 at the very end.
      if (lastUnterminated) report.problem(report.entries, 'TORN_TAIL', `the last line is an incomplete write (no newline, cut inside a character); 'stax trail repair' removes exactly those bytes`, number);
      else report.problem(report.entries, 'MALFORMED', `entry ${report.entries} is not valid UTF-8`, number);
      report.entries++;
    } else if (check.kind === 'blank') {
      report.problem(null, 'MALFORMED', `line ${number} is blank; stax writers never write blank lines`, number);
    } else {
      this.checker.accept(check, text, number, lastUnterminated);
    }
  }

  private header(line: Line): void {
    this.first = false;
    const report = this.checker.report;
    let text = line.text;
    if (text.charCodeAt(0) === 0xfeff) {
      text = text.slice(1);
      report.note('the file starts with a UTF-8 byte order mark; it was ignored');
    }
    if (line.invalidUtf8) report.problem(null, 'MALFORMED', 'the header line is not valid UTF-8', line.number);
    else acceptHeaderText(this.checker, text, line.number);
  }
}

/** Below this many bytes a file is verified on one thread: starting workers costs more than they save. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/**
 * How many worker threads to verify `input` with: none for small files, standard input,
 * one-core or busy machines, and runs from the TypeScript sources (tests), where the
 * compiled worker does not exist. STAX_VERIFY_PARALLEL_MIN_BYTES overrides the size threshold, so
 * that tests and benchmarks can compare both paths on the same file.
 */
function parallelWorkers(input: Input): number {
  if (input.path === '-') return 0;
  const override = process.env.STAX_VERIFY_PARALLEL_MIN_BYTES;
  const forced = override !== undefined && /^\d+$/.test(override);
  const minBytes = forced ? Number(override) : PARALLEL_MIN_BYTES;
  const cores = availableParallelism();
  // Workers pay only with a core to spare. On a machine already busy with other work they
  // would add their own cost (about 15% more CPU) and win nothing: measured in BENCHMARKS.md.
  if (!forced && (cores < 2 || loadavg()[0]! > cores - 0.5)) return 0;
  let size: number;
  try {
    size = statSync(input.path).size;
  } catch {
    return 0;
  }
  if (size < minBytes || !existsSync(new URL('./stax-worker.js', import.meta.url))) return 0;
  // The main thread checks a share of the blocks too: one worker for each further core.
  return Math.max(1, Math.min(cores - 1, 3));
}

/** What a stax chain proves with no keys and no checkpoint. */
export function staxPlainLimits(report: ReportBuilder): void {
  unkeyedChainLimits(report);
  report.limit('unsigned-fields', 'the header (kind, origin, created) is covered by no entry hash; a signed checkpoint binds the origin');
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
      } else if (ev.kind === 'bom') {
        report.note('the file starts with a UTF-8 byte order mark; it was ignored');
      } else if (ev.kind === 'member') {
        if (Object.hasOwn(header, ev.key)) {
          report.problem(null, 'DUPLICATE_KEY', `the header repeats the key "${ev.key}"`, ev.line);
          continue;
        }
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
  // The document form is defined by its "entries" array: without it (a renamed key, say),
  // the entries would ride along unchecked as a header field.
  if (!sawEntries && !Object.hasOwn(header, 'entries')) report.problem(null, 'MALFORMED', 'the document has no "entries" array');
  if (input.gzip) report.note('read through gzip');
  checker.finish();
  if (!options.keyed) staxPlainLimits(report);
  return { ...report.finish(), origin: checker.header?.origin ?? null, kind: checker.header?.kind ?? null };
}

/** Picks the JSON Lines or the document form from the first bytes. */
export function verifyStax(input: Input, sample: string, options: StaxVerifyOptions = {}): Promise<StaxReport> {
  const firstLine = /^\ufeff?\s*\{[^\n]*\}\s*(\n|$)/.test(sample);
  const documentForm = /^\ufeff?\s*\{[^\n]*"entries"\s*:/.test(sample);
  return firstLine && !documentForm ? verifyStaxLines(input, options) : verifyStaxDocument(input, options);
}
