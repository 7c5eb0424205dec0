/**
 * Valid sample files of every chain format, and the helpers the chain fuzz suite verifies
 * them with: in memory, through `verifyFile('-', { stdin })`, in whatever chunks a stream
 * delivers, gzip or not.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ChainWriter } from '../../src/chain/writer.js';
import type { VerifyReport } from '../../src/chain/report.js';
import { formatSignerKey, formatVerifierKey, parseSignerKey, parseVerifierKey, type NoteSigner } from '../../src/crypto/note.js';
import type { FormatId } from '../../src/formats/detect.js';
import { verifyFile } from '../../src/formats/verify.js';
import { keyLabel, type TrustedKeys } from '../../src/keys/store.js';
import { staxAssurance } from '../../src/trail/assurance.js';
import { exportTrail } from '../../src/trail/export.js';
import { entrySigner } from '../../src/trail/sign.js';
import { FIXTURES } from './cli.js';
import { chunk } from './fuzz-arbitraries.js';

export const HMAC_KEY = 'sample-secret-do-not-use';

const signers = new Map<string, { signer: NoteSigner; trusted: TrustedKeys }>();

/** A fixed Ed25519 signer (seed 0x11 * 32) named after the actor it signs for. */
export function fuzzSigner(name = 'fuzz-signer'): { signer: NoteSigner; trusted: TrustedKeys } {
  const known = signers.get(name);
  if (known !== undefined) return known;
  const signer = parseSignerKey(formatSignerKey(name, new Uint8Array(32).fill(0x11)));
  const verifier = parseVerifierKey(formatVerifierKey(name, signer.publicKey));
  const pair = { signer, trusted: { file: 'fuzz-trusted-keys', keys: [verifier], byId: new Map([[keyLabel(verifier), verifier]]) } };
  signers.set(name, pair);
  return pair;
}

export interface Sample {
  name: string;
  format: FormatId;
  bytes: Buffer;
  /** Verify with trusted keys (signatures are then checked). */
  keyed: boolean;
}

/** Payloads that exercise escaping, numbers and keys that name prototype members. */
const HOSTILE_PAYLOADS: unknown[] = [
  { target: 'example.com', note: 'café ☕ 😀', esc: '\u001b[2J\u009b\u202e', nul: '\u0000', lone: '\ud800' },
  { n: [0, -1, 1.5, 1e21, 1e-7, 2 ** 53 - 1, 5e-324], nested: [[[{}]], []], empty: '' },
  JSON.parse('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}},"toString":"x","10":1,"9":2}') as unknown,
  null,
  'a string payload with "quotes" and \\ backslashes \n newlines',
];

/** Writes a stax chain with ChainWriter (the real writer), plain or signed, and its document form. */
export async function writeStaxSamples(dir: string): Promise<{ lines: Buffer; document: Buffer; signed: Buffer }> {
  const plain = join(dir, 'sample.jsonl');
  const w = new ChainWriter(plain, { create: { kind: 'trail', origin: 'fuzz.example/sample' }, durability: 'none' });
  for (const [i, payload] of HOSTILE_PAYLOADS.entries()) {
    await w.append({ actor: i % 2 === 0 ? 'alice' : 'recon-agent ✓', action: `step.${i}`, payload, ...(i === 1 ? { session: 's-1' } : {}) });
  }
  const doc = join(dir, 'sample-doc.json');
  await exportTrail(plain, { out: doc, stdout: new PassThrough() });
  const { signer } = fuzzSigner();
  const signedFile = join(dir, 'signed.jsonl');
  const s = new ChainWriter(signedFile, { create: { kind: 'trail', origin: 'fuzz.example/signed' }, durability: 'none', sign: entrySigner(signer) });
  for (const payload of HOSTILE_PAYLOADS.slice(0, 3)) await s.append({ actor: signer.name, action: 'signed.step', payload });
  return { lines: readFileSync(plain), document: readFileSync(doc), signed: readFileSync(signedFile) };
}

/** Every format, each a valid file: written by stax's own writer or by the original programs. */
export async function loadSamples(): Promise<Sample[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stax-fuzz-samples-'));
  try {
    const stax = await writeStaxSamples(dir);
    const fixture = (p: string): Buffer => readFileSync(join(FIXTURES, p));
    return [
      { name: 'stax (JSON Lines, ChainWriter)', format: 'stax', bytes: stax.lines, keyed: false },
      { name: 'stax (document, trail export)', format: 'stax', bytes: stax.document, keyed: false },
      { name: 'stax (signed entries, --trusted-keys)', format: 'stax', bytes: stax.signed, keyed: true },
      { name: 'stax (fixture)', format: 'stax', bytes: fixture('trails/example.jsonl'), keyed: false },
      { name: 'trailstax-trail', format: 'trailstax-trail', bytes: fixture('trailstax/session_trail.json'), keyed: false },
      { name: 'trailstax-codebank', format: 'trailstax-codebank', bytes: fixture('trailstax/codebank.json'), keyed: false },
      { name: 'guardian-trail', format: 'guardian-trail', bytes: fixture('guardian/guardian_trail.jsonl'), keyed: false },
      { name: 'guardian-registry', format: 'guardian-registry', bytes: fixture('guardian/approved_registry.json'), keyed: false },
      { name: 'tracehound-audit', format: 'tracehound-audit', bytes: fixture('tracehound/audit_chain.json'), keyed: false },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VerifyBytesOptions {
  /** Force a format; detect it when undefined. */
  format?: FormatId;
  /** Cut points for the stream's chunks. */
  cuts?: readonly number[];
  /** Gzip the bytes first (verify gunzips transparently). */
  gzip?: boolean;
  keyed?: boolean;
}

/** `stax verify -` on these bytes, read from an in-memory stream. */
export function verifyBytes(bytes: Buffer, options: VerifyBytesOptions = {}): Promise<VerifyReport> {
  const data = options.gzip ? gzipSync(bytes) : bytes;
  const stdin = new PassThrough();
  const chunks = chunk(data, options.cuts ?? []);
  // Written ahead: PassThrough buffers it all (samples are small), then ends.
  for (const c of chunks) stdin.write(c);
  stdin.end();
  const { trusted } = fuzzSigner();
  return verifyFile('-', {
    format: options.format,
    stdin,
    hmacKey: () => Buffer.from(HMAC_KEY),
    staxVisitors: options.keyed ? () => staxAssurance(trusted, []) : undefined,
  });
}
