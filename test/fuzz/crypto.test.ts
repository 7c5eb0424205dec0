/**
 * Fuzzing the transparency-log pieces: signed notes, checkpoints, Merkle proofs and key
 * files. Every one of them reads text an attacker may have written.
 *
 * Errors each may throw:
 *   parseNote, openNote                    NoteError only
 *   parseVerifierKey, parseSignerKey       NoteError only
 *   parseCheckpoint                        CheckpointError only
 *   openCheckpoint (src/trail)             StaxError only (INPUT_INVALID)
 *   verifyInclusion, verifyConsistency     MerkleProofError only
 *   loadSigner, loadTrustedKeys            StaxError only (KEY_INVALID, KEY_INSECURE...)
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpoint, parseCheckpoint } from '../../src/crypto/checkpoint.js';
import { toBase64 } from '../../src/crypto/encoding.js';
import { MerkleProofError, consistencyProof, inclusionProof, leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../../src/crypto/merkle.js';
import { NoteError, formatSignerKey, formatVerifierKey, openNote, parseNote, parseSignerKey, parseVerifierKey, signNote } from '../../src/crypto/note.js';
import { StaxError } from '../../src/errors.js';
import { loadSigner, loadTrustedKeys } from '../../src/keys/store.js';
import { openCheckpoint } from '../../src/trail/checkpoint.js';
import { anyString, mutate, mutations } from '../support/fuzz-arbitraries.js';
import { fuzzSigner } from '../support/fuzz-chains.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';

const stats = new Stats('fuzz-crypto');
const tmp = mkdtempSync(join(tmpdir(), 'stax-fuzz-crypto-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const { signer } = fuzzSigner('fuzz.example/log');
const verifier = parseVerifierKey(formatVerifierKey(signer.name, signer.publicKey));
const other = fuzzSigner('other.example/log').signer;
const leaves = (n: number, salt: number): Uint8Array[] => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`leaf ${i} salt ${salt}`)));
const CHECKPOINT_TEXT = formatCheckpoint({ origin: 'fuzz.example/log', size: 5, root: rootFromLeafHashes(leaves(5, 0)) });
const NOTE = signNote(CHECKPOINT_TEXT, [signer]);
const NOTE_TWO = signNote(CHECKPOINT_TEXT, [other, signer]);

/** Text edits, or byte edits decoded as UTF-8 (or kept as bytes: openNote reads both). */
const editedNote = fc.tuple(fc.constantFrom(NOTE, NOTE_TWO), mutations(3), fc.boolean()).map(([note, ms, asBytes]) => {
  const bytes = mutate(Buffer.from(note), ms);
  return asBytes ? new Uint8Array(bytes) : bytes.toString('utf8');
});

describe('signed notes', () => {
  it('openNote throws only NoteError, and never opens an edited note to other text', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(editedNote, async (note) => {
        stats.add('openNote cases');
        const r = await typed([NoteError], () => openNote(note, [verifier]));
        if (r.ok) expect(r.value!.text).toBe(CHECKPOINT_TEXT);
      }),
      params(300),
    );
  });

  it('parseNote throws only NoteError on any text', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyString(60), editedNote), async (note) => {
        stats.add('parseNote cases');
        await typed([NoteError], () => parseNote(note));
      }),
      params(300),
    );
  });

  it('openCheckpoint (the trail layer) turns every failure into a StaxError', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(editedNote, async (note) => {
        stats.add('openCheckpoint cases');
        const r = await typed([StaxError], () => openCheckpoint(typeof note === 'string' ? note : Buffer.from(note).toString('utf8'), [verifier], 'fuzz.checkpoint'));
        if (r.ok) expect({ origin: r.value!.origin, size: r.value!.size }).toEqual({ origin: 'fuzz.example/log', size: 5 });
      }),
      params(300),
    );
  });
});

describe('checkpoints', () => {
  const checkpointText = fc.oneof(
    fc.tuple(fc.constant(CHECKPOINT_TEXT), mutations(3)).map(([t, ms]) => mutate(Buffer.from(t), ms).toString('utf8')),
    fc.tuple(anyString(20), fc.oneof(fc.nat().map(String), fc.constantFrom('0', '01', '-1', '9007199254740993', '1e3', ' 5')), fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.array(anyString(8), { maxLength: 2 })).map(
      ([origin, size, root, ext]) => [origin, size, toBase64(root), ...ext].map((l) => `${l}\n`).join(''),
    ),
    anyString(40),
  );

  it('parseCheckpoint throws only CheckpointError, and what it accepts formats back to the same text', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(checkpointText, async (text) => {
        stats.add('parseCheckpoint cases');
        const r = await typed([CheckpointError], () => parseCheckpoint(text));
        if (r.ok) expect(formatCheckpoint(r.value!)).toBe(text);
      }),
      params(400),
    );
  });
});

describe('Merkle proofs (RFC 6962)', () => {
  const tree = fc.tuple(fc.integer({ min: 1, max: 70 }), fc.nat(), fc.nat());

  it('every generated inclusion proof verifies; any edit to it fails with MerkleProofError only', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.nat(), fc.integer({ min: 0, max: 5 }), async ([n, salt, i], pick, how) => {
        stats.add('inclusion cases');
        const ls = leaves(n, salt);
        const index = i % n;
        const root = rootFromLeafHashes(ls);
        const proof = inclusionProof(ls, index, n);
        verifyInclusion(index, n, ls[index]!, proof, root);
        const edited: Uint8Array[] = proof.map((p) => Uint8Array.from(p));
        let eIndex = index;
        let eSize = n;
        if (how === 0 && edited.length > 0) edited[pick % edited.length]![pick % 32]! ^= 1 << pick % 8;
        else if (how === 1) edited.splice(pick % (edited.length + 1), 0, ls[pick % n]!);
        else if (how === 2 && edited.length > 0) edited.splice(pick % edited.length, 1);
        else if (how === 3) eIndex = (index + 1 + (pick % Math.max(1, n - 1))) % n;
        else if (how === 4) {
          // A bigger tree has another root: the old proof must not lead to it. (The same root
          // under another size is not a claim anyone signed: RFC 9162 lets some sizes share
          // a path shape, so the size alone is not an edit the proof can catch.)
          const more = leaves(n + 1 + (pick % 3), salt);
          eSize = more.length;
          const r = await typed([MerkleProofError], () => verifyInclusion(index, eSize, ls[index]!, edited, rootFromLeafHashes(more)));
          expect(r.ok).toBe(false);
          return;
        } else edited.reverse();
        const unchanged = eIndex === index && eSize === n && edited.length === proof.length && edited.every((p, k) => Buffer.compare(p, proof[k]!) === 0);
        const r = await typed([MerkleProofError], () => verifyInclusion(eIndex, eSize, ls[index]!, edited, root));
        expect(r.ok).toBe(unchanged);
      }),
      params(300),
    );
  });

  it('every generated consistency proof verifies; any edit fails with MerkleProofError only', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(tree, fc.nat(), fc.integer({ min: 0, max: 3 }), async ([n, salt, m], pick, how) => {
        stats.add('consistency cases');
        const ls = leaves(n, salt);
        const size1 = 1 + (m % n);
        const root1 = rootFromLeafHashes(ls.slice(0, size1));
        const root2 = rootFromLeafHashes(ls);
        const proof = consistencyProof(ls, size1, n);
        verifyConsistency(size1, n, proof, root1, root2);
        const edited: Uint8Array[] = proof.map((p) => Uint8Array.from(p));
        let s1 = size1;
        if (how === 0 && edited.length > 0) edited[pick % edited.length]![pick % 32]! ^= 1 << pick % 8;
        else if (how === 1) edited.push(ls[0]!);
        else if (how === 2 && edited.length > 0) edited.pop();
        else if (size1 < n) s1 = size1 + 1;
        const unchanged = s1 === size1 && edited.length === proof.length && edited.every((p, k) => Buffer.compare(p, proof[k]!) === 0);
        const r = await typed([MerkleProofError], () => verifyConsistency(s1, n, edited, root1, root2));
        expect(r.ok).toBe(unchanged);
      }),
      params(300),
    );
  });

  it('any sizes, indices and proof shapes: MerkleProofError only, never a RangeError or a hang', { timeout: timeoutFor(20_000) }, async () => {
    const count = fc.oneof(fc.nat(), fc.integer(), fc.constantFrom(0, 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -1, 0.5, Number.NaN, Infinity));
    const hashes = fc.array(fc.uint8Array({ minLength: 0, maxLength: 40 }), { maxLength: 70 });
    await fc.assert(
      fc.asyncProperty(count, count, hashes, fc.uint8Array({ minLength: 0, maxLength: 40 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (a, b, proof, leaf, root) => {
        stats.add('merkle garbage cases');
        await typed([MerkleProofError], () => verifyInclusion(a, b, leaf, proof, root));
        await typed([MerkleProofError], () => verifyConsistency(a, b, proof, root, leaf));
      }),
      params(400),
    );
  });
});

describe('key text and key files', () => {
  const seed = new Uint8Array(32).fill(0x11);
  const SIGNER_TEXT = formatSignerKey('fuzz.example/log', seed);
  const VERIFIER_TEXT = formatVerifierKey('fuzz.example/log', signer.publicKey);
  const SEED_B64 = SIGNER_TEXT.split('+').slice(4).join('+');

  it('parseVerifierKey and parseSignerKey throw only NoteError', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(SIGNER_TEXT, VERIFIER_TEXT), mutations(3), async (text, ms) => {
        stats.add('key text cases');
        const edited = mutate(Buffer.from(text), ms).toString('utf8');
        await typed([NoteError], () => parseVerifierKey(edited));
        await typed([NoteError], () => parseSignerKey(edited));
      }),
      params(400),
    );
  });

  let n = 0;
  it('loadSigner and loadTrustedKeys throw only StaxError, and no error quotes the private seed', { timeout: timeoutFor(20_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(SIGNER_TEXT, `${VERIFIER_TEXT}\n# comment\n\n${VERIFIER_TEXT}`), mutations(3), async (text, ms) => {
        stats.add('key file cases');
        const file = join(tmp, `key-${n++}`);
        writeFileSync(file, mutate(Buffer.from(text + '\n'), ms), { mode: 0o600 });
        chmodSync(file, 0o600);
        for (const load of [loadSigner, loadTrustedKeys]) {
          const r = await typed([StaxError], () => load(file));
          if (!r.ok) for (const piece of SEED_B64.match(/.{8}/g)!) expect(r.error!.message).not.toContain(piece);
        }
      }),
      params(300),
    );
  });
});
