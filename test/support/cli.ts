/**
 * Runs the CLI two ways: as a real child process of the built bin/stax.js (what users
 * run), and in-process through main() with injected streams (fast, and covers the
 * command layer's wiring without a process boundary).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/context.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const BIN = join(REPO, 'bin/stax.js');
export const FIXTURES = join(REPO, 'fixtures');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  /** Called by argv[1] of this name (`tracehound` to test the second name). */
  as?: 'stax' | 'tracehound';
}

/** A clean environment: no colour, no CI, nothing from the developer's shell that matters. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', LANG: 'C.UTF-8' };
  return { ...env, ...extra };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const bin = options.as === 'tracehound' ? join(REPO, 'test/support/bin/tracehound') : BIN;
    const env = Object.fromEntries(Object.entries(baseEnv(options.env)).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs main() in this process with captured streams. */
export async function runInProcess(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const io: Io = {
    argv: args,
    programName: options.as ?? 'stax',
    env: baseEnv(options.env),
    cwd: options.cwd ?? REPO,
    stdin: Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]),
    stdout,
    stderr,
  };
  const code = await main(io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

export function tempDir(prefix = 'stax-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}
