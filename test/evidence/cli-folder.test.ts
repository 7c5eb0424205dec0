import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { buildEnvelope } from '../../src/evidence/envelope.js';
import { baseEnv, runCli, runInProcess, tempDir } from '../support/cli.js';
import { SAMPLE_CHAIN, SAMPLE_DIR, auditChain, damagedEnvelopes, good, nameFor, signatureOf, writeFiles } from './cli-builders.js';

const tmp = tempDir('stax-folder-');
afterAll(() => tmp.cleanup());

// Three good envelopes of different sizes and ratios, four damaged ones, and things that
// are not envelopes: a symbolic link, a folder named like an envelope, a text file.
const flood = buildEnvelope({ path: '/', flood: 'A'.repeat(4000) }, { category: 'flood' });
const spam = buildEnvelope({ m: 'buy' }, { category: 'spam' });
const damaged = damagedEnvelopes();
const pick = (v: string): Buffer => damaged.find((d) => d.verdict === v)!.bytes;
const EVIL_NAME = 'evil\x1b[31m\x1b]0;owned\x07.thcs';
const names = {
  good: good.fileName,
  flood: flood.fileName,
  spam: spam.fileName,
  hashMismatch: nameFor('hash-mismatch', 'injection'),
  truncated: nameFor('truncated', 'flood'),
  badName: EVIL_NAME,
  payloadMismatch: nameFor('payload-mismatch', 'spam'),
};
const dir = writeFiles(join(tmp.path, 'quarantine'), [
  { name: names.good, bytes: good.bytes },
  { name: names.flood, bytes: flood.bytes },
  { name: names.spam, bytes: spam.bytes },
  { name: names.hashMismatch, bytes: pick('HASH_MISMATCH') },
  { name: names.truncated, bytes: flood.bytes.subarray(0, 100) },
  // good's own bytes under a name that is not a signature, and under another signature
  { name: names.badName, bytes: good.bytes },
  { name: names.payloadMismatch, bytes: good.bytes },
  { name: 'notes.txt', bytes: 'not evidence' },
]);
symlinkSync(join(dir, names.good), join(dir, 'linked.thcs'));
mkdirSync(join(dir, 'folder.thcs'));

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const missing = signatureOf(nameFor('gone', 'ddos'));
const chainRecords = auditChain([
  { type: 'neutralization', signature: signatureOf(names.good), timestamp: T0 },
  { type: 'neutralization', signature: signatureOf(names.flood), timestamp: T0 + 1000 },
  { type: 'evacuation', signature: signatureOf(names.flood), timestamp: T0 + 61_000 },
  { type: 'neutralization', signature: missing, timestamp: T0 + 120_000 },
  // `type` is not covered by the record hash: a hostile one still verifies.
  { type: 'neutralization\x1b[2J', signature: signatureOf(names.spam), timestamp: T0 + 180_000 },
]);
const chainFile = join(tmp.path, 'audit_chain.json');
writeFileSync(chainFile, JSON.stringify(chainRecords, null, 2));

interface Facts {
  name: string;
  verdict: string;
  category: string | null;
  fileSize: number;
  ratio: number | null;
  records?: Array<{ index: number; type: string; time: string }>;
}
interface InspectJson {
  kind: string;
  counts: { total: number; ok: number; failed: number; byVerdict: Record<string, number> };
  envelopes: Facts[];
  filters: { category: string | null; verdict: string | null; sort: string };
  skipped: Array<{ name: string; reason: string }>;
  otherFiles: number;
  chain: null | {
    report: { valid: boolean; entries: number; problems: Array<{ index: number; code: string }> };
    byType: Record<string, number>;
    span: { first: string; last: string; durationMs: number } | null;
    unmatchedRecords: Array<{ index: number; signature: string }> | null;
    unmatchedEnvelopes: string[];
  };
}

const inspectJson = async (...args: string[]): Promise<{ code: number; json: InspectJson }> => {
  const r = await runInProcess(['inspect', dir, '--json', ...args], { as: 'tracehound' });
  return { code: r.code, json: JSON.parse(r.stdout) as InspectJson };
};

describe('inspect on a folder', () => {
  it('checks every envelope, skips links and folders, exit 1 when any fails', async () => {
    const { code, json } = await inspectJson();
    expect(code).toBe(1);
    expect(json.kind).toBe('directory');
    expect(json.counts).toEqual({
      total: 7,
      ok: 3,
      failed: 4,
      byVerdict: { TRUNCATED: 1, HASH_MISMATCH: 1, BAD_SIGNATURE_NAME: 1, PAYLOAD_HASH_MISMATCH: 1, OK: 3 },
    });
    expect(json.skipped).toEqual([
      { name: 'folder.thcs', reason: 'not-a-file' },
      { name: 'linked.thcs', reason: 'symlink' },
    ]);
    expect(json.otherFiles).toBe(1);
    expect(json.filters).toEqual({ category: null, verdict: null, sort: 'name' });
    expect(json.envelopes.map((e) => e.name)).toEqual(Object.values(names).sort());
  });

  it('--verdict and --category filter the rows but not the exit code', async () => {
    const failed = await inspectJson('--verdict', 'failed');
    expect(failed.json.envelopes.map((e) => e.verdict).sort()).toEqual(['BAD_SIGNATURE_NAME', 'HASH_MISMATCH', 'PAYLOAD_HASH_MISMATCH', 'TRUNCATED']);
    const ok = await inspectJson('--verdict', 'OK');
    expect(ok.json.envelopes.map((e) => e.name)).toEqual([names.flood, names.good, names.spam].sort());
    expect(ok.code).toBe(1);
    expect(ok.json.counts.failed).toBe(4);
    const one = await inspectJson('--verdict', 'TRUNCATED');
    expect(one.json.envelopes.map((e) => e.name)).toEqual([names.truncated]);
    const floods = await inspectJson('--category', 'flood');
    expect(floods.json.envelopes.map((e) => e.name)).toEqual([names.flood, names.truncated].sort());
    const both = await inspectJson('--category', 'flood', '--verdict', 'OK');
    expect(both.json.envelopes.map((e) => e.name)).toEqual([names.flood]);
    const bad = await runInProcess(['inspect', dir, '--verdict', 'MAYBE']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--verdict: expected OK, FAILED or one of BAD_MAGIC/);
  });

  it('--sort name, category, size, ratio, verdict', async () => {
    const order = async (key: string): Promise<string[]> => (await inspectJson('--sort', key)).json.envelopes.map((e) => e.name);
    const byCategory = (await inspectJson('--sort', 'category')).json.envelopes.map((e) => e.category);
    expect(byCategory).toEqual(['flood', 'flood', 'injection', 'injection', 'spam', 'spam', null]);
    const sizes = (await inspectJson('--sort', 'size')).json.envelopes.map((e) => e.fileSize);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const ratios = (await inspectJson('--sort', 'ratio')).json.envelopes;
    // The truncated copy keeps flood's header, so it claims the same ratio; ties go by name.
    expect(ratios.slice(0, 2).map((e) => e.name)).toEqual([names.flood, names.truncated].sort());
    const known = ratios.map((e) => e.ratio).filter((r): r is number => r !== null);
    expect(known).toEqual([...known].sort((a, b) => b - a));
    // Failures first, in check order, then OK.
    const verdicts = (await inspectJson('--sort', 'verdict')).json.envelopes.map((e) => e.verdict);
    expect(verdicts).toEqual(['TRUNCATED', 'HASH_MISMATCH', 'BAD_SIGNATURE_NAME', 'PAYLOAD_HASH_MISMATCH', 'OK', 'OK', 'OK']);
    expect(await order('name')).toEqual(Object.values(names).sort());
    expect((await runInProcess(['inspect', dir, '--sort', 'colour'])).code).toBe(2);
  });

  it('renders a table, lists failures and skipped entries, and never prints an escape from a name', async () => {
    const r = await runInProcess(['inspect', dir, '--verdict', 'OK']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\| signature +\| category +\| size \| compressed \| payload \| ratio \| verdict \|/);
    expect(r.stdout).toContain(`| ${flood.signatureHash.slice(0, 12)}… | flood `);
    expect(r.stdout).toContain('3 shown, 4 hidden by --verdict OK');
    expect(r.stdout).toContain('4 failed envelopes not shown by the filters');
    expect(r.stdout).toContain('skipped linked.thcs: a symbolic link (not followed)');
    const all = await runInProcess(['inspect', dir]);
    expect(all.stdout).toContain('7 envelopes: 3 OK, 4 failed (TRUNCATED 1, HASH_MISMATCH 1, BAD_SIGNATURE_NAME 1, PAYLOAD_HASH_MISMATCH 1)');
    expect(all.stdout).toContain('evil\\x1b[31m\\x1b]0;owned\\x07.thcs');
    expect(all.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(all.stderr).toBe('');
  });

  it('draws no progress bar for a scan that is over within 300 ms, even on a terminal', async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = new PassThrough();
    const err: Buffer[] = [];
    stderr.on('data', (d: Buffer) => err.push(d));
    stdout.resume();
    const io: Io = { argv: ['inspect', SAMPLE_DIR], programName: 'tracehound', env: baseEnv(), cwd: process.cwd(), stdin: Readable.from([]), stdout, stderr };
    expect(await main(io)).toBe(0);
    expect(Buffer.concat(err).toString()).toBe('');
  });

  it('exit 2 for a folder that does not exist', async () => {
    const r = await runInProcess(['inspect', join(tmp.path, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nowhere: no such file/);
  });
});

describe('the chain cross-check', () => {
  it('pairs envelopes with records, and lists both kinds of orphans', async () => {
    const { code, json } = await inspectJson('--chain', chainFile);
    expect(code).toBe(1);
    const chain = json.chain!;
    expect(chain.report.valid).toBe(true);
    expect(chain.report.entries).toBe(5);
    expect(chain.byType).toEqual({ neutralization: 3, evacuation: 1, 'neutralization\x1b[2J': 1 });
    expect(chain.span).toEqual({ first: '2026-01-02T03:04:05.678Z', last: '2026-01-02T03:07:05.678Z', firstMs: T0, lastMs: T0 + 180_000, durationMs: 180_000 });
    expect(chain.unmatchedRecords!.map((r) => [r.index, r.signature])).toEqual([[3, missing]]);
    // The misnamed copy of `good` is paired through its payload hash; the others have no record.
    expect(chain.unmatchedEnvelopes.sort()).toEqual([names.hashMismatch, names.payloadMismatch, names.truncated].sort());
    const byName = new Map(json.envelopes.map((e) => [e.name, e]));
    expect(byName.get(names.flood)!.records!.map((r) => [r.index, r.type, r.time])).toEqual([
      [1, 'neutralization', '2026-01-02T03:04:06.678Z'],
      [2, 'evacuation', '2026-01-02T03:05:06.678Z'],
    ]);
    expect(byName.get(names.badName)!.records!.map((r) => r.index)).toEqual([0]);
  });

  it('shows records in the table, neutralized', async () => {
    const r = await runInProcess(['inspect', dir, '--chain', chainFile]);
    expect(r.stdout).toContain(`chain ${chainFile}: ✔ valid, 5 records`);
    expect(r.stdout).toContain('#1 neutralization 2026-01-02T03:04:06.678Z');
    expect(r.stdout).toContain('#2 evacuation 2026-01-02T03:05:06.678Z');
    expect(r.stdout).toContain('#4 neutralization\\x1b[2J 2026-01-02T03:07:05.678Z');
    expect(r.stdout).toContain('chain records with no envelope: 1');
    expect(r.stdout).toContain(missing);
    expect(r.stdout).toContain('envelopes with no chain record: 3');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('a tampered chain is shown as invalid and makes an all-OK folder exit 1', async () => {
    const records = JSON.parse(readFileSync(SAMPLE_CHAIN, 'utf8')) as Array<Record<string, unknown>>;
    records[1]!.signature = signatureOf(names.good);
    const tampered = join(tmp.path, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(records, null, 2));
    const json = await runInProcess(['inspect', SAMPLE_DIR, '--chain', tampered, '--json']);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout) as InspectJson;
    expect(parsed.counts.failed).toBe(0);
    expect(parsed.chain!.report.valid).toBe(false);
    expect(parsed.chain!.report.problems).toEqual([expect.objectContaining({ index: 1, code: 'HASH_MISMATCH' })]);
    // The record as it now reads names an envelope that is not there, and the real one lost its record.
    expect(parsed.chain!.unmatchedRecords!.map((r) => r.index)).toEqual([1]);
    expect(parsed.chain!.unmatchedEnvelopes).toHaveLength(1);
    const human = await runInProcess(['inspect', SAMPLE_DIR, '--chain', tampered]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('✘ INVALID');
    expect(human.stdout).toContain('HASH_MISMATCH');
    for (const cmd of ['stats', 'inspect']) expect((await runInProcess([cmd, SAMPLE_DIR, '--chain', tampered])).code).toBe(1);
  });
});

describe('stats', () => {
  interface StatsJson {
    directory: string;
    counts: { total: number; ok: number; failed: number };
    fileBytes: number;
    payloadBytes: number;
    byCategory: Array<{ category: string | null; envelopes: number; ok: number; failed: number; fileBytes: number; payloadBytes: number }>;
    byVerdict: Array<{ verdict: string; envelopes: number; fileBytes: number }>;
    chain: InspectJson['chain'];
  }

  it('counts envelopes and bytes by category and by verdict', async () => {
    const r = await runInProcess(['stats', dir, '--json']);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout) as StatsJson;
    expect(s.directory).toBe(dir);
    expect(s.counts).toMatchObject({ total: 7, ok: 3, failed: 4 });
    const size = (b: Buffer): number => b.length;
    expect(s.byCategory).toEqual([
      { category: 'flood', envelopes: 2, ok: 1, failed: 1, fileBytes: size(flood.bytes) + 100, payloadBytes: flood.payload.length },
      { category: 'injection', envelopes: 2, ok: 1, failed: 1, fileBytes: 2 * size(good.bytes), payloadBytes: good.payload.length },
      { category: 'spam', envelopes: 2, ok: 1, failed: 1, fileBytes: size(spam.bytes) + size(good.bytes), payloadBytes: spam.payload.length },
      { category: null, envelopes: 1, ok: 0, failed: 1, fileBytes: size(good.bytes), payloadBytes: 0 },
    ]);
    expect(s.payloadBytes).toBe(flood.payload.length + good.payload.length + spam.payload.length);
    expect(s.fileBytes).toBe(s.byCategory.reduce((n, c) => n + c.fileBytes, 0));
    expect(s.byVerdict.map((v) => [v.verdict, v.envelopes])).toEqual([
      ['TRUNCATED', 1],
      ['HASH_MISMATCH', 1],
      ['BAD_SIGNATURE_NAME', 1],
      ['PAYLOAD_HASH_MISMATCH', 1],
      ['OK', 3],
    ]);
    expect(s.chain).toBeNull();
  });

  it('renders tables, and with --chain the time span and the orphans', async () => {
    const r = await runInProcess(['stats', dir, '--chain', chainFile]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('by category');
    expect(r.stdout).toMatch(/\| category +\| envelopes \| OK \| failed \| file bytes \| payload bytes \|/);
    expect(r.stdout).toMatch(/\| \(no signature\) +\| +1 \| +0 \| +1 \|/);
    expect(r.stdout).toContain('by verdict');
    expect(r.stdout).toMatch(/\| ✘ PAYLOAD_HASH_MISMATCH \| +1 \|/);
    expect(r.stdout).toContain('time span: 2026-01-02T03:04:05.678Z → 2026-01-02T03:07:05.678Z (3.0 min)');
    expect(r.stdout).toContain('records by type: 3 neutralization, 1 evacuation, 1 neutralization\\x1b[2J');
    expect(r.stdout).toContain('chain records with no envelope: 1');
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  });

  it('on the samples, with their chain (built CLI, both names)', async () => {
    for (const as of ['tracehound', 'stax'] as const) {
      const r = await runCli(['stats', SAMPLE_DIR, '--chain', SAMPLE_CHAIN], { as });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('3 envelopes: 3 OK, 0 failed; 514 bytes on disk');
      expect(r.stdout).toContain('records by type: 2 neutralization, 1 evacuation');
      expect(r.stdout).toContain('time span: 2026-11-22T02:40:03.401Z → 2026-11-22T02:40:03.402Z (1 ms)');
      expect(r.stdout).toContain('chain records with no envelope: none');
      expect(r.stdout).toContain('envelopes with no chain record: none');
    }
  });

  it('exit 2 for a file instead of a folder', async () => {
    const r = await runInProcess(['stats', SAMPLE_CHAIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/audit_chain\.json: is not a directory/);
  });
});
