/**
 * Where the crypto tests find their public test vectors. They read the copy in
 * fixtures/vectors/ so that the repository is self-contained; vectors.test.ts checks that
 * the copy still matches the shared originals when those are present.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const vectorsDir = path.join(repoRoot, 'fixtures/vectors');
/** The originals, next to the repository (absent in CI). */
export const sharedVectorsDir = path.resolve(repoRoot, '../shared/vectors');

export function readVector<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(path.join(vectorsDir, relative), 'utf8')) as T;
}

/** Every file under `dir`, as paths relative to it, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(dir, child)).isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out.sort();
}

export const b64 = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'base64'));
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
