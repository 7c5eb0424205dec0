import { describe, expect, it } from 'vitest';
import { generateKeyPair, keyPairFromSeed } from '../../src/crypto/ed25519.js';
import {
  MAX_SIGNATURES,
  NoteError,
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  keyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from '../../src/crypto/note.js';
import { readVector } from './vectors.js';

interface Examples {
  signedNote: { verifierKey: string; note: string; expect: string };
  checkpointShape: { note: string };
}
const examples = readVector<Examples>('signed-note/examples.json');
const EM = '\u2014';

function errorOf(fn: () => unknown): NoteError {
  try {
    fn();
  } catch (err) {
    if (err instanceof NoteError) return err;
    throw err;
  }
  throw new Error('expected a NoteError');
}

function signer(name: string, fill?: number): NoteSigner {
  const seed = fill === undefined ? generateKeyPair().seed : new Uint8Array(32).fill(fill);
  return parseSignerKey(formatSignerKey(name, seed));
}

describe('the C2SP example (signed-note/examples.json)', () => {
  const v = parseVerifierKey(examples.signedNote.verifierKey);

  it('parses the verifier key and recomputes its key ID', () => {
    expect(v.name).toBe('example.com/foo');
    expect(v.keyId).toBe(0x530d903a);
    expect(keyId(v.name, v.publicKey)).toBe(0x530d903a);
    expect(formatVerifierKey(v.name, v.publicKey)).toBe(examples.signedNote.verifierKey);
  });

  it('verifies the example note', () => {
    expect(examples.signedNote.expect).toBe('valid');
    const opened = openNote(examples.signedNote.note, [v]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verifiedBy.map((s) => [s.name, s.keyId, s.line])).toEqual([['example.com/foo', 0x530d903a, 3]]);
    expect(opened.unknownSignatures).toEqual([]);
  });

  it('verifies the same note given as UTF-8 bytes', () => {
    expect(openNote(Buffer.from(examples.signedNote.note, 'utf8'), [v]).text).toBe('This is an example message.\n');
  });

  it('rejects tampered text', () => {
    const tampered = examples.signedNote.note.replace('example message', 'exemplary message');
    const err = errorOf(() => openNote(tampered, [v]));
    expect(err.code).toBe('SIGNATURE_INVALID');
    expect(err).toMatchObject({ line: 3, keyName: 'example.com/foo', keyId: '530d903a' });
  });

  it('rejects a tampered signature', () => {
    const note = examples.signedNote.note;
    const at = note.indexOf('Uw2QOkn8') + 20;
    const tampered = note.slice(0, at) + (note[at] === 'A' ? 'B' : 'A') + note.slice(at + 1);
    expect(errorOf(() => openNote(tampered, [v])).code).toBe('SIGNATURE_INVALID');
  });

  it('does not trust a note when only other keys are known', () => {
    const other = signer('example.com/foo');
    const err = errorOf(() => openNote(examples.signedNote.note, [other]));
    // Same name, different key ID: an unknown key, so nothing trusted is left.
    expect(err.code).toBe('NO_TRUSTED_SIGNATURE');
    expect(err.found).toBe('example.com/foo+530d903a');
    expect(errorOf(() => openNote(examples.signedNote.note, [])).code).toBe('NO_TRUSTED_SIGNATURE');
  });

  it('rejects a key with the right name and ID but another public key', () => {
    // Forged key ID collision: the tuple matches, so the signature must verify, and it does not.
    const impostor = { name: v.name, keyId: v.keyId, publicKey: generateKeyPair().publicKey };
    expect(errorOf(() => openNote(examples.signedNote.note, [impostor])).code).toBe('SIGNATURE_INVALID');
  });

  it('parses the checkpoint-shaped note without verifying it', () => {
    const parsed = parseNote(examples.checkpointShape.note);
    expect(parsed.text.split('\n')[1]).toBe('20852163');
    expect(parsed.signatures).toHaveLength(1);
    expect(parsed.signatures[0]).toMatchObject({ name: 'example.com/behind-the-sofa', line: 5 });
  });
});

describe('signNote and openNote', () => {
  const alice = signer('alice.example/log');
  const bob = signer('bob.example/witness');

  it('round-trips with several signers, reporting each', () => {
    const note = signNote('hello\n\nworld\n', [alice, bob]);
    expect(note.startsWith('hello\n\nworld\n\n' + EM + ' alice.example/log ')).toBe(true);
    const opened = openNote(note, [alice, bob]);
    expect(opened.text).toBe('hello\n\nworld\n');
    expect(opened.verifiedBy.map((s) => s.name)).toEqual(['alice.example/log', 'bob.example/witness']);
  });

  it('ignores and reports signatures by unknown keys', () => {
    const note = signNote('checkpoint\n', [bob, alice]);
    const opened = openNote(note, [alice]);
    expect(opened.verifiedBy.map((s) => s.name)).toEqual(['alice.example/log']);
    expect(opened.unknownSignatures.map((s) => [s.name, s.keyId])).toEqual([['bob.example/witness', bob.keyId]]);
  });

  it('ignores an unknown signature even when it would not verify', () => {
    const note = signNote('x\n', [alice]) + `${EM} stranger.example AAAAAAAAAAAAAAAA\n`;
    expect(openNote(note, [alice]).unknownSignatures.map((s) => s.name)).toEqual(['stranger.example']);
  });

  it('accepts a duplicated signature line once', () => {
    const note = signNote('x\n', [alice]);
    const line = note.slice(note.indexOf(EM));
    const opened = openNote(note + line + line, [alice]);
    expect(opened.verifiedBy).toHaveLength(1);
    const unknown = openNote(note + signNote('x\n', [bob]).slice(3).repeat(2), [alice]);
    expect(unknown.unknownSignatures).toHaveLength(1);
  });

  it('rejects a second, bad signature from a known key even after a good one', () => {
    const note = signNote('x\n', [alice]);
    const forged = signNote('y\n', [alice]).slice(3); // alice's signature over other text
    const err = errorOf(() => openNote(note + forged, [alice]));
    expect(err.code).toBe('SIGNATURE_INVALID');
    expect(err.line).toBe(4);
  });

  it('signs once per key', () => {
    expect(parseNote(signNote('x\n', [alice, alice])).signatures).toHaveLength(1);
  });

  it('refuses text that does not end in a newline, or holds control characters', () => {
    expect(errorOf(() => signNote('x', [alice])).code).toBe('NOTE_TEXT_INVALID');
    expect(errorOf(() => signNote('x\r\n', [alice])).code).toBe('NOTE_TEXT_INVALID');
    expect(errorOf(() => signNote('a\tb\n', [alice])).code).toBe('NOTE_TEXT_INVALID');
    expect(errorOf(() => signNote('\uD800\n', [alice])).code).toBe('NOTE_TEXT_INVALID');
    expect(errorOf(() => signNote('x\n', [])).code).toBe('NOTE_UNSIGNED');
  });

  it('refuses a signer whose key ID does not match its key', () => {
    expect(errorOf(() => signNote('x\n', [{ ...alice, keyId: alice.keyId ^ 1 }])).code).toBe('KEY_ID_MISMATCH');
    expect(errorOf(() => signNote('x\n', [{ ...alice, secretKey: bob.secretKey }])).code).toBe('KEY_MALFORMED');
  });

  it('signs non-ASCII text as UTF-8', () => {
    const text = 'Ognuno sta solo sul cuor della terra\ned è subito sera — 日本\n';
    expect(openNote(signNote(text, [alice]), [alice]).text).toBe(text);
  });

  it('refuses a verifier list with two keys under one name and ID', () => {
    const twin = { ...alice, publicKey: bob.publicKey };
    const note = signNote('x\n', [alice]);
    expect(errorOf(() => openNote(note, [alice, twin])).code).toBe('KEY_AMBIGUOUS');
    expect(openNote(note, [alice, { ...alice }]).verifiedBy).toHaveLength(1);
  });
});

describe('malformed notes', () => {
  const alice = signer('alice.example', 1);
  const good = signNote('line one\nline two\n', [alice]);

  it.each([
    ['CRLF line ends', good.replace(/\n/g, '\r\n'), 'NOTE_TEXT_INVALID', 1],
    ['a CR in the signature block only', good.replace(/\n$/, '\r\n'), 'NOTE_TEXT_INVALID', 4],
    ['a NUL', good.replace('one', 'o\u0000ne'), 'NOTE_TEXT_INVALID', 1],
    ['no blank line before the signatures', good.replace('two\n\n', 'two\n'), 'NOTE_UNSIGNED', undefined],
    ['a blank line and no signatures', 'line one\n\n', 'NOTE_UNSIGNED', 3],
    ['no final newline', good.slice(0, -1), 'SIGNATURE_LINE_MALFORMED', 4],
    ['a hyphen for the em dash', good.replace(EM, '-'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['an en dash for the em dash', good.replace(EM, '\u2013'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['no space after the dash', good.replace(`${EM} `, EM), 'SIGNATURE_LINE_MALFORMED', 4],
    ['no signature after the name', good.replace(/ [A-Za-z0-9+/=]+\n$/, '\n'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['two spaces before the signature', good.replace(/ ([A-Za-z0-9+/=]+\n)$/, '  $1'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['a name with "+"', good.replace('alice.example', 'alice+example'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['a signature that is not base64', good.replace(/ [A-Za-z0-9+/=]+\n$/, ' not*base64\n'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['unpadded base64', good.replace(/=+\n$/, '\n'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['a signature of only a key ID', good.replace(/ [A-Za-z0-9+/=]+\n$/, ' AAAAAA==\n'), 'SIGNATURE_LINE_MALFORMED', 4],
    ['text after the signatures', good + 'trailing\n', 'SIGNATURE_LINE_MALFORMED', 5],
  ])('%s', (_label, note, code, line) => {
    const err = errorOf(() => openNote(note, [alice]));
    expect(err.code).toBe(code);
    expect(err.line).toBe(line);
  });

  it('rejects invalid UTF-8 bytes', () => {
    const bytes = Buffer.concat([Buffer.from('a\xff'.slice(0, 1)), Buffer.of(0xff), Buffer.from(good.slice(1))]);
    expect(errorOf(() => openNote(bytes, [alice])).code).toBe('NOTE_TEXT_INVALID');
  });

  it(`reads at most ${MAX_SIGNATURES} signature lines`, () => {
    const line = good.slice(good.indexOf(EM));
    expect(openNote(good + line.repeat(MAX_SIGNATURES - 1), [alice]).verifiedBy).toHaveLength(1);
    expect(errorOf(() => openNote(good + line.repeat(MAX_SIGNATURES), [alice])).code).toBe('TOO_MANY_SIGNATURES');
  });

  it('takes the last blank line as the separator, so text may hold blank lines', () => {
    const note = signNote('a\n\n\nb\n', [alice]);
    expect(openNote(note, [alice]).text).toBe('a\n\n\nb\n');
  });
});

describe('key encodings', () => {
  const seed = new Uint8Array(32).fill(42);
  const pair = keyPairFromSeed(seed);

  it('signer and verifier keys agree and round-trip', () => {
    const skey = formatSignerKey('example.com/k', seed);
    expect(skey.startsWith('PRIVATE+KEY+example.com/k+')).toBe(true);
    const s = parseSignerKey(skey);
    const vkey = formatVerifierKey('example.com/k', pair.publicKey);
    const v = parseVerifierKey(vkey);
    expect(s.keyId).toBe(v.keyId);
    expect(Buffer.from(s.publicKey).equals(v.publicKey)).toBe(true);
    expect(vkey).toBe(`example.com/k+${v.keyId.toString(16).padStart(8, '0')}+${Buffer.concat([Buffer.of(1), pair.publicKey]).toString('base64')}`);
    expect(skey.endsWith(Buffer.concat([Buffer.of(1), seed]).toString('base64'))).toBe(true);
  });

  it('accepts an upper-case key ID, as Go does', () => {
    const vkey = formatVerifierKey('k', pair.publicKey);
    const [name, id, key] = [vkey.split('+')[0], vkey.split('+')[1]!, vkey.slice(vkey.indexOf('+', 2) + 1)];
    expect(parseVerifierKey(`${name}+${id.toUpperCase()}+${key}`).keyId).toBe(Number.parseInt(id, 16));
  });

  it.each([
    ['no separators', 'justaname', 'KEY_MALFORMED'],
    ['empty name', '+01234567+AQ==', 'KEY_NAME_INVALID'],
    ['short key ID', 'k+0123456+AQ==', 'KEY_MALFORMED'],
    ['non-hex key ID', 'k+0123456g+AQ==', 'KEY_MALFORMED'],
    ['empty key', 'k+01234567+', 'KEY_MALFORMED'],
    ['garbage base64', 'k+01234567+!!!!', 'KEY_MALFORMED'],
    ['wrong algorithm', `k+01234567+${Buffer.concat([Buffer.of(2), Buffer.alloc(32)]).toString('base64')}`, 'KEY_ALGORITHM_UNSUPPORTED'],
    ['short public key', `k+01234567+${Buffer.concat([Buffer.of(1), Buffer.alloc(31)]).toString('base64')}`, 'KEY_MALFORMED'],
    ['wrong key ID', `k+01234567+${Buffer.concat([Buffer.of(1), Buffer.alloc(32, 9)]).toString('base64')}`, 'KEY_ID_MISMATCH'],
    ['trailing newline', 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k\n', 'KEY_MALFORMED'],
  ])('parseVerifierKey refuses %s', (_label, text, code) => {
    expect(errorOf(() => parseVerifierKey(text)).code).toBe(code);
  });

  it('KEY_ID_MISMATCH shows the key ID the key really has', () => {
    const vkey = formatVerifierKey('k', pair.publicKey);
    const real = vkey.split('+')[1]!;
    const wrong = real === '00000000' ? '00000001' : '00000000';
    const err = errorOf(() => parseVerifierKey(vkey.replace(`+${real}+`, `+${wrong}+`)));
    expect(err).toMatchObject({ code: 'KEY_ID_MISMATCH', expected: real, found: wrong });
  });

  it('parseSignerKey refuses bad keys without quoting the secret', () => {
    const skey = formatSignerKey('k', seed);
    const secretB64 = skey.slice(skey.lastIndexOf('+') + 1);
    for (const [text, code] of [
      [skey.replace('PRIVATE+KEY+', 'PRIVATE+KEYS+'), 'KEY_MALFORMED'],
      [skey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), 'KEY_ID_MISMATCH'],
      [`PRIVATE+KEY+${secretB64}`, 'KEY_MALFORMED'],
      [`PRIVATE+KEY+${secretB64}+${secretB64}+${secretB64}`, 'KEY_MALFORMED'],
      [`PRIVATE+KEY+a b+${secretB64}+${secretB64}`, 'KEY_NAME_INVALID'],
      [`PRIVATE+KEY+${secretB64.slice(0, 8)}+01234567+${secretB64}`, 'KEY_ID_MISMATCH'],
      [`PRIVATE+KEY+${secretB64.slice(0, 8)}+01234567+${secretB64}x`, 'KEY_MALFORMED'],
      [formatVerifierKey('k', pair.publicKey), 'KEY_MALFORMED'],
    ] as const) {
      const err = errorOf(() => parseSignerKey(text));
      expect(err.code).toBe(code);
      expect(err.message).not.toContain(secretB64.slice(8, 20));
    }
  });

  it('refuses invalid names when formatting', () => {
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u0085b', 'a\u3000b', 'a\nb', 'a\u0001b']) {
      expect(isValidKeyName(name)).toBe(false);
      expect(errorOf(() => formatVerifierKey(name, pair.publicKey)).code).toBe('KEY_NAME_INVALID');
      expect(errorOf(() => formatSignerKey(name, seed)).code).toBe('KEY_NAME_INVALID');
    }
    expect(isValidKeyName('sum.golang.org')).toBe(true);
    expect(isValidKeyName('例え.jp/ログ')).toBe(true);
  });

  it('refuses keys of the wrong length', () => {
    expect(errorOf(() => formatVerifierKey('k', new Uint8Array(31))).code).toBe('KEY_MALFORMED');
    expect(errorOf(() => formatSignerKey('k', new Uint8Array(64))).code).toBe('KEY_MALFORMED');
  });
});
