/**
 * What a command is. Commander only parses: each command declares its arguments and
 * options, and its `run` maps them to typed options for a library function and returns
 * an Outcome. src/cli/main.ts turns the Outcome (or a thrown StaxError) into output and
 * an exit code, the same way for every command.
 */
import type { Command } from 'commander';
import type { ExitCode } from '../errors.js';
import type { Io } from './context.js';
import type { Ui } from './output.js';

export interface Outcome<R = unknown> {
  /** The result object; `--json` prints exactly this. */
  result: R;
  exitCode: ExitCode;
  /** Human rendering of the result. */
  render(result: R, ui: Ui): void;
  /** Print the `--json` result on one line: the command streamed JSON Lines before it. */
  jsonLines?: boolean;
}

export interface RunContext {
  io: Io;
  ui: Ui;
  /** Whether `--json` was given. */
  json: boolean;
}

export interface CommandSpec {
  /** Space-separated path, such as `verify` or `trail show`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Longer text for `--help` and the man page. */
  description?: string;
  /** Positional arguments, in commander syntax: `<file...>`, `[version]`. */
  args?: string[];
  /** Options: flags (commander syntax), description, and optional default or parser. */
  options?: OptionSpec[];
  /** At least one example command line, without the program name. */
  examples: Array<{ cmd: string; says: string }>;
  /** What each exit code means for this command. */
  exitCodes: Partial<Record<ExitCode, string>>;
  /** The man page that documents it, such as `stax-verify`. */
  manPage: string;
  /** Lets a command accept arbitrary trailing arguments (for `stax npm ...`). */
  passThrough?: boolean;
  run(args: string[], options: Record<string, unknown>, ctx: RunContext): Promise<Outcome>;
}

export interface OptionSpec {
  flags: string;
  description: string;
  defaultValue?: string | boolean | string[];
  /** Option may repeat; values collect into an array. */
  repeatable?: boolean;
  /** Options that the man page and help show but that are not typical. */
  hidden?: boolean;
}

export interface GroupSpec {
  name: string;
  summary: string;
  manPage: string;
}

export type Configure = (cmd: Command) => void;
