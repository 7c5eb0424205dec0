// The verifier most people would write for a stax chain, as a baseline for workload 1:
// read the file, split it into lines, JSON.parse each entry, rebuild its canonical form
// (keys sorted, recursively; JSON.stringify), SHA-256 it and compare; check seq and prev.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

function sortDeep(v) {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (v === null || typeof v !== 'object') return v;
  const out = {};
  for (const k of Object.keys(v).sort()) out[k] = sortDeep(v[k]);
  return out;
}

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l !== '');
const header = JSON.parse(lines[0]);
if (header.format !== 'stax-chain') throw new Error('not a stax chain');
let prev = '0'.repeat(64);
let bad = 0;
for (let i = 1; i < lines.length; i++) {
  const entry = JSON.parse(lines[i]);
  const { hash, sig, ...body } = entry;
  const computed = createHash('sha256').update(JSON.stringify(sortDeep(body))).digest('hex');
  if (computed !== hash || entry.seq !== i - 1 || entry.prev !== prev) bad++;
  prev = hash;
}
process.stdout.write(`${lines.length - 1} entries, ${bad} bad\n`);
process.exitCode = bad === 0 ? 0 : 1;
