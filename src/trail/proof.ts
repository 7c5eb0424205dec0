/**
 * Proof bundles an auditor can check offline with nothing but trusted public keys:
 * - inclusion: one entry, its RFC 6962 audit path, and a signed checkpoint. Proves the
 *   entry is in the log the checkpoint commits to, without showing any other entry.
 * - consistency: two signed checkpoints and the proof that the newer tree extends the
 *   older one. Proves the log only grew between them.
 */
import { readFileSync } from 'node:fs';
import { computeEntryHash, type ChainEntry, type ChainHeader } from '../chain/entry.js';
import { isHex64, type Problem } from '../chain/report.js';
import { fromBase64, toBase64 } from '../crypto/encoding.js';
import { CanonicalizationError } from '../json/jcs.js';
import { MerkleProofError, consistencyProof, inclusionProof, verifyConsistency, verifyInclusion } from '../crypto/merkle.js';
import type { NoteVerifier } from '../crypto/note.js';
import { StaxError, fileError } from '../errors.js';
import { verifyStaxFile } from '../formats/verify.js';
import { assertRegularFile } from '../fs/regular.js';
import type { TrustedKeys } from '../keys/store.js';
import { checkpointVisitor, entryLeaf, openCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { signatureMessage } from './sign.js';
import { verify as verifySignature } from '../crypto/ed25519.js';

export const INCLUSION = 'stax-inclusion-proof';
export const CONSISTENCY = 'stax-consistency-proof';

export interface InclusionBundle {
  type: typeof INCLUSION;
  version: 1;
  origin: string;
  index: number;
  treeSize: number;
  entry: ChainEntry;
  /** Audit path, base64 hashes. */
  proof: string[];
  /** The signed checkpoint note the proof leads to. */
  checkpoint: string;
}

export interface ConsistencyBundle {
  type: typeof CONSISTENCY;
  version: 1;
  origin: string;
  oldSize: number;
  newSize: number;
  proof: string[];
  oldCheckpoint: string;
  newCheckpoint: string;
}

/** Reads every leaf of a chain (32 bytes each: 32 MB per million entries) and checks it against the checkpoints. */
async function readLeaves(file: string, checkpoints: SignedCheckpoint[]): Promise<{ leaves: Uint8Array[]; entries: ChainEntry[]; header: ChainHeader | null }> {
  const leaves: Uint8Array[] = [];
  const entries: ChainEntry[] = [];
  let header: ChainHeader | null = null;
  const report = await verifyStaxFile(file, {
    keyed: true,
    visitors: [
      checkpointVisitor(checkpoints),
      {
        header(h) {
          header = h;
        },
        entry(_i, e, computed) {
          leaves.push(entryLeaf(computed));
          entries.push(e);
        },
      },
    ],
  });
  if (!report.valid) {
    const p = report.problems[0];
    throw new StaxError('INPUT_INVALID', `the chain does not verify against the checkpoint (${p?.code ?? 'invalid'}): ${p?.message ?? ''}`, { file, exitCode: 1 });
  }
  return { leaves, entries, header };
}

export async function proveInclusion(file: string, index: number, checkpoint: SignedCheckpoint): Promise<InclusionBundle> {
  if (!Number.isSafeInteger(index) || index < 0) throw new StaxError('USAGE', `--index must be a whole number, not ${index}`);
  if (index >= checkpoint.size) {
    throw new StaxError('USAGE', `entry ${index} is not covered by the checkpoint (it covers entries 0 to ${checkpoint.size - 1}); sign a newer checkpoint first`);
  }
  const { leaves, entries } = await readLeaves(file, [checkpoint]);
  const proof = inclusionProof(leaves, index, checkpoint.size);
  return { type: INCLUSION, version: 1, origin: checkpoint.origin, index, treeSize: checkpoint.size, entry: entries[index]!, proof: proof.map(toBase64), checkpoint: checkpoint.note };
}

export async function proveConsistency(file: string, older: SignedCheckpoint, newer: SignedCheckpoint): Promise<ConsistencyBundle> {
  if (older.origin !== newer.origin) throw new StaxError('USAGE', `the checkpoints are of different logs ("${older.origin}" and "${newer.origin}")`);
  if (older.size > newer.size) throw new StaxError('USAGE', `the old checkpoint (size ${older.size}) is newer than the new one (size ${newer.size})`);
  const { leaves } = await readLeaves(file, [older, newer]);
  const proof = older.size === 0 ? [] : consistencyProof(leaves, older.size, newer.size);
  return { type: CONSISTENCY, version: 1, origin: older.origin, oldSize: older.size, newSize: newer.size, proof: proof.map(toBase64), oldCheckpoint: older.note, newCheckpoint: newer.note };
}

export interface ProofCheck {
  file: string;
  type: string;
  valid: boolean;
  origin: string | null;
  problems: Problem[];
  /** What was proven, in words. */
  statement: string | null;
}

/** Checks a proof bundle offline: trusted keys are all it needs. */
export function verifyProofBundle(file: string, trusted: TrustedKeys): ProofCheck {
  assertRegularFile(file);
  let bundle: Record<string, unknown>;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) throw new StaxError('INPUT_INVALID', `not a JSON proof bundle: ${err.message}`, { file });
    throw fileError(file, err);
  }
  if (typeof bundle !== 'object' || bundle === null) throw new StaxError('INPUT_INVALID', 'not a JSON proof bundle', { file });
  if (bundle.type === INCLUSION) return checkInclusion(file, bundle as unknown as InclusionBundle, trusted.keys, trusted);
  if (bundle.type === CONSISTENCY) return checkConsistency(file, bundle as unknown as ConsistencyBundle, trusted.keys);
  throw new StaxError('FORMAT_UNKNOWN', `not a stax proof bundle (type ${JSON.stringify(bundle.type)})`, { file });
}

/** A bundle member that must hold a signed note's text. */
function noteText(file: string, value: unknown, field: string): string {
  if (typeof value !== 'string') throw new StaxError('INPUT_INVALID', `"${field}" must be the text of a signed checkpoint`, { file });
  return value;
}

function proofHashes(file: string, proof: unknown): Uint8Array[] {
  if (!Array.isArray(proof)) throw new StaxError('INPUT_INVALID', '"proof" must be an array of base64 hashes', { file });
  return proof.map((p, i) => {
    const bytes = typeof p === 'string' ? fromBase64(p) : undefined;
    if (bytes === undefined) throw new StaxError('INPUT_INVALID', `proof hash ${i} is not base64`, { file });
    return bytes;
  });
}

function checkInclusion(file: string, b: InclusionBundle, verifiers: readonly NoteVerifier[], trusted: TrustedKeys): ProofCheck {
  const problems: Problem[] = [];
  const cp = openCheckpoint(noteText(file, b.checkpoint, 'checkpoint'), verifiers, `${file} (checkpoint)`);
  const e = b.entry as unknown as Record<string, unknown>;
  if (typeof e !== 'object' || e === null || Array.isArray(e) || !isHex64(e.hash) || !Number.isSafeInteger(b.index)) {
    throw new StaxError('INPUT_INVALID', 'the bundle has no valid entry and index', { file });
  }
  let computed: string;
  try {
    computed = computeEntryHash(e);
  } catch (err) {
    // Numbers JSON cannot hold (1e400) or nesting too deep to hash: no entry stax writes.
    if (err instanceof RangeError || err instanceof CanonicalizationError) {
      throw new StaxError('INPUT_INVALID', `the bundle's entry cannot be hashed: ${err instanceof RangeError ? 'nested too deeply' : err.message}`, { file });
    }
    throw err;
  }
  if (computed !== e.hash) problems.push({ index: b.index, code: 'HASH_MISMATCH', message: `the entry's content hashes to ${computed.slice(0, 12)}…, not its recorded hash ${String(e.hash).slice(0, 12)}…` });
  if (e.seq !== b.index) problems.push({ index: b.index, code: 'SEQUENCE_GAP', message: `the entry's seq is ${JSON.stringify(e.seq) ?? typeof e.seq} but the proof is for index ${b.index}` });
  if (b.treeSize !== cp.size) problems.push({ index: null, code: 'CHECKPOINT_MISMATCH', message: `the proof is for tree size ${b.treeSize} but the checkpoint is for ${cp.size}` });
  try {
    verifyInclusion(b.index, cp.size, entryLeaf(computed), proofHashes(file, b.proof), cp.root);
  } catch (err) {
    if (!(err instanceof MerkleProofError)) throw err;
    problems.push({ index: b.index, code: 'BAD_PROOF', message: `the inclusion proof does not lead to the signed root: ${err.message}` });
  }
  // A signed entry is checked too when its key is trusted; an unsigned one is only in the log.
  const sig = e.sig as { key?: unknown; sig?: unknown } | null | undefined;
  if (sig !== undefined && (typeof sig !== 'object' || sig === null)) {
    problems.push({ index: b.index, code: 'BAD_SIGNATURE', message: 'the entry\'s "sig" is not an object with "key" and "sig"' });
  } else if (sig !== undefined) {
    const key = typeof sig.key === 'string' ? trusted.byId.get(sig.key) : undefined;
    const bytes = typeof sig.sig === 'string' ? fromBase64(sig.sig) : undefined;
    if (key !== undefined && (key.name !== e.actor || bytes === undefined || !verifySignature(signatureMessage(String(e.actor), computed), bytes, key.publicKey))) {
      problems.push({ index: b.index, code: 'BAD_SIGNATURE', message: `the entry's signature by ${String(sig.key)} does not verify for actor ${JSON.stringify(e.actor)}` });
    }
  }
  const valid = problems.length === 0;
  return { file, type: INCLUSION, valid, origin: cp.origin, problems, statement: valid ? `entry ${b.index} (${JSON.stringify(e.action)} by ${JSON.stringify(e.actor)}) is in ${cp.origin} at tree size ${cp.size}, signed by ${cp.signedBy.join(', ')}` : null };
}

function checkConsistency(file: string, b: ConsistencyBundle, verifiers: readonly NoteVerifier[]): ProofCheck {
  const problems: Problem[] = [];
  const older = openCheckpoint(noteText(file, b.oldCheckpoint, 'oldCheckpoint'), verifiers, `${file} (old checkpoint)`);
  const newer = openCheckpoint(noteText(file, b.newCheckpoint, 'newCheckpoint'), verifiers, `${file} (new checkpoint)`);
  if (older.origin !== newer.origin) problems.push({ index: null, code: 'CHECKPOINT_MISMATCH', message: `the checkpoints are of different logs ("${older.origin}", "${newer.origin}")` });
  if (older.size === newer.size && toBase64(older.root) !== toBase64(newer.root)) {
    problems.push({ index: null, code: 'FORK', message: `both checkpoints are signed for size ${older.size} with different roots: the log showed two histories` });
  } else if (older.size > 0 || newer.size > 0) {
    try {
      if (older.size === 0) throw new MerkleProofError('BAD_SIZES', 'size1', 'a size above 0', '0', 'a consistency proof from the empty tree proves nothing');
      verifyConsistency(older.size, newer.size, proofHashes(file, b.proof), older.root, newer.root);
    } catch (err) {
      if (!(err instanceof MerkleProofError)) throw err;
      problems.push({ index: null, code: 'FORK', message: `the newer checkpoint does not extend the older one (${err.message}): history was rewritten or forked` });
    }
  }
  const valid = problems.length === 0;
  return { file, type: CONSISTENCY, valid, origin: older.origin, problems, statement: valid ? `${older.origin} grew from ${older.size} to ${newer.size} entries by appends only` : null };
}
