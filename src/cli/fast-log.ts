/**
 * `stax log` without the full CLI. Scripts call `stax log` once per event, so its start-up
 * is its cost: loading commander and every command's module costs more than the append
 * itself. bin/stax.js sends `log` here first. This module only parses the plain, common
 * forms of the command line; anything else (help, `--flag=value`, an unknown or repeated
 * flag, a value that starts with '-', a missing argument) answers null and goes to the full
 * CLI, which owns every usage message. The command itself is the one the full CLI runs
 * (logCommand.run), and its outcome is printed the way main() prints it.
 */
import { Exit, type ExitCode } from '../errors.js';
import { logCommand } from './commands/log.js';
import type { Io } from './context.js';
import { createUi } from './output.js';

/** The flags of `stax log` that take a value, as commander names them in opts(). */
const VALUE_FLAGS: Record<string, string> = {
  '--payload': 'payload',
  '--payload-file': 'payloadFile',
  '--trail': 'trail',
  '--actor': 'actor',
  '--session': 'session',
  '--origin': 'origin',
  '--key': 'key',
};

/** argv after `log`, as commander would parse it; null when this parser is not sure. */
export function parseLogArgs(args: readonly string[]): { action: string; options: Record<string, unknown> } | null {
  // commander's defaults: a negatable --no-fsync makes fsync default to true.
  const options: Record<string, unknown> = { fsync: true };
  let action: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('-')) {
      const name = VALUE_FLAGS[arg];
      if (name !== undefined) {
        const value = args[++i];
        if (value === undefined || value.startsWith('-') || name in options) return null;
        options[name] = value;
      } else if (arg === '--json' && !('json' in options)) {
        options.json = true;
      } else if (arg === '--no-fsync' && options.fsync === true) {
        options.fsync = false;
      } else {
        return null;
      }
    } else if (action === undefined) {
      action = arg;
    } else {
      return null;
    }
  }
  return action === undefined ? null : { action, options };
}

/**
 * processIo(), except that standard input is opened only if the command reads it: with
 * --payload it does not, and setting up a stdin stream is a visible part of start-up.
 */
function lazyStdinIo(): Io {
  const base = (process.argv[1] ?? 'stax').split(/[\\/]/).pop() ?? 'stax';
  return {
    argv: process.argv.slice(2),
    programName: base.startsWith('tracehound') ? 'tracehound' : 'stax',
    env: process.env,
    cwd: process.cwd(),
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/** Runs `stax log` if this fast path can parse its arguments; null means: use the full CLI. */
export async function runLogFast(io: Io = lazyStdinIo()): Promise<ExitCode | null> {
  if (io.argv[0] !== 'log') return null;
  const parsed = parseLogArgs(io.argv.slice(1));
  if (parsed === null) return null;
  const ui = createUi(io);
  const json = parsed.options.json === true;
  try {
    const outcome = await logCommand.run([parsed.action], parsed.options, { io, ui, json });
    if (json) io.stdout.write(JSON.stringify(outcome.result, null, 2) + '\n');
    else outcome.render(outcome.result, ui);
    return outcome.exitCode;
  } catch (err) {
    // Failures are rare and worth no start-up time: the full CLI's one error printer.
    const { reportError } = await import('./main.js');
    return reportError(err, ui, json);
  }
}

/** For bin/stax.js: true when the command ran here, false to hand it to the full CLI. */
export async function runLogFastFromProcess(): Promise<boolean> {
  // As runFromProcess: a closed pipe is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  let code: ExitCode | null;
  try {
    code = await runLogFast();
  } catch (err) {
    process.stderr.write(`stax: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    code = Exit.USAGE;
  }
  if (code === null) return false;
  process.exitCode = code;
  return true;
}
