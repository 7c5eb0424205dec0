/**
 * Fuzzing the JSON layer every verifier stands on: the lossless parser (src/json/parse.ts),
 * Python's json.dumps emulation (src/json/python.ts) and the payload reader of `stax log`.
 *
 * Errors each may throw:
 *   parseJson     JsonParseError only (SYNTAX, DUPLICATE_KEY, TOO_DEEP, NON_FINITE, BOM)
 *   pythonDumps   nothing, for any value parseJson returns
 *   parsePayload  StaxError only (INPUT_INVALID)
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/json/jcs.js';
import { JsonParseError, parseJson } from '../../src/json/parse.js';
import { pythonDumps } from '../../src/json/python.js';
import { toPlain } from '../../src/json/value.js';
import { StaxError } from '../../src/errors.js';
import { parsePayload } from '../../src/trail/payload.js';
import { jsonText, mutate, mutations, anyString } from '../support/fuzz-arbitraries.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';

const stats = new Stats('fuzz-json');
afterAll(() => stats.flush());

/** Valid JSON text, or that text with a few hostile byte-level edits (decoded leniently). */
const maybeBroken = fc.oneof(
  jsonText,
  fc.tuple(jsonText, mutations(4)).map(([t, ms]) => mutate(Buffer.from(t), ms).toString('utf8')),
  anyString(40),
);

describe('parseJson', () => {
  it('throws nothing but JsonParseError, on any text', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(maybeBroken, fc.boolean(), fc.constantFrom('error' as const, 'last' as const), async (text, allowNonFinite, duplicateKeys) => {
        stats.add('parseJson cases');
        await typed([JsonParseError], () => parseJson(text, { allowNonFinite, duplicateKeys }));
      }),
      params(800),
    );
  });

  it('accepts exactly what JSON.parse accepts, with the same values (RFC 8259 differential)', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(maybeBroken, async (text) => {
        stats.add('parseJson differential cases');
        let expected: string | null;
        try {
          expected = JSON.stringify(JSON.parse(text));
        } catch {
          expected = null;
        }
        const got = await typed([JsonParseError], () => parseJson(text, { duplicateKeys: 'last', maxDepth: 1e9 }));
        if (expected === null) {
          expect(got.ok, `parseJson accepted text JSON.parse rejects: ${JSON.stringify(text)}`).toBe(false);
        } else {
          expect(got.ok, `parseJson rejected text JSON.parse accepts: ${JSON.stringify(text)} (${got.error?.message})`).toBe(true);
          expect(JSON.stringify(toPlain(got.value!))).toBe(expected);
        }
      }),
      params(800),
    );
  });

  it('ends hostile nesting with TOO_DEEP, not a stack overflow, at any depth', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom('[', '{"a":'), async (depth, open) => {
        stats.add('parseJson nesting cases');
        const close = open === '[' ? ']' : '}';
        const text = open.repeat(depth) + '0' + close.repeat(depth);
        const r = await typed([JsonParseError], () => parseJson(text));
        if (depth > 1000) expect(r.error).toMatchObject({ code: 'TOO_DEEP' });
        else expect(r.ok).toBe(true);
      }),
      params(40),
    );
  });
});

describe('pythonDumps', () => {
  it('is idempotent: pythonDumps(parseJson(x)) parses back to itself, and is pure ASCII', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(jsonText, fc.constantFrom('compact' as const, 'default' as const), async (text, separators) => {
        stats.add('pythonDumps cases');
        const once = pythonDumps(parseJson(text, { allowNonFinite: true, duplicateKeys: 'last' }), { separators });
        const twice = pythonDumps(parseJson(once, { allowNonFinite: true }), { separators });
        expect(twice).toBe(once);
        expect(once).toMatch(/^[\x20-\x7e]*$/);
      }),
      params(800),
    );
  });
});

describe('parsePayload (stax log)', () => {
  it('throws only StaxError, and whatever it accepts can be hashed and stored exactly', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(maybeBroken, async (text) => {
        stats.add('parsePayload cases');
        const r = await typed([StaxError], () => parsePayload(text, '--payload'));
        if (!r.ok) return;
        // What `stax log` accepts must survive the chain's JSON round trip unchanged.
        const canonical = canonicalize(r.value);
        expect(canonicalize(JSON.parse(canonical))).toBe(canonical);
      }),
      params(800),
    );
  });
});
