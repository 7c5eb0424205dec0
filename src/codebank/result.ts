/**
 * What `stax code verify` returns, for a stax bank and a TrailStax export alike. `--json`
 * prints this object as it is, so its shape is part of the public interface.
 */
import type { VerifyReport } from '../chain/report.js';
import { shortIntegrity } from './bank.js';

export type CodeStatus =
  | 'ok'
  | 'modified'
  | 'missing'
  | 'moved'
  | 'new'
  | 'revoked'
  | 'unreadable'
  | 'changed-during-hash'
  | 'inline'
  | 'collision';

export interface FileFacts {
  type: string;
  integrity: string;
  size: number;
  mode?: string;
  target?: string;
}

export interface CodeCheck {
  status: CodeStatus;
  /** Whether this verdict lets the check pass. */
  ok: boolean;
  label: string | null;
  /** For a stax bank: the path relative to the root; for a TrailStax export: the recorded file_path. */
  path: string | null;
  detail: string;
  /** What the bank recorded, with the commit's sequence number. */
  expected?: FileFacts & { seq: number };
  /** What is on disk now. */
  found?: FileFacts;
  /** `moved`: where the content is now (relative to the root). */
  movedTo?: string;
  /** TrailStax: the local path checked after --rebase. */
  checked?: string;
}

export interface CodeVerifyResult {
  bank: string;
  format: 'stax' | 'trailstax-codebank';
  /** The folder labels are relative to (stax banks only). */
  root: string | null;
  /** The bank's own chain verification. */
  chain: VerifyReport;
  /** False when the chain does not verify: then `items` is empty. */
  trusted: boolean;
  items: CodeCheck[];
  counts: Partial<Record<CodeStatus, number>>;
  ok: boolean;
  /** Things skipped or worth knowing: FIFOs, symlink loops, revoked labels. */
  notes: string[];
}

export function untrustedResult(bank: string, format: CodeVerifyResult['format'], root: string | null, chain: VerifyReport): CodeVerifyResult {
  return { bank, format, root, chain, trusted: false, items: [], counts: {}, ok: false, notes: ['bank tampered: its chain does not verify, so no verdict about files is given'] };
}

export function finish(base: Omit<CodeVerifyResult, 'counts' | 'ok'>): CodeVerifyResult {
  const counts: Partial<Record<CodeStatus, number>> = {};
  for (const i of base.items) counts[i.status] = (counts[i.status] ?? 0) + 1;
  return { ...base, counts, ok: base.trusted && base.items.every((i) => i.ok) };
}

export function contentChange(was: { integrity: string; size: number }, now: { integrity: string; size: number }): string {
  return `content changed: ${shortIntegrity(was.integrity)} ${was.size} B → ${shortIntegrity(now.integrity)} ${now.size} B`;
}

