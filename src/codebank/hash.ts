/**
 * Hashes files for the code bank: streaming (a 1 MiB buffer, never a whole-file read),
 * sha512 and sha256 in one pass, as an SRI string (`sha512-… sha256-…`) that ssri parses.
 * sha256 is kept beside sha512 so that TrailStax's `code_hash` (hex SHA-256) compares.
 *
 * What a file integrity checker must not get wrong:
 * - a file that changes while it is hashed: size and mtime are taken before and after, and
 *   reading stops as soon as more bytes arrive than the file had (`changed-during-hash`);
 * - a path swapped for a symlink or a FIFO between lstat and open: O_NOFOLLOW and
 *   O_NONBLOCK on the open, then the inode is compared;
 * - symlinks are recorded as links (the target string is hashed) unless followed;
 * - FIFOs, sockets and devices are never opened.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readlinkSync, statSync, type BigIntStats } from 'node:fs';

export const BUFFER_BYTES = 1 << 20;
export const ALGORITHMS = ['sha512', 'sha256'] as const;

export interface Digest {
  /** SRI string: `sha512-<base64> sha256-<base64>`. */
  integrity: string;
  /** Hex SHA-256, the form TrailStax records. */
  sha256: string;
  size: number;
}

export type SpecialType = 'directory' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'other';

export type HashResult =
  | (Digest & { status: 'hashed'; type: 'file'; mode: string; mtimeMs: number })
  | (Digest & { status: 'hashed'; type: 'symlink'; mode: string; target: string })
  | { status: 'missing'; reason: string }
  | { status: 'unreadable'; reason: string }
  | { status: 'changed-during-hash'; reason: string }
  | { status: 'special'; type: SpecialType; reason: string };

export interface HashJob {
  path: string;
  /** Hash what a symlink points to instead of the link itself. */
  follow: boolean;
}

class Hasher {
  private readonly sha512 = createHash('sha512');
  private readonly sha256 = createHash('sha256');
  size = 0;

  update(bytes: Buffer): void {
    this.sha512.update(bytes);
    this.sha256.update(bytes);
    this.size += bytes.length;
  }

  digest(): Digest {
    const s256 = this.sha256.digest();
    return {
      integrity: `sha512-${this.sha512.digest('base64')} sha256-${s256.toString('base64')}`,
      sha256: s256.toString('hex'),
      size: this.size,
    };
  }
}

/** The digest of bytes in memory (inline content, a symlink's target). */
export function digestBytes(data: Buffer | string): Digest {
  const h = new Hasher();
  h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  return h.digest();
}

export function modeString(mode: number | bigint): string {
  return (Number(mode) & 0o7777).toString(8).padStart(4, '0');
}

function specialType(st: BigIntStats): SpecialType {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'other';
}

function describeError(err: unknown): { missing: boolean; reason: string } {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return { missing: true, reason: 'no such file' };
    case 'ENOTDIR':
      return { missing: true, reason: 'a parent of this path is not a folder' };
    case 'EACCES':
    case 'EPERM':
      return { missing: false, reason: 'permission denied' };
    case 'ELOOP':
      return { missing: false, reason: 'too many levels of symbolic links (a symlink loop)' };
    default:
      return { missing: false, reason: e.message ?? String(err) };
  }
}

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Hashes one path synchronously. Runs in a worker thread (see hash-worker.ts) or, for a
 * few files, in the calling thread; `buf` is the caller's reusable 1 MiB buffer.
 */
export function hashPathSync(job: HashJob, buf: Buffer = Buffer.allocUnsafe(BUFFER_BYTES)): HashResult {
  const { path, follow } = job;
  let st: BigIntStats;
  try {
    st = lstatSync(path, { bigint: true });
  } catch (err) {
    const d = describeError(err);
    return d.missing ? { status: 'missing', reason: d.reason } : { status: 'unreadable', reason: d.reason };
  }
  if (st.isSymbolicLink()) {
    if (!follow) {
      let target: Buffer;
      try {
        target = readlinkSync(path, { encoding: 'buffer' });
      } catch (err) {
        const d = describeError(err);
        return d.missing ? { status: 'changed-during-hash', reason: 'the link was removed while it was read' } : { status: 'unreadable', reason: d.reason };
      }
      return { status: 'hashed', type: 'symlink', mode: modeString(st.mode), target: target.toString('utf8'), ...digestBytes(target) };
    }
    try {
      st = statSync(path, { bigint: true });
    } catch (err) {
      const d = describeError(err);
      return { status: 'unreadable', reason: d.missing ? 'a dangling symlink (its target does not exist)' : d.reason };
    }
  }
  if (!st.isFile()) return { status: 'special', type: specialType(st), reason: `a ${specialType(st).replace('-', ' ')}, not a file` };

  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS | (follow ? 0 : (constants.O_NOFOLLOW ?? 0)));
  } catch (err) {
    const d = describeError(err);
    if (d.missing || (err as NodeJS.ErrnoException).code === 'ELOOP') return { status: 'changed-during-hash', reason: 'the file was removed or replaced by a symlink while it was hashed' };
    return { status: 'unreadable', reason: d.reason };
  }
  try {
    const before = fstatSync(fd, { bigint: true });
    if (!before.isFile() || before.ino !== st.ino || before.dev !== st.dev) {
      return { status: 'changed-during-hash', reason: 'the file was replaced while it was hashed' };
    }
    const expected = Number(before.size);
    const h = new Hasher();
    for (;;) {
      const want = Math.min(buf.length, Math.max(expected - h.size + 1, 1));
      const n = readSync(fd, buf, 0, want, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      if (h.size > expected) return { status: 'changed-during-hash', reason: `the file grew while it was hashed (${expected} bytes when hashing began)` };
      // A short read that completes the size fstat gave is end of file (this saves a read per
      // small file); a short read before that (network file systems) just reads on. The fstat
      // below catches growth after this point.
      if (n < want && h.size === expected) break;
    }
    const after = fstatSync(fd, { bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || h.size !== expected) {
      return { status: 'changed-during-hash', reason: `the file changed while it was hashed (size ${expected} → ${after.size}, read ${h.size})` };
    }
    return { status: 'hashed', type: 'file', mode: modeString(before.mode), mtimeMs: Number(before.mtimeMs), ...h.digest() };
  } catch (err) {
    return { status: 'unreadable', reason: describeError(err).reason };
  } finally {
    closeSync(fd);
  }
}

/** Hashes a batch in the calling thread (what a worker does with each message). */
export function hashBatchSync(jobs: HashJob[], buf: Buffer): HashResult[] {
  return jobs.map((job) => hashPathSync(job, buf));
}
