/**
 * Ed25519 (RFC 8032) over tweetnacl, with the checks tweetnacl leaves out so that every
 * signature has exactly one accepted encoding.
 *
 * tweetnacl 1.0.3 verifies by recomputing R from S and comparing encodings, so a
 * non-canonical R never matches; but it reduces S mod L without checking S < L, so S + L,
 * S + 2L ... verify too (Wycheproof tcId 63-66 and 85). RFC 8032 section 5.1.7 says to
 * reject S >= L, and we do. It also reads the public key's y coordinate without checking
 * y < p; we reject such non-canonical keys as RFC 8032 section 5.1.3 decoding does (Go's
 * crypto/ed25519 rejects them too), so one key has one text. Last, it accepts public keys
 * of small order (the identity and the other points of order dividing 8), under which
 * R = B, S = 1 "verifies" for every message; libsodium refuses them and so do we, since
 * a key that signs everything is never evidence.
 */
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { StaxError } from '../errors.js';
import { bytesEqual } from './encoding.js';

export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
/** tweetnacl's secret key: seed || public key. */
export const SECRET_KEY_LENGTH = 64;
export const SIGNATURE_LENGTH = 64;

export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  /** seed || publicKey, as tweetnacl expects it. */
  secretKey: Uint8Array;
  /** The 32 random bytes everything else is derived from; what a key file stores. */
  seed: Uint8Array;
}

export function generateKeyPair(): Ed25519KeyPair {
  return keyPairFromSeed(randomBytes(SEED_LENGTH));
}

/** Throws StaxError KEY_INVALID unless `seed` is 32 bytes. */
export function keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new StaxError('KEY_INVALID', `an Ed25519 seed is ${SEED_LENGTH} bytes, not ${describeLength(seed)}`);
  }
  const own = Uint8Array.from(seed);
  const pair = nacl.sign.keyPair.fromSeed(own);
  return { publicKey: pair.publicKey, secretKey: pair.secretKey, seed: own };
}

/**
 * Signs with a 64-byte secret key (seed || public key). Throws StaxError KEY_INVALID when
 * the key has the wrong length or its public half is not the seed's: tweetnacl would
 * trust the stored half, and a signature made with the wrong public key leaks the secret
 * scalar to whoever sees it next to a correct one (the Ed25519 "double public key" attack).
 */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== SECRET_KEY_LENGTH) {
    throw new StaxError(
      'KEY_INVALID',
      `an Ed25519 secret key is ${SECRET_KEY_LENGTH} bytes, not ${describeLength(secretKey)}`,
    );
  }
  const derived = nacl.sign.keyPair.fromSeed(secretKey.slice(0, SEED_LENGTH)).publicKey;
  if (!bytesEqual(derived, secretKey.subarray(SEED_LENGTH))) {
    throw new StaxError('KEY_INVALID', 'the Ed25519 secret key does not hold the public key of its own seed');
  }
  return nacl.sign.detached(message, secretKey);
}

/** True only for a valid signature in canonical form. Never throws: bad input is false. */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (
    !(message instanceof Uint8Array) ||
    !(signature instanceof Uint8Array) ||
    !(publicKey instanceof Uint8Array) ||
    signature.length !== SIGNATURE_LENGTH ||
    publicKey.length !== PUBLIC_KEY_LENGTH ||
    !isCanonicalScalar(signature.subarray(32)) ||
    !isCanonicalPoint(publicKey) ||
    hasSmallOrder(publicKey)
  ) {
    return false;
  }
  try {
    return nacl.sign.detached.verify(message, signature, publicKey);
  } catch {
    return false;
  }
}

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

/** S < L, comparing 32-byte little-endian numbers from the top byte down. */
function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < L[i]!) return true;
    if (s[i]! > L[i]!) return false;
  }
  return false; // S = L
}

/**
 * The y coordinate (low 255 bits, little-endian) is below p = 2^255 - 19. The only
 * encodings at or above p are 0xed..0xff in byte 0, 0xff in bytes 1-30, 0x7f in byte 31
 * once the sign bit is masked off.
 */
function isCanonicalPoint(a: Uint8Array): boolean {
  if ((a[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (a[i] !== 0xff) return true;
  return a[0]! < 0xed;
}

// Canonical y of the points of order 1, 2, 4 and 8 (libsodium's blocklist, which also
// lists y = p and y = p + 1; isCanonicalPoint already refuses those). The sign bit is ignored.
const SMALL_ORDER_Y = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => Buffer.from(h, 'hex'));

function hasSmallOrder(a: Uint8Array): boolean {
  return SMALL_ORDER_Y.some((y) => {
    for (let i = 0; i < 31; i++) if (a[i] !== y[i]) return false;
    return (a[31]! & 0x7f) === y[31];
  });
}

function describeLength(value: unknown): string {
  return value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
}
