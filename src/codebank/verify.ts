/**
 * `stax code verify`: the bank's chain first (a bank that does not verify is reported as
 * tampered and no verdict about files is given), then every registered label against the
 * disk, then the registered folders for files nobody registered.
 *
 * Unlike hashdeep's audit mode, which reports an edited file as "no match" plus "known
 * file not used" and a moved file as two unrelated lines, every label gets one verdict:
 * `modified` with old and new digest and size, `moved` with the new path (the label's file
 * is gone and an unregistered file under a registered folder has exactly its content).
 */
import type { Readable } from 'node:stream';
import { StaxError } from '../errors.js';
import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { bankExclusions, openBank, parseIntegrity, readStaxBank, sameIntegrity, shortIntegrity, type BankState, type CodeRecord } from './bank.js';
import { digestBytes, type HashJob, type HashResult } from './hash.js';
import { hashMany, type Progress } from './pool.js';
import { contentChange, finish, untrustedResult, type CodeCheck, type CodeVerifyResult, type FileFacts } from './result.js';
import { fromLabel, isInside, toLabel, walkScope, type WalkOptions } from './walk.js';
import { verifyTrailStaxBank, type Rebase } from './trailstax.js';

export interface CodeVerifyOptions {
  bank: string;
  root: string;
  cwd: string;
  /** Restrict to labels (and new files) under these paths. */
  paths?: readonly string[];
  followSymlinks?: boolean;
  threads?: number;
  /** Inline content to check against inline labels. */
  contents?: ReadonlyArray<{ label: string; text: string }>;
  /** TrailStax exports: re-root absolute paths recorded on the original machine. */
  rebase?: readonly Rebase[];
  onProgress?: (p: Progress) => void;
  stdin?: Readable;
}

export async function verifyCode(options: CodeVerifyOptions): Promise<CodeVerifyResult> {
  const opened = await openBank(options.bank, options.stdin);
  if (opened.format === 'trailstax-codebank') return verifyTrailStaxBank(opened.input, options);
  if ((options.rebase ?? []).length > 0) throw new StaxError('USAGE', '--rebase is for TrailStax exports, whose paths are absolute; a stax bank records paths relative to its root (use --root)');
  const state = await readStaxBank(opened);
  if (!state.trusted) return untrustedResult(options.bank, 'stax', options.root, state.report);
  return verifyStaxBank(state, options);
}

interface Expect {
  label: string;
  record: CodeRecord;
  seq: number;
  abs: string;
}

async function verifyStaxBank(state: BankState, options: CodeVerifyOptions): Promise<CodeVerifyResult> {
  const { root } = options;
  const restrict = (options.paths ?? []).map((p) => resolve(options.cwd, p));
  const within = (abs: string): boolean => restrict.length === 0 || restrict.some((r) => isInside(abs, r) || isInside(r, abs));
  const strictlyWithin = (abs: string): boolean => restrict.length === 0 || restrict.some((r) => isInside(abs, r));
  const contents = new Map((options.contents ?? []).map((c) => [c.label, c.text]));
  const items: CodeCheck[] = [];
  const notes: string[] = [];
  const claimed = new Set<string>();
  const expects: Expect[] = [];
  const scopes = new Set<string>();

  for (const s of state.labels.values()) {
    const { record, seq } = s.current;
    const expected = { ...facts(record), seq };
    if (record.path === null) {
      if (restrict.length > 0) continue;
      const text = contents.get(s.label);
      contents.delete(s.label);
      if (s.revoked !== null) {
        items.push({ status: 'revoked', ok: true, label: s.label, path: null, detail: revokedDetail(s.revoked, false), expected });
      } else if (text === undefined) {
        items.push({ status: 'inline', ok: true, label: s.label, path: null, detail: 'inline content: not on disk (check it with --content LABEL=TEXT)', expected });
      } else {
        const d = digestBytes(text);
        const same = sameIntegrity(record.integrity, d.integrity) && d.size === record.size;
        const found = { type: 'inline', integrity: d.integrity, size: d.size };
        items.push(same
          ? { status: 'ok', ok: true, label: s.label, path: null, detail: 'inline content matches', expected, found }
          : { status: 'modified', ok: false, label: s.label, path: null, detail: contentChange(record, found), expected, found });
      }
      continue;
    }
    const abs = fromLabel(root, record.path);
    claimed.add(abs);
    if (!strictlyWithin(abs)) continue;
    if (s.revoked !== null) {
      const present = exists(abs);
      items.push({ status: 'revoked', ok: !present, label: s.label, path: record.path, detail: revokedDetail(s.revoked, present), expected });
      continue;
    }
    if (record.scope !== undefined) scopes.add(record.scope);
    expects.push({ label: s.label, record, seq, abs });
  }
  for (const label of contents.keys()) items.push({ status: 'new', ok: false, label, path: null, detail: 'no inline content is registered under this label' });

  // Files under registered folders that no label claims.
  const follow = options.followSymlinks === true;
  const walkOptions: WalkOptions = { followSymlinks: follow || expects.some((e) => e.record.followed === true), exclude: bankExclusions(options.bank, root) };
  const unclaimed = new Map<string, HashJob>();
  for (const scope of scopes) {
    const base = fromLabel(root, scope.split('/').filter((seg) => !/[*?]/.test(seg)).join('/') || '.');
    if (!within(base)) continue;
    const walked = walkScope(scope, root, walkOptions);
    for (const f of walked.files) {
      if (!claimed.has(f.path) && strictlyWithin(f.path)) unclaimed.set(f.path, { path: f.path, follow: walkOptions.followSymlinks });
    }
    for (const s of walked.skipped) {
      if (!strictlyWithin(s.path)) continue;
      const rel = toLabel(root, s.path);
      if (s.kind === 'unreadable') items.push({ status: 'unreadable', ok: false, label: null, path: rel, detail: s.reason });
      else notes.push(`${rel}: ${s.reason}`);
    }
  }

  const hashed = await hashMany(expects.map((e) => ({ path: e.abs, follow: follow || e.record.followed === true })), { threads: options.threads, onProgress: options.onProgress });
  const missing: Array<{ e: Expect; index: number }> = [];
  expects.forEach((e, i) => {
    const check = compare(e, hashed[i]!);
    if (check.status === 'missing') missing.push({ e, index: items.length });
    items.push(check);
  });

  // Moves: only worth hashing the unregistered files when some label's file is gone.
  const newJobs = [...unclaimed.values()];
  const newHashes: Array<HashResult | undefined> = missing.length > 0 ? await hashMany(newJobs, { threads: options.threads, onProgress: options.onProgress }) : [];
  // Index the unregistered files by content, so that a renamed folder of 10,000 files is
  // matched in linear time; each file can be the new home of one label only.
  const byContent = new Map<string, number[]>();
  newHashes.forEach((h, k) => {
    if (h?.status !== 'hashed') return;
    const key = contentKey(h.type, h.size, h.integrity);
    if (key === null) return;
    const list = byContent.get(key) ?? [];
    list.push(k);
    byContent.set(key, list);
  });
  const consumed = new Set<number>();
  for (const { e, index } of missing) {
    const key = contentKey(e.record.type, e.record.size, e.record.integrity);
    const j = key === null ? undefined : byContent.get(key)?.shift();
    if (j === undefined) continue;
    consumed.add(j);
    const to = toLabel(root, newJobs[j]!.path);
    const prev = items[index]!;
    items[index] = { ...prev, status: 'moved', ok: false, movedTo: to, detail: `moved to ${to} (same content, not registered there)` };
  }
  newJobs.forEach((job, k) => {
    if (consumed.has(k)) return;
    const h = newHashes[k];
    const found = h?.status === 'hashed' ? foundFacts(h) : undefined;
    const detail = found === undefined ? 'not registered' : `not registered (${found.size} B, ${shortIntegrity(found.integrity)})`;
    items.push(found === undefined ? { status: 'new', ok: false, label: null, path: toLabel(root, job.path), detail } : { status: 'new', ok: false, label: null, path: toLabel(root, job.path), detail, found });
  });
  items.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return finish({ bank: options.bank, format: 'stax', root, chain: state.report, trusted: true, items, notes });
}

function order(c: CodeCheck): string {
  return c.path ?? c.label ?? '';
}

/** Type, size and sha512 digest: what a moved file must share with its label's record. */
function contentKey(type: string, size: number, integrity: string): string | null {
  const digest = parseIntegrity(integrity)?.sha512?.[0]?.digest;
  return digest === undefined ? null : `${type}\u0000${size}\u0000${digest}`;
}

function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}

function revokedDetail(revoked: { seq: number; actor: string; ts: string; reason?: string }, present: boolean): string {
  const why = revoked.reason === undefined ? '' : ` (${revoked.reason})`;
  return `revoked at seq ${revoked.seq} by ${revoked.actor}${why}${present ? ', but the file is still there' : ''}`;
}

function facts(r: CodeRecord): FileFacts {
  const f: FileFacts = { type: r.type, integrity: r.integrity, size: r.size };
  if (r.mode !== undefined) f.mode = r.mode;
  if (r.target !== undefined) f.target = r.target;
  return f;
}

function foundFacts(h: Extract<HashResult, { status: 'hashed' }>): FileFacts {
  const f: FileFacts = { type: h.type, integrity: h.integrity, size: h.size, mode: h.mode };
  if (h.type === 'symlink') f.target = h.target;
  return f;
}

function compare(e: Expect, h: HashResult): CodeCheck {
  const { record } = e;
  const base = { label: e.label, path: record.path, expected: { ...facts(record), seq: e.seq } };
  switch (h.status) {
    case 'missing':
      return { ...base, status: 'missing', ok: false, detail: `missing: ${h.reason}` };
    case 'unreadable':
      return { ...base, status: 'unreadable', ok: false, detail: h.reason };
    case 'changed-during-hash':
      return { ...base, status: 'changed-during-hash', ok: false, detail: h.reason };
    case 'special':
      return { ...base, status: 'modified', ok: false, detail: `was a ${record.type}, now ${h.reason.replace(/, not a file$/, '')}` };
    case 'hashed':
      break;
  }
  const found = foundFacts(h);
  const changes: string[] = [];
  if (h.type !== record.type) {
    changes.push(h.type === 'symlink' ? `was a ${record.type}, now a symlink to ${h.target}` : `was a symlink to ${record.target ?? '?'}, now a file`);
  } else if (h.type === 'symlink') {
    if (h.target !== record.target) changes.push(`symlink target ${record.target ?? '?'} → ${h.target}`);
  } else {
    if (h.size !== record.size || !sameIntegrity(record.integrity, h.integrity)) changes.push(contentChange(record, h));
    if (record.mode !== undefined && h.mode !== record.mode) changes.push(`mode ${record.mode} → ${h.mode}`);
  }
  if (changes.length === 0) return { ...base, status: 'ok', ok: true, detail: `${h.size} B, ${shortIntegrity(h.integrity)}`, found };
  return { ...base, status: 'modified', ok: false, detail: changes.join('; '), found };
}
