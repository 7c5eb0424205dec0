/**
 * Fuzzing the THCS evidence envelope reader (src/evidence/envelope.ts, inflate.ts).
 *
 * Errors `inspectEnvelope` may throw: StaxError only, and only for the caller's own
 * mistakes (bad options, an unreadable path). Every byte string, however hostile, is a
 * report with a verdict.
 * Properties: a damaged envelope never reads as OK with another payload; one changed,
 * inserted or deleted byte is always caught; inflation never produces much more than the
 * header's originalSize claims, however well the data compresses (gzip bombs).
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ENVELOPE_FAILURES, HEADER_LENGTH, assembleEnvelope, buildEnvelope, inspectEnvelope } from '../../src/evidence/envelope.js';
import { inflateGzipMembers } from '../../src/evidence/inflate.js';
import { StaxError } from '../../src/errors.js';
import { applySingleByteEdit, describeMutation, mutate, mutations, plainJson, singleByteEdit } from '../support/fuzz-arbitraries.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';

const stats = new Stats('fuzz-envelope');
afterAll(() => stats.flush());

const VERDICTS = new Set<string>(['OK', ...ENVELOPE_FAILURES]);
/** Inflation is stopped within one output chunk of the limit (inflate.ts: 64 KiB). */
const SLACK = 64 * 1024;

const envelopeOf = fc.tuple(plainJson, fc.constantFrom('injection', 'flood', 'unknown'), fc.integer({ min: 0, max: 9 })).map(([payload, category, level]) =>
  buildEnvelope({ payload, at: 'fuzz' }, { category, level }),
);

describe('inspectEnvelope', () => {
  it('any damage: a report with a known verdict, never an exception; OK only for the original payload', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(envelopeOf, mutations(4), fc.boolean(), async (env, ms, withSignature) => {
        stats.add('envelope damage cases');
        const bytes = mutate(env.bytes, ms);
        const r = (await typed([], () => inspectEnvelope({ bytes, name: withSignature ? env.fileName : 'evidence.bin' }))).value!;
        expect(VERDICTS.has(r.verdict)).toBe(true);
        expect(r.inflatedBytes).toBeLessThanOrEqual((r.originalSize ?? 0) + SLACK);
        if (r.verdict === 'OK' && withSignature) expect(r.payload?.equals(env.payload)).toBe(true);
      }),
      params(300),
    );
  });

  it('one changed, inserted or deleted byte anywhere: never OK', { timeout: timeoutFor(20_000) }, async () => {
    const env = buildEnvelope({ payload: { path: '/login', body: "' OR 1=1 --", n: [1, 2.5] }, at: 'fuzz' }, { category: 'injection' });
    await fc.assert(
      fc.asyncProperty(singleByteEdit(env.bytes.length), async (edit) => {
        stats.add('envelope single-byte cases');
        const bytes = applySingleByteEdit(env.bytes, edit);
        const r = await inspectEnvelope({ bytes, name: env.fileName });
        expect(r.verdict, describeMutation(edit, env.bytes)).not.toBe('OK');
      }),
      params(250),
    );
  });

  it('random bytes behind the THCS magic, with lying sizes: a verdict, never an exception', { timeout: timeoutFor(20_000) }, async () => {
    const header = fc.record({
      version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
      originalSize: fc.oneof(fc.nat(2000), fc.constant(0xffffffff), fc.nat()),
      body: fc.uint8Array({ maxLength: 600 }),
      gzipBody: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(header, async ({ version, originalSize, body, gzipBody }) => {
        stats.add('envelope random cases');
        const compressed = gzipBody ? gzipSync(body) : Buffer.from(body);
        const bytes = assembleEnvelope(compressed, Math.min(originalSize, 0xffffffff), { version });
        const r = (await typed([], () => inspectEnvelope({ bytes }))).value!;
        expect(VERDICTS.has(r.verdict)).toBe(true);
        expect(r.inflatedBytes).toBeLessThanOrEqual(r.originalSize! + SLACK);
      }),
      params(250),
    );
  });

  it('gzip bombs: inflation stops near originalSize, whatever the real size', { timeout: timeoutFor(30_000) }, async () => {
    // 1 MiB of zeros is a 1 KiB gzip member; one 64 MiB member is 64 KiB (ratio 1000:1).
    const oneMiB = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const big = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4096 }), fc.constantFrom(1, 16, 1024), fc.boolean(), async (claimed, copies, single) => {
        stats.add('gzip bomb cases');
        const compressed = single ? big : Buffer.concat(Array.from({ length: copies }, () => oneMiB));
        const r = await inspectEnvelope({ bytes: assembleEnvelope(compressed, claimed) });
        expect(r.verdict).toBe('SIZE_EXCEEDED');
        expect(r.inflatedBytes).toBeLessThanOrEqual(claimed + SLACK);
        expect(r.payload).toBeUndefined();
      }),
      params(40),
    );
  });

  it('inflateGzipMembers never throws, on any bytes', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), fc.tuple(plainJson, mutations(3)).map(([v, ms]) => mutate(gzipSync(JSON.stringify(v) ?? 'null'), ms))), fc.nat(5000), async (data, limit) => {
        stats.add('inflate cases');
        const r = (await typed([], () => inflateGzipMembers(data, limit, () => undefined, HEADER_LENGTH))).value!;
        expect(r.produced).toBeLessThanOrEqual(limit + SLACK);
      }),
      params(300),
    );
  });

  it('rejects bad options with StaxError (USAGE) only', async () => {
    await expect(inspectEnvelope({ bytes: Buffer.alloc(0) }, { maxPayloadBytes: -1 })).rejects.toBeInstanceOf(StaxError);
    await expect(inspectEnvelope({ bytes: Buffer.alloc(0) }, { signature: '\u001b[2J' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
