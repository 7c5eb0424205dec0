/**
 * The process as the CLI sees it. Injected so that tests can run commands in-process with
 * their own argv, environment, streams and working directory.
 */
import type { Readable, Writable } from 'node:stream';

export type OutStream = Writable & { isTTY?: boolean; columns?: number };
export type InStream = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };

export interface Io {
  /** The arguments after the program name. */
  argv: string[];
  /** The name the program was called by: `stax` or `tracehound`. */
  programName: string;
  env: Record<string, string | undefined>;
  cwd: string;
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
}

/** The real process, for bin/stax.js. */
export function processIo(): Io {
  const invokedAs = process.argv[1] ?? 'stax';
  const base = invokedAs.split(/[\\/]/).pop() ?? 'stax';
  return {
    argv: process.argv.slice(2),
    programName: base.startsWith('tracehound') ? 'tracehound' : 'stax',
    env: process.env,
    cwd: process.cwd(),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  };
}
