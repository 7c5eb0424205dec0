#!/usr/bin/env node
// The soak: the fuzz and reliability suites of `npm test`, run big, and their figures.
//
//   npm run soak                          # the default sizes below (tens of minutes on 2 cores)
//   node soak/run.mjs --fuzz-runs 20 --crash-trials 600 --cli-trials 60 --rounds 3
//   node soak/run.mjs --only crash        # one phase: fuzz, crash, concurrency or matrix
//
// Each phase is `vitest run` on its test files with the sizes in the environment
// (test/support/fuzz-config.ts reads them); each suite writes what it counted to a folder,
// and the totals are printed at the end (and written as JSON with --json FILE). Needs the
// built CLI: `npm run build` first (the npm script does it). Exit code: vitest's, so a
// property that fails, a lost entry or a leaked secret fails the soak.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const sizes = {
  fuzzRuns: Number(flag('fuzz-runs', 40)),
  crashTrials: Number(flag('crash-trials', 1500)),
  cliTrials: Number(flag('cli-trials', 150)),
  rounds: Number(flag('rounds', 5)),
};
const only = flag('only', null);
const jsonOut = flag('json', null);

if (!existsSync(join(REPO, 'dist/cli/main.js'))) {
  console.error('soak: no dist/: run npm run build first');
  process.exit(2);
}

const phases = [
  { name: 'fuzz', files: ['test/fuzz'], env: { STAX_FUZZ_RUNS: String(sizes.fuzzRuns) } },
  { name: 'crash', files: ['test/reliability/crash.test.ts'], env: { STAX_CRASH_TRIALS: String(sizes.crashTrials), STAX_CRASH_CLI_TRIALS: String(sizes.cliTrials) } },
  { name: 'concurrency', files: ['test/reliability/concurrency.test.ts'], env: { STAX_CONCURRENCY: String(sizes.rounds) } },
  // Not scaled: the hostile matrix and the secrets suite, run once for their figures.
  { name: 'matrix', files: ['test/reliability/hostile.test.ts', 'test/reliability/secrets.test.ts'], env: {} },
].filter((p) => only === null || p.name === only);

const stats = mkdtempSync(join(tmpdir(), 'stax-soak-'));
const started = Date.now();
let exitCode = 0;
const timings = {};

function vitest(files, env) {
  return new Promise((resolve) => {
    const bin = join(REPO, 'node_modules/vitest/vitest.mjs');
    const child = spawn(process.execPath, [bin, 'run', ...files], {
      cwd: REPO,
      env: { ...process.env, ...env, STAX_SOAK_STATS: stats, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d) => {
      out += d;
      // Show progress: vitest's per-file lines and failures.
      for (const raw of String(d).split('\n')) {
        const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
        if (/^\s*(✓|×|❯|FAIL|Test Files|Tests|Error|Counterexample)/.test(line)) process.stdout.write(`  ${line.trim()}\n`);
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

console.log(`soak: fuzz x${sizes.fuzzRuns}, ${sizes.crashTrials} library kill trials (+ a third each for the code bank and the allowlist), ${sizes.cliTrials} rounds of 3 stax log kills, ${sizes.rounds} concurrency rounds`);
for (const phase of phases) {
  const t0 = Date.now();
  console.log(`\n== ${phase.name} (${phase.files.join(' ')})`);
  const r = await vitest(phase.files, phase.env);
  timings[phase.name] = Math.round((Date.now() - t0) / 1000);
  if (r.code !== 0) {
    exitCode = r.code;
    const log = join(stats, `${phase.name}.log`);
    writeFileSync(log, r.out);
    console.log(`  ${phase.name} FAILED (exit ${r.code}); full output: ${log}`);
  }
}

// Totals by suite and counter.
const totals = {};
for (const f of readdirSync(stats).filter((n) => n.endsWith('.json'))) {
  const { suite, counts } = JSON.parse(readFileSync(join(stats, f), 'utf8'));
  totals[suite] ??= {};
  for (const [k, v] of Object.entries(counts)) totals[suite][k] = (totals[suite][k] ?? 0) + v;
}
const sum = (pred) => Object.entries(totals).flatMap(([s, c]) => Object.entries(c).filter(([k]) => pred(s, k)).map(([, v]) => v)).reduce((a, b) => a + b, 0);
const summary = {
  minutes: Math.round((Date.now() - started) / 600) / 100,
  secondsByPhase: timings,
  fuzzInputsTried: sum((s, k) => s.startsWith('fuzz-') && k.endsWith(' cases')),
  killTrials: sum((s, k) => k === 'kill trials'),
  tornTailsSeen: sum((s, k) => k === 'torn tails seen'),
  repairs: sum((s, k) => k === 'repairs'),
  staleLocksTakenOver: sum((s, k) => k === 'stale locks left by a killed writer' || k === 'stale locks taken over'),
  entriesAcknowledged: sum((s, k) => s === 'reliability-crash' && k === 'entries acknowledged'),
  entriesWrittenConcurrently: sum((s, k) => k === 'entries written concurrently'),
  entriesLost: sum((s, k) => k === 'entries lost'),
  hostileCliCases: sum((s, k) => s === 'reliability-hostile' && k === 'CLI cases'),
  secretInvocations: sum((s, k) => s === 'reliability-secrets' && k === 'invocations'),
  knownBugHits: Object.fromEntries(Object.values(totals).flatMap((c) => Object.entries(c)).filter(([k]) => k.startsWith('known')).reduce((m, [k, v]) => m.set(k, (m.get(k) ?? 0) + v), new Map())),
  bySuite: totals,
  exitCode,
};

console.log('\n== figures');
for (const [suite, counts] of Object.entries(totals).sort()) {
  console.log(`  ${suite}`);
  for (const [k, v] of Object.entries(counts).sort()) console.log(`    ${String(v).padStart(9)}  ${k}`);
}
console.log('\n== summary');
for (const [k, v] of Object.entries(summary)) if (k !== 'bySuite') console.log(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
if (jsonOut !== null) writeFileSync(jsonOut, JSON.stringify(summary, null, 2) + '\n');
if (exitCode === 0) rmSync(stats, { recursive: true, force: true });
process.exit(exitCode);
