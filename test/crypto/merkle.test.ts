import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MerkleAccumulator,
  MerkleProofError,
  consistencyProof,
  emptyRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootFromConsistencyProof,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/crypto/merkle.js';
import { b64, hex, listFiles, readVector, vectorsDir } from './vectors.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** MTH straight from RFC 6962 section 2.1, recursive, for cross-checking. */
function referenceRoot(leaves: Uint8Array[]): Buffer {
  if (leaves.length === 0) return sha256();
  if (leaves.length === 1) return Buffer.from(leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const leaves = (n: number, salt = ''): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${salt}leaf ${i}`)));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof MerkleProofError) return err.code;
    throw err;
  }
}

interface RootsFile {
  leafInputsHex: string[];
  rootHashesBySizeHex: string[];
}
const roots = readVector<RootsFile>('merkle/roots.json');
const rootLeaves = roots.leafInputsHex.map((h) => leafHash(hex(h)));

describe('hashing', () => {
  it('leafHash is SHA-256(0x00 || data), small and large', () => {
    for (const size of [0, 1, 31, 1022, 1023, 1024, 5000]) {
      const data = Buffer.alloc(size, 0xab);
      expect(toHex(leafHash(data))).toBe(toHex(sha256(Uint8Array.of(0), data)));
    }
  });

  it('nodeHash is SHA-256(0x01 || left || right), also for odd lengths', () => {
    const l = sha256(Buffer.from('l'));
    const r = sha256(Buffer.from('r'));
    expect(toHex(nodeHash(l, r))).toBe(toHex(sha256(Uint8Array.of(1), l, r)));
    expect(toHex(nodeHash(l.subarray(0, 5), r))).toBe(toHex(sha256(Uint8Array.of(1), l.subarray(0, 5), r)));
  });

  it('results do not share memory with later calls', () => {
    const a = leafHash(Buffer.from('a'));
    const copy = toHex(a);
    leafHash(Buffer.from('b'));
    nodeHash(a, a);
    expect(toHex(a)).toBe(copy);
  });

  it('emptyRoot is SHA-256 of nothing and a fresh copy each time', () => {
    const e = emptyRoot();
    expect(toHex(e)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    e.fill(0);
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('merkle/roots.json', () => {
  it('rootFromLeafHashes gives the root of the first N leaves, N = 0..8', () => {
    expect(roots.rootHashesBySizeHex).toHaveLength(9);
    roots.rootHashesBySizeHex.forEach((want, n) => {
      expect(toHex(rootFromLeafHashes(rootLeaves.slice(0, n)))).toBe(want);
    });
  });

  it('MerkleAccumulator gives the same roots as it grows', () => {
    const acc = new MerkleAccumulator();
    expect(toHex(acc.root())).toBe(roots.rootHashesBySizeHex[0]);
    rootLeaves.forEach((h, i) => {
      acc.append(h);
      expect(acc.size).toBe(i + 1);
      expect(toHex(acc.root())).toBe(roots.rootHashesBySizeHex[i + 1]);
    });
  });
});

describe('MerkleAccumulator', () => {
  it('matches the recursive RFC 6962 definition for every size up to 300', () => {
    const all = leaves(300);
    const acc = new MerkleAccumulator();
    for (let n = 1; n <= all.length; n++) {
      acc.append(all[n - 1]!);
      expect(toHex(acc.root()), `size ${n}`).toBe(toHex(referenceRoot(all.slice(0, n))));
    }
  });

  it('matches at sizes around powers of two up to 2^13', () => {
    const all = leaves(8193, 'p');
    const acc = new MerkleAccumulator();
    const checkAt = new Set([1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193]);
    all.forEach((h, i) => {
      acc.append(h);
      if (checkAt.has(i + 1)) expect(toHex(acc.root())).toBe(toHex(referenceRoot(all.slice(0, i + 1))));
    });
  });

  it('keeps a copy of each leaf hash, not the caller’s buffer', () => {
    const buf = Buffer.from(leafHash(Buffer.from('x')));
    const acc = new MerkleAccumulator();
    acc.append(buf);
    const before = toHex(acc.root());
    buf.fill(0);
    expect(toHex(acc.root())).toBe(before);
  });

  it('refuses a leaf hash that is not 32 bytes', () => {
    const acc = new MerkleAccumulator();
    expect(codeOf(() => acc.append(new Uint8Array(31)))).toBe('BAD_HASH');
    expect(acc.size).toBe(0);
  });
});

describe('proof generation', () => {
  const all = leaves(40, 'g');

  it('inclusion proofs verify for every leaf of every tree up to 40', () => {
    for (let size = 1; size <= all.length; size++) {
      const tree = all.slice(0, size);
      const root = rootFromLeafHashes(tree);
      for (let i = 0; i < size; i++) {
        const proof = inclusionProof(tree, i, size);
        expect(() => verifyInclusion(i, size, tree[i]!, proof, root)).not.toThrow();
      }
    }
  });

  it('consistency proofs verify for every 1 <= m <= n <= 40', () => {
    const rootsBySize = [emptyRoot(), ...all.map((_, i) => rootFromLeafHashes(all.slice(0, i + 1)))];
    for (let n = 1; n <= all.length; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(all, m, n);
        expect(() => verifyConsistency(m, n, proof, rootsBySize[m]!, rootsBySize[n]!), `${m} -> ${n}`).not.toThrow();
        expect(toHex(rootFromConsistencyProof(m, n, proof, rootsBySize[m]!))).toBe(toHex(rootsBySize[n]!));
      }
    }
  });

  it('reproduces the happy-path proofs of the vectors built from roots.json leaves', () => {
    let compared = 0;
    for (const file of listFiles(`${vectorsDir}/merkle/inclusion`).filter((f) => f.endsWith('happy-path.json'))) {
      const c = readVector<{ leafIdx: number; treeSize: number; leafHash: string; proof: string[] | null }>(
        `merkle/inclusion/${file}`,
      );
      if (c.treeSize > rootLeaves.length || toHex(rootLeaves[c.leafIdx]!) !== toHex(b64(c.leafHash))) continue;
      const mine = inclusionProof(rootLeaves, c.leafIdx, c.treeSize).map((h) => Buffer.from(h).toString('base64'));
      expect(mine).toEqual(c.proof ?? []);
      compared++;
    }
    for (const file of listFiles(`${vectorsDir}/merkle/consistency`).filter((f) => f.endsWith('happy-path.json'))) {
      const c = readVector<{ size1: number; size2: number; root1: string; root2: string; proof: string[] | null }>(
        `merkle/consistency/${file}`,
      );
      if (c.size2 > rootLeaves.length) continue;
      if (toHex(rootFromLeafHashes(rootLeaves.slice(0, c.size2))) !== toHex(b64(c.root2))) continue;
      const mine = consistencyProof(rootLeaves, c.size1, c.size2).map((h) => Buffer.from(h).toString('base64'));
      expect(mine).toEqual(c.proof ?? []);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('refuses indices and sizes outside the leaves given', () => {
    expect(codeOf(() => inclusionProof(all, 5, 5))).toBe('BAD_INDEX');
    expect(codeOf(() => inclusionProof(all, -1, 5))).toBe('BAD_INDEX');
    expect(codeOf(() => inclusionProof(all, 0, 41))).toBe('BAD_SIZES');
    expect(codeOf(() => inclusionProof(all, 0, 0))).toBe('BAD_SIZES');
    expect(codeOf(() => consistencyProof(all, 0, 3))).toBe('BAD_SIZES');
    expect(codeOf(() => consistencyProof(all, 4, 3))).toBe('BAD_SIZES');
    expect(codeOf(() => consistencyProof(all, 3, 41))).toBe('BAD_SIZES');
    expect(codeOf(() => consistencyProof(all, 1.5, 3))).toBe('BAD_SIZES');
  });
});

describe('verification errors carry evidence', () => {
  const all = leaves(11, 'e');
  const root = rootFromLeafHashes(all);

  it('ROOT_MISMATCH names the trusted root and the computed one in hex', () => {
    const proof = inclusionProof(all, 3, 11);
    const wrong = leafHash(Buffer.from('not leaf 3'));
    let err: MerkleProofError | undefined;
    try {
      verifyInclusion(3, 11, wrong, proof, root);
    } catch (e) {
      err = e as MerkleProofError;
    }
    expect(err).toBeInstanceOf(MerkleProofError);
    expect(err!.code).toBe('ROOT_MISMATCH');
    expect(err!.subject).toBe('root');
    expect(err!.expected).toBe(toHex(root));
    expect(err!.found).toBe(toHex(rootFromInclusionProof(3, 11, wrong, proof)));
    expect(err!.message).toContain(toHex(root));
  });

  it('consistency failures say which root did not match', () => {
    const old = rootFromLeafHashes(all.slice(0, 6));
    const proof = consistencyProof(all, 6, 11);
    const badOld = Uint8Array.from(old);
    badOld[0]! ^= 1;
    const e1 = (() => {
      try {
        verifyConsistency(6, 11, proof, badOld, root);
      } catch (e) {
        return e as MerkleProofError;
      }
    })();
    expect(e1?.code).toBe('ROOT_MISMATCH');
    expect(e1?.subject).toBe('root1');
    expect(e1?.expected).toBe(toHex(badOld));
    expect(e1?.found).toBe(toHex(old));
    const badNew = Uint8Array.from(root);
    badNew[31]! ^= 1;
    expect(codeOf(() => verifyConsistency(6, 11, proof, old, badNew))).toBe('ROOT_MISMATCH');
  });

  it('PROOF_SIZE gives the required and the given count', () => {
    const proof = inclusionProof(all, 3, 11);
    try {
      verifyInclusion(3, 11, all[3]!, proof.slice(1), root);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'PROOF_SIZE', expected: String(proof.length), found: String(proof.length - 1) });
    }
  });

  it('BAD_HASH for a proof hash of the wrong length', () => {
    const proof = inclusionProof(all, 3, 11);
    proof[1] = proof[1]!.subarray(0, 31);
    expect(codeOf(() => verifyInclusion(3, 11, all[3]!, proof, root))).toBe('BAD_HASH');
  });

  it('equal sizes: empty proof and equal roots only', () => {
    expect(codeOf(() => verifyConsistency(11, 11, [], root, root))).toBeUndefined();
    expect(codeOf(() => verifyConsistency(11, 11, [root], root, root))).toBe('PROOF_SIZE');
    expect(codeOf(() => verifyConsistency(11, 11, [], root, emptyRoot()))).toBe('ROOT_MISMATCH');
  });

  it('a consistency proof from the empty tree is refused, even to the empty tree', () => {
    expect(codeOf(() => verifyConsistency(0, 0, [], emptyRoot(), emptyRoot()))).toBe('BAD_SIZES');
    expect(codeOf(() => verifyConsistency(0, 11, [], emptyRoot(), root))).toBe('BAD_SIZES');
  });
});

describe('sizes beyond 32 bits', () => {
  // JavaScript's bitwise operators would truncate these; the proof shape must not.
  const size = 2 ** 40 + 1;
  const last = leafHash(Buffer.from('last'));
  const leftSubtree = leafHash(Buffer.from('stand-in for the root of the first 2^40 leaves'));
  const root = nodeHash(leftSubtree, last);

  it('verifies the inclusion of the last leaf of a tree of 2^40 + 1 leaves', () => {
    expect(() => verifyInclusion(size - 1, size, last, [leftSubtree], root)).not.toThrow();
    expect(codeOf(() => verifyInclusion(size - 1, size, last, [], root))).toBe('PROOF_SIZE');
  });

  it('verifies consistency from 2^40 to 2^40 + 1', () => {
    expect(() => verifyConsistency(size - 1, size, [last], leftSubtree, root)).not.toThrow();
  });

  it('counts the proof of a leaf deep in a tree of 2^33 + 5 leaves as 34 hashes', () => {
    const bigSize = 2 ** 33 + 5;
    try {
      verifyInclusion(2 ** 32 + 7, bigSize, last, [], root);
      expect.unreachable();
    } catch (e) {
      // inner = bitlen((2^32 + 7) xor (2^33 + 4)) = 34; border = popcount of what is left above = 0.
      expect(e).toMatchObject({ code: 'PROOF_SIZE', expected: '34' });
    }
  });
});
