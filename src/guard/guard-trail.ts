/**
 * The guard trail (`.stax/guard.jsonl`): a stax chain of kind `guard` that records every
 * allowlist change (`allowlist.change`) and every install decision (`install.check`).
 *
 * Its newest `allowlist.change` names the serial and digest of the allowlist in force; a
 * check compares the allowlist on disk with it, which is what catches an older, validly
 * signed allowlist put back in place (a rollback) or one swapped in from another project.
 * The trail is a hash chain without signatures: whoever can rewrite it whole, or cut off
 * its tail together with rolling the allowlist back, is not detected by this alone.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ChainWriter } from '../chain/writer.js';
import type { ChainEntry } from '../chain/entry.js';
import type { ReportBuilder } from '../chain/report.js';
import { Exit, StaxError } from '../errors.js';
import type { EntryVisitor } from '../formats/stax.js';
import { verifyStaxFile } from '../formats/verify.js';
import { PROJECT_DIR, defaultOrigin } from '../trail/paths.js';
import { GuardError } from './allowlist.js';

export const GUARD_TRAIL_KIND = 'guard';
export const DEFAULT_GUARD_TRAIL = join(PROJECT_DIR, 'guard.jsonl');
export const ALLOWLIST_CHANGE = 'allowlist.change';
export const INSTALL_CHECK = 'install.check';

export interface AllowlistChange {
  op: 'approve' | 'revoke' | 'sign';
  /** The package; absent for `sign` and for host changes. */
  name?: string;
  version?: string;
  range?: string;
  source?: string;
  /** A registry host added to (approve) or removed from (revoke) `hosts`. */
  host?: string;
}

export interface AllowlistChangePayload {
  serial: number;
  /** `sha256-<base64>` of the allowlist's canonical bytes. */
  digest: string;
  changes: AllowlistChange[];
}

export interface InstallCheckPayload {
  lockfile: string | null;
  lockfileDigest: string | null;
  /** The npm version that was about to run, when known. */
  npm: string | null;
  command: string;
  allowed: boolean;
  blocked: Array<{ name: string; version: string; codes: string[] }>;
  failOpen: boolean;
  /** The failure that kept the check from running: under --fail-open it let the install go on, otherwise it blocked it. */
  error?: { code: string; message: string };
}

export interface GuardTrailState {
  file: string;
  entries: number;
  head: string | null;
  /** The newest allowlist.change, or null when the trail has none. */
  latest: { serial: number; digest: string; index: number } | null;
}

/**
 * Verifies the whole chain (hashes, links, sequence) and finds the newest allowlist.change
 * on the way, streaming. A trail that does not verify is a failed check (exit 1).
 */
export async function readGuardTrail(file: string): Promise<GuardTrailState> {
  if (!existsSync(file)) {
    throw new GuardError(
      'GUARD_TRAIL_MISSING',
      'FILE_NOT_FOUND',
      'no guard trail, so a rolled-back allowlist cannot be told apart: restore it (it is written by stax approve and belongs with the allowlist), or pass --no-guard-trail to skip the rollback check',
      { file },
    );
  }
  // Written by the visitor while the chain streams past.
  const seen: { kind: string | null; latest: GuardTrailState['latest'] } = { kind: null, latest: null };
  const visitor: EntryVisitor = {
    header(h) {
      seen.kind = h.kind;
    },
    entry(index: number, e: ChainEntry, _hash: string, report: ReportBuilder, line?: number) {
      if (e.action !== ALLOWLIST_CHANGE) return;
      const p = e.payload as Partial<AllowlistChangePayload> | null;
      if (p === null || typeof p !== 'object' || !Number.isSafeInteger(p.serial) || typeof p.digest !== 'string' || !/^sha256-[A-Za-z0-9+/]{43}=$/.test(p.digest)) {
        report.problem(index, 'MALFORMED', `entry ${index}: an allowlist.change without a whole-number serial and a sha256 digest`, line);
        return;
      }
      seen.latest = { serial: p.serial!, digest: p.digest, index };
    },
  };
  let report;
  try {
    report = await verifyStaxFile(file, { visitors: [visitor] });
  } catch (err) {
    if (err instanceof StaxError && err.code === 'FORMAT_UNKNOWN') {
      throw new GuardError('GUARD_TRAIL_INVALID', 'INPUT_INVALID', `not a guard trail: ${err.message}`, { file, exitCode: Exit.CHECK_FAILED });
    }
    throw err;
  }
  if (!report.valid) {
    const first = report.problems[0];
    throw new GuardError('GUARD_TRAIL_INVALID', 'INPUT_INVALID', `the guard trail does not verify (${report.problemCount} problem(s); first: ${first?.code ?? '?'} ${first?.message ?? ''}); run stax verify on it`, {
      file,
      exitCode: Exit.CHECK_FAILED,
    });
  }
  if (seen.kind !== GUARD_TRAIL_KIND) {
    throw new GuardError('GUARD_TRAIL_INVALID', 'INPUT_INVALID', `a stax chain of kind ${JSON.stringify(seen.kind)}, not a guard trail`, { file, exitCode: Exit.CHECK_FAILED });
  }
  return { file, entries: report.entries, head: report.head, latest: seen.latest };
}

/**
 * Throws unless the allowlist is the one the trail's newest change recorded: an older
 * serial is ROLLBACK; anything else that differs is ALLOWLIST_MISMATCH. Both exit 1.
 */
/**
 * Checks the allowlist against the guard trail's newest change. Returns a warning (and does
 * not fail) for exactly one case: an allowlist one serial ahead of the trail. approve writes
 * the allowlist, then appends its trail entry; a process killed in between leaves that
 * state, and only a holder of the signing key can make a valid next serial, so it is an
 * interrupted approve, not an attack. The next change records it.
 */
export function assertCurrent(state: GuardTrailState, serial: number, digest: string, allowlistFile: string): string | null {
  const fail = (reason: 'ROLLBACK' | 'ALLOWLIST_MISMATCH', message: string): GuardError =>
    new GuardError(reason, 'INPUT_INVALID', message, { file: allowlistFile, exitCode: Exit.CHECK_FAILED });
  const latest = state.latest;
  if (latest === null) {
    throw fail('ALLOWLIST_MISMATCH', `the guard trail ${state.file} records no allowlist change, so this allowlist (serial ${serial}) was not written by stax approve here`);
  }
  if (serial < latest.serial) {
    throw fail('ROLLBACK', `ROLLBACK: this allowlist is serial ${serial}, but the guard trail records serial ${latest.serial} (entry ${latest.index}): an older signed allowlist was put back. Restore the current one from version control`);
  }
  if (serial === latest.serial + 1) {
    return `this allowlist (serial ${serial}) is one change ahead of the guard trail (serial ${latest.serial}): an approval was interrupted before it was recorded; the next change (stax allowlist sign) records it`;
  }
  if (serial > latest.serial) {
    throw fail('ALLOWLIST_MISMATCH', `this allowlist is serial ${serial}, but the guard trail's newest change is serial ${latest.serial}: it was changed without the trail, or the trail was cut off`);
  }
  if (digest !== latest.digest) {
    throw fail('ALLOWLIST_MISMATCH', `this allowlist (serial ${serial}) is not the one the guard trail recorded at that serial (digest ${digest.slice(0, 19)}… vs ${latest.digest.slice(0, 19)}…): it was replaced, perhaps by another project's allowlist`);
  }
  return null;
}

export interface AppendOptions {
  actor: string;
  /** Used as the folder name of a new trail's origin. */
  cwd: string;
}

async function append(file: string, action: string, payload: unknown, o: AppendOptions): Promise<ChainEntry> {
  const writer = new ChainWriter(file, { create: { kind: GUARD_TRAIL_KIND, origin: defaultOrigin(o.cwd, GUARD_TRAIL_KIND) } });
  try {
    return await writer.append({ actor: o.actor, action, payload });
  } finally {
    await writer.close();
  }
}

export function appendAllowlistChange(file: string, payload: AllowlistChangePayload, o: AppendOptions): Promise<ChainEntry> {
  return append(file, ALLOWLIST_CHANGE, payload, o);
}

export function appendInstallCheck(file: string, payload: InstallCheckPayload, o: AppendOptions): Promise<ChainEntry> {
  return append(file, INSTALL_CHECK, payload, o);
}

/** `sha256-<base64>` of a file's bytes (a lockfile's, for install.check), or null when unreadable. */
export async function fileDigest(path: string): Promise<string | null> {
  try {
    return `sha256-${createHash('sha256').update(await readFile(path)).digest('base64')}`;
  } catch {
    return null;
  }
}
