import type { CommandSpec } from '../command.js';
import type { Ui } from '../output.js';
import type { VerifyReport } from '../../chain/report.js';
import { Exit, StaxError } from '../../errors.js';
import type { VerifyOptions } from '../../formats/verify.js';
import { FORMAT_TITLES } from '../../formats/detect.js';

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'verify chain files: stax trails, TrailStax and Tracehound exports',
  description:
    'Verifies each file end to end, streaming, and reports every problem with the index of the entry where it shows. ' +
    'The format is detected (stax chain v1 as JSON Lines or one JSON document, gzip or not; TrailStax trail, code bank, ' +
    'guardian trail and guardian registry; Tracehound AuditChain export). The report also says what the format cannot detect.',
  args: ['<file...>'],
  options: [
    { flags: '--format <name>', description: 'force a format: stax, trailstax-trail, trailstax-codebank, guardian-trail, guardian-registry, tracehound-audit' },
    { flags: '--hmac-key-file <file>', description: 'HMAC key for a guardian registry (default: the STAX_HMAC_KEY environment variable)' },
    { flags: '--trusted-keys <file>', description: 'stax chains: require every entry to be signed by a key in this file named after its actor' },
    { flags: '--checkpoint <file>', description: 'stax chains: prove the file extends this signed checkpoint (repeatable; needs --trusted-keys)', repeatable: true },
  ],
  examples: [
    { cmd: 'verify fixtures/trails/example.jsonl', says: 'verify a stax trail' },
    { cmd: 'verify --json audit_chain.json session_trail.json', says: 'verify two exports and print one JSON report each' },
    { cmd: 'verify approved_registry.json --hmac-key-file guardian.key', says: 'check every signature of a TrailStax guardian registry' },
    { cmd: 'verify .stax/trail.jsonl --trusted-keys keys.txt --checkpoint cp.txt', says: 'signed entries, and no cut-off tail or rewrite since the checkpoint' },
  ],
  exitCodes: { 0: 'every file is valid', 1: 'a file is tampered, torn or inconsistent', 2: 'a file cannot be read, its format is unknown, or a key is missing' },
  manPage: 'stax-verify',
  async run(files, options, { io }) {
    const { verifyFile, parseFormat } = await import('../../formats/verify.js');
    const { findHmacKey } = await import('../../keys/secret-file.js');
    const format = typeof options.format === 'string' ? parseFormat(options.format) : undefined;
    const hmacKey = findHmacKey({ env: io.env, file: options.hmacKeyFile as string | undefined });
    const staxVisitors = await assuranceFrom(options);
    const reports: VerifyReport[] = [];
    for (const file of files) {
      reports.push(await verifyFile(file, { format, hmacKey, stdin: io.stdin, staxVisitors }));
    }
    return { result: reports, exitCode: reports.every((r) => r.valid) ? Exit.OK : Exit.CHECK_FAILED, render: renderReports };
  },
};

/** Signature and checkpoint checks for stax chains, when keys or checkpoints are given. */
async function assuranceFrom(options: Record<string, unknown>): Promise<VerifyOptions['staxVisitors']> {
  const checkpointFiles = (options.checkpoint as string[] | undefined) ?? [];
  if (options.trustedKeys === undefined) {
    if (checkpointFiles.length > 0) throw new StaxError('KEY_MISSING', 'a checkpoint is only as good as its signer: pass --trusted-keys FILE with the keys that sign checkpoints');
    return undefined;
  }
  const { loadTrustedKeys } = await import('../../keys/store.js');
  const { readCheckpointFile } = await import('../../trail/checkpoint.js');
  const { staxAssurance } = await import('../../trail/assurance.js');
  const trusted = loadTrustedKeys(options.trustedKeys as string);
  const checkpoints = checkpointFiles.map((f) => readCheckpointFile(f, trusted.keys));
  return () => staxAssurance(trusted, checkpoints);
}

export function renderReports(reports: unknown, ui: Ui): void {
  for (const report of reports as VerifyReport[]) renderReport(report, ui);
}

export function renderReport(r: VerifyReport, ui: Ui): void {
  const { c } = ui;
  const title = FORMAT_TITLES[r.format as keyof typeof FORMAT_TITLES] ?? r.format;
  const count = `${r.entries} ${r.entries === 1 ? 'entry' : 'entries'}`;
  if (r.valid) {
    ui.out(`${c.green('✔ valid')}  ${ui.safe(r.file)}  (${title}, ${count})`);
    if (r.head !== null) ui.out(`  head ${r.head}`);
  } else {
    const where = r.firstBad === null ? '' : `, first at entry ${r.firstBad}`;
    ui.out(`${c.red('✘ INVALID')}  ${ui.safe(r.file)}  (${title}, ${count}): ${r.problemCount} ${r.problemCount === 1 ? 'problem' : 'problems'}${where}`);
    const rows = r.problems.map((p) => [p.index === null ? '-' : String(p.index), p.line === undefined ? '' : String(p.line), c.red(p.code), ui.safe(p.message, 300)]);
    ui.out(ui.table(['entry', 'line', 'code', 'problem'], rows, { align: ['right', 'right', 'left', 'left'] }));
    if (r.problemCount > r.problems.length) ui.out(`  … and ${r.problemCount - r.problems.length} more (the first ${r.problems.length} are shown)`);
  }
  for (const note of r.notes) ui.out(c.dim(`  note: ${note}`));
  if (r.limits.length > 0) {
    ui.out(c.yellow('  this format alone cannot detect:'));
    for (const l of r.limits) ui.out(`    - ${l.threat}: ${l.message}`);
  }
}

