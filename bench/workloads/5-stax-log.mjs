/**
 * Workload 5a: `stax log ACTION --payload JSON` appending one entry (with the default
 * durability: fdatasync before it returns), against `node -e 0` in the same run: Node's own
 * start-up is most of the cost, so the target is an allowance on top of it.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'stax log: append one entry';
export const description = '`stax log` as a whole process (fsync included) vs `node -e 0`';
export const target = [
  { kind: 'overhead', baseline: 'node -e 0', atMostMs: 40 },
  // The same allowance as a ratio (40 ms on the 80 ms start-up): on a loaded machine
  // every start-up stretches, ours and Node's alike, and a fixed number of ms does not.
  { kind: 'slowdown', baseline: 'node -e 0', atMost: 1.5 },
];
export const rounds = 15;

export async function setup({ dir, repo }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return { dir, trail: join(dir, 'trail.jsonl'), bin: join(repo, 'bin/stax.js') };
}

export const contenders = {
  stax: ({ dir, trail, bin }) => ({
    argv: [process.execPath, bin, 'log', 'deploy.finished', '--trail', trail, '--actor', 'ci', '--payload', '{"service":"api","version":"1.4.2"}'],
    cwd: dir,
  }),
  'node -e 0': () => ({ argv: [process.execPath, '-e', '0'] }),
};
