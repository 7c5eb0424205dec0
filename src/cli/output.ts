/**
 * The one module that writes to the streams. Results go to stdout, diagnostics and
 * progress to stderr. Colour follows NO_COLOR / FORCE_COLOR and whether the stream is a
 * terminal; every string that came from an input file passes through `safe()` first.
 */
import { createRequire } from 'node:module';
import { Chalk, type ChalkInstance } from 'chalk';
import type { Io, OutStream } from './context.js';
import { neutralize } from '../text/terminal.js';

export interface Ui {
  readonly io: Io;
  /** Colours for stdout (no-ops when colour is off). */
  readonly c: ChalkInstance;
  /** Colours for stderr. */
  readonly ce: ChalkInstance;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** Writes one line to stdout. */
  out(line?: string): void;
  /** Writes one diagnostic line to stderr. */
  err(line: string): void;
  /** Renders a table for stdout. */
  table(head: string[], rows: string[][], options?: TableOptions): string;
  /** Makes untrusted text safe to print. */
  safe(text: string, maxLength?: number): string;
}

export interface TableOptions {
  /** Column alignment, one entry per column. */
  align?: Array<'left' | 'right' | 'center'>;
}

/** Colour level for a stream: 0 when NO_COLOR is set, the stream is not a TTY, or TERM=dumb. */
export function colorLevel(env: Io['env'], stream: OutStream): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') {
    if (force === '0' || force === 'false') return 0;
    const n = Number(force);
    return n === 2 || n === 3 ? n : 1;
  }
  if (stream.isTTY !== true) return 0;
  if (env.TERM === 'dumb') return 0;
  return env.COLORTERM === 'truecolor' ? 3 : 2;
}

export function createUi(io: Io): Ui {
  const c = new Chalk({ level: colorLevel(io.env, io.stdout) });
  const ce = new Chalk({ level: colorLevel(io.env, io.stderr) });
  return {
    io,
    c,
    ce,
    stdoutIsTTY: io.stdout.isTTY === true,
    stderrIsTTY: io.stderr.isTTY === true,
    out(line = '') {
      io.stdout.write(line + '\n');
    },
    err(line) {
      io.stderr.write(line + '\n');
    },
    table(head, rows, options = {}) {
      return renderTable(head, rows, c.level > 0, options);
    },
    safe(text, maxLength) {
      return neutralize(text, maxLength);
    },
  };
}

// cli-table3 is loaded on first use: it is not needed on the hook's start-up path.
const require = createRequire(import.meta.url);
type TableCtor = new (options: Record<string, unknown>) => { push(row: string[]): void; toString(): string };
let TableClass: TableCtor | undefined;

function renderTable(head: string[], rows: string[][], color: boolean, options: TableOptions): string {
  TableClass ??= require('cli-table3') as TableCtor;
  const table = new TableClass({
    head,
    // cli-table3 cannot take an explicit undefined here.
    ...(options.align === undefined ? {} : { colAligns: options.align }),
    style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [], compact: false },
    chars: color
      ? undefined
      : // Plain ASCII borders when colour is off: logs and non-UTF-8 terminals stay readable.
        {
          top: '-', 'top-mid': '+', 'top-left': '+', 'top-right': '+',
          bottom: '-', 'bottom-mid': '+', 'bottom-left': '+', 'bottom-right': '+',
          left: '|', 'left-mid': '+', mid: '-', 'mid-mid': '+',
          right: '|', 'right-mid': '+', middle: '|',
        },
  });
  for (const row of rows) table.push(row);
  return table.toString();
}
