/**
 * Checks the files of a TrailStax code bank export (`codebank.py export()`) the way
 * TrailStax does, after verifying the export's chain: each commit records a bare `label`
 * (the file name), an absolute `file_path` on the machine that registered it, and
 * `code_hash`, the hex SHA-256 of the file's bytes; inline content is recorded with
 * `file_path` "<inline>" and cannot be checked from disk.
 *
 * TrailStax looks files up by label alone, so two files with the same name in different
 * folders (two `utils.py`) collide: the later commit hides the earlier one, and TrailStax
 * then checks only one of them. Such collisions are reported, and each file is still
 * checked on its own.
 */
import { isAbsolute, resolve } from 'node:path';
import { isHex64 } from '../chain/report.js';
import type { Input } from '../io/input.js';
import { CODEBANK, verifyTrailStax } from '../formats/trailstax.js';
import { JsonNumber, type JsonObject } from '../json/value.js';
import { digestBytes, type HashResult } from './hash.js';
import { hashMany } from './pool.js';
import { finish, untrustedResult, type CodeCheck, type CodeVerifyResult } from './result.js';
import { isInside } from './walk.js';
import type { CodeVerifyOptions } from './verify.js';

export const INLINE_PATH = '<inline>';
const HEX64 = /^[0-9a-f]{64}$/;

/** Replaces the prefix `from` of recorded absolute paths with the local folder `to`. */
export interface Rebase {
  from: string;
  to: string;
}

interface TsCommit {
  index: number;
  label: string;
  codeHash: string;
  filePath: string;
  sequence: string;
}

export async function verifyTrailStaxBank(input: Input, options: CodeVerifyOptions): Promise<CodeVerifyResult> {
  const commits: TsCommit[] = [];
  const odd: string[] = [];
  const chain = await verifyTrailStax(input, CODEBANK, (index, entry: JsonObject) => {
    const label = entry.get('label');
    const codeHash = entry.get('code_hash');
    const filePath = entry.get('file_path');
    const seq = entry.get('sequence');
    if (typeof label !== 'string' || typeof codeHash !== 'string' || typeof filePath !== 'string') {
      odd.push(`commit ${index}: label, code_hash and file_path must be strings; it was not checked`);
      return;
    }
    commits.push({ index, label, codeHash, filePath, sequence: seq instanceof JsonNumber ? seq.raw : String(index) });
  });
  if (!chain.valid) return untrustedResult(options.bank, 'trailstax-codebank', null, chain);

  const notes = [...odd];
  const items: CodeCheck[] = [];
  const rebases = [...(options.rebase ?? [])].sort((a, b) => b.from.length - a.from.length);
  const restrict = (options.paths ?? []).map((p) => resolve(options.cwd, p));
  const contents = new Map((options.contents ?? []).map((c) => [c.label, c.text]));

  // Latest commit for each (label, file_path): TrailStax keeps only the latest per label.
  const byLabel = new Map<string, Map<string, TsCommit>>();
  for (const c of commits) {
    const paths = byLabel.get(c.label) ?? new Map<string, TsCommit>();
    paths.delete(c.filePath);
    paths.set(c.filePath, c);
    byLabel.set(c.label, paths);
  }

  const toHash: Array<{ commit: TsCommit; local: string }> = [];
  for (const [label, paths] of byLabel) {
    if (paths.size > 1) {
      const list = [...paths.values()].map((c) => `${c.filePath} (commit ${c.sequence})`).join(', ');
      const last = [...paths.values()].pop()!;
      items.push({
        status: 'collision',
        ok: false,
        label,
        path: null,
        detail: `${paths.size} files share the label ${JSON.stringify(label)}: ${list}; TrailStax looks files up by label, so it checks only ${last.filePath}`,
      });
    }
    for (const c of paths.values()) {
      const expected = { type: 'file', integrity: sriFromHex(c.codeHash), size: -1, seq: c.index };
      if (c.filePath === INLINE_PATH) {
        if (restrict.length > 0) continue;
        const text = contents.get(label);
        if (text === undefined) {
          items.push({ status: 'inline', ok: true, label, path: c.filePath, detail: 'inline content: not on disk (check it with --content LABEL=TEXT)', expected });
        } else {
          const d = digestBytes(text);
          const found = { type: 'inline', integrity: d.integrity, size: d.size };
          items.push(d.sha256 === c.codeHash
            ? { status: 'ok', ok: true, label, path: c.filePath, detail: 'inline content matches', expected, found }
            : { status: 'modified', ok: false, label, path: c.filePath, detail: `content changed: sha256 ${short(c.codeHash)} → ${short(d.sha256)} (${d.size} B)`, expected, found });
        }
        continue;
      }
      const moved = rebase(c.filePath, rebases, options.cwd);
      if (moved === null && rebases.length > 0) notes.push(`${c.filePath}: not under any --rebase prefix; checked where it is`);
      const where = moved?.local ?? resolve(options.cwd, c.filePath);
      if (moved !== null && !isInside(where, moved.base)) {
        // `..` in a recorded path must not lead a re-rooted check out of the folder given.
        items.push({ status: 'unreadable', ok: false, label, path: c.filePath, checked: where, detail: 'the recorded path leaves the re-rooted folder (..): not checked', expected });
        continue;
      }
      if (restrict.length > 0 && !restrict.some((r) => isInside(where, r))) continue;
      toHash.push({ commit: c, local: where });
    }
  }
  if (rebases.length === 0 && toHash.some((t) => isAbsolute(t.commit.filePath))) {
    notes.push('paths are the absolute paths recorded on the machine that registered them; use --rebase OLD=NEW to check a copy elsewhere');
  }

  const hashed = await hashMany(toHash.map((t) => ({ path: t.local, follow: true })), { threads: options.threads, onProgress: options.onProgress });
  toHash.forEach(({ commit: c, local }, i) => {
    items.push(check(c, local, hashed[i]!));
  });
  const key = (i: CodeCheck): string => `${i.label ?? ''}\u0000${i.status === 'collision' ? '' : (i.path ?? '')}`;
  items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return finish({ bank: options.bank, format: 'trailstax-codebank', root: null, chain, trusted: true, items, notes });
}

function check(c: TsCommit, local: string, h: HashResult): CodeCheck {
  const base = { label: c.label, path: c.filePath, checked: local, expected: { type: 'file', integrity: sriFromHex(c.codeHash), size: -1, seq: c.index } };
  switch (h.status) {
    case 'missing':
      return { ...base, status: 'missing', ok: false, detail: `missing: ${h.reason}` };
    case 'unreadable':
      return { ...base, status: 'unreadable', ok: false, detail: h.reason };
    case 'changed-during-hash':
      return { ...base, status: 'changed-during-hash', ok: false, detail: h.reason };
    case 'special':
      return { ...base, status: 'modified', ok: false, detail: `now ${h.reason.replace(/, not a file$/, '')}` };
    case 'hashed':
      break;
  }
  const found = { type: h.type, integrity: h.integrity, size: h.size, mode: h.mode };
  if (!HEX64.test(c.codeHash)) return { ...base, status: 'modified', ok: false, detail: `the recorded code_hash is not a hex SHA-256 digest: ${JSON.stringify(c.codeHash.slice(0, 80))}`, found };
  if (h.sha256 === c.codeHash) return { ...base, status: 'ok', ok: true, detail: `${h.size} B, sha256 ${short(h.sha256)}`, found };
  return { ...base, status: 'modified', ok: false, detail: `content changed: sha256 ${short(c.codeHash)} → ${short(h.sha256)} (${h.size} B)`, found };
}

/** Re-roots a recorded path; null when no prefix applies. `base` is the local folder it went to. */
export function rebase(filePath: string, rebases: readonly Rebase[], cwd: string): { local: string; base: string } | null {
  for (const r of rebases) {
    const from = r.from.length > 1 ? r.from.replace(/\/+$/, '') : r.from;
    if (filePath === from || filePath.startsWith(from === '/' ? '/' : `${from}/`)) {
      const rest = filePath.slice(from === '/' ? 1 : from.length).replace(/^\/+/, '');
      const base = resolve(cwd, r.to);
      return { local: resolve(base, ...rest.split('/').filter((s) => s !== '')), base };
    }
  }
  return null;
}

function sriFromHex(hex: string): string {
  return isHex64(hex) ? `sha256-${Buffer.from(hex, 'hex').toString('base64')}` : '';
}

function short(hex: string): string {
  return `${hex.slice(0, 12)}…`;
}
