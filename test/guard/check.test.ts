import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StaxError } from '../../src/errors.js';
import { generateKeyPair } from '../../src/crypto/ed25519.js';
import { formatSignerKey, formatVerifierKey, parseSignerKey } from '../../src/crypto/note.js';
import { GuardError, readAllowlist, serializeAllowlist } from '../../src/guard/allowlist.js';
import { approve, candidateItem, lockfileCandidates, parseExpires, resign, revoke, type ApprovalItem, type ChangeOptions } from '../../src/guard/approve.js';
import { checkProject, checkProjectFailOpen, integrityDiffers, type CheckOptions, type CheckResult, type PackageVerdict, type VerdictCode } from '../../src/guard/check.js';
import { readLockfile } from '../../src/guard/lockfile.js';
import { loadNpmConfig, parseNpmrc, redact, registryFor } from '../../src/guard/resolve.js';
import { FIXTURES, tempDir } from '../support/cli.js';
import { readChain } from '../support/chain.js';

const tmp = tempDir('stax-check-');
afterAll(() => tmp.cleanup());

const KEY = 'check-test-hmac-key';
const env = { STAX_HMAC_KEY: KEY };
const LOCKS = join(FIXTURES, 'lockfiles');
const MS_2_1_3 = 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==';
const OTHER = `sha512-${'B'.repeat(86)}==`;
const NPMJS = 'https://registry.npmjs.org/';

let counter = 0;
/** A fresh project folder holding `fixture` as its lockfile (under the name npm gives it). */
function project(fixture: string | null = 'v3-git.package-lock.json', edit?: (lock: any) => void): string {
  const dir = join(tmp.path, `p${++counter}`);
  mkdirSync(dir, { recursive: true });
  if (fixture !== null) {
    const target = join(dir, fixture === 'npm-shrinkwrap.json' ? 'npm-shrinkwrap.json' : 'package-lock.json');
    if (edit === undefined) copyFileSync(join(LOCKS, fixture), target);
    else {
      const lock = JSON.parse(readFileSync(join(LOCKS, fixture), 'utf8'));
      edit(lock);
      writeFileSync(target, JSON.stringify(lock, null, 2) + '\n');
    }
  }
  return dir;
}

const change = (dir: string, extra: Partial<ChangeOptions> = {}): ChangeOptions => ({ cwd: dir, env, actor: 'tester', ...extra });
const check = (dir: string, extra: Partial<CheckOptions> = {}): Promise<CheckResult> => checkProject({ cwd: dir, env, registry: NPMJS, ...extra });

/** Approves everything the project's lockfile holds, from the lockfile alone. */
async function approveLockfile(dir: string, extra: Partial<ChangeOptions> = {}, lockfileName = 'package-lock.json'): Promise<void> {
  const lock = await readLockfile(join(dir, lockfileName));
  const current = existsSync(join(dir, '.stax/allowlist.json')) ? await readAllowlist(join(dir, '.stax/allowlist.json')) : null;
  const { candidates } = lockfileCandidates(lock, current);
  await approve(change(dir, extra), candidates.map(candidateItem));
}

function verdict(r: CheckResult, path: string): PackageVerdict {
  const found = r.packages.find((p) => p.path === path);
  if (found === undefined) throw new Error(`no verdict for ${path}`);
  return found;
}

const codes = (v: PackageVerdict): VerdictCode[] => v.reasons.map((r) => r.code);
const notAllowed = (r: CheckResult): Array<[string, string, VerdictCode[]]> => r.packages.filter((p) => p.status !== 'allowed').map((p) => [p.path, p.status, codes(p)]);

async function rejection(p: Promise<unknown>): Promise<StaxError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof StaxError) return err;
    throw err;
  }
  throw new Error('did not reject');
}

const reason = async (p: Promise<unknown>): Promise<string> => {
  const e = await rejection(p);
  return e instanceof GuardError ? e.reason : e.code;
};

describe('every lockfile shape, approved from the lockfile itself', () => {
  const shapes: Array<[string, number]> = [
    ['v3-resolved.package-lock.json', 1],
    ['v3-no-resolved.package-lock.json', 1],
    ['v2-resolved.package-lock.json', 1],
    ['v1.package-lock.json', 0],
    ['npm-shrinkwrap.json', 0],
    ['v3-git.package-lock.json', 1],
    ['v2-git.package-lock.json', 1],
    ['v1-git.package-lock.json', 0],
  ];
  for (const [fixture, flagged] of shapes) {
    it(`${fixture}: blocked before, allowed after (install scripts flagged)`, async () => {
      const dir = project(fixture);
      const lockName = fixture === 'npm-shrinkwrap.json' ? 'npm-shrinkwrap.json' : 'package-lock.json';
      // Nothing approved yet: an allowlist with one unrelated package.
      await approve(change(dir), [{ kind: 'version', name: 'unrelated', version: '1.0.0', integrity: OTHER, host: null, installScript: false }]);
      const before = await check(dir);
      expect(before.ok).toBe(false);
      expect(before.lockfile).toBe(join(dir, lockName));
      for (const p of before.packages) {
        if (p.source === 'link' || p.source === 'workspace') expect(p.status).toBe('allowed');
        else if (p.source === 'registry') expect(codes(p)[0]).toMatch(/NOT_APPROVED|VERSION_NOT_APPROVED/);
        else expect(codes(p)).toContain('SOURCE_NOT_APPROVED');
      }

      await approveLockfile(dir, {}, lockName);
      const after = await check(dir);
      expect(notAllowed(after)).toEqual(flagged === 0 ? [] : [['vendor/local-folder', 'flagged', ['INSTALL_SCRIPT']]]);
      expect(after).toMatchObject({ ok: true, serial: 2, signature: { mode: 'hmac', signedBy: ['hmac'] } });
      expect(after.counts.blocked).toBe(0);
      expect(after.counts.allowed + after.counts.flagged).toBe(after.packages.length);
    });
  }

  it('links and workspaces are allowed; a bundled package stands on its bundler', async () => {
    const dir = project('v3-resolved.package-lock.json');
    await approveLockfile(dir);
    const r = await check(dir);
    expect(verdict(r, 'node_modules/@fixture/a')).toMatchObject({ source: 'link', status: 'allowed' });
    expect(verdict(r, 'packages/a')).toMatchObject({ source: 'workspace', status: 'allowed' });
    expect(verdict(r, 'node_modules/with-bundle/node_modules/ms')).toMatchObject({ status: 'allowed', version: '2.1.2' });
    await revoke(change(dir), [{ source: 'file:vendor/with-bundle-1.0.0.tgz' }]);
    const r2 = await check(dir);
    expect(codes(verdict(r2, 'node_modules/with-bundle'))).toEqual(['SOURCE_NOT_APPROVED']);
    const bundled = verdict(r2, 'node_modules/with-bundle/node_modules/ms');
    expect(bundled.status).toBe('blocked');
    expect(bundled.reasons[0]!.message).toMatch(/bundled inside with-bundle 1\.0\.0, which is blocked/);
  });
});

describe('each verdict', () => {
  async function approved(fixture = 'v3-git.package-lock.json', edit?: (lock: any) => void): Promise<string> {
    const dir = project(fixture);
    await approveLockfile(dir);
    if (edit !== undefined) {
      const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
      edit(lock);
      writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
    }
    return dir;
  }

  it('NOT_APPROVED and VERSION_NOT_APPROVED, with the command that approves', async () => {
    const dir = await approved();
    await revoke(change(dir), [{ name: 'react' }, { name: 'is-number', version: '3.0.0' }]);
    const r = await check(dir);
    expect(notAllowed(r)).toEqual([
      ['node_modules/is-odd/node_modules/is-number', 'blocked', ['VERSION_NOT_APPROVED']],
      ['node_modules/react', 'blocked', ['NOT_APPROVED']],
      ['vendor/local-folder', 'flagged', ['INSTALL_SCRIPT']],
    ]);
    expect(verdict(r, 'node_modules/react').reasons[0]!.message).toMatch(/stax approve react 18\.3\.1/);
    expect(verdict(r, 'node_modules/is-odd/node_modules/is-number').reasons[0]!.message).toMatch(/approved: 7\.0\.0/);
    expect(verdict(r, 'node_modules/react').line).toBe(190);
    expect(r.ok).toBe(false);
  });

  it('RANGE_ONLY: allowed through a range is flagged, never silently allowed', async () => {
    const dir = await approved();
    await revoke(change(dir), [{ name: 'is-number', version: '3.0.0' }]);
    await approve(change(dir), [{ kind: 'range', name: 'is-number', range: '^3.0.0' }]);
    const v = verdict(await check(dir), 'node_modules/is-odd/node_modules/is-number');
    expect(v.status).toBe('flagged');
    expect(codes(v)).toEqual(['RANGE_ONLY']);
  });

  it('INTEGRITY_MISMATCH and INTEGRITY_MISSING', async () => {
    const dir = await approved('v3-git.package-lock.json', (lock) => {
      lock.packages['node_modules/ms'].integrity = OTHER;
      delete lock.packages['node_modules/js-tokens'].integrity;
    });
    const r = await check(dir);
    expect(codes(verdict(r, 'node_modules/ms'))).toEqual(['INTEGRITY_MISMATCH']);
    expect(verdict(r, 'node_modules/ms').reasons[0]!.message).toMatch(/sha512/);
    const missing = verdict(r, 'node_modules/js-tokens');
    expect(missing.status).toBe('blocked');
    expect(codes(missing)).toEqual(['INTEGRITY_MISSING']);
  });

  it('HOST_NOT_ALLOWED: a tarball from another host, a configured registry not allowed, or another host than approved', async () => {
    const dir = await approved('v3-git.package-lock.json', (lock) => {
      lock.packages['node_modules/ms'].resolved = 'https://evil.example.com/ms/-/ms-2.1.3.tgz';
    });
    const r = await check(dir);
    expect(codes(verdict(r, 'node_modules/ms'))).toEqual(['HOST_NOT_ALLOWED']);
    expect(verdict(r, 'node_modules/ms').reasons[0]!.message).toMatch(/evil\.example\.com.*not an allowed registry host/);

    // No "resolved": npm fetches from whatever registry is configured.
    const nr = project('v3-no-resolved.package-lock.json');
    await approveLockfile(nr);
    expect((await check(nr, { registry: 'https://mirror.example.com/npm/' })).packages.filter((p) => codes(p).includes('HOST_NOT_ALLOWED'))).toHaveLength(17);
    await approve(change(nr), [], { hosts: ['mirror.example.com'] });
    expect((await check(nr, { registry: 'https://mirror.example.com/npm/' })).ok).toBe(true);

    // Approved from one host (recorded), locked to another allowed host.
    const pinned = project('npm-shrinkwrap.json');
    await approve(change(pinned), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: 'mirror.example.com', installScript: false }], { hosts: ['mirror.example.com'] });
    const v = verdict(await check(pinned), 'node_modules/ms');
    expect(codes(v)).toEqual(['HOST_NOT_ALLOWED']);
    expect(v.reasons[0]!.message).toMatch(/approved from mirror\.example\.com/);
  });

  it('the configured registry comes from npm itself when not given (scoped registries too)', async () => {
    const nr = project('v3-no-resolved.package-lock.json');
    await approveLockfile(nr);
    writeFileSync(join(nr, '.npmrc'), '@types:registry=https://types.example.com/\n');
    const r = await checkProject({ cwd: nr, env: { ...env, PATH: process.env.PATH, HOME: nr, npm_config_registry: NPMJS } });
    expect(notAllowed(r).filter(([, , c]) => c.includes('HOST_NOT_ALLOWED'))).toEqual([['node_modules/@types/ms', 'blocked', ['HOST_NOT_ALLOWED']]]);
    expect(verdict(r, 'node_modules/@types/ms').reasons[0]!.message).toMatch(/configured registry types\.example\.com/);
  });

  it('SOURCE_NOT_APPROVED: git, file and remote sources need their exact spec, approved for the same name', async () => {
    const dir = await approved();
    const git = 'git+ssh://git@github.com/stax-fixtures/gitdep.git#0123456789abcdef0123456789abcdef01234567';
    await revoke(change(dir), [{ source: git }, { source: 'http://127.0.0.1:48213/remote-pkg-1.0.0.tgz' }]);
    let r = await check(dir);
    expect(codes(verdict(r, 'node_modules/gitdep'))).toEqual(['SOURCE_NOT_APPROVED']);
    expect(codes(verdict(r, 'node_modules/remote-pkg'))).toEqual(['SOURCE_NOT_APPROVED']);
    // The same commit, approved under another package's name, does not count.
    await approve(change(dir), [{ kind: 'source', name: 'left-pad', source: git }]);
    r = await check(dir);
    expect(verdict(r, 'node_modules/gitdep').reasons[0]!.message).toMatch(/approved for the package left-pad, not gitdep/);
    // Another commit of the same repository is another source.
    const moved = await approved('v3-git.package-lock.json', (lock) => {
      lock.packages['node_modules/gitdep'].resolved = git.replace(/#.*/, '#ffffffffffffffffffffffffffffffffffffffff');
    });
    expect(codes(verdict(await check(moved), 'node_modules/gitdep'))).toEqual(['SOURCE_NOT_APPROVED']);
  });

  it('EXPIRED: an approval past its expiry blocks', async () => {
    const dir = project('npm-shrinkwrap.json');
    const now = new Date('2030-01-01T00:00:00Z');
    await approve(change(dir, { now }), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: false }], { expires: parseExpires('30d', now) });
    expect((await check(dir, { now: new Date('2030-01-15T00:00:00Z') })).ok).toBe(true);
    const late = await check(dir, { now: new Date('2030-02-01T00:00:00Z') });
    expect(notAllowed(late)).toEqual([['node_modules/ms', 'blocked', ['EXPIRED']]]);
    expect(late.packages[0]!.reasons[0]!.message).toMatch(/expired on 2030-01-31/);
  });

  it('INSTALL_SCRIPT flags; INSTALL_SCRIPT_NEW blocks when the approval said there was none', async () => {
    const dir = await approved('v3-git.package-lock.json', (lock) => {
      lock.packages['node_modules/ms'].hasInstallScript = true;
    });
    const r = await check(dir);
    expect(notAllowed(r)).toEqual([
      ['node_modules/ms', 'blocked', ['INSTALL_SCRIPT_NEW']],
      ['vendor/local-folder', 'flagged', ['INSTALL_SCRIPT']],
    ]);
    // Approved while unknown (offline): flagged, not blocked.
    const offline = project('npm-shrinkwrap.json', (lock) => (lock.packages['node_modules/ms'].hasInstallScript = true));
    await approve(change(offline), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: null }]);
    expect(notAllowed(await check(offline))).toEqual([['node_modules/ms', 'flagged', ['INSTALL_SCRIPT']]]);
  });

  it('LOCKFILE_PROBLEM: the reader’s errors block, and nothing it found is hidden', async () => {
    const dir = await approved('v3-git.package-lock.json', (lock) => {
      // A registry URL for another package than the entry claims.
      lock.packages['node_modules/ms'].resolved = 'https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz';
    });
    const v = verdict(await check(dir), 'node_modules/ms');
    expect(v.status).toBe('blocked');
    expect(codes(v)).toContain('LOCKFILE_PROBLEM');
    expect(v.reasons.find((x) => x.code === 'LOCKFILE_PROBLEM')!.message).toMatch(/^RESOLVED_MISMATCH/);
  });

  it('hostile names in the lockfile are data: __proto__ and escape sequences', async () => {
    const dir = project('npm-shrinkwrap.json', (lock) => {
      Object.defineProperty(lock.packages, 'node_modules/__proto__', { value: { version: '1.0.0', resolved: 'https://registry.npmjs.org/__proto__/-/__proto__-1.0.0.tgz', integrity: OTHER }, enumerable: true });
      lock.packages['node_modules/\u001b[2Jx'] = { version: '1.0.0', integrity: OTHER, resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz' };
    });
    await approve(change(dir), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: false }]);
    const r = await check(dir);
    const proto = verdict(r, 'node_modules/__proto__');
    expect(proto.status).toBe('blocked');
    expect(codes(proto)).toContain('NOT_APPROVED');
    expect(codes(verdict(r, 'node_modules/\u001b[2Jx'))).toContain('LOCKFILE_PROBLEM');
    expect(verdict(r, 'node_modules/ms').status).toBe('allowed');
  });

  it('extra name@version specs: exact approvals, ranges, unknown packages; no lockfile needed', async () => {
    const dir = project(null);
    await approve(change(dir), [
      { kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: true },
      { kind: 'range', name: 'left-pad', range: '^1.2.0' },
    ]);
    const r = await check(dir, { extra: ['ms@2.1.3', 'ms@2.0.0', 'left-pad@1.3.0', 'left-pad@^1.2.0', 'lodash@4.17.21', '@types/ms@0.7.34', 'ms'] });
    expect(r.lockfile).toBeNull();
    expect(r.packages.map((p) => [p.path, p.status, codes(p)])).toEqual([
      ['ms@2.1.3', 'flagged', ['INSTALL_SCRIPT']],
      ['ms@2.0.0', 'blocked', ['VERSION_NOT_APPROVED']],
      ['left-pad@1.3.0', 'flagged', ['RANGE_ONLY']],
      ['left-pad@^1.2.0', 'flagged', ['RANGE_ONLY']],
      ['lodash@4.17.21', 'blocked', ['NOT_APPROVED']],
      ['@types/ms@0.7.34', 'blocked', ['NOT_APPROVED']],
      ['ms', 'blocked', ['VERSION_NOT_APPROVED']],
    ]);
    expect(await reason(check(dir, { extra: ['../evil@1.0.0'] }))).toBe('USAGE');
    expect(await reason(check(dir))).toBe('FILE_NOT_FOUND');
    expect(await reason(check(dir, { lockfile: 'missing.json' }))).toBe('FILE_NOT_FOUND');
  });
});

describe('tampering, swapping and rolling back', () => {
  const allowlistOf = (dir: string): string => join(dir, '.stax/allowlist.json');

  it('an edited or a shortened allowlist is refused before any package is looked at (exit 1)', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approveLockfile(dir, {}, 'npm-shrinkwrap.json');
    const text = readFileSync(allowlistOf(dir), 'utf8');
    writeFileSync(allowlistOf(dir), text.replace('"installScript": false', '"installScript": true'));
    const e = await rejection(check(dir));
    expect(e).toMatchObject({ reason: 'BAD_SIGNATURE', exitCode: 1, file: allowlistOf(dir) });
    const doc = JSON.parse(text);
    delete doc.packages.ms;
    writeFileSync(allowlistOf(dir), JSON.stringify(doc, null, 2));
    expect(await reason(check(dir))).toBe('BAD_SIGNATURE');
    // And no change is accepted on top of an edited file.
    const before = readFileSync(allowlistOf(dir), 'utf8');
    expect(await reason(approve(change(dir), [{ kind: 'range', name: 'x', range: '*' }]))).toBe('BAD_SIGNATURE');
    expect(readFileSync(allowlistOf(dir), 'utf8')).toBe(before);
  });

  it('re-ordered members still verify, and still match the guard trail', async () => {
    const dir = project('v3-git.package-lock.json');
    await approveLockfile(dir);
    const doc = JSON.parse(readFileSync(allowlistOf(dir), 'utf8'));
    const reversed = Object.fromEntries(Object.entries(doc).reverse());
    reversed.packages = Object.fromEntries(Object.entries(doc.packages).reverse());
    writeFileSync(allowlistOf(dir), JSON.stringify(reversed));
    expect((await check(dir)).ok).toBe(true);
  });

  it('another project’s allowlist, signed with the same key, is an ALLOWLIST_MISMATCH', async () => {
    const a = project('npm-shrinkwrap.json');
    const b = project('npm-shrinkwrap.json');
    await approveLockfile(a, {}, 'npm-shrinkwrap.json');
    await approve(change(b), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: false, }, { kind: 'range', name: 'lodash', range: '*' }]);
    copyFileSync(allowlistOf(b), allowlistOf(a));
    const e = await rejection(check(a));
    expect(e).toMatchObject({ reason: 'ALLOWLIST_MISMATCH', exitCode: 1 });
    expect(e.message).toMatch(/not the one the guard trail recorded/);
  });

  it('an older signed allowlist put back is a ROLLBACK, and cannot be laundered by a new change', async () => {
    const dir = project('v3-git.package-lock.json');
    await approve(change(dir), [{ kind: 'range', name: 'react', range: '*' }]);
    const old = readFileSync(allowlistOf(dir));
    await approveLockfile(dir);
    await revoke(change(dir), [{ name: 'react' }]);
    writeFileSync(allowlistOf(dir), old);
    const e = await rejection(check(dir));
    expect(e).toMatchObject({ reason: 'ROLLBACK', exitCode: 1 });
    expect(e.message).toMatch(/serial 1, but the guard trail records serial 3/);
    expect(await reason(approve(change(dir), [{ kind: 'range', name: 'x', range: '*' }]))).toBe('ROLLBACK');
    // Without the guard trail a rollback cannot be seen: the old file verifies on its own.
    expect((await checkProject({ cwd: dir, env, registry: NPMJS, guardTrail: null })).serial).toBe(1);
  });

  it('a guard trail cut short, tampered with, or gone', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approve(change(dir), [{ kind: 'range', name: 'ms', range: '*' }]);
    await approveLockfile(dir, {}, 'npm-shrinkwrap.json');
    const trail = join(dir, '.stax/guard.jsonl');
    const text = readFileSync(trail, 'utf8');
    const lines = text.trimEnd().split('\n');
    // One change missing is what an approve killed before its trail append leaves: the
    // allowlist is still validly signed, so it passes with a warning.
    writeFileSync(trail, lines.slice(0, -1).join('\n') + '\n');
    expect((await check(dir)).warnings).toEqual([expect.stringMatching(/one change ahead of the guard trail/)]);
    writeFileSync(trail, lines.slice(0, -2).join('\n') + '\n');
    expect(await reason(check(dir))).toBe('ALLOWLIST_MISMATCH');
    writeFileSync(trail, text.replace('"serial":2', '"serial":1'));
    expect(await reason(check(dir))).toBe('GUARD_TRAIL_INVALID');
    unlinkSync(trail);
    const gone = await rejection(check(dir));
    expect(gone).toMatchObject({ reason: 'GUARD_TRAIL_MISSING', exitCode: 2 });
    expect(gone.message).toMatch(/--no-guard-trail/);
    expect((await check(dir, { guardTrail: null })).ok).toBe(true);
  });

  it('a deleted allowlist is not silently started again while the trail remembers it', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approveLockfile(dir, {}, 'npm-shrinkwrap.json');
    unlinkSync(allowlistOf(dir));
    expect(await reason(check(dir))).toBe('ALLOWLIST_MISSING');
    expect(await reason(approve(change(dir), [{ kind: 'range', name: 'ms', range: '*' }]))).toBe('ALLOWLIST_MISSING');
    expect(existsSync(allowlistOf(dir))).toBe(false);
  });
});

describe('changes', () => {
  it('every change is serial + 1 and one guard-trail entry naming what changed', async () => {
    const dir = project('npm-shrinkwrap.json');
    const r1 = await approve(change(dir), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: 'registry.npmjs.org', installScript: false }], { note: 'why' });
    expect(r1).toMatchObject({ created: true, previousSerial: null, serial: 1, signedWith: { hmac: true, ed25519: [] } });
    const r2 = await revoke(change(dir), [{ name: 'ms', version: '2.1.3' }]);
    expect(r2).toMatchObject({ created: false, previousSerial: 1, serial: 2 });
    const r3 = await resign(change(dir));
    expect(r3.serial).toBe(3);
    const { header, entries } = readChain(join(dir, '.stax/guard.jsonl'));
    expect(header).toMatchObject({ kind: 'guard', format: 'stax-chain' });
    expect(entries.map((e) => [e.action, e.actor, (e.payload as any).serial, (e.payload as any).changes])).toEqual([
      ['allowlist.change', 'tester', 1, [{ op: 'approve', name: 'ms', version: '2.1.3' }]],
      ['allowlist.change', 'tester', 2, [{ op: 'revoke', name: 'ms', version: '2.1.3' }]],
      ['allowlist.change', 'tester', 3, [{ op: 'sign' }]],
    ]);
    expect((entries[2]!.payload as any).digest).toBe(r3.digest);
  });

  it('refuses a second approval of a version with other bytes, an unknown host, bad input, and revoking what is not there', async () => {
    const dir = project(null);
    await approve(change(dir), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: false }]);
    const again = await rejection(approve(change(dir), [{ kind: 'version', name: 'ms', version: '2.1.3', integrity: OTHER, host: null, installScript: false }]));
    expect(again.message).toMatch(/already approved with another integrity.*stax revoke ms 2\.1\.3/);
    expect((await rejection(approve(change(dir), [{ kind: 'version', name: 'x', version: '1.0.0', integrity: OTHER, host: 'evil.example.com', installScript: false }]))).message).toMatch(/--allow-host evil\.example\.com/);
    const bad: ApprovalItem[] = [
      { kind: 'version', name: '__proto__', version: '1.0.0', integrity: OTHER, host: null, installScript: null },
      { kind: 'version', name: 'x', version: '^1.0.0', integrity: OTHER, host: null, installScript: null },
      { kind: 'version', name: 'x', version: '1.0.0', integrity: 'abc', host: null, installScript: null },
      { kind: 'range', name: 'x', range: 'not a range' },
      { kind: 'source', name: 'x', source: 'lodash@4' },
    ];
    for (const item of bad) expect(await reason(approve(change(dir), [item]))).toBe('USAGE');
    expect(await reason(revoke(change(dir), [{ name: 'ms', version: '9.9.9' }]))).toBe('USAGE');
    expect(await reason(revoke(change(dir), [{ name: 'lodash' }]))).toBe('USAGE');
    expect((await readAllowlist(join(dir, '.stax/allowlist.json'))).serial).toBe(1);
  });

  it('two approvers at once: neither change is lost', async () => {
    const dir = project(null);
    await approve(change(dir), [{ kind: 'range', name: 'a', range: '*' }]);
    const names = ['b', 'c', 'd', 'e', 'f'];
    await Promise.all(names.map((n) => approve(change(dir), [{ kind: 'range', name: n, range: '*' }])));
    const a = await readAllowlist(join(dir, '.stax/allowlist.json'));
    expect(a.serial).toBe(6);
    expect(Object.keys(a.packages).sort()).toEqual(['a', ...names]);
    expect((await check(dir, { extra: ['f@1.0.0'] })).ok).toBe(true);
    const serials = readChain(join(dir, '.stax/guard.jsonl')).entries.map((e) => (e.payload as any).serial);
    expect(serials).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('HMAC key rotation with allowlist sign: the old key verifies the current file, the new one signs', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approveLockfile(dir, {}, 'npm-shrinkwrap.json');
    const rotated = { STAX_HMAC_KEY: 'the-new-key', STAX_HMAC_KEY_PREVIOUS: KEY };
    expect(await reason(resign({ cwd: dir, env: { STAX_HMAC_KEY: 'the-new-key' }, actor: 't' }))).toBe('BAD_SIGNATURE');
    await resign({ cwd: dir, env: rotated, actor: 't' });
    expect((await checkProject({ cwd: dir, env: { STAX_HMAC_KEY: 'the-new-key' } })).ok).toBe(true);
    expect(await reason(checkProject({ cwd: dir, env }))).toBe('BAD_SIGNATURE');
  });

  it('Ed25519: signs for public-key checks; refuses a signature that the check could not verify', async () => {
    const dir = project('npm-shrinkwrap.json');
    const keyFile = (name: string): string => {
      const file = join(dir, `${name}.key`);
      writeFileSync(file, formatSignerKey(name, generateKeyPair().seed) + '\n', { mode: 0o600 });
      return file;
    };
    const alice = keyFile('alice');
    const mallory = keyFile('mallory');
    const noHmac = (extra: Partial<ChangeOptions> = {}): ChangeOptions => ({ cwd: dir, env: {}, actor: 'alice', ...extra });
    const ms: ApprovalItem = { kind: 'version', name: 'ms', version: '2.1.3', integrity: MS_2_1_3, host: null, installScript: false };
    // No trusted keys: a check would need HMAC, which this file lacks.
    const untrusted = await rejection(approve(noHmac({ keys: [alice] }), [ms]));
    expect(untrusted.message).toMatch(/stax key show alice >> \.stax\/trusted-keys\.txt/);
    expect(existsSync(join(dir, '.stax/allowlist.json'))).toBe(false);
    const signer = parseSignerKey(readFileSync(alice, 'utf8').trim());
    writeFileSync(join(dir, '.stax/trusted-keys.txt'), formatVerifierKey('alice', signer.publicKey) + '\n');
    expect(await reason(approve(noHmac({ keys: [mallory] }), [ms]))).toBe('UNTRUSTED_KEY');
    await approve(noHmac({ keys: [alice] }), [ms]);
    const r = await checkProject({ cwd: dir, env: {} });
    expect(r).toMatchObject({ ok: true, signature: { mode: 'ed25519', signedBy: [expect.stringMatching(/^alice\+[0-9a-f]{8}$/)] } });
    // An HMAC key in the environment does not weaken the check while trusted keys exist.
    expect((await checkProject({ cwd: dir, env: { STAX_HMAC_KEY: 'anything' } })).signature.mode).toBe('ed25519');
    // A file forged with only an HMAC key is refused in Ed25519 mode.
    const doc = await readAllowlist(join(dir, '.stax/allowlist.json'));
    const { signAllowlist } = await import('../../src/guard/allowlist.js');
    writeFileSync(join(dir, '.stax/allowlist.json'), serializeAllowlist(signAllowlist(doc, { hmacKey: Buffer.from('forger'), signers: [] })));
    expect(await reason(checkProject({ cwd: dir, env: {} }))).toBe('UNSIGNED');
  });
});

describe('fail-open', () => {
  it('never blocks, and records what it let through in the guard trail', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approve(change(dir), [{ kind: 'range', name: 'unrelated', range: '*' }]);
    const out = await checkProjectFailOpen({ cwd: dir, env, command: 'npm install', npm: '11.19.1', actor: 'ci' });
    expect(out).toMatchObject({ ok: true, failOpen: true, error: null, wouldBlock: [{ name: 'ms', version: '2.1.3', codes: ['NOT_APPROVED'] }], recorded: { seq: 1 } });
    expect(out.warning).toMatch(/^FAIL-OPEN: .*ms@2\.1\.3.*failOpen: true/);
    const last = readChain(join(dir, '.stax/guard.jsonl')).entries.at(-1)!;
    expect(last).toMatchObject({ action: 'install.check', actor: 'ci', payload: { allowed: true, failOpen: true, npm: '11.19.1', command: 'npm install', blocked: [{ name: 'ms' }], lockfile: join(dir, 'npm-shrinkwrap.json') } });
    expect((last.payload as any).lockfileDigest).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
    // The trail still verifies and still matches the allowlist afterwards.
    expect((await check(dir, { extra: [] })).serial).toBe(1);
  });

  it('lets the install through when the check cannot run, saying why', async () => {
    const dir = project('npm-shrinkwrap.json');
    await approve(change(dir), [{ kind: 'range', name: 'ms', range: '*' }]);
    const out = await checkProjectFailOpen({ cwd: dir, env: {}, command: 'npm ci' });
    expect(out).toMatchObject({ ok: true, result: null, error: { code: 'KEY_MISSING' }, recorded: { seq: 1 } });
    expect((readChain(join(dir, '.stax/guard.jsonl')).entries.at(-1)!.payload as any).error.code).toBe('KEY_MISSING');
    rmSync(join(dir, '.stax'), { recursive: true });
    const none = await checkProjectFailOpen({ cwd: dir, env, command: 'npm ci' });
    expect(none).toMatchObject({ ok: true, recorded: null, error: { reason: 'ALLOWLIST_MISSING' } });
    expect(none.warning).toMatch(/NOT recorded/);
  });
});

describe('the install hook path stays light', () => {
  it('check.ts reaches neither pacote nor the prompts through static imports', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // Static imports only: `await import(...)` inside a function is loaded on demand.
      for (const m of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gms)) {
        const spec = m[1]!;
        if (/^import\s+type\s/.test(m[0]) || /^export\s+type\s/.test(m[0])) continue;
        if (spec.startsWith('.')) visit(join(file, '..', spec.replace(/\.js$/, '.ts')));
        else bare.add(spec);
      }
    };
    visit(join(FIXTURES, '../src/guard/check.ts'));
    expect(seen.size).toBeGreaterThan(10);
    expect([...bare].filter((b) => /pacote|inquirer|cli-table3/.test(b))).toEqual([]);
  });
});

describe('small parts', () => {
  it('parseExpires: durations, dates, times; never the past or nonsense', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseExpires('90d', now)).toBe('2030-04-01T00:00:00.000Z');
    expect(parseExpires('2w', now)).toBe('2030-01-15T00:00:00.000Z');
    expect(parseExpires('48h', now)).toBe('2030-01-03T00:00:00.000Z');
    expect(parseExpires('2031-02-28', now)).toBe('2031-02-28T00:00:00.000Z');
    expect(parseExpires('2030-06-01T12:00:00+02:00', now)).toBe('2030-06-01T10:00:00.000Z');
    for (const bad of ['2031-02-30', '2029-12-31', 'soon', '0d', '-1d', '90 days']) expect(() => parseExpires(bad, now)).toThrow(StaxError);
  });

  it('npm settings: .npmrc syntax, ${VAR} expansion, scoped registries; auth stays out of JSON', async () => {
    expect(parseNpmrc('; comment\n# other\n[section]\nregistry = "https://r.example/"\n@a:registry=https://a.example\n//r.example/:_authToken=${T}\nflag\nq=\'x y\'\nopt=${NOPE?}\n', { T: 'tok' })).toEqual({
      registry: 'https://r.example/',
      '@a:registry': 'https://a.example',
      '//r.example/:_authToken': 'tok',
      flag: 'true',
      q: 'x y',
      opt: '',
    });
    const dir = project(null);
    writeFileSync(join(dir, 'package.json'), '{}');
    writeFileSync(join(dir, '.npmrc'), '@acme:registry=https://acme.example/npm\n//acme.example/npm/:_authToken=${ACME_TOKEN}\n//unset.example/:_authToken=${UNSET_TOKEN}\n');
    const config = await loadNpmConfig(dir, { PATH: process.env.PATH, HOME: dir, ACME_TOKEN: 'acme-secret', npm_config_registry: 'https://mirror.example/' });
    expect(config).toMatchObject({ source: 'npm', registry: 'https://mirror.example/', scopes: { '@acme': 'https://acme.example/npm/' } });
    expect(config.auth).toEqual({ '//acme.example/npm/:_authToken': 'acme-secret' });
    expect(JSON.stringify(config)).not.toContain('acme-secret');
    expect(registryFor('@acme/x', config)).toBe('https://acme.example/npm/');
    expect(registryFor('x', config)).toBe('https://mirror.example/');
    // Without npm on the PATH, the same files are read directly.
    const direct = await loadNpmConfig(dir, { PATH: '/nonexistent', HOME: dir, npm_config_registry: 'https://mirror.example/' });
    expect(direct).toMatchObject({ source: 'npmrc', registry: 'https://mirror.example/', scopes: { '@acme': 'https://acme.example/npm/' } });
    expect(redact('request to https://user:pa55@r.example/x failed')).toBe('request to https://***@r.example/x failed');
  });

  it('integrityDiffers compares the strongest algorithm both sides have', () => {
    const sha1 = 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=';
    expect(integrityDiffers(MS_2_1_3, MS_2_1_3)).toBeNull();
    expect(integrityDiffers(MS_2_1_3, `${sha1} ${MS_2_1_3}`)).toBeNull();
    expect(integrityDiffers(`${sha1} ${MS_2_1_3}`, MS_2_1_3)).toBeNull();
    expect(integrityDiffers(MS_2_1_3, OTHER)).toMatch(/sha512/);
    expect(integrityDiffers(MS_2_1_3, sha1)).toMatch(/shares no hash algorithm/);
    expect(integrityDiffers(`${sha1} ${MS_2_1_3}`, `${sha1} ${OTHER}`)).toMatch(/sha512/);
  });
});
