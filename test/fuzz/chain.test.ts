/**
 * Fuzzing the six chain verifiers (`verifyFile`, in memory) and the chain writer.
 *
 * Errors `verifyFile` may throw: StaxError only (FORMAT_UNKNOWN, INPUT_INVALID,
 * INPUT_TOO_LARGE, KEY_MISSING...). Everything else about a file, however broken, is a
 * verdict: `valid: false` with problems.
 *
 * Properties:
 *  - write → verify: whatever ChainWriter appends verifies, and reads back as written;
 *  - one changed, inserted or deleted byte anywhere in a valid file is detected, or leaves
 *    every value the format protects identical (whitespace, CRLF, a dropped final newline,
 *    or a field the format documents as unprotected, listed in its `limits`);
 *  - random damage ends in a verdict or a StaxError, never another exception;
 *  - the verdict does not depend on how the stream is chunked, or on gzip.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainEntry } from '../../src/chain/entry.js';
import { ChainWriter } from '../../src/chain/writer.js';
import type { VerifyReport } from '../../src/chain/report.js';
import { StaxError } from '../../src/errors.js';
import { verifyFile } from '../../src/formats/verify.js';
import { canonicalize } from '../../src/json/jcs.js';
import { parseJson } from '../../src/json/parse.js';
import { pythonDumps } from '../../src/json/python.js';
import type { JsonValue } from '../../src/json/value.js';
import { staxAssurance } from '../../src/trail/assurance.js';
import { exportTrail } from '../../src/trail/export.js';
import { entrySigner } from '../../src/trail/sign.js';
import { applySingleByteEdit, chainEntry, cuts, describeMutation, jsonText, mutate, mutations, singleByteEdit } from '../support/fuzz-arbitraries.js';
import { writeJson } from '../support/json-text.js';
import { fuzzSigner, loadSamples, verifyBytes, type Sample } from '../support/fuzz-chains.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';

const stats = new Stats('fuzz-chain');
const tmp = mkdtempSync(join(tmpdir(), 'stax-fuzz-chain-'));
let samples: Sample[] = [];
beforeAll(async () => {
  samples = await loadSamples();
});
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const SAMPLE_NAMES = [
  'stax (JSON Lines, ChainWriter)',
  'stax (document, trail export)',
  'stax (signed entries, --trusted-keys)',
  'stax (fixture)',
  'trailstax-trail',
  'trailstax-codebank',
  'guardian-trail',
  'guardian-registry',
  'tracehound-audit',
];
const sample = (name: string): Sample => {
  const s = samples.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no sample ${name}`);
  return s;
};

// ---- write → verify -----------------------------------------------------------------------

let fileNo = 0;

describe('ChainWriter → verify', () => {
  it('any entries ChainWriter appends verify, and read back exactly as written (JSON Lines and document form)', { timeout: timeoutFor(30_000) }, async () => {
    const { signer, trusted } = fuzzSigner();
    await fc.assert(
      fc.asyncProperty(fc.array(chainEntry, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.boolean(), fc.boolean(), async (entries, together, signed, exported) => {
        stats.add('write-verify cases');
        const file = join(tmp, `rt-${fileNo++}.jsonl`);
        const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'fuzz.example/rt' }, durability: 'none', ...(signed ? { sign: entrySigner(signer) } : {}) });
        const input = signed ? entries.map((e) => ({ ...e, actor: signer.name })) : entries;
        const written: ChainEntry[] = together ? await Promise.all(input.map((e) => w.append(e))) : [];
        if (!together) for (const e of input) written.push(await w.append(e));
        const staxVisitors = signed ? () => staxAssurance(trusted, []) : undefined;
        const report = await verifyFile(file, { staxVisitors });
        expect(report.problems).toEqual([]);
        expect(report).toMatchObject({ valid: true, entries: entries.length, head: written.at(-1)!.hash });
        const lines = readFileSync(file, 'utf8').split('\n').slice(1, -1);
        expect(lines.map((l) => canonicalize(JSON.parse(l)))).toEqual(written.map((e) => canonicalize(e)));
        expect(written.map((e) => e.seq)).toEqual(entries.map((_, i) => i));
        if (exported) {
          const doc = `${file}.json`;
          await exportTrail(file, { out: doc, stdout: new PassThrough() });
          const again = await verifyFile(doc, { staxVisitors });
          expect(again).toMatchObject({ valid: true, entries: entries.length, head: report.head });
        }
      }),
      params(30),
    );
  });
});

// ---- one byte -------------------------------------------------------------------------------

/**
 * The values a format protects, by name. `required` values must survive an undetected
 * edit unchanged; an `optional` one is a claim the verifier checks only when present, so
 * an edit may remove it but not change it. Fields a format documents as covered by no hash
 * (its report's `limits`, "unsigned-fields") are left out: a change there is a known limit.
 */
interface Protected {
  required: Record<string, string>;
  optional: Record<string, string>;
}

function protectedValues(s: Sample, bytes: Buffer): Protected {
  const text = bytes.toString('utf8');
  const lossless = (t: string): JsonValue => parseJson(t.replace(/^\ufeff/, ''), { allowNonFinite: true, duplicateKeys: 'error' });
  const py = (v: JsonValue | undefined): string => (v === undefined ? 'absent' : pythonDumps(v, { separators: 'compact' }));
  switch (s.format) {
    case 'stax': {
      // Entries only: the header is covered by no hash (limit "unsigned-fields"). The form
      // is told apart as verifyStax tells it (src/formats/stax.ts).
      const lines = /^\ufeff?\s*\{[^\n]*\}\s*(\n|$)/.test(text) && !/^\ufeff?\s*\{[^\n]*"entries"\s*:/.test(text);
      if (!lines) {
        const doc = JSON.parse(text.replace(/^\ufeff/, '')) as { entries?: unknown };
        return { required: { entries: canonicalize(doc.entries ?? null) }, optional: {} };
      }
      const entries = text.split('\n').slice(1).filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
      return { required: { entries: canonicalize(entries) }, optional: {} };
    }
    case 'trailstax-trail':
    case 'trailstax-codebank': {
      const doc = lossless(text);
      if (!(doc instanceof Map)) throw new Error('not an object');
      const [list, total] = s.format === 'trailstax-trail' ? ['entries', 'total_entries'] : ['commits', 'total_commits'];
      // trailstax_version, codebank_version and bank_id are covered by no hash (limit
      // "unsigned-fields"); other unknown top-level members are ignored too (see the report).
      const optional: Record<string, string> = {};
      for (const k of ['genesis_hash', 'chain_valid', 'agent_id', 'session_id']) if (doc.has(k)) optional[k] = py(doc.get(k));
      return { required: { [list]: py(doc.get(list)), [total]: py(doc.get(total)), tail_hash: py(doc.get('tail_hash')) }, optional };
    }
    case 'guardian-trail':
      return { required: { lines: text.split('\n').filter((l) => l.trim() !== '').map((l) => py(lossless(l))).join('\n') }, optional: {} };
    case 'guardian-registry':
      return { required: { registry: py(lossless(text)) }, optional: {} };
    case 'tracehound-audit': {
      // "type" is not covered by the record hash (limit "unsigned-fields").
      const records = JSON.parse(text) as Array<Record<string, unknown>>;
      return { required: { records: JSON.stringify(records.map((r) => [r.id, r.signature, r.timestamp, r.previousHash, r.hash])) }, optional: {} };
    }
  }
}

function expectSameProtected(before: Protected, after: Protected, what: string): void {
  expect(after.required, what).toEqual(before.required);
  for (const [k, v] of Object.entries(after.optional)) expect(v, `${what}: optional "${k}" changed`).toBe(before.optional[k]);
}

describe('one changed byte', () => {
  for (const name of SAMPLE_NAMES) {
    it(`${name}: detected, or every protected value unchanged`, { timeout: timeoutFor(30_000) }, async () => {
      const s = sample(name);
      const original = protectedValues(s, s.bytes);
      await fc.assert(
        fc.asyncProperty(singleByteEdit(s.bytes.length), async (edit) => {
          stats.add('single-byte cases');
          const bytes = applySingleByteEdit(s.bytes, edit);
          const r = await typed([StaxError], () => verifyBytes(bytes, { format: s.format, keyed: s.keyed }));
          if (!r.ok || !r.value!.valid) return stats.add('single-byte detected');
          let now: Protected;
          try {
            now = protectedValues(s, bytes);
          } catch (err) {
            throw new Error(`verified as valid, but the edited file no longer parses: ${describeMutation(edit, s.bytes)}`, { cause: err });
          }
          expectSameProtected(original, now, `an undetected change: ${describeMutation(edit, s.bytes)}`);
          stats.add('single-byte harmless');
        }),
        // Signed samples check Ed25519 signatures (tweetnacl: milliseconds each).
        params(s.keyed ? 12 : 40),
      );
    });
  }
});

/**
 * Replaces one value (chosen by `pick`) of a JSON document, or of line `line` of a JSON
 * Lines file, with the given JSON text, keeping every other token as written.
 */
function replaceValue(bytes: Buffer, pick: number, line: number, replacement: string): Buffer {
  const text = bytes.toString('utf8');
  const value = parseJson(replacement, { allowNonFinite: true, duplicateKeys: 'last' });
  const edit = (doc: JsonValue): JsonValue => {
    const slots: Array<(v: JsonValue) => void> = [];
    const walk = (v: JsonValue): void => {
      if (Array.isArray(v)) v.forEach((item, i) => (slots.push((x) => (v[i] = x)), walk(item)));
      else if (v instanceof Map) for (const [k, item] of v) slots.push((x) => v.set(k, x)), walk(item);
    };
    walk(doc);
    if (slots.length === 0) return value;
    slots[pick % slots.length]!(value);
    return doc;
  };
  const isLines = /^\ufeff?\s*\{[^\n]*\}\s*\n/.test(text) && !/^\ufeff?\s*\{[^\n]*"entries"\s*:/.test(text);
  if (!isLines) return Buffer.from(writeJson(edit(parseJson(text, { allowNonFinite: true, duplicateKeys: 'last' }))));
  const lines = text.split('\n');
  const at = line % Math.max(1, lines.length - 1);
  lines[at] = writeJson(edit(parseJson(lines[at]!, { allowNonFinite: true, duplicateKeys: 'last' })));
  return Buffer.from(lines.join('\n'));
}

// ---- random damage ------------------------------------------------------------------------

/** What must not depend on chunking or gzip: everything but the notes that name gzip. */
function verdict(r: VerifyReport): string {
  return JSON.stringify({ ...r, notes: r.notes.filter((n) => !n.includes('gzip')) });
}

describe('random damage', () => {
  it('every format: only verdicts and StaxErrors, the same however the stream is chunked or compressed', { timeout: timeoutFor(40_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAMPLE_NAMES), mutations(6), cuts, fc.boolean(), fc.boolean(), async (name, ms, at, forced, gzip) => {
        stats.add('random damage cases');
        const s = sample(name);
        const bytes = mutate(s.bytes, ms);
        const options = { format: forced ? s.format : undefined, keyed: s.keyed };
        const whole = await typed([StaxError], () => verifyBytes(bytes, options));
        const chunked = await typed([StaxError], () => verifyBytes(bytes, { ...options, cuts: at, gzip }));
        if (whole.ok) {
          expect(chunked.ok, `chunked/gzip threw ${chunked.error?.message} where whole gave a verdict`).toBe(true);
          expect(verdict(chunked.value!)).toBe(verdict(whole.value!));
        } else {
          expect(chunked.error).toBeInstanceOf(StaxError);
          expect((chunked.error as StaxError).code).toBe((whole.error as StaxError).code);
        }
      }),
      params(150),
    );
  });

  it('any JSON value in place of any value of a valid file: a verdict or a StaxError', { timeout: timeoutFor(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAMPLE_NAMES), fc.nat(), fc.nat(), jsonText, fc.boolean(), async (name, pick, line, replacement, forced) => {
        stats.add('value replacement cases');
        const s = sample(name);
        const bytes = replaceValue(s.bytes, pick, line, replacement);
        await typed([StaxError], () => verifyBytes(bytes, { format: forced ? s.format : undefined, keyed: s.keyed }));
      }),
      params(250),
    );
  });

  it('corrupt gzip around a valid chain: a StaxError (INPUT_INVALID), never a crash', { timeout: timeoutFor(20_000) }, async () => {
    const { gzipSync } = await import('node:zlib');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAMPLE_NAMES), mutations(3), cuts, async (name, ms, at) => {
        stats.add('corrupt gzip cases');
        const s = sample(name);
        const gz = mutate(gzipSync(s.bytes), ms);
        await typed([StaxError], () => verifyBytes(gz, { format: s.format, cuts: at, keyed: s.keyed }));
      }),
      params(60),
    );
  });
});
