import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, runInProcess, tempDir } from '../support/cli.js';

const SAMPLES = [
  ['trails/example.jsonl', 'stax', 5],
  ['trailstax/session_trail.json', 'trailstax-trail', 4],
  ['trailstax/codebank.json', 'trailstax-codebank', 3],
  ['guardian/guardian_trail.jsonl', 'guardian-trail', 5],
  ['tracehound/audit_chain.json', 'tracehound-audit', 3],
] as const;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('stax verify on the real samples', () => {
  for (const [file, format, entries] of SAMPLES) {
    it(`verifies ${file} as ${format}`, async () => {
      const r = await runCli(['verify', '--json', join(FIXTURES, file)]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [report] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(report).toMatchObject({ format, valid: true, entries, firstBad: null, problems: [] });
    });
  }

  it('verifies the guardian registry with the key from the environment, and fails closed without it', async () => {
    const file = join(FIXTURES, 'guardian/approved_registry.json');
    const ok = await runCli(['verify', file], { env: { STAX_HMAC_KEY: 'sample-secret-do-not-use' } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('valid');
    const wrong = await runCli(['verify', '--json', file], { env: { STAX_HMAC_KEY: 'another-key' } });
    expect(wrong.code).toBe(1);
    const [report] = JSON.parse(wrong.stdout) as Array<{ problems: Array<{ code: string }> }>;
    expect(report!.problems.map((p) => p.code)).toEqual(['BAD_SIGNATURE', 'BAD_SIGNATURE']);
    const none = await runCli(['verify', file]);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/approved_registry\.json: .*STAX_HMAC_KEY.*--hmac-key-file/);
  });

  it('is the same command under the name tracehound', async () => {
    const r = await runCli(['verify', join(FIXTURES, 'tracehound/audit_chain.json')], { as: 'tracehound' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid');
  });

  it('reads gzip transparently and from stdin', async () => {
    const gz = join(tmp.path, 'example.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(FIXTURES, 'trails/example.jsonl'))));
    const r = await runCli(['verify', '--json', gz]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)[0].notes).toContain('read through gzip');
    const piped = await runCli(['verify', '-'], { input: readFileSync(join(FIXTURES, 'trailstax/session_trail.json')) });
    expect(piped.code).toBe(0);
  });

  it('reports a tampered entry with its index and code, exit 1', async () => {
    const file = join(tmp.path, 'tampered.json');
    const text = readFileSync(join(FIXTURES, 'trailstax/session_trail.json'), 'utf8').replace('"storage.admin"', '"storage.viewer"');
    writeFileSync(file, text);
    const r = await runInProcess(['verify', '--json', file]);
    expect(r.code).toBe(1);
    const [report] = JSON.parse(r.stdout) as Array<{ valid: boolean; firstBad: number; problems: Array<{ index: number; code: string }> }>;
    expect(report!.valid).toBe(false);
    expect(report!.firstBad).toBe(1);
    expect(report!.problems[0]).toMatchObject({ index: 1, code: 'HASH_MISMATCH' });
    const human = await runInProcess(['verify', file]);
    expect(human.stdout).toContain('INVALID');
    expect(human.stdout).toContain('HASH_MISMATCH');
  });

  it('exits 2 with a one-line error for missing, empty, directory and unknown inputs', async () => {
    const empty = join(tmp.path, 'empty.json');
    writeFileSync(empty, '');
    const unknown = join(tmp.path, 'unknown.json');
    writeFileSync(unknown, '{"hello": "world"}\n');
    for (const [file, pattern] of [
      [join(tmp.path, 'nope.json'), /nope\.json: no such file/],
      [empty, /empty\.json: the file is empty/],
      [tmp.path, /is a directory/],
      [unknown, /unknown\.json: not a chain format stax knows/],
    ] as const) {
      const r = await runCli(['verify', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('keeps the format facts when the file is copied elsewhere', async () => {
    const copy = join(tmp.path, 'copy.jsonl');
    copyFileSync(join(FIXTURES, 'trails/example.jsonl'), copy);
    const r = await runCli(['verify', copy, '--json']);
    const [report] = JSON.parse(r.stdout) as Array<{ limits: Array<{ threat: string }> }>;
    expect(report!.limits.map((l) => l.threat)).toEqual(['truncation', 'rewrite', 'unsigned-fields']);
  });
});
