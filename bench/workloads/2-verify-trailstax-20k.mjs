/**
 * Workload 2: `stax verify` of a 20,000-entry TrailStax trail export (about 12 MB, written
 * by Python's own json.dump), against a faithful Python verifier that applies the same
 * json.dumps rule (bench/baselines/trailstax_verify.py). Both are whole processes, start-up
 * included: that is what a pipeline pays.
 */
import { join } from 'node:path';
import { trailstaxExport } from '../lib/generate.mjs';

export const ENTRIES = 20_000;

export const name = 'verify 20k-entry TrailStax export';
export const description = '`stax verify FILE` vs python3 trailstax_verify.py FILE, whole processes';
export const target = [{ kind: 'speedup', baseline: 'python3', atLeast: 3 }];

export async function setup({ dir }) {
  return { file: trailstaxExport(join(dir, `trail-${ENTRIES}-v1.json`), ENTRIES) };
}

export const contenders = {
  stax: ({ file }) => ({ argv: [process.execPath, 'bin/stax.js', 'verify', file] }),
  python3: ({ file }) => ({ argv: ['python3', 'bench/baselines/trailstax_verify.py', file] }),
};
