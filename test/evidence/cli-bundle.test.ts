import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleCase } from '../../src/evidence/bundle.js';
import { runCli, runInProcess, tempDir } from '../support/cli.js';
import { SAMPLE_CHAIN, SAMPLE_DIR, auditChain, damagedEnvelopes, good, signatureOf, writeFiles } from './cli-builders.js';
import { sha256 } from './helpers.js';

const tmp = tempDir('stax-bundle-');
afterAll(() => tmp.cleanup());

const samples = readdirSync(SAMPLE_DIR)
  .filter((f) => f.endsWith('.thcs'))
  .sort();

interface Entry {
  seq: number;
  ts: string;
  actor: string;
  action: string;
  payload: Record<string, unknown>;
  prev: string;
  hash: string;
}
interface CaseDoc {
  format: string;
  version: number;
  kind: string;
  origin: string;
  created: string;
  entries: Entry[];
}

describe('bundle', () => {
  it('writes a case that stax verify accepts, then rejects once tampered with', async () => {
    const out = join(tmp.path, 'case.json');
    const made = await runCli(['bundle', SAMPLE_DIR, '--chain', SAMPLE_CHAIN, '--out', out, '--examiner', 'J. Doe'], { as: 'tracehound' });
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^✔ wrote .*case\.json: 4 entries \(stax chain v1, kind case\), head [0-9a-f]{64}$/m);
    expect(made.stdout).toContain('check it with: tracehound verify');

    const doc = JSON.parse(readFileSync(out, 'utf8')) as CaseDoc;
    expect(doc).toMatchObject({ format: 'stax-chain', version: 1, kind: 'case', origin: 'localhost/tracehound/case' });
    expect(doc.entries.map((e) => [e.seq, e.action, e.actor])).toEqual([
      [0, 'chain', 'J. Doe'],
      [1, 'evidence', 'J. Doe'],
      [2, 'evidence', 'J. Doe'],
      [3, 'evidence', 'J. Doe'],
    ]);
    expect(doc.entries.every((e) => e.ts === doc.created)).toBe(true);
    expect(doc.entries[0]!.payload).toMatchObject({
      file: SAMPLE_CHAIN,
      fileSha256: sha256(readFileSync(SAMPLE_CHAIN)),
      valid: true,
      records: 3,
      head: 'eade445c6b3a060fe4099ed502e92944f5a151fd36bf74dca993cdfaaabad039',
      recordsWithoutEnvelope: [],
    });
    for (const [i, name] of samples.entries()) {
      const bytes = readFileSync(join(SAMPLE_DIR, name));
      const compressedSize = bytes.readUInt32BE(10);
      expect(doc.entries[i + 1]!.payload).toMatchObject({
        name,
        fileSize: bytes.length,
        fileSha256: sha256(bytes),
        compressedSize,
        originalSize: bytes.readUInt32BE(6),
        compressedSha256: sha256(bytes.subarray(78)),
        payloadSha256: signatureOf(name).split(':')[1],
        signature: signatureOf(name),
        verdict: 'OK',
        records: [expect.objectContaining({ signature: signatureOf(name) })],
      });
    }

    // The same verifier as every other stax trail, with no code of its own for cases.
    const verified = await runCli(['verify', '--json', out]);
    expect(verified.code).toBe(0);
    const [report] = JSON.parse(verified.stdout) as Array<{ format: string; valid: boolean; entries: number; kind: string; head: string }>;
    expect(report).toMatchObject({ format: 'stax', valid: true, entries: 4, kind: 'case', head: doc.entries[3]!.hash });

    const tampered = join(tmp.path, 'case-tampered.json');
    writeFileSync(tampered, readFileSync(out, 'utf8').replace('"fileSize":173', '"fileSize":174'));
    const bad = await runCli(['verify', '--json', tampered]);
    expect(bad.code).toBe(1);
    const [badReport] = JSON.parse(bad.stdout) as Array<{ valid: boolean; problems: Array<{ code: string; index: number }> }>;
    expect(badReport!.valid).toBe(false);
    expect(badReport!.problems[0]).toMatchObject({ code: 'HASH_MISMATCH' });
    const human = await runCli(['verify', tampered], { as: 'tracehound' });
    expect(human.stdout).toContain('INVALID');
  });

  it('refuses to replace --out without --force, and leaves no temporary file', async () => {
    const dir = join(tmp.path, 'refuse');
    mkdirSync(dir);
    const out = join(dir, 'case.json');
    writeFileSync(out, 'precious');
    const r = await runInProcess(['bundle', SAMPLE_DIR, '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/case\.json: already exists; pass --force to replace it/);
    expect(readFileSync(out, 'utf8')).toBe('precious');
    const forced = await runInProcess(['bundle', SAMPLE_DIR, '--out', out, '--force'], { env: { STAX_ACTOR: 'ci-runner' } });
    expect(forced.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CaseDoc;
    expect(doc.entries.map((e) => e.action)).toEqual(['evidence', 'evidence', 'evidence']);
    expect(doc.entries[0]!.actor).toBe('ci-runner');
    expect(readdirSync(dir)).toEqual(['case.json']);
  });

  it('does not replace a file that appears while the case is being made', async () => {
    const dir = join(tmp.path, 'race');
    mkdirSync(dir);
    const out = join(dir, 'case.json');
    // The target appears after the early check: the final link(2) still refuses it.
    const pending = bundleCase({ directory: SAMPLE_DIR, out, examiner: 'x', onProgress: () => writeFileSync(out, 'theirs') });
    await expect(pending).rejects.toMatchObject({ code: 'USAGE' });
    expect(readFileSync(out, 'utf8')).toBe('theirs');
    expect(readdirSync(dir)).toEqual(['case.json']);
  });

  it('records failures, orphans and an invalid chain, writes the case anyway, and exits 1', async () => {
    const dir = writeFiles(join(tmp.path, 'mixed'), [
      { name: good.fileName, bytes: good.bytes },
      ...damagedEnvelopes()
        .filter((d) => d.verdict === 'HASH_MISMATCH')
        .map((d) => ({ name: `flood:${'1'.repeat(64)}.thcs`, bytes: d.bytes })),
    ]);
    const records = auditChain([
      { type: 'neutralization', signature: good.signature, timestamp: 1_700_000_000_000 },
      { type: 'neutralization', signature: `ddos:${'2'.repeat(64)}`, timestamp: 1_700_000_001_000 },
    ]);
    records[1]!.timestamp += 1; // tampered: the record hash no longer matches
    const chain = join(tmp.path, 'mixed-chain.json');
    writeFileSync(chain, JSON.stringify(records));
    const out = join(tmp.path, 'mixed-case.json');
    const r = await runInProcess(['bundle', dir, '--chain', chain, '--out', out, '--json']);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      entries: 3,
      counts: { total: 2, ok: 1, failed: 1 },
      chain: { valid: false, records: 2 },
      recordsWithoutEnvelope: 1,
      envelopesWithoutRecord: 1,
    });
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CaseDoc;
    expect(doc.entries[0]!.payload).toMatchObject({
      valid: false,
      problemCount: 1,
      problems: [expect.objectContaining({ index: 1, code: 'HASH_MISMATCH' })],
      recordsWithoutEnvelope: [expect.objectContaining({ index: 1, signature: `ddos:${'2'.repeat(64)}` })],
    });
    expect(doc.entries.slice(1).map((e) => [e.payload.verdict, (e.payload.records as unknown[]).length])).toEqual([
      ['HASH_MISMATCH', 0],
      ['OK', 1],
    ]);
    // The case itself is intact: it faithfully records a bad chain.
    expect((await runInProcess(['verify', out])).code).toBe(0);
  });

  it('usage errors: no --out, nothing to bundle, a folder that is not there', async () => {
    const noOut = await runInProcess(['bundle', SAMPLE_DIR]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out <file>/);
    const empty = join(tmp.path, 'empty');
    mkdirSync(empty);
    const nothing = await runInProcess(['bundle', empty, '--out', join(tmp.path, 'empty-case.json')]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/nothing to put in a case/);
    expect(existsSync(join(tmp.path, 'empty-case.json'))).toBe(false);
    const absent = await runInProcess(['bundle', join(tmp.path, 'absent'), '--out', join(tmp.path, 'x.json')]);
    expect(absent.code).toBe(2);
  });

  it('a case of an empty folder with a chain lists every record as missing its envelope', async () => {
    const empty = join(tmp.path, 'empty-with-chain');
    mkdirSync(empty);
    copyFileSync(SAMPLE_CHAIN, join(empty, 'audit_chain.json'));
    const out = join(tmp.path, 'empty-chain-case.json');
    const r = await runInProcess(['bundle', empty, '--chain', join(empty, 'audit_chain.json'), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 records without an envelope');
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CaseDoc;
    expect(doc.entries).toHaveLength(1);
    expect((doc.entries[0]!.payload.recordsWithoutEnvelope as unknown[]).length).toBe(3);
  });
});
