/**
 * Commands that read a small file whole (keys, checkpoints, proof bundles) or that must
 * re-read or edit it (repair, import, appends) need a regular file. Opening a FIFO with no
 * writer blocks forever, and a device never ends, so they are refused before any open.
 */
import { statSync } from 'node:fs';
import { StaxError, fileError } from '../errors.js';

export function assertRegularFile(path: string): void {
  let info;
  try {
    info = statSync(path);
  } catch (err) {
    throw fileError(path, err);
  }
  if (info.isDirectory()) throw new StaxError('FILE_UNREADABLE', 'is a directory, not a file', { file: path });
  if (!info.isFile()) throw new StaxError('FILE_UNREADABLE', 'is not a regular file (a FIFO, socket or device); this command needs a file it can read whole', { file: path });
}
