/**
 * Generated tamper tests for every chain format `stax verify` reads. For each format a
 * generator writes a valid file of N entries (TrailStax files by a real python3 running
 * test/support/trailstax_writer.py; stax chains through serializeEntry; Tracehound records
 * as Tracehound hashes them), and every mutation below is applied and verified:
 *
 *   each field of each entry changed, each entry deleted, a forged (well-formed) entry
 *   inserted at each position, each adjacent pair swapped, each entry duplicated, the tail
 *   cut (1 and 3 entries), and, where the format has a header, the tail cut with the
 *   header fixed to match.
 *
 * The expected outcome of every case is worked out below from the format's rules, not
 * read back from the verifier: the exact multiset of (index, code) problems and firstBad,
 * or, for what a format cannot see, valid=true with the threat named in `limits`.
 * Cases where the verifier's answer is wrong are `it.fails`, with the reason.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, serializeEntry, serializeHeader, type ChainHeader, type EntryBody } from '../../src/chain/entry.js';
import type { Limit, ProblemCode, VerifyReport } from '../../src/chain/report.js';
import type { ErrorCode } from '../../src/errors.js';
import type { FormatId } from '../../src/formats/detect.js';
import { verifyFile } from '../../src/formats/verify.js';
import { parseJson } from '../../src/json/parse.js';
import { JsonNumber, type JsonObject, type JsonValue } from '../../src/json/value.js';
import { REPO, runCli, tempDir } from '../support/cli.js';
import { asObject, cloneJson, writeJson } from '../support/json-text.js';

const N = 6;
const HMAC_KEY = 'sample-secret-do-not-use';
const WRITER = join(REPO, 'test/support/trailstax_writer.py');

const work = tempDir('stax-tamper-');
afterAll(() => work.cleanup());

// ---------------------------------------------------------------------------------------
// Mutations of single values: each one changes the value as Python and JS read it, and
// keeps its type and shape (a hex hash stays 64 hex digits, an RFC 3339 time stays one),
// so that the verifier sees a tampered value rather than a malformed entry.

function mutateString(s: string): string {
  const digit = s.search(/\d(?!.*\d)/s);
  if (digit >= 0) return s.slice(0, digit) + String((Number(s[digit]) + 1) % 10) + s.slice(digit + 1);
  const letter = s.search(/[a-z](?!.*[a-z])/is);
  if (letter >= 0) {
    const c = s.charCodeAt(letter);
    const base = c >= 0x61 ? 0x61 : 0x41;
    return s.slice(0, letter) + String.fromCharCode(base + ((c - base + 1) % 26)) + s.slice(letter + 1);
  }
  return s + 'x';
}

function mutateNumber(n: JsonNumber): JsonNumber {
  if (n.isInteger) return new JsonNumber(String(BigInt(n.raw) + 1n));
  const x = n.toNumber();
  const y = x === 0 ? 1 : Math.abs(x) < 1e15 ? x + 1 : x * 2;
  const text = String(y);
  const out = new JsonNumber(/[.e]/.test(text) ? text : `${text}.0`);
  if (out.toNumber() === x || out.isInteger) throw new Error(`mutateNumber(${n.raw}) did not change the float`);
  return out;
}

/** Changes a value: the first scalar inside a container, or the scalar itself. */
function mutateValue(v: JsonValue | undefined): JsonValue {
  if (v === undefined) throw new Error('no such field');
  if (v === null) return new JsonNumber('0');
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string') return mutateString(v);
  if (v instanceof JsonNumber) return mutateNumber(v);
  if (Array.isArray(v)) return v.length === 0 ? [new JsonNumber('1')] : [mutateValue(v[0]), ...v.slice(1).map((x) => cloneJson(x))];
  const out = cloneJson(v);
  const first = out.keys().next();
  if (first.done) out.set('tampered', true);
  else out.set(first.value, mutateValue(out.get(first.value)));
  return out;
}

// ---------------------------------------------------------------------------------------
// A chain file as a header plus named entries (the name is the registry key; other formats
// ignore it), so that every format shares one set of mutations.

interface Item {
  name: string;
  value: JsonObject;
}
interface Doc {
  header: JsonObject;
  items: Item[];
  /** Write the header members after the entries array (as a key-sorting tool may). */
  headerLast?: boolean;
}

type Op =
  | { kind: 'field'; index: number; field: string }
  | { kind: 'header'; field: string }
  /** The header members moved after the entries array (JSON member order means nothing), and one changed if given. */
  | { kind: 'headerMoved'; field?: string }
  | { kind: 'delete'; index: number }
  | { kind: 'insert'; index: number }
  | { kind: 'swap'; index: number }
  | { kind: 'duplicate'; index: number }
  | { kind: 'cut'; count: number }
  | { kind: 'cutFixHeader'; count: number }
  /** Registry: an entry filed under a name that is not its package. */
  | { kind: 'rename'; index: number }
  /** Registry: a validly signed entry copied under a new name (approving another package). */
  | { kind: 'copyAs'; index: number }
  /** Registry: an older approval, signed with the right key, put back. */
  | { kind: 'rollback'; index: number };

type P = [number | null, ProblemCode];
type Expected =
  | { problems: P[]; bug?: string }
  | { valid: true; limits: Array<Limit['threat']>; bug?: string }
  /** `forced`: the error when the format is given with --format instead of detected. */
  | { error: ErrorCode; forced?: ErrorCode; bug?: string };

interface Adapter {
  id: string;
  format: FormatId;
  ext: string;
  /** The file as its writer wrote it. */
  original: string;
  entryFields: string[];
  headerFields: string[];
  extraOps?: Op['kind'][];
  base(): Doc;
  /** A forged entry that is well formed and linked to the entry before `position`. */
  spare(position: number): Item;
  older?(index: number): JsonObject;
  write(doc: Doc): string;
  fixHeader?(doc: Doc): void;
  expect(op: Op, n: number): Expected;
}

function apply(a: Adapter, op: Op): Doc {
  const doc = a.base();
  const items = doc.items;
  const item = (i: number): Item => items[i]!;
  switch (op.kind) {
    case 'field':
      item(op.index).value.set(op.field, mutateValue(item(op.index).value.get(op.field)));
      break;
    case 'header':
      doc.header.set(op.field, mutateValue(doc.header.get(op.field)));
      break;
    case 'headerMoved':
      doc.headerLast = true;
      if (op.field !== undefined) doc.header.set(op.field, mutateValue(doc.header.get(op.field)));
      break;
    case 'delete':
      items.splice(op.index, 1);
      break;
    case 'insert':
      items.splice(op.index, 0, a.spare(op.index));
      break;
    case 'swap':
      [items[op.index], items[op.index + 1]] = [item(op.index + 1), item(op.index)];
      break;
    case 'duplicate':
      items.splice(op.index + 1, 0, { name: item(op.index).name, value: cloneJson(item(op.index).value) });
      break;
    case 'cut':
    case 'cutFixHeader':
      items.splice(items.length - op.count);
      if (op.kind === 'cutFixHeader') a.fixHeader!(doc);
      break;
    case 'rename':
      item(op.index).name = mutateString(item(op.index).name);
      break;
    case 'copyAs':
      items.splice(op.index + 1, 0, { name: 'evil-pkg', value: cloneJson(item(op.index).value) });
      break;
    case 'rollback':
      item(op.index).value = a.older!(op.index);
      break;
  }
  return doc;
}

function describeOp(op: Op): string {
  switch (op.kind) {
    case 'field':
      return `entry ${op.index} field "${op.field}" changed`;
    case 'header':
      return `header field "${op.field}" changed`;
    case 'headerMoved':
      return op.field === undefined ? 'header moved after the entries' : `header moved after the entries and "${op.field}" changed`;
    case 'cut':
      return `tail of ${op.count} cut`;
    case 'cutFixHeader':
      return `tail of ${op.count} cut and the header fixed`;
    case 'swap':
      return `entries ${op.index} and ${op.index + 1} swapped`;
    case 'insert':
      return `forged entry inserted at ${op.index}`;
    case 'copyAs':
      return `entry ${op.index} copied under a new name`;
    default:
      return `entry ${op.index}: ${op.kind}`;
  }
}

function describeExpected(e: Expected): string {
  if ('error' in e) return `refused: ${e.error}`;
  if ('valid' in e) return `valid, limits ${e.limits.join(',') || 'any'}`;
  return e.problems.map(([i, c]) => `${c}@${i ?? '-'}`).join(' ');
}

function opsFor(a: Adapter, n: number): Op[] {
  const ops: Op[] = [];
  for (let index = 0; index < n; index++) for (const field of a.entryFields) ops.push({ kind: 'field', index, field });
  for (const field of a.headerFields) ops.push({ kind: 'header', field });
  for (let index = 0; index < n; index++) ops.push({ kind: 'delete', index });
  for (let index = 0; index < n; index++) ops.push({ kind: 'insert', index });
  for (let index = 0; index + 1 < n; index++) ops.push({ kind: 'swap', index });
  for (let index = 0; index < n; index++) ops.push({ kind: 'duplicate', index });
  for (const count of [1, 3]) ops.push({ kind: 'cut', count });
  if (a.fixHeader) for (const count of [1, 3]) ops.push({ kind: 'cutFixHeader', count });
  if (a.fixHeader) {
    ops.push({ kind: 'headerMoved' });
    for (const field of a.headerFields) ops.push({ kind: 'headerMoved', field });
  }
  for (const kind of a.extraOps ?? []) for (let index = 0; index < n; index++) ops.push({ kind, index } as Op);
  return ops;
}

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
const when = (cond: boolean, p: P[]): P[] => (cond ? p : []);

// ---------------------------------------------------------------------------------------
// Expected outcomes, per format.

/**
 * stax chain v1: seq, prev and hash in every entry. The verifier follows the chain as
 * recorded (next expected seq = this seq + 1, next prev = this hash), so a deletion or
 * insertion shows once, where it happened.
 */
function expectStax(op: Op, n: number): Expected {
  switch (op.kind) {
    case 'field': {
      const i = op.index;
      if (op.field === 'seq') return { problems: [[i, 'HASH_MISMATCH'], [i, 'SEQUENCE_GAP']] };
      if (op.field === 'prev') return { problems: [[i, 'HASH_MISMATCH'], [i, 'LINK_BROKEN']] };
      if (op.field === 'hash') return { problems: [[i, 'HASH_MISMATCH'], ...when(i + 1 < n, [[i + 1, 'LINK_BROKEN']])] };
      return { problems: [[i, 'HASH_MISMATCH']] };
    }
    case 'header':
      // A header that no longer says "stax-chain" is not recognised as a stax chain at all.
      if (op.field === 'format') return { error: 'FORMAT_UNKNOWN' };
      if (op.field === 'version') return { problems: [[null, 'MALFORMED']] };
      return { valid: true, limits: ['unsigned-fields'] };
    case 'delete':
      if (op.index === n - 1) return { valid: true, limits: ['truncation'] };
      return { problems: [[op.index, 'SEQUENCE_GAP'], [op.index, 'LINK_BROKEN']] };
    case 'insert':
      return { problems: [[op.index + 1, 'SEQUENCE_GAP'], [op.index + 1, 'LINK_BROKEN']] };
    case 'swap': {
      const i = op.index;
      // Both moved entries are out of sequence; three links break (into i, i+1 and i+2).
      const at = (j: number): P[] => [[j, 'SEQUENCE_GAP'], [j, 'LINK_BROKEN']];
      return { problems: [...at(i), ...at(i + 1), ...(i + 2 < n ? ([[i + 2, 'LINK_BROKEN']] as P[]) : [])] };
    }
    case 'duplicate':
      return { problems: [[op.index + 1, 'SEQUENCE_GAP'], [op.index + 1, 'LINK_BROKEN']] };
    case 'cut':
      return { valid: true, limits: ['truncation'] };
    default:
      throw new Error(`no expectation for ${op.kind}`);
  }
}

interface TrailStaxRules {
  hashField: string;
  shared: string[];
  /** Header fields nothing else repeats or checks. */
  unchecked: string[];
}

/**
 * TrailStax trail and code bank: sequence is checked against the entry's position, links
 * follow the recorded hashes, and the header's total, tail_hash and chain_valid are
 * checked against the entries. chain_valid is `true` in every generated export, so any
 * entry that fails adds one HEADER_MISMATCH (index null) for it.
 */
function expectTrailStax(rules: TrailStaxRules) {
  const CV: P = [null, 'HEADER_MISMATCH'];
  const HDR: P = [null, 'HEADER_MISMATCH'];
  const seqGaps = (from: number, to: number): P[] => range(from, to).map((j) => [j, 'SEQUENCE_GAP']);
  return (op: Op, n: number): Expected => {
    switch (op.kind) {
      case 'field': {
        const i = op.index;
        if (op.field === rules.hashField) return { problems: [[i, 'HASH_MISMATCH'], CV, i + 1 < n ? [i + 1, 'LINK_BROKEN'] : HDR] };
        if (op.field === 'sequence') return { problems: [[i, 'HASH_MISMATCH'], [i, 'SEQUENCE_GAP'], CV] };
        if (op.field === 'prev_hash') return { problems: [[i, 'HASH_MISMATCH'], [i, 'LINK_BROKEN'], CV] };
        if (rules.shared.includes(op.field)) return { problems: [[i, 'HASH_MISMATCH'], [i, 'HEADER_MISMATCH'], CV] };
        return { problems: [[i, 'HASH_MISMATCH'], CV] };
      }
      case 'header':
        if (rules.unchecked.includes(op.field)) return { valid: true, limits: ['unsigned-fields'] };
        // Every entry repeats agent_id (and session_id): reported once, where the entries' value first appears.
        if (rules.shared.includes(op.field)) return { problems: [[0, 'HEADER_MISMATCH']] };
        return { problems: [HDR] };
      case 'headerMoved':
        if (op.field === undefined) return { valid: true, limits: [] };
        if (rules.unchecked.includes(op.field)) return { valid: true, limits: ['unsigned-fields'] };
        // Header members after the entries array (any key order is valid JSON; `jq -S` puts
        // session_id there) are compared all the same.
        if (rules.shared.includes(op.field)) return { problems: [[0, 'HEADER_MISMATCH']] };
        return { problems: [HDR] };
      case 'delete':
        if (op.index === n - 1) return { problems: [HDR, HDR] }; // total and tail_hash
        return { problems: [[op.index, 'LINK_BROKEN'], [op.index, 'SEQUENCE_GAP'], HDR, CV] };
      case 'insert':
        return { problems: [[op.index + 1, 'LINK_BROKEN'], [op.index + 1, 'SEQUENCE_GAP'], HDR, CV] };
      case 'swap': {
        const i = op.index;
        return {
          problems: [[i, 'SEQUENCE_GAP'], [i, 'LINK_BROKEN'], [i + 1, 'SEQUENCE_GAP'], [i + 1, 'LINK_BROKEN'], i + 2 < n ? [i + 2, 'LINK_BROKEN'] : HDR, CV],
        };
      }
      case 'duplicate':
        // The copy's own hash is right, so the entry after it links correctly; only the
        // positions move. tail_hash still matches (the copy of the last has its hash).
        return { problems: [[op.index + 1, 'LINK_BROKEN'], [op.index + 1, 'SEQUENCE_GAP'], HDR, CV] };
      case 'cut':
        return { problems: [HDR, HDR] };
      case 'cutFixHeader':
        return { valid: true, limits: ['truncation'] };
      default:
        throw new Error(`no expectation for ${op.kind}`);
    }
  };
}

/** Guardian trail: no sequence, no link field; each chain_hash covers the previous one. */
function expectGuardianTrail(op: Op, n: number): Expected {
  const H = (j: number): P => [j, 'HASH_MISMATCH'];
  switch (op.kind) {
    case 'field':
      if (op.field === 'chain_hash') return { problems: [H(op.index), ...when(op.index + 1 < n, [H(op.index + 1)])] };
      return { problems: [H(op.index)] };
    case 'delete':
      return op.index === n - 1 ? { valid: true, limits: ['truncation'] } : { problems: [H(op.index)] };
    case 'insert':
      return { problems: [H(op.index + 1)] };
    case 'swap':
      return { problems: [H(op.index), H(op.index + 1), ...when(op.index + 2 < n, [H(op.index + 2)])] };
    case 'duplicate':
      return { problems: [H(op.index + 1)] };
    case 'cut':
      return { valid: true, limits: ['truncation'] };
    default:
      throw new Error(`no expectation for ${op.kind}`);
  }
}

/** Guardian registry: each entry HMAC-signed on its own, filed under its package name. */
function expectRegistry(op: Op): Expected {
  switch (op.kind) {
    case 'field':
      if (op.field === 'package') return { problems: [[op.index, 'BAD_SIGNATURE'], [op.index, 'KEY_MISMATCH']] };
      return { problems: [[op.index, 'BAD_SIGNATURE']] };
    case 'rename':
      return { problems: [[op.index, 'KEY_MISMATCH']] };
    case 'copyAs':
      return { problems: [[op.index + 1, 'KEY_MISMATCH']] };
    case 'insert':
      return { problems: [[op.index, 'BAD_SIGNATURE']] };
    case 'delete':
    case 'cut':
      return { valid: true, limits: ['deletion'] };
    case 'rollback':
      return { valid: true, limits: ['rollback'] };
    case 'swap':
      // Member order in a JSON object means nothing: not a tamper at all.
      return { valid: true, limits: [] };
    case 'duplicate':
      // The same package twice: readers disagree on which approval counts.
      return { problems: [[op.index + 1, 'DUPLICATE_KEY']] };
    default:
      throw new Error(`no expectation for ${op.kind}`);
  }
}

/** Tracehound: hash covers id, signature, timestamp and previousHash; not type. */
function expectTracehound(op: Op, n: number): Expected {
  const L = (j: number): P => [j, 'LINK_BROKEN'];
  switch (op.kind) {
    case 'field': {
      const i = op.index;
      if (op.field === 'type') return { valid: true, limits: ['unsigned-fields'] };
      if (op.field === 'previousHash') return { problems: [[i, 'HASH_MISMATCH'], L(i)] };
      if (op.field === 'hash') return { problems: [[i, 'HASH_MISMATCH'], ...when(i + 1 < n, [L(i + 1)])] };
      return { problems: [[i, 'HASH_MISMATCH']] };
    }
    case 'delete':
      return op.index === n - 1 ? { valid: true, limits: ['truncation'] } : { problems: [L(op.index)] };
    case 'insert':
      return { problems: [L(op.index + 1)] };
    case 'swap':
      return { problems: [L(op.index), L(op.index + 1), ...when(op.index + 2 < n, [L(op.index + 2)])] };
    case 'duplicate':
      return { problems: [L(op.index + 1)] };
    case 'cut':
      return { valid: true, limits: ['truncation'] };
    default:
      throw new Error(`no expectation for ${op.kind}`);
  }
}

// ---------------------------------------------------------------------------------------
// Generators and adapters.

const objectOf = (text: string): JsonObject => asObject(parseJson(text, { allowNonFinite: true }));
const namedItems = (values: JsonValue[]): Item[] => values.map((v) => ({ name: '', value: asObject(v) }));

function staxAdapter(form: 'lines' | 'document'): Adapter {
  const header: ChainHeader = { format: 'stax-chain', version: 1, kind: 'trail', origin: 'example.com/agents/recon', created: '2026-11-22T09:00:00.000Z' };
  const payloads: unknown[] = [
    { mode: 'passive', target: 'example.com' },
    { latency_ms: 12.5, method: 'GET', note: 'café', url: 'https://example.com/' },
    { nested: { depth: { level: 3, values: [1, 2.5, 1e-7] } }, emoji: '\u{1F50D} ok' },
    { big: 9007199254740991, ratio: 0.1, tiny: 5e-324, none: null },
    { empty: {}, list: [], flag: false },
    { duration_ms: 2140, findings: 2 },
  ];
  const actors = ['alice', 'recon-agent', 'recon-agent', 'bob', 'recon-agent', 'alice'];
  const lines: string[] = [];
  const hashes: string[] = [];
  for (let seq = 0; seq < N; seq++) {
    const body: EntryBody = {
      seq,
      ts: `2026-11-22T09:00:${String(seq * 7).padStart(2, '0')}.000Z`,
      actor: actors[seq]!,
      action: ['session.start', 'http.request', 'scan.deep', 'math.check', 'misc', 'session.complete'][seq]!,
      payload: payloads[seq],
      prev: hashes[seq - 1] ?? GENESIS_HASH,
      session: 's-7f3a',
    };
    const { line, hash } = serializeEntry(body);
    lines.push(line);
    hashes.push(hash);
  }
  const headerLine = serializeHeader(header);
  const layout = (head: string, entries: string[]): string =>
    form === 'lines' ? `${head}\n${entries.map((l) => l + '\n').join('')}` : `${head.slice(0, -1)},"entries":[\n${entries.join(',\n')}\n]}\n`;
  return {
    id: form === 'lines' ? 'stax (JSON Lines)' : 'stax (single JSON document)',
    format: 'stax',
    ext: form === 'lines' ? 'jsonl' : 'json',
    original: layout(headerLine, lines),
    entryFields: ['action', 'actor', 'payload', 'prev', 'seq', 'session', 'ts', 'hash'],
    headerFields: ['created', 'format', 'kind', 'origin', 'version'],
    base: () => ({ header: objectOf(headerLine), items: namedItems(lines.map((l) => parseJson(l))) }),
    spare(k) {
      const { line } = serializeEntry({ seq: k, ts: '2026-11-22T09:30:00.000Z', actor: 'mallory', action: 'forged.insert', payload: { at: k }, prev: hashes[k - 1] ?? GENESIS_HASH, session: 's-7f3a' });
      return { name: '', value: objectOf(line) };
    },
    write: (doc) => layout(writeJson(doc.header), doc.items.map((i) => writeJson(i.value))),
    expect: expectStax,
  };
}

interface PythonSuite {
  dir: string;
  read(name: string): string;
}

function pythonSuite(): PythonSuite {
  const dir = join(work.path, 'python');
  execFileSync('python3', [WRITER, 'suite', dir, '--entries', String(N), '--hmac-key', HMAC_KEY], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, read: (name) => readFileSync(join(dir, name), 'utf8') };
}

const PY_INDENT = { indent: 2, ensureAscii: true } as const;

function trailStaxAdapter(py: PythonSuite, variant: 'trail' | 'codebank'): Adapter {
  const trail = variant === 'trail';
  const file = trail ? 'session_trail.json' : 'codebank.json';
  const entriesKey = trail ? 'entries' : 'commits';
  const hashField = trail ? 'entry_hash' : 'commit_hash';
  const totalField = trail ? 'total_entries' : 'total_commits';
  const original = py.read(file);
  const spares = parseJson(py.read(trail ? 'trail_spares.json' : 'codebank_spares.json')) as JsonValue[];
  const top = objectOf(original);
  return {
    id: trail ? 'trailstax-trail' : 'trailstax-codebank',
    format: trail ? 'trailstax-trail' : 'trailstax-codebank',
    ext: 'json',
    original,
    entryFields: trail
      ? ['entry_id', 'agent_id', 'action', 'payload', 'timestamp', 'session_id', 'sequence', 'prev_hash', 'entry_hash']
      : ['commit_id', 'agent_id', 'label', 'code_hash', 'file_path', 'metadata', 'timestamp', 'sequence', 'prev_hash', 'commit_hash'],
    headerFields: [...top.keys()].filter((k) => k !== entriesKey),
    base() {
      const header = cloneJson(top);
      return { header, items: namedItems(header.get(entriesKey) as JsonValue[]) };
    },
    spare: (k) => ({ name: '', value: asObject(cloneJson(spares[k]!)) }),
    write(doc) {
      const entries = doc.items.map((i) => i.value);
      const out: JsonObject = doc.headerLast ? new Map([[entriesKey, entries]]) : new Map();
      // set() on an existing key keeps its place: the entries stay where Python put them.
      for (const [k, v] of doc.header) out.set(k, k === entriesKey ? entries : cloneJson(v));
      return writeJson(out, PY_INDENT);
    },
    fixHeader(doc) {
      doc.header.set(totalField, new JsonNumber(String(doc.items.length)));
      doc.header.set('tail_hash', doc.items.at(-1)?.value.get(hashField) ?? GENESIS_HASH);
    },
    expect: expectTrailStax(
      trail
        ? { hashField, shared: ['agent_id', 'session_id'], unchecked: ['trailstax_version'] }
        : { hashField, shared: ['agent_id'], unchecked: ['codebank_version', 'bank_id'] },
    ),
  };
}

const PY_DUMPS = { separators: [', ', ': '] as [string, string], ensureAscii: true };

function guardianTrailAdapter(py: PythonSuite): Adapter {
  const original = py.read('guardian_trail.jsonl');
  const spares = parseJson(py.read('guardian_spares.json')) as JsonValue[];
  return {
    id: 'guardian-trail',
    format: 'guardian-trail',
    ext: 'jsonl',
    original,
    entryFields: ['timestamp', 'event', 'package', 'version', 'outcome', 'detail', 'chain_hash'],
    headerFields: [],
    base: () => ({ header: new Map(), items: namedItems(original.trimEnd().split('\n').map((l) => parseJson(l))) }),
    spare: (k) => ({ name: '', value: asObject(cloneJson(spares[k]!)) }),
    write: (doc) => doc.items.map((i) => writeJson(i.value, PY_DUMPS) + '\n').join(''),
    expect: expectGuardianTrail,
  };
}

function registryAdapter(py: PythonSuite): Adapter {
  const original = py.read('approved_registry.json');
  const extras = objectOf(py.read('registry_extras.json'));
  const older = asObject(extras.get('older'));
  const forged = asObject(extras.get('forged'));
  const registry = objectOf(original);
  return {
    id: 'guardian-registry',
    format: 'guardian-registry',
    ext: 'json',
    original,
    entryFields: ['package', 'version', 'expected_hash', 'approved_at', 'approved_by', 'signature'],
    headerFields: [],
    extraOps: ['rename', 'copyAs', 'rollback'],
    base: () => ({ header: new Map(), items: [...cloneJson(registry)].map(([name, value]) => ({ name, value: asObject(value) })) }),
    spare: () => ({ name: 'evil-pkg', value: cloneJson(forged) }),
    older: (i) => asObject(cloneJson([...older.values()][i]!)),
    // Written member by member (not through a Map) so that a duplicated name survives.
    write(doc) {
      if (doc.items.length === 0) return '{}';
      const members = doc.items.map((i) => `  ${writeJson(i.name, PY_INDENT)}: ${writeJson(i.value, PY_INDENT).replace(/\n/g, '\n  ')}`);
      return `{\n${members.join(',\n')}\n}`;
    },
    expect: expectRegistry,
  };
}

function tracehoundAdapter(): Adapter {
  const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
  // What Tracehound's AuditChain does: hash = SHA-256(JSON.stringify({id, signature, timestamp, previousHash})).
  const record = (i: number, previousHash: string, t: number): Record<string, unknown> => {
    const id = `${randomUUID()}-${randomBytes(4).toString('hex')}`;
    const signature = `${i % 2 === 0 ? 'injection' : 'flood'}:${sha256(randomBytes(16))}`;
    const timestamp = t;
    const hash = sha256(JSON.stringify({ id, signature, timestamp, previousHash }));
    return { id, type: i % 3 === 2 ? 'evacuation' : 'neutralization', signature, timestamp, previousHash, hash };
  };
  const t0 = Date.now();
  const records: Array<Record<string, unknown>> = [];
  for (let i = 0; i < N; i++) records.push(record(i, (records[i - 1]?.hash as string | undefined) ?? GENESIS_HASH, t0 + i * 37));
  const original = JSON.stringify(records, null, 2) + '\n';
  return {
    id: 'tracehound-audit',
    format: 'tracehound-audit',
    ext: 'json',
    original,
    entryFields: ['id', 'type', 'signature', 'timestamp', 'previousHash', 'hash'],
    headerFields: [],
    base: () => ({ header: new Map(), items: namedItems(parseJson(original) as JsonValue[]) }),
    spare: (k) => ({ name: '', value: objectOf(JSON.stringify(record(k, (records[k - 1]?.hash as string | undefined) ?? GENESIS_HASH, t0 + k * 37 + 1))) }),
    write: (doc) => writeJson(doc.items.map((i) => i.value), { indent: 2 }) + '\n',
    expect: expectTracehound,
  };
}

// ---------------------------------------------------------------------------------------

const py = pythonSuite();
const ADAPTERS: Adapter[] = [
  staxAdapter('lines'),
  staxAdapter('document'),
  trailStaxAdapter(py, 'trail'),
  trailStaxAdapter(py, 'codebank'),
  guardianTrailAdapter(py),
  registryAdapter(py),
  tracehoundAdapter(),
];
const hmacKey = (): Buffer => Buffer.from(HMAC_KEY);
let fileCounter = 0;

function writeCase(a: Adapter, text: string): string {
  const file = join(work.path, `case-${++fileCounter}.${a.ext}`);
  writeFileSync(file, text);
  return file;
}

function problemList(r: VerifyReport): string[] {
  return r.problems.map((p) => `${p.index ?? '-'} ${p.code}`).sort();
}

async function check(a: Adapter, op: Op): Promise<void> {
  const expected = a.expect(op, a.base().items.length);
  const file = writeCase(a, a.write(apply(a, op)));
  if ('error' in expected) {
    await expect(verifyFile(file, { hmacKey })).rejects.toMatchObject({ code: expected.error, file });
    if (expected.forced !== undefined) {
      await expect(verifyFile(file, { hmacKey, format: a.format })).rejects.toMatchObject({ code: expected.forced, file });
    }
    return;
  }
  const report = await verifyFile(file, { hmacKey });
  expect(report.format).toBe(a.format);
  expect(report.problemCount).toBe(report.problems.length);
  if ('valid' in expected) {
    expect(report.problems).toEqual([]);
    expect(report.valid).toBe(true);
    const threats = report.limits.map((l) => l.threat);
    for (const threat of expected.limits) expect(threats).toContain(threat);
    return;
  }
  const indices = expected.problems.map(([i]) => i).filter((i): i is number => i !== null);
  expect(problemList(report)).toEqual(expected.problems.map(([i, c]) => `${i ?? '-'} ${c}`).sort());
  expect(report.firstBad).toBe(indices.length === 0 ? null : Math.min(...indices));
  expect(report.valid).toBe(false);
}

for (const a of ADAPTERS) {
  describe(`tamper: ${a.id}`, () => {
    it('the generated file verifies, and the test re-serializer gives back its exact bytes', async () => {
      expect(a.write(a.base())).toBe(a.original);
      const report = await verifyFile(writeCase(a, a.original), { hmacKey });
      expect(report).toMatchObject({ format: a.format, valid: true, entries: a.base().items.length, problems: [] });
    });

    for (const op of opsFor(a, a.base().items.length)) {
      const expected = a.expect(op, a.base().items.length);
      const name = `${describeOp(op)} → ${describeExpected(expected)}`;
      // `bug` marks a case where the verifier's answer is wrong today (see the reason).
      (expected.bug === undefined ? it : it.fails)(name, () => check(a, op));
    }
  });
}

describe('tamper: the built CLI agrees with the library', () => {
  // One child process per format for a clean file and a tampered one: the in-process matrix
  // above covers the verifiers, this covers the command wiring, exit codes and --json.
  for (const a of ADAPTERS) {
    it(`${a.id}: exit 0 clean, exit 1 with the same problems when entry 2 is edited`, async () => {
      const env = { STAX_HMAC_KEY: HMAC_KEY };
      const clean = await runCli(['verify', '--json', writeCase(a, a.original)], { env });
      expect(clean.code).toBe(0);
      const op: Op = { kind: 'field', index: 2, field: a.entryFields.at(-1)! };
      const file = writeCase(a, a.write(apply(a, op)));
      const tampered = await runCli(['verify', '--json', file], { env });
      expect(tampered.code).toBe(1);
      expect(tampered.stderr).toBe('');
      const [report] = JSON.parse(tampered.stdout) as VerifyReport[];
      expect(problemList(report!)).toEqual(problemList(await verifyFile(file, { hmacKey })));
    });
  }
});
