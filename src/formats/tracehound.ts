/**
 * Tracehound AuditChain exports: a JSON array of records {id, type, signature, timestamp,
 * previousHash, hash}. Tracehound computes hash = SHA-256 of
 * JSON.stringify({id, signature, timestamp, previousHash}) in exactly that key order, so
 * the verifier rebuilds that object from the parsed values. `type` is not covered.
 */
import { createHash } from 'node:crypto';
import { GENESIS_HASH, ReportBuilder, isHex64, shortHash, unkeyedChainLimits, type VerifyReport } from '../chain/report.js';
import type { Input } from '../io/input.js';
import { readJsonDocument } from '../io/json-document.js';
import { findDuplicateKey } from '../json/duplicates.js';

const MAX_RECORD = 16 * 1024 * 1024;

export interface AuditRecord {
  id: string;
  type: string;
  signature: string;
  timestamp: number;
  previousHash: string;
  hash: string;
}

export type AuditRecordVisitor = (index: number, record: AuditRecord) => void;

export function auditRecordHash(r: Pick<AuditRecord, 'id' | 'signature' | 'timestamp' | 'previousHash'>): string {
  return createHash('sha256')
    .update(JSON.stringify({ id: r.id, signature: r.signature, timestamp: r.timestamp, previousHash: r.previousHash }))
    .digest('hex');
}

export async function verifyTracehoundAudit(input: Input, visit?: AuditRecordVisitor): Promise<VerifyReport> {
  const report = new ReportBuilder(input.path, 'tracehound-audit');
  let prev = GENESIS_HASH;
  for await (const batch of readJsonDocument(input.chunks, { file: input.path, arrays: new Set(), maxPieceChars: MAX_RECORD })) {
    for (const ev of batch) {
      if (ev.kind === 'start') {
        if (ev.container !== 'array') report.problem(null, 'MALFORMED', 'a Tracehound audit chain export is a JSON array of records');
        continue;
      }
      if (ev.kind === 'bom') report.note('the file starts with a UTF-8 byte order mark; it was ignored');
      if (ev.kind !== 'element') continue;
      const index = report.entries++;
      let value: unknown;
      try {
        value = JSON.parse(ev.text);
      } catch (err) {
        report.problem(index, 'MALFORMED', `record ${index} is not valid JSON: ${(err as Error).message}`, ev.line);
        continue;
      }
      const shape = checkRecord(value);
      if (shape !== null) {
        report.problem(index, 'MALFORMED', `record ${index}: ${shape}`, ev.line);
        continue;
      }
      const r = value as AuditRecord;
      const computed = auditRecordHash(r);
      if (computed !== r.hash) {
        const dup = findDuplicateKey(ev.text);
        if (dup !== null) report.problem(index, 'DUPLICATE_KEY', `record ${index} repeats the key "${dup}"`, ev.line);
        else report.problem(index, 'HASH_MISMATCH', `record ${index}: recorded hash ${shortHash(r.hash)} but id, signature, timestamp and previousHash hash to ${shortHash(computed)}`, ev.line);
      }
      if (r.previousHash !== prev) {
        report.problem(index, 'LINK_BROKEN', `record ${index}: previousHash is ${shortHash(r.previousHash)} but the previous record's hash is ${shortHash(prev)}`, ev.line);
      }
      prev = r.hash;
      report.head = r.hash;
      visit?.(index, r);
    }
  }
  unkeyedChainLimits(report, 'records');
  report.limit('unsigned-fields', 'only id, signature, timestamp and previousHash are hashed: "type" (neutralization, evacuation) and any other field can be changed undetected');
  report.limit('reordering', 'records carry no sequence number; a reordering shows only as broken links');
  if (input.gzip) report.note('read through gzip');
  return report.finish();
}

function checkRecord(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  for (const f of ['id', 'type', 'signature'] as const) if (typeof r[f] !== 'string') return `"${f}" must be a string`;
  if (typeof r.timestamp !== 'number') return '"timestamp" must be a number';
  if (!isHex64(r.previousHash)) return '"previousHash" must be 64 lowercase hex digits';
  if (!isHex64(r.hash)) return '"hash" must be 64 lowercase hex digits';
  return null;
}
