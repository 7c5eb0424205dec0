/**
 * TrailStax guardian files. The trail (`guardian_trail.jsonl`) chains lines by
 * `chain_hash` = SHA-256(previous chain_hash + json.dumps(line without chain_hash,
 * sort_keys=True)), default separators ", " and ": ". The registry
 * (`approved_registry.json`) signs each entry on its own with HMAC-SHA256 over
 * json.dumps(entry without signature, sort_keys=True).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { GENESIS_HASH, ReportBuilder, isHex64, shortHash, unkeyedChainLimits, type VerifyReport } from '../chain/report.js';
import type { Input } from '../io/input.js';
import { readJsonDocument } from '../io/json-document.js';
import { readLineBatches } from '../io/lines.js';
import { JsonParseError, parseJson } from '../json/parse.js';
import { pythonDumps } from '../json/python.js';
import type { JsonObject, JsonValue } from '../json/value.js';

const MAX_ENTRY = 16 * 1024 * 1024;

export async function verifyGuardianTrail(input: Input): Promise<VerifyReport> {
  const report = new ReportBuilder(input.path, 'guardian-trail');
  let prev = GENESIS_HASH;
  for await (const batch of readLineBatches(input.chunks, { maxLineBytes: MAX_ENTRY, file: input.path })) {
    for (const line of batch) {
      if (line.text.trim() === '') {
        if (line.terminated) report.problem(null, 'MALFORMED', `line ${line.number} is blank`, line.number);
        continue;
      }
      const index = report.entries++;
      const entry = parseEntry(report, index, line.text, line.number, !line.terminated, line.invalidUtf8);
      if (entry === null) continue;
      const recorded = entry.get('chain_hash');
      if (!isHex64(recorded)) {
        report.problem(index, 'MALFORMED', `line ${index}: "chain_hash" is missing or not 64 lowercase hex digits`, line.number);
        continue;
      }
      const body = new Map(entry);
      body.delete('chain_hash');
      const computed = createHash('sha256').update(prev + pythonDumps(body, { separators: 'default' })).digest('hex');
      if (computed !== recorded) {
        // No separate link field: an edit here, or a line deleted or moved before it, shows the same way.
        report.problem(index, 'HASH_MISMATCH', `line ${index}: recorded chain_hash ${shortHash(recorded)} but the previous chain_hash and this line's content give ${shortHash(computed)} (this line was edited, or a line before it was removed, added or moved)`, line.number);
      }
      prev = recorded;
      report.head = recorded;
    }
  }
  if (report.entries === 0 && report.ok) report.problem(null, 'EMPTY', 'the trail holds no lines');
  unkeyedChainLimits(report, 'lines');
  report.limit('reordering', 'has no sequence numbers: a reordering shows only as a broken chain_hash, not as a gap');
  if (input.gzip) report.note('read through gzip');
  return report.finish();
}

function parseEntry(report: ReportBuilder, index: number, text: string, line: number, torn: boolean, badUtf8: boolean): JsonObject | null {
  if (badUtf8) {
    // A writer killed inside a multi-byte character leaves bad UTF-8 at the very end.
    if (torn) report.problem(index, 'TORN_TAIL', `the last line is an incomplete write (no newline, cut inside a character)`, line);
    else report.problem(index, 'MALFORMED', `line ${index} is not valid UTF-8`, line);
    return null;
  }
  let value: JsonValue;
  try {
    value = parseJson(text.charCodeAt(0) === 0xfeff && index === 0 ? text.slice(1) : text, { allowNonFinite: true, duplicateKeys: 'error' });
  } catch (err) {
    if (torn) report.problem(index, 'TORN_TAIL', `the last line is an incomplete write (no newline, not valid JSON)`, line);
    else report.problem(index, err instanceof JsonParseError && err.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'MALFORMED', `line ${index}: ${(err as Error).message}`, line);
    return null;
  }
  if (!(value instanceof Map)) {
    report.problem(index, 'MALFORMED', `line ${index} is not a JSON object`, line);
    return null;
  }
  return value;
}

export interface RegistryOptions {
  /** The HMAC key's bytes. Required: there is no default key. */
  key: Buffer;
}

export async function verifyGuardianRegistry(input: Input, options: RegistryOptions): Promise<VerifyReport> {
  const report = new ReportBuilder(input.path, 'guardian-registry');
  const names = new Set<string>();
  for await (const batch of readJsonDocument(input.chunks, { file: input.path, arrays: new Set(), maxPieceChars: MAX_ENTRY })) {
    for (const ev of batch) {
      if (ev.kind === 'start') {
        if (ev.container !== 'object') report.problem(null, 'MALFORMED', 'the registry must be a JSON object keyed by package name');
        continue;
      }
      if (ev.kind === 'bom') report.note('the file starts with a UTF-8 byte order mark; it was ignored');
      if (ev.kind !== 'member') continue;
      const index = report.entries++;
      const name = ev.key;
      if (names.has(name)) {
        // Python's json.load keeps the last entry of a repeated name, other readers the first.
        report.problem(index, 'DUPLICATE_KEY', `"${name}" is filed twice; readers disagree on which approval counts`, ev.line);
      }
      names.add(name);
      let value: JsonValue;
      try {
        value = parseJson(ev.text, { allowNonFinite: true, duplicateKeys: 'error' });
      } catch (err) {
        report.problem(index, err instanceof JsonParseError && err.code === 'DUPLICATE_KEY' ? 'DUPLICATE_KEY' : 'MALFORMED', `"${name}": ${(err as Error).message}`, ev.line);
        continue;
      }
      if (!(value instanceof Map)) {
        report.problem(index, 'MALFORMED', `"${name}" is not a JSON object`, ev.line);
        continue;
      }
      const signature = value.get('signature');
      if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature)) {
        report.problem(index, 'MALFORMED', `"${name}": "signature" is missing or not 64 hex digits`, ev.line);
        continue;
      }
      const body = new Map(value);
      body.delete('signature');
      const expected = createHmac('sha256', options.key).update(pythonDumps(body, { separators: 'default' })).digest();
      if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
        report.problem(index, 'BAD_SIGNATURE', `"${name}": the HMAC signature does not match the entry (edited, or signed with another key)`, ev.line);
      }
      const own = value.get('package');
      if (own !== name) {
        // The HMAC covers the entry, not the name it is filed under: TrailStax never checked this.
        report.problem(index, 'KEY_MISMATCH', `"${name}": the entry is signed for package ${JSON.stringify(own ?? null)}, not for the name it is filed under`, ev.line);
      }
    }
  }
  if (report.entries === 0 && report.ok) report.problem(null, 'EMPTY', 'the registry holds no entries');
  report.limit('deletion', 'each entry is signed on its own: removing an entry (revoking an approval) cannot be detected');
  report.limit('rollback', 'an older signed entry (an earlier version approval) can be put back undetected');
  report.limit('forgery', 'an HMAC proves nothing to someone who holds the key: anyone who can verify can also sign');
  if (input.gzip) report.note('read through gzip');
  return report.finish();
}
