import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, runInProcess, tempDir } from '../support/cli.js';
import { globToRegExp, parseTime } from '../../src/trail/show.js';

const tmp = tempDir();
const trail = join(tmp.path, 'trail.jsonl');
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  const steps: Array<[string, string, string]> = [
    ['alice', 'session.start', '{"target":"example.com"}'],
    ['agent', 'http.get', '{"url":"https://example.com/","status":200}'],
    ['agent', 'http.post', '{"note":"\\u001b]0;pwned\\u0007\\u001b[2J gone"}'],
    ['bob', 'session.end', '{}'],
  ];
  for (const [actor, action, payload] of steps) {
    const r = await runInProcess(['log', action, '--trail', trail, '--actor', actor, '--payload', payload]);
    expect(r.code).toBe(0);
  }
});

describe('stax trail show', () => {
  it('lists entries with filters and never prints escape sequences raw', async () => {
    const all = await runCli(['trail', 'show', trail]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('4 shown, 4 matched, 4 in');
    expect(all.stdout).not.toContain('\u001b');
    expect(all.stdout).not.toContain('\u0007');
    const http = await runCli(['trail', 'show', trail, '--action', 'http.*', '--json']);
    const r = JSON.parse(http.stdout) as { matched: number; entries: Array<{ action: string }> };
    expect(r.entries.map((e) => e.action)).toEqual(['http.get', 'http.post']);
    const last = await runInProcess(['trail', 'show', trail, '--reverse', '--limit', '2', '--jsonl']);
    expect(last.stdout.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([3, 2]);
    const bob = await runInProcess(['trail', 'show', trail, '--actor', 'bob', '--json']);
    expect(JSON.parse(bob.stdout).entries).toHaveLength(1);
    const future = await runInProcess(['trail', 'show', trail, '--since', '2999-01-01', '--json']);
    expect(JSON.parse(future.stdout).matched).toBe(0);
  });

  it('warns and exits 1 when the trail does not verify', async () => {
    const bad = join(tmp.path, 'bad.jsonl');
    writeFileSync(bad, readFileSync(trail, 'utf8').replace('"status":200', '"status":500'));
    const r = await runCli(['trail', 'show', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not verify \(HASH_MISMATCH at entry 1\)/);
  });

  it('rejects bad options with exit 2', async () => {
    expect((await runInProcess(['trail', 'show', trail, '--since', 'yesterday'])).code).toBe(2);
    expect((await runInProcess(['trail', 'show', trail, '--limit', '-3'])).code).toBe(2);
  });

  it('parses globs and times', () => {
    expect(globToRegExp('http.*').test('http.get')).toBe(true);
    expect(globToRegExp('http.*').test('httpXget')).toBe(false);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(parseTime('2h', Date.UTC(2026, 0, 1, 12)).toISOString()).toBe('2026-01-01T10:00:00.000Z');
  });
});

describe('stax trail export', () => {
  it('writes the document form, which verifies identically', async () => {
    const out = join(tmp.path, 'export.json');
    const r = await runCli(['trail', 'export', trail, '--out', out]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { format: string; entries: unknown[] };
    expect(doc.format).toBe('stax-chain');
    expect(doc.entries).toHaveLength(4);
    const a = JSON.parse((await runCli(['verify', '--json', trail])).stdout)[0];
    const b = JSON.parse((await runCli(['verify', '--json', out])).stdout)[0];
    expect(b).toMatchObject({ valid: true, entries: a.entries, head: a.head, format: 'stax' });
    // A pretty-printed copy (another tool's layout) still verifies: hashes come from values.
    const pretty = join(tmp.path, 'pretty.json');
    writeFileSync(pretty, JSON.stringify(doc, null, 4));
    expect(JSON.parse((await runCli(['verify', '--json', pretty])).stdout)[0]).toMatchObject({ valid: true, head: a.head });
    expect((await runCli(['trail', 'export', trail, '--out', out])).code).toBe(2);
  });

  it('writes nothing for a trail that does not verify', async () => {
    const bad = join(tmp.path, 'bad2.jsonl');
    writeFileSync(bad, readFileSync(trail, 'utf8').replace('"actor":"bob"', '"actor":"eve"'));
    const out = join(tmp.path, 'never.json');
    const r = await runCli(['trail', 'export', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    const stdout = await runCli(['trail', 'export', bad]);
    expect(stdout.stdout).toBe('');
  });
});

describe('stax trail import', () => {
  it('imports a TrailStax export, keeping each original hash as provenance', async () => {
    const out = join(tmp.path, 'imported.jsonl');
    const r = await runCli(['trail', 'import', join(FIXTURES, 'trailstax/session_trail.json'), '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: true, entries: 4 });
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ format: 'stax-chain', kind: 'trail', origin: 'trailstax/recon-agent-001' });
    expect(lines[3].provenance).toEqual({
      format: 'trailstax-trail',
      entry_id: '7da958c0-540a-4a47-8cf3-60ce1879c639',
      entry_hash: '8b4c01e14133af607308fa6412c3785fa1ad070b75a3571ea708845d973fb6cd',
      sequence: 2,
      timestamp: 1795315169.788846,
    });
    expect(lines[3].payload).toEqual({ method: 'GET', url: 'https://example.com/', latency_ms: 12.5, note: 'café' });
    expect((await runCli(['verify', out])).code).toBe(0);
  });

  it('refuses a tampered export and anything that is not a TrailStax trail', async () => {
    const bad = join(tmp.path, 'tampered_trail.json');
    writeFileSync(bad, readFileSync(join(FIXTURES, 'trailstax/session_trail.json'), 'utf8').replace('passive', 'active'));
    const out = join(tmp.path, 'nope.jsonl');
    const r = await runCli(['trail', 'import', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(existsSync(out)).toBe(false);
    const other = await runCli(['trail', 'import', join(FIXTURES, 'trailstax/codebank.json'), '--out', out]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/expected a TrailStax trail export/);
  });
});
