/** The command layer of `stax code`: option parsing (a table: argv in, options out) and the progress bar. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { codeCommands, formatBytes, parseJobs, parseMeta, parseRebase, progressBar } from '../../src/cli/commands/code.js';
import { createUi } from '../../src/cli/output.js';
import type { Io } from '../../src/cli/context.js';
import { StaxError } from '../../src/errors.js';

describe('option parsing', () => {
  it.each([
    [['version=1.2.0'], { version: '1.2.0' }],
    [['a=b=c', 'empty='], { a: 'b=c', empty: '' }],
    [['__proto__=x'], JSON.parse('{"__proto__":"x"}')],
  ])('--meta %j → %j', (argv, expected) => {
    expect(parseMeta(argv)).toEqual(expected);
  });

  it.each([[['novalue']], [['=x']]])('--meta %j is a usage error', (argv) => {
    expect(() => parseMeta(argv)).toThrow(StaxError);
  });

  it('parses --rebase OLD=NEW and --jobs', () => {
    expect(parseRebase(['/srv/a=./b', '/x=/y=z'])).toEqual([{ from: '/srv/a', to: './b' }, { from: '/x', to: '/y=z' }]);
    expect(() => parseRebase(['/srv/a='])).toThrow(/--rebase takes OLD=NEW/);
    expect(parseJobs(undefined)).toBeUndefined();
    expect(parseJobs('2')).toBe(2);
    for (const bad of ['0', 'x', '1.5', '100']) expect(() => parseJobs(bad)).toThrow(/--jobs/);
  });

  it('every code command has a summary, examples, exit codes and the stax-code man page', () => {
    for (const c of codeCommands) {
      expect(c.name).toMatch(/^code /);
      expect(c.summary).not.toBe('');
      expect(c.examples.length).toBeGreaterThan(0);
      expect(c.exitCodes[0]).toBeDefined();
      expect(c.manPage).toBe('stax-code');
    }
  });
});

function fakeIo(tty: boolean): { io: Io; written: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  const chunks: Buffer[] = [];
  stderr.on('data', (d: Buffer) => chunks.push(d));
  const io: Io = { argv: [], programName: 'stax', env: { NO_COLOR: '1' }, cwd: '/', stdin: Readable.from([]), stdout: new PassThrough(), stderr };
  return { io, written: () => Buffer.concat(chunks).toString() };
}

describe('progressBar', () => {
  it('draws on a terminal only once a run takes longer than 300 ms, and clears itself', async () => {
    const { io, written } = fakeIo(true);
    let now = 0;
    const bar = progressBar(createUi(io), 'hashing', () => now);
    now = 100;
    bar.update({ done: 10, total: 100, bytes: 4096 });
    await new Promise((r) => setImmediate(r));
    expect(written()).toBe('');
    now = 400;
    bar.update({ done: 50, total: 100, bytes: 3 * 1024 * 1024 });
    bar.done();
    await new Promise((r) => setImmediate(r));
    expect(written()).toBe('\rhashing [############............] 50%  50/100 files  3.0 MiB\x1b[K\r\x1b[K');
  });

  it('never draws when stderr is not a terminal', async () => {
    const { io, written } = fakeIo(false);
    let now = 0;
    const bar = progressBar(createUi(io), 'hashing', () => now);
    now = 5000;
    bar.update({ done: 1, total: 2, bytes: 1 });
    bar.done();
    await new Promise((r) => setImmediate(r));
    expect(written()).toBe('');
  });

  it('formats sizes', () => {
    expect([0, 1023, 1024, 1536 * 1024, 5 * 1024 ** 3].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 MiB', '5.0 GiB']);
  });
});
