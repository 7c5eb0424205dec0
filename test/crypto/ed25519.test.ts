import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { StaxError } from '../../src/errors.js';
import { generateKeyPair, keyPairFromSeed, sign, verify } from '../../src/crypto/ed25519.js';
import { hex, readVector } from './vectors.js';

interface WycheproofFile {
  numberOfTests: number;
  testGroups: Array<{
    publicKey: { pk: string };
    tests: Array<{ tcId: number; comment: string; flags: string[]; msg: string; sig: string; result: string }>;
  }>;
}

const wycheproof = readVector<WycheproofFile>('ed25519/wycheproof_ed25519_test.json');
const cases = wycheproof.testGroups.flatMap((group) =>
  group.tests.map((t) => ({ ...t, pk: group.publicKey.pk, label: `tcId ${t.tcId} ${t.result} ${t.comment}` })),
);

describe('Wycheproof Ed25519 (ed25519/wycheproof_ed25519_test.json)', () => {
  it('has every case the file declares, and only valid/invalid results', () => {
    expect(cases).toHaveLength(wycheproof.numberOfTests);
    expect(cases).toHaveLength(151);
    // The file has no "acceptable" cases; if a new copy brings some, decide on them here.
    expect(new Set(cases.map((c) => c.result))).toEqual(new Set(['valid', 'invalid']));
  });

  it.each(cases)('$label', (c) => {
    expect(verify(hex(c.msg), hex(c.sig), hex(c.pk))).toBe(c.result === 'valid');
  });

  it('needs our S < L check: plain tweetnacl accepts the malleable cases', () => {
    const malleable = cases.filter((c) => c.flags.includes('SignatureMalleability'));
    expect(malleable.length).toBeGreaterThan(0);
    const naclAccepts = malleable.filter((c) => nacl.sign.detached.verify(hex(c.msg), hex(c.sig), hex(c.pk)));
    expect(naclAccepts.length).toBeGreaterThan(0);
    for (const c of naclAccepts) expect(verify(hex(c.msg), hex(c.sig), hex(c.pk))).toBe(false);
  });
});

describe('RFC 8032 section 7.1 TEST 1', () => {
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  const pk = hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const sig = hex(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  );

  it('derives the public key and the signature', () => {
    const pair = keyPairFromSeed(seed);
    expect(Buffer.from(pair.publicKey).toString('hex')).toBe(Buffer.from(pk).toString('hex'));
    expect(Buffer.from(pair.seed).equals(seed)).toBe(true);
    expect(Buffer.from(sign(new Uint8Array(0), pair.secretKey)).equals(sig)).toBe(true);
    expect(verify(new Uint8Array(0), sig, pk)).toBe(true);
  });
});

describe('verify never throws', () => {
  const pair = generateKeyPair();
  const msg = Buffer.from('hello');
  const sig = sign(msg, pair.secretKey);

  it('accepts its own signature, also given Buffers', () => {
    expect(verify(msg, Buffer.from(sig), Buffer.from(pair.publicKey))).toBe(true);
  });

  it.each([
    ['short signature', msg, sig.subarray(0, 63), pair.publicKey],
    ['long signature', msg, Buffer.concat([sig, Buffer.of(0)]), pair.publicKey],
    ['empty signature', msg, new Uint8Array(0), pair.publicKey],
    ['short key', msg, sig, pair.publicKey.subarray(0, 31)],
    ['secret key as public key', msg, sig, pair.secretKey],
    ['string message', 'hello', sig, pair.publicKey],
    ['null signature', msg, null, pair.publicKey],
    ['undefined key', msg, sig, undefined],
    ['array key', msg, sig, Array.from(pair.publicKey)],
  ])('%s → false', (_label, m, s, k) => {
    expect(verify(m as Uint8Array, s as Uint8Array, k as Uint8Array)).toBe(false);
  });

  it('rejects a tampered message and a tampered signature', () => {
    expect(verify(Buffer.from('hellO'), sig, pair.publicKey)).toBe(false);
    const bad = Uint8Array.from(sig);
    bad[10]! ^= 1;
    expect(verify(msg, bad, pair.publicKey)).toBe(false);
  });

  it('rejects a public key whose y is not reduced mod p, which tweetnacl accepts', () => {
    // A = identity, so [S]B = R + [k]A holds for R = B, S = 1 whatever the message.
    const r = hex('5866666666666666666666666666666666666666666666666666666666666666');
    const s = hex('0100000000000000000000000000000000000000000000000000000000000000');
    const forged = Buffer.concat([r, s]);
    const identity = hex('0100000000000000000000000000000000000000000000000000000000000000');
    // y = p + 1: the same point, written a second way.
    const identityUnreduced = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(nacl.sign.detached.verify(msg, forged, identity)).toBe(true);
    expect(nacl.sign.detached.verify(msg, forged, identityUnreduced)).toBe(true);
    expect(verify(msg, forged, identityUnreduced)).toBe(false);
  });

  it('rejects small-order public keys, under which one signature fits every message', () => {
    const r = hex('5866666666666666666666666666666666666666666666666666666666666666');
    const s = hex('0100000000000000000000000000000000000000000000000000000000000000');
    const identity = hex('0100000000000000000000000000000000000000000000000000000000000000');
    const forged = Buffer.concat([r, s]);
    expect(nacl.sign.detached.verify(Buffer.from('anything at all'), forged, identity)).toBe(true);
    expect(verify(Buffer.from('anything at all'), forged, identity)).toBe(false);
    // The same y with the sign bit set is the same weak key.
    const identitySigned = Uint8Array.from(identity);
    identitySigned[31] = 0x80;
    expect(verify(Buffer.from('anything at all'), forged, identitySigned)).toBe(false);
  });

  it.each([
    '0000000000000000000000000000000000000000000000000000000000000000',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
    'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ])('rejects the small-order key %s that tweetnacl lets forge', (yHex) => {
    // [k]A has order dividing 8, so for about one message in 8 it is the identity and
    // R = B, S = 1 passes tweetnacl: proof that the blocklist entry is a weak key.
    const r = hex('5866666666666666666666666666666666666666666666666666666666666666');
    const s = hex('0100000000000000000000000000000000000000000000000000000000000000');
    const forged = Buffer.concat([r, s]);
    const key = hex(yHex);
    let forgedMessage: Buffer | undefined;
    for (let i = 0; i < 200 && forgedMessage === undefined; i++) {
      const m = Buffer.from(`message ${i}`);
      if (nacl.sign.detached.verify(m, forged, key)) forgedMessage = m;
    }
    expect(forgedMessage).toBeDefined();
    expect(verify(forgedMessage!, forged, key)).toBe(false);
  });
});

describe('key handling', () => {
  it('refuses seeds and secret keys of the wrong size with KEY_INVALID', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(StaxError);
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
    expect(() => sign(Buffer.from('x'), new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
  });

  it('refuses a secret key whose public half belongs to another seed', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const forged = Buffer.concat([a.seed, b.publicKey]);
    expect(() => sign(Buffer.from('x'), forged)).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
  });

  it('does not keep a reference to the caller’s seed', () => {
    const seed = new Uint8Array(32).fill(7);
    const pair = keyPairFromSeed(seed);
    seed.fill(0);
    expect(pair.seed.every((b) => b === 7)).toBe(true);
  });

  it('generates distinct keys', () => {
    expect(Buffer.from(generateKeyPair().publicKey).equals(generateKeyPair().publicKey)).toBe(false);
  });
});
