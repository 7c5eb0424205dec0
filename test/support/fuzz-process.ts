/**
 * Child processes for the reliability suites: started, watched, killed at a chosen moment,
 * and what they acknowledged collected. Plus the bookkeeping those suites need: the
 * entries a chain file holds, and fingerprints of every file under a folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BIN, REPO, baseEnv } from './cli.js';

export const CHILDREN = join(REPO, 'test/reliability/children');

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  /** Resolves with the first complete stdout line, or null if the process ends first. */
  firstLine: Promise<string | null>;
  exited: Promise<Exited>;
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Kill (SIGKILL) after this long, and say so in `signal`. */
  deadlineMs?: number;
}

/** Starts `node <args>` with a clean environment. */
export function startNode(args: string[], options: StartOptions = {}): Running {
  const started = Date.now();
  const env = Object.fromEntries(Object.entries(baseEnv(options.env)).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  const child = spawn(process.execPath, args, { cwd: options.cwd ?? REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let resolveLine: (l: string | null) => void = () => undefined;
  const firstLine = new Promise<string | null>((r) => (resolveLine = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const nl = out.indexOf('\n');
    if (nl >= 0) resolveLine(out.slice(0, nl));
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = options.deadlineMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.deadlineMs);
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      resolveLine(null);
      resolve({ code, signal, stdout: out, stderr: err, ms: Date.now() - started });
    });
  });
  return { child, stdout: () => out, firstLine, exited, kill: (signal = 'SIGKILL') => child.kill(signal) };
}

/** Starts the built CLI (bin/stax.js). */
export function startStax(args: string[], options: StartOptions = {}): Running {
  return startNode([BIN, ...args], options);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The complete lines of a child's output: a line cut off by a kill was never acknowledged. */
export function completeLines(out: string): string[] {
  return out.split('\n').slice(0, -1).filter((l) => l !== '');
}

/** `<seq> <hash>` of every entry line of a stax chain file that parses. */
export function chainIndex(file: string): Set<string> {
  const set = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    try {
      const e = JSON.parse(line) as { seq?: unknown; hash?: unknown };
      if (typeof e.seq === 'number' && typeof e.hash === 'string') set.add(`${e.seq} ${e.hash}`);
    } catch {
      // a torn or damaged line holds no acknowledged entry
    }
  }
  return set;
}

/** SHA-256 of every regular file under `dir` (and the target of every symlink), by relative path. */
export function fingerprint(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const abs = join(d, name);
      const rel = relative(dir, abs);
      if (skip(rel)) continue;
      const st = lstatSync(abs);
      if (st.isDirectory()) walk(abs);
      else if (st.isFile()) out.set(rel, `${createHash('sha256').update(readFileSync(abs)).digest('hex')} ${(st.mode & 0o777).toString(8)}`);
      else out.set(rel, st.isSymbolicLink() ? 'symlink' : 'special');
    }
  };
  walk(dir);
  return out;
}
