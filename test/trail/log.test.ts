import { readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../support/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('stax log', () => {
  it('creates .stax/trail.jsonl on first use and prints seq and hash', async () => {
    const r = await runCli(['log', 'session.start', '--payload', '{"target":"example.com"}', '--actor', 'alice'], { cwd: tmp.path });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^appended entry 0 [0-9a-f]{64} to .*\.stax\/trail\.jsonl\n$/);
    const json = await runCli(['log', 'db.export', '--json'], { cwd: tmp.path, input: '{"rows": 42}', env: { STAX_ACTOR: 'etl' } });
    const entry = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(entry).toMatchObject({ seq: 1, actor: 'etl', action: 'db.export', payload: { rows: 42 } });
    const v = await runCli(['verify', '.stax/trail.jsonl', '--json'], { cwd: tmp.path });
    expect(JSON.parse(v.stdout)[0]).toMatchObject({ valid: true, entries: 2 });
  });

  it('reads the payload from a file, and rejects bad payloads without touching the trail', async () => {
    const trail = join(tmp.path, 'p.jsonl');
    writeFileSync(join(tmp.path, 'payload.json'), '{"deploy": "v1.2.3"}');
    expect((await runCli(['log', 'deploy', '--trail', trail, '--payload-file', 'payload.json'], { cwd: tmp.path })).code).toBe(0);
    const before = readFileSync(trail);
    for (const [args, pattern] of [
      [['--payload', '{"a":'], /--payload: the payload is not valid JSON/],
      [['--payload', '{"a":1,"a":2}'], /duplicate key "a"/],
      [['--payload', '{"n":12345678901234567890}'], /cannot be stored exactly/],
      [['--payload-file', 'nope.json'], /nope\.json: no such file/],
      [['--payload', '1', '--payload-file', 'payload.json'], /either --payload or --payload-file/],
    ] as const) {
      const r = await runCli(['log', 'x', '--trail', trail, ...args], { cwd: tmp.path });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readFileSync(trail).equals(before)).toBe(true);
  });
});

describe('stax trail repair', () => {
  it('removes exactly the torn bytes, asks first, and never removes a complete entry', async () => {
    const trail = join(tmp.path, 'r.jsonl');
    await runCli(['log', 'a', '--trail', trail], { cwd: tmp.path });
    await runCli(['log', 'b', '--trail', trail], { cwd: tmp.path });
    const good = readFileSync(trail);
    const torn = '{"action":"c","actor":"x","pay';
    appendFileSync(trail, torn);
    const v = await runCli(['verify', trail, '--json']);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)[0].problems).toMatchObject([{ index: 2, code: 'TORN_TAIL' }]);
    const refused = await runCli(['trail', 'repair', trail]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/pass --yes/);
    const fixed = await runCli(['trail', 'repair', trail, '--yes', '--json']);
    expect(fixed.code).toBe(0);
    expect(JSON.parse(fixed.stdout)).toMatchObject({ action: 'truncate', tornBytes: Buffer.byteLength(torn), repaired: true });
    expect(readFileSync(trail).equals(good)).toBe(true);
    // A complete entry that only lost its newline keeps its bytes; repair adds the newline.
    writeFileSync(trail, good.subarray(0, good.length - 1));
    const nl = await runCli(['trail', 'repair', trail, '--yes', '--json']);
    expect(JSON.parse(nl.stdout)).toMatchObject({ action: 'add-newline' });
    expect(readFileSync(trail).equals(good)).toBe(true);
    const again = await runCli(['trail', 'repair', trail, '--yes']);
    expect(again.stdout).toMatch(/nothing to repair/);
  });
});
