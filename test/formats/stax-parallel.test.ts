/**
 * Large stax chains are verified on worker threads (src/formats/stax-parallel.ts), small
 * ones on the main thread. The two must not differ by a byte: these tests verify the same
 * tampered files both ways with the built CLI (STAX_VERIFY_PARALLEL_MIN_BYTES=0 forces the
 * workers, a huge value forbids them) and compare the JSON reports, the human output and
 * the exit codes. The files span several 1 MiB read chunks, so lines cross block edges.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, serializeEntry, serializeHeader, type EntryBody } from '../../src/chain/entry.js';
import { runCli, tempDir, type RunResult } from '../support/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const env = { STAX_KEY_DIR: join(tmp.path, 'keys') };

const PARALLEL = { STAX_VERIFY_PARALLEL_MIN_BYTES: '0' };
const SINGLE = { STAX_VERIFY_PARALLEL_MIN_BYTES: String(Number.MAX_SAFE_INTEGER) };

const HEADER = serializeHeader({ format: 'stax-chain', version: 1, kind: 'trail', origin: 'test.example/parallel', created: '2025-01-01T00:00:00.000Z' });

/** The lines of a valid chain: payloads that take the fast path and some that cannot. */
function chainLines(n: number, pad = 0): string[] {
  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 0; seq < n; seq++) {
    const payload =
      seq % 7 === 3
        ? { note: 'quote " and newline \n need escapes', emoji: '\u{1F50D}', n: 1.5 } // full path
        : { i: seq, url: `https://example.com/${seq % 13}`, ok: seq % 2 === 0, ratio: seq / 8, text: 'café'.repeat(seq % 3), pad: 'x'.repeat(pad) };
    const body: EntryBody = { seq, ts: new Date(Date.UTC(2025, 0, 1) + seq * 1000).toISOString(), actor: seq % 5 === 0 ? 'alice' : 'ci', action: 'step', payload, prev };
    if (seq % 4 === 0) body.session = `s-${seq >> 8}`;
    const { line, hash } = serializeEntry(body);
    lines.push(line);
    prev = hash;
  }
  return lines;
}

function write(name: string, entries: string[], { header = HEADER, tail = '\n' } = {}): string {
  const file = join(tmp.path, name);
  writeFileSync(file, [header, ...entries].join('\n') + tail);
  return file;
}

const files: Record<string, string> = {};

beforeAll(() => {
  const base = chainLines(12_000);
  files.valid = write('valid.jsonl', base);
  const t = [...base];
  t[12] = t[12]!.replace('"ok":true', '"ok":false'); // content edited: HASH_MISMATCH
  t.splice(2_000, 1); // an entry deleted: SEQUENCE_GAP and LINK_BROKEN
  [t[3_000], t[3_001]] = [t[3_001]!, t[3_000]!]; // two swapped
  t[4_000] = ''; // blank line
  t[4_500] = '{"seq": 4500, "not": "closed"'; // not JSON
  t[5_000] = '[1,2,3]'; // not an object
  t[5_500] = t[5_500]!.replace(/"ts":"[^"]*",/, ''); // missing ts: shape
  t[6_000] = t[6_000]!.replace('"actor":', '"action":"evil","actor":'); // repeated key
  t[6_500] = JSON.stringify(JSON.parse(t[6_500]!), null, 1).replace(/\n/g, ''); // re-formatted, still the same values
  t[7_000] = '{"a":' + '['.repeat(3_000) + ']'.repeat(3_000) + '}'; // deep
  t[7_500] = t[7_500]! + '\r'; // CRLF
  t[8_000] = t[8_000]!.replace('"seq":', '"seq":-'); // negative seq: shape
  t[8_500] = t[8_500]!.replace(/"prev":"0*[0-9a-f]/, '"prev":"Z'); // prev not hex
  files.tampered = write('tampered.jsonl', t);
  // Invalid UTF-8 in an entry, and a torn (unterminated) last line.
  const bytes = Buffer.from([HEADER, ...base.slice(0, 9_000)].join('\n') + '\n');
  const bad = Buffer.concat([bytes, Buffer.from('{"seq":9000,"x":"\xff"}\n', 'latin1'), Buffer.from(base.slice(9_001).join('\n') + '\n' + base[0]!.slice(0, 50))]);
  files.utf8AndTorn = join(tmp.path, 'utf8-torn.jsonl');
  writeFileSync(files.utf8AndTorn, bad);
  // A BOM, and entries longer than a read chunk.
  files.bomAndLong = write('bom-long.jsonl', [...chainLines(3, 1_500_000), ...base.slice(3, 3_000)], { header: '\ufeff' + HEADER });
  files.noHeader = write('no-header.jsonl', base.slice(1, 5_000), { header: base[0]! });
  files.empty = write('empty.jsonl', [], { header: '', tail: '' });
});

async function both(args: string[]): Promise<[RunResult, RunResult]> {
  const single = await runCli(args, { cwd: tmp.path, env: { ...env, ...SINGLE } });
  const parallel = await runCli(args, { cwd: tmp.path, env: { ...env, ...PARALLEL } });
  return [single, parallel];
}

describe('stax verify on worker threads', () => {
  it.each(['valid', 'tampered', 'utf8AndTorn', 'bomAndLong', 'noHeader'])('reports %s exactly as the single-threaded path does', async (name) => {
    const [single, parallel] = await both(['verify', '--json', files[name]!]);
    expect(parallel.stderr).toBe(single.stderr);
    expect(parallel.code).toBe(single.code);
    expect(parallel.stdout).toBe(single.stdout);
    const [human1, human2] = await both(['verify', files[name]!]);
    expect(human2.stdout).toBe(human1.stdout);
  });

  it('finds every planted problem, in order, with the right codes', async () => {
    const [, parallel] = await both(['verify', '--json', files.tampered!]);
    const report = JSON.parse(parallel.stdout)[0] as { valid: boolean; problems: Array<{ index: number | null; code: string }>; notes: string[] };
    expect(report.valid).toBe(false);
    const codes = new Set(report.problems.map((p) => p.code));
    for (const code of ['HASH_MISMATCH', 'SEQUENCE_GAP', 'LINK_BROKEN', 'MALFORMED', 'DUPLICATE_KEY']) expect(codes).toContain(code);
    const indexes = report.problems.map((p) => p.index).filter((i): i is number => i !== null);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(report.notes.join(' ')).toMatch(/CRLF/);
    expect(report.problems.some((p) => p.index === 6_499)).toBe(false); // re-formatted but the same values
  });

  it('reports the torn tail and the invalid UTF-8 the same way', async () => {
    const [, parallel] = await both(['verify', '--json', files.utf8AndTorn!]);
    const codes = (JSON.parse(parallel.stdout)[0] as { problems: Array<{ code: string }> }).problems.map((p) => p.code);
    expect(codes[0]).toBe('MALFORMED');
    expect(codes.at(-1)).toBe('TORN_TAIL');
  });

  it('gives visitors (signatures) every entry in order, as the single-threaded path does', async () => {
    expect((await runCli(['key', 'generate', '--name', 'alice'], { cwd: tmp.path, env })).code).toBe(0);
    const trusted = join(tmp.path, 'trusted.txt');
    writeFileSync(trusted, (await runCli(['key', 'show', 'alice'], { cwd: tmp.path, env })).stdout);
    const signed = join(tmp.path, 'signed.jsonl');
    writeFileSync(signed, [HEADER, ...chainLines(5_000)].join('\n') + '\n');
    for (const i of [0, 1]) expect((await runCli(['log', `signed.${i}`, '--trail', signed, '--key', 'alice'], { cwd: tmp.path, env })).code).toBe(0);
    const [single, parallel] = await both(['verify', '--json', signed, '--trusted-keys', trusted]);
    expect(parallel.stdout).toBe(single.stdout);
    expect(parallel.code).toBe(1);
    const report = JSON.parse(parallel.stdout)[0] as { problemCount: number; problems: Array<{ index: number; code: string }> };
    expect(report.problemCount).toBe(5_000); // the two signed entries verify
    expect(report.problems.every((p, i) => p.code === 'UNSIGNED' && p.index === i)).toBe(true);
  });

  it('names a line over the length limit by number, both ways', async () => {
    const huge = write('huge.jsonl', [...chainLines(1_000), '{"x":"' + 'y'.repeat(17 * 1024 * 1024) + '"}', ...chainLines(10)]);
    const [single, parallel] = await both(['verify', huge]);
    expect(single.code).toBe(2);
    expect(single.stderr).toMatch(/line 1002 is longer than/);
    expect(parallel.stderr).toBe(single.stderr);
    expect(parallel.code).toBe(single.code);
  });
});
