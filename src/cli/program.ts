/**
 * Builds the commander program from the command registry. Nothing here knows what a
 * command does; it only wires flags to `run` and collects the Outcome.
 */
import { Command, CommanderError, Option } from 'commander';
import { Exit, type ExitCode } from '../errors.js';
import type { CommandSpec, GroupSpec, Outcome, RunContext } from './command.js';
import type { Io } from './context.js';
import type { Ui } from './output.js';

export interface Built {
  program: Command;
  /** Set once a command's run() has returned. */
  outcome(): { outcome: Outcome; json: boolean } | undefined;
}

const EXIT_WORDS: Record<ExitCode, string> = { 0: 'ok', 1: 'a check failed', 2: 'usage or unreadable input' };

export function helpEpilogue(spec: CommandSpec, programName: string): string {
  const lines: string[] = ['', 'Examples:'];
  for (const ex of spec.examples) lines.push(`  $ ${programName} ${ex.cmd}`, `      ${ex.says}`);
  lines.push('', 'Exit codes:');
  for (const code of [0, 1, 2] as ExitCode[]) {
    const text = spec.exitCodes[code];
    if (text !== undefined) lines.push(`  ${code}  ${text}`);
  }
  lines.push('', `See also: man ${spec.manPage}`);
  return lines.join('\n');
}

export function buildProgram(io: Io, ui: Ui, version: string, commands: CommandSpec[], groups: GroupSpec[]): Built {
  let captured: { outcome: Outcome; json: boolean } | undefined;
  const program = new Command(io.programName);
  const output = {
    writeOut: (s: string) => void io.stdout.write(s),
    writeErr: (s: string) => void io.stderr.write(s),
    outputError: (s: string, write: (s: string) => void) => write(`${io.programName}: ${s.replace(/^error: /, '')}`),
  };
  program
    .description(
      io.programName === 'tracehound'
        ? 'tracehound (stax): verify audit chains, inspect quarantined evidence, guard installs'
        : 'stax: verifiable audit trails, evidence inspection, a code bank and an npm install guard',
    )
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .configureOutput(output)
    .exitOverride()
    // Lets `stax npm install -D x` hand npm's own options to npm.
    .enablePositionalOptions()
    .addHelpText('after', `\nExit codes: 0 ${EXIT_WORDS[0]}, 1 ${EXIT_WORDS[1]}, 2 ${EXIT_WORDS[2]}.\nRun '${io.programName} <command> --help' for a command's options and examples.`);

  const parents = new Map<string, Command>([['', program]]);
  const groupOf = (path: string[]): Command => {
    const key = path.join(' ');
    const existing = parents.get(key);
    if (existing) return existing;
    const parent = groupOf(path.slice(0, -1));
    const info = groups.find((g) => g.name === key);
    const group = parent
      .command(path[path.length - 1]!)
      .description(info?.summary ?? '')
      .helpOption('-h, --help', 'show help')
      .configureOutput(output)
      .exitOverride();
    parents.set(key, group);
    return group;
  };

  for (const spec of commands) {
    const path = spec.name.split(' ');
    const parent = groupOf(path.slice(0, -1));
    const cmd = parent
      .command(path[path.length - 1]!)
      .summary(spec.summary)
      .description(spec.description === undefined ? spec.summary : `${spec.summary}\n\n${spec.description}`)
      .helpOption('-h, --help', 'show help')
      .configureOutput(output)
      .exitOverride();
    for (const arg of spec.args ?? []) cmd.argument(arg);
    for (const opt of spec.options ?? []) {
      const o = new Option(opt.flags, opt.description);
      if (opt.repeatable) o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
      if (opt.defaultValue !== undefined) o.default(opt.defaultValue);
      if (opt.hidden) o.hideHelp();
      cmd.addOption(o);
    }
    cmd.option('--json', 'print the result as JSON on stdout');
    if (spec.passThrough) cmd.allowUnknownOption(true).passThroughOptions(true);
    cmd.addHelpText('after', () => helpEpilogue(spec, io.programName));
    cmd.action(async (...params: unknown[]) => {
      const command = params[params.length - 1] as Command;
      const options = command.opts();
      const positional = command.processedArgs.flatMap((a: unknown) =>
        a === undefined ? [] : Array.isArray(a) ? a.map(String) : [String(a)],
      );
      const json = options.json === true;
      const ctx: RunContext = { io, ui, json };
      captured = { outcome: await spec.run(positional, options, ctx), json };
    });
  }
  return { program, outcome: () => captured };
}

/** Maps commander's own exits (help, version, usage errors) to our exit codes. */
export function commanderExit(err: CommanderError): ExitCode {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') {
    return Exit.OK;
  }
  // A bare group name (`stax trail`) prints the group's help and exits non-zero.
  return Exit.USAGE;
}
