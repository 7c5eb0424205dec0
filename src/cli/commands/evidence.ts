/**
 * Evidence commands: inspect, stats, watch and bundle for Tracehound quarantine folders.
 * Parsing and rendering only; the logic is in src/evidence/. Everything shown here comes
 * from evidence an attacker wrote, so every string from a file passes through `ui.safe`.
 */
import { basename, join, resolve } from 'node:path';
import type { CommandSpec, Outcome, RunContext } from '../command.js';
import type { Ui } from '../output.js';
import { Exit, StaxError, fileError, type ExitCode } from '../../errors.js';
import type { EnvelopeVerdict } from '../../evidence/envelope.js';
import type {
  ChainCheck,
  ChainRecordRef,
  EnvelopeFacts,
  EvidenceStats,
  LoadedChain,
  PayloadExcerpt,
  SkippedEntry,
  SortKey,
  VerdictCounts,
} from '../../evidence/scan.js';
import type { WatchEvent, WatchSummary } from '../../evidence/watch.js';
import type { BundleResult } from '../../evidence/bundle.js';
import { renderReport } from './verify.js';

const DEFAULT_MAX_BYTES = 64 * 1024;
const MAN = (name: string): string => `tracehound-${name}`;

// ---------------------------------------------------------------------------------------
// Option parsing

function parseCount(flag: string, value: unknown): number {
  const text = String(value);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new StaxError('USAGE', `${flag}: expected a whole number of bytes, found "${text}"`);
  return n;
}

function parseSeconds(flag: string, value: unknown): number {
  const text = String(value);
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n > 365 * 24 * 3600) throw new StaxError('USAGE', `${flag}: expected a number of seconds, found "${text}"`);
  return n;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

// ---------------------------------------------------------------------------------------
// Shared rendering

function verdictLabel(v: EnvelopeVerdict, ui: Ui): string {
  return v === 'OK' ? ui.c.green('✔ OK') : ui.c.red(`✘ ${v}`);
}

const ratioText = (r: number | null): string => (r === null ? '-' : r.toFixed(2));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const short = (hash: string): string => `${hash.slice(0, 12)}…`;

function countsText(c: VerdictCounts): string {
  const failures = Object.entries(c.byVerdict)
    .filter(([v]) => v !== 'OK')
    .map(([v, n]) => `${v} ${n}`);
  return `${plural(c.total, 'envelope')}: ${c.ok} OK, ${c.failed} failed${failures.length > 0 ? ` (${failures.join(', ')})` : ''}`;
}

/** The envelope column: a short signature when the name is one, else the (neutralized) name. */
function envelopeLabel(e: EnvelopeFacts, ui: Ui): string {
  if (e.signature !== null && e.signatureSource === 'name') return short(e.signature.hash);
  return ui.safe(e.name ?? e.file ?? '(stdin)', 40);
}

function recordLine(r: ChainRecordRef, ui: Ui): string {
  return `#${r.index} ${ui.safe(r.type, 40)} ${r.time ?? `(timestamp ${ui.safe(String(r.timestamp), 40)})`}`;
}

function renderChain(chain: ChainCheck, ui: Ui): void {
  const r = chain.report;
  if (r.valid) {
    ui.out(`chain ${ui.safe(r.file)}: ${ui.c.green('✔ valid')}, ${plural(r.entries, 'record')}${r.head === null ? '' : `, head ${r.head}`}`);
  } else {
    renderReport(r, ui);
  }
  const types = Object.entries(chain.byType).map(([t, n]) => `${n} ${ui.safe(t, 40)}`);
  if (types.length > 0) ui.out(`  records by type: ${types.join(', ')}`);
  if (chain.span !== null) {
    ui.out(`  time span: ${chain.span.first} → ${chain.span.last} (${formatDuration(chain.span.durationMs)})`);
  }
}

function renderCrossCheck(chain: ChainCheck, ui: Ui): void {
  if (chain.unmatchedRecords !== null) {
    if (chain.unmatchedRecords.length === 0) ui.out('chain records with no envelope: none');
    else {
      ui.out(ui.c.yellow(`chain records with no envelope: ${chain.unmatchedRecords.length}`));
      const rows = chain.unmatchedRecords.map((r) => [String(r.index), ui.safe(r.type, 40), ui.safe(r.signature, 90), r.time ?? ui.safe(String(r.timestamp), 40), ui.safe(r.id, 60)]);
      ui.out(ui.table(['#', 'type', 'signature', 'time', 'id'], rows, { align: ['right', 'left', 'left', 'left', 'left'] }));
    }
  }
  if (chain.unmatchedEnvelopes.length === 0) ui.out('envelopes with no chain record: none');
  else {
    ui.out(ui.c.yellow(`envelopes with no chain record: ${chain.unmatchedEnvelopes.length}`));
    for (const name of chain.unmatchedEnvelopes) ui.out(`  ${ui.safe(name, 200)}`);
  }
}

function renderSkipped(skipped: SkippedEntry[], ui: Ui): void {
  const words: Record<SkippedEntry['reason'], string> = {
    symlink: 'a symbolic link (not followed)',
    'not-a-file': 'not a regular file',
    vanished: 'removed while the folder was read',
    unreadable: 'unreadable',
  };
  for (const s of skipped) {
    const detail = s.message === undefined ? '' : `: ${ui.safe(s.message, 200)}`;
    ui.out(ui.c.yellow(`skipped ${ui.safe(s.name, 200)}: ${words[s.reason]}${detail}`));
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 120) return `${m.toFixed(1)} min`;
  return `${(m / 60).toFixed(1)} h`;
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal and the work has already
 * taken 300 ms (a quick scan should not flicker). It writes with \r and clears its line.
 */
function progressBar(ctx: RunContext, what: string): { onProgress(done: number, total: number): void; stop(): void } {
  const stream = ctx.io.stderr;
  if (!ctx.ui.stderrIsTTY) return { onProgress: () => undefined, stop: () => undefined };
  const started = Date.now();
  let done = 0;
  let total = 0;
  let drawn = false;
  const draw = (): void => {
    if (Date.now() - started < 300 || total === 0) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${what}`);
    drawn = true;
  };
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    onProgress(d, t) {
      done = d;
      total = t;
    },
    stop() {
      clearInterval(timer);
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

// ---------------------------------------------------------------------------------------
// inspect

type InspectedEnvelope = EnvelopeFacts & { payloadExcerpt?: PayloadExcerpt | null };

export interface InspectResult {
  target: string;
  kind: 'file' | 'directory';
  /** Every envelope inspected (in a folder, before filters). */
  counts: VerdictCounts;
  /** The envelopes shown: after --category and --verdict, in --sort order. */
  envelopes: InspectedEnvelope[];
  filters: { category: string | null; verdict: string | null; sort: SortKey } | null;
  skipped: SkippedEntry[];
  otherFiles: number;
  chain: ChainCheck | null;
}

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary: 'check Tracehound evidence envelopes (.thcs) and show what they hold, safely',
  description:
    'Checks a THCS evidence envelope end to end (magic, version, declared sizes, the header hash of the compressed bytes, ' +
    'every gzip member, the inflated size, and the payload SHA-256 against the signature in the file name) and gives a ' +
    'verdict with a stable code: OK, BAD_MAGIC, BAD_VERSION, TRUNCATED, TOO_LARGE, TRAILING_BYTES, BAD_HASH_FIELD, ' +
    'HASH_MISMATCH, BAD_GZIP, BAD_CRC, SIZE_EXCEEDED, SIZE_MISMATCH, BAD_SIGNATURE_NAME or PAYLOAD_HASH_MISMATCH. ' +
    'The payload is pretty-printed with every control character and escape sequence shown as a visible escape; ' +
    '--raw writes its exact bytes instead. The payload hash can only be checked against a signature: from the file name ' +
    '(<category>:<sha256>.thcs) or --signature; an envelope under any other name is reported as not checked. ' +
    'Given a folder, every *.thcs in it is checked and listed in a table (symbolic links are not followed). ' +
    'With --chain, the Tracehound audit chain is verified first and each envelope is paired with its records.',
  args: ['<target>'],
  options: [
    { flags: '--signature <sig>', description: 'the expected signature <category>:<sha256> when the file name does not carry it' },
    { flags: '--max-bytes <n>', description: `show at most n payload bytes (default ${DEFAULT_MAX_BYTES}); with --raw, write at most n` },
    { flags: '--raw', description: 'write the payload bytes to stdout, unchanged (refused on a terminal unless --force)' },
    { flags: '--force', description: 'with --raw, write to a terminal anyway' },
    { flags: '--chain <file>', description: 'a Tracehound AuditChain export to verify and cross-check' },
    { flags: '--sort <key>', description: 'folder table order: name (default), category, size, ratio or verdict (size and ratio largest first; verdict puts failures first)' },
    { flags: '--category <name>', description: 'in a folder, show only this category' },
    { flags: '--verdict <code>', description: 'in a folder, show only this verdict (OK, FAILED for any failure, or a code)' },
  ],
  examples: [
    { cmd: 'inspect quarantine/injection:f436593d6ab2724173e860d99d4199351fb0830d61fee3c69008c85af794a468.thcs', says: 'check one envelope and show its payload' },
    { cmd: 'inspect quarantine --sort ratio --verdict FAILED', says: 'list the envelopes of a folder that fail, highest compression ratio first' },
    { cmd: 'inspect quarantine --chain audit_chain.json', says: 'check the folder against the audit chain: records without envelopes and envelopes without records' },
    { cmd: 'inspect evidence.bin --signature injection:f436593d6ab2724173e860d99d4199351fb0830d61fee3c69008c85af794a468', says: 'check a renamed envelope against its signature' },
    { cmd: 'inspect x.thcs --raw > payload.json', says: 'extract the exact payload bytes' },
    { cmd: 'inspect - < x.thcs', says: 'read an envelope from standard input' },
  ],
  exitCodes: {
    0: 'every envelope is OK (and the chain, if given, is valid)',
    1: 'an envelope failed a check, or the chain is invalid (filters only hide rows: the exit code counts every envelope)',
    2: 'usage error, or a file, folder or chain cannot be read',
  },
  manPage: MAN('inspect'),
  async run([target], options, ctx) {
    const { io } = ctx;
    const t = target!;
    const raw = options.raw === true;
    if (raw && ctx.json) throw new StaxError('USAGE', '--raw and --json cannot be combined');
    const maxBytesGiven = options.maxBytes !== undefined;
    const maxBytes = maxBytesGiven ? parseCount('--max-bytes', options.maxBytes) : DEFAULT_MAX_BYTES;
    const { stat } = await import('node:fs/promises');
    let isDirectory = false;
    if (t !== '-') {
      try {
        isDirectory = (await stat(resolve(io.cwd, t))).isDirectory();
      } catch (err) {
        throw fileError(t, err);
      }
    }
    if (isDirectory) {
      for (const [flag, given] of [['--signature', options.signature !== undefined], ['--raw', raw], ['--max-bytes', maxBytesGiven]] as const) {
        if (given) throw new StaxError('USAGE', `${flag} applies to one envelope, not a folder (in a folder each file name is its signature)`);
      }
      return inspectDirectory(t, options, ctx);
    }
    for (const flag of ['sort', 'category', 'verdict'] as const) {
      if (options[flag] !== undefined) throw new StaxError('USAGE', `--${flag} applies to a folder, not one envelope`);
    }
    if (raw && ctx.ui.stdoutIsTTY && options.force !== true) {
      throw new StaxError('NOT_A_TTY', 'refusing to write raw payload bytes to a terminal (they may hold escape sequences); redirect stdout to a file or a pipe, or add --force');
    }
    return inspectOne(t, { maxBytes, maxBytesGiven, raw }, options, ctx);
  },
};

async function loadChainFor(chainArg: string | undefined, ctx: RunContext, stdinFree: boolean): Promise<LoadedChain | null> {
  if (chainArg === undefined) return null;
  const { loadChain } = await import('../../evidence/scan.js');
  const loaded = await loadChain(chainArg === '-' ? '-' : resolve(ctx.io.cwd, chainArg), stdinFree ? ctx.io.stdin : undefined);
  return { ...loaded, report: { ...loaded.report, file: chainArg } };
}

async function inspectOne(
  target: string,
  how: { maxBytes: number; maxBytesGiven: boolean; raw: boolean },
  options: Record<string, unknown>,
  ctx: RunContext,
): Promise<Outcome<InspectResult>> {
  const { inspectEnvelope } = await import('../../evidence/envelope.js');
  const { envelopeFacts, payloadExcerpt, readEnvelopeStream, crossCheck, countVerdicts } = await import('../../evidence/scan.js');
  const signature = str(options.signature);
  const inspectOptions = signature === undefined ? {} : { signature };
  const report =
    target === '-'
      ? await inspectEnvelope({ bytes: await readEnvelopeStream(ctx.io.stdin) }, inspectOptions)
      : await inspectEnvelope({ path: resolve(ctx.io.cwd, target), name: basename(target) }, inspectOptions);
  const payload = report.payload;
  let facts: EnvelopeFacts = { ...envelopeFacts(report), file: target === '-' ? null : target };
  const chain = await loadChainFor(str(options.chain), ctx, target !== '-');
  let chainCheck: ChainCheck | null = null;
  if (chain !== null) {
    const checked = crossCheck([facts], chain, false);
    facts = checked.envelopes[0]!;
    chainCheck = checked.chain;
  }
  const envelope: InspectedEnvelope = how.raw ? facts : { ...facts, payloadExcerpt: payloadExcerpt(payload, how.maxBytes) };
  const result: InspectResult = {
    target,
    kind: 'file',
    counts: countVerdicts([facts]),
    envelopes: [envelope],
    filters: null,
    skipped: [],
    otherFiles: 0,
    chain: chainCheck,
  };
  let exitCode: ExitCode = facts.verdict === 'OK' && (chainCheck === null || chainCheck.report.valid) ? Exit.OK : Exit.CHECK_FAILED;
  if (how.raw) {
    if (payload === undefined && report.payloadHash !== null) {
      throw new StaxError('INPUT_TOO_LARGE', `the payload is ${report.inflatedBytes} bytes, more than stax keeps in memory; nothing written`, { file: target });
    }
    const bytes = payload === undefined ? undefined : how.maxBytesGiven ? payload.subarray(0, how.maxBytes) : payload;
    if (bytes === undefined) exitCode = Exit.CHECK_FAILED;
    return { result, exitCode, render: (r, ui) => renderRaw(r, bytes, ui) };
  }
  const { formatPayloadForTerminal } = await import('../../evidence/display.js');
  return { result, exitCode, render: (r, ui) => renderOne(r, payload, how.maxBytes, formatPayloadForTerminal, ui) };
}

function renderRaw(r: InspectResult, bytes: Buffer | undefined, ui: Ui): void {
  const e = r.envelopes[0]!;
  // Only the payload goes to stdout; what stax says about it goes to stderr.
  if (bytes !== undefined) ui.io.stdout.write(bytes);
  const what = bytes === undefined ? 'no payload written' : `${plural(bytes.length, 'byte')} written`;
  const label = e.verdict === 'OK' ? ui.ce.green('✔ OK') : ui.ce.red(`✘ ${e.verdict}`);
  ui.err(`${label}  ${ui.safe(e.file ?? '(stdin)')}: ${what}${e.verdict === 'OK' ? '' : `; ${ui.safe(e.message, 300)}`}`);
  if (e.verdict === 'OK' && !e.payloadHashChecked) ui.err(ui.ce.yellow('payload hash NOT checked: the file name carries no signature (pass --signature to check it)'));
  if (r.chain !== null && !r.chain.report.valid) ui.err(ui.ce.red(`chain ${ui.safe(r.chain.report.file)} is INVALID`));
}

type PayloadFormatter = (payload: Buffer, maxBytes: number) => string;

function renderOne(r: InspectResult, payload: Buffer | undefined, maxBytes: number, formatPayload: PayloadFormatter, ui: Ui): void {
  const { c } = ui;
  const e = r.envelopes[0]!;
  ui.out(`${verdictLabel(e.verdict, ui)}  ${ui.safe(e.file ?? '(stdin)')}`);
  const row = (label: string, text: string): void => ui.out(`  ${label.padEnd(10)} ${text}`);
  if (e.signature !== null) {
    row('signature', `${e.signature.category}:${e.signature.hash} (${e.signatureSource === 'option' ? 'given with --signature' : 'from the file name'})`);
  } else row('signature', c.yellow('none known'));
  if (e.version !== null) {
    const sizes = e.compressedSize === null ? '' : `, compressedSize ${e.compressedSize}, originalSize ${e.originalSize}`;
    row('header', `THCS version ${e.version}${sizes}`);
  }
  const members = e.members > 0 ? `, ${plural(e.members, 'gzip member')}` : '';
  row('file', `${plural(e.fileSize, 'byte')}${members}${e.ratio === null ? '' : `, ratio ${ratioText(e.ratio)}`}`);
  if (e.actualHash !== null) {
    const same = e.declaredHash === e.actualHash;
    row('sha256', `compressed ${e.actualHash} ${same ? c.green('(matches the header)') : c.red('(the header says otherwise)')}`);
  }
  if (e.payloadHash !== null) {
    const note = !e.payloadHashChecked ? c.yellow('(not checked)') : e.verdict === 'PAYLOAD_HASH_MISMATCH' ? c.red('(does not match the signature)') : c.green('(matches the signature)');
    row(e.actualHash === null ? 'sha256' : '', `payload    ${e.payloadHash} ${note}`);
  }
  row('verdict', e.verdict === 'OK' ? `OK: ${ui.safe(e.message, 400)}` : c.red(`${e.verdict}: ${ui.safe(e.message, 400)}`));
  if (e.verdict === 'OK' && !e.payloadHashChecked) {
    const why = e.file === null ? 'standard input has no file name to carry a signature' : 'the file name carries no signature';
    ui.out(c.yellow(`  ⚠ payload hash NOT checked: ${why}. The envelope is intact, but its payload is not`));
    ui.out(c.yellow('    proven to be what Tracehound captured: anyone can skip this check by renaming the file.'));
    ui.out(c.yellow('    Pass --signature <category>:<sha256> (from the audit chain) to check it.'));
  }
  if (r.chain !== null) {
    renderChain(r.chain, ui);
    const records = e.records ?? [];
    if (records.length === 0) ui.out(c.yellow('  no chain record names this envelope'));
    for (const rec of records) ui.out(`  record ${recordLine(rec, ui)}  id ${ui.safe(rec.id, 80)}`);
  }
  ui.out();
  if (payload === undefined) {
    const why = e.payloadHash !== null ? 'larger than stax keeps in memory' : `the envelope failed (${e.verdict}) before its payload could be decompressed`;
    ui.out(c.dim(`payload not shown: ${why}`));
    return;
  }
  const kind =
    e.payloadJson === 'canonical' ? 'canonical JSON, as Tracehound writes it' : e.payloadJson === 'not-canonical' ? 'JSON, but not in the form Tracehound writes' : 'not JSON';
  const warn = e.verdict === 'OK' ? '' : c.red(' — from an envelope that failed its checks');
  ui.out(c.bold(`payload (${plural(payload.length, 'byte')}, ${kind})${warn}:`));
  // formatPayloadForTerminal neutralizes every line; nothing in the payload reaches the terminal raw.
  ui.out(formatPayload(payload, maxBytes));
}

async function inspectDirectory(target: string, options: Record<string, unknown>, ctx: RunContext): Promise<Outcome<InspectResult>> {
  const { scanDirectory, crossCheck, countVerdicts, matchesFilter, parseSortKey, parseVerdictFilter, sortEnvelopes } = await import('../../evidence/scan.js');
  const sort = options.sort === undefined ? 'name' : parseSortKey(String(options.sort));
  const verdict = options.verdict === undefined ? undefined : parseVerdictFilter(String(options.verdict));
  const category = str(options.category);
  const chain = await loadChainFor(str(options.chain), ctx, true);
  const progress = progressBar(ctx, 'envelopes');
  let scan;
  try {
    scan = await scanDirectory(resolve(ctx.io.cwd, target), { onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
  let envelopes = scan.envelopes.map((e) => ({ ...e, file: join(target, e.name ?? '') }));
  let chainCheck: ChainCheck | null = null;
  if (chain !== null) {
    const checked = crossCheck(envelopes, chain, true);
    envelopes = checked.envelopes as typeof envelopes;
    chainCheck = checked.chain;
  }
  const filter = { ...(category === undefined ? {} : { category }), ...(verdict === undefined ? {} : { verdict }) };
  const shown = sortEnvelopes(
    envelopes.filter((e) => matchesFilter(e, filter)),
    sort,
  );
  const counts = countVerdicts(envelopes);
  const result: InspectResult = {
    target,
    kind: 'directory',
    counts,
    envelopes: shown,
    filters: { category: category ?? null, verdict: verdict ?? null, sort },
    skipped: scan.skipped,
    otherFiles: scan.otherFiles,
    chain: chainCheck,
  };
  const exitCode: ExitCode = scan.skipped.some((s) => s.reason === 'unreadable')
    ? Exit.USAGE
    : counts.failed > 0 || (chainCheck !== null && !chainCheck.report.valid)
      ? Exit.CHECK_FAILED
      : Exit.OK;
  return { result, exitCode, render: renderDirectory };
}

function renderDirectory(r: InspectResult, ui: Ui): void {
  const { c } = ui;
  const withChain = r.chain !== null;
  if (r.chain !== null) renderChain(r.chain, ui);
  const failed = r.counts.failed > 0 ? c.red : c.green;
  ui.out(`${ui.safe(r.target)}: ${failed(countsText(r.counts))}`);
  if (r.envelopes.length > 0) {
    const head = ['signature', 'category', 'size', 'compressed', 'payload', 'ratio', 'verdict', ...(withChain ? ['chain records'] : [])];
    const rows = r.envelopes.map((e) => [
      envelopeLabel(e, ui),
      e.category ?? '-',
      String(e.fileSize),
      e.compressedSize === null ? '-' : String(e.compressedSize),
      e.originalSize === null ? '-' : String(e.originalSize),
      ratioText(e.ratio),
      verdictLabel(e.verdict, ui),
      ...(withChain ? [(e.records ?? []).length === 0 ? c.yellow('none') : (e.records ?? []).map((rec) => recordLine(rec, ui)).join('\n')] : []),
    ]);
    ui.out(ui.table(head, rows, { align: ['left', 'left', 'right', 'right', 'right', 'right', 'left', 'left'] }));
  }
  const hidden = r.counts.total - r.envelopes.length;
  if (hidden > 0 && r.filters !== null) {
    const by = [r.filters.category === null ? '' : `--category ${ui.safe(r.filters.category, 40)}`, r.filters.verdict === null ? '' : `--verdict ${r.filters.verdict}`].filter((s) => s !== '').join(' ');
    ui.out(c.dim(`${r.envelopes.length} shown, ${hidden} hidden by ${by}`));
  }
  // A failure hidden by a filter must still be visible somewhere.
  const shownFailures = r.envelopes.filter((e) => e.verdict !== 'OK');
  for (const e of shownFailures) ui.out(`${c.red(e.verdict)} ${ui.safe(e.name ?? '', 120)}: ${ui.safe(e.message, 300)}`);
  const hiddenFailures = r.counts.failed - shownFailures.length;
  if (hiddenFailures > 0) ui.out(c.red(`${plural(hiddenFailures, 'failed envelope')} not shown by the filters`));
  renderSkipped(r.skipped, ui);
  if (r.chain !== null) renderCrossCheck(r.chain, ui);
}

// ---------------------------------------------------------------------------------------
// stats

export interface StatsResult extends EvidenceStats {
  chain: ChainCheck | null;
}

export const statsCommand: CommandSpec = {
  name: 'stats',
  summary: 'count the envelopes of a quarantine folder by category and verdict',
  description:
    'Checks every *.thcs envelope of a folder (as inspect does) and counts envelopes and bytes by category and by verdict. ' +
    'Payload bytes are counted only for envelopes that verified: the sizes in a failed header are unproven claims. ' +
    'With --chain, the Tracehound audit chain is verified, its records are counted by type, the time span they cover is ' +
    'shown, and records without envelopes and envelopes without records are listed.',
  args: ['<dir>'],
  options: [{ flags: '--chain <file>', description: 'a Tracehound AuditChain export to verify and cross-check' }],
  examples: [
    { cmd: 'stats quarantine', says: 'envelopes and bytes by category and verdict' },
    { cmd: 'stats quarantine --chain audit_chain.json', says: 'the same, with the chain verified, its time span and the cross-check' },
    { cmd: 'stats quarantine --json', says: 'the counts as JSON' },
  ],
  exitCodes: { 0: 'every envelope is OK (and the chain, if given, is valid)', 1: 'an envelope failed a check, or the chain is invalid', 2: 'usage error, or the folder, an envelope or the chain cannot be read' },
  manPage: MAN('stats'),
  async run([dir], options, ctx) {
    const { scanDirectory, crossCheck, evidenceStats } = await import('../../evidence/scan.js');
    const target = dir!;
    const chain = await loadChainFor(str(options.chain), ctx, true);
    const progress = progressBar(ctx, 'envelopes');
    let scan;
    try {
      scan = await scanDirectory(resolve(ctx.io.cwd, target), { onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
    const stats = evidenceStats({ ...scan, directory: target });
    const chainCheck = chain === null ? null : crossCheck(scan.envelopes, chain, true).chain;
    const result: StatsResult = { ...stats, chain: chainCheck };
    const exitCode: ExitCode = stats.skipped.some((s) => s.reason === 'unreadable')
      ? Exit.USAGE
      : stats.counts.failed > 0 || (chainCheck !== null && !chainCheck.report.valid)
        ? Exit.CHECK_FAILED
        : Exit.OK;
    return { result, exitCode, render: renderStats };
  },
};

function renderStats(r: StatsResult, ui: Ui): void {
  const { c } = ui;
  const { total, ok, failed } = r.counts;
  const colour = failed > 0 ? c.red : c.green;
  ui.out(`${ui.safe(r.directory)}: ${colour(countsText(r.counts))}; ${plural(r.fileBytes, 'byte')} on disk, ${plural(r.payloadBytes, 'payload byte')} verified`);
  if (total > 0) {
    ui.out(c.bold('by category'));
    const rows = r.byCategory.map((s) => [s.category ?? '(no signature)', String(s.envelopes), String(s.ok), s.failed > 0 ? c.red(String(s.failed)) : '0', String(s.fileBytes), String(s.payloadBytes)]);
    rows.push(['total', String(total), String(ok), String(failed), String(r.fileBytes), String(r.payloadBytes)]);
    ui.out(ui.table(['category', 'envelopes', 'OK', 'failed', 'file bytes', 'payload bytes'], rows, { align: ['left', 'right', 'right', 'right', 'right', 'right'] }));
    ui.out(c.bold('by verdict'));
    const vrows = r.byVerdict.map((s) => [verdictLabel(s.verdict, ui), String(s.envelopes), String(s.fileBytes)]);
    ui.out(ui.table(['verdict', 'envelopes', 'file bytes'], vrows, { align: ['left', 'right', 'right'] }));
  }
  renderSkipped(r.skipped, ui);
  if (r.chain !== null) {
    renderChain(r.chain, ui);
    renderCrossCheck(r.chain, ui);
  }
}

// ---------------------------------------------------------------------------------------
// watch

export interface WatchResult extends WatchSummary {
  event: 'summary';
  stoppedBy: 'once' | 'timeout' | 'interrupted';
}

export const watchCommand: CommandSpec = {
  name: 'watch',
  summary: 'check each envelope as it lands in a quarantine folder',
  description:
    'Prints each *.thcs envelope that appears in (or changes in) a folder, with its verdict, until interrupted; the files ' +
    'already there are checked first. A file still being written is not judged: it is checked once its size has stayed ' +
    'the same for --settle seconds and it is as long as its header declares (78 + compressedSize). One that stops ' +
    'growing short of that is reported as TRUNCATED after --incomplete-after seconds. fs.watch events are backed by a ' +
    'rescan every second. Ctrl-C prints a summary line. With --json, one JSON object per event, then the summary.',
  args: ['<dir>'],
  options: [
    { flags: '--once', description: 'check what is in the folder (waiting for files still being written), then stop' },
    { flags: '--timeout <seconds>', description: 'stop after this many seconds' },
    { flags: '--settle <seconds>', description: 'how long a file size must stay unchanged before it is read (default 0.5)' },
    { flags: '--incomplete-after <seconds>', description: 'report a file that stays shorter than declared as TRUNCATED after this long (default 10)' },
  ],
  examples: [
    { cmd: 'watch /var/lib/tracehound/quarantine', says: 'report envelopes as Tracehound writes them, until Ctrl-C' },
    { cmd: 'watch quarantine --once --json', says: 'check what is there now, as JSON Lines' },
    { cmd: 'watch quarantine --timeout 60', says: 'watch for one minute' },
  ],
  exitCodes: {
    0: 'interrupted (always), or stopped with every envelope OK',
    1: 'stopped by --once or --timeout after an envelope failed',
    2: 'usage error, the folder cannot be read, or (with --once/--timeout) an envelope could not be read',
  },
  manPage: MAN('watch'),
  async run([dir], options, ctx) {
    const { watchEvidence } = await import('../../evidence/watch.js');
    const target = dir!;
    const { stat } = await import('node:fs/promises');
    const directory = resolve(ctx.io.cwd, target);
    try {
      if (!(await stat(directory)).isDirectory()) throw new StaxError('USAGE', 'is not a directory', { file: target });
    } catch (err) {
      throw err instanceof StaxError ? err : fileError(target, err);
    }
    const timeout = options.timeout === undefined ? undefined : parseSeconds('--timeout', options.timeout);
    const settle = options.settle === undefined ? 0.5 : parseSeconds('--settle', options.settle);
    const incompleteAfter = options.incompleteAfter === undefined ? 10 : parseSeconds('--incomplete-after', options.incompleteAfter);
    const controller = new AbortController();
    let stoppedBy: WatchResult['stoppedBy'] = options.once === true ? 'once' : 'interrupted';
    const onSignal = (): void => {
      stoppedBy = 'interrupted';
      controller.abort();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(() => {
            stoppedBy = 'timeout';
            controller.abort();
          }, timeout * 1000);
    if (ctx.ui.stderrIsTTY && !ctx.json) ctx.ui.err(ctx.ui.ce.dim(`watching ${ctx.ui.safe(target)} (Ctrl-C to stop)`));
    let summary: WatchSummary;
    try {
      summary = await watchEvidence(directory, {
        signal: controller.signal,
        once: options.once === true,
        settleMs: settle * 1000,
        incompleteAfterMs: incompleteAfter * 1000,
        onEvent: (ev) => {
          if (ctx.json) ctx.io.stdout.write(JSON.stringify(relabel(ev, target)) + '\n');
          else renderWatchEvent(relabel(ev, target), ctx.ui);
        },
      });
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const result: WatchResult = { event: 'summary', ...summary, directory: target, stoppedBy };
    const exitCode: ExitCode =
      stoppedBy === 'interrupted' ? Exit.OK : summary.unreadable > 0 ? Exit.USAGE : summary.failed > 0 ? Exit.CHECK_FAILED : Exit.OK;
    return { result, exitCode, render: renderWatchSummary, jsonLines: true };
  },
};

function relabel(ev: WatchEvent, target: string): WatchEvent {
  return ev.event === 'envelope' ? { ...ev, envelope: { ...ev.envelope, file: join(target, ev.name) } } : ev;
}

function renderWatchEvent(ev: WatchEvent, ui: Ui): void {
  const { c } = ui;
  if (ev.event === 'unreadable') {
    ui.out(`${ev.time}  ${c.red(`✘ UNREADABLE`)}  ${ui.safe(ev.name, 200)}: ${ui.safe(ev.message, 300)}`);
    return;
  }
  const e = ev.envelope;
  const what = e.signature !== null && e.signatureSource === 'name' ? `${e.signature.category}:${short(e.signature.hash)}` : ui.safe(ev.name, 120);
  const notes = [plural(e.fileSize, 'byte'), ...(ev.change === 'changed' ? ['changed since last seen'] : []), ...(ev.incomplete ? [`stopped growing short of its declared length`] : [])];
  ui.out(`${ev.time}  ${verdictLabel(e.verdict, ui)}  ${what}  (${notes.join(', ')})`);
  if (e.verdict !== 'OK') ui.out(`    ${ui.safe(e.message, 300)}`);
}

function renderWatchSummary(r: WatchResult, ui: Ui): void {
  const why = { once: 'done', timeout: 'timed out', interrupted: 'interrupted' }[r.stoppedBy];
  const failures = Object.entries(r.byVerdict)
    .filter(([v]) => v !== 'OK')
    .map(([v, n]) => `${v} ${n}`);
  const unreadable = r.unreadable > 0 ? `, ${r.unreadable} unreadable` : '';
  ui.out(
    `${why} after ${formatDuration(r.durationMs)}: ${plural(r.envelopes, 'envelope')}, ${r.ok} OK, ${r.failed} failed${failures.length > 0 ? ` (${failures.join(', ')})` : ''}${unreadable}`,
  );
  if (r.pending.length > 0) ui.out(ui.c.yellow(`still being written, not checked: ${r.pending.map((n) => ui.safe(n, 120)).join(', ')}`));
}

// ---------------------------------------------------------------------------------------
// bundle

export const bundleCommand: CommandSpec = {
  name: 'bundle',
  summary: 'write a case manifest of a quarantine folder that stax verify can check',
  description:
    'Checks every *.thcs envelope of a folder and writes a case manifest: for each envelope its name, sizes, the SHA-256 of ' +
    'the file, of its compressed bytes and of its payload, its verdict and its chain records; and for the audit chain ' +
    'its file hash, length, head hash and validity, and the records no envelope answers to. Who made it (--examiner) and ' +
    'when are recorded in every entry. The manifest is a stax chain v1 document of kind "case", so `stax verify case.json` ' +
    'detects any later change. It is written atomically (a synced temporary file, then renamed) and never replaces an ' +
    'existing file without --force.',
  args: ['<dir>'],
  options: [
    { flags: '--out <file>', description: 'the manifest to write (required)' },
    { flags: '--chain <file>', description: 'a Tracehound AuditChain export to verify, cross-check and record' },
    { flags: '--examiner <name>', description: 'who makes the case (default: $STAX_ACTOR, else the user name)' },
    { flags: '--force', description: 'replace --out if it exists' },
  ],
  examples: [
    { cmd: 'bundle quarantine --chain audit_chain.json --out case.json', says: 'write the case manifest' },
    { cmd: 'bundle quarantine --chain audit_chain.json --out case.json --examiner "J. Doe"', says: 'record who made it' },
    { cmd: 'verify case.json', says: 'check the manifest later' },
  ],
  exitCodes: {
    0: 'written; every envelope is OK and the chain is valid',
    1: 'written, but an envelope failed a check or the chain is invalid (the manifest records it)',
    2: 'not written: usage error, --out exists, or the folder, an envelope or the chain cannot be read',
  },
  manPage: MAN('bundle'),
  async run([dir], options, ctx) {
    const { bundleCase } = await import('../../evidence/bundle.js');
    const { defaultActor } = await import('../../trail/paths.js');
    const out = str(options.out);
    if (out === undefined) throw new StaxError('USAGE', "required option '--out <file>' not specified");
    const examiner = str(options.examiner) ?? defaultActor(ctx.io.env);
    const progress = progressBar(ctx, 'envelopes');
    let result: BundleResult;
    try {
      result = await bundleCase({
        directory: dir!,
        ...(str(options.chain) === undefined ? {} : { chain: str(options.chain)! }),
        out,
        examiner,
        force: options.force === true,
        onProgress: progress.onProgress,
        cwd: ctx.io.cwd,
      });
    } finally {
      progress.stop();
    }
    const exitCode: ExitCode = result.counts.failed > 0 || (result.chain !== null && !result.chain.valid) ? Exit.CHECK_FAILED : Exit.OK;
    return { result, exitCode, render: renderBundle };
  },
};

function renderBundle(r: BundleResult, ui: Ui): void {
  const { c } = ui;
  ui.out(`${c.green('✔ wrote')} ${ui.safe(r.out)}: ${plural(r.entries, 'entry', 'entries')} (stax chain v1, kind case), head ${r.head}`);
  const failed = r.counts.failed > 0 ? c.red : (s: string): string => s;
  ui.out(`  envelopes  ${failed(countsText(r.counts))}`);
  if (r.chain !== null) {
    const valid = r.chain.valid ? c.green('valid') : c.red('INVALID');
    ui.out(`  chain      ${ui.safe(r.chain.file)}: ${valid}, ${plural(r.chain.records, 'record')}${r.chain.head === null ? '' : `, head ${r.chain.head}`}`);
    ui.out(`  cross-check  ${r.recordsWithoutEnvelope} records without an envelope, ${r.envelopesWithoutRecord} envelopes without a record`);
  }
  renderSkipped(r.skipped, ui);
  ui.out(`  examiner   ${ui.safe(r.examiner, 200)}, ${r.created}`);
  ui.out(c.dim(`check it with: ${ui.io.programName} verify ${ui.safe(r.out)}`));
}
