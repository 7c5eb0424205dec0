/**
 * Many processes writing the same trail at once: library writers (one append at a time
 * and in batches) and `stax log` processes, started together. Nothing may be lost (every
 * acknowledged entry is in the file), nothing interleaved (every line is one whole entry,
 * each writer's entries in its own order), and every chain must verify. A lock left by a
 * holder that was SIGKILLed, or naming a process that is gone, must be taken over.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyFile } from '../../src/formats/verify.js';
import { CONCURRENCY_ROUNDS, Stats } from '../support/fuzz-config.js';
import { CHILDREN, chainIndex, completeLines, startNode, startStax, type Exited } from '../support/fuzz-process.js';

const stats = new Stats('reliability-concurrency');
const tmp = mkdtempSync(join(tmpdir(), 'stax-concurrency-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const APPEND = join(CHILDREN, 'append.mjs');

interface Entry {
  seq: number;
  hash: string;
  actor: string;
  action: string;
  payload: { i?: number; n?: number } | null;
}

function entries(file: string): Entry[] {
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l) as Entry);
}

/** Every acknowledged entry present, each writer's entries in the order it wrote them, the chain valid. */
async function expectIntact(file: string, acked: string[], writers: Map<string, number>): Promise<void> {
  const report = await verifyFile(file);
  expect(report.problems).toEqual([]);
  const all = entries(file);
  const total = [...writers.values()].reduce((a, b) => a + b, 0);
  expect(all).toHaveLength(total);
  expect(report.entries).toBe(total);
  const present = chainIndex(file);
  const lost = acked.filter((a) => !present.has(a)).length;
  stats.add('entries lost', lost);
  expect(lost).toBe(0);
  expect(new Set(acked).size).toBe(acked.length);
  for (const [actor, count] of writers) {
    const own = all.filter((e) => e.actor === actor);
    expect(own, `entries of ${actor}`).toHaveLength(count);
    const order = own.map((e) => e.payload?.i ?? e.payload?.n ?? 0);
    expect(order, `${actor}'s entries are out of order`).toEqual([...order].sort((a, b) => a - b));
  }
  expect(existsSync(`${file}.lock`), 'the lock was left behind').toBe(false);
  stats.add('entries written concurrently', total);
}

function expectClean(r: Exited, what: string): void {
  expect(r.signal, `${what} was killed (deadline)`).toBeNull();
  expect(r.code, `${what} failed: ${r.stderr}`).toBe(0);
}

describe('many writers, one trail', () => {
  it(`library and stax log processes together (${CONCURRENCY_ROUNDS} round${CONCURRENCY_ROUNDS === 1 ? '' : 's'}): nothing lost, nothing interleaved, valid`, { timeout: 90_000 * CONCURRENCY_ROUNDS }, async () => {
    for (let round = 0; round < CONCURRENCY_ROUNDS; round++) {
      const file = join(tmp, `round-${round}`, 'trail.jsonl');
      const writers = new Map<string, number>();
      const lib = Array.from({ length: 5 }, (_, p) => {
        const actor = `lib-${p}`;
        const [mode, count] = p % 3 === 2 ? ['batch', 100] : ['each', 40];
        writers.set(actor, count as number);
        return startNode([APPEND, file, mode as string, actor, String(count)], { deadlineMs: 80_000 });
      });
      const cli = Array.from({ length: 4 }, (_, p) => {
        const actor = `cli-${p}`;
        writers.set(actor, 1);
        return startStax(['log', 'cli.step', '--trail', file, '--actor', actor, '--payload', JSON.stringify({ n: p, s: 'é' })], { deadlineMs: 80_000 });
      });
      const done = await Promise.all([...lib, ...cli].map((r) => r.exited));
      done.forEach((r, i) => expectClean(r, i < lib.length ? `library writer ${i}` : `stax log ${i - lib.length}`));
      const acked = done.slice(0, lib.length).flatMap((r) => completeLines(r.stdout));
      for (const r of done.slice(lib.length)) {
        const m = /^appended entry (\d+) ([0-9a-f]{64}) /m.exec(r.stdout);
        expect(m, r.stdout).not.toBeNull();
        acked.push(`${m![1]} ${m![2]}`);
      }
      await expectIntact(file, acked, writers);
      stats.add('concurrent rounds');
      stats.add('writer processes', done.length);
    }
  });

  it('two trails written at once by three processes each: every chain valid and separate', { timeout: 90_000 }, async () => {
    const files = [0, 1].map((t) => join(tmp, `multi-${t}`, 'trail.jsonl'));
    const runs = files.flatMap((file, t) => [0, 1, 2].map((p) => ({ file, actor: `t${t}-p${p}`, run: startNode([APPEND, file, p === 1 ? 'batch' : 'each', `t${t}-p${p}`, p === 1 ? '100' : '30'], { deadlineMs: 80_000 }) })));
    const done = await Promise.all(runs.map((r) => r.run.exited));
    done.forEach((r, i) => expectClean(r, runs[i]!.actor));
    for (const [t, file] of files.entries()) {
      const mine = runs.map((r, i) => ({ ...r, out: done[i]! })).filter((r) => r.file === file);
      await expectIntact(file, mine.flatMap((r) => completeLines(r.out.stdout)), new Map(mine.map((r) => [r.actor, r.actor.endsWith('p1') ? 100 : 30])));
      expect(entries(file).every((e) => e.actor.startsWith(`t${t}-`))).toBe(true);
    }
  });
});

describe('stale locks', () => {
  it('a holder SIGKILLed while holding the lock: the writers take it over and finish', { timeout: 60_000 }, async () => {
    const file = join(tmp, 'killed-holder', 'trail.jsonl');
    mkdirSync(join(tmp, 'killed-holder'));
    const holder = startNode([join(CHILDREN, 'hold-lock.mjs'), file], { deadlineMs: 30_000 });
    expect(await holder.firstLine).toBe('held');
    holder.kill('SIGKILL');
    await holder.exited;
    expect(existsSync(`${file}.lock`)).toBe(true);
    const started = Date.now();
    const runs = [0, 1, 2].map((p) => startNode([APPEND, file, 'each', `after-${p}`, '20'], { deadlineMs: 50_000 }));
    const done = await Promise.all(runs.map((r) => r.exited));
    done.forEach((r, i) => expectClean(r, `writer ${i}`));
    await expectIntact(file, done.flatMap((r) => completeLines(r.stdout)), new Map([0, 1, 2].map((p) => [`after-${p}`, 20])));
    stats.add('stale locks taken over');
    stats.add('ms to take over a SIGKILLed holder\'s lock (3 writers, 60 appends)', Date.now() - started);
  });

  it('a lock naming a process that no longer exists, and a stale steal lock beside it', { timeout: 60_000 }, async () => {
    const file = join(tmp, 'dead-pid', 'trail.jsonl');
    mkdirSync(join(tmp, 'dead-pid'));
    const gone = startNode(['-e', '0']);
    const pid = gone.child.pid!;
    await gone.exited;
    writeFileSync(`${file}.lock`, `${pid} ${hostname()} 2026-01-01T00:00:00.000Z\n`);
    // A stealer that died while stealing: its steal lock is stale after 2 s.
    writeFileSync(`${file}.lock.steal`, `${pid} ${hostname()} 2026-01-01T00:00:00.000Z\n`);
    const runs = [0, 1].map((p) => startStax(['log', 'after.dead', '--trail', file, '--actor', `cli-${p}`], { deadlineMs: 50_000 }));
    const done = await Promise.all(runs.map((r) => r.exited));
    done.forEach((r, i) => expectClean(r, `stax log ${i}`));
    const acked = done.map((r) => /^appended entry (\d+) ([0-9a-f]{64}) /m.exec(r.stdout)).map((m) => `${m![1]} ${m![2]}`);
    await expectIntact(file, acked, new Map([['cli-0', 1], ['cli-1', 1]]));
    expect(existsSync(`${file}.lock.steal`)).toBe(false);
    stats.add('stale locks taken over', 2);
  });
});
