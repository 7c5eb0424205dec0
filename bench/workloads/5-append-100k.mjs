/**
 * Workload 5b: the library (ChainWriter) appending 100,000 entries to a new chain, 1,000
 * at a time, with the documented durability (fdatasync per group commit), against the same
 * run with durability 'none': the ratio is what the fsyncs cost. Each contender times its
 * own appends (module loading excluded).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const ENTRIES = 100_000;
export const GROUP = 1_000;

export const name = 'library: append 100k entries';
export const description = `ChainWriter.append, ${ENTRIES} entries issued ${GROUP} at a time; fdatasync per group commit vs durability 'none'`;
export const target = [
  { kind: 'rate', work: ENTRIES, atLeast: 50_000, unit: 'entries/s' },
  { kind: 'info', baseline: "durability 'none'", text: 'what fdatasync costs', measure: (s) => `${(((s.stax.median - s["durability 'none'"].median) / s.stax.median) * 100).toFixed(0)}% of the time` },
];

export async function setup({ dir }) {
  mkdirSync(dir, { recursive: true });
  return { dir };
}

const run = (dir, durability) => ({
  argv: [process.execPath, 'bench/scripts/append-many.mjs', join(dir, `append-${durability}.jsonl`), String(ENTRIES), String(GROUP), durability],
  reportsSeconds: true,
});

export const contenders = {
  stax: ({ dir }) => run(dir, 'fsync'),
  "durability 'none'": ({ dir }) => run(dir, 'none'),
};
