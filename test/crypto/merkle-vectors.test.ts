import { describe, expect, it } from 'vitest';
import { MerkleProofError, verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { b64, listFiles, readVector, vectorsDir } from './vectors.js';

// transparency-dev/merkle testdata: a correct verifier accepts exactly the wantErr=false cases.
interface InclusionCase {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface ConsistencyCase {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const inclusionFiles = listFiles(`${vectorsDir}/merkle/inclusion`);
const consistencyFiles = listFiles(`${vectorsDir}/merkle/consistency`);

function outcome(check: () => void): string {
  try {
    check();
    return 'accepted';
  } catch (err) {
    if (err instanceof MerkleProofError) return `rejected ${err.code}`;
    throw err;
  }
}

describe('merkle/inclusion vectors', () => {
  it('has the 98 cases the README promises', () => {
    expect(inclusionFiles).toHaveLength(98);
  });
  it.each(inclusionFiles)('%s', (file) => {
    const c = readVector<InclusionCase>(`merkle/inclusion/${file}`);
    const got = outcome(() =>
      verifyInclusion(c.leafIdx, c.treeSize, b64(c.leafHash), (c.proof ?? []).map(b64), b64(c.root)),
    );
    if (c.wantErr) expect(got).toMatch(/^rejected /);
    else expect(got).toBe('accepted');
  });
});

describe('merkle/consistency vectors', () => {
  it('has the 98 cases the README promises', () => {
    expect(consistencyFiles).toHaveLength(98);
  });
  it.each(consistencyFiles)('%s', (file) => {
    const c = readVector<ConsistencyCase>(`merkle/consistency/${file}`);
    const got = outcome(() =>
      verifyConsistency(c.size1, c.size2, (c.proof ?? []).map(b64), b64(c.root1), b64(c.root2)),
    );
    if (c.wantErr) expect(got).toMatch(/^rejected /);
    else expect(got).toBe('accepted');
  });
});
