/**
 * Workload 6: `tracehound inspect DIR` on a folder of 10,000 evidence envelopes (payloads
 * of about 500 bytes, built with the library's writer: bench/scripts/synth-envelopes.mjs),
 * against a plain Node script that reads and gunzips every envelope and checks nothing
 * (bench/baselines/read-gunzip.mjs).
 *
 * The issue sets no target. Per envelope, stax does what the baseline does plus the
 * checks it exists for: it parses and bounds-checks the header, hashes the compressed
 * bytes (sha256) and the inflated payload (sha256), compares both, parses the file name
 * as a signature, and then sorts and prints one table row per envelope. For payloads this
 * small the hashing and inflating cost little next to opening and reading each file, so
 * those checks should cost no more than the reading itself twice over: within 3x of the
 * plain read + gunzip. Beyond that the time is going into overhead (async file
 * handles, allocation, the table), not into the checks.
 */
import { mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureEnvelopes } from '../scripts/synth-envelopes.mjs';

export const ENVELOPES = 10_000;

export const name = 'tracehound inspect: 10k envelopes';
export const description = '`tracehound inspect DIR`, 10,000 envelopes of about 500 payload bytes, vs read + gunzip of every file';
export const target = [{ kind: 'slowdown', baseline: 'read + gunzip', atMost: 3 }];

export async function setup({ dir, repo }) {
  mkdirSync(dir, { recursive: true });
  const envelopes = await ensureEnvelopes(join(dir, `envelopes-${ENVELOPES}-v1`), ENVELOPES);
  // The program under the name npm links it as: `tracehound` is bin/stax.js, which reads
  // the name it was called by.
  const bin = join(dir, 'bin');
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin);
  symlinkSync(join(repo, 'bin', 'stax.js'), join(bin, 'tracehound'));
  return { envelopes, tracehound: join(bin, 'tracehound') };
}

export const contenders = {
  stax: ({ envelopes, tracehound }) => ({
    argv: [process.execPath, tracehound, 'inspect', envelopes],
    check: (stdout) => {
      if (!stdout.includes(`${ENVELOPES} envelopes: ${ENVELOPES} OK`)) throw new Error(`tracehound inspect did not find ${ENVELOPES} OK envelopes: ${stdout.slice(0, 200)}`);
    },
  }),
  'read + gunzip': ({ envelopes }) => ({
    argv: [process.execPath, 'bench/baselines/read-gunzip.mjs', envelopes],
    check: (stdout) => {
      if (!stdout.startsWith(`${ENVELOPES} envelopes`)) throw new Error(`read-gunzip.mjs read ${stdout.trim()}`);
    },
  }),
};
