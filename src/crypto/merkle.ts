/**
 * RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashing, a streaming root builder,
 * proof generation, and proof verification.
 *
 * Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 in the form used by
 * transparency-dev/merkle (proof/verify.go), whose test vectors it must pass, plus one
 * stricter rule the project's vectors require: a consistency proof from size 0 is
 * rejected even when size2 is 0 too, because an empty tree commits to nothing and a
 * "consistent with nothing" result is never evidence.
 *
 * Failures throw MerkleProofError; success returns normally. Tree sizes and indices are
 * non-negative safe integers; the bit arithmetic of verification runs on bigint, because
 * JavaScript's bitwise operators truncate to 32 bits and logs grow past 2^32 entries.
 */
import { createHash, hash } from 'node:crypto';
import { bytesEqual, toHex } from './encoding.js';

export const HASH_SIZE = 32;

export type MerkleProofErrorCode =
  /** leafIndex is not below treeSize, or not a non-negative integer. */
  | 'BAD_INDEX'
  /** Sizes out of range: size1 > size2, size1 = 0 for consistency, treeSize = 0, more leaves than given. */
  | 'BAD_SIZES'
  /** A leaf hash or proof hash is not 32 bytes. */
  | 'BAD_HASH'
  /** The proof has the wrong number of hashes for the sizes. */
  | 'PROOF_SIZE'
  /** The proof is well formed but leads to a different root. */
  | 'ROOT_MISMATCH';

export class MerkleProofError extends Error {
  override readonly name = 'MerkleProofError';
  readonly code: MerkleProofErrorCode;
  /** What was checked: 'root', 'root1', 'root2', 'proof', 'leafHash', 'proof[3]', 'size1'... */
  readonly subject: string;
  /** For ROOT_MISMATCH the trusted root in hex; for PROOF_SIZE the required count; else the rule. */
  readonly expected: string;
  /** For ROOT_MISMATCH the root the proof leads to, in hex; otherwise what was given. */
  readonly found: string;

  constructor(code: MerkleProofErrorCode, subject: string, expected: string, found: string, message: string) {
    super(message);
    this.code = code;
    this.subject = subject;
    this.expected = expected;
    this.found = found;
  }
}

const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);
// MTH({}) = SHA-256() (RFC 6962 section 2.1).
const EMPTY_ROOT: Uint8Array = createHash('sha256').digest();
// Small leaves are copied behind the prefix and hashed in one call: about a third faster
// than a createHash chain. Larger ones stream, so a big leaf is never copied.
const LEAF_SCRATCH = Buffer.alloc(1024);
const NODE_SCRATCH = Buffer.alloc(1 + 2 * HASH_SIZE);
NODE_SCRATCH[0] = 0x01;

/** SHA-256 of the empty string: the root of the tree with no leaves. */
export function emptyRoot(): Uint8Array {
  return Uint8Array.from(EMPTY_ROOT);
}

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  if (data.length < LEAF_SCRATCH.length) {
    LEAF_SCRATCH.set(data, 1);
    return hash('sha256', LEAF_SCRATCH.subarray(0, data.length + 1), 'buffer');
  }
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    NODE_SCRATCH.set(left, 1);
    NODE_SCRATCH.set(right, 1 + HASH_SIZE);
    return hash('sha256', NODE_SCRATCH, 'buffer');
  }
  // Proof checks may meet hashes of other lengths; they hash like RFC 6962 says and then fail to match.
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/**
 * Builds the root of a growing tree while keeping only O(log n) hashes: the roots of the
 * complete subtrees that make up the tree so far (its compact range), one per set bit of
 * the size. Appending a leaf merges equal-sized subtrees like a binary counter carries.
 */
export class MerkleAccumulator {
  // levels[h] holds the root of a complete subtree of 2^h leaves, or null. Lower levels
  // are the rightmost (most recent) subtrees.
  readonly #levels: Array<Uint8Array | null> = [];
  #size = 0;

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) {
      throw new MerkleProofError(
        'BAD_HASH',
        'leafHash',
        `${HASH_SIZE} bytes`,
        `${leafHash.length} bytes`,
        `leaf hash ${this.#size} is ${leafHash.length} bytes, not ${HASH_SIZE}`,
      );
    }
    const levels = this.#levels;
    // Copy: the caller may reuse its buffer for the next leaf.
    let carry: Uint8Array = Uint8Array.from(leafHash);
    let level = 0;
    for (let left = levels[0]; left != null; left = levels[level]) {
      carry = nodeHash(left, carry);
      levels[level] = null;
      level++;
    }
    levels[level] = carry;
    this.#size++;
  }

  /** The RFC 6962 root of the leaves appended so far (the empty-tree root when none). */
  root(): Uint8Array {
    let acc: Uint8Array | null = null;
    for (const subtree of this.#levels) {
      if (subtree == null) continue;
      acc = acc === null ? subtree : nodeHash(subtree, acc);
    }
    return acc ?? emptyRoot();
  }
}

/** MTH(D[n]) over leaf hashes (RFC 6962 section 2.1). */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Uint8Array {
  return subtreeRoot(hashes, 0, hashes.length);
}

function subtreeRoot(hashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const acc = new MerkleAccumulator();
  for (let i = start; i < end; i++) acc.append(hashes[i]!);
  return acc.root();
}

/** Largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * PATH(m, D[n]) of RFC 6962 section 2.1.1: the inclusion proof for leaf `index` in the
 * tree of the first `treeSize` leaf hashes, lowest level first.
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, treeSize: number): Uint8Array[] {
  checkCount('treeSize', treeSize);
  if (treeSize === 0 || treeSize > leafHashes.length) {
    throw new MerkleProofError(
      'BAD_SIZES',
      'treeSize',
      `1..${leafHashes.length}`,
      String(treeSize),
      `tree size ${treeSize} is not between 1 and the ${leafHashes.length} leaves given`,
    );
  }
  checkIndex(index, treeSize);
  // Walk down from the root; each step records the sibling subtree not taken.
  const siblings: Uint8Array[] = [];
  let lo = 0;
  let n = treeSize;
  let m = index;
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      siblings.push(subtreeRoot(leafHashes, lo + k, lo + n));
      n = k;
    } else {
      siblings.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
      m -= k;
      n -= k;
    }
  }
  return siblings.reverse();
}

/**
 * PROOF(m, D[n]) of RFC 6962 section 2.1.2: the consistency proof from the tree of the
 * first `size1` leaf hashes to the tree of the first `size2`. Empty when the sizes are
 * equal; size1 = 0 is refused, as verifyConsistency refuses it.
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number, size2: number): Uint8Array[] {
  checkCount('size1', size1);
  checkCount('size2', size2);
  checkSizes(size1, size2);
  if (size2 > leafHashes.length) {
    throw new MerkleProofError(
      'BAD_SIZES',
      'size2',
      `<= ${leafHashes.length}`,
      String(size2),
      `size2 ${size2} is more than the ${leafHashes.length} leaves given`,
    );
  }
  // SUBPROOF(m, D[n], b), unrolled: record siblings top-down, reverse at the end.
  const proof: Uint8Array[] = [];
  let lo = 0;
  let n = size2;
  let m = size1;
  let whole = true;
  while (m !== n) {
    const k = splitPoint(n);
    if (m <= k) {
      proof.push(subtreeRoot(leafHashes, lo + k, lo + n));
      n = k;
    } else {
      proof.push(subtreeRoot(leafHashes, lo, lo + k));
      lo += k;
      m -= k;
      n -= k;
      whole = false;
    }
  }
  // The old tree is a proper subtree here: the verifier cannot know its hash, so send it.
  if (!whole) proof.push(subtreeRoot(leafHashes, lo, lo + n));
  return proof.reverse();
}

/** The root that an inclusion proof leads to; throws when the proof cannot be right. */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkCount('treeSize', treeSize);
  checkIndex(leafIndex, treeSize);
  checkHash('leafHash', leafHash);
  proof.forEach((h, i) => checkHash(`proof[${i}]`, h));
  const index = BigInt(leafIndex);
  const { inner, border } = decomposeInclusionProof(index, BigInt(treeSize));
  checkProofLength(proof.length, inner + border);
  let h = chainInner(leafHash, proof.slice(0, inner), index);
  h = chainBorderRight(h, proof.slice(inner));
  return h;
}

/** Checks that `leafHash` is leaf `leafIndex` of the tree of size `treeSize` with root `root`. */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkRoot('root', root, rootFromInclusionProof(leafIndex, treeSize, leafHash, proof));
}

/**
 * Checks root1 against the proof and returns the root of the size2 tree that the proof
 * leads to (RFC 9162 section 2.1.4.2). For equal sizes the proof must be empty and the
 * result is root1.
 */
export function rootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
): Uint8Array {
  checkCount('size1', size1);
  checkCount('size2', size2);
  checkSizes(size1, size2);
  if (size1 === size2) {
    checkProofLength(proof.length, 0);
    return root1;
  }
  proof.forEach((h, i) => checkHash(`proof[${i}]`, h));

  const s1 = BigInt(size1);
  const decomposed = decomposeInclusionProof(s1 - 1n, BigInt(size2));
  const shift = trailingZeros(s1);
  const inner = decomposed.inner - shift;
  const border = decomposed.border;
  // The proof starts with the root of the subtree of 2^shift leaves that ends at size1,
  // unless that subtree is the whole old tree, whose root the verifier already has.
  const start = s1 === 1n << BigInt(shift) ? 0 : 1;
  checkProofLength(proof.length, start + inner + border);
  const seed = start === 0 ? root1 : proof[0]!;
  const innerPart = proof.slice(start, start + inner);
  const borderPart = proof.slice(start + inner);
  const mask = (s1 - 1n) >> BigInt(shift);

  const h1 = chainBorderRight(chainInnerRight(seed, innerPart, mask), borderPart);
  checkRoot('root1', root1, h1);
  return chainBorderRight(chainInner(seed, innerPart, mask), borderPart);
}

/** Checks that the tree of size2 with root2 extends the tree of size1 with root1. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkRoot('root2', root2, rootFromConsistencyProof(size1, size2, proof, root1));
}

// Splits an inclusion proof at the level where the paths to `index` and to the last leaf
// diverge: `inner` hashes below it, `border` hashes along the tree's right border above.
function decomposeInclusionProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  return { inner, border };
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    h = ((index >> BigInt(i)) & 1n) === 0n ? nodeHash(h, p) : nodeHash(p, h);
  });
  return h;
}

// Like chainInner, but only the left siblings count: yields the older tree's subtree hash.
function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) h = nodeHash(p, h);
  });
  return h;
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = nodeHash(p, h);
  return h;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

function popCount(x: bigint): number {
  let n = 0;
  for (const c of x.toString(2)) if (c === '1') n++;
  return n;
}

function trailingZeros(x: bigint): number {
  let n = 0;
  while (((x >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

function checkCount(subject: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleProofError(
      'BAD_SIZES',
      subject,
      'a non-negative safe integer',
      String(value),
      `${subject} ${value} is not a non-negative integer`,
    );
  }
}

function checkIndex(index: number, treeSize: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= treeSize) {
    throw new MerkleProofError(
      'BAD_INDEX',
      'leafIndex',
      `0..${treeSize - 1}`,
      String(index),
      `leaf index ${index} is not inside a tree of size ${treeSize}`,
    );
  }
}

function checkSizes(size1: number, size2: number): void {
  if (size1 > size2) {
    throw new MerkleProofError(
      'BAD_SIZES',
      'size1',
      `<= ${size2}`,
      String(size1),
      `size1 ${size1} is larger than size2 ${size2}: a tree cannot shrink`,
    );
  }
  if (size1 === 0) {
    throw new MerkleProofError(
      'BAD_SIZES',
      'size1',
      '>= 1',
      '0',
      'a consistency proof from the empty tree proves nothing',
    );
  }
}

function checkHash(subject: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) {
    throw new MerkleProofError(
      'BAD_HASH',
      subject,
      `${HASH_SIZE} bytes`,
      `${h.length} bytes`,
      `${subject} is ${h.length} bytes, not ${HASH_SIZE}`,
    );
  }
}

function checkProofLength(found: number, expected: number): void {
  if (found !== expected) {
    throw new MerkleProofError(
      'PROOF_SIZE',
      'proof',
      String(expected),
      String(found),
      `proof has ${found} hashes; these sizes need ${expected}`,
    );
  }
}

function checkRoot(subject: string, trusted: Uint8Array, computed: Uint8Array): void {
  if (!bytesEqual(trusted, computed)) {
    throw new MerkleProofError(
      'ROOT_MISMATCH',
      subject,
      toHex(trusted),
      toHex(computed),
      `${subject} mismatch: expected ${toHex(trusted)}, the proof leads to ${toHex(computed)}`,
    );
  }
}
