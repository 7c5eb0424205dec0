#!/usr/bin/env node
/**
 * Where `stax code register` and `stax code verify` spend their time, through the library:
 * module loading, then for each command the time until the first hashed batch comes back
 * (reading the bank, walking the tree, starting the hash threads), the hashing itself (first
 * to last progress report) and what follows it (records, the chain append with fdatasync /
 * comparing), plus the rendering the CLI would do. For profiling workload 4; not a contender.
 *
 *   node bench/scripts/codebank-phases.mjs TREE BANK
 *
 * BANK is removed first.
 */
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const imp = (p) => import(pathToFileURL(join(DIST, p)).href);
const [treeArg, bankArg] = process.argv.slice(2);
if (bankArg === undefined) {
  process.stderr.write('usage: codebank-phases.mjs TREE BANK\n');
  process.exit(2);
}
const tree = resolve(treeArg);
const bank = resolve(bankArg);
const root = process.cwd();
rmSync(bank, { force: true });

const ms = (a, b) => `${(b - a).toFixed(0).padStart(6)} ms`;
const t0 = performance.now();
const { registerCode } = await imp('codebank/register.js');
const { verifyCode } = await imp('codebank/verify.js');
const { renderRegister, renderVerify } = await imp('cli/commands/code.js');
const { createUi } = await imp('cli/output.js');
const t1 = performance.now();
process.stdout.write(`${ms(t0, t1)}  import codebank + cli modules\n`);

const ui = createUi({ argv: [], programName: 'stax', env: { NO_COLOR: '1' }, cwd: root, stdin: process.stdin, stdout: { write: () => true }, stderr: { write: () => true } });

async function phases(what, run, render) {
  let first;
  let last;
  const onProgress = () => {
    const now = performance.now();
    first ??= now;
    last = now;
  };
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await run(onProgress);
  const done = performance.now();
  render(result);
  const rendered = performance.now();
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`-- ${what}: ${ms(start, rendered)} wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms cpu (all threads)\n`);
  process.stdout.write(`${ms(start, first ?? done)}  until the first hashed batch (bank read, walk, threads started)\n`);
  process.stdout.write(`${ms(first ?? done, last ?? done)}  hashing, first to last batch\n`);
  process.stdout.write(`${ms(last ?? done, done)}  after hashing (records and chain append / compare)\n`);
  process.stdout.write(`${ms(done, rendered)}  rendering\n`);
  return result;
}

const common = { bank, root, cwd: root };
await phases(
  'register',
  (onProgress) => registerCode({ ...common, paths: [tree], actor: 'bench', origin: 'bench/codebank', onProgress }),
  (r) => renderRegister(r, ui),
);
await phases(
  'verify',
  (onProgress) => verifyCode({ ...common, onProgress }),
  (r) => renderVerify(r, ui),
);
