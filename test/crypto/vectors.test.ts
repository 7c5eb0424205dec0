import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, sharedVectorsDir, vectorsDir } from './vectors.js';

// The folders the crypto tests use, copied from the shared vectors (see fixtures/vectors/README.md).
const COPIED = ['merkle', 'ed25519', 'signed-note'];

describe('fixtures/vectors', () => {
  it('holds the copied folders', () => {
    for (const dir of COPIED) expect(listFiles(path.join(vectorsDir, dir)).length).toBeGreaterThan(0);
  });

  it.skipIf(!existsSync(sharedVectorsDir))('is byte-for-byte the shared originals (../shared/vectors)', () => {
    for (const dir of COPIED) {
      const ours = listFiles(path.join(vectorsDir, dir));
      const theirs = listFiles(path.join(sharedVectorsDir, dir));
      expect(ours, dir).toEqual(theirs);
      for (const file of theirs) {
        const a = readFileSync(path.join(vectorsDir, dir, file));
        const b = readFileSync(path.join(sharedVectorsDir, dir, file));
        expect(a.equals(b), `${dir}/${file}`).toBe(true);
      }
    }
  });
});
