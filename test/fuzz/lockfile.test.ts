/**
 * Fuzzing the npm lockfile reader (src/guard/lockfile.ts): the guard's view of what npm
 * will install comes from a file the attacker may have written.
 *
 * Errors `parseLockfile` and `readLockfile` may throw: StaxError only (INPUT_INVALID,
 * INPUT_TOO_LARGE, FILE_*). Everything else is a Lockfile whose `problems` say what is
 * wrong, entry by entry.
 * Properties: no key reaches Object.prototype; every location that climbs out of the
 * project or is absolute is an error (PATH_TRAVERSAL, or PATH_INVALID if also malformed); every problem points at a line of
 * the file; `checkPackageName` refuses every name npm could not publish.
 */
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StaxError } from '../../src/errors.js';
import { parseLockfile, readLockfile } from '../../src/guard/lockfile.js';
import { checkPackageName } from '../../src/guard/package-name.js';
import { FIXTURES } from '../support/cli.js';
import { HOSTILE_KEYS, anyString, mutate, mutations, plainObject } from '../support/fuzz-arbitraries.js';
import { Stats, params, timeoutFor, typed } from '../support/fuzz-config.js';

const stats = new Stats('fuzz-lockfile');
const tmp = mkdtempSync(join(tmpdir(), 'stax-fuzz-lockfile-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const dir = join(FIXTURES, 'lockfiles');
const LOCKFILES = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => readFileSync(join(dir, f), 'utf8'));

/** Nothing may land on Object.prototype, whatever keys the file uses. */
function expectNoPollution(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
  expect(({} as Record<string, unknown>).admin).toBeUndefined();
}
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();

function lineCount(text: string): number {
  return text.split('\n').length;
}

describe('parseLockfile on damaged real lockfiles', () => {
  it('throws only StaxError; every problem points at a line of the file', { timeout: timeoutFor(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...LOCKFILES), mutations(5), async (original, ms) => {
        stats.add('lockfile damage cases');
        const text = mutate(Buffer.from(original), ms).toString('utf8');
        const r = await typed([StaxError], () => parseLockfile(text, 'package-lock.json'));
        expectNoPollution();
        if (!r.ok) return;
        for (const p of r.value!.problems) {
          expect(p.line).toBeGreaterThanOrEqual(1);
          expect(p.line).toBeLessThanOrEqual(lineCount(text));
        }
      }),
      params(200),
    );
  });

  it('readLockfile on damaged bytes (invalid UTF-8, NULs, BOMs): StaxError only', { timeout: timeoutFor(20_000) }, async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...LOCKFILES), mutations(5), async (original, ms) => {
        stats.add('lockfile bytes cases');
        const file = join(tmp, `lock-${n++}.json`);
        writeFileSync(file, mutate(Buffer.from(original), ms));
        await typed([StaxError], () => readLockfile(file));
        expectNoPollution();
      }),
      params(100),
    );
  });
});

// ---- lockfiles written by an attacker -----------------------------------------------------

/** Locations a hostile lockfile may use, and which of them npm would write outside the project. */
const segment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('node_modules', 'a', '@scope', 'b', 'packages', '..', '.', '', 'node_modules', '__proto__', 'constructor') },
  { weight: 1, arbitrary: anyString(6) },
);
const location = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join('/')),
  fc.constantFrom('/etc/passwd', 'C:\\\\Windows', 'node_modules/../../etc', 'node_modules/a/../../..', '..\\\\..\\\\x', 'node_modules/a\\\\..\\\\..', '../sibling', 'node_modules/\u001b[2J', ...HOSTILE_KEYS),
);

/** `..` after a segment that is not `..`, or an absolute path: npm would leave the project. */
function climbsOut(key: string): boolean {
  if (/^(?:[\\/]|[A-Za-z]:)/.test(key)) return true;
  let seenOther = false;
  for (const s of key.split(/[\\/]/)) {
    if (s === '..') {
      if (seenOther) return true;
    } else seenOther = true;
  }
  return false;
}

const fieldValue = fc.oneof(
  anyString(10),
  fc.constantFrom('1.0.0', '', 'latest', 'file:../../x', 'git+ssh://git@github.com/a/b.git#abc', 'https://registry.npmjs.org/a/-/a-1.0.0.tgz', 'https://evil.example/b/-/b-9.9.9.tgz', 'javascript:alert(1)', 'sha512-AAAA', 'npm:left-pad@1.3.0'),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(anyString(4), { maxLength: 2 }),
);
const entry = fc
  .array(fc.tuple(fc.constantFrom('version', 'resolved', 'integrity', 'name', 'link', 'dev', 'optional', 'inBundle', 'bundled', 'hasInstallScript', 'license', '__proto__', 'constructor'), fieldValue), { maxLength: 6 })
  .map(plainObject);

const v1Tree = fc.letrec<{ tree: Record<string, unknown> }>((tie) => ({
  tree: fc
    .array(fc.tuple(fc.oneof(anyString(8), fc.constantFrom(...HOSTILE_KEYS, '..', '../..', '@scope/x', 'a/../../b')), fc.tuple(entry, fc.option(tie('tree'), { depthSize: 'small' }))), { maxLength: 4 })
    .map((pairs) => plainObject(pairs.map(([k, [e, children]]) => [k, children === null ? e : { ...e, dependencies: children }]))),
})).tree;

const hostileLockfile = fc.oneof(
  fc.tuple(fc.constantFrom(2, 3), fc.array(fc.tuple(location, entry), { maxLength: 8 }), entry).map(([v, pairs, root]) => ({ lockfileVersion: v, packages: plainObject([['', root], ...pairs]) })),
  fc.tuple(v1Tree).map(([deps]) => ({ lockfileVersion: 1, dependencies: deps })),
  fc.tuple(fc.array(fc.tuple(location, entry), { maxLength: 5 }), v1Tree).map(([pairs, deps]) => ({ lockfileVersion: 2, packages: plainObject(pairs), dependencies: deps })),
);

describe('parseLockfile on lockfiles an attacker wrote', () => {
  it('StaxError or a Lockfile; every location outside the project is PATH_TRAVERSAL; nothing pollutes', { timeout: timeoutFor(30_000) }, async () => {
    await fc.assert(
      fc.asyncProperty(hostileLockfile, fc.boolean(), async (lock, pretty) => {
        stats.add('hostile lockfile cases');
        const text = JSON.stringify(lock, null, pretty ? 2 : undefined);
        const r = await typed([StaxError], () => parseLockfile(text, 'package-lock.json'));
        expectNoPollution();
        if (!r.ok) return;
        // PATH_TRAVERSAL, or PATH_INVALID when the location is refused first for another
        // reason (a control character): either way an error on that entry.
        const traversal = new Set(r.value!.problems.filter((p) => p.severity === 'error' && (p.code === 'PATH_TRAVERSAL' || p.code === 'PATH_INVALID')).map((p) => p.path));
        const packages = (lock as { packages?: Record<string, unknown> }).packages;
        if (packages !== undefined) {
          for (const key of Object.keys(packages)) {
            if (key !== '' && climbsOut(key) && typeof packages[key] === 'object' && packages[key] !== null && !Array.isArray(packages[key])) {
              expect(traversal.has(key), `${JSON.stringify(key)} climbs out but is not reported`).toBe(true);
            }
          }
        }
        for (const p of r.value!.packages) expect(typeof p.name).toBe('string');
      }),
      params(250),
    );
  });

  it('a lockfile that lies about its version is refused (INPUT_INVALID)', { timeout: timeoutFor(20_000) }, async () => {
    const liar = fc.oneof(
      fc.record({ lockfileVersion: fc.constant(1), packages: fc.constant({}) }),
      fc.record({ lockfileVersion: fc.constantFrom(2, 3), dependencies: fc.constant({ a: { version: '1.0.0' } }) }),
      fc.record({ lockfileVersion: fc.constant(3), packages: fc.constant({}), dependencies: fc.constant({}) }),
      fc.record({ lockfileVersion: fc.oneof(fc.constantFrom(0, 4, -1, 2.5, '3', null, true), anyString(4)), packages: fc.constant({}) }),
      fc.record({ lockfileVersion: fc.constantFrom(1, 2, 3), packages: fc.constantFrom([], 'x', 1, null), dependencies: fc.constantFrom(undefined, [], 'x') }),
    );
    await fc.assert(
      fc.asyncProperty(liar, async (lock) => {
        stats.add('lying lockfile cases');
        const r = await typed([StaxError], () => parseLockfile(JSON.stringify(lock), 'package-lock.json'));
        expect(r.error).toMatchObject({ code: 'INPUT_INVALID' });
      }),
      params(200),
    );
  });
});

describe('checkPackageName', () => {
  it('never throws, and refuses every name with a character npm cannot publish', { timeout: timeoutFor(20_000) }, async () => {
    const name = fc.oneof(anyString(12), fc.constantFrom('@scope/ok', '@sc ope/x', '@scope/\u001b[2J', 'left-pad', '.bin', '_x', 'node_modules', 'a/b', '@/x', '@scope/', 'x'.repeat(300)));
    await fc.assert(
      fc.asyncProperty(name, async (n) => {
        stats.add('package name cases');
        const { errors } = (await typed([], () => checkPackageName(n))).value!;
        const scoped = /^@([^/]+)\/([^/]+)$/.exec(n);
        const urlSafe = (s: string): boolean => {
          try {
            return encodeURIComponent(s) === s;
          } catch {
            return false; // a lone surrogate: not URL-safe
          }
        };
        const publishable = n !== '' && (scoped === null ? urlSafe(n) : urlSafe(scoped[1]!) && urlSafe(scoped[2]!));
        if (!publishable) expect(errors.length, JSON.stringify(n)).toBeGreaterThan(0);
        if (/[\u0000-\u001f\u007f-\u009f\s]/.test(n)) expect(errors.length).toBeGreaterThan(0);
      }),
      params(400),
    );
  });
});
