/**
 * A cross-process lock beside a file, for serializing appends from separate processes.
 *
 * Node has no flock(), so the lock is a file created with O_EXCL that names its holder's
 * pid and host. A holder killed with SIGKILL leaves it behind; a waiter that finds the
 * holder dead (same host, pid gone) removes it, but only while holding a second,
 * short-lived "steal" lock, so that two waiters can never both remove the lock and then
 * both believe they hold it.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaxError, fileError } from '../errors.js';

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
}

const HOST = hostname();

export class FileLock {
  private held = false;

  constructor(readonly path: string) {}

  static for(file: string): FileLock {
    return new FileLock(`${file}.lock`);
  }

  async acquire(options: LockOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let delay = 1;
    for (;;) {
      if (this.tryCreate(this.path)) {
        this.held = true;
        return;
      }
      this.removeIfStale();
      if (Date.now() > deadline) {
        throw new StaxError('LOCK_TIMEOUT', `another process holds the lock ${this.path} (${this.describeHolder()}); try again, or remove the lock file if that process is gone`, { file: this.path });
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 25);
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone (removed by hand): nothing to release.
    }
  }

  private tryCreate(path: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fileError(path, err, 'create the lock');
    }
    try {
      writeSync(fd, `${process.pid} ${HOST} ${new Date().toISOString()}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private removeIfStale(): void {
    const holder = readHolder(this.path);
    if (holder === null || isAlive(holder, this.path)) return;
    const steal = `${this.path}.steal`;
    if (!this.tryCreate(steal)) {
      // A stealer that died holding the steal lock: its lock is stale after a few seconds.
      const s = readHolder(steal);
      if (s !== null && !isAlive(s, steal) && ageMs(steal) > 2_000) safeUnlink(steal);
      return;
    }
    try {
      const again = readHolder(this.path);
      if (again !== null && again.raw === holder.raw && !isAlive(again, this.path)) safeUnlink(this.path);
    } finally {
      safeUnlink(steal);
    }
  }

  private describeHolder(): string {
    const h = readHolder(this.path);
    return h === null ? 'holder unknown' : `pid ${h.pid} on ${h.host} since ${h.since}`;
  }
}

interface Holder {
  pid: number;
  host: string;
  since: string;
  raw: string;
}

function readHolder(path: string): Holder | null {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const [pid, host, since] = raw.trim().split(' ');
  const n = Number(pid);
  // A lock file being written right now can be empty for an instant: treat as alive.
  if (!Number.isSafeInteger(n) || n <= 0 || host === undefined) return { pid: 0, host: HOST, since: '?', raw: '' };
  return { pid: n, host, since: since ?? '?', raw };
}

function isAlive(h: Holder, path: string): boolean {
  // An empty lock is one being written this instant, or one whose writer died right
  // after creating it: give it two seconds.
  if (h.raw === '') return ageMs(path) < 2_000;
  if (h.host !== HOST) return true; // cannot tell for another machine: never steal
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}
