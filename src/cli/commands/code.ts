import type { CommandSpec, GroupSpec, OptionSpec, RunContext } from '../command.js';
import type { Ui } from '../output.js';
import { Exit, StaxError } from '../../errors.js';
import type { RegisterResult, RevokeResult } from '../../codebank/register.js';
import type { CodeVerifyResult } from '../../codebank/result.js';
import type { Commit } from '../../codebank/bank.js';
import type { Progress } from '../../codebank/pool.js';
import type { Rebase } from '../../codebank/trailstax.js';

const bankOption: OptionSpec = { flags: '--bank <file>', description: 'the code bank (default: .stax/codebank.jsonl)' };
const rootOption: OptionSpec = { flags: '--root <dir>', description: "the folder labels are relative to (default: the folder holding .stax/, else the current folder)" };
const followOption: OptionSpec = { flags: '--follow-symlinks', description: 'hash what symlinks point to and enter linked folders (default: record links as links)' };
const jobsOption: OptionSpec = { flags: '--jobs <n>', description: 'threads to hash on (default: 2; 1 hashes in the main thread)', hidden: true };
const contentOption = (what: string): OptionSpec => ({ flags: '--content <label[=text]>', description: `${what} inline content under LABEL; without =TEXT, the text is read from standard input`, repeatable: true });

export const codeGroup: GroupSpec = { name: 'code', summary: 'register code and check it before it runs (a hash-chained code bank)', manPage: 'stax-code' };

export const codeRegisterCommand: CommandSpec = {
  name: 'code register',
  summary: 'register files, folders and globs in the code bank',
  description:
    'Hashes each file (sha512 and sha256, as an SRI string) and appends one commit per new or changed label to the code bank, ' +
    'a stax chain of kind codebank, in one locked, synced append. Labels are paths relative to the bank\'s root, never bare file ' +
    'names. Folders are walked recursively; quoted globs (*, **, ?) are expanded by stax. An unchanged file is reported as ' +
    'unchanged and adds nothing; history is kept (see stax code log). Symlinks are recorded as links unless --follow-symlinks; ' +
    'FIFOs, sockets and devices are skipped.',
  args: ['[path...]'],
  options: [
    bankOption,
    rootOption,
    { flags: '--label <label>', description: 'label a single file with this instead of its path' },
    { flags: '--meta <key=value>', description: 'metadata recorded with each commit (repeatable)', repeatable: true },
    contentOption('register'),
    followOption,
    { flags: '--actor <id>', description: 'who registers (default: $STAX_ACTOR, else the user name)' },
    { flags: '--no-fsync', description: 'do not wait for the disk (faster; an append may be lost in a power cut)' },
    jobsOption,
  ],
  examples: [
    { cmd: 'code register agents/', says: 'register every file under agents/ in .stax/codebank.jsonl' },
    { cmd: "code register 'agents/**/*.py' --meta version=1.2.0", says: 'register the Python files matched by a glob, with metadata' },
    { cmd: "code register --content firewall.rule='deny all'", says: 'register inline content under a label' },
  ],
  exitCodes: { 0: 'every file was registered (or was unchanged)', 1: 'some file was unreadable or changed while it was hashed, or the bank is tampered', 2: 'a path does not exist, or a bad option' },
  manPage: 'stax-code',
  async run(paths, options, ctx) {
    const { registerCode } = await import('../../codebank/register.js');
    const { locateBank } = await import('../../codebank/bank.js');
    const { defaultActor, defaultOrigin } = await import('../../trail/paths.js');
    const { bank, root } = locateBank(ctx.io.cwd, options.bank as string | undefined, options.root as string | undefined);
    const progress = progressBar(ctx.ui, 'hashing');
    try {
      const result = await registerCode({
        bank,
        root,
        cwd: ctx.io.cwd,
        paths,
        label: options.label as string | undefined,
        meta: parseMeta(options.meta),
        contents: await parseContents(options.content, ctx),
        followSymlinks: options.followSymlinks === true,
        threads: parseJobs(options.jobs),
        actor: (options.actor as string | undefined) ?? defaultActor(ctx.io.env),
        origin: defaultOrigin(root, 'codebank'),
        durability: options.fsync === false ? 'none' : 'fsync',
        onProgress: progress.update,
      });
      return { result, exitCode: result.ok ? Exit.OK : Exit.CHECK_FAILED, render: renderRegister };
    } finally {
      progress.done();
    }
  },
};

export const codeVerifyCommand: CommandSpec = {
  name: 'code verify',
  summary: "verify the code bank's chain, then every registered file",
  description:
    "Verifies the bank's own chain first: a tampered bank is reported as such and no verdict about files is given. Then re-hashes " +
    'every registered label and reports it as ok, modified (old and new digest and size), missing, moved (its content is now at an ' +
    'unregistered path under a registered folder), unreadable or changed-during-hash, and lists files under registered folders ' +
    'that were never registered (new). Revoked labels are not reported as missing. A TrailStax code bank export (codebank.json) ' +
    'is detected and checked as TrailStax does, by label, with label collisions reported; --rebase re-roots its absolute paths.',
  args: ['[path...]'],
  options: [
    bankOption,
    rootOption,
    { flags: '--rebase <old=new>', description: 'TrailStax exports: check files recorded under OLD in the local folder NEW (repeatable)', repeatable: true },
    contentOption('check'),
    followOption,
    { flags: '--all', description: 'list ok labels too (by default only the others are listed, with a count of the ok ones)' },
    jobsOption,
  ],
  examples: [
    { cmd: 'code verify', says: 'check every registered file against .stax/codebank.jsonl' },
    { cmd: 'code verify agents/recon --json', says: 'check only labels under agents/recon, as JSON' },
    { cmd: 'code verify --bank codebank.json --rebase /srv/recon-agent/agents=./agents', says: 'check a TrailStax export against a local copy of the files' },
  ],
  exitCodes: { 0: 'the bank verifies and every label is ok', 1: 'the bank is tampered, or some file is modified, missing, moved, new or unreadable', 2: 'no bank, an unknown format, or a bad option' },
  manPage: 'stax-code',
  async run(paths, options, ctx) {
    const { verifyCode } = await import('../../codebank/verify.js');
    const { locateBank } = await import('../../codebank/bank.js');
    const { bank, root } = locateBank(ctx.io.cwd, options.bank as string | undefined, options.root as string | undefined);
    const progress = progressBar(ctx.ui, 'verifying');
    try {
      const result = await verifyCode({
        bank,
        root,
        cwd: ctx.io.cwd,
        paths,
        followSymlinks: options.followSymlinks === true,
        threads: parseJobs(options.jobs),
        contents: await parseContents(options.content, ctx),
        rebase: parseRebase(options.rebase),
        onProgress: progress.update,
        stdin: ctx.io.stdin,
      });
      const all = options.all === true;
      return { result, exitCode: result.ok ? Exit.OK : Exit.CHECK_FAILED, render: (r: CodeVerifyResult, ui: Ui) => renderVerify(r, ui, all) };
    } finally {
      progress.done();
    }
  },
};

export interface CodeLogResult {
  bank: string;
  label: string;
  commits: Commit[];
}

export const codeLogCommand: CommandSpec = {
  name: 'code log',
  summary: "show a label's history in the code bank",
  description: "Verifies the bank's chain, then lists every commit of one label, oldest first: when, by whom, and the digest and size registered.",
  args: ['<label>'],
  options: [bankOption, rootOption],
  examples: [
    { cmd: 'code log agents/recon/utils.py', says: 'every registration of one file' },
    { cmd: 'code log firewall.rule --json', says: 'the history of inline content, as JSON' },
  ],
  exitCodes: { 0: 'the history was shown', 1: 'the bank is tampered', 2: 'no bank, or no such label' },
  manPage: 'stax-code',
  async run([label], options, ctx) {
    const { locateBank, openBank, readStaxBank } = await import('../../codebank/bank.js');
    const { untrusted } = await import('../../codebank/register.js');
    const { bank } = locateBank(ctx.io.cwd, options.bank as string | undefined, options.root as string | undefined);
    const opened = await openBank(bank, ctx.io.stdin);
    if (opened.format !== 'stax') throw new StaxError('USAGE', 'code log reads stax code banks; for a TrailStax export, use stax code verify or stax verify', { file: bank });
    const state = await readStaxBank(opened);
    if (!state.trusted) throw untrusted(state, bank);
    const commits = state.history.get(label!);
    if (commits === undefined) throw new StaxError('USAGE', `no label ${JSON.stringify(label)} in the bank (labels are paths relative to the bank's root)`, { file: bank });
    const result: CodeLogResult = { bank, label: label!, commits };
    return { result, exitCode: Exit.OK, render: renderLog };
  },
};

export const codeRevokeCommand: CommandSpec = {
  name: 'code revoke',
  summary: 'record that registered code is no longer approved',
  description:
    'Appends a code.revoke commit for each label. History is kept; stax code verify then reports the label as revoked, ' +
    'not missing, and fails if its file is still there.',
  args: ['<label...>'],
  options: [
    bankOption,
    rootOption,
    { flags: '--reason <text>', description: 'why, recorded with the commit' },
    { flags: '--actor <id>', description: 'who revokes (default: $STAX_ACTOR, else the user name)' },
    { flags: '--no-fsync', description: 'do not wait for the disk' },
  ],
  examples: [
    { cmd: 'code revoke agents/old_scanner.py --reason "replaced by scanner2"', says: 'revoke one label' },
  ],
  exitCodes: { 0: 'revoked (or already revoked)', 1: 'the bank is tampered', 2: 'no bank, or no such label' },
  manPage: 'stax-code',
  async run(labels, options, ctx) {
    const { revokeCode } = await import('../../codebank/register.js');
    const { locateBank } = await import('../../codebank/bank.js');
    const { defaultActor } = await import('../../trail/paths.js');
    const { bank } = locateBank(ctx.io.cwd, options.bank as string | undefined, options.root as string | undefined);
    const result = await revokeCode({
      bank,
      labels,
      actor: (options.actor as string | undefined) ?? defaultActor(ctx.io.env),
      reason: options.reason as string | undefined,
      durability: options.fsync === false ? 'none' : 'fsync',
    });
    return { result, exitCode: Exit.OK, render: renderRevoke };
  },
};

export const codeCommands: CommandSpec[] = [codeRegisterCommand, codeVerifyCommand, codeLogCommand, codeRevokeCommand];

// ---- parsing -------------------------------------------------------------------------

export function parseMeta(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const meta: Record<string, string> = {};
  for (const item of value as string[]) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new StaxError('USAGE', `--meta takes key=value, not ${JSON.stringify(item)}`);
    Object.defineProperty(meta, item.slice(0, eq), { value: item.slice(eq + 1), enumerable: true, writable: true, configurable: true });
  }
  return meta;
}

export function parseRebase(value: unknown): Rebase[] {
  return ((value as string[] | undefined) ?? []).map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) throw new StaxError('USAGE', `--rebase takes OLD=NEW (an absolute path recorded in the export, and a local folder), not ${JSON.stringify(item)}`);
    return { from: item.slice(0, eq), to: item.slice(eq + 1) };
  });
}

export function parseJobs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 64) throw new StaxError('USAGE', `--jobs takes a number from 1 to 64, not ${JSON.stringify(value)}`);
  return n;
}

async function parseContents(value: unknown, ctx: RunContext): Promise<Array<{ label: string; text: string }>> {
  const out: Array<{ label: string; text: string }> = [];
  let usedStdin = false;
  for (const item of (value as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    if (eq === 0) throw new StaxError('USAGE', '--content needs a label: --content LABEL=TEXT, or --content LABEL with the text on standard input');
    if (eq > 0) {
      out.push({ label: item.slice(0, eq), text: item.slice(eq + 1) });
      continue;
    }
    if (usedStdin) throw new StaxError('USAGE', 'only one --content can read standard input; give the others as LABEL=TEXT');
    if (ctx.io.stdin.isTTY === true) throw new StaxError('USAGE', `--content ${item}: pipe the text on standard input, or give it as ${item}=TEXT`);
    usedStdin = true;
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    out.push({ label: item, text: Buffer.concat(chunks).toString('utf8') });
  }
  return out;
}

// ---- progress ------------------------------------------------------------------------

const PROGRESS_DELAY_MS = 300;
const PROGRESS_EVERY_MS = 100;

/**
 * A progress bar on stderr, for a terminal only, and only once a run has taken longer
 * than 300 ms (short runs print nothing extra).
 */
export function progressBar(ui: Ui, verb: string, now: () => number = Date.now): { update(p: Progress): void; done(): void } {
  const start = now();
  let last = 0;
  let drawn = false;
  const stream = ui.io.stderr;
  return {
    update(p) {
      if (!ui.stderrIsTTY) return;
      const t = now();
      if (t - start < PROGRESS_DELAY_MS || (t - last < PROGRESS_EVERY_MS && p.done < p.total)) return;
      last = t;
      drawn = true;
      const width = 24;
      const fill = p.total === 0 ? width : Math.round((p.done / p.total) * width);
      const bar = '#'.repeat(fill) + '.'.repeat(width - fill);
      const pct = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
      stream.write(`\r${verb} [${bar}] ${pct}%  ${p.done}/${p.total} files  ${formatBytes(p.bytes)}\x1b[K`);
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

// ---- rendering -----------------------------------------------------------------------

/** Above this many rows, plain columns: cli-table3 took 15 s to draw 20,000 rows. */
const BOXED_ROWS = 200;
const ANSI = /\x1b\[[0-9;]*m/g;

/** A table: boxed for a screenful, plain aligned columns for thousands of rows. */
export function listTable(ui: Ui, head: string[], rows: string[][], align: Array<'left' | 'right'>): string {
  // align is always passed: cli-table3 throws on an undefined colAligns.
  if (rows.length <= BOXED_ROWS) return ui.table(head, rows, { align });
  const width = (s: string): number => s.replace(ANSI, '').length;
  const widths = head.map((h, col) => Math.max(h.length, ...rows.map((r) => width(r[col] ?? ''))));
  const line = (cells: string[]): string =>
    cells
      .map((cell, col) => {
        const pad = ' '.repeat(Math.max(0, widths[col]! - width(cell)));
        return align[col] === 'right' ? pad + cell : col === cells.length - 1 ? cell : cell + pad;
      })
      .join('  ');
  return [line(head.map((h) => ui.c.bold(h))), ...rows.map(line)].join('\n');
}

function digestCell(integrity: string | undefined): string {
  if (integrity === undefined || integrity === '') return '';
  const first = integrity.split(/\s+/)[0] ?? '';
  const dash = first.indexOf('-');
  return `${first.slice(0, dash + 1)}${first.slice(dash + 1, dash + 17)}…`;
}

export function renderRegister(r: RegisterResult, ui: Ui): void {
  const { c } = ui;
  const colour: Record<string, (s: string) => string> = { added: c.green, updated: c.yellow, unchanged: c.dim, unreadable: c.red, 'changed-during-hash': c.red, skipped: c.dim };
  const rows = r.items.map((i) => {
    const label = ui.safe(i.label ?? i.path ?? '');
    const shown = i.label !== null && i.path !== null && i.label !== i.path ? `${label} (${ui.safe(i.path)})` : label;
    let detail = i.reason !== undefined ? ui.safe(i.reason, 200) : '';
    if (i.previous !== undefined) detail = `was seq ${i.previous.seq}: ${digestCell(i.previous.integrity)} ${i.previous.size} B`;
    if (i.type === 'symlink' && i.target !== undefined) detail = `symlink → ${ui.safe(i.target, 200)}${detail === '' ? '' : `; ${detail}`}`;
    return [(colour[i.status] ?? ((s: string) => s))(i.status), shown, digestCell(i.integrity), i.size === undefined ? '' : String(i.size), detail];
  });
  if (rows.length > 0) ui.out(listTable(ui, ['status', 'label', 'digest', 'size', 'detail'], rows, ['left', 'left', 'left', 'right', 'left']));
  const n = r.counts;
  const parts = [`${n.added} added`, `${n.updated} updated`, `${n.unchanged} unchanged`];
  if (n.unreadable > 0) parts.push(c.red(`${n.unreadable} unreadable`));
  if (n['changed-during-hash'] > 0) parts.push(c.red(`${n['changed-during-hash']} changed while hashed`));
  if (n.skipped > 0) parts.push(`${n.skipped} skipped`);
  const seqs = r.items.flatMap((i) => (i.status === 'added' || i.status === 'updated') && i.seq !== undefined ? [i.seq] : []);
  const range = seqs.length === 0 ? 'nothing appended' : `${r.appended} ${r.appended === 1 ? 'commit' : 'commits'} appended, seq ${Math.min(...seqs)}${seqs.length > 1 ? `–${Math.max(...seqs)}` : ''}`;
  ui.out(`${r.ok ? c.green('✔') : c.red('✘')} ${parts.join(', ')}  (${range} to ${ui.safe(r.bank)})`);
}

export function renderVerify(r: CodeVerifyResult, ui: Ui, all = false): void {
  const { c } = ui;
  const title = r.format === 'stax' ? 'stax code bank' : 'TrailStax code bank export';
  if (!r.trusted) {
    ui.out(`${c.red('✘ bank tampered')}  ${ui.safe(r.bank)}  (${title}): its chain does not verify, so no verdict about files is given`);
    const rows = r.chain.problems.map((p) => [p.index === null ? '-' : String(p.index), c.red(p.code), ui.safe(p.message, 300)]);
    ui.out(ui.table(['entry', 'code', 'problem'], rows, { align: ['right', 'left', 'left'] }));
    if (r.chain.problemCount > r.chain.problems.length) ui.out(`  … and ${r.chain.problemCount - r.chain.problems.length} more`);
    return;
  }
  const commits = `${r.chain.entries} ${r.chain.entries === 1 ? 'commit' : 'commits'}`;
  ui.out(`${c.green('✔ bank valid')}  ${ui.safe(r.bank)}  (${title}, ${commits}${r.chain.head === null ? '' : `, head ${r.chain.head.slice(0, 12)}…`})`);
  const colour = (status: string, ok: boolean): string => (status === 'ok' ? c.green(status) : ok ? c.dim(status) : c.red(status));
  const shown = all ? r.items : r.items.filter((i) => i.status !== 'ok');
  const trailstax = r.format === 'trailstax-codebank';
  const rows = shown.map((i) => {
    const label = i.label === null ? ui.safe(i.path ?? '') : i.path !== null && i.path !== i.label && !trailstax ? `${ui.safe(i.label)} (${ui.safe(i.path)})` : ui.safe(i.label);
    const row = [colour(i.status, i.ok), label];
    if (trailstax) row.push(ui.safe(displayPath(ui, i.checked ?? i.path ?? ''), 120));
    row.push(ui.safe(i.detail, 300));
    return row;
  });
  const head = trailstax ? ['status', 'label', 'file', 'detail'] : ['status', 'label', 'detail'];
  if (rows.length > 0) ui.out(listTable(ui, head, rows, head.map(() => 'left' as const)));
  for (const note of r.notes) ui.out(c.dim(`  note: ${ui.safe(note, 300)}`));
  if (r.chain.limits.length > 0) ui.out(c.dim(`  the bank's chain alone cannot detect: ${r.chain.limits.map((l) => l.threat).join(', ')} (stax verify explains)`));
  const order = ['ok', 'modified', 'missing', 'moved', 'new', 'revoked', 'unreadable', 'changed-during-hash', 'inline', 'collision'] as const;
  const summary = order.filter((s) => (r.counts[s] ?? 0) > 0).map((s) => `${r.counts[s]} ${s}`).join(', ');
  ui.out(`${r.ok ? c.green('✔') : c.red('✘')} ${summary === '' ? 'nothing registered' : summary}`);
}

function displayPath(ui: Ui, p: string): string {
  const cwd = ui.io.cwd.endsWith('/') ? ui.io.cwd : `${ui.io.cwd}/`;
  return p.startsWith(cwd) ? p.slice(cwd.length) : p;
}

export function renderLog(r: CodeLogResult, ui: Ui): void {
  const rows = r.commits.map((cm) => [
    String(cm.seq),
    ui.safe(cm.ts),
    ui.safe(cm.actor, 60),
    cm.action === 'code.revoke' ? ui.c.yellow(`revoke${cm.reason === undefined ? '' : `: ${ui.safe(cm.reason, 80)}`}`) : 'register',
    digestCell(cm.record?.integrity),
    cm.record === undefined ? '' : String(cm.record.size),
  ]);
  ui.out(`${ui.safe(r.label)} in ${ui.safe(r.bank)}: ${r.commits.length} ${r.commits.length === 1 ? 'commit' : 'commits'}`);
  ui.out(listTable(ui, ['seq', 'time', 'actor', 'event', 'digest', 'size'], rows, ['right', 'left', 'left', 'left', 'left', 'right']));
}

export function renderRevoke(r: RevokeResult, ui: Ui): void {
  for (const i of r.items) {
    ui.out(i.status === 'revoked' ? `revoked ${ui.safe(i.label)} (seq ${i.seq})` : `${ui.safe(i.label)} was already revoked (seq ${i.seq})`);
  }
}
