#!/usr/bin/env node
/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by
 * file, plus the total time under each of a few functions named on the command line.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/stax.js hook run
 *   node bench/scripts/cpuprofile-summary.mjs /tmp/prof/*.cpuprofile [--top N] [--under NAME]...
 */
import { readFileSync } from 'node:fs';

// Piped into head: stop quietly when the reader has seen enough.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const args = process.argv.slice(2);
let top = 25;
const files = [];
const under = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--under') under.push(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) {
  process.stderr.write('usage: cpuprofile-summary.mjs FILE.cpuprofile... [--top N] [--under FUNCTION]...\n');
  process.exit(2);
}

const short = (url) => (url || '(native)').replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/dist\//, 'dist/');

for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample intervals: timeDeltas[i] is the time before sample i.
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnSelf = new Map();
  const fileSelf = new Map();
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame;
    const fn = `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
    fnSelf.set(fn, (fnSelf.get(fn) ?? 0) + ms);
    const f = cf.url ? short(cf.url) : `(${cf.functionName || 'native'})`;
    fileSelf.set(f, (fileSelf.get(f) ?? 0) + ms);
  }
  const show = (title, m) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${ms.toFixed(1).padStart(8)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
  };
  process.stdout.write(`${file}: ${total.toFixed(0)} ms sampled (profile ${((p.endTime - p.startTime) / 1000).toFixed(0)} ms)\n`);
  show('self time by function', fnSelf);
  show('self time by file', fileSelf);
  for (const name of under) {
    // Total (inclusive) time of samples with `name` somewhere on their stack.
    let ms = 0;
    for (const [id, t] of self) {
      for (let n = id; n !== undefined; n = parent.get(n)) {
        if (byId.get(n).callFrame.functionName === name) {
          ms += t;
          break;
        }
      }
    }
    process.stdout.write(`\nunder ${name}: ${ms.toFixed(1)} ms (${((ms / total) * 100).toFixed(1)}%)\n`);
  }
}
