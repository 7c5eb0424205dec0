/**
 * Reads a trail for people: filters entries by action glob, actor and time while the
 * chain is verified in the same streaming pass, so what is shown is never silently
 * taken from a tampered file.
 */
import type { ChainEntry } from '../chain/entry.js';
import type { Problem } from '../chain/report.js';
import { StaxError } from '../errors.js';
import { verifyStaxFile } from '../formats/verify.js';
import type { Readable } from 'node:stream';

export interface ShowOptions {
  action?: string;
  actor?: string;
  since?: Date;
  until?: Date;
  limit?: number;
  reverse?: boolean;
  stdin?: Readable;
}

export interface ShowResult {
  file: string;
  valid: boolean;
  /** Entries in the trail. */
  total: number;
  /** Entries that matched the filters (before --limit). */
  matched: number;
  entries: ChainEntry[];
  problems: Problem[];
}

export async function showTrail(file: string, options: ShowOptions): Promise<ShowResult> {
  const actionRe = options.action === undefined ? null : globToRegExp(options.action);
  const since = options.since?.getTime();
  const until = options.until?.getTime();
  const limit = options.limit;
  // With --limit and no --reverse the first N suffice; with --reverse the last N: a ring.
  let kept: ChainEntry[] = [];
  let matched = 0;
  const report = await verifyStaxFile(file, {
    stdin: options.stdin,
    keyed: true,
    visitors: [
      {
        entry(_index, e) {
          if (actionRe !== null && !actionRe.test(e.action)) return;
          if (options.actor !== undefined && e.actor !== options.actor) return;
          if (since !== undefined || until !== undefined) {
            const t = Date.parse(e.ts);
            if (since !== undefined && t < since) return;
            if (until !== undefined && t > until) return;
          }
          matched++;
          if (limit === undefined) kept.push(e);
          else if (!options.reverse) {
            if (kept.length < limit) kept.push(e);
          } else {
            kept.push(e);
            if (kept.length > limit * 2) kept = kept.slice(-limit);
          }
        },
      },
    ],
  });
  if (options.reverse) {
    kept.reverse();
    if (limit !== undefined) kept = kept.slice(0, limit);
  }
  return { file, valid: report.valid, total: report.entries, matched, entries: kept, problems: report.problems };
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** An absolute time (ISO 8601) or a duration before now: `30m`, `12h`, `7d`, `90s`. */
export function parseTime(text: string, now = Date.now()): Date {
  const rel = /^(\d+)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (rel !== null) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    throw new StaxError('USAGE', `"${text}" is not a time: use an ISO 8601 time (2026-11-22T10:00:00Z, 2026-11-22) or a duration (30m, 12h, 7d)`);
  }
  return new Date(t);
}
