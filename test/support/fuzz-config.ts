/**
 * Shared settings for the fuzz and reliability suites. `npm test` runs them small and
 * fast; `npm run soak` (soak/run.mjs) sets the environment below to run them big:
 *
 *   STAX_FUZZ_RUNS        multiplier for every property's numRuns (default 1)
 *   STAX_FUZZ_SEED        fast-check seed, to replay a failure (default: random)
 *   STAX_CRASH_TRIALS     SIGKILL trials of the library writer (default 24; the code
 *                         bank and the allowlist get a third of it each)
 *   STAX_CRASH_CLI_TRIALS rounds of three `stax log` processes killed (default 6)
 *   STAX_CONCURRENCY      rounds of the many-writers test (default 1)
 *   STAX_SOAK_STATS       a folder: each suite writes its counts there as JSON
 *
 * The counts (cases run, kills, torn tails, entries lost) are what SECURITY.md reports.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export const FUZZ_SCALE = envNumber('STAX_FUZZ_RUNS', 1);
export const CRASH_TRIALS = Math.round(envNumber('STAX_CRASH_TRIALS', 24));
export const CRASH_CLI_TRIALS = Math.round(envNumber('STAX_CRASH_CLI_TRIALS', 6));
export const CONCURRENCY_ROUNDS = Math.round(envNumber('STAX_CONCURRENCY', 1));
const SEED = process.env.STAX_FUZZ_SEED === undefined ? undefined : Number(process.env.STAX_FUZZ_SEED);

/** A property's run count, scaled for the soak. */
export function runs(base: number): number {
  return Math.max(1, Math.round(base * FUZZ_SCALE));
}

/** A test timeout that grows with the soak's scale: `base` ms at scale 1. */
export function timeoutFor(base: number, scale = FUZZ_SCALE): number {
  return Math.round(base * Math.max(1, scale) * 1.5);
}

/**
 * The longest one fuzz case may take. Inputs are at most a few hundred KiB, so anything
 * near this is a hang or a super-linear blow-up, not a slow machine.
 */
export const CASE_MS = 5_000;

/** fast-check parameters for a property of `base` runs. Async cases time out at CASE_MS. */
export function params<T>(base: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  return { numRuns: runs(base), timeout: CASE_MS, ...(SEED === undefined ? {} : { seed: SEED }), ...extra };
}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: Error;
  /** Set when the error is a known bug (KNOWN_BUGS) rather than an allowed one. */
  known?: string;
}

/**
 * Bugs already reported, each pinned by an `it.fails` test in test/fuzz/known-bugs.test.ts.
 * The fuzz properties count them instead of failing, so that one known bug does not hide
 * the next one; once src/ is fixed the `it.fails` test fails, and its entry here goes.
 */
export const KNOWN_BUGS: ReadonlyArray<{ id: string; matches(err: unknown): boolean }> = [
  {
    // verifyProofBundle: String(e.seq) in the SEQUENCE_GAP message throws TypeError on a
    // "seq" such as {"toString": null} (the same fix for "checkpoint" is in).
    id: 'proof-string-coercion',
    matches: (err) => err instanceof TypeError && /Cannot convert object to primitive value/.test(err.message),
  },
];

/** How often each known bug was met in this process. */
export const knownBugCounts = new Map<string, number>();

/**
 * Runs `fn` and returns its value, or the error it threw when that error is one of the
 * `allowed` classes. Any other throw (TypeError, RangeError, a bare Error...) is rethrown
 * so that fast-check shrinks the input and reports it; so is a case slower than CASE_MS.
 * `knownBugs` names entries of KNOWN_BUGS that may occur here: counted, not failed.
 */
export async function typed<T>(allowed: readonly ErrorClass[], fn: () => T | Promise<T>, knownBugs: readonly string[] = []): Promise<Outcome<T>> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await fn() };
  } catch (err) {
    const known = allowed.some((c) => err instanceof c) ? undefined : KNOWN_BUGS.find((b) => knownBugs.includes(b.id) && b.matches(err))?.id;
    if (known !== undefined) {
      knownBugCounts.set(known, (knownBugCounts.get(known) ?? 0) + 1);
      return { ok: false, error: err as Error, known };
    }
    if (!allowed.some((c) => err instanceof c)) {
      const what = err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err);
      throw new Error(`untyped error escaped (allowed: ${allowed.map((c) => c.name).join(', ')}): ${what}`, { cause: err });
    }
    outcome = { ok: false, error: err as Error };
  }
  const ms = performance.now() - started;
  if (ms > CASE_MS) throw new Error(`one case took ${Math.round(ms)} ms (bound ${CASE_MS} ms)`);
  return outcome;
}

/** Counts what a suite did, for the soak's summary. */
export class Stats {
  private readonly counts = new Map<string, number>();

  constructor(readonly suite: string) {}

  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Writes the counts to $STAX_SOAK_STATS, if set; call from afterAll. */
  flush(): void {
    for (const [id, n] of knownBugCounts) this.add(`known bug: ${id}`, n);
    knownBugCounts.clear();
    const dir = process.env.STAX_SOAK_STATS;
    if (dir === undefined || dir === '') return;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.suite.replace(/[^a-z0-9-]/gi, '_')}-${process.pid}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ suite: this.suite, counts: Object.fromEntries(this.counts) }) + '\n');
  }
}
