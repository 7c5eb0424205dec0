/**
 * `stax hook install | uninstall | status | run` and `stax npm`. `hook run` is what npm
 * starts before every install: it loads only src/guard/hook.ts and the check it calls, and
 * the table module only when something is blocked.
 */
import type { CommandSpec, GroupSpec } from '../command.js';
import type { Ui } from '../output.js';
import { VERIFY_OPTIONS, str, verifyOptions } from './guard-options.js';
import { Exit, StaxError } from '../../errors.js';
import type { HookEdit, HookRunResult, HookStatus, InstallAction, UninstallAction, Verdict } from '../../guard/hook.js';
import type { NpmWrapperResult } from '../../guard/npm-wrapper.js';
import type { PackageVerdict } from '../../guard/check.js';

export const hookGroup: GroupSpec = { name: 'hook', summary: 'guard npm installs with a preinstall hook', manPage: 'stax-hook' };

const WHEN_NPM_RUNS_IT =
  'When npm runs it: npm 12 runs the preinstall script of a bare npm install before it resolves or fetches anything, and that of npm ci ' +
  'before it fetches anything (after emptying node_modules), so a blocked install fetches nothing. npm 7 to 11 run it only AFTER the ' +
  'dependencies are installed (and their install scripts have run): the hook then fails the install loudly but cannot prevent it; check ' +
  'before installing instead (stax hook run && npm ci --ignore-scripts), upgrade to npm 12, or install through stax npm. No npm version runs ' +
  'it for npm install <pkg> or npm update: use stax npm install <pkg>. ignore-scripts (npmrc, npm_config_ignore_scripts, --ignore-scripts) ' +
  'switches it off. The script needs stax on PATH; npm puts node_modules/.bin first, so a devDependency works with npm 7-11, but npm 12 ' +
  'runs it before node_modules is filled: install stax globally (npm install -g with your checkout or tarball of stax; the name stax on the public registry is another package). Without stax the script blocks the install and says so. The script is POSIX sh, npm\'s script-shell everywhere but Windows: there, ' +
  'set script-shell to a POSIX shell (Git Bash), or the install fails closed.';

// ---- stax hook install / uninstall ------------------------------------------------------

const INSTALL_WORDS: Record<InstallAction, string> = {
  installed: 'installed the preinstall hook',
  chained: "installed the preinstall hook, before the project's own preinstall script",
  updated: 'updated the preinstall hook',
  unchanged: 'the preinstall hook is installed already',
  custom: 'left alone: scripts.preinstall already runs stax hook run in a form of its own',
};

export const hookInstallCommand: CommandSpec = {
  name: 'hook install',
  summary: "add the guard to package.json's preinstall script",
  description:
    'Adds a preinstall script to ./package.json that runs stax hook run, so that npm install and npm ci check the lockfile against the ' +
    "signed allowlist first. An existing preinstall script is kept and runs after the guard (guard && yours). Idempotent. The file keeps its " +
    'indentation, key order, line endings and final newline; it is written atomically. ' +
    WHEN_NPM_RUNS_IT,
  options: [{ flags: '--fail-open', description: 'install the hook with --fail-open: it records and warns but never blocks (not recommended)' }],
  examples: [
    { cmd: 'hook install', says: 'guard npm install and npm ci in this project' },
    { cmd: 'hook install && stax hook status', says: 'then see what the hook cannot cover here' },
  ],
  exitCodes: { 0: 'installed, or already there', 2: 'no package.json, or it is not valid JSON' },
  manPage: 'stax-hook',
  async run(_args, options, ctx) {
    const { installHook } = await import('../../guard/hook.js');
    const edit = installHook(ctx.io.cwd, { failOpen: options.failOpen === true });
    return {
      result: edit,
      exitCode: Exit.OK,
      render(r: HookEdit<InstallAction>, ui: Ui) {
        ui.out(`${r.action === 'custom' ? ui.c.yellow('!') : ui.c.green('✔')} ${INSTALL_WORDS[r.action]} (${ui.safe(r.file)})`);
        if (r.changed) ui.out(`  preinstall: ${ui.safe(r.after ?? '', 400)}`);
        ui.err('npm install <pkg> never runs it: use stax npm install <pkg>. Check coverage with: stax hook status');
      },
    };
  },
};

const UNINSTALL_WORDS: Record<UninstallAction, string> = {
  removed: 'removed the preinstall hook',
  unchained: "removed the guard; the project's own preinstall script stays",
  absent: 'no preinstall hook to remove',
  custom: 'left alone: scripts.preinstall runs stax hook run in a form stax hook install did not write; edit it by hand',
};

export const hookUninstallCommand: CommandSpec = {
  name: 'hook uninstall',
  summary: 'remove exactly what stax hook install added',
  description: 'Removes the guard from the preinstall script of ./package.json, byte for byte what stax hook install added; a preinstall script of the project that ran after the guard stays as it was.',
  examples: [{ cmd: 'hook uninstall', says: 'npm installs run unchecked again' }],
  exitCodes: { 0: 'removed, or there was nothing to remove', 2: 'no package.json, or it is not valid JSON' },
  manPage: 'stax-hook',
  async run(_args, _options, ctx) {
    const { uninstallHook } = await import('../../guard/hook.js');
    const edit = uninstallHook(ctx.io.cwd);
    return {
      result: edit,
      exitCode: Exit.OK,
      render: (r: HookEdit<UninstallAction>, ui: Ui) => ui.out(`${r.action === 'custom' ? ui.c.yellow('!') : ui.c.green('✔')} ${UNINSTALL_WORDS[r.action]} (${ui.safe(r.file)})`),
    };
  },
};

// ---- stax hook status -------------------------------------------------------------------

const VERDICT_MARK: Record<Verdict, (ui: Ui) => string> = {
  ok: (ui) => ui.c.green('ok'),
  gap: (ui) => ui.c.red('GAP'),
  warn: (ui) => ui.c.yellow('warn'),
  info: (ui) => ui.c.dim('info'),
};

export const hookStatusCommand: CommandSpec = {
  name: 'hook status',
  summary: 'check what the install hook covers here, and what it cannot',
  description:
    'A coverage self-check, one line per situation with a verdict: the npm version and whether it runs preinstall before fetching; ' +
    'whether the hook is in package.json; whether npm can find stax when it runs the hook; ignore-scripts in any npmrc or the environment; ' +
    'the lockfile; the verification keys; the allowlist (present, signature verifies, matches the guard trail). It always notes that no npm ' +
    'runs the hook for npm install <pkg>. Exit 0 when nothing is a gap.',
  options: [...VERIFY_OPTIONS, { flags: '--npm-timeout <seconds>', description: 'how long to wait for npm to answer (default 10)' }],
  examples: [
    { cmd: 'hook status', says: 'one verdict per situation; exit 1 when something is not covered' },
    { cmd: 'hook status --json', says: 'the same as JSON, for CI' },
  ],
  exitCodes: { 0: 'covered: no gap', 1: 'at least one gap', 2: 'bad option' },
  manPage: 'stax-hook',
  async run(_args, options, ctx) {
    const { hookStatus } = await import('../../guard/hook.js');
    const seconds = options.npmTimeout === undefined ? 10 : Number(options.npmTimeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) throw new StaxError('USAGE', `--npm-timeout must be a number of seconds from 0 to 600, not "${String(options.npmTimeout)}"`);
    const status = await hookStatus({ ...verifyOptions(options, ctx), npmTimeoutMs: seconds * 1000 });
    return {
      result: status,
      exitCode: status.covered ? Exit.OK : Exit.CHECK_FAILED,
      render(s: HookStatus, ui: Ui) {
        const width = Math.max(...s.lines.map((l) => l.id.length));
        for (const l of s.lines) {
          ui.out(`${VERDICT_MARK[l.verdict](ui)}${' '.repeat(5 - l.verdict.length)}${l.id.padEnd(width)}  ${ui.safe(l.found, 200)}`);
          ui.out(`${' '.repeat(5 + width + 2)}${ui.c.dim(ui.safe(l.detail, 600))}`);
        }
        const gaps = s.lines.filter((l) => l.verdict === 'gap').length;
        ui.out(gaps === 0 ? `${ui.c.green('✔')} covered: npm install and npm ci are checked before anything is fetched` : `${ui.c.red('✘')} ${gaps} gap(s): installs here can get past the guard`);
      },
    };
  },
};

// ---- stax hook run ----------------------------------------------------------------------

export const hookRunCommand: CommandSpec = {
  name: 'hook run',
  summary: 'check the lockfile before npm installs it (what the preinstall hook runs)',
  description:
    'What npm runs as the preinstall script: checks every package of the lockfile against the signed allowlist (stax check), and that ' +
    'package.json asks for nothing the lockfile lacks (npm would resolve it after the check), records the decision in the guard trail ' +
    '(install.check) and, when something is blocked, prints it on stderr and exits non-zero, which stops npm. It fails closed: no ' +
    'allowlist, no key, a bad signature or a rollback block the install too. --fail-open never blocks; it warns and records failOpen: true. ' +
    'Run it by hand (or in CI before npm ci --ignore-scripts) to check without npm. ' +
    WHEN_NPM_RUNS_IT,
  options: [
    { flags: '--fail-open', description: 'never block: warn loudly and record the decision with failOpen: true' },
    { flags: '--lockfile <file>', description: 'the lockfile (default: npm-shrinkwrap.json, else package-lock.json)' },
    ...VERIFY_OPTIONS,
  ],
  examples: [
    { cmd: 'hook run', says: 'what npm runs before npm install / npm ci once the hook is installed' },
    { cmd: 'hook run && npm ci --ignore-scripts', says: 'in CI with npm 7-11: check first, then install without scripts' },
  ],
  exitCodes: { 0: 'nothing blocked: npm goes on', 1: 'something is blocked, or the allowlist fails verification: npm stops', 2: 'no allowlist, no key or no lockfile: npm stops' },
  manPage: 'stax-hook',
  async run(_args, options, ctx) {
    const { runHook, hookExitCode } = await import('../../guard/hook.js');
    const result = await runHook({ ...verifyOptions(options, ctx), failOpen: options.failOpen === true, lockfile: str(options.lockfile) });
    return { result, exitCode: hookExitCode(result), render: renderHookRun };
  },
};

/** Everything on stderr: npm shows a script's stderr, and stdout stays for --json. */
function renderHookRun(r: HookRunResult, ui: Ui): void {
  const where = r.npm.underNpm ? `${r.command}${r.npm.npmVersion === null ? '' : ` (npm ${r.npm.npmVersion})`}` : 'stax hook run';
  const trail = r.recorded === null ? ` (${ui.safe(r.recordError ?? 'not recorded')})` : `; recorded in the guard trail, entry ${r.recorded.seq}`;
  if (r.failOpen) {
    if (r.blocked.length > 0) blockedTable(ui, r, (l) => ui.err(l));
    ui.err(ui.ce.bgRed.white.bold(` ${ui.safe(r.warning ?? 'FAIL-OPEN')} `));
    return;
  }
  if (r.allowed) {
    const c = r.check!.counts;
    ui.err(`stax hook: ${ui.ce.green('✔')} ${c.allowed + c.flagged} package(s) allowed${c.flagged > 0 ? `, ${c.flagged} flagged` : ''} for ${where}${trail}`);
    for (const line of r.advice) ui.err(`stax hook: ${ui.safe(line)}`);
    return;
  }
  if (r.error !== null) {
    ui.err(ui.ce.red.bold(`stax hook: ✘ ${where} blocked: the guard cannot check: ${ui.safe(r.error.file === undefined ? '' : `${r.error.file}: `)}${ui.safe(r.error.message, 600)}`));
  } else {
    ui.err(ui.ce.red.bold(`stax hook: ✘ ${where} blocked: ${r.blocked.length} package(s) not allowed`));
    blockedTable(ui, r, (l) => ui.err(l));
  }
  for (const line of r.advice) ui.err(r.tooLate && line.startsWith('TOO LATE') ? ui.ce.red.bold(`stax hook: ${ui.safe(line)}`) : `stax hook: ${ui.safe(line)}`);
  if (r.recorded === null && r.recordError !== null) ui.err(`stax hook: ${ui.safe(r.recordError)}`);
}

function blockedTable(ui: Ui, r: { blocked: HookRunResult['blocked']; check: HookRunResult['check'] }, write: (line: string) => void): void {
  const verdicts = new Map<string, PackageVerdict>();
  for (const p of r.check?.packages ?? []) if (p.status === 'blocked') verdicts.set(`${p.name}@${p.version}`, p);
  const rows = r.blocked.map((b) => {
    const v = verdicts.get(`${b.name}@${b.version}`);
    const why = v?.reasons.filter((x) => x.code !== 'INSTALL_SCRIPT').map((x) => x.message).join('; ') ?? 'package.json asks for it, the lockfile does not have it';
    return [ui.safe(b.name), ui.safe(b.version || '-'), b.codes.join(' '), ui.safe(why, 300)];
  });
  write(ui.table(['package', 'version', 'codes', 'why'], rows, { align: ['left', 'left', 'left', 'left'] }));
}

// ---- stax npm ---------------------------------------------------------------------------

export const npmCommand: CommandSpec = {
  name: 'npm',
  summary: 'run npm install / ci / update only if what it would install is allowed',
  description:
    'Covers what the preinstall hook cannot see, such as npm install <pkg>: copies package.json, the lockfile and .npmrc into a scratch ' +
    'folder, lets the real npm work out the lockfile the command would produce there (--package-lock-only --ignore-scripts: nothing is ' +
    'fetched but package metadata, no script runs), checks that lockfile against the signed allowlist, and runs the real command in the ' +
    'project only if nothing is blocked. Blocked: prints what and why, exits 1, and package.json, the lockfile and node_modules stay as ' +
    'they were. A bare install then installs exactly the lockfile that was checked; after npm install <pkg> the resulting lockfile is ' +
    'compared with the checked one, and checked again if npm resolved differently. The decision is recorded in the guard trail. ' +
    "Put the npm command first; put -- before npm's own options (stax npm -- install -D left-pad). Global installs are refused.",
  args: ['<npm-args...>'],
  passThrough: true,
  options: VERIFY_OPTIONS,
  examples: [
    { cmd: 'npm install express', says: 'install express only if express and everything it pulls in is approved' },
    { cmd: 'npm -- install -D left-pad@1.3.0', says: "npm options go after --" },
    { cmd: 'npm ci', says: 'check the lockfile, then npm ci (useful with npm 7-11, whose hook runs too late)' },
  ],
  exitCodes: { 0: 'allowed, and npm succeeded', 1: 'something is blocked: nothing was changed (or npm installed something other than what was checked)', 2: 'bad arguments, no allowlist or key, or npm failed' },
  manPage: 'stax-npm',
  async run(args, options, ctx) {
    const { runNpmGuarded, wrapperExitCode } = await import('../../guard/npm-wrapper.js');
    const io = ctx.io;
    // npm's own output goes where ours would; under --json its stdout moves to stderr.
    const output = io.stdout === (process.stdout as unknown) && io.stderr === (process.stderr as unknown) && !ctx.json ? undefined : { stdout: ctx.json ? io.stderr : io.stdout, stderr: io.stderr };
    const result = await runNpmGuarded({ ...verifyOptions(options, ctx), args, output });
    return { result, exitCode: wrapperExitCode(result), render: renderNpm };
  },
};

function renderNpm(r: NpmWrapperResult, ui: Ui): void {
  const cmd = ui.safe(r.command.join(' '));
  if (r.blocked.length > 0) {
    ui.out(ui.c.red.bold(`✘ ${cmd}: blocked, ${r.blocked.length} package(s) not allowed; nothing was changed`));
    blockedTable(ui, r, (l) => ui.out(l));
    ui.out('review what is blocked; to allow it: stax approve <name> <version>');
    return;
  }
  if (r.after !== null && !r.after.sameAsChecked) {
    if (r.after.check !== null && !r.after.check.ok) {
      const bad = r.after.check.packages.filter((p) => p.status === 'blocked');
      ui.out(ui.c.red.bold(`✘ ${cmd}: npm resolved differently from the check (the registry changed in between), and installed ${bad.length} blocked package(s): ${bad.map((p) => ui.safe(`${p.name}@${p.version}`)).join(', ')}. Remove them now.`));
      return;
    }
    ui.out(ui.c.yellow(`! ${cmd}: npm resolved differently from the check, but everything it installed is allowed`));
  }
  const changed = r.changes.length === 0 ? 'no lockfile change' : `${r.changes.length} lockfile change(s)`;
  if (r.npmExitCode !== null && r.npmExitCode !== 0) {
    ui.err(`stax npm: checked (${changed}, nothing blocked), but npm exited with code ${r.npmExitCode}`);
    return;
  }
  ui.out(`${ui.c.green('✔')} ${cmd}: checked before running (${changed}, nothing blocked)${r.recorded === null ? '' : `; recorded in the guard trail, entry ${r.recorded.seq}`}`);
}

export const hookCommands: CommandSpec[] = [hookInstallCommand, hookUninstallCommand, hookStatusCommand, hookRunCommand];
