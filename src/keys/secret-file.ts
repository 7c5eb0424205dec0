/**
 * Reads secret material (HMAC keys, private keys) from files and the environment. Secrets
 * are never defaulted, never printed, and a key file that group or others can read is
 * refused: a leaked signing key silently voids every signature made with it.
 */
import { readFileSync, statSync } from 'node:fs';
import { StaxError, fileError } from '../errors.js';
import { assertRegularFile } from '../fs/regular.js';

/** Refuses a key file whose mode lets group or others read or write it. */
export function assertPrivateFile(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw fileError(path, err);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new StaxError('KEY_INSECURE', `key file has mode ${octal}; group or others can access it. Fix with: chmod 600 '${path}'`, { file: path });
  }
}

/** Reads a secret file's bytes, ignoring one trailing newline (editors add one). */
export function readSecretFile(path: string): Buffer {
  assertRegularFile(path);
  assertPrivateFile(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw fileError(path, err);
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0a) {
    bytes = bytes.subarray(0, bytes[bytes.length - 2] === 0x0d ? bytes.length - 2 : bytes.length - 1);
  }
  if (bytes.length === 0) throw new StaxError('KEY_INVALID', 'the key file is empty', { file: path });
  return bytes;
}

export interface HmacKeySource {
  env: Record<string, string | undefined>;
  /** `--hmac-key-file`, which wins over the environment when both are given. */
  file?: string;
}

/** The HMAC key from --hmac-key-file or STAX_HMAC_KEY, or undefined when neither is set. */
export function findHmacKey(source: HmacKeySource): (() => Buffer) | undefined {
  if (source.file !== undefined) {
    const file = source.file;
    return () => readSecretFile(file);
  }
  const text = source.env.STAX_HMAC_KEY;
  if (text === undefined) return undefined;
  return () => {
    if (text === '') throw new StaxError('KEY_INVALID', 'STAX_HMAC_KEY is set but empty');
    return Buffer.from(text, 'utf8');
  };
}
