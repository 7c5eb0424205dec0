/**
 * Commands about stax itself: shell completion and the bug-report facts. Both read the
 * registry only when they run: it imports this module, so a static import would be a cycle.
 */
import { createRequire } from 'node:module';
import type { CommandSpec } from '../command.js';
import type { Ui } from '../output.js';
import { Exit, StaxError } from '../../errors.js';
import type { DoctorReport } from '../../doctor.js';

export const completionCommand: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script for bash, zsh or fish',
  description:
    'Prints a completion script for the given shell, generated from the command list: it completes commands, sub-commands and ' +
    'options, file names where a command takes a file and folder names where it takes a folder, for both names stax is installed ' +
    'under (stax and tracehound). Load it in the current shell, or save it where the shell loads completions from; the script ' +
    'itself says where.',
  args: ['<shell>'],
  examples: [
    { cmd: 'completion bash > ~/.local/share/bash-completion/completions/stax', says: 'complete stax in every new bash' },
    { cmd: 'completion zsh > ~/.zfunc/_stax', says: 'for zsh, with ~/.zfunc on $fpath before compinit' },
    { cmd: 'completion fish > ~/.config/fish/completions/stax.fish', says: 'for fish' },
  ],
  exitCodes: { 0: 'printed', 2: 'not a shell stax knows (bash, zsh, fish)' },
  manPage: 'stax-completion',
  async run([shell], _options, _ctx) {
    const { SHELLS, completionScript } = await import('../completion.js');
    if (!(SHELLS as readonly string[]).includes(shell!)) {
      throw new StaxError('USAGE', `no completion for "${shell}": the shells are ${SHELLS.join(', ')}`);
    }
    const { commands, groups } = await import('../registry.js');
    const script = completionScript(shell as (typeof SHELLS)[number], commands, groups);
    const result = { shell: shell!, script };
    return { result, exitCode: Exit.OK, render: (r: typeof result, ui: Ui) => void ui.io.stdout.write(r.script) };
  },
};

export const doctorCommand: CommandSpec = {
  name: 'doctor',
  summary: 'show the versions and set-up a bug report needs, and check key permissions',
  description:
    'Prints the facts to paste into a bug report: the stax, Node.js and npm versions, the platform, whether ./package.json runs ' +
    'stax from an install script (the hook) and whether npm ignore-scripts would stop it, which files exist under .stax/, the keys ' +
    'in the key folder with their permissions, and which STAX_* and colour variables are set. Secrets are never printed: a ' +
    'variable is shown as set or unset, never with its value. A key file that group or others can access is a problem.',
  options: [{ flags: '--npm-timeout <seconds>', description: 'how long to wait for npm to answer (default 10)' }],
  examples: [
    { cmd: 'doctor', says: 'the facts, and any problem found' },
    { cmd: 'doctor --json', says: 'the same as JSON, to attach to an issue' },
  ],
  exitCodes: { 0: 'no problem found (warnings may be shown)', 1: 'a problem was found, such as a key file that others can read', 2: 'bad option' },
  manPage: 'stax-doctor',
  async run(_args, options, ctx) {
    const { doctor } = await import('../../doctor.js');
    const { VERSION } = await import('../main.js');
    const seconds = options.npmTimeout === undefined ? 10 : Number(options.npmTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
      throw new StaxError('USAGE', `--npm-timeout must be a number of seconds, above 0 and at most 600, not "${String(options.npmTimeout)}"`);
    }
    const require = createRequire(import.meta.url);
    const pkg = require('../../../package.json') as { engines?: { node?: string } };
    const report = await doctor({
      cwd: ctx.io.cwd,
      env: ctx.io.env,
      version: VERSION,
      programName: ctx.io.programName,
      nodeRange: pkg.engines?.node,
      npmTimeoutMs: seconds * 1000,
      terminal: { stdout: ctx.ui.stdoutIsTTY, stderr: ctx.ui.stderrIsTTY, colorLevel: ctx.ui.c.level },
    });
    return { result: report, exitCode: report.ok ? Exit.OK : Exit.CHECK_FAILED, render: renderDoctor };
  },
};

function renderDoctor(r: DoctorReport, ui: Ui): void {
  const { c } = ui;
  const rows = (pairs: Array<[string, string]>): void => {
    const width = Math.max(...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) ui.out(`  ${k.padEnd(width)}  ${v}`);
  };
  ui.out(c.bold('versions'));
  rows([
    ['stax', `${r.stax.version} (called as ${r.stax.calledAs})`],
    ['node', `${r.node.version}${r.node.supported === false ? c.red(` (not supported: ${r.node.range})`) : ''}`],
    ['npm', r.npm.version ?? c.yellow(`unknown: ${r.npm.error}`)],
    ['platform', `${r.platform.os} ${r.platform.release} ${r.platform.arch}`],
  ]);
  ui.out(c.bold('project'));
  const hook = r.project.hook;
  rows([
    ['package.json', r.project.packageJson + (r.project.staxConfigInPackageJson ? ' (with a "stax" configuration)' : '')],
    ['install hook', hook.installed ? `installed: the ${hook.script} script runs ${ui.safe(hook.runs ?? '')}` : 'not installed'],
    ['ignore-scripts', r.project.ignoreScripts === null ? 'unknown (npm did not answer)' : String(r.project.ignoreScripts)],
    ...r.project.files.map((f): [string, string] => [f.path, f.exists ? 'present' : 'absent']),
  ]);
  ui.out(c.bold(`keys in ${ui.safe(r.keys.dir)}${r.keys.exists ? '' : ' (no such folder)'}`));
  if (r.keys.keys.length === 0) ui.out('  none');
  for (const k of r.keys.keys) {
    const state = k.problem === null ? c.green('ok') : c.red(k.secure ? 'unusable' : 'readable by others');
    ui.out(`  ${ui.safe(k.name)}  ${k.keyId || '-'}  mode ${k.mode}  ${state}`);
  }
  ui.out(c.bold('environment'));
  rows(Object.entries(r.environment));
  if (r.terminal !== null) ui.out(`  (stdout ${r.terminal.stdout ? 'is' : 'is not'} a terminal; colour ${r.terminal.colorLevel > 0 ? 'on' : 'off'})`);
  for (const f of r.findings) {
    const mark = f.severity === 'problem' ? c.red(`✘ ${f.code}`) : c.yellow(`! ${f.code}`);
    ui.out(`${mark}  ${ui.safe(f.message, 400)}`);
  }
  const problems = r.findings.filter((f) => f.severity === 'problem').length;
  ui.out(problems === 0 ? c.green('✔ no problems found') : c.red(`✘ ${problems} ${problems === 1 ? 'problem' : 'problems'} found`));
}
