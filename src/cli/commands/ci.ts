import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { Exit, StaxError } from '../../errors.js';
import type { CiResult } from '../../ci/result.js';
import type { Ui } from '../output.js';

const FORMATS = ['text', 'json', 'github', 'junit', 'sarif'] as const;

export const ciCommand: CommandSpec = {
  name: 'ci',
  summary: 'run every configured check for a pipeline step: trails, code banks, the lockfile',
  description:
    'Reads the project configuration (.stax/config.json, or a "stax" key in package.json; without either, the usual files under .stax/), ' +
    'verifies every configured trail (with its trusted keys and checkpoints), every code bank, and the lockfile against the signed allowlist, ' +
    'then prints one summary. Never prompts. --format github prints workflow annotations that point at the file and line; junit and sarif ' +
    'feed test-report and code-scanning UIs.',
  options: [
    { flags: '--format <format>', description: 'text, json, github, junit or sarif', defaultValue: 'text' },
    { flags: '--config <file>', description: 'a configuration file other than .stax/config.json' },
    { flags: '-o, --out <file>', description: 'also write the formatted report to this file (stdout keeps the text summary)' },
  ],
  examples: [
    { cmd: 'ci', says: 'run every check configured in .stax/config.json' },
    { cmd: 'ci --format github', says: 'in GitHub Actions: annotations on the lockfile line of each blocked package' },
    { cmd: 'ci --format sarif --out stax.sarif', says: 'a report for a code-scanning upload' },
  ],
  exitCodes: { 0: 'every check passed', 1: 'a check failed (tampered trail, modified code, blocked package)', 2: 'bad configuration, or an input could not be read' },
  manPage: 'stax-ci',
  async run(_args, options, ctx) {
    const format = (ctx.json ? 'json' : (options.format as string)) as (typeof FORMATS)[number];
    if (!FORMATS.includes(format)) throw new StaxError('USAGE', `--format must be one of ${FORMATS.join(', ')}, not "${String(options.format)}"`);
    const { runCi } = await import('../../ci/run.js');
    const formats = await import('../../ci/formats.js');
    const { VERSION } = await import('../main.js');
    const result = await runCi({ root: ctx.io.cwd, config: options.config === undefined ? undefined : resolve(ctx.io.cwd, options.config as string), env: ctx.io.env });
    const formatted = format === 'github' ? formats.toGithub(result) : format === 'junit' ? formats.toJunit(result) : format === 'sarif' ? formats.toSarif(result, VERSION) : format === 'json' ? JSON.stringify(result, null, 2) + '\n' : null;
    if (typeof options.out === 'string' && formatted !== null) {
      const { writeFileAtomic } = await import('../../fs/atomic.js');
      writeFileAtomic(resolve(ctx.io.cwd, options.out), formatted, { overwrite: true });
    }
    const exitCode = result.counts.error > 0 ? Exit.USAGE : result.ok ? Exit.OK : Exit.CHECK_FAILED;
    return {
      result,
      exitCode,
      render(r: CiResult, ui: Ui) {
        if (formatted !== null && options.out === undefined) {
          ui.io.stdout.write(formatted);
          return;
        }
        renderText(r, ui);
      },
    };
  },
};

function renderText(r: CiResult, ui: Ui): void {
  const { c } = ui;
  const mark = { pass: c.green('pass'), fail: c.red('FAIL'), error: c.red('ERROR') };
  ui.out(ui.table(['check', 'target', 'result', 'summary'], r.checks.map((k) => [k.kind, ui.safe(k.target), mark[k.status], ui.safe(k.summary, 120)])));
  for (const k of r.checks) {
    const shown = k.findings.filter((f) => f.level !== 'note').slice(0, 20);
    for (const f of shown) ui.out(`  ${ui.safe(f.file)}${f.line === undefined ? '' : `:${f.line}`}  ${f.level === 'error' ? c.red(f.code) : c.yellow(f.code)}  ${ui.safe(f.message, 200)}`);
    const more = k.findings.filter((f) => f.level !== 'note').length - shown.length;
    if (more > 0) ui.out(`  … ${more} more for ${ui.safe(k.target)} (use --format json for all)`);
  }
  const { pass, fail, error } = r.counts;
  ui.out(`${r.ok ? c.green('✔') : c.red('✘')} ${pass} passed, ${fail} failed, ${error} could not run${r.config === null ? ' (no configuration: checked the files found under .stax/)' : ` (configuration: ${ui.safe(r.config)})`}`);
}
