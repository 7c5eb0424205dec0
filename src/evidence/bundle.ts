/**
 * A case manifest: the facts about a quarantine folder (and its audit chain) written as a
 * stax chain v1 single-document JSON, so that `stax verify case.json` checks it with the
 * verifier every other stax trail uses.
 *
 * One entry per fact source, all by the examiner: first `chain` (the audit chain's file
 * hash, head, length and validity, and the records no envelope answers to), then one
 * `evidence` entry per envelope in name order (sizes, the compressed and payload SHA-256,
 * the file's own SHA-256, verdict, chain records). Every fact is inside an entry's payload,
 * none in the header, because only entries are hashed; so the last entry's hash commits to
 * the whole case. That is what makes signing a later addition, not a format change: an
 * Ed25519 signature over each entry hash goes in the entry's `sig` member, which stax
 * chain v1 already defines and verifiers already read.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FORMAT_ID, FORMAT_VERSION, GENESIS_HASH, serializeEntry, serializeHeader, type ChainHeader } from '../chain/entry.js';
import { StaxError, fileError } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { defaultOrigin } from '../trail/paths.js';
import {
  countVerdicts,
  crossCheck,
  loadChain,
  scanDirectory,
  type ChainRecordRef,
  type EnvelopeFacts,
  type SkippedEntry,
  type VerdictCounts,
} from './scan.js';

export interface BundleOptions {
  /** The quarantine folder. */
  directory: string;
  /** A Tracehound AuditChain export to verify and cross-check. */
  chain?: string;
  /** The manifest to write. */
  out: string;
  /** Who made the case: every entry's actor. */
  examiner: string;
  /** Replace an existing `out`. */
  force?: boolean;
  /** The chain origin; defaults to `localhost/<folder name>/case`. */
  origin?: string;
  /** The time to record (tests pin it). */
  now?: Date;
  /** Folder the paths are relative to (default: the process's); they are recorded as given. */
  cwd?: string;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface BundleResult {
  out: string;
  origin: string;
  created: string;
  examiner: string;
  /** Entries written. */
  entries: number;
  /** Hash of the last entry: it commits to every fact in the case. */
  head: string;
  /** Verdicts of the envelopes recorded. */
  counts: VerdictCounts;
  skipped: SkippedEntry[];
  chain: { file: string; valid: boolean; records: number; head: string | null; sha256: string } | null;
  recordsWithoutEnvelope: number;
  envelopesWithoutRecord: number;
}

/** Problems kept in the `chain` entry; the count is always complete. */
const MAX_CHAIN_PROBLEMS = 100;

const recordFact = (r: ChainRecordRef): Record<string, unknown> => ({ index: r.index, id: r.id, type: r.type, signature: r.signature, timestamp: r.timestamp, time: r.time });

export async function bundleCase(options: BundleOptions): Promise<BundleResult> {
  const examiner = options.examiner;
  if (examiner.trim() === '') throw new StaxError('USAGE', '--examiner: expected a name, found an empty string');
  const at = (p: string): string => resolve(options.cwd ?? process.cwd(), p);
  const out = at(options.out);
  // Checked again, atomically, when the file is put in place; this only saves the work.
  if (options.force !== true && (await exists(out))) {
    throw new StaxError('USAGE', 'already exists; pass --force to replace it', { file: options.out });
  }

  const chain = options.chain === undefined ? null : await loadChain(at(options.chain));
  const chainSha = options.chain === undefined ? null : await fileSha256(at(options.chain), options.chain);
  const scan = await scanDirectory(at(options.directory), {
    hashFiles: true,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const unreadable = scan.skipped.filter((s) => s.reason === 'unreadable');
  if (unreadable.length > 0) {
    // A case that silently leaves out evidence is worse than no case.
    const first = unreadable[0]!;
    throw new StaxError('FILE_UNREADABLE', `${unreadable.length} envelope${unreadable.length === 1 ? '' : 's'} could not be read (first: ${first.message ?? first.code}); no case written`, {
      file: join(options.directory, first.name),
    });
  }
  let envelopes: EnvelopeFacts[] = scan.envelopes;
  let unmatchedRecords: ChainRecordRef[] = [];
  let unmatchedEnvelopes: string[] = [];
  let chainFacts: Record<string, unknown> | null = null;
  if (chain !== null && options.chain !== undefined && chainSha !== null) {
    const checked = crossCheck(envelopes, chain, true);
    envelopes = checked.envelopes;
    unmatchedRecords = checked.chain.unmatchedRecords ?? [];
    unmatchedEnvelopes = checked.chain.unmatchedEnvelopes;
    const r = chain.report;
    chainFacts = {
      file: options.chain,
      fileSha256: chainSha.sha256,
      fileSize: chainSha.size,
      format: r.format,
      valid: r.valid,
      records: r.entries,
      head: r.head,
      firstBad: r.firstBad,
      problemCount: r.problemCount,
      problems: r.problems.slice(0, MAX_CHAIN_PROBLEMS),
      byType: checked.chain.byType,
      span: checked.chain.span === null ? null : { first: checked.chain.span.first, last: checked.chain.span.last },
      recordsWithoutEnvelope: unmatchedRecords.map(recordFact),
    };
  }
  if (chainFacts === null && envelopes.length === 0 && scan.skipped.length === 0) {
    throw new StaxError('INPUT_INVALID', 'no envelopes (*.thcs) in the folder and no --chain: nothing to put in a case', { file: options.directory });
  }

  const now = options.now ?? new Date();
  const created = now.toISOString();
  const origin = options.origin ?? defaultOrigin(at(options.directory), 'case');
  const header: ChainHeader = { format: FORMAT_ID, version: FORMAT_VERSION, kind: 'case', origin, created };
  const payloads: Array<{ action: string; payload: Record<string, unknown> }> = [];
  if (chainFacts !== null) payloads.push({ action: 'chain', payload: chainFacts });
  const items: Array<{ name: string; facts: Record<string, unknown> }> = [
    ...envelopes.map((e) => ({ name: e.name ?? '', facts: evidenceFacts(e, options.directory, chain !== null) })),
    ...scan.skipped.map((s) => ({ name: s.name, facts: { name: s.name, directory: options.directory, skipped: s.reason } })),
  ];
  items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const item of items) payloads.push({ action: 'evidence', payload: item.facts });

  const lines: string[] = [];
  let prev = GENESIS_HASH;
  for (const [seq, p] of payloads.entries()) {
    const { line, hash } = serializeEntry({ seq, ts: created, actor: examiner, action: p.action, payload: p.payload, prev });
    lines.push(line);
    prev = hash;
  }
  // The layout `stax trail export` writes: the header's members, then one entry per line.
  const text = `${serializeHeader(header).slice(0, -1)},"entries":[\n${lines.join(',\n')}\n]}\n`;
  writeFileAtomic(out, text, { overwrite: options.force === true });

  return {
    out: options.out,
    origin,
    created,
    examiner,
    entries: lines.length,
    head: prev,
    counts: countVerdicts(envelopes),
    skipped: scan.skipped,
    chain:
      chain === null || options.chain === undefined || chainSha === null
        ? null
        : { file: options.chain, valid: chain.report.valid, records: chain.report.entries, head: chain.report.head, sha256: chainSha.sha256 },
    recordsWithoutEnvelope: unmatchedRecords.length,
    envelopesWithoutRecord: chain === null ? 0 : unmatchedEnvelopes.length,
  };
}

function evidenceFacts(e: EnvelopeFacts, directory: string, withRecords: boolean): Record<string, unknown> {
  const facts: Record<string, unknown> = {
    name: e.name,
    directory,
    fileSize: e.fileSize,
    fileSha256: e.fileSha256 ?? null,
    version: e.version,
    compressedSize: e.compressedSize,
    originalSize: e.originalSize,
    headerSha256: e.declaredHash,
    compressedSha256: e.actualHash,
    payloadSha256: e.payloadHash,
    signature: e.signature === null ? null : `${e.signature.category}:${e.signature.hash}`,
    signatureSource: e.signatureSource,
    payloadHashChecked: e.payloadHashChecked,
    payloadJson: e.payloadJson,
    verdict: e.verdict,
    message: e.message,
    evidence: e.evidence,
  };
  if (withRecords) facts.records = (e.records ?? []).map(recordFact);
  return facts;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fileError(path, err);
  }
}

async function fileSha256(path: string, shown: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw fileError(shown, err);
  }
  return { sha256: hash.digest('hex'), size };
}

