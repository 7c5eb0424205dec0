import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChainWriter } from '../../src/chain/writer.js';
import { verifyFile } from '../../src/formats/verify.js';
import { REPO, tempDir } from '../support/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const DRIVER = join(REPO, 'test/support/append-driver.mjs');

function runDriver(args: string[]): Promise<{ code: number | null; acked: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, acked: out.split('\n').filter(Boolean) }));
  });
}

describe('ChainWriter', () => {
  it('creates the chain with its header, then appends linked entries', async () => {
    const file = join(tmp.path, 'a', 'trail.jsonl');
    const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/a' } });
    const first = await w.append({ actor: 'alice', action: 'one', payload: { x: 1 } });
    const second = await w.append({ actor: 'bob', action: 'two' });
    expect(first.seq).toBe(0);
    expect(second).toMatchObject({ seq: 1, prev: first.hash, payload: null });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'stax-chain', version: 1, kind: 'trail', origin: 'test.example/a' });
    const report = await verifyFile(file);
    expect(report).toMatchObject({ valid: true, entries: 2, head: second.hash });
  });

  it('batches appends issued together into one write', async () => {
    const file = join(tmp.path, 'batch.jsonl');
    const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/b' } });
    const all = await Promise.all(Array.from({ length: 500 }, (_, i) => w.append({ actor: 'a', action: 'x', payload: i })));
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect((await verifyFile(file)).valid).toBe(true);
  });

  it('continues a chain another writer (or process) extended, reading only the tail', async () => {
    const file = join(tmp.path, 'shared.jsonl');
    const a = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/s' } });
    const b = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/s' } });
    await a.append({ actor: 'a', action: 'x' });
    await b.append({ actor: 'b', action: 'y' });
    const e = await a.append({ actor: 'a', action: 'z' });
    expect(e.seq).toBe(2);
    expect((await verifyFile(file)).valid).toBe(true);
  });

  it('refuses a missing file unless told how to create it, and a torn tail always', async () => {
    const missing = new ChainWriter(join(tmp.path, 'missing.jsonl'));
    await expect(missing.append({ actor: 'a', action: 'x' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const file = join(tmp.path, 'torn.jsonl');
    const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/t' } });
    await w.append({ actor: 'a', action: 'x' });
    appendFileSync(file, '{"seq":1,"ts":"2026');
    const before = readFileSync(file);
    await expect(w.append({ actor: 'a', action: 'y' })).rejects.toThrow(/incomplete.*stax trail repair/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('appends at the end when it opens an existing chain without create', async () => {
    const file = join(tmp.path, 'existing.jsonl');
    await new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/e' } }).append({ actor: 'a', action: 'one' });
    const before = readFileSync(file, 'utf8');
    await new ChainWriter(file).append({ actor: 'a', action: 'two' });
    const after = readFileSync(file, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect((await verifyFile(file)).entries).toBe(2);
  });

  it('refuses to append to a file that is not a stax chain', async () => {
    const file = join(tmp.path, 'other.json');
    writeFileSync(file, '{"hello":"world"}\n');
    const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/o' } });
    await expect(w.append({ actor: 'a', action: 'x' })).rejects.toThrow(/not a stax chain entry/);
    expect(readFileSync(file, 'utf8')).toBe('{"hello":"world"}\n');
  });

  it('serializes 8 processes appending 250 entries each into exactly 2,000 valid entries', async () => {
    const file = join(tmp.path, 'concurrent.jsonl');
    const runs = await Promise.all(Array.from({ length: 8 }, (_, p) => runDriver([file, '250', `proc-${p}`])));
    for (const r of runs) {
      expect(r.code).toBe(0);
      expect(r.acked).toHaveLength(250);
    }
    const report = await verifyFile(file);
    expect(report).toMatchObject({ valid: true, entries: 2000, problems: [] });
    // Every acknowledged (seq, hash) is in the file, and no seq was handed out twice.
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as { seq: number; hash: string; actor: string });
    const inFile = new Set(lines.map((l) => `${l.seq} ${l.hash}`));
    const acked = runs.flatMap((r) => r.acked);
    expect(new Set(acked).size).toBe(2000);
    for (const a of acked) expect(inFile.has(a)).toBe(true);
    for (let p = 0; p < 8; p++) expect(lines.filter((l) => l.actor === `proc-${p}`)).toHaveLength(250);
    expect(existsSync(`${file}.lock`)).toBe(false);
  }, 120_000);

  it('survives SIGKILL mid-append: acknowledged entries stay, the tail is at worst torn, repair restores it', async () => {
    const { findTornTail, repairTornTail } = await import('../../src/trail/repair.js');
    const file = join(tmp.path, 'killed.jsonl');
    const acked: string[] = [];
    for (let trial = 0; trial < 12; trial++) {
      const child = spawn(process.execPath, [DRIVER, file, '100000', `kill-${trial}`, trial % 2 === 0 ? 'each' : 'batch'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      // Kill only once the child is appending (a loaded machine may take long to start Node).
      const started = new Promise((r) => child.stdout.once('data', r));
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await started;
      await new Promise((r) => setTimeout(r, 5 + ((trial * 37) % 120)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('close', r));
      // Only complete lines were acknowledged.
      acked.push(...out.split('\n').slice(0, -1).filter(Boolean));
      const tail = findTornTail(file);
      if (tail.action !== 'none') await repairTornTail(tail);
      // A killed holder leaves its lock behind; the next writer must take it over.
    }
    const report = await verifyFile(file);
    expect(report.problems).toEqual([]);
    const inFile = new Set(readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => { const e = JSON.parse(l) as { seq: number; hash: string }; return `${e.seq} ${e.hash}`; }));
    for (const a of acked) expect(inFile.has(a)).toBe(true);
    expect(acked.length).toBeGreaterThan(0);
  }, 120_000);
});
