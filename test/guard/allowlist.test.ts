import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StaxError } from '../../src/errors.js';
import { generateKeyPair } from '../../src/crypto/ed25519.js';
import { formatSignerKey, formatVerifierKey, parseSignerKey, type NoteSigner } from '../../src/crypto/note.js';
import { canonicalize } from '../../src/json/jcs.js';
import {
  DEFAULT_TRUSTED_KEYS,
  GuardError,
  MAX_ALLOWLIST_BYTES,
  allowlistDigest,
  canonicalBytes,
  dict,
  emptyAllowlist,
  own,
  parseAllowlist,
  readAllowlist,
  serializeAllowlist,
  signAllowlist,
  verificationMode,
  verifySignature,
  type Allowlist,
  type AllowlistBody,
  type GuardFailure,
  type VerifyMode,
} from '../../src/guard/allowlist.js';
import { loadTrustedKeys } from '../../src/keys/store.js';
import { tempDir } from '../support/cli.js';

const tmp = tempDir('stax-allowlist-');
afterAll(() => tmp.cleanup());

const KEY = Buffer.from('allowlist-test-hmac-key', 'utf8');
const LODASH = 'sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==';
const MS = 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==';
const AT = '2026-01-02T03:04:05.000Z';

function signer(name: string): NoteSigner {
  return parseSignerKey(formatSignerKey(name, generateKeyPair().seed));
}

function trustedFile(name: string, ...signers: NoteSigner[]): string {
  const file = join(tmp.path, name);
  writeFileSync(file, signers.map((s) => formatVerifierKey(s.name, s.publicKey)).join('\n') + '\n');
  return file;
}

/** A document like the one in docs/guard-design.md. */
function body(): AllowlistBody {
  const b = emptyAllowlist(new Date(AT));
  b.serial = 7;
  const stamp = { approvedBy: 'alice', approvedAt: AT, note: null, expires: null };
  b.packages.lodash = {
    versions: dict(),
    ranges: dict(),
  };
  b.packages.lodash.versions['4.17.21'] = { integrity: LODASH, host: 'registry.npmjs.org', installScript: false, ...stamp, note: 'needed by the report builder' };
  b.packages.lodash.ranges['^4.17.0'] = { ...stamp, weak: true };
  b.packages.ms = { versions: dict(), ranges: dict() };
  b.packages.ms.versions['2.1.3'] = { integrity: MS, host: null, installScript: null, ...stamp };
  b.sources['git+ssh://git@github.com/acme/tool.git#4f9c2e1'] = { name: 'tool', ...stamp };
  return b;
}

function hmacSigned(): Allowlist {
  return signAllowlist(body(), { hmacKey: KEY, signers: [] });
}

function failure(fn: () => unknown): GuardError {
  try {
    fn();
  } catch (err) {
    if (err instanceof GuardError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

function staxError(fn: () => unknown): StaxError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StaxError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const hmac: VerifyMode = { kind: 'hmac', key: KEY };

/** Parses text that is an allowlist with one member changed by `edit`. */
function edited(edit: (doc: Record<string, unknown>) => void): string {
  const doc = JSON.parse(serializeAllowlist(hmacSigned())) as Record<string, unknown>;
  edit(doc);
  return JSON.stringify(doc);
}

describe('the canonical form and the signatures', () => {
  it('signs RFC 8785 bytes of the document without "signatures", byte for byte', () => {
    const a = hmacSigned();
    const { signatures: _s, ...rest } = JSON.parse(serializeAllowlist(a)) as Record<string, unknown>;
    const expected = canonicalize(rest);
    expect(canonicalBytes(a).toString('utf8')).toBe(expected);
    // Members sorted by code unit, no whitespace: a hand-computed check of the first bytes.
    expect(expected.startsWith('{"format":"stax-allowlist","hosts":["registry.npmjs.org"],"packages":{"lodash":{"ranges":{"^4.17.0":')).toBe(true);
    expect(a.signatures.hmac).toBe(createHmac('sha256', KEY).update(expected).digest('hex'));
    expect(allowlistDigest(a)).toBe(`sha256-${createHash('sha256').update(expected).digest('base64')}`);
  });

  it('round-trips through the file text, and verifies', () => {
    const a = hmacSigned();
    const text = serializeAllowlist(a);
    const back = parseAllowlist(text, 'a.json');
    expect(serializeAllowlist(back)).toBe(text);
    expect(verifySignature(back, hmac, 'a.json')).toEqual({ mode: 'hmac', signedBy: ['hmac'] });
  });

  it('still verifies with every object re-ordered and re-indented (the signature is over the canonical form)', () => {
    const reverse = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(reverse);
      if (v === null || typeof v !== 'object') return v;
      return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverse(x)]));
    };
    const text = JSON.stringify(reverse(JSON.parse(serializeAllowlist(hmacSigned()))));
    expect(text.indexOf('"signatures"')).toBeLessThan(text.indexOf('"format"'));
    const back = parseAllowlist(text, 'reordered.json');
    expect(verifySignature(back, hmac, 'reordered.json').mode).toBe('hmac');
    expect(allowlistDigest(back)).toBe(allowlistDigest(hmacSigned()));
  });

  it('fails an edited entry, a dropped entry and an added entry', () => {
    const cases = [
      edited((d) => (((d.packages as any).lodash.versions['4.17.21'] as Record<string, unknown>).integrity = MS)),
      edited((d) => delete (d.packages as any).ms),
      edited((d) => ((d.packages as any)['left-pad'] = { versions: {}, ranges: { '*': { approvedBy: 'mallory', approvedAt: AT, note: null, expires: null, weak: true } } })),
      edited((d) => ((d as { serial: number }).serial = 8)),
      edited((d) => (d.hosts = ['registry.npmjs.org', 'evil.example.com'])),
    ];
    for (const text of cases) {
      const e = failure(() => verifySignature(parseAllowlist(text, 'x.json'), hmac, 'x.json'));
      expect(e.reason).toBe('BAD_SIGNATURE');
      expect(e.exitCode).toBe(1);
      expect(e.file).toBe('x.json');
    }
  });

  it('fails with another HMAC key, and never accepts a missing HMAC signature', () => {
    const a = hmacSigned();
    expect(failure(() => verifySignature(a, { kind: 'hmac', key: Buffer.from('other') }, 'a')).reason).toBe('BAD_SIGNATURE');
    const unsigned = parseAllowlist(edited((d) => delete d.signatures), 'u.json');
    expect(failure(() => verifySignature(unsigned, hmac, 'u.json')).reason).toBe('UNSIGNED');
  });

  it('Ed25519: a trusted key verifies; an untrusted one, a tampered file or an HMAC-only file fails', () => {
    const alice = signer('alice');
    const bob = signer('bob');
    const a = signAllowlist(body(), { hmacKey: null, signers: [alice] });
    expect(a.signatures.ed25519?.[0]?.key).toMatch(/^alice\+[0-9a-f]{8}$/);
    const trusted = { kind: 'ed25519', trusted: loadTrustedKeys(trustedFile('t1.txt', alice, bob)) } as const;
    expect(verifySignature(a, trusted, 'a')).toEqual({ mode: 'ed25519', signedBy: [a.signatures.ed25519![0]!.key] });

    const onlyBob = { kind: 'ed25519', trusted: loadTrustedKeys(trustedFile('t2.txt', bob)) } as const;
    expect(failure(() => verifySignature(a, onlyBob, 'a')).reason).toBe('UNTRUSTED_KEY');

    const tampered = parseAllowlist(serializeAllowlist(a).replace('"alice"', '"mallory"'), 'a');
    expect(failure(() => verifySignature(tampered, trusted, 'a')).reason).toBe('BAD_SIGNATURE');

    // A valid HMAC file checked in Ed25519 mode fails, and a valid Ed25519 file in HMAC mode.
    expect(failure(() => verifySignature(hmacSigned(), trusted, 'h')).reason).toBe('UNSIGNED');
    expect(failure(() => verifySignature(a, hmac, 'e')).reason).toBe('UNSIGNED');

    // Both modes at once: each verifier finds its own.
    const both = signAllowlist(body(), { hmacKey: KEY, signers: [alice, bob] });
    expect(verifySignature(both, hmac, 'b').mode).toBe('hmac');
    expect(verifySignature(both, trusted, 'b').signedBy).toHaveLength(2);
  });

  it('the Ed25519 signature is domain-separated: it does not verify as a signature of the bare canonical bytes', async () => {
    const { verify } = await import('../../src/crypto/ed25519.js');
    const { fromBase64 } = await import('../../src/crypto/encoding.js');
    const alice = signer('alice');
    const a = signAllowlist(body(), { hmacKey: null, signers: [alice] });
    const sig = fromBase64(a.signatures.ed25519![0]!.sig)!;
    expect(verify(canonicalBytes(a), sig, alice.publicKey)).toBe(false);
    expect(verify(Buffer.concat([Buffer.from('stax-allowlist/v1\n'), canonicalBytes(a)]), sig, alice.publicKey)).toBe(true);
  });

  it('refuses to sign without a key', () => {
    expect(staxError(() => signAllowlist(body(), { hmacKey: null, signers: [] })).code).toBe('KEY_MISSING');
  });
});

describe('reading hostile allowlists', () => {
  const bad = (text: string): GuardError => failure(() => parseAllowlist(text, '/p/.stax/allowlist.json'));

  it('names the file and the member for each kind of malformed document', () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not valid JSON/],
      [edited((d) => (d.format = 'guardian')), /"format" is "guardian"/],
      [edited((d) => (d.version = 2)), /this stax reads version 1/],
      [edited((d) => (d.serial = 0)), /"serial" is not a whole number/],
      [edited((d) => (d.serial = 1.5)), /"serial"/],
      [edited((d) => (d.updated = 'yesterday')), /"updated" is not an RFC 3339 time/],
      [edited((d) => (d.hosts = ['https://registry.npmjs.org/'])), /hosts\[0\] is not a host name/],
      [edited((d) => (d.extra = 1)), /unknown member "extra"/],
      [edited((d) => delete d.sources), /has no "sources"/],
      [edited((d) => (((d.packages as any).lodash.versions['4.17.21'] as Record<string, unknown>).integrity = 'md5-abc')), /integrity is not a Subresource Integrity/],
      [edited((d) => (((d.packages as any).lodash.versions['4.17.21'] as Record<string, unknown>).installScript = 'no')), /installScript is not true, false or null/],
      [edited((d) => ((d.packages as any).lodash.versions['v4.17.22'] = (d.packages as any).lodash.versions['4.17.21'])), /versions\["v4\.17\.22"\] is not an exact semver version/],
      [edited((d) => ((d.packages as any).lodash.ranges['not a range!'] = (d.packages as any).lodash.ranges['^4.17.0'])), /is not a semver range/],
      [edited((d) => ((d.packages as any).lodash.ranges['^4.17.0'].weak = false)), /weak is not true/],
      [edited((d) => ((d.packages as any)['../evil'] = { versions: {}, ranges: {} })), /packages\["\.\.\/evil"\] is not an npm package name/],
      [edited((d) => ((d.sources as any)['lodash@4'] = { name: 'x', approvedBy: 'a', approvedAt: AT, note: null, expires: null })), /is not a git, file: or http\(s\) source spec/],
      [edited((d) => ((d.signatures as any).hmac = 'ABC')), /signatures\.hmac is not 64 lower-case hex digits/],
      [edited((d) => ((((d.packages as any).ms.versions['2.1.3'] as Record<string, unknown>).approvedBy = ''))), /approvedBy is empty/],
    ];
    for (const [text, message] of cases) {
      const e = bad(text);
      expect(e.reason, text.slice(0, 80)).toBe('ALLOWLIST_INVALID');
      expect(e.file).toBe('/p/.stax/allowlist.json');
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a repeated key: two readers could see two different approvals', () => {
    const text = serializeAllowlist(hmacSigned()).replace('"serial": 7,', '"serial": 7,\n  "serial": 8,');
    expect(bad(text).message).toMatch(/repeats the key "serial"/);
  });

  it('treats __proto__ as data: refused as a package name, never reaching a prototype', () => {
    const text = edited((d) => {
      Object.defineProperty(d.packages, '__proto__', { value: { versions: {}, ranges: {} }, enumerable: true });
    });
    expect(text).toContain('"__proto__"');
    expect(bad(text).message).toMatch(/packages\["__proto__"\] is not an npm package name/);
    expect(({} as Record<string, unknown>).versions).toBeUndefined();
  });

  it('accepts names that are Object.prototype members, and never confuses them with inherited ones', () => {
    const text = edited((d) => ((d.packages as any).constructor = { versions: { '1.0.0': { integrity: MS, host: null, installScript: false, approvedBy: 'a', approvedAt: AT, note: null, expires: null } }, ranges: {} }));
    const a = parseAllowlist(text, 'c.json');
    expect(Object.keys(own(a.packages, 'constructor')!.versions)).toEqual(['1.0.0']);
    expect(own(a.packages, 'toString')).toBeUndefined();
    expect(own(a.packages, 'hasOwnProperty')).toBeUndefined();
    expect(Object.getPrototypeOf(a.packages)).toBeNull();
  });

  it('accepts legacy names npm still installs (capitals), and refuses deep nesting cheaply', () => {
    const text = edited((d) => ((d.packages as any).JSONStream = { versions: {}, ranges: {} }));
    expect(Object.keys(parseAllowlist(text, 'l.json').packages)).toContain('JSONStream');
    expect(bad('{"a":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}').message).toMatch(/nesting deeper than 8 levels/);
  });

  it('refuses a huge file before parsing it, a missing one with a hint, and bytes that are not UTF-8', async () => {
    const big = join(tmp.path, 'big.json');
    writeFileSync(big, Buffer.alloc(MAX_ALLOWLIST_BYTES + 10, 0x20));
    await expect(readAllowlist(big)).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE', file: big });
    const missing = join(tmp.path, 'none.json');
    await expect(readAllowlist(missing)).rejects.toMatchObject({ reason: 'ALLOWLIST_MISSING', exitCode: 2, message: expect.stringMatching(/stax approve/) });
    const latin1 = join(tmp.path, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
    await expect(readAllowlist(latin1)).rejects.toMatchObject({ reason: 'ALLOWLIST_INVALID' });
    await expect(readAllowlist(tmp.path)).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
  });
});

describe('choosing the verification mode', () => {
  const project = (name: string): string => {
    const dir = join(tmp.path, name);
    mkdirSync(join(dir, '.stax'), { recursive: true });
    return dir;
  };

  it('no trusted keys and no HMAC key: KEY_MISSING with the ways to fix it (exit 2)', () => {
    const e = staxError(() => verificationMode({ cwd: project('none'), env: {} }));
    expect(e.code).toBe('KEY_MISSING');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/export STAX_HMAC_KEY=.*--hmac-key-file.*stax key generate/);
  });

  it('HMAC from the environment or a file; an empty key and a world-readable key file are refused', () => {
    const dir = project('hmac');
    expect(verificationMode({ cwd: dir, env: { STAX_HMAC_KEY: 'k' } })).toEqual({ kind: 'hmac', key: Buffer.from('k') });
    expect(staxError(() => verificationMode({ cwd: dir, env: { STAX_HMAC_KEY: '' } })).code).toBe('KEY_INVALID');
    const keyFile = join(dir, 'hmac.key');
    writeFileSync(keyFile, 'from-file\n', { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    expect(verificationMode({ cwd: dir, env: { STAX_HMAC_KEY: 'env' }, hmacKeyFile: 'hmac.key' })).toEqual({ kind: 'hmac', key: Buffer.from('from-file') });
    chmodSync(keyFile, 0o644);
    expect(staxError(() => verificationMode({ cwd: dir, env: {}, hmacKeyFile: 'hmac.key' })).code).toBe('KEY_INSECURE');
  });

  it('a trusted-keys file (given, or .stax/trusted-keys.txt) switches to Ed25519, even with an HMAC key set', () => {
    const dir = project('ed');
    const alice = signer('alice');
    writeFileSync(join(dir, DEFAULT_TRUSTED_KEYS), formatVerifierKey('alice', alice.publicKey) + '\n');
    expect(verificationMode({ cwd: dir, env: { STAX_HMAC_KEY: 'k' } }).kind).toBe('ed25519');
    const other = trustedFile('explicit.txt', alice);
    expect(verificationMode({ cwd: project('ed2'), env: {}, trustedKeys: other }).kind).toBe('ed25519');
    expect(staxError(() => verificationMode({ cwd: dir, env: {}, trustedKeys: 'missing.txt' })).code).toBe('FILE_NOT_FOUND');
  });
});

describe('GuardError', () => {
  it('carries a closed reason and prints it under --json', () => {
    const e = new GuardError('ROLLBACK' satisfies GuardFailure, 'INPUT_INVALID', 'older', { file: 'f', exitCode: 1 });
    expect(e).toBeInstanceOf(StaxError);
    expect(e.toJSON()).toEqual({ code: 'INPUT_INVALID', reason: 'ROLLBACK', message: 'older', file: 'f' });
  });
});
