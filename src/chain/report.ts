/**
 * The verification report every format produces, and the stable problem codes. `--json`
 * prints these objects as they are, so their shape is part of the public interface.
 */

export type ProblemCode =
  /** An entry (or the header) cannot be parsed or lacks a required field. */
  | 'MALFORMED'
  /** The hash recorded in an entry is not the hash of its content. */
  | 'HASH_MISMATCH'
  /** An entry's link to the previous entry's hash is wrong. */
  | 'LINK_BROKEN'
  /** Sequence numbers are not contiguous from 0. */
  | 'SEQUENCE_GAP'
  /** A header field (tail hash, total, chain_valid, format) disagrees with the entries. */
  | 'HEADER_MISMATCH'
  /** A signature (HMAC or Ed25519) does not verify. */
  | 'BAD_SIGNATURE'
  /** The last line was cut off in the middle of a write. */
  | 'TORN_TAIL'
  /** A JSON object repeats a key: parsers disagree on which value counts. */
  | 'DUPLICATE_KEY'
  /** An entry is filed under a key that is not its own name. */
  | 'KEY_MISMATCH'
  /** The file holds no entries. */
  | 'EMPTY'
  /** A signature is required but missing. */
  | 'UNSIGNED'
  /** Signed by a key that is not trusted (or not trusted for this actor). */
  | 'UNKNOWN_KEY'
  /** The file is shorter than a checkpoint that saw it: the tail was cut off. */
  | 'TRUNCATED'
  /** The file is not an append-only extension of what a checkpoint saw. */
  | 'REWRITTEN'
  /** The checkpoint is for another log (origin differs). */
  | 'CHECKPOINT_MISMATCH'
  /** Two signed checkpoints of one log disagree: the log showed two histories. */
  | 'FORK'
  /** A proof does not lead to the signed root. */
  | 'BAD_PROOF'
  /** Lines that are not entries (blank lines, BOM, CRLF) that a writer of ours never makes. */
  | 'NOT_CANONICAL';

export interface Problem {
  /** 0-based index of the entry where the problem shows, or null for the file or header. */
  index: number | null;
  code: ProblemCode;
  message: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

/** A threat the format cannot detect on its own, stated so that nobody over-trusts it. */
export interface Limit {
  threat: 'truncation' | 'rewrite' | 'reordering' | 'deletion' | 'forgery' | 'rollback' | 'unsigned-fields';
  message: string;
}

export interface VerifyReport {
  file: string;
  format: string;
  valid: boolean;
  entries: number;
  firstBad: number | null;
  problems: Problem[];
  /** How many problems were found in all; `problems` keeps the first ones. */
  problemCount: number;
  /** Hash of the last entry, when the format has one. */
  head: string | null;
  /** What this format (in the mode used) cannot detect. */
  limits: Limit[];
  /** Facts worth knowing that are not problems (gzip input, BOM ignored, keys used). */
  notes: string[];
}

export const MAX_PROBLEMS_KEPT = 1000;

/** Collects problems while a format streams through its entries. */
export class ReportBuilder {
  entries = 0;
  head: string | null = null;
  private readonly problems: Problem[] = [];
  private problemCount = 0;
  private firstBad: number | null = null;
  private readonly notes: string[] = [];
  private readonly limits: Limit[] = [];

  constructor(
    readonly file: string,
    readonly format: string,
  ) {}

  problem(index: number | null, code: ProblemCode, message: string, line?: number): void {
    this.problemCount++;
    if (index !== null && (this.firstBad === null || index < this.firstBad)) this.firstBad = index;
    if (this.problems.length < MAX_PROBLEMS_KEPT) {
      this.problems.push(line === undefined ? { index, code, message } : { index, code, message, line });
    }
  }

  get ok(): boolean {
    return this.problemCount === 0;
  }

  /** How many problems so far. */
  get count(): number {
    return this.problemCount;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  limit(threat: Limit['threat'], message: string): void {
    this.limits.push({ threat, message });
  }

  finish(): VerifyReport {
    // A problem with the file as a whole (index null) still makes firstBad meaningful as 0
    // only when there are entries to blame; otherwise it stays null.
    return {
      file: this.file,
      format: this.format,
      valid: this.problemCount === 0,
      entries: this.entries,
      firstBad: this.firstBad,
      problems: this.problems,
      problemCount: this.problemCount,
      head: this.head,
      limits: this.limits,
      notes: this.notes,
    };
  }
}

/** The limits of any chain whose hashes nobody signs. */
export function unkeyedChainLimits(report: ReportBuilder, what = 'entries'): void {
  report.limit('truncation', `cannot detect ${what} cut off the end: a shorter chain is still a valid chain`);
  report.limit('rewrite', `cannot detect a complete rewrite: anyone can recompute every hash after editing ${what}`);
}

export function shortHash(hash: string): string {
  return hash.length > 16 ? `${hash.slice(0, 12)}…` : hash;
}

const HEX64 = /^[0-9a-f]{64}$/;
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

export const GENESIS_HASH = '0'.repeat(64);
