/**
 * Workload 4: the code bank on a node_modules-like tree of 20,000 small files (about
 * 160 MB; bench/scripts/synth-tree.mjs): `stax code register` into a new bank, then
 * `stax code verify`, as one run, against what a user would otherwise run for the same two
 * steps: hashdeep (record with -r -c sha256, then audit with -a -k) and
 * find | xargs sha256sum (then sha256sum -c). Every contender starts from no record.
 *
 * What each does is not the same work: stax hashes with sha512 and sha256, records each
 * file's mode and writes a hash chain with fdatasync (the documented durability), and its
 * verify also walks the registered folders for new files, as hashdeep's audit does;
 * sha256sum -c does not look for new files at all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTree } from '../scripts/synth-tree.mjs';

export const FILES = 20_000;

export const name = 'code bank: register + verify 20k files';
export const description = '`stax code register DIR` then `stax code verify`, 20,000 files (160 MB) vs hashdeep record + audit and find|xargs sha256sum + sha256sum -c';
export const target = [{ kind: 'slowdown', baseline: 'hashdeep', atMost: 1 }];

function haveHashdeep() {
  return spawnSync('hashdeep', ['-V'], { stdio: 'ignore' }).status === 0;
}

export async function setup({ dir, repo }) {
  if (!haveHashdeep()) {
    process.stderr.write('[bench] 4-codebank: hashdeep is not installed; installing the Debian package (apt-get install -y hashdeep)\n');
    const r = spawnSync('sh', ['-c', 'apt-get install -y hashdeep || (apt-get update && apt-get install -y hashdeep)'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !haveHashdeep()) throw new Error('hashdeep is missing and could not be installed: install it (Debian/Ubuntu: apt-get install hashdeep) and run again');
  }
  mkdirSync(dir, { recursive: true });
  const tree = `tree-${FILES}-v1`;
  if (!existsSync(join(dir, tree))) process.stderr.write(`[bench] 4-codebank: building the ${FILES}-file tree (once)\n`);
  ensureTree(join(dir, tree), FILES);
  return { dir, tree, bin: join(repo, 'bin', 'stax.js') };
}

// Each contender is one shell command, so that all three pay the same shell; paths are
// relative to `dir`, as a user in that folder would type them.
const sh = (dir, script, clean) => ({
  argv: ['sh', '-c', script],
  cwd: dir,
  prepare: () => {
    for (const f of clean) rmSync(join(dir, f), { force: true });
  },
});

export const contenders = {
  stax: ({ dir, tree, bin }) =>
    sh(dir, `"${process.execPath}" "${bin}" code register ${tree} --bank bank.jsonl >/dev/null && "${process.execPath}" "${bin}" code verify --bank bank.jsonl >/dev/null`, ['bank.jsonl', 'bank.jsonl.lock']),
  hashdeep: ({ dir, tree }) => sh(dir, `hashdeep -r -c sha256 ${tree} > known.txt && hashdeep -r -c sha256 -a -k known.txt ${tree} >/dev/null`, ['known.txt']),
  'find | xargs sha256sum': ({ dir, tree }) => sh(dir, `find ${tree} -type f -print0 | xargs -0 sha256sum > sums.txt && sha256sum -c --quiet sums.txt`, ['sums.txt']),
};
