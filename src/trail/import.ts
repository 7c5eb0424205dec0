/**
 * `stax trail import`: turns a TrailStax trail export into a stax chain. The source is
 * verified first; nothing is written unless it is valid. Each stax entry keeps the
 * original entry's id, hash, sequence and exact timestamp as `provenance`, so an auditor
 * can tie every imported entry back to the original file.
 */
import { basename } from 'node:path';
import { GENESIS_HASH, serializeEntry, serializeHeader, type ChainHeader, type EntryBody } from '../chain/entry.js';
import type { VerifyReport } from '../chain/report.js';
import { StaxError } from '../errors.js';
import { TRAIL, verifyTrailStax } from '../formats/trailstax.js';
import { peek, detectFormat } from '../formats/detect.js';
import { AtomicFile } from '../fs/atomic.js';
import { assertRegularFile } from '../fs/regular.js';
import { openInput } from '../io/input.js';
import { findInexactNumber } from '../json/exact.js';
import { JsonNumber, toPlain, type JsonObject, type JsonValue } from '../json/value.js';

export interface ImportOptions {
  out: string;
  origin?: string;
  force?: boolean;
}

export interface ImportResult {
  file: string;
  out: string;
  written: boolean;
  entries: number;
  source: VerifyReport;
  head: string | null;
}

export async function importTrailStax(file: string, options: ImportOptions): Promise<ImportResult> {
  // Read twice (verify, then convert): it must be a file, not a pipe.
  assertRegularFile(file);
  const { sample, input } = await peek(await openInput(file));
  const format = detectFormat(sample);
  if (format !== 'trailstax-trail') {
    throw new StaxError('FORMAT_UNKNOWN', `expected a TrailStax trail export, found ${format ?? 'an unknown format'}`, { file });
  }
  // Pass 1: verify the whole source before writing a byte.
  const source = await verifyTrailStax(input, TRAIL);
  if (!source.valid) return { file, out: options.out, written: false, entries: 0, source, head: null };

  // Pass 2: convert, entry by entry, into a new file that appears atomically.
  const out = new AtomicFile(options.out, { overwrite: options.force === true });
  let prev = GENESIS_HASH;
  let seq = 0;
  let wroteHeader = false;
  let failure: unknown = null;
  const again = await peek(await openInput(file));
  try {
    await verifyTrailStax(again.input, TRAIL, (index, e) => {
      if (failure !== null) return;
      try {
        if (!wroteHeader) {
          out.write(serializeHeader(headerFor(e, file, options)) + '\n');
          wroteHeader = true;
        }
        const body = entryFor(e, index, prev, seq++);
        const { line, hash } = serializeEntry(body);
        out.write(line + '\n');
        prev = hash;
      } catch (err) {
        failure = err;
      }
    });
    if (failure !== null) throw failure;
    if (!wroteHeader) throw new StaxError('INPUT_INVALID', 'the export holds no entries: nothing to import', { file });
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return { file, out: options.out, written: true, entries: seq, source, head: prev };
}

function headerFor(first: JsonObject, file: string, options: ImportOptions): ChainHeader {
  const agent = String(plain(first.get('agent_id'), 'agent_id', 0));
  return {
    format: 'stax-chain',
    version: 1,
    kind: 'trail',
    origin: options.origin ?? `trailstax/${agent.replace(/\s+/g, '-')}`,
    created: new Date().toISOString(),
    importedFrom: { format: 'trailstax-trail', file: basename(file), agent_id: agent, session_id: plain(first.get('session_id'), 'session_id', 0) },
  };
}

function entryFor(e: JsonObject, index: number, prev: string, seq: number): EntryBody {
  const ts = e.get('timestamp');
  const seconds = ts instanceof JsonNumber ? ts.toNumber() : Number.NaN;
  if (!Number.isFinite(seconds)) throw new StaxError('INPUT_INVALID', `entry ${index}: timestamp is not a finite number`);
  const session = e.get('session_id');
  const body: EntryBody = {
    seq,
    ts: new Date(Math.round(seconds * 1000)).toISOString(),
    actor: String(plain(e.get('agent_id'), 'agent_id', index)),
    action: String(plain(e.get('action'), 'action', index)),
    payload: plain(e.get('payload') ?? null, 'payload', index),
    prev,
    provenance: {
      format: 'trailstax-trail',
      entry_id: plain(e.get('entry_id') ?? null, 'entry_id', index),
      entry_hash: plain(e.get('entry_hash') ?? null, 'entry_hash', index),
      sequence: plain(e.get('sequence') ?? null, 'sequence', index),
      // Seconds as Python wrote them; `ts` above keeps only milliseconds.
      timestamp: seconds,
    },
  };
  if (typeof session === 'string') body.session = session;
  return body;
}

/** Converts to plain JSON, refusing numbers a stax chain (RFC 8785, doubles) would change. */
function plain(v: JsonValue | undefined, field: string, index: number): unknown {
  const bad = findInexactNumber(v);
  if (bad !== null) {
    throw new StaxError('INPUT_INVALID', `entry ${index}: ${field} holds the number ${bad}, which a stax chain cannot store exactly (RFC 8785 numbers are doubles)`);
  }
  return v === undefined ? null : toPlain(v);
}
