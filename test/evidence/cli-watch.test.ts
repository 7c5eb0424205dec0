import { spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEnvelope } from '../../src/evidence/envelope.js';
import { BIN, baseEnv, runCli, runInProcess, tempDir } from '../support/cli.js';
import { SAMPLE_DIR, damagedEnvelopes, good } from './cli-builders.js';

const tmp = tempDir('stax-watch-');
afterAll(() => tmp.cleanup());

let n = 0;
const freshDir = (): string => {
  const dir = join(tmp.path, `w${n++}`);
  mkdirSync(dir);
  return dir;
};

interface Event {
  event: string;
  change?: string;
  name: string;
  waitedMs?: number;
  incomplete?: boolean;
  envelope?: { verdict: string; fileSize: number };
}
interface Summary {
  event: 'summary';
  envelopes: number;
  ok: number;
  failed: number;
  stoppedBy: string;
  pending: string[];
}

/** JSON Lines: the events, then the summary. */
function parseWatch(stdout: string): { events: Event[]; summary: Summary } {
  // JSON Lines: one event per line, then the summary as the last line.
  const lines = stdout.trimEnd().split('\n');
  const last = lines.pop() ?? '';
  const events: Event[] = [];
  let i = 0;
  for (; i < lines.length; i++) events.push(JSON.parse(lines[i]!) as Event);
  return { events, summary: JSON.parse(last) as Summary };
}

const samples = readdirSync(SAMPLE_DIR).filter((f) => f.endsWith('.thcs'));

describe('watch', () => {
  it('--once checks what is there and stops', async () => {
    const dir = freshDir();
    for (const f of samples) copyFileSync(join(SAMPLE_DIR, f), join(dir, f));
    const r = await runCli(['watch', dir, '--once', '--settle', '0.1'], { as: 'tracehound' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(0, 3)) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}✔ OK {2}(flood|injection):[0-9a-f]{12}… {2}\(\d+ bytes\)$/);
    expect(lines[3]).toMatch(/^done after [\d.]+ m?s: 3 envelopes, 3 OK, 0 failed$/);
  });

  it('does not judge a half-written envelope while it grows, and checks it once complete', async () => {
    const dir = freshDir();
    const big = buildEnvelope({ path: '/upload', body: Array.from({ length: 400 }, (_, i) => `line ${i} ${i * 7919}`) }, { category: 'injection' });
    const file = join(dir, big.fileName);
    const half = Math.floor(big.bytes.length / 2);
    const running = runCli(['watch', dir, '--json', '--timeout', '4', '--settle', '0.3', '--incomplete-after', '3.5']);
    await sleep(400);
    writeFileSync(file, big.bytes.subarray(0, half));
    // Longer than --settle: size stability alone would have judged the half file.
    await sleep(1500);
    appendFileSync(file, big.bytes.subarray(half));
    const r = await running;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { events, summary } = parseWatch(r.stdout);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'envelope', change: 'added', name: big.fileName, incomplete: false });
    expect(events[0]!.envelope).toMatchObject({ verdict: 'OK', fileSize: big.bytes.length });
    expect(events[0]!.waitedMs).toBeGreaterThanOrEqual(1400);
    expect(summary).toMatchObject({ event: 'summary', envelopes: 1, ok: 1, failed: 0, stoppedBy: 'timeout', pending: [] });
  });

  it('reports a file that stops short of its declared length as TRUNCATED after --incomplete-after', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, good.fileName), good.bytes.subarray(0, 60));
    // Not an envelope at all: judged as soon as it is stable, no waiting for a length.
    writeFileSync(join(dir, 'spam:' + '0'.repeat(64) + '.thcs'), 'GIF89a');
    const started = Date.now();
    const r = await runInProcess(['watch', dir, '--once', '--json', '--settle', '0.2', '--incomplete-after', '1']);
    expect(r.code).toBe(1);
    const { events, summary } = parseWatch(r.stdout);
    // The one that is not an envelope is judged first; the short one only once the wait ran out.
    expect(events.map((e) => [e.name.slice(0, 5), e.envelope!.verdict, e.incomplete])).toEqual([
      ['spam:', 'BAD_MAGIC', false],
      ['injec', 'TRUNCATED', true],
    ]);
    expect(events.find((e) => e.envelope!.verdict === 'TRUNCATED')!.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(summary).toMatchObject({ envelopes: 2, failed: 2, stoppedBy: 'once' });
    const human = await runInProcess(['watch', dir, '--once', '--settle', '0.1', '--incomplete-after', '0.2']);
    expect(human.stdout).toContain('✘ TRUNCATED');
    expect(human.stdout).toContain('stopped growing short of its declared length');
    expect(human.stdout).toMatch(/done after .*: 2 envelopes, 0 OK, 2 failed \((TRUNCATED 1, BAD_MAGIC 1|BAD_MAGIC 1, TRUNCATED 1)\)/);
  });

  it('reports a file again when it changes after it was checked', async () => {
    const dir = freshDir();
    const file = join(dir, good.fileName);
    writeFileSync(file, good.bytes);
    const running = runInProcess(['watch', dir, '--json', '--timeout', '2.5', '--settle', '0.2']);
    await sleep(1000);
    writeFileSync(file, damagedEnvelopes().find((d) => d.verdict === 'TRAILING_BYTES')!.bytes);
    const r = await running;
    expect(r.code).toBe(1);
    const { events, summary } = parseWatch(r.stdout);
    expect(events.map((e) => [e.change, e.envelope!.verdict])).toEqual([
      ['added', 'OK'],
      ['changed', 'TRAILING_BYTES'],
    ]);
    expect(summary).toMatchObject({ envelopes: 2, ok: 1, failed: 1, stoppedBy: 'timeout' });
  });

  it('stops on SIGINT with a summary line and exit 0', async () => {
    const dir = freshDir();
    copyFileSync(join(SAMPLE_DIR, samples[0]!), join(dir, samples[0]!));
    const env = Object.fromEntries(Object.entries(baseEnv()).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
    const child = spawn(process.execPath, [BIN, 'watch', dir, '--settle', '0.1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('✔ OK')) resolve();
      }),
    );
    child.kill('SIGINT');
    expect(await closed).toBe(0);
    expect(stderr).toBe('');
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^interrupted after [\d.]+ m?s: 1 envelope, 1 OK, 0 failed$/);
  });

  it('exit 2 for a folder that is not there', async () => {
    const r = await runInProcess(['watch', join(tmp.path, 'absent'), '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/absent: no such file/);
    expect((await runInProcess(['watch', tmp.path, '--once', '--timeout', 'soon'])).code).toBe(2);
  });
});
