/**
 * Watches a quarantine folder and inspects each envelope that lands in it.
 *
 * Tracehound writes an envelope in one go, but nothing guarantees a reader sees it whole:
 * a copy from another machine or a slow disk shows a growing file. An envelope is only
 * inspected once (a) its size has not changed for `settleMs` and (b) it is as long as its
 * header says (78 + compressedSize), or its first bytes already prove it is not an
 * envelope. A file that stops growing short of its declared length is inspected after
 * `incompleteAfterMs` without change, and is then reported as TRUNCATED.
 *
 * fs.watch is a hint, not a source of truth (it misses events on network file systems
 * and coalesces them everywhere), so the folder is also rescanned periodically.
 */
import { constants as fsConstants, watch, type FSWatcher } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaxError, fileError, type ErrorCode } from '../errors.js';
import { HEADER_LENGTH, MAGIC, MAX_COMPRESSED_SIZE, type EnvelopeVerdict } from './envelope.js';
import { envelopeFacts, inspectFolderFile, type EnvelopeFacts, type FileStamp } from './scan.js';
import { looksLikeEnvelopeName } from './signature.js';

export interface WatchOptions {
  /** Stops the watch; the summary is returned once it is aborted. */
  signal?: AbortSignal;
  /** Inspect what is in the folder (waiting for files still being written), then stop. */
  once?: boolean;
  /** How long a file's size must stay the same before it is read (default 500 ms). */
  settleMs?: number;
  /** How long a file may stay shorter than its declared length before it is TRUNCATED (default 10 s). */
  incompleteAfterMs?: number;
  /** How often pending files are checked (default 100 ms). */
  pollMs?: number;
  /** How often the whole folder is listed again (default 1 s). */
  rescanMs?: number;
  /** Called for each envelope, in the order they were decided. */
  onEvent(event: WatchEvent): void;
}

export type WatchEvent = EnvelopeEvent | UnreadableEvent;

export interface EnvelopeEvent {
  event: 'envelope';
  /** `added` the first time a name is inspected, `changed` when a file seen before changed. */
  change: 'added' | 'changed';
  /** When the verdict was reached (ISO 8601). */
  time: string;
  name: string;
  /** Milliseconds from first sight to inspection. */
  waitedMs: number;
  /** True when the file never reached its declared length and the wait timed out. */
  incomplete: boolean;
  envelope: EnvelopeFacts;
}

export interface UnreadableEvent {
  event: 'unreadable';
  time: string;
  name: string;
  code: ErrorCode;
  message: string;
}

export interface WatchSummary {
  directory: string;
  startedAt: string;
  stoppedAt: string;
  durationMs: number;
  envelopes: number;
  ok: number;
  failed: number;
  unreadable: number;
  byVerdict: Partial<Record<EnvelopeVerdict, number>>;
  /** Files still being written when the watch stopped (not inspected). */
  pending: string[];
}

interface Pending {
  firstSeen: number;
  changedAt: number;
  size: number;
  mtimeMs: number;
  change: 'added' | 'changed';
}

type Readiness = 'wait' | 'ready' | 'incomplete';

/** Whether the bytes so far can be judged: complete as declared, or already not an envelope. */
export function readiness(head: Buffer, size: number): 'complete' | 'growing' {
  const magic = head.subarray(0, Math.min(head.length, MAGIC.length));
  if (!magic.equals(MAGIC.subarray(0, magic.length))) return 'complete';
  if (size < 14 || head.length < 14) return 'growing';
  const compressedSize = head.readUInt32BE(10);
  // A claim the inspection refuses outright (TOO_LARGE) needs no waiting for.
  if (compressedSize > MAX_COMPRESSED_SIZE) return 'complete';
  return size >= HEADER_LENGTH + compressedSize ? 'complete' : 'growing';
}

export async function watchEvidence(directory: string, options: WatchOptions): Promise<WatchSummary> {
  const settleMs = options.settleMs ?? 500;
  const incompleteAfterMs = options.incompleteAfterMs ?? 10_000;
  const pollMs = options.pollMs ?? 100;
  const rescanMs = options.rescanMs ?? 1000;
  for (const [name, v] of [['settleMs', settleMs], ['incompleteAfterMs', incompleteAfterMs], ['pollMs', pollMs], ['rescanMs', rescanMs]] as const) {
    if (!Number.isFinite(v) || v < 0) throw new StaxError('USAGE', `${name}: expected a non-negative number, found ${v}`);
  }
  const signal = options.signal;
  const stopped = (): boolean => signal?.aborted === true;
  const started = Date.now();
  const pending = new Map<string, Pending>();
  /** The stamp each name had when it was last inspected. */
  const decided = new Map<string, FileStamp>();
  const dirty = new Set<string>();
  const summary: WatchSummary = {
    directory,
    startedAt: new Date(started).toISOString(),
    stoppedAt: '',
    durationMs: 0,
    envelopes: 0,
    ok: 0,
    failed: 0,
    unreadable: 0,
    byVerdict: {},
    pending: [],
  };

  const rescan = async (): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (err) {
      throw fileError(directory, err);
    }
    const present = new Set(names);
    for (const name of names) if (looksLikeEnvelopeName(name)) dirty.add(name);
    // Forget what is gone, so that a file written again under the same name is reported.
    for (const name of [...decided.keys()]) if (!present.has(name)) decided.delete(name);
    for (const name of [...pending.keys()]) if (!present.has(name)) pending.delete(name);
  };

  const consider = async (name: string, now: number): Promise<void> => {
    let info;
    try {
      info = await lstat(join(directory, name));
    } catch {
      pending.delete(name);
      decided.delete(name);
      return;
    }
    if (!info.isFile()) return; // links and folders are never followed
    const seen = decided.get(name);
    if (seen !== undefined && seen.size === info.size && seen.mtimeMs === info.mtimeMs && seen.ino === info.ino) return;
    if (!pending.has(name)) {
      pending.set(name, { firstSeen: now, changedAt: now, size: info.size, mtimeMs: info.mtimeMs, change: seen === undefined ? 'added' : 'changed' });
    }
  };

  const check = async (name: string, p: Pending, now: number): Promise<Readiness> => {
    const path = join(directory, name);
    let info;
    try {
      info = await lstat(path);
    } catch {
      pending.delete(name);
      return 'wait';
    }
    if (!info.isFile()) {
      pending.delete(name);
      return 'wait';
    }
    if (info.size !== p.size || info.mtimeMs !== p.mtimeMs) {
      p.size = info.size;
      p.mtimeMs = info.mtimeMs;
      p.changedAt = now;
    }
    const quiet = now - p.changedAt;
    if (quiet < settleMs) return 'wait';
    const head = await readHead(path);
    if (head === 'gone') {
      pending.delete(name);
      return 'wait';
    }
    // Unreadable: no use waiting; the inspection reports why.
    if (head === 'unreadable' || readiness(head, p.size) === 'complete') return 'ready';
    return quiet >= incompleteAfterMs ? 'incomplete' : 'wait';
  };

  const decide = async (name: string, p: Pending, incomplete: boolean): Promise<void> => {
    pending.delete(name);
    const time = (): string => new Date().toISOString();
    try {
      const got = await inspectFolderFile(join(directory, name), name, { maxPayloadBytes: 0 });
      if (got === null) return;
      decided.set(name, got.stamp);
      const envelope = envelopeFacts(got.report);
      summary.envelopes++;
      if (envelope.verdict === 'OK') summary.ok++;
      else summary.failed++;
      summary.byVerdict[envelope.verdict] = (summary.byVerdict[envelope.verdict] ?? 0) + 1;
      options.onEvent({ event: 'envelope', change: p.change, time: time(), name, waitedMs: Date.now() - p.firstSeen, incomplete, envelope });
    } catch (err) {
      if (!(err instanceof StaxError)) throw err;
      if (err.code === 'FILE_NOT_FOUND') return;
      // Remember it, so an unreadable file is reported once, not at every rescan.
      const info = await lstat(join(directory, name)).catch(() => null);
      if (info !== null) decided.set(name, { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino });
      summary.unreadable++;
      options.onEvent({ event: 'unreadable', time: time(), name, code: err.code, message: err.message });
    }
  };

  let watcher: FSWatcher | undefined;
  if (options.once !== true) {
    try {
      watcher = watch(directory, { persistent: false }, (_type, filename) => {
        if (filename === null) dirty.add('\0rescan');
        else if (looksLikeEnvelopeName(String(filename))) dirty.add(String(filename));
      });
      // Watching can fail later (folder removed, too many watches): the rescans carry on.
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined;
    }
  }

  try {
    await rescan();
    let lastRescan = Date.now();
    while (!stopped()) {
      const now = Date.now();
      if (dirty.delete('\0rescan') || now - lastRescan >= rescanMs) {
        await rescan();
        lastRescan = now;
      }
      const names = [...dirty].sort();
      dirty.clear();
      for (const name of names) await consider(name, now);
      const ready: Array<[string, Pending, boolean]> = [];
      for (const [name, p] of [...pending].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const state = await check(name, p, now);
        if (state !== 'wait') ready.push([name, p, state === 'incomplete']);
      }
      for (const [name, p, incomplete] of ready) {
        if (stopped()) break;
        await decide(name, p, incomplete);
      }
      if (options.once === true && pending.size === 0 && dirty.size === 0) break;
      try {
        await sleep(pollMs, undefined, signal === undefined ? {} : { signal });
      } catch {
        break; // aborted
      }
    }
  } finally {
    watcher?.close();
  }
  const end = Date.now();
  summary.stoppedAt = new Date(end).toISOString();
  summary.durationMs = end - started;
  summary.pending = [...pending.keys()].sort();
  return summary;
}

const OPEN_FLAGS = fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** The first 78 bytes of a file, without following links. */
async function readHead(path: string): Promise<Buffer | 'gone' | 'unreadable'> {
  let fh;
  try {
    fh = await open(path, OPEN_FLAGS);
    const buf = Buffer.alloc(HEADER_LENGTH);
    const { bytesRead } = await fh.read(buf, 0, HEADER_LENGTH, 0);
    return buf.subarray(0, bytesRead);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
