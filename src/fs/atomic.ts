/**
 * Writes a whole file atomically: to a temporary file in the same folder, synced, then
 * moved into place. Readers see the old file or the new one, never half of either, and a
 * crash leaves the old file intact. Without `overwrite`, the move is link(2), which fails
 * if the target appeared meanwhile, so an existing file is never clobbered.
 */
import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StaxError, fileError } from '../errors.js';

export interface AtomicOptions {
  /** Replace an existing file (default: refuse). */
  overwrite?: boolean;
  mode?: number;
}

export class AtomicFile {
  private readonly tmp: string;
  private fd: number;
  private closed = false;

  constructor(
    readonly path: string,
    private readonly options: AtomicOptions = {},
  ) {
    // Fail before any work when the target is there already; link(2) below still catches
    // a file that appears while this one is being written.
    if (!options.overwrite && existsSync(path)) {
      throw new StaxError('USAGE', 'already exists; pass --force to replace it', { file: path });
    }
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    try {
      this.fd = openSync(this.tmp, 'wx', options.mode ?? 0o644);
    } catch (err) {
      throw fileError(path, err, 'write');
    }
  }

  write(text: string | Buffer): void {
    const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    } catch (err) {
      this.abort();
      throw fileError(this.path, err, 'write');
    }
  }

  commit(): void {
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.closed = true;
      if (this.options.overwrite) {
        renameSync(this.tmp, this.path);
      } else {
        placeWithoutClobbering(this.tmp, this.path);
      }
      syncFolder(dirname(this.path));
    } catch (err) {
      this.abort();
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StaxError('USAGE', 'already exists; pass --force to replace it', { file: this.path });
      }
      throw fileError(this.path, err, 'write');
    }
  }

  abort(): void {
    if (!this.closed) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed
      }
      this.closed = true;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // never created or already moved
    }
  }
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP']);

function placeWithoutClobbering(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
    unlinkSync(tmp);
  } catch (err) {
    // Some file systems (FAT, some network mounts) have no hard links: check, then rename.
    if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    if (existsSync(path)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
    renameSync(tmp, path);
  }
}

/** The rename is durable only once the folder's entry is synced. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse to sync a folder; the data itself is already synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function writeFileAtomic(path: string, content: string | Buffer, options: AtomicOptions = {}): void {
  const f = new AtomicFile(path, options);
  f.write(content);
  f.commit();
}
