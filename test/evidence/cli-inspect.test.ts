import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';
import { buildEnvelope } from '../../src/evidence/envelope.js';
import { BIN, baseEnv, runCli, runInProcess, tempDir } from '../support/cli.js';
import { SAMPLE_CHAIN, SAMPLE_DIR, damagedEnvelopes, good, payload, writeFiles } from './cli-builders.js';

const tmp = tempDir('stax-inspect-');
afterAll(() => tmp.cleanup());

const samples = readdirSync(SAMPLE_DIR)
  .filter((f) => f.endsWith('.thcs'))
  .sort();

interface Json {
  kind: string;
  counts: { total: number; ok: number; failed: number };
  envelopes: Array<Record<string, unknown> & { verdict: string; payloadExcerpt?: { data: string; bytes: number; totalBytes: number; truncated: boolean } | null }>;
  chain: { report: { valid: boolean }; unmatchedRecords: unknown; unmatchedEnvelopes: string[] } | null;
}

/** Stdout bytes of a child process, unchanged (runCli decodes them as UTF-8). */
function runRaw(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(baseEnv()).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

describe('inspect on the Tracehound samples (built CLI)', () => {
  it.each(samples)('%s is OK under both names, with its payload shown', async (name) => {
    for (const as of ['tracehound', 'stax'] as const) {
      const r = await runCli(['inspect', join(SAMPLE_DIR, name)], { as });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^✔ OK {2}/);
      expect(r.stdout).toContain(`${name.replace('.thcs', '')} (from the file name)`);
      expect(r.stdout).toContain('(matches the signature)');
      expect(r.stdout).toContain('canonical JSON, as Tracehound writes it');
      expect(r.stdout).not.toContain('NOT checked');
    }
  });

  it('shows the chain records of a sample with --chain', async () => {
    const r = await runCli(['inspect', join(SAMPLE_DIR, samples[0]!), '--chain', SAMPLE_CHAIN, '--json'], { as: 'tracehound' });
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as Json;
    expect(json.chain?.report.valid).toBe(true);
    // One envelope on its own: the rest of the chain is not "missing evidence".
    expect(json.chain?.unmatchedRecords).toBeNull();
    expect(json.envelopes[0]!.records).toEqual([
      expect.objectContaining({ index: 2, type: 'evacuation', time: '2026-11-22T02:40:03.402Z', signature: samples[0]!.replace('.thcs', '') }),
    ]);
  });
});

describe('every failure verdict through the CLI', () => {
  const damaged = damagedEnvelopes();

  it('covers all thirteen', () => {
    expect(damaged.map((d) => d.verdict)).toHaveLength(13);
  });

  it.each(damaged.map((d) => [d.verdict, d] as const))('%s: exit 1, the code in JSON and in the human report', async (verdict, d) => {
    const dir = writeFiles(join(tmp.path, `verdict-${verdict}`), [{ name: d.name, bytes: d.bytes }]);
    const file = join(dir, d.name);
    const json = await runInProcess(['inspect', '--json', file], { as: 'tracehound' });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as Json;
    expect(report.kind).toBe('file');
    expect(report.counts).toEqual({ total: 1, ok: 0, failed: 1, byVerdict: { [verdict]: 1 } });
    expect(report.envelopes[0]!.verdict).toBe(verdict);
    expect(report.envelopes[0]!.evidence).toEqual(expect.objectContaining({ expected: expect.any(String), found: expect.any(String) }));
    // Buffers never reach JSON as {"type":"Buffer","data":[...]}.
    expect(json.stdout).not.toContain('"Buffer"');

    const human = await runInProcess(['inspect', file]);
    expect(human.code).toBe(1);
    expect(human.stdout.split('\n')[0]).toBe(`✘ ${verdict}  ${file}`);
    expect(human.stdout).toContain(`verdict    ${verdict}: ${report.envelopes[0]!.message as string}`);
  });

  it('shows the payload of an envelope that failed after inflation, marked as such', async () => {
    const d = damaged.find((x) => x.verdict === 'PAYLOAD_HASH_MISMATCH')!;
    const dir = writeFiles(join(tmp.path, 'mismatch-payload'), [{ name: d.name, bytes: d.bytes }]);
    const r = await runInProcess(['inspect', join(dir, d.name)]);
    expect(r.stdout).toContain('(does not match the signature)');
    expect(r.stdout).toContain('from an envelope that failed its checks');
    expect(r.stdout).toContain('"user": "admin\' --"');
  });

  it('says why there is no payload when inflation never happened', async () => {
    const d = damaged.find((x) => x.verdict === 'HASH_MISMATCH')!;
    const dir = writeFiles(join(tmp.path, 'no-payload'), [{ name: d.name, bytes: d.bytes }]);
    const r = await runInProcess(['inspect', join(dir, d.name)]);
    expect(r.stdout).toContain('payload not shown: the envelope failed (HASH_MISMATCH) before its payload could be decompressed');
  });
});

describe('a name without a signature', () => {
  const dir = writeFiles(join(tmp.path, 'renamed'), [{ name: 'upload.bin', bytes: good.bytes }]);
  const file = join(dir, 'upload.bin');

  it('is OK, but says loudly that the payload hash was not checked', async () => {
    const r = await runInProcess(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('signature  none known');
    expect(r.stdout).toContain('(not checked)');
    expect(r.stdout).toContain('⚠ payload hash NOT checked: the file name carries no signature');
    expect(r.stdout).toContain('anyone can skip this check by renaming the file');
    const json = JSON.parse((await runInProcess(['inspect', '--json', file])).stdout) as Json;
    expect(json.envelopes[0]).toMatchObject({ verdict: 'OK', signature: null, payloadHashChecked: false });
  });

  it('--signature checks it: matching, then not matching', async () => {
    const ok = await runInProcess(['inspect', file, '--signature', good.signature]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('(given with --signature)');
    expect(ok.stdout).not.toContain('NOT checked');
    const bad = await runInProcess(['inspect', file, '--signature', `injection:${'0'.repeat(64)}`]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('PAYLOAD_HASH_MISMATCH');
  });

  it('a malformed --signature is a usage error', async () => {
    const r = await runInProcess(['inspect', file, '--signature', 'injection:abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/signature: expected <category>:<64 lowercase hex>/);
  });

  it('reads an envelope from standard input', async () => {
    const r = await runInProcess(['inspect', '-'], { input: good.bytes });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✔ OK {2}\(stdin\)/);
    expect(r.stdout).toContain('standard input has no file name');
    const checked = await runCli(['inspect', '-', '--signature', good.signature, '--json'], { input: good.bytes });
    expect(checked.code).toBe(0);
    expect((JSON.parse(checked.stdout) as Json).envelopes[0]).toMatchObject({ file: null, payloadHashChecked: true });
  });
});

describe('hostile payloads', () => {
  const ESC = '\x1b';
  const raw = Buffer.from(`GET /${ESC}]0;owned${ESC}\\ HTTP/1.1\r\n${ESC}[2J${ESC}[31mX-Evil: \u009b1;1H\u202eevil\r\n\r\n`, 'utf8');
  const text = buildEnvelope(raw, { category: 'injection' });
  // Canonical JSON escapes C0 controls itself, but not C1 controls or bidi overrides.
  const json = buildEnvelope({ path: '/x', ua: 'a\u009b2Jb\u202ec\u2028d', note: `${ESC}[2J` }, { category: 'injection' });
  const dir = writeFiles(join(tmp.path, 'hostile'), [
    { name: text.fileName, bytes: text.bytes },
    { name: json.fileName, bytes: json.bytes },
  ]);

  it.each([
    ['text with escape sequences', text.fileName],
    ['JSON with C1 controls and bidi overrides', json.fileName],
  ])('%s: no control character reaches stdout', async (_what, name) => {
    for (const r of [await runInProcess(['inspect', join(dir, name)]), await runCli(['inspect', join(dir, name)])]) {
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2028\u2029]/);
    }
  });

  it('shows the escapes visibly', async () => {
    const t = await runInProcess(['inspect', join(dir, text.fileName)]);
    expect(t.stdout).toContain('\\x1b]0;owned\\x1b\\ HTTP/1.1\\r');
    expect(t.stdout).toContain('\\x1b[2J\\x1b[31mX-Evil: \\x9b1;1H\\u202eevil\\r');
    const j = await runInProcess(['inspect', join(dir, json.fileName)]);
    expect(j.stdout).toContain('"ua": "a\\x9b2Jb\\u202ec\\u2028d"');
    // The JSON escape in the payload is shown as written, six characters.
    expect(j.stdout).toContain('"note": "\\u001b[2J"');
  });

  it('--max-bytes cuts what is shown', async () => {
    const r = await runInProcess(['inspect', join(dir, text.fileName), '--max-bytes', '6']);
    expect(r.stdout).toContain('GET /\\x1b');
    expect(r.stdout).toContain(`… ${raw.length - 6} more bytes not shown`);
    const j = JSON.parse((await runInProcess(['inspect', join(dir, text.fileName), '--max-bytes', '6', '--json'])).stdout) as Json;
    expect(j.envelopes[0]!.payloadExcerpt).toEqual({ encoding: 'base64', data: raw.subarray(0, 6).toString('base64'), bytes: 6, totalBytes: raw.length, truncated: true });
    const bad = await runInProcess(['inspect', join(dir, text.fileName), '--max-bytes', '-1']);
    expect(bad.code).toBe(2);
  });

  it('--raw writes the exact payload bytes to a pipe, escapes and all', async () => {
    const r = await runRaw(['inspect', '--raw', join(dir, text.fileName)]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(raw)).toBe(true);
    expect(r.stderr).toContain(`${raw.length} bytes written`);
    const cut = await runRaw(['inspect', '--raw', '--max-bytes', '4', join(dir, text.fileName)]);
    expect(cut.stdout.equals(raw.subarray(0, 4))).toBe(true);
  });

  it('--raw refuses a terminal unless --force', async () => {
    const run = async (args: string[]): Promise<{ code: number; out: Buffer; err: string }> => {
      const stdout = Object.assign(new PassThrough(), { isTTY: true });
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (d: Buffer) => out.push(d));
      stderr.on('data', (d: Buffer) => err.push(d));
      const io: Io = { argv: args, programName: 'tracehound', env: baseEnv(), cwd: process.cwd(), stdin: Readable.from([]), stdout, stderr };
      const code = await main(io);
      return { code, out: Buffer.concat(out), err: Buffer.concat(err).toString() };
    };
    const refused = await run(['inspect', '--raw', join(dir, text.fileName)]);
    expect(refused.code).toBe(2);
    expect(refused.out.length).toBe(0);
    expect(refused.err).toMatch(/refusing to write raw payload bytes to a terminal/);
    const forced = await run(['inspect', '--raw', '--force', join(dir, text.fileName)]);
    expect(forced.code).toBe(0);
    expect(forced.out.equals(raw)).toBe(true);
  });

  it('--raw of a failed envelope writes what there is, exit 1; none when nothing inflated', async () => {
    const d = damagedEnvelopes();
    const sizeMismatch = d.find((x) => x.verdict === 'SIZE_MISMATCH')!;
    const hashMismatch = d.find((x) => x.verdict === 'HASH_MISMATCH')!;
    const a = writeFiles(join(tmp.path, 'raw-a'), [{ name: sizeMismatch.name, bytes: sizeMismatch.bytes }]);
    const b = writeFiles(join(tmp.path, 'raw-b'), [{ name: hashMismatch.name, bytes: hashMismatch.bytes }]);
    const r1 = await runInProcess(['inspect', '--raw', join(a, sizeMismatch.name)]);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toBe(good.payload.toString());
    expect(r1.stderr).toContain('SIZE_MISMATCH');
    const r2 = await runInProcess(['inspect', '--raw', join(b, hashMismatch.name)]);
    expect(r2.code).toBe(1);
    expect(r2.stdout).toBe('');
    expect(r2.stderr).toContain('no payload written');
  });
});

describe('usage and unreadable input', () => {
  it('exit 2 with one line for a missing file', async () => {
    const r = await runCli(['inspect', join(tmp.path, 'nope.thcs')], { as: 'tracehound' });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tracehound: .*nope\.thcs: no such file/);
  });

  it('exit 2 for an unreadable chain, and for --raw with --json', async () => {
    const file = join(SAMPLE_DIR, readdirSync(SAMPLE_DIR).find((f) => f.endsWith('.thcs'))!);
    expect((await runInProcess(['inspect', file, '--chain', join(tmp.path, 'none.json')])).code).toBe(2);
    const both = await runInProcess(['inspect', file, '--raw', '--json']);
    expect(both.code).toBe(2);
    expect(JSON.parse(both.stdout)).toEqual({ error: { code: 'USAGE', message: '--raw and --json cannot be combined' } });
  });

  it('folder options on a file and file options on a folder are usage errors', async () => {
    const file = join(tmp.path, 'one.thcs');
    writeFileSync(file, good.bytes);
    expect((await runInProcess(['inspect', file, '--sort', 'size'])).code).toBe(2);
    expect((await runInProcess(['inspect', SAMPLE_DIR, '--raw'])).code).toBe(2);
    expect((await runInProcess(['inspect', SAMPLE_DIR, '--signature', good.signature])).code).toBe(2);
  });

  it('an invalid chain makes an OK envelope exit 1', async () => {
    const chain = JSON.parse(readFileSync(SAMPLE_CHAIN, 'utf8')) as Array<Record<string, unknown>>;
    chain[1]!.timestamp = 1;
    const file = join(tmp.path, 'tampered-chain.json');
    writeFileSync(file, JSON.stringify(chain, null, 2));
    const r = await runInProcess(['inspect', join(SAMPLE_DIR, readdirSync(SAMPLE_DIR).find((f) => f.endsWith('.thcs'))!), '--chain', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✔ OK');
    expect(r.stdout).toContain('INVALID');
    expect(r.stdout).toContain('HASH_MISMATCH');
  });

  it('payload sample is what the builders say', () => {
    expect(JSON.parse(good.payload.toString())).toEqual(payload);
  });
});
