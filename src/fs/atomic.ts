/**
 * Writes a whole file atomically: to a temporary file in the same folder, synced, then
 * renamed over the target. Readers see the old file or the new one, never half of either,
 * and a crash leaves the old file intact.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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
      if (!this.options.overwrite && existsSync(this.path)) {
        throw new StaxError('USAGE', 'appeared while writing; not replaced (pass --force to replace it)', { file: this.path });
      }
      renameSync(this.tmp, this.path);
    } catch (err) {
      this.abort();
      if (err instanceof StaxError) throw err;
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
      // never created or already renamed
    }
  }
}

export function writeFileAtomic(path: string, content: string | Buffer, options: AtomicOptions = {}): void {
  const f = new AtomicFile(path, options);
  f.write(content);
  f.commit();
}
