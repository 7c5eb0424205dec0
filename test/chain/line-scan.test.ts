/**
 * scanCanonicalLine lets a verifier hash a line's own bytes instead of parsing and
 * re-serializing it. It may say no to a canonical line (that only costs speed), but it
 * must never say yes to a line whose body is not the RFC 8785 form of its parsed value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyOf, serializeEntry, type EntryBody } from '../../src/chain/entry.js';
import { scanCanonicalBytes, scanCanonicalLine, type CanonicalBytes } from '../../src/chain/line-scan.js';
import { checkEntryText } from '../../src/formats/stax.js';
import { canonicalize } from '../../src/json/jcs.js';

const HASH = 'a'.repeat(64);

/** The soundness property: an accepted line's body is the canonical form of its value. */
function assertSound(text: string): void {
  const scan = scanCanonicalLine(text);
  if (scan === null) return;
  const value = JSON.parse(text) as Record<string, unknown>;
  expect(text.slice(0, scan.at) + '}').toBe(canonicalize(bodyOf(value)));
  expect(scan.hash).toBe(value.hash);
  for (const k of ['seq', 'ts', 'actor', 'action', 'prev', 'session'] as const) expect(scan[k]).toBe(value[k]);
  expect(scan.hasPayload).toBe(Object.hasOwn(value, 'payload'));
}

/** The same for the byte scanner, which also vouches for the fields the chain checks. */
function assertSoundBytes(text: string): boolean {
  const b = Buffer.from('xx\n' + text + '\nyy'); // a line inside a block, as the verifier sees it
  const out: CanonicalBytes = { at: 0, seq: 0, prev: 0, hash: 0 };
  const stop = scanCanonicalBytes(b, 3, b.length, out);
  if (stop < 0 || b[stop] !== 0x0a) return false; // as the verifier: a newline must follow
  expect(stop).toBe(b.length - 3);
  const value = JSON.parse(text) as Record<string, unknown>;
  expect(b.subarray(3, out.at).toString() + '}').toBe(canonicalize(bodyOf(value)));
  expect(out.seq).toBe(value.seq);
  expect(b.subarray(out.prev, out.prev + 64).toString()).toBe(value.prev);
  expect(b.subarray(out.hash, out.hash + 64).toString()).toBe(value.hash);
  const check = checkEntryText(text);
  expect(check.kind === 'entry' || check.kind === 'shape').toBe(true);
  if (check.kind === 'shape') expect(check.error).toMatch(/"hash"/); // only the hash is left to the caller
  return true;
}

const body = (payload: unknown): EntryBody => ({ seq: 7, ts: '2025-01-01T00:00:00.000Z', actor: 'ci', action: 'step', payload, prev: HASH });

describe('scanCanonicalLine', () => {
  it('accepts what the writer writes, with and without a signature', () => {
    for (const payload of [null, { b: 1, a: [true, false, null, -0.5, 1e21, 'x'] }, [], {}, 'é ü 中']) {
      const { line } = serializeEntry(body(payload));
      expect(scanCanonicalLine(line)).not.toBeNull();
      assertSound(line);
      expect(assertSoundBytes(line)).toBe(true);
      const signed = serializeEntry(body(payload), () => ({ key: 'alice+0000', sig: 'c2ln' })).line;
      expect(scanCanonicalLine(signed)?.sigText).toBe('{"key":"alice+0000","sig":"c2ln"}');
      assertSound(signed);
      expect(assertSoundBytes(signed)).toBe(false); // signed entries take the checked path
    }
  });

  it.each([
    ['whitespace', '{"action":"step", "actor":"ci","hash":"h"}'],
    ['unsorted keys', '{"actor":"ci","action":"step","hash":"h"}'],
    ['a repeated key', '{"action":"a","action":"b","hash":"h"}'],
    ['unsorted nested keys', '{"payload":{"b":1,"a":2},"hash":"h"}'],
    ['a repeated nested key', '{"payload":{"a":1,"a":2},"hash":"h"}'],
    ['a number not in shortest form', '{"payload":1.0,"hash":"h"}'],
    ['an exponent', '{"payload":1e3,"hash":"h"}'],
    ['minus zero', '{"payload":-0,"hash":"h"}'],
    ['a leading zero', '{"payload":012,"hash":"h"}'],
    ['an escape', '{"payload":"\\u0041","hash":"h"}'],
    ['an escaped slash', '{"payload":"a\\/b","hash":"h"}'],
    ['a lone surrogate', '{"payload":"\ud800","hash":"h"}'],
    ['a control character', '{"payload":"a\tb","hash":"h"}'],
    ['no body', '{"hash":"h"}'],
    ['sig before hash', '{"action":"a","sig":{},"hash":"h"}'],
    ['a member after hash', '{"action":"a","hash":"h","zz":1}'],
    ['trailing bytes', '{"action":"a","hash":"h"} '],
    ['bad JSON', '{"payload":[1,],"hash":"h"}'],
    ['an unknown literal', '{"payload":nul,"hash":"h"}'],
    ['an integer key order (JS objects reorder those)', '{"payload":{"10":1,"9":2},"hash":"h"}'],
  ])('says no to %s', (_what, text) => {
    if (_what.startsWith('an integer key order')) {
      // "10" < "9" in code units: canonical, and accepted; JSON.stringify would reorder it.
      assertSound(text);
      return;
    }
    expect(scanCanonicalLine(text)).toBeNull();
    expect(assertSoundBytes(text)).toBe(false);
  });

  it.each([
    ['a negative seq', { seq: -1 }],
    ['a float seq', { seq: 1.5 }],
    ['a seq with 16 digits', { seq: 1234567890123456 }],
    ['a bad time', { ts: '2025-01-01 00:00:00Z' }],
    ['an empty actor', { actor: '' }],
    ['an empty action', { action: '' }],
    ['a short prev', { prev: 'abc' }],
    ['an upper-case prev', { prev: 'A'.repeat(64) }],
    ['a session that is not a string', { session: 5 }],
    ['an astral character', { payload: { k: '\u{1F50D}' } }],
  ])('sends %s to the checked path', (_what, change) => {
    const { line } = serializeEntry({ ...body(null), ...change } as EntryBody);
    expect(assertSoundBytes(line)).toBe(false);
  });

  it('accepts the times RFC 3339 allows, and only those', () => {
    for (const ts of ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00.1Z', '2025-01-01T00:00:00.123456+02:00', '2025-01-01T00:00:00-11:30']) {
      expect(assertSoundBytes(serializeEntry({ ...body(null), ts }).line)).toBe(true);
    }
    for (const ts of ['2025-01-01T00:00:00', '2025-01-01T00:00:00.Z', '2025-01-01T00:00:00+0200', '2025-01-01t00:00:00Z', '2025-1-01T00:00:00Z', '2025-01-01T00:00:00Zx']) {
      expect(assertSoundBytes(serializeEntry({ ...body(null), ts }).line)).toBe(false);
    }
  });

  it('never accepts a line that is not canonical (property)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, true, false),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer(),
        fc.string({ unit: 'binary-ascii' }),
        fc.string({ unit: 'grapheme' }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, fc.nat(), (payload, seed) => {
        const { line } = serializeEntry(body(payload));
        assertSound(line);
        assertSoundBytes(line);
        // Take the canonical line apart and put it back together wrongly in a few ways.
        const variants = [
          line.replace(/,/, ', '),
          line.replace(/:(\d)/, ':0$1'),
          line.replace(/"payload":(\{"[^"]*":[^,}]*),("[^"]*":[^,}]*)\}/, '"payload":{$2,$1}'),
          line.replace(/(\d)\.(\d+)/, (_m, a: string, b: string) => `${a}.${b}0`),
          line.replace(/(\d+)(?=[,}\]])/, (m) => `${m}.0`),
          line.replace(/"([a-z])/, '"\\u00$1'.replace('$1', (seed % 10).toString())),
          JSON.stringify(JSON.parse(line)),
        ];
        for (const v of variants) {
          try {
            JSON.parse(v);
          } catch {
            expect(scanCanonicalLine(v)).toBeNull();
            expect(assertSoundBytes(v)).toBe(false);
            continue;
          }
          assertSound(v);
          assertSoundBytes(v);
        }
      }),
      { numRuns: 500 },
    );
  });
});
