/**
 * Real-format evidence for the CLI tests: envelopes built the way Tracehound builds them,
 * each failure damaged in one precise way, and audit chains hashed the way Tracehound
 * hashes them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import type { EnvelopeVerdict } from '../../src/evidence/envelope.js';
import { assembleEnvelope, buildEnvelope, type BuiltEnvelope } from '../../src/evidence/envelope.js';
import { GENESIS_HASH } from '../../src/chain/report.js';
import { auditRecordHash, type AuditRecord } from '../../src/formats/tracehound.js';
import { FIXTURES, edited, rehash, sha256 } from './helpers.js';

export const SAMPLE_DIR = fileURLToPath(FIXTURES);
export const SAMPLE_CHAIN = join(SAMPLE_DIR, 'audit_chain.json');

export const payload = { path: '/login', method: 'POST', body: { user: "admin' --", pass: 'x' } };
export const good: BuiltEnvelope = buildEnvelope(payload, { category: 'injection' });

/** The compressed region of `good` replaced, header hash recomputed. */
const withCompressed = (compressed: Buffer, originalSize = good.payload.length): Buffer => assembleEnvelope(compressed, originalSize);

/** A name that parses as a signature, distinct for each label. */
export const nameFor = (label: string, category = 'injection'): string => `${category}:${sha256(Buffer.from(label))}.thcs`;

export interface Damaged {
  verdict: Exclude<EnvelopeVerdict, 'OK'>;
  bytes: Buffer;
  /** The name to store it under; most keep the good envelope's own signature name. */
  name: string;
}

/** One envelope per failure verdict, in check order. */
export function damagedEnvelopes(): Damaged[] {
  const n = good.payload.length;
  const other = buildEnvelope({ ...payload, path: '/admin' }, { category: 'injection' });
  return [
    { verdict: 'BAD_MAGIC', bytes: edited(good.bytes, (b) => b.write('THCX', 0, 'latin1')), name: good.fileName },
    { verdict: 'BAD_VERSION', bytes: assembleEnvelope(zlib.gzipSync(good.payload), n, { version: 2 }), name: good.fileName },
    { verdict: 'TRUNCATED', bytes: good.bytes.subarray(0, good.bytes.length - 1), name: good.fileName },
    { verdict: 'TOO_LARGE', bytes: edited(good.bytes, (b) => b.writeUInt32BE(0xffff_ffff, 10)), name: good.fileName },
    { verdict: 'TRAILING_BYTES', bytes: Buffer.concat([good.bytes, Buffer.from('AAAA')]), name: good.fileName },
    {
      verdict: 'BAD_HASH_FIELD',
      bytes: edited(good.bytes, (b) => b.write(b.toString('latin1', 14, 78).toUpperCase(), 14, 'latin1')),
      name: good.fileName,
    },
    {
      verdict: 'HASH_MISMATCH',
      bytes: edited(good.bytes, (b) => {
        b[b.length - 1]! ^= 0x01;
      }),
      name: good.fileName,
    },
    { verdict: 'BAD_GZIP', bytes: withCompressed(zlib.deflateRawSync(good.payload)), name: good.fileName },
    {
      verdict: 'BAD_CRC',
      bytes: rehash(
        edited(good.bytes, (b) => {
          b[b.length - 8]! ^= 0xff;
        }),
      ),
      name: good.fileName,
    },
    { verdict: 'SIZE_EXCEEDED', bytes: withCompressed(zlib.gzipSync(good.payload), n - 1), name: good.fileName },
    { verdict: 'SIZE_MISMATCH', bytes: withCompressed(zlib.gzipSync(good.payload), n + 7), name: good.fileName },
    { verdict: 'BAD_SIGNATURE_NAME', bytes: good.bytes, name: 'evidence.thcs' },
    { verdict: 'PAYLOAD_HASH_MISMATCH', bytes: good.bytes, name: other.fileName },
  ];
}

export function writeFiles(dir: string, files: Array<{ name: string; bytes: Buffer | string }>): string {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f.name), f.bytes);
  return dir;
}

/** A Tracehound AuditChain export over these records, hashed as Tracehound hashes. */
export function auditChain(records: Array<{ type: string; signature: string; timestamp: number; id?: string }>): AuditRecord[] {
  let previousHash = GENESIS_HASH;
  return records.map((r, i) => {
    const base = { id: r.id ?? `rec-${i}`, signature: r.signature, timestamp: r.timestamp, previousHash };
    const hash = auditRecordHash(base);
    previousHash = hash;
    return { id: base.id, type: r.type, signature: r.signature, timestamp: r.timestamp, previousHash: base.previousHash, hash };
  });
}

export const signatureOf = (name: string): string => name.replace(/\.thcs$/, '');
