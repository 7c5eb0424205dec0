#!/usr/bin/env node
/**
 * Where `stax hook run` spends its time, phase by phase, in one process: module loading,
 * then each step runHook takes, called one by one through the library. For profiling
 * workload 3; not a contender.
 *
 *   cd <project> && STAX_HMAC_KEY=... node bench/scripts/hook-phases.mjs [REPEAT]
 *
 * REPEAT > 1 repeats the steps (modules loaded once) to separate warm from cold.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
const t0 = performance.now();
// Wall time and CPU time (user + system, all threads) of each phase: on a loaded machine
// the CPU time is the steadier of the two.
const lap = (() => {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  return (what) => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    process.stdout.write(`${(now - last).toFixed(1).padStart(8)} ms wall ${((cpu.user + cpu.system) / 1000).toFixed(1).padStart(8)} ms cpu  ${what}\n`);
    last = now;
    lastCpu = process.cpuUsage();
  };
})();
const imp = (p) => import(pathToFileURL(join(DIST, p)).href);

const cwd = process.cwd();
const env = process.env;
const repeat = Number(process.argv[2] ?? 1);

await imp('cli/main.js');
lap('import dist/cli/main.js (the CLI: commander, registry)');
await imp('cli/commands/hook.js');
lap('import cli/commands/hook.js');
const hook = await imp('guard/hook.js');
lap('import guard/hook.js');
const check = await imp('guard/check.js');
lap('import guard/check.js (and what it imports)');
const lockfileMod = await imp('guard/lockfile.js');
const allowlistMod = await imp('guard/allowlist.js');
lap('import guard/lockfile.js, guard/allowlist.js');
await import('semver');
lap('import semver (lockfileDrift)');
const trailMod = await imp('guard/guard-trail.js');
lap('import guard/guard-trail.js');

for (let i = 0; i < repeat; i++) {
  process.stdout.write(`-- pass ${i + 1}\n`);
  const { readFileSync } = await import('node:fs');
  const manifest = readFileSync(join(cwd, 'package.json'), 'utf8');
  const lockText = readFileSync(join(cwd, 'package-lock.json'), 'utf8');
  lap('read package.json + package-lock.json');
  JSON.parse(lockText);
  lap('JSON.parse(package-lock.json) alone');
  await hook.lockfileDrift(manifest, lockText);
  lap('lockfileDrift');
  const a = await allowlistMod.readAllowlist(join(cwd, '.stax', 'allowlist.json'));
  lap('readAllowlist (strict parse + validate)');
  void a;
  const opened = await check.openAllowlist({ cwd, env });
  lap('openAllowlist (read + signature + guard trail)');
  void opened;
  const lock = await lockfileMod.readLockfile(join(cwd, 'package-lock.json'));
  lap(`readLockfile (${lock.packages.length} packages)`);
  const result = await check.checkProject({ cwd, env, guardTrail: undefined });
  lap(`checkProject whole (${result.counts.allowed} allowed, ${result.counts.flagged} flagged)`);
  await trailMod.fileDigest(join(cwd, 'package-lock.json'));
  lap('fileDigest(lockfile)');
}
const cpu = process.cpuUsage();
process.stdout.write(`${(performance.now() - t0).toFixed(1).padStart(8)} ms wall ${((cpu.user + cpu.system) / 1000).toFixed(1).padStart(8)} ms cpu  total (cpu from process start)\n`);
