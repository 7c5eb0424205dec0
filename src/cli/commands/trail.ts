import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { Exit, StaxError } from '../../errors.js';
import type { TornTail } from '../../trail/repair.js';

export const trailRepairCommand: CommandSpec = {
  name: 'trail repair',
  summary: 'remove a torn last line left by a crashed writer',
  description:
    'A writer killed in the middle of an append can leave an incomplete last line. repair removes exactly those bytes ' +
    '(or, when they already form a complete entry that lost only its newline, adds the newline). It never removes a complete entry, ' +
    'asks before changing the file, and works under the trail lock.',
  args: ['[file]'],
  options: [{ flags: '-y, --yes', description: 'repair without asking (for scripts)' }],
  examples: [
    { cmd: 'trail repair .stax/trail.jsonl', says: 'show the torn bytes and ask before removing them' },
    { cmd: 'trail repair --yes --json', says: 'repair the default trail in a script' },
  ],
  exitCodes: { 0: 'nothing to repair, or repaired', 1: 'not repaired (declined)', 2: 'unreadable file, or not a terminal and no --yes' },
  manPage: 'stax-trail',
  async run([file], options, ctx) {
    const { findTornTail, repairTornTail } = await import('../../trail/repair.js');
    const { defaultTrailPath } = await import('../../trail/paths.js');
    const { confirm } = await import('../prompt.js');
    const path = file === undefined ? defaultTrailPath(ctx.io.cwd) : resolve(ctx.io.cwd, file);
    const tail = findTornTail(path);
    const render = (r: TornTail & { repaired: boolean }, ui: import('../output.js').Ui): void => {
      if (r.action === 'none') ui.out(`nothing to repair: ${ui.safe(r.file)} ends with a complete line`);
      else if (!r.repaired) ui.out(`not repaired: ${ui.safe(r.file)} still ends with ${r.tornBytes} torn bytes`);
      else if (r.action === 'truncate') ui.out(`removed ${r.tornBytes} torn bytes at offset ${r.offset} from ${ui.safe(r.file)}`);
      else ui.out(`added the missing newline after a complete last entry in ${ui.safe(r.file)}`);
    };
    if (tail.action === 'none') return { result: { ...tail, repaired: false }, exitCode: Exit.OK, render };
    if (options.yes !== true) {
      const what = tail.action === 'truncate' ? `Remove ${tail.tornBytes} torn bytes ("${ctx.ui.safe(tail.preview, 80)}") from the end of ${path}?` : `Add the missing newline after the complete last entry of ${path}?`;
      const yes = await confirm(ctx, what, '--yes');
      if (!yes) return { result: { ...tail, repaired: false }, exitCode: Exit.CHECK_FAILED, render };
    }
    const done = await repairTornTail(tail);
    return { result: { ...done, repaired: true }, exitCode: Exit.OK, render };
  },
};

export const trailShowCommand: CommandSpec = {
  name: 'trail show',
  summary: 'list the entries of a trail, verified as they are read',
  description:
    'Prints a table of entries (sequence, time, actor, action, payload summary), filtered by action glob, actor and time. ' +
    'The chain is verified in the same pass: a trail that does not verify is shown with a warning and exit code 1. ' +
    'Text from the trail is escaped: control characters and escape sequences never reach the terminal raw.',
  args: ['[file]'],
  options: [
    { flags: '--action <glob>', description: 'only actions matching this glob (* and ?)' },
    { flags: '--actor <id>', description: 'only entries by this actor' },
    { flags: '--since <time>', description: 'only entries at or after this time (ISO 8601, or 30m, 12h, 7d ago)' },
    { flags: '--until <time>', description: 'only entries at or before this time' },
    { flags: '--limit <n>', description: 'at most n entries' },
    { flags: '--reverse', description: 'newest first' },
    { flags: '--jsonl', description: 'print the matching entries as JSON Lines' },
  ],
  examples: [
    { cmd: 'trail show', says: 'every entry of .stax/trail.jsonl' },
    { cmd: "trail show audit.jsonl --action 'http.*' --since 12h --reverse --limit 20", says: 'the latest 20 HTTP entries of the last 12 hours' },
  ],
  exitCodes: { 0: 'shown, and the trail verifies', 1: 'shown, but the trail does not verify', 2: 'unreadable file or bad option' },
  manPage: 'stax-trail',
  async run([file], options, ctx) {
    const { showTrail, parseTime } = await import('../../trail/show.js');
    const { defaultTrailPath } = await import('../../trail/paths.js');
    const path = file === undefined ? defaultTrailPath(ctx.io.cwd) : file === '-' ? '-' : resolve(ctx.io.cwd, file);
    const limit = options.limit === undefined ? undefined : Number(options.limit);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new StaxError('USAGE', `--limit must be a whole number, not "${String(options.limit)}"`);
    const result = await showTrail(path, {
      action: options.action as string | undefined,
      actor: options.actor as string | undefined,
      since: options.since === undefined ? undefined : parseTime(options.since as string),
      until: options.until === undefined ? undefined : parseTime(options.until as string),
      limit,
      reverse: options.reverse === true,
      stdin: ctx.io.stdin,
    });
    const jsonl = options.jsonl === true;
    return {
      result,
      exitCode: result.valid ? Exit.OK : Exit.CHECK_FAILED,
      render(r: typeof result, ui) {
        if (jsonl) {
          for (const e of r.entries) ui.out(JSON.stringify(e));
          return;
        }
        const rows = r.entries.map((e) => [String(e.seq), e.ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), ui.safe(e.actor, 24), ui.safe(e.action, 32), ui.safe(summarize(e.payload), 60)]);
        if (rows.length > 0) ui.out(ui.table(['seq', 'time', 'actor', 'action', 'payload'], rows, { align: ['right', 'left', 'left', 'left', 'left'] }));
        ui.out(`${r.entries.length} shown, ${r.matched} matched, ${r.total} in ${ui.safe(r.file)}`);
        if (!r.valid) ui.err(ui.ce.red(`warning: ${ui.safe(r.file)} does not verify (${r.problems[0]?.code ?? 'problems'} at entry ${r.problems[0]?.index ?? '?'}); run 'stax verify' for the full report`));
      },
    };
  },
};

function summarize(payload: unknown): string {
  if (payload === null || payload === undefined) return '';
  const text = JSON.stringify(payload);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

export const trailExportCommand: CommandSpec = {
  name: 'trail export',
  summary: 'write a trail as one JSON document',
  description:
    'Writes the single-document JSON form of a stax chain (header fields plus an "entries" array), which verifies identically. ' +
    'The trail is verified first: nothing is written for a trail that does not verify unless --force is given. The output file appears atomically.',
  args: ['[file]'],
  options: [
    { flags: '-o, --out <file>', description: 'output file (default: standard output)' },
    { flags: '--force', description: 'write even if the trail does not verify, and replace an existing output file' },
  ],
  examples: [{ cmd: 'trail export .stax/trail.jsonl --out trail.json', says: 'hand a trail over as one JSON file' }],
  exitCodes: { 0: 'exported', 1: 'the trail does not verify (nothing written without --force)', 2: 'unreadable input or output exists' },
  manPage: 'stax-trail',
  async run([file], options, ctx) {
    const { exportTrail } = await import('../../trail/export.js');
    const { defaultTrailPath } = await import('../../trail/paths.js');
    const path = file === undefined ? defaultTrailPath(ctx.io.cwd) : resolve(ctx.io.cwd, file);
    const out = options.out === undefined || options.out === '-' ? undefined : resolve(ctx.io.cwd, options.out as string);
    const toStdout = out === undefined;
    if (toStdout && ctx.json) throw new StaxError('USAGE', '--json needs --out: the export itself would go to standard output');
    const r = await exportTrail(path, { out, stdout: ctx.io.stdout, force: options.force === true });
    const { report: _report, ...result } = r;
    return {
      result: { ...result, problems: r.report.problems },
      exitCode: r.valid ? Exit.OK : Exit.CHECK_FAILED,
      render(res: typeof result & { problems: unknown[] }, ui) {
        if (!res.valid) ui.err(`${res.written ? 'exported anyway (--force)' : 'not exported'}: ${ui.safe(res.file)} does not verify; run 'stax verify' for the report`);
        if (res.written && !toStdout) ui.out(`exported ${res.entries} entries to ${ui.safe(res.out)}`);
      },
    };
  },
};

export const trailImportCommand: CommandSpec = {
  name: 'trail import',
  summary: 'turn a TrailStax trail export into a stax chain',
  description:
    'Verifies a TrailStax trail export, then writes it as a new stax chain: one entry per original entry, each keeping the ' +
    "original entry_id, entry_hash, sequence and exact timestamp as provenance. Nothing is written if the export does not verify.",
  args: ['<file>'],
  options: [
    { flags: '-o, --out <file>', description: 'the new stax chain file (required)' },
    { flags: '--origin <name>', description: 'origin of the new chain (default: trailstax/<agent_id>)' },
    { flags: '--force', description: 'replace an existing output file' },
  ],
  examples: [{ cmd: 'trail import session_trail.json --out .stax/recon.jsonl', says: 'import a TrailStax session, keeping the original hashes' }],
  exitCodes: { 0: 'imported', 1: 'the export does not verify (nothing written)', 2: 'unreadable input, not a TrailStax trail, or output exists' },
  manPage: 'stax-trail',
  async run([file], options, ctx) {
    const { importTrailStax } = await import('../../trail/import.js');
    if (typeof options.out !== 'string') throw new StaxError('USAGE', 'name the new chain with --out FILE');
    const r = await importTrailStax(resolve(ctx.io.cwd, file!), { out: resolve(ctx.io.cwd, options.out), origin: options.origin as string | undefined, force: options.force === true });
    return {
      result: r,
      exitCode: r.written ? Exit.OK : Exit.CHECK_FAILED,
      render(res: typeof r, ui) {
        if (res.written) ui.out(`imported ${res.entries} entries into ${ui.safe(res.out)} (head ${res.head})`);
        else ui.out(`not imported: ${ui.safe(res.file)} does not verify (${res.source.problems[0]?.code ?? ''} at entry ${res.source.firstBad ?? '-'}); run 'stax verify' for the report`);
      },
    };
  },
};
