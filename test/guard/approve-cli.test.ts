/**
 * The guard commands end to end: the built CLI as a child process (and in-process), a real
 * HTTP registry on 127.0.0.1 serving a packument and a tarball made by `npm pack`, and the
 * user's npm settings (npm_config_registry, an .npmrc auth token) as npm itself reads them.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import ssri from 'ssri';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/context.js';
import { FIXTURES, baseEnv, runCli, runInProcess, tempDir, type RunResult } from '../support/cli.js';
import { readChain } from '../support/chain.js';

const tmp = tempDir('stax-approve-');
const KEY = 'K3y-never-printed-0xDEADBEEF';
const TOKEN = 'npm_tok3n-never-printed';
const MS_2_1_3 = 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==';

let server: Server;
let registry: string;
let host: string;
let tarball: Buffer;
let integrity: string;
const requests: Array<{ url: string; auth: string | undefined }> = [];
/** A port nothing listens on: the registry is down. */
let deadRegistry: string;

beforeAll(async () => {
  const src = join(tmp.path, 'tiny-src');
  mkdirSync(src);
  writeFileSync(join(src, 'package.json'), JSON.stringify({ name: 'tiny-pkg', version: '1.0.0', scripts: { postinstall: 'node -e 0' } }));
  writeFileSync(join(src, 'index.js'), 'module.exports = 1;\n');
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp.path], { cwd: src, env: baseEnv(), encoding: 'utf8' }).trim().split('\n').pop()!;
  tarball = readFileSync(join(tmp.path, packed));
  integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();

  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    const base = `http://${req.headers.host}`;
    const json = (body: unknown): void => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    const version = (name: string, v: string, extra: Record<string, unknown> = {}) => ({
      name,
      version: v,
      dist: { integrity, shasum: 'x', tarball: `${base}/${name}/-/${name.split('/').pop()}-${v}.tgz` },
      ...extra,
    });
    switch (req.url) {
      case '/tiny-pkg':
        return json({
          name: 'tiny-pkg',
          'dist-tags': { latest: '1.1.0' },
          versions: { '1.0.0': version('tiny-pkg', '1.0.0', { scripts: { postinstall: 'node -e 0' } }), '1.1.0': version('tiny-pkg', '1.1.0') },
        });
      case '/@acme%2fscoped':
        return json({ name: '@acme/scoped', 'dist-tags': { latest: '2.0.0' }, versions: { '2.0.0': version('@acme/scoped', '2.0.0') } });
      case '/liar':
        // Filed under "liar", but the manifest is another package's.
        return json({ name: 'liar', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version('other', '1.0.0') } });
      case '/tiny-pkg/-/tiny-pkg-1.0.0.tgz':
        return res.end(tarball);
      default:
        res.statusCode = 404;
        return json({ error: 'not found' });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  host = `127.0.0.1:${port}`;
  registry = `http://${host}/`;
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  deadRegistry = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/`;
  await new Promise<void>((r) => dead.close(() => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  tmp.cleanup();
});

let counter = 0;
function project(lockfile?: string): string {
  const dir = join(tmp.path, `proj${++counter}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), '{"name":"proj","version":"1.0.0"}\n');
  if (lockfile !== undefined) copyFileSync(join(FIXTURES, 'lockfiles', lockfile), join(dir, 'package-lock.json'));
  return dir;
}

const envFor = (extra: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({ STAX_HMAC_KEY: KEY, npm_config_registry: registry, STAX_ACTOR: 'tester', ...extra });
const stax = (dir: string, args: string[], env: Record<string, string | undefined> = envFor()): Promise<RunResult> => runCli(args, { cwd: dir, env });
const allowlistOf = (dir: string): any => JSON.parse(readFileSync(join(dir, '.stax/allowlist.json'), 'utf8'));

/** Every output and file of the test so far, to search for secrets. */
const seen: string[] = [];
function keep(r: RunResult): RunResult {
  seen.push(r.stdout, r.stderr);
  return r;
}

describe('stax approve against a registry', () => {
  it('resolves a version and pins its integrity, host and install script', async () => {
    const dir = project();
    const refused = keep(await stax(dir, ['approve', 'tiny-pkg', '1.0.0']));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`comes from ${host}, which is not an allowed registry host`);
    expect(refused.stderr).toContain(`--allow-host ${host}`);
    expect(existsSync(join(dir, '.stax/allowlist.json'))).toBe(false);

    const r = keep(await stax(dir, ['approve', 'tiny-pkg', '1.0.0', '--allow-host', host, '--note', 'tiny helper', '--expires', '90d']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approved tiny-pkg 1.0.0');
    expect(r.stdout).toContain('RUNS AN INSTALL SCRIPT');
    expect(r.stdout).toMatch(/created \.stax\/allowlist\.json: serial 0 → 1, signed with hmac; guard trail \.stax\/guard\.jsonl entry 0/);
    const doc = allowlistOf(dir);
    expect(doc.hosts).toEqual(['registry.npmjs.org', host]);
    expect(doc.packages['tiny-pkg'].versions['1.0.0']).toMatchObject({ integrity, host, installScript: true, approvedBy: 'tester', note: 'tiny helper' });
    expect(Date.parse(doc.packages['tiny-pkg'].versions['1.0.0'].expires)).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    expect(readChain(join(dir, '.stax/guard.jsonl')).entries[0]!.payload).toMatchObject({ serial: 1, changes: [{ op: 'approve', host }, { op: 'approve', name: 'tiny-pkg', version: '1.0.0' }] });
  });

  it('without a version takes the latest, and says so', async () => {
    const dir = project();
    const r = keep(await stax(dir, ['approve', 'tiny-pkg', '--allow-host', host]));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no version given: took the latest, tiny-pkg@1\.1\.0/);
    expect(allowlistOf(dir).packages['tiny-pkg'].versions['1.1.0']).toMatchObject({ installScript: false });
    const j = keep(await stax(dir, ['approve', '@acme/scoped', '--allow-host', host, '--json']));
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ serial: 2, resolved: { name: '@acme/scoped', version: '2.0.0', latest: true, host } });
  });

  it('sends the auth token from the project .npmrc, and never prints it', async () => {
    const dir = project();
    writeFileSync(join(dir, '.npmrc'), `//${host}/:_authToken=\${TEST_NPM_TOKEN}\n`);
    requests.length = 0;
    const r = keep(await stax(dir, ['approve', 'tiny-pkg', '1.1.0', '--allow-host', host, '--json'], envFor({ TEST_NPM_TOKEN: TOKEN })));
    expect(r.code).toBe(0);
    expect(requests.find((q) => q.url === '/tiny-pkg')?.auth).toBe(`Bearer ${TOKEN}`);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  it('fails, and changes nothing, when the registry is down, does not know the package, or lies', async () => {
    const dir = project();
    await stax(dir, ['approve', 'tiny-pkg', '1.1.0', '--allow-host', host]);
    const before = readFileSync(join(dir, '.stax/allowlist.json'));
    const trailBefore = readFileSync(join(dir, '.stax/guard.jsonl'));

    const down = keep(await stax(dir, ['approve', 'tiny-pkg', '1.0.0'], envFor({ npm_config_registry: deadRegistry })));
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the registry http:\/\/127\.0\.0\.1:\d+\/ \(ECONNREFUSED\) to resolve tiny-pkg@1\.0\.0; nothing was approved/);
    expect(down.stderr).toMatch(/--integrity/);
    const downJson = keep(await stax(dir, ['approve', 'tiny-pkg', '1.0.0', '--json'], envFor({ npm_config_registry: deadRegistry })));
    expect(JSON.parse(downJson.stdout).error).toMatchObject({ reason: 'REGISTRY_UNREACHABLE' });

    const unknown = keep(await stax(dir, ['approve', 'no-such-pkg', '1.0.0']));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no package no-such-pkg on the registry/);
    const noVersion = keep(await stax(dir, ['approve', 'tiny-pkg', '9.9.9']));
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toMatch(/tiny-pkg has no version 9\.9\.9/);
    const liar = keep(await stax(dir, ['approve', 'liar', '1.0.0', '--allow-host', host]));
    expect(liar.code).toBe(2);
    expect(liar.stderr).toMatch(/answered liar@1\.0\.0 with a manifest for other@1\.0\.0/);

    expect(readFileSync(join(dir, '.stax/allowlist.json'))).toEqual(before);
    expect(readFileSync(join(dir, '.stax/guard.jsonl'))).toEqual(trailBefore);
  });

  it('--integrity approves offline: no request at all', async () => {
    const dir = project('npm-shrinkwrap.json');
    requests.length = 0;
    const r = keep(await stax(dir, ['approve', 'ms', '2.1.3', '--integrity', MS_2_1_3], envFor({ npm_config_registry: deadRegistry })));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approved ms 2.1.3 (sha512-6FlzubTLZG3…, any allowed host, install script unknown)');
    expect(allowlistOf(dir).packages.ms.versions['2.1.3']).toMatchObject({ integrity: MS_2_1_3, host: null, installScript: null });
    expect(requests).toEqual([]);
    expect(keep(await stax(dir, ['approve', 'ms', '--integrity', MS_2_1_3])).stderr).toMatch(/needs the exact version/);
    expect(keep(await stax(dir, ['approve', 'ms', '2.1.3', '--integrity', 'nope'])).code).toBe(2);
  });

  it('refuses to touch the network without a key to sign with', async () => {
    const dir = project();
    requests.length = 0;
    const r = keep(await stax(dir, ['approve', 'tiny-pkg', '1.0.0'], envFor({ STAX_HMAC_KEY: undefined })));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be signed: export STAX_HMAC_KEY=<secret>.*--key NAME/);
    expect(requests).toEqual([]);
  });
});

describe('stax approve --from-lockfile', () => {
  it('--yes approves every unapproved package in one signed change, from the lockfile alone', async () => {
    const dir = project('v3-git.package-lock.json');
    requests.length = 0;
    const r = keep(await stax(dir, ['approve', '--from-lockfile', '--yes'], envFor({ npm_config_registry: deadRegistry })));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/approved gitdep from the source git\+ssh:/);
    expect(r.stdout).toMatch(/created \.stax\/allowlist\.json: serial 0 → 1/);
    expect(requests).toEqual([]);
    const c = keep(await stax(dir, ['check']));
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/✔ 0 blocked, 1 flagged, 27 allowed/);
    expect(c.stdout).toMatch(/local-folder.*flagged.*INSTALL_SCRIPT/);
    const again = keep(await stax(dir, ['approve', '--from-lockfile', '--yes', '--json']));
    expect(JSON.parse(again.stdout)).toMatchObject({ candidates: 0, approved: [], change: null });
  });

  it('without a terminal (or with CI set) it explains what to run instead of asking, exit 2', async () => {
    const dir = project('v3-git.package-lock.json');
    const r = keep(await stax(dir, ['approve', '--from-lockfile']));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/22 package\(s\) in .*package-lock\.json are not approved\. Not asking: this is not an interactive terminal/);
    expect(r.stderr).toMatch(/stax check --lockfile .*stax approve --from-lockfile .* --yes/);
    expect(existsSync(join(dir, '.stax/allowlist.json'))).toBe(false);
    const ci = await interactive(dir, ['approve', '--from-lockfile'], [], { CI: 'true' });
    expect(ci.code).toBe(2);
    expect(ci.stderr).toMatch(/Not asking/);
  });

  it('on a terminal, asks with a checklist and approves only what was ticked', async () => {
    const dir = project('npm-shrinkwrap.json');
    copyFileSync(join(FIXTURES, 'lockfiles/v3-git.package-lock.json'), join(dir, 'package-lock.json'));
    // Tick the first two entries, then confirm.
    const r = await interactive(dir, ['approve', '--from-lockfile', 'package-lock.json'], [' ', '\x1b[B', ' ', '\r']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Approve which packages?');
    expect(r.stdout).toMatch(/@isaacs\/string-locale-compare 1\.1\.0 +sha512-SQ7Kzhh9\+D\+… +no install script +prod/);
    expect(Object.keys(allowlistOf(dir).packages).sort()).toEqual(['@isaacs/string-locale-compare', '@types/ms']);
  });
});

/** Runs main() in-process with a fake terminal, typing `keys` once the prompt is up. */
async function interactive(cwd: string, argv: string[], keys: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const io: Io = { argv, programName: 'stax', env: { ...baseEnv(envFor()), ...extraEnv }, cwd, stdin, stdout, stderr };
  let typed = false;
  stdout.on('data', () => {
    if (typed || !Buffer.concat(out).toString().includes('Approve which packages?')) return;
    typed = true;
    void (async () => {
      for (const k of keys) {
        await new Promise((r) => setTimeout(r, 30));
        stdin.write(k);
      }
    })();
  });
  const code = await main(io);
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('stax check', () => {
  it('exit 0 / 1 / 2, a table of what is blocked or flagged and why, and --json', async () => {
    const dir = project('v3-git.package-lock.json');
    keep(await stax(dir, ['approve', '--from-lockfile', '--yes']));
    keep(await stax(dir, ['revoke', 'react']));
    const r = keep(await stax(dir, ['check']));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\| react +\| 18\.3\.1 +\| blocked +\| NOT_APPROVED +\| +190 \|/);
    expect(r.stdout).toMatch(/react 18\.3\.1: NOT_APPROVED: react is not in the allowlist; review it, then: stax approve react 18\.3\.1/);
    expect(r.stdout).toMatch(/✘ 1 blocked, 1 flagged, 26 allowed +\(package-lock\.json against \.stax\/allowlist\.json serial 2, HMAC-signed\)/);
    expect(r.stdout).not.toMatch(/\| ms +\|/);
    expect(keep(await stax(dir, ['check', '--all'])).stdout).toMatch(/\| ms +\| 2\.1\.3 +\| allowed/);

    const j = keep(await stax(dir, ['check', '--json', 'react@18.3.1']));
    expect(j.code).toBe(1);
    const result = JSON.parse(j.stdout);
    expect(result).toMatchObject({ ok: false, serial: 2, counts: { blocked: 2, flagged: 1 }, signature: { mode: 'hmac' } });
    expect(result.packages.at(-1)).toMatchObject({ name: 'react', version: '18.3.1', path: 'react@18.3.1', line: null, status: 'blocked' });

    const missing = keep(await stax(dir, ['check', '--lockfile', 'nope.json']));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
    const noAllowlist = keep(await stax(project('npm-shrinkwrap.json'), ['check']));
    expect(noAllowlist.code).toBe(2);
    expect(noAllowlist.stderr).toMatch(/no allowlist; create it by approving packages: stax approve/);
  });

  it('no key: KEY_MISSING, exit 2, saying how to fix it; an empty key and a 0644 key file are refused', async () => {
    const dir = project('npm-shrinkwrap.json');
    keep(await stax(dir, ['approve', '--from-lockfile', '--yes']));
    const none = keep(await stax(dir, ['check'], envFor({ STAX_HMAC_KEY: undefined })));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no key to verify the allowlist with: export STAX_HMAC_KEY=<secret> \(or pass --hmac-key-file FILE\), or use Ed25519: stax key generate/);
    const json = keep(await stax(dir, ['check', '--json'], envFor({ STAX_HMAC_KEY: undefined })));
    expect(JSON.parse(json.stdout).error.code).toBe('KEY_MISSING');
    const empty = keep(await stax(dir, ['check'], envFor({ STAX_HMAC_KEY: '' })));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/STAX_HMAC_KEY is set but empty/);
    const keyFile = join(dir, 'hmac.key');
    writeFileSync(keyFile, KEY + '\n', { mode: 0o644 });
    chmodSync(keyFile, 0o644);
    const loose = keep(await stax(dir, ['check', '--hmac-key-file', 'hmac.key'], envFor({ STAX_HMAC_KEY: undefined })));
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/hmac\.key: key file has mode 644.*chmod 600/);
    chmodSync(keyFile, 0o600);
    expect(keep(await stax(dir, ['check', '--hmac-key-file', 'hmac.key'], envFor({ STAX_HMAC_KEY: undefined }))).code).toBe(0);
    const wrong = keep(await stax(dir, ['check'], envFor({ STAX_HMAC_KEY: 'another-key' })));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HMAC signature does not verify/);
  });

  it('tampering and rollback fail the check (exit 1); allowlist verify and show say why', async () => {
    const dir = project('npm-shrinkwrap.json');
    keep(await stax(dir, ['approve', 'lodash', '--range', '^4.17.0', '--note', 'weak on purpose']));
    const old = readFileSync(join(dir, '.stax/allowlist.json'));
    keep(await stax(dir, ['approve', '--from-lockfile', '--yes']));
    const ok = keep(await stax(dir, ['allowlist', 'verify']));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✔ valid +\.stax\/allowlist\.json +serial 2, HMAC signature, matches guard trail \.stax\/guard\.jsonl \(2 entries\)/);

    const show = keep(await stax(dir, ['allowlist', 'show']));
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/\| lodash +\| range \^4\.17\.0 +\| - +\| tester +\|.*weak on purpose/);
    expect(show.stdout).toMatch(/\| ms +\| 2\.1\.3 +\| sha512-6FlzubTLZG3… +\| tester/);
    expect(show.stdout).toMatch(/serial 2, .* 2 approval\(s\), hosts registry\.npmjs\.org; HMAC signature verified/);
    const showJson = JSON.parse(keep(await stax(dir, ['allowlist', 'show', '--json'])).stdout);
    expect(showJson).toMatchObject({ serial: 2, verified: true, entries: [{ name: 'lodash', kind: 'range', range: '^4.17.0' }, { name: 'ms', kind: 'version', integrity: MS_2_1_3 }] });

    writeFileSync(join(dir, '.stax/allowlist.json'), old);
    const rolled = keep(await stax(dir, ['check']));
    expect(rolled.code).toBe(1);
    expect(rolled.stderr).toMatch(/ROLLBACK: this allowlist is serial 1, but the guard trail records serial 2/);
    const v = keep(await stax(dir, ['allowlist', 'verify', '--json']));
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: false, problems: [{ code: 'ROLLBACK' }] });

    const edited = old.toString().replace('"weak on purpose"', '"harmless"');
    writeFileSync(join(dir, '.stax/allowlist.json'), edited);
    const tampered = keep(await stax(dir, ['allowlist', 'show']));
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/DOES NOT VERIFY: the HMAC signature does not verify/);
    expect(tampered.stdout).toMatch(/harmless/);
  });

  it('Ed25519 with a trusted-keys file: approve with --key, check with public keys only', async () => {
    const dir = project('npm-shrinkwrap.json');
    const keyEnv = { STAX_KEY_DIR: join(dir, 'keys'), STAX_HMAC_KEY: undefined };
    expect(keep(await stax(dir, ['key', 'generate', '--name', 'alice'], envFor(keyEnv))).code).toBe(0);
    const pub = keep(await stax(dir, ['key', 'show', 'alice'], envFor(keyEnv))).stdout;
    const early = keep(await stax(dir, ['approve', 'ms', '2.1.3', '--integrity', MS_2_1_3, '--key', 'alice'], envFor(keyEnv)));
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/stax key show alice >> \.stax\/trusted-keys\.txt/);
    mkdirSync(join(dir, '.stax'), { recursive: true });
    writeFileSync(join(dir, '.stax/trusted-keys.txt'), pub);
    const r = keep(await stax(dir, ['approve', 'ms', '2.1.3', '--integrity', MS_2_1_3, '--key', 'alice', '--by', 'alice'], envFor(keyEnv)));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/signed with alice\+[0-9a-f]{8}/);
    const c = keep(await stax(dir, ['check', '--json'], { npm_config_registry: deadRegistry }));
    expect(c.code).toBe(0);
    expect(JSON.parse(c.stdout).signature).toEqual({ mode: 'ed25519', signedBy: [expect.stringMatching(/^alice\+/)] });
    // Adding the HMAC key to the environment changes nothing: Ed25519 stays required.
    const sign = keep(await stax(dir, ['allowlist', 'sign'], envFor()));
    expect(sign.code).toBe(2);
    expect(sign.stderr).toMatch(/stax check could not verify the new allowlist/);
    const both = keep(await stax(dir, ['allowlist', 'sign', '--key', 'alice'], envFor({ STAX_KEY_DIR: keyEnv.STAX_KEY_DIR })));
    expect(both.code).toBe(0);
    expect(both.stdout).toMatch(/serial 1 → 2, signed with hmac, alice\+/);
  });

  it('--fail-open exits 0, warns loudly and records failOpen: true', async () => {
    const dir = project('npm-shrinkwrap.json');
    keep(await stax(dir, ['approve', 'left-pad', '--range', '*']));
    const r = keep(await stax(dir, ['check', '--fail-open']));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/FAIL-OPEN: the install guard is not enforcing: 1 package\(s\) would have been blocked: ms@2\.1\.3\. Recorded in .*guard\.jsonl \(entry 1, failOpen: true\)/);
    expect(r.stdout).toMatch(/ms +\| 2\.1\.3 +\| blocked/);
    const last = readChain(join(dir, '.stax/guard.jsonl')).entries.at(-1)!;
    expect(last).toMatchObject({ action: 'install.check', actor: 'tester', payload: { failOpen: true, allowed: true, command: 'stax check', blocked: [{ name: 'ms', codes: ['NOT_APPROVED'] }] } });
    const noKey = keep(await stax(dir, ['check', '--fail-open', '--json'], envFor({ STAX_HMAC_KEY: undefined })));
    expect(noKey.code).toBe(0);
    expect(JSON.parse(noKey.stdout)).toMatchObject({ ok: true, failOpen: true, error: { code: 'KEY_MISSING' }, recorded: { seq: 2 } });
  });

  it('hostile package names reach the terminal neutralized', async () => {
    const dir = project();
    const lock = JSON.parse(readFileSync(join(FIXTURES, 'lockfiles/npm-shrinkwrap.json'), 'utf8'));
    lock.packages['node_modules/\u001b]0;pwned\u0007x'] = { version: '1.0.0', integrity: MS_2_1_3, resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz' };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2));
    keep(await stax(dir, ['approve', 'ms', '2.1.3', '--integrity', MS_2_1_3]));
    const r = keep(await stax(dir, ['check']));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07x');
  });
});

describe('revoke, re-sign and the help', () => {
  it('revoke removes approvals in one signed change', async () => {
    const dir = project('npm-shrinkwrap.json');
    keep(await stax(dir, ['approve', '--from-lockfile', '--yes']));
    keep(await stax(dir, ['approve', 'tool', '--source', 'git+ssh://git@github.com/acme/tool.git#4f9c2e1']));
    const r = keep(await stax(dir, ['revoke', 'ms', '2.1.3']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/revoked ms 2\.1\.3\nupdated \.stax\/allowlist\.json: serial 2 → 3/);
    const s = keep(await stax(dir, ['revoke', '--source', 'git+ssh://git@github.com/acme/tool.git#4f9c2e1', '--json']));
    expect(JSON.parse(s.stdout)).toMatchObject({ serial: 4, changes: [{ op: 'revoke', name: 'tool', source: 'git+ssh://git@github.com/acme/tool.git#4f9c2e1' }] });
    const none = keep(await stax(dir, ['revoke', 'ms', '2.1.3']));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/ms 2\.1\.3 is not approved/);
    expect(allowlistOf(dir)).toMatchObject({ serial: 4, packages: {}, sources: {} });
  });

  it('every guard command documents examples, exit codes and --json', async () => {
    for (const cmd of [['approve'], ['revoke'], ['check'], ['allowlist', 'show'], ['allowlist', 'verify'], ['allowlist', 'sign']]) {
      const r = await runInProcess([...cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('Exit codes:');
      expect(r.stdout).toContain('--json');
    }
  });

  it('the HMAC key and the npm token never appear in any output or file', async () => {
    expect(seen.length).toBeGreaterThan(40);
    for (const text of seen) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(TOKEN);
    }
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name !== 'hmac.key' && e.name !== '.npmrc') files.push(p);
      }
    };
    walk(tmp.path);
    for (const f of files) {
      const text = readFileSync(f, 'latin1');
      expect(text.includes(KEY), f).toBe(false);
      expect(text.includes(TOKEN), f).toBe(false);
    }
  });
});
