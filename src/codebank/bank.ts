/**
 * The code bank: a stax chain (kind `codebank`) whose entries are commits. A commit's
 * hashed fields are the chain's own (seq, ts, actor, action, prev) plus `label`; its
 * payload is the record below. Reading a bank verifies the chain first and folds the
 * commits into label → latest record; a bank whose chain does not verify is not trusted,
 * and nothing read from it is used.
 *
 * Actions: `code.register` (payload: CodeRecord) and `code.revoke` (payload: {reason}).
 */
import { dirname, basename, join, resolve } from 'node:path';
import ssri, { type IntegrityMap } from 'ssri';
import { StaxError } from '../errors.js';
import type { ChainEntry } from '../chain/entry.js';
import { openInput, type Input } from '../io/input.js';
import { detectFormat, peek, type FormatId } from '../formats/detect.js';
import { verifyStaxDocument, verifyStaxLines, type EntryVisitor, type StaxReport } from '../formats/stax.js';
import type { Readable } from 'node:stream';
import { isInside } from './walk.js';

export const BANK_KIND = 'codebank';
export const REGISTER = 'code.register';
export const REVOKE = 'code.revoke';
export const DEFAULT_BANK = join('.stax', 'codebank.jsonl');

export type RecordType = 'file' | 'symlink' | 'inline';

/** What a `code.register` commit records about one label. */
export interface CodeRecord {
  /** Path relative to the bank's root, POSIX separators; null for inline content. */
  path: string | null;
  type: RecordType;
  /** SRI string: sha512 and sha256. */
  integrity: string;
  size: number;
  /** Permission bits in octal (`0644`); absent for inline content. */
  mode?: string;
  /** A symlink's target. */
  target?: string;
  /** Registered through --follow-symlinks: verify follows links for it too. */
  followed?: boolean;
  /** The folder or glob (relative to the root) the file was registered through. */
  scope?: string;
  meta?: Record<string, string>;
}

export interface Commit {
  seq: number;
  ts: string;
  actor: string;
  action: typeof REGISTER | typeof REVOKE;
  label: string;
  hash: string;
  record?: CodeRecord;
  reason?: string;
}

export interface LabelState {
  label: string;
  /** The latest registration. */
  current: Commit & { record: CodeRecord };
  /** Set when the latest commit for the label is a revoke. */
  revoked: Commit | null;
}

export interface BankState {
  file: string;
  /** The chain verification report; `trusted` is `report.valid`. */
  report: StaxReport;
  trusted: boolean;
  labels: Map<string, LabelState>;
  /** Every commit of every label, oldest first. */
  history: Map<string, Commit[]>;
}

/** The default bank and root for a working directory, or the ones given. */
export function locateBank(cwd: string, bank?: string, root?: string): { bank: string; root: string } {
  const file = resolve(cwd, bank ?? DEFAULT_BANK);
  if (root !== undefined) return { bank: file, root: resolve(cwd, root) };
  // The root is the folder that holds `.stax/`; a bank kept elsewhere is rooted at the cwd.
  const parent = dirname(file);
  return { bank: file, root: basename(parent) === '.stax' ? dirname(parent) : resolve(cwd) };
}

export type OpenedBank = { format: 'stax'; input: Input; lines: boolean } | { format: 'trailstax-codebank'; input: Input };

/** Opens a bank file and tells its format: a stax code bank or a TrailStax code bank export. */
export async function openBank(file: string, stdin?: Readable): Promise<OpenedBank> {
  const { sample, input } = await peek(await openInput(file, stdin));
  const format: FormatId | null = detectFormat(sample);
  if (format === 'stax') {
    const lines = /^\ufeff?\s*\{[^\n]*\}\s*(\n|$)/.test(sample) && !/^\ufeff?\s*\{[^\n]*"entries"\s*:/.test(sample);
    return { format: 'stax', input, lines };
  }
  if (format === 'trailstax-codebank') return { format, input };
  const what = sample.trim() === '' ? 'the file is empty' : format === null ? 'not a code bank stax knows' : `a ${format} file, not a code bank`;
  throw new StaxError('FORMAT_UNKNOWN', `${what} (a stax code bank or a TrailStax code bank export)`, { file });
}

/** Verifies a stax code bank and folds its commits. */
export async function readStaxBank(opened: { input: Input; lines: boolean }): Promise<BankState> {
  const labels = new Map<string, LabelState>();
  const history = new Map<string, Commit[]>();
  const visitor: EntryVisitor = {
    header(header, report) {
      if (header.kind !== BANK_KIND) report.problem(null, 'HEADER_MISMATCH', `the chain's kind is ${JSON.stringify(header.kind)}, not "${BANK_KIND}": this is not a code bank`);
    },
    entry(index, entry, _computed, report, line) {
      const commit = toCommit(entry);
      if (typeof commit === 'string') {
        report.problem(index, 'MALFORMED', `entry ${index}: ${commit}`, line);
        return;
      }
      const list = history.get(commit.label) ?? [];
      list.push(commit);
      history.set(commit.label, list);
      const state = labels.get(commit.label);
      if (commit.action === REGISTER) {
        labels.set(commit.label, { label: commit.label, current: commit as LabelState['current'], revoked: null });
      } else if (state === undefined) {
        report.problem(index, 'MALFORMED', `entry ${index}: revokes ${JSON.stringify(commit.label)}, which was never registered`, line);
      } else {
        state.revoked = commit;
      }
    },
  };
  const options = { visitors: [visitor] };
  const report = opened.lines ? await verifyStaxLines(opened.input, options) : await verifyStaxDocument(opened.input, options);
  if (report.entries === 0 && report.valid) report.notes.push('the bank holds no commits yet');
  return { file: opened.input.path, report, trusted: report.valid, labels, history };
}

/** Reads the bank at `file`; a bank that does not exist yet is empty and trusted (for register). */
export async function readBankForWrite(file: string): Promise<BankState | null> {
  let opened: OpenedBank;
  try {
    opened = await openBank(file);
  } catch (err) {
    if (err instanceof StaxError && err.code === 'FILE_NOT_FOUND') return null;
    throw err;
  }
  if (opened.format !== 'stax') {
    throw new StaxError('USAGE', 'this is a TrailStax code bank export: stax verifies it (stax code verify --bank) but does not append to it', { file });
  }
  if (!opened.lines) throw new StaxError('USAGE', 'this bank is a single JSON document (an export): register into a JSON Lines bank', { file });
  return readStaxBank(opened);
}

const OCTAL = /^[0-7]{3,6}$/;
const TYPES: readonly string[] = ['file', 'symlink', 'inline'];

/** Reads a commit from a verified entry, checking every field: the file may still lie. */
export function toCommit(entry: ChainEntry): Commit | string {
  const { seq, ts, actor, action, hash } = entry;
  const label = entry.label;
  if (action !== REGISTER && action !== REVOKE) return `action ${JSON.stringify(action)} is not a code bank action`;
  if (typeof label !== 'string' || label === '') return '"label" must be a non-empty string';
  if (action === REVOKE) {
    const p = entry.payload as Record<string, unknown> | null;
    const reason = p !== null && typeof p === 'object' && typeof p.reason === 'string' ? p.reason : undefined;
    return reason === undefined ? { seq, ts, actor, action, label, hash } : { seq, ts, actor, action, label, hash, reason };
  }
  const record = toRecord(entry.payload);
  if (typeof record === 'string') return `${JSON.stringify(label)}: ${record}`;
  return { seq, ts, actor, action, label, hash, record };
}

function toRecord(p: unknown): CodeRecord | string {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return 'the payload is not an object';
  const r = p as Record<string, unknown>;
  if (typeof r.type !== 'string' || !TYPES.includes(r.type)) return '"type" must be file, symlink or inline';
  if (r.type === 'inline' ? r.path !== null : typeof r.path !== 'string' || r.path === '' || r.path.includes('\0')) {
    return r.type === 'inline' ? 'inline content has no "path"' : '"path" must be a non-empty string';
  }
  if (typeof r.integrity !== 'string' || parseIntegrity(r.integrity) === null) return '"integrity" must be an SRI string with sha512';
  if (!Number.isSafeInteger(r.size) || (r.size as number) < 0) return '"size" must be a non-negative integer';
  if (r.mode !== undefined && (typeof r.mode !== 'string' || !OCTAL.test(r.mode))) return '"mode" must be an octal string';
  if (r.type === 'symlink' && typeof r.target !== 'string') return 'a symlink needs its "target"';
  if (r.scope !== undefined && typeof r.scope !== 'string') return '"scope" must be a string';
  if (r.followed !== undefined && r.followed !== true) return '"followed" must be true when present';
  if (r.meta !== undefined) {
    if (r.meta === null || typeof r.meta !== 'object' || Array.isArray(r.meta)) return '"meta" must be an object';
    if (!Object.values(r.meta).every((v) => typeof v === 'string')) return '"meta" values must be strings';
  }
  return r as unknown as CodeRecord;
}

/** Parses an SRI string strictly; null unless it holds a sha512 digest. */
export function parseIntegrity(text: string): IntegrityMap | null {
  try {
    const parsed = ssri.parse(text, { strict: true });
    return parsed.sha512 !== undefined && parsed.sha512.length > 0 ? parsed : null;
  } catch {
    return null;
  }
}

/** Whether two integrity strings name the same bytes (ssri compares the strongest algorithm both have). */
export function sameIntegrity(a: string, b: string): boolean {
  const pa = parseIntegrity(a);
  const pb = parseIntegrity(b);
  return pa !== null && pb !== null && pa.match(pb) !== false;
}

/** The short form shown in tables: the algorithm and the first 16 base64 characters. */
export function shortIntegrity(integrity: string): string {
  const first = integrity.split(/\s+/)[0] ?? integrity;
  const dash = first.indexOf('-');
  return dash < 0 ? first.slice(0, 20) : `${first.slice(0, dash)}-${first.slice(dash + 1, dash + 17)}…`;
}

export function bankExclusions(bank: string, root: string): (abs: string) => boolean {
  const own = new Set([bank, `${bank}.lock`, `${bank}.lock.steal`]);
  const staxDir = join(root, '.stax');
  // The bank changes with every register, and so does everything else stax keeps in .stax/.
  return (abs) => own.has(abs) || isInside(abs, staxDir);
}
