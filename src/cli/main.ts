/**
 * The entry point: parse, run, and turn the result or the error into output and an exit
 * code. This is the only place that decides what reaches the streams for a failure.
 */
import { createRequire } from 'node:module';
import { CommanderError } from 'commander';
import { Exit, StaxError, type ExitCode } from '../errors.js';
import { processIo, type Io } from './context.js';
import { createUi, type Ui } from './output.js';
import { buildProgram, commanderExit } from './program.js';
import { commands, groups } from './registry.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;

export async function main(io: Io): Promise<ExitCode> {
  const ui = createUi(io);
  const wantsJson = io.argv.includes('--json');
  const built = buildProgram(io, ui, VERSION, commands, groups);
  try {
    await built.program.parseAsync(io.argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return commanderExit(err);
    return reportError(err, ui, wantsJson);
  }
  const got = built.outcome();
  if (got === undefined) return Exit.USAGE;
  const { outcome, json } = got;
  if (json) io.stdout.write(JSON.stringify(outcome.result, null, outcome.jsonLines === true ? undefined : 2) + '\n');
  else outcome.render(outcome.result, ui);
  return outcome.exitCode;
}

/** One line on stderr (and a JSON object on stdout under --json); never a stack trace. */
export function reportError(err: unknown, ui: Ui, json: boolean): ExitCode {
  const name = ui.io.programName;
  if (err instanceof StaxError) {
    const where = err.file === undefined ? '' : `${ui.safe(err.file)}: `;
    ui.err(`${name}: ${where}${ui.safe(err.message)}`);
    if (json) ui.out(JSON.stringify({ error: err.toJSON() }, null, 2));
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  ui.err(`${name}: internal error: ${ui.safe(message)} (please report this with 'stax doctor' output)`);
  if (ui.io.env.STAX_DEBUG && err instanceof Error && err.stack) ui.err(err.stack);
  if (json) ui.out(JSON.stringify({ error: { code: 'INTERNAL', message } }, null, 2));
  return Exit.USAGE;
}

export function runFromProcess(): void {
  // A closed pipe (`stax trail show | head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`stax: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = Exit.USAGE;
    },
  );
}
