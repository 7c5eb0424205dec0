/**
 * Crash safety: writers are killed with SIGKILL at random moments, over and over.
 *
 * After every kill:
 *  - every entry whose append had returned (the child printed it only then) is in the file;
 *  - the file verifies, or its only problem is a TORN_TAIL (the killed write's last bytes);
 *  - repair (findTornTail + repairTornTail, or `stax trail repair --yes`) restores a chain
 *    that verifies, and the next writer goes on, taking over the lock the dead one left.
 * Counted: trials, kills before the first acknowledgement, torn tails seen, stale locks
 * taken over, entries acknowledged, entries lost (must be 0).
 *
 * Writers: the library (ChainWriter: one append at a time, batches, and 3 MB batches that
 * a kill can tear mid-write), `stax log` processes (three at once on one trail), the code
 * bank (registerCode) and the allowlist (approve: a signed file plus a guard-trail entry).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/formats/verify.js';
import { GuardError } from '../../src/guard/allowlist.js';
import { openAllowlist } from '../../src/guard/check.js';
import { findTornTail, repairTornTail } from '../../src/trail/repair.js';
import { REPO } from '../support/cli.js';
import { CRASH_CLI_TRIALS, CRASH_TRIALS, Stats } from '../support/fuzz-config.js';
import { CHILDREN, chainIndex, completeLines, sleep, startNode, startStax } from '../support/fuzz-process.js';

const stats = new Stats('reliability-crash');
const tmp = mkdtempSync(join(tmpdir(), 'stax-crash-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const APPEND = join(CHILDREN, 'append.mjs');
const rand = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));
/** Per-trial budget: a trial is a process start, a kill and a verification. */
const timeout = (trials: number): number => 60_000 + trials * 3_000;

/**
 * Checks a chain just after a writer died: acknowledged entries all there (the missing ones
 * are counted as "entries lost"), at worst a torn tail, and repair makes it verify. A lock
 * the dead writer left is not removed here: the next writer must take it over.
 */
async function checkAfterCrash(file: string, acked: ReadonlySet<string>, repair: (file: string) => Promise<void>): Promise<void> {
  if (!existsSync(file)) {
    expect(acked.size, 'entries were acknowledged but the file does not exist').toBe(0);
    return;
  }
  if (existsSync(`${file}.lock`)) stats.add('stale locks left by a killed writer');
  const tail = findTornTail(file);
  if (statSync(file).size === 0 || tail.offset === 0) {
    // Killed between creating the file and finishing its header line (written together
    // with the first entries): no entry can have been acknowledged. `stax verify` says
    // "the file is empty" (exit 2); repair cuts a torn header; the next append writes one.
    stats.add('killed before the header was complete');
    expect(acked.size).toBe(0);
    if (tail.action !== 'none') await repair(file);
    expect(statSync(file).size).toBe(0);
    return;
  }
  const report = await verifyFile(file);
  const codes = report.problems.map((p) => p.code);
  if (tail.action === 'none') {
    expect(report.problems, `no torn tail, but the chain does not verify: ${file}`).toEqual([]);
  } else {
    stats.add('torn tails seen');
    stats.add(`torn tails: ${tail.action}`);
    if (tail.action === 'add-newline') {
      // A complete last entry that lost only its newline still verifies.
      expect(report.problems).toEqual([]);
    } else {
      expect(codes, `a kill left more than a torn tail in ${file}: ${JSON.stringify(report.problems.slice(0, 3))}`).toEqual(['TORN_TAIL']);
    }
    await repair(file);
    stats.add('repairs');
    const again = await verifyFile(file);
    expect(again.problems, 'repair did not restore a valid chain').toEqual([]);
  }
  const present = chainIndex(file);
  let lost = 0;
  for (const a of acked) if (!present.has(a)) lost++;
  stats.add('entries lost', lost);
  expect(lost, `${lost} acknowledged entries are missing from ${file}`).toBe(0);
}

const libraryRepair = async (file: string): Promise<void> => {
  await repairTornTail(findTornTail(file));
};

type KillAt = 'early' | 'after-ack' | 'during-write';

/**
 * One writer process, killed at a random moment: during start-up or its first append
 * ('early'), a little after an acknowledgement ('after-ack'), or within a few ms of the
 * child saying a large write() is starting ('during-write', the large modes only).
 */
async function killOne(args: string[], start: typeof startNode, when: KillAt): Promise<{ acked: string[]; killed: boolean; code: number | null; stderr: string }> {
  const run = start(args, { deadlineMs: 60_000 });
  if (when === 'early') {
    await sleep(rand(0, 250));
  } else if ((await run.firstLine) !== null) {
    if (when === 'after-ack') await sleep(rand(0, 80));
    else {
      const seen = run.stdout().split('\n').filter((l) => l === 'W').length;
      const deadline = Date.now() + 20_000;
      while (run.stdout().split('\n').filter((l) => l === 'W').length <= seen && Date.now() < deadline) await sleep(0.2);
      await sleep(rand(0, 4));
    }
  }
  run.kill('SIGKILL');
  const exit = await run.exited;
  const acked = completeLines(exit.stdout).filter((l) => l !== 'W');
  return { acked, killed: exit.signal === 'SIGKILL', code: exit.code, stderr: exit.stderr };
}

/** A lane of kill trials on one chain file at a time, moving to a new file now and then. */
async function libraryLane(lane: string, trials: number, modes: readonly string[]): Promise<void> {
  let file = '';
  let acked = new Set<string>();
  for (let t = 0; t < trials; t++) {
    const size = file === '' ? 0 : (statSync(file, { throwIfNoEntry: false })?.size ?? 0);
    if (file === '' || t % 25 === 0 || size > 12 * 1024 * 1024) {
      file = join(tmp, `${lane}-${t}`, 'trail.jsonl');
      acked = new Set();
    }
    const mode = modes[t % modes.length]!;
    const large = mode === 'big' || mode === 'burst';
    const dice = Math.random();
    const when: KillAt = dice < 0.2 ? 'early' : large && dice < 0.8 ? 'during-write' : 'after-ack';
    const r = await killOne([APPEND, file, mode, `${lane}-${t}`], startNode, when);
    if (!r.killed) throw new Error(`the ${mode} writer ended by itself (exit ${r.code}): ${r.stderr}`);
    stats.add('kill trials');
    stats.add(`kill trials: ${mode}`);
    stats.add(`kills timed ${when}`);
    if (r.acked.length === 0) stats.add('kills before the first acknowledgement');
    for (const a of r.acked) acked.add(a);
    stats.add('entries acknowledged', r.acked.length);
    await checkAfterCrash(file, acked, libraryRepair);
  }
}

const HAS_CODEBANK = existsSync(join(REPO, 'dist/codebank/register.js'));
const HAS_APPROVE = existsSync(join(REPO, 'dist/guard/approve.js'));
const HMAC = 'crash-suite-hmac-key';

describe.concurrent('SIGKILL at random moments', () => {
  it(`library writer: ${CRASH_TRIALS} kills, nothing acknowledged is lost, at worst a torn tail that repair fixes`, { timeout: timeout(CRASH_TRIALS) }, async () => {
    // Two lanes at once: each trial is mostly waiting for a process to start.
    const half = Math.ceil(CRASH_TRIALS / 2);
    await Promise.all([libraryLane('lib-a', half, ['each', 'burst', 'batch', 'big']), libraryLane('lib-b', CRASH_TRIALS - half, ['burst', 'big', 'each', 'batch'])]);
    expect(stats.get('entries lost')).toBe(0);
    expect(stats.get('entries acknowledged')).toBeGreaterThan(0);
  });

  it(`stax log: ${CRASH_CLI_TRIALS} rounds of three processes on one trail, each killed at a random moment`, { timeout: timeout(CRASH_CLI_TRIALS * 2) }, async () => {
    const file = join(tmp, 'cli', 'trail.jsonl');
    const acked = new Set<string>();
    const cliRepair = async (f: string): Promise<void> => {
      const r = await startStax(['trail', 'repair', f, '--yes', '--json'], { deadlineMs: 30_000 }).exited;
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ repaired: true });
    };
    for (let t = 0; t < CRASH_CLI_TRIALS; t++) {
      const runs = await Promise.all(
        [0, 1, 2].map(async (p) => {
          const run = startStax(['log', 'cli.step', '--trail', file, '--actor', `cli-${p}`, '--payload', JSON.stringify({ t, p, s: 'é…😀' })], { deadlineMs: 60_000 });
          await sleep(rand(60, 900));
          run.kill('SIGKILL');
          return run.exited;
        }),
      );
      for (const r of runs) {
        stats.add('stax log processes');
        if (r.signal === 'SIGKILL') stats.add('stax log processes killed');
        else if (r.code !== 0) {
          // A peer killed mid-write left a torn tail: refusing to append after it is right.
          expect(r.stderr, `stax log failed without being killed: ${r.stderr}`).toMatch(/incomplete.*stax trail repair/);
          stats.add('stax log refused a torn tail');
        }
        const m = /^appended entry (\d+) ([0-9a-f]{64}) /m.exec(r.stdout);
        if (m !== null) {
          acked.add(`${m[1]} ${m[2]}`);
          stats.add('entries acknowledged');
        }
      }
      stats.add('kill trials');
      stats.add('kill trials: stax log');
      await checkAfterCrash(file, acked, cliRepair);
    }
    expect(stats.get('entries lost')).toBe(0);
  });

  it.skipIf(!HAS_CODEBANK)(`code bank (registerCode): ${Math.ceil(CRASH_TRIALS / 3)} kills, every acknowledged commit kept`, { timeout: timeout(CRASH_TRIALS) }, async () => {
    await libraryLane('bank', Math.ceil(CRASH_TRIALS / 3), ['codebank']);
    expect(stats.get('entries lost')).toBe(0);
  });

  it.skipIf(!HAS_APPROVE)(`allowlist (approve): ${Math.ceil(CRASH_TRIALS / 3)} kills, every acknowledged approval kept and the allowlist still checks`, { timeout: timeout(CRASH_TRIALS) }, async () => {
    const trials = Math.ceil(CRASH_TRIALS / 3);
    let project = '';
    let acked: Array<{ serial: number; entry: string; name: string }> = [];
    for (let t = 0; t < trials; t++) {
      if (project === '') {
        project = join(tmp, `approve-${t}`);
        acked = [];
      }
      const dice = Math.random();
      const run = startNode([APPEND, project, 'approve', `approver-${t}`], { deadlineMs: 60_000, env: { STAX_HMAC_KEY: HMAC } });
      if (dice < 0.2) await sleep(rand(0, 400));
      else if ((await run.firstLine) !== null) {
        if (dice < 0.6) await sleep(rand(0, 150));
        else {
          // Aim between the allowlist's rename and its guard-trail append.
          const renames = (): number => run.stdout().split('\n').filter((l) => l === 'R').length;
          const seen = renames();
          const deadline = Date.now() + 20_000;
          while (renames() <= seen && Date.now() < deadline) await sleep(0.2);
          stats.add('kills timed after the allowlist rename');
        }
      }
      run.kill('SIGKILL');
      const exit = await run.exited;
      if (exit.signal !== 'SIGKILL') throw new Error(`the approve writer ended by itself (exit ${exit.code}): ${exit.stderr}`);
      stats.add('kill trials');
      stats.add('kill trials: approve');
      for (const line of completeLines(exit.stdout).filter((l) => l !== 'R')) {
        const [serial, seq, hash, name] = line.split(' ');
        acked.push({ serial: Number(serial), entry: `${seq} ${hash}`, name: name! });
        stats.add('entries acknowledged');
      }
      // The guard trail: a stax chain like any other.
      await checkAfterCrash(join(project, '.stax/guard.jsonl'), new Set(acked.map((a) => a.entry)), libraryRepair);
      if (!existsSync(join(project, '.stax/allowlist.json'))) {
        expect(acked).toEqual([]);
        continue;
      }
      // The allowlist: still opens as a check opens it, and holds every acknowledged approval.
      try {
        const opened = await openAllowlist({ cwd: project, env: { STAX_HMAC_KEY: HMAC } });
        const newest = Math.max(0, ...acked.map((a) => a.serial));
        expect(opened.allowlist.serial).toBeGreaterThanOrEqual(newest);
        const missing = acked.filter((a) => opened.allowlist.packages[a.name] === undefined).length;
        stats.add('entries lost', missing);
        expect(missing).toBe(0);
      } catch (err) {
        if (err instanceof GuardError && err.reason === 'GUARD_TRAIL_MISSING' && !existsSync(join(project, '.stax/guard.jsonl'))) {
          // Known bug (test/fuzz/known-bugs.test.ts, "approve-first-not-crash-atomic"): killed
          // during the project's first approval, after the allowlist was renamed into place
          // and before the guard trail was created, the project is wedged: every check and
          // every later change refuses it. (A later approval interrupted the same way opens
          // with a warning and is recorded by the next change.) Start a new project.
          stats.add('known bug: approve-first-not-crash-atomic');
          project = '';
          continue;
        }
        throw err;
      }
    }
    expect(stats.get('entries lost')).toBe(0);
  });
});
