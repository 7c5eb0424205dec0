/**
 * Fuzzing `verifyProofBundle`, which an auditor runs on a file someone handed them.
 *
 * Errors it may throw: StaxError only (INPUT_INVALID, FORMAT_UNKNOWN, FILE_*). A bundle
 * that parses but does not hold is a result with `valid: false`, never an exception.
 * Property: an edited bundle that still verifies says exactly what the original said (the
 * same entry content at the same index under the same signed checkpoint).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainWriter } from '../../src/chain/writer.js';
import { StaxError } from '../../src/errors.js';
import { canonicalize } from '../../src/json/jcs.js';
import { parseJson } from '../../src/json/parse.js';
import type { JsonValue } from '../../src/json/value.js';
import type { TrustedKeys } from '../../src/keys/store.js';
import { makeCheckpoint, openCheckpoint } from '../../src/trail/checkpoint.js';
import { proveConsistency, proveInclusion, verifyProofBundle } from '../../src/trail/proof.js';
import { entrySigner } from '../../src/trail/sign.js';
import { jsonText, mutate, mutations } from '../support/fuzz-arbitraries.js';
import { fuzzSigner } from '../support/fuzz-chains.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';
import { writeJson } from '../support/json-text.js';

const stats = new Stats('fuzz-proof');
const tmp = mkdtempSync(join(tmpdir(), 'stax-fuzz-proof-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});


let trusted: TrustedKeys;
const bundles: Record<'inclusion' | 'consistency', string> = { inclusion: '', consistency: '' };

beforeAll(async () => {
  const actor = fuzzSigner('fuzz-signer');
  const log = fuzzSigner('fuzz.example/proof');
  trusted = { file: 'fuzz-trusted', keys: [...actor.trusted.keys, ...log.trusted.keys], byId: new Map([...actor.trusted.byId, ...log.trusted.byId]) };
  const file = join(tmp, 'trail.jsonl');
  const w = new ChainWriter(file, { create: { kind: 'trail', origin: 'fuzz.example/proof' }, durability: 'none', sign: entrySigner(actor.signer) });
  for (let i = 0; i < 3; i++) await w.append({ actor: actor.signer.name, action: `step.${i}`, payload: { i, note: 'café\u001b[2J', n: [1.5, -0, 1e21] } });
  const older = openCheckpoint((await makeCheckpoint(file, log.signer, { save: null })).note, trusted.keys, 'older');
  for (let i = 3; i < 7; i++) await w.append({ actor: actor.signer.name, action: `step.${i}`, payload: i % 2 === 0 ? null : { __nested: [[{}]] } });
  const newer = openCheckpoint((await makeCheckpoint(file, log.signer, { save: null })).note, trusted.keys, 'newer');
  bundles.inclusion = JSON.stringify(await proveInclusion(file, 5, newer), null, 2);
  bundles.consistency = JSON.stringify(await proveConsistency(file, older, newer), null, 2);
});

let n = 0;
async function check(text: string | Buffer): Promise<void> {
  const file = join(tmp, `bundle-${n++}.json`);
  writeFileSync(file, text);
  const r = await typed([StaxError], () => verifyProofBundle(file, trusted), ['proof-string-coercion']);
  if (!r.ok || !r.value!.valid) return;
  // Still valid: then it proves what the original proved.
  const original = JSON.parse(bundles[r.value!.type === 'stax-inclusion-proof' ? 'inclusion' : 'consistency']) as Record<string, unknown>;
  const now = JSON.parse(Buffer.from(text).toString('utf8')) as Record<string, unknown>;
  if (r.value!.type === 'stax-inclusion-proof') {
    // "sig" is not covered by the entry hash; verifyProofBundle checks it only when it names
    // a trusted key, and otherwise proves inclusion alone (see the report: noticed, left alone).
    const unsigned = (e: unknown): string => {
      const { sig: _sig, ...rest } = e as Record<string, unknown>;
      return canonicalize(rest);
    };
    expect([now.index, unsigned(now.entry)]).toEqual([original.index, unsigned(original.entry)]);
    expect(openCheckpoint(String(now.checkpoint), trusted.keys, 'now').root).toEqual(openCheckpoint(String(original.checkpoint), trusted.keys, 'original').root);
  } else {
    for (const k of ['oldCheckpoint', 'newCheckpoint']) {
      const a = openCheckpoint(String(now[k]), trusted.keys, k);
      const b = openCheckpoint(String(original[k]), trusted.keys, k);
      expect([a.size, a.root]).toEqual([b.size, b.root]);
    }
  }
}

/** Replaces the value `pick` (in document order) with `replacement`. */
function replaceValue(text: string, pick: number, replacement: string): string {
  const doc = parseJson(text, { allowNonFinite: true });
  const value = parseJson(replacement, { allowNonFinite: true, duplicateKeys: 'last' });
  const slots: Array<(v: JsonValue) => void> = [];
  const walk = (v: JsonValue): void => {
    if (Array.isArray(v)) v.forEach((item, i) => (slots.push((x) => (v[i] = x)), walk(item)));
    else if (v instanceof Map) for (const [k, item] of v) slots.push((x) => v.set(k, x)), walk(item);
  };
  walk(doc);
  slots[pick % slots.length]!(value);
  return writeJson(doc);
}

describe('verifyProofBundle', () => {
  it('byte edits of inclusion and consistency bundles: StaxError or a result, and a valid one proves the same', { timeout: timeoutFor(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('inclusion' as const, 'consistency' as const), mutations(4), async (kind, ms) => {
        stats.add('proof byte-edit cases');
        await check(mutate(Buffer.from(bundles[kind]), ms));
      }),
      params(60),
    );
  });

  it('any JSON value in place of any value of a bundle: StaxError or a result', { timeout: timeoutFor(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('inclusion' as const, 'consistency' as const), fc.nat(), fc.oneof(jsonText, fc.constantFrom('null', '[]', '{}', '"x"', '1e400', '-1', '9007199254740993', '{"toString":null}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')), async (kind, pick, value) => {
        stats.add('proof value cases');
        await check(replaceValue(bundles[kind], pick, value));
      }),
      // Each case that gets as far opens one or two signed notes (Ed25519 in JS: slow).
      params(50),
    );
  });
});
