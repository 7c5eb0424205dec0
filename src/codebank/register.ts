/**
 * `stax code register` and `stax code revoke`: hash what the user named and append one
 * commit per new or changed label, all in one appendMany (one lock, one fsync). A label
 * whose file is unchanged gets no commit. Labels are paths relative to the bank's root,
 * never bare file names: TrailStax's codebank.py keys by file name, so two `utils.py` in
 * different folders overwrite each other there.
 */
import { StaxError } from '../errors.js';
import { ChainWriter, type Durability, type NewEntry } from '../chain/writer.js';
import { REGISTER, REVOKE, BANK_KIND, bankExclusions, readBankForWrite, sameIntegrity, type BankState, type CodeRecord, type RecordType } from './bank.js';
import { digestBytes, type HashJob } from './hash.js';
import { hashMany, type Progress } from './pool.js';
import { expandArg, toLabel, type WalkOptions } from './walk.js';

export interface RegisterOptions {
  /** Absolute path of the bank file. */
  bank: string;
  /** Absolute path of the bank's root: labels are relative to it. */
  root: string;
  /** Where relative path arguments start from. */
  cwd: string;
  paths: readonly string[];
  /** A label for a single file instead of its path. */
  label?: string;
  meta?: Readonly<Record<string, string>>;
  /** Inline content to register under a label (a firewall rule, a prompt). */
  contents?: ReadonlyArray<{ label: string; text: string }>;
  followSymlinks?: boolean;
  threads?: number;
  actor: string;
  /** Origin for a bank that does not exist yet. */
  origin: string;
  durability?: Durability;
  onProgress?: (p: Progress) => void;
}

export type RegisterStatus = 'added' | 'updated' | 'unchanged' | 'unreadable' | 'changed-during-hash' | 'skipped';

export interface RegisterItem {
  status: RegisterStatus;
  label: string | null;
  /** Path relative to the root (POSIX), null for inline content. */
  path: string | null;
  type?: RecordType;
  integrity?: string;
  size?: number;
  mode?: string;
  target?: string;
  /** The registration this one replaces. */
  previous?: { seq: number; integrity: string; size: number };
  /** The commit appended for this label. */
  seq?: number;
  hash?: string;
  reason?: string;
}

export interface RegisterResult {
  bank: string;
  root: string;
  items: RegisterItem[];
  appended: number;
  counts: Record<RegisterStatus, number>;
  /** False when some file could not be registered. */
  ok: boolean;
}

interface Candidate {
  abs: string;
  label: string;
  path: string;
  scope?: string;
}

export function untrusted(state: BankState, file: string): StaxError {
  const first = state.report.problems[0];
  const what = first === undefined ? '' : `: ${first.message}`;
  return new StaxError('INPUT_INVALID', `bank tampered: the code bank's chain does not verify${what}; nothing was changed (run 'stax code verify' for every problem)`, { file, exitCode: 1 });
}

export async function registerCode(options: RegisterOptions): Promise<RegisterResult> {
  const contents = options.contents ?? [];
  if (options.paths.length === 0 && contents.length === 0) throw new StaxError('USAGE', 'name at least one file, folder or glob, or give --content');
  if (options.label !== undefined && (options.paths.length !== 1 || options.label === '')) {
    throw new StaxError('USAGE', '--label names one file: give exactly one path with it');
  }
  const state = await readBankForWrite(options.bank);
  if (state !== null && !state.trusted) throw untrusted(state, options.bank);

  const follow = options.followSymlinks === true;
  const walkOptions: WalkOptions = { followSymlinks: follow, exclude: bankExclusions(options.bank, options.root) };
  const items: RegisterItem[] = [];
  const candidates: Candidate[] = [];
  const seen = new Set<string>();
  for (const arg of options.paths) {
    const e = expandArg(arg, options.cwd, walkOptions);
    if (e.kind === 'missing') throw new StaxError('FILE_NOT_FOUND', 'no such file or folder', { file: arg });
    if (e.kind === 'glob' && e.files.length === 0 && e.skipped.length === 0) throw new StaxError('USAGE', 'the pattern matches no files', { file: arg });
    let scope: string | undefined;
    if (e.kind === 'folder') scope = toLabel(options.root, e.path);
    else if (e.kind === 'glob' && e.glob !== undefined) {
      const base = toLabel(options.root, e.glob.base);
      scope = base === '.' ? e.glob.rest : `${base}/${e.glob.rest}`;
    }
    if (options.label !== undefined && (e.files.length !== 1 || e.kind !== 'file')) {
      throw new StaxError('USAGE', '--label names one file, but this path is a folder or a pattern', { file: arg });
    }
    for (const s of e.skipped) {
      items.push({ status: s.kind === 'unreadable' ? 'unreadable' : 'skipped', label: null, path: toLabel(options.root, s.path), reason: s.reason });
    }
    for (const f of e.files) {
      const path = toLabel(options.root, f.path);
      const label = options.label ?? path;
      if (seen.has(label)) continue;
      seen.add(label);
      candidates.push(scope === undefined ? { abs: f.path, label, path } : { abs: f.path, label, path, scope });
    }
  }
  for (const c of contents) {
    if (c.label === '') throw new StaxError('USAGE', '--content needs a label: --content LABEL=TEXT');
    if (seen.has(c.label)) throw new StaxError('USAGE', `the label ${JSON.stringify(c.label)} is given twice`);
    seen.add(c.label);
  }

  const jobs: HashJob[] = candidates.map((c) => ({ path: c.abs, follow }));
  const hashed = await hashMany(jobs, { threads: options.threads, onProgress: options.onProgress });

  const entries: NewEntry[] = [];
  const pending: RegisterItem[] = [];
  const consider = (label: string, record: CodeRecord, item: RegisterItem): void => {
    const prev = state?.labels.get(label);
    const live = prev !== undefined && prev.revoked === null ? prev.current : undefined;
    if (live !== undefined && sameRecord(live.record, record, options.meta !== undefined)) {
      items.push({ ...item, status: 'unchanged', seq: live.seq, hash: live.hash });
      return;
    }
    if (live?.record.scope !== undefined && record.scope === undefined) record.scope = live.record.scope;
    const out: RegisterItem = { ...item, status: live === undefined ? 'added' : 'updated' };
    if (live !== undefined) out.previous = { seq: live.seq, integrity: live.record.integrity, size: live.record.size };
    entries.push({ actor: options.actor, action: REGISTER, extra: { label }, payload: record });
    pending.push(out);
    items.push(out);
  };

  candidates.forEach((c, i) => {
    const h = hashed[i]!;
    if (h.status !== 'hashed') {
      const status: RegisterStatus = h.status === 'changed-during-hash' ? 'changed-during-hash' : h.status === 'special' ? 'skipped' : 'unreadable';
      items.push({ status, label: c.label, path: c.path, reason: h.reason });
      return;
    }
    const record: CodeRecord = { path: c.path, type: h.type, integrity: h.integrity, size: h.size, mode: h.mode };
    if (h.type === 'symlink') record.target = h.target;
    if (follow) record.followed = true;
    if (c.scope !== undefined) record.scope = c.scope;
    if (options.meta !== undefined) record.meta = { ...options.meta };
    const item: RegisterItem = { status: 'added', label: c.label, path: c.path, type: h.type, integrity: h.integrity, size: h.size, mode: h.mode };
    if (h.type === 'symlink') item.target = h.target;
    consider(c.label, record, item);
  });
  for (const c of contents) {
    const d = digestBytes(c.text);
    const record: CodeRecord = { path: null, type: 'inline', integrity: d.integrity, size: d.size };
    if (options.meta !== undefined) record.meta = { ...options.meta };
    consider(c.label, record, { status: 'added', label: c.label, path: null, type: 'inline', integrity: d.integrity, size: d.size });
  }

  if (entries.length > 0) {
    const writer = new ChainWriter(options.bank, { create: { kind: BANK_KIND, origin: options.origin }, durability: options.durability ?? 'fsync' });
    const written = await writer.appendMany(entries);
    written.forEach((w, i) => {
      const item = pending[i]!;
      item.seq = w.seq;
      item.hash = w.hash;
    });
  }
  const counts = countBy(items);
  return {
    bank: options.bank,
    root: options.root,
    items,
    appended: entries.length,
    counts,
    ok: counts.unreadable === 0 && counts['changed-during-hash'] === 0,
  };
}

function countBy(items: RegisterItem[]): Record<RegisterStatus, number> {
  const counts: Record<RegisterStatus, number> = { added: 0, updated: 0, unchanged: 0, unreadable: 0, 'changed-during-hash': 0, skipped: 0 };
  for (const i of items) counts[i.status]++;
  return counts;
}

/** Whether registering `next` would record nothing new over `prev`. */
export function sameRecord(prev: CodeRecord, next: CodeRecord, metaGiven: boolean): boolean {
  if (prev.path !== next.path || prev.type !== next.type || prev.size !== next.size) return false;
  if (!sameIntegrity(prev.integrity, next.integrity)) return false;
  if (prev.type !== 'symlink' && prev.mode !== next.mode) return false;
  if (prev.target !== next.target || (prev.followed === true) !== (next.followed === true)) return false;
  if (next.scope !== undefined && prev.scope === undefined) return false;
  if (metaGiven && !sameMeta(prev.meta, next.meta)) return false;
  return true;
}

function sameMeta(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a?.[k] === b?.[k]);
}

export interface RevokeOptions {
  bank: string;
  labels: readonly string[];
  actor: string;
  reason?: string;
  durability?: Durability;
}

export interface RevokeItem {
  label: string;
  status: 'revoked' | 'already-revoked';
  seq: number;
  hash: string;
}

export interface RevokeResult {
  bank: string;
  items: RevokeItem[];
  appended: number;
}

export async function revokeCode(options: RevokeOptions): Promise<RevokeResult> {
  const state = await readBankForWrite(options.bank);
  if (state === null) throw new StaxError('FILE_NOT_FOUND', 'no code bank here yet (register files first)', { file: options.bank });
  if (!state.trusted) throw untrusted(state, options.bank);
  const items: RevokeItem[] = [];
  const entries: NewEntry[] = [];
  const pending: RevokeItem[] = [];
  for (const label of new Set(options.labels)) {
    const s = state.labels.get(label);
    if (s === undefined) throw new StaxError('USAGE', `no label ${JSON.stringify(label)} in the bank (labels are paths relative to the bank's root)`, { file: options.bank });
    if (s.revoked !== null) {
      items.push({ label, status: 'already-revoked', seq: s.revoked.seq, hash: s.revoked.hash });
      continue;
    }
    const item: RevokeItem = { label, status: 'revoked', seq: -1, hash: '' };
    entries.push({ actor: options.actor, action: REVOKE, extra: { label }, payload: options.reason === undefined ? { of: s.current.hash } : { of: s.current.hash, reason: options.reason } });
    items.push(item);
    pending.push(item);
  }
  if (entries.length > 0) {
    // `create` also makes the writer open with O_APPEND: without it, ChainWriter opens 'r+'
    // and writes at offset 0, over the header (a bug in src/chain/writer.ts, reported).
    const writer = new ChainWriter(options.bank, { create: { kind: BANK_KIND, origin: state.report.origin ?? 'localhost/codebank' }, durability: options.durability ?? 'fsync' });
    const written = await writer.appendMany(entries);
    written.forEach((w, i) => {
      pending[i]!.seq = w.seq;
      pending[i]!.hash = w.hash;
    });
  }
  return { bank: options.bank, items, appended: entries.length };
}
