/**
 * `stax verify`: opens each file, detects (or takes) its format and runs that format's
 * verifier. Returns one report per file; unreadable files and unknown formats are errors.
 */
import { StaxError } from '../errors.js';
import type { VerifyReport } from '../chain/report.js';
import { openInput } from '../io/input.js';
import { assertRegularFile } from '../fs/regular.js';
import type { Readable } from 'node:stream';
import { FORMATS, detectFormat, peek, type FormatId } from './detect.js';
import { verifyGuardianRegistry, verifyGuardianTrail } from './guardian.js';
import { verifyStax, type EntryVisitor, type StaxReport } from './stax.js';
import { verifyTracehoundAudit } from './tracehound.js';
import { CODEBANK, TRAIL, verifyTrailStax } from './trailstax.js';

export interface VerifyOptions {
  format?: FormatId;
  /** The HMAC key for guardian registries, if the caller has one. */
  hmacKey?: () => Buffer;
  stdin?: Readable;
  /** Extra per-entry checks for stax chains (signatures, checkpoints). */
  staxVisitors?: (file: string) => { visitors: EntryVisitor[]; keyed: boolean };
}

export function parseFormat(name: string): FormatId {
  if ((FORMATS as readonly string[]).includes(name)) return name as FormatId;
  throw new StaxError('USAGE', `unknown format "${name}" (one of: ${FORMATS.join(', ')})`);
}

export async function verifyFile(path: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const opened = await openInput(path, options.stdin);
  const { sample, input } = await peek(opened);
  if (sample.replace(/^\ufeff/, '').trim() === '') throw new StaxError('INPUT_INVALID', 'the file is empty', { file: path });
  const format = options.format ?? detectFormat(sample);
  if (format === null) {
    const what = sample.trim() === '' ? 'the file is empty' : 'not a chain format stax knows';
    throw new StaxError('FORMAT_UNKNOWN', `${what} (use --format to force one of: ${FORMATS.join(', ')})`, { file: path });
  }
  switch (format) {
    case 'stax': {
      const extra = options.staxVisitors?.(path) ?? { visitors: [], keyed: false };
      return verifyStax(input, sample, extra);
    }
    case 'trailstax-trail':
      return verifyTrailStax(input, TRAIL);
    case 'trailstax-codebank':
      return verifyTrailStax(input, CODEBANK);
    case 'guardian-trail':
      return verifyGuardianTrail(input);
    case 'guardian-registry': {
      if (options.hmacKey === undefined) {
        throw new StaxError('KEY_MISSING', 'a guardian registry is signed with HMAC: set STAX_HMAC_KEY or pass --hmac-key-file (there is no default key)', { file: path });
      }
      return verifyGuardianRegistry(input, { key: options.hmacKey() });
    }
    case 'tracehound-audit':
      return verifyTracehoundAudit(input);
  }
}

/** Verifies a file that must be a stax chain, passing every entry to the visitors. */
export async function verifyStaxFile(path: string, options: { visitors?: EntryVisitor[]; keyed?: boolean; stdin?: Readable } = {}): Promise<StaxReport> {
  // Trail commands read trails, not pipes (`-` is stdin, read once); a FIFO would block on open.
  if (path !== '-') assertRegularFile(path);
  const opened = await openInput(path, options.stdin);
  const { sample, input } = await peek(opened);
  const format = detectFormat(sample);
  if (format !== 'stax') {
    const what = format === null ? (sample.trim() === '' ? 'the file is empty' : 'not a chain format stax knows') : `a ${format} file, not a stax chain`;
    throw new StaxError('FORMAT_UNKNOWN', what, { file: path });
  }
  return verifyStax(input, sample, options);
}
