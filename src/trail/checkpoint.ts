/**
 * Checkpoints, the transparency-log way. The entries of a stax chain are the leaves of an
 * RFC 6962 Merkle tree (leaf data: the 32-byte SHA-256 of the entry's content). A
 * checkpoint is a C2SP tlog-checkpoint (origin, tree size, root) in a signed note. Anyone
 * holding a checkpoint can later prove that a file is the same log, extended only by
 * appends: a cut-off tail, a rewritten history and two signed views that disagree (a fork)
 * are each caught with their own code.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { ChainEntry, ChainHeader } from '../chain/entry.js';
import type { ReportBuilder } from '../chain/report.js';
import { formatCheckpoint, parseCheckpoint, CheckpointError, type Checkpoint } from '../crypto/checkpoint.js';
import { toBase64, toHex } from '../crypto/encoding.js';
import { MerkleAccumulator, leafHash } from '../crypto/merkle.js';
import { NoteError, openNote, signNote, type NoteSigner, type NoteVerifier } from '../crypto/note.js';
import { StaxError, fileError } from '../errors.js';
import type { EntryVisitor, StaxReport } from '../formats/stax.js';
import { verifyStaxFile } from '../formats/verify.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { assertRegularFile } from '../fs/regular.js';
import { keyLabel } from '../keys/store.js';

export interface SignedCheckpoint extends Checkpoint {
  /** The signed note text, exactly as stored. */
  note: string;
  /** `name+keyid` of each trusted key that signed it. */
  signedBy: string[];
  /** Where it came from, for messages. */
  source: string;
}

export function entryLeaf(hashHex: string): Uint8Array {
  return leafHash(Buffer.from(hashHex, 'hex'));
}

/** Opens a checkpoint note: it must carry a valid signature by at least one trusted key. */
export function openCheckpoint(note: string, trusted: readonly NoteVerifier[], source: string): SignedCheckpoint {
  try {
    const opened = openNote(note, trusted);
    const cp = parseCheckpoint(opened.text);
    return { ...cp, note, signedBy: opened.verifiedBy.map((s) => keyLabel(s)), source };
  } catch (err) {
    if (err instanceof NoteError || err instanceof CheckpointError) {
      const why = err instanceof NoteError && err.code === 'NO_TRUSTED_SIGNATURE' ? 'it is not signed by any trusted key' : `${err.message} (${err.code})`;
      throw new StaxError('INPUT_INVALID', `not a valid signed checkpoint: ${why}`, { file: source });
    }
    throw err;
  }
}

export function readCheckpointFile(file: string, trusted: readonly NoteVerifier[]): SignedCheckpoint {
  assertRegularFile(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, err);
  }
  return openCheckpoint(text, trusted, file);
}

/** Where `stax checkpoint` keeps the latest checkpoint of a trail. */
export function checkpointPathFor(trail: string): string {
  return `${trail}.checkpoint`;
}

/**
 * Verifies a chain against checkpoints while it streams: the root of the first `size`
 * entries must be each checkpoint's root, and the file must have at least `size` entries.
 */
export function checkpointVisitor(checkpoints: readonly SignedCheckpoint[]): EntryVisitor & { roots: Map<number, Uint8Array> } {
  const acc = new MerkleAccumulator();
  const wanted = new Set(checkpoints.map((c) => c.size));
  const roots = new Map<number, Uint8Array>();
  if (wanted.has(0)) roots.set(0, acc.root());
  return {
    roots,
    header(header: ChainHeader, report: ReportBuilder) {
      for (const cp of checkpoints) {
        if (cp.origin !== header.origin) {
          report.problem(null, 'CHECKPOINT_MISMATCH', `${cp.source} is a checkpoint of "${cp.origin}", but this chain's origin is "${header.origin}"`);
        }
      }
    },
    entry(_index: number, _e: ChainEntry, computedHash: string) {
      acc.append(entryLeaf(computedHash));
      if (wanted.has(acc.size)) roots.set(acc.size, acc.root());
    },
    finish(report: ReportBuilder) {
      for (const cp of checkpoints) {
        const root = roots.get(cp.size);
        if (root === undefined) {
          const lost = cp.size - report.entries === 1 ? `entry ${report.entries} was` : `entries ${report.entries} to ${cp.size - 1} were`;
          report.problem(report.entries, 'TRUNCATED', `${cp.source} saw ${cp.size} entries but the file has ${report.entries}: ${lost} cut off`);
        } else if (toHex(root) !== toHex(cp.root)) {
          report.problem(null, 'REWRITTEN', `the first ${cp.size} entries are not the ones ${cp.source} saw (root ${toBase64(root).slice(0, 12)}…, checkpoint ${toBase64(cp.root).slice(0, 12)}…): history was rewritten`);
        }
      }
      // Two signed checkpoints of one log that disagree about the same size: a split view.
      for (let i = 0; i < checkpoints.length; i++) {
        for (let j = i + 1; j < checkpoints.length; j++) {
          const a = checkpoints[i]!;
          const b = checkpoints[j]!;
          if (a.origin === b.origin && a.size === b.size && toHex(a.root) !== toHex(b.root)) {
            report.problem(null, 'FORK', `${a.source} and ${b.source} are both signed for ${a.origin} at size ${a.size} but have different roots: the log showed two histories`);
          }
        }
      }
    },
  };
}

export interface CheckpointResult {
  file: string;
  origin: string;
  size: number;
  root: string;
  note: string;
  saved: string | null;
  /** The checkpoint this one extends, when one was kept beside the trail. */
  previous: { size: number; root: string } | null;
}

/**
 * Signs a checkpoint of a chain. The chain must verify. When a checkpoint is kept beside
 * the trail, the new one must extend it: a trail rewritten since is refused, not blessed.
 */
export async function makeCheckpoint(file: string, signer: NoteSigner, options: { save: string | null }): Promise<CheckpointResult> {
  const previous = options.save !== null && existsSync(options.save) ? readCheckpointFile(options.save, [signer]) : null;
  const visitor = checkpointVisitor(previous === null ? [] : [previous]);
  const acc = new MerkleAccumulator();
  let header: ChainHeader | null = null;
  const report: StaxReport = await verifyStaxFile(file, {
    keyed: true,
    visitors: [
      visitor,
      {
        header(h) {
          header = h;
        },
        entry(_i, _e, computed) {
          acc.append(entryLeaf(computed));
        },
      },
    ],
  });
  if (!report.valid) {
    const p = report.problems[0];
    throw new StaxError('INPUT_INVALID', `the chain does not verify (${p?.code ?? 'invalid'}${p?.index == null ? '' : ` at entry ${p.index}`}); no checkpoint signed. Run 'stax verify ${file}'`, { file, exitCode: 1 });
  }
  const origin = (header as ChainHeader | null)?.origin;
  if (origin === undefined) throw new StaxError('INPUT_INVALID', 'the chain has no header origin', { file });
  const root = acc.root();
  let body: string;
  try {
    body = formatCheckpoint({ origin, size: acc.size, root });
  } catch (err) {
    if (!(err instanceof CheckpointError)) throw err;
    throw new StaxError('INPUT_INVALID', `the chain's origin ${JSON.stringify(origin)} cannot be a checkpoint origin (${err.message})`, { file });
  }
  const note = signNote(body, [signer]);
  if (options.save !== null) writeFileAtomic(options.save, note, { overwrite: true });
  return {
    file,
    origin,
    size: acc.size,
    root: toBase64(root),
    note,
    saved: options.save,
    previous: previous === null ? null : { size: previous.size, root: toBase64(previous.root) },
  };
}
