/**
 * TrailStax exports: the trail (`trail.py export()`) and the code bank (`codebank.py
 * export()`). Both hash each entry as SHA-256 of Python's
 * `json.dumps(d, sort_keys=True, separators=(",", ":"))` over a fixed set of fields, and
 * link entries by `prev_hash` from 64 zeros. The hash is computed from parsed values (a
 * re-formatted export still verifies), with numbers kept exactly as Python reads them.
 */
import { sha256Hex } from '../chain/entry.js';
import { GENESIS_HASH, ReportBuilder, isHex64, shortHash, unkeyedChainLimits, type VerifyReport } from '../chain/report.js';
import type { Input } from '../io/input.js';
import { readJsonDocument } from '../io/json-document.js';
import { JsonParseError, parseJson } from '../json/parse.js';
import { pythonDumpsFields } from '../json/python.js';
import { JsonNumber, type JsonObject, type JsonValue } from '../json/value.js';

export interface TrailStaxVariant {
  format: 'trailstax-trail' | 'trailstax-codebank';
  /** Top-level key of the entries array. */
  entriesKey: string;
  /** The fields the hash covers, exactly as the Python code builds its dict. */
  hashedFields: readonly string[];
  hashField: string;
  totalField: string;
  /** Header fields every entry must repeat. */
  sharedFields: readonly string[];
  /** Header fields covered by no hash and checked against nothing. */
  unchecked: readonly string[];
  noun: string;
}

export const TRAIL: TrailStaxVariant = {
  format: 'trailstax-trail',
  entriesKey: 'entries',
  hashedFields: ['entry_id', 'agent_id', 'action', 'payload', 'timestamp', 'session_id', 'sequence', 'prev_hash'],
  hashField: 'entry_hash',
  totalField: 'total_entries',
  sharedFields: ['agent_id', 'session_id'],
  unchecked: ['trailstax_version'],
  noun: 'entry',
};

export const CODEBANK: TrailStaxVariant = {
  format: 'trailstax-codebank',
  entriesKey: 'commits',
  hashedFields: ['commit_id', 'agent_id', 'label', 'code_hash', 'file_path', 'metadata', 'timestamp', 'sequence', 'prev_hash'],
  hashField: 'commit_hash',
  totalField: 'total_commits',
  sharedFields: ['agent_id'],
  unchecked: ['codebank_version', 'bank_id'],
  noun: 'commit',
};

const NONE_MISSING: readonly string[] = [];

const MAX_ENTRY_CHARS = 16 * 1024 * 1024;

/** Called with every entry that parsed, for callers that need the records (code bank). */
export type TrailStaxVisitor = (index: number, entry: JsonObject, line: number) => void;

export async function verifyTrailStax(input: Input, variant: TrailStaxVariant, visit?: TrailStaxVisitor): Promise<VerifyReport> {
  const report = new ReportBuilder(input.path, variant.format);
  const header = new Map<string, { value: JsonValue; line: number }>();
  let prev = GENESIS_HASH;
  // The same rule as stax chains: a bad sequence number is reported once, not at every
  // entry after it (src/formats/stax.ts, StaxChainChecker).
  let expectedSeq = 0;
  let altSeq = 0;
  let maxSeq = -1;
  // Distinct values of the fields every entry repeats, with where each first appeared:
  // compared with the header at the end, whatever order the document's keys are in.
  const shared = new Map<string, Map<string, { index: number; line: number }>>(variant.sharedFields.map((f) => [f, new Map()]));
  let entryProblems = 0;
  let sawArray = false;
  let lastHash: string | null = null;

  const events = readJsonDocument(input.chunks, { file: input.path, arrays: new Set([variant.entriesKey]), maxPieceChars: MAX_ENTRY_CHARS });
  for await (const batch of events) {
    for (const ev of batch) {
      if (ev.kind === 'start') {
        if (ev.container !== 'object') report.problem(null, 'MALFORMED', `a TrailStax export is a JSON object, not an array`);
        continue;
      }
      if (ev.kind === 'bom') {
        report.note('the file starts with a UTF-8 byte order mark; it was ignored');
        continue;
      }
      if (ev.kind === 'member') {
        if (header.has(ev.key)) {
          report.problem(null, 'DUPLICATE_KEY', `the export repeats the key "${ev.key}"; readers disagree on which value counts`, ev.line);
          continue;
        }
        try {
          header.set(ev.key, { value: parseJson(ev.text, { allowNonFinite: true }), line: ev.line });
        } catch (err) {
          report.problem(null, 'MALFORMED', `field "${ev.key}" is not valid JSON: ${(err as Error).message}`, ev.line);
        }
        continue;
      }
      if (ev.kind === 'arrayEnd') {
        sawArray = true;
        continue;
      }
      const index = ev.index;
      report.entries++;
      const before = report.count;
      let entry: JsonValue;
      try {
        entry = parseJson(ev.text, { allowNonFinite: true, duplicateKeys: 'error' });
      } catch (err) {
        const code = err instanceof JsonParseError && err.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'MALFORMED';
        report.problem(index, code, `${variant.noun} ${index}: ${(err as Error).message}`, ev.line);
        entryProblems++;
        continue;
      }
      if (!(entry instanceof Map)) {
        report.problem(index, 'MALFORMED', `${variant.noun} ${index} is not a JSON object`, ev.line);
        entryProblems++;
        continue;
      }
      const missing = variant.hashedFields.every((f) => entry.has(f)) ? NONE_MISSING : variant.hashedFields.filter((f) => !entry.has(f));
      const recorded = entry.get(variant.hashField);
      if (missing.length > 0 || !isHex64(recorded)) {
        const what = missing.length > 0 ? `missing ${missing.map((f) => `"${f}"`).join(', ')}` : `"${variant.hashField}" is not 64 lowercase hex digits`;
        report.problem(index, 'MALFORMED', `${variant.noun} ${index}: ${what}`, ev.line);
        entryProblems++;
        continue;
      }
      visit?.(index, entry, ev.line);
      const computed = sha256Hex(pythonDumpsFields(entry, variant.hashedFields, { separators: 'compact' }));
      if (computed !== recorded) {
        report.problem(index, 'HASH_MISMATCH', `${variant.noun} ${index}: recorded ${variant.hashField} ${shortHash(recorded)} but the content hashes to ${shortHash(computed)}`, ev.line);
      }
      const seq = entry.get('sequence');
      const seqText = seq instanceof JsonNumber && seq.isInteger ? normalizeInt(seq.raw) : null;
      const seqNumber = seqText !== null && Number.isSafeInteger(Number(seqText)) ? Number(seqText) : null;
      if (seqNumber === null || (seqNumber !== expectedSeq && seqNumber !== altSeq && seqNumber !== maxSeq + 1)) {
        report.problem(index, 'SEQUENCE_GAP', `${variant.noun} ${index}: expected sequence ${expectedSeq}, found ${describe(seq)}`, ev.line);
        altSeq = expectedSeq + 1;
      } else {
        altSeq = seqNumber + 1;
      }
      expectedSeq = seqNumber === null ? expectedSeq + 1 : seqNumber + 1;
      if (seqNumber !== null) maxSeq = Math.max(maxSeq, seqNumber);
      const prevHash = entry.get('prev_hash');
      if (prevHash !== prev) {
        report.problem(index, 'LINK_BROKEN', `${variant.noun} ${index}: prev_hash is ${typeof prevHash === 'string' ? shortHash(prevHash) : describe(prevHash)} but the previous ${variant.noun}'s hash is ${shortHash(prev)}`, ev.line);
      }
      for (const field of variant.sharedFields) {
        const own = entry.get(field);
        const seen = shared.get(field)!;
        if (typeof own === 'string' && !seen.has(own) && seen.size < 100) seen.set(own, { index, line: ev.line });
      }
      prev = recorded;
      lastHash = recorded;
      if (report.count > before) entryProblems++;
    }
  }
  if (!sawArray) report.problem(null, 'MALFORMED', `the export has no "${variant.entriesKey}" array`);
  const entriesValid = entryProblems === 0;
  for (const [field, values] of shared) {
    const own = header.get(field)?.value;
    if (typeof own !== 'string') continue;
    for (const [value, at] of values) {
      if (value !== own) report.problem(at.index, 'HEADER_MISMATCH', `${variant.noun} ${at.index}: ${field} is ${JSON.stringify(value)} but the export's ${field} is ${JSON.stringify(own)}`, at.line);
    }
  }
  checkHeader(report, variant, header, lastHash, entriesValid);
  report.head = lastHash;
  unkeyedChainLimits(report, variant.noun === 'entry' ? 'entries' : 'commits');
  report.limit('unsigned-fields', `the export's ${variant.unchecked.map((f) => `"${f}"`).join(' and ')} ${variant.unchecked.length === 1 ? 'is' : 'are'} covered by no hash and checked against nothing`);
  if (input.gzip) report.note('read through gzip');
  return report.finish();
}

function checkHeader(
  report: ReportBuilder,
  variant: TrailStaxVariant,
  header: Map<string, { value: JsonValue; line: number }>,
  lastHash: string | null,
  entriesValid: boolean,
): void {
  const genesis = header.get('genesis_hash');
  if (genesis !== undefined && genesis.value !== GENESIS_HASH) {
    report.problem(null, 'HEADER_MISMATCH', `genesis_hash is ${describe(genesis.value)}, expected 64 zeros`, genesis.line);
  }
  const total = header.get(variant.totalField);
  if (total === undefined) {
    report.problem(null, 'HEADER_MISMATCH', `the export has no "${variant.totalField}"`);
  } else if (!(total.value instanceof JsonNumber) || normalizeInt(total.value.raw) !== String(report.entries)) {
    report.problem(null, 'HEADER_MISMATCH', `${variant.totalField} says ${describe(total.value)} but the export holds ${report.entries}`, total.line);
  }
  const tail = header.get('tail_hash');
  const expectedTail = lastHash ?? GENESIS_HASH;
  if (tail === undefined) {
    report.problem(null, 'HEADER_MISMATCH', 'the export has no "tail_hash"');
  } else if (tail.value !== expectedTail) {
    report.problem(null, 'HEADER_MISMATCH', `tail_hash is ${typeof tail.value === 'string' ? shortHash(tail.value) : describe(tail.value)} but the last ${variant.noun}'s hash is ${shortHash(expectedTail)}`, tail.line);
  }
  const claimed = header.get('chain_valid');
  if (claimed !== undefined && claimed.value !== entriesValid) {
    report.problem(null, 'HEADER_MISMATCH', `chain_valid says ${describe(claimed.value)} but the ${variant.noun === 'entry' ? 'entries' : 'commits'} ${entriesValid ? 'verify' : 'do not verify'}`, claimed.line);
  }
}

function normalizeInt(raw: string): string {
  return raw === '-0' ? '0' : raw;
}

function describe(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v instanceof JsonNumber) return v.raw;
  if (v instanceof Map) return 'an object';
  if (Array.isArray(v)) return 'an array';
  return JSON.stringify(v);
}
