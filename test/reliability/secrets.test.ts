/**
 * Secrets: HMAC keys and private keys never appear in any output, trail, log or error.
 *
 * Every command of the registry (src/cli/registry.ts) runs, through the built CLI, in its
 * ordinary uses and its error paths, with STAX_HMAC_KEY set to a known value, an HMAC key
 * file, and known Ed25519 private keys in the key folder. Then every stdout, every stderr
 * and every file under the test's folder (the trails, the guard trail, the code bank, the
 * allowlist, npm's own logs under $HOME) is searched for each secret, in every encoding a
 * careless line could print it: the text, hex, base64, and 12-character pieces of each.
 * The key files themselves are the only files allowed to hold them.
 *
 * Also: private keys are written 0600 (whatever the umask) and refused when group or
 * others can read them; no command has a default secret (each that needs a key fails with
 * KEY_MISSING without one); HMAC comparisons use crypto.timingSafeEqual.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/registry.js';
import { formatSignerKey, formatVerifierKey, parseSignerKey } from '../../src/crypto/note.js';
import { BIN, FIXTURES, REPO, baseEnv, runInProcess } from '../support/cli.js';
import { Stats } from '../support/fuzz-config.js';
import { startNode, startStax, type Exited } from '../support/fuzz-process.js';

const stats = new Stats('reliability-secrets');
const tmp = mkdtempSync(join(tmpdir(), 'stax-secrets-'));
afterAll(() => {
  stats.flush();
  rmSync(tmp, { recursive: true, force: true });
});

const T = (p: string): string => join(tmp, p);
const HOME = T('home');
const KEY_DIR = T('keys');
const PROJ = T('proj');

const HMAC_SECRET = 'hmac-env-secret-9f2c71d4e8a3b6';
const HMAC_FILE_SECRET = 'hmac-file-secret-51c0ffee77aa';
const HMAC_PREVIOUS = 'hmac-previous-secret-0d15ea5e';
const seed = (label: string): Uint8Array => createHash('sha256').update(label).digest();
const ALICE_SEED = seed('stax secrets suite: alice');
const LOG_SEED = seed('stax secrets suite: log');
const LOG_NAME = 'secrets.example/trail';

/** Everything each run printed, for the search at the end. */
const outputs: Array<{ args: string[]; r: Exited }> = [];
/** Files that may hold a secret: the key files themselves. */
const keyFiles = new Set<string>();

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { HOME, STAX_KEY_DIR: KEY_DIR, STAX_HMAC_KEY: HMAC_SECRET, STAX_ACTOR: 'alice', ...extra };
}

async function stax(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; deadlineMs?: number } = {}): Promise<Exited> {
  const r = await startStax(args, { cwd: options.cwd ?? PROJ, env: env(options.env), deadlineMs: options.deadlineMs ?? 60_000 }).exited;
  outputs.push({ args, r });
  stats.add('invocations');
  return r;
}

/** Runs main() in this process, with the same environment; recorded like a child's run. */
async function inProcess(args: string[], extra: Record<string, string | undefined> = {}, cwd = PROJ): Promise<Exited> {
  const r = await runInProcess(args, { cwd, env: env(extra) });
  const exited: Exited = { ...r, signal: null, ms: 0 };
  outputs.push({ args, r: exited });
  stats.add('invocations');
  return exited;
}

/** The error code of a `--json` run that failed. */
function errorCode(r: Exited): string | undefined {
  try {
    return (JSON.parse(r.stdout) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

function writeKey(file: string, name: string, s: Uint8Array, mode = 0o600): void {
  writeFileSync(file, formatSignerKey(name, s) + '\n', { mode });
  chmodSync(file, mode);
  keyFiles.add(file);
}

const HAS = new Set(commands.map((c) => c.name));
const INTEGRITY = `sha512-${Buffer.alloc(64, 3).toString('base64')}`;

beforeAll(() => {
  for (const d of [HOME, KEY_DIR, PROJ, T('gen'), T('generic'), T('npmproj'), T('evidence')]) mkdirSync(d, { recursive: true });
  writeKey(join(KEY_DIR, 'alice.key'), 'alice', ALICE_SEED);
  writeKey(join(KEY_DIR, 'secrets.example_trail.key'), LOG_NAME, LOG_SEED);
  writeKey(T('alice-0640.key'), 'alice', ALICE_SEED, 0o640);
  // A damaged key file still holds the seed: its errors must not quote it.
  writeFileSync(T('corrupt.key'), formatSignerKey('alice', ALICE_SEED).replace('+alice+', '+al ice+') + '\n', { mode: 0o600 });
  writeFileSync(T('wrong-id.key'), formatSignerKey('alice', ALICE_SEED).replace(/\+[0-9a-f]{8}\+/, '+00000000+') + '\n', { mode: 0o600 });
  keyFiles.add(T('corrupt.key')).add(T('wrong-id.key'));
  writeFileSync(T('hmac.key'), HMAC_FILE_SECRET + '\n', { mode: 0o600 });
  writeFileSync(T('hmac-0644.key'), HMAC_FILE_SECRET + '\n', { mode: 0o644 });
  chmodSync(T('hmac-0644.key'), 0o644);
  keyFiles.add(T('hmac.key')).add(T('hmac-0644.key'));
  const pub = (name: string, s: Uint8Array): string => formatVerifierKey(name, parseSignerKey(formatSignerKey(name, s)).publicKey);
  writeFileSync(T('trusted-keys.txt'), `${pub('alice', ALICE_SEED)}\n${pub(LOG_NAME, LOG_SEED)}\n`);
  writeFileSync(join(PROJ, 'package.json'), '{\n  "name": "secrets-proj",\n  "version": "1.0.0"\n}\n');
  copyFileSync(join(FIXTURES, 'lockfiles/v3-resolved.package-lock.json'), join(PROJ, 'package-lock.json'));
  writeFileSync(T('npmproj/package.json'), '{"name":"npmproj","version":"1.0.0"}\n');
  writeFileSync(T('npmproj/package-lock.json'), '{"name":"npmproj","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"npmproj","version":"1.0.0"}}}\n');
  cpSync(join(FIXTURES, 'tracehound'), T('evidence'), { recursive: true });
});

// ---- running every command ---------------------------------------------------------------------

describe('every command, with secrets in reach', () => {
  it('runs every command of the registry in its ordinary uses and its error paths', { timeout: 300_000 }, async () => {
    const trail = join(PROJ, '.stax/trail.jsonl');
    const trusted = T('trusted-keys.txt');
    const registry = join(FIXTURES, 'guardian/approved_registry.json');
    const thcs = readdirSync(T('evidence')).find((n) => n.endsWith('.thcs'))!;
    const covered = new Set<string>();
    const all = (list: string[][], options: Parameters<typeof stax>[1] = {}): Promise<Exited[]> => Promise.all(list.map((a) => stax(a, options)));
    const mark = (...names: string[]): void => names.forEach((n) => covered.add(n));

    // Keys and signed entries first: later commands use them.
    await stax(['key', 'generate', '--name', 'bob', '--out', T('gen/bob.key')]);
    await stax(['key', 'generate', '--name', 'carol']);
    await stax(['key', 'generate', '--name', 'bob', '--out', T('gen/bob.key')]);
    await stax(['log', 'session.start', '--origin', LOG_NAME, '--key', 'alice', '--payload', '{"target":"example.com"}']);
    await stax(['log', 'step', '--payload', '{"i":1}'], { env: { STAX_SIGNING_KEY: 'alice' } });
    await stax(['log', 'step', '--key', join(KEY_DIR, 'alice.key'), '--session', 's-1']);
    await all([['log', 'step', '--key', 'nobody', '--json'], ['log', 'step', '--key', T('corrupt.key'), '--json'], ['log', 'step', '--key', T('wrong-id.key'), '--json']]);
    mark('key generate', 'log');

    await all([
      ['key', 'list'], ['key', 'show', 'alice'], ['key', 'show', T('corrupt.key')], ['key', 'show', T('wrong-id.key')],
      ['trail', 'show'], ['trail', 'show', '--jsonl'],
      ['verify', trail, '--trusted-keys', trusted], ['verify', registry], ['verify', registry, '--hmac-key-file', T('hmac.key'), '--json'],
      ['trail', 'export', '-o', join(PROJ, 'export.json')], ['trail', 'import', join(FIXTURES, 'trailstax/session_trail.json'), '--out', join(PROJ, 'imported.jsonl')],
      ['trail', 'repair', '--yes'],
    ]);
    await stax(['verify', registry, '--json'], { env: { STAX_HMAC_KEY: undefined } });
    mark('key list', 'key show', 'trail show', 'verify', 'trail export', 'trail import', 'trail repair');

    await stax(['checkpoint', '--key', LOG_NAME]);
    await all([
      ['checkpoint', '--key', 'nobody'],
      ['prove', trail, '--index', '1', '--trusted-keys', trusted, '--out', join(PROJ, 'proof.json')],
      ['prove', trail, '--index', '0', '--key', LOG_NAME, '--trusted-keys', trusted], ['prove', trail, '--index', '99', '--trusted-keys', trusted],
    ]);
    await all([['verify-proof', join(PROJ, 'proof.json'), '--trusted-keys', trusted], ['verify-proof', trail, '--trusted-keys', trusted], ['verify', trail, '--trusted-keys', trusted, '--checkpoint', `${trail}.checkpoint`]]);
    mark('checkpoint', 'prove', 'verify-proof');

    const ev = T('evidence');
    await all([
      ['inspect', ev, '--chain', join(ev, 'audit_chain.json')], ['inspect', join(ev, thcs), '--raw', '--force'],
      ['stats', ev, '--chain', join(ev, 'audit_chain.json')], ['watch', ev, '--once'],
      ['bundle', ev, '--chain', join(ev, 'audit_chain.json'), '--out', join(PROJ, 'case.json')], ['completion', 'bash'],
    ]);
    await all([['verify', join(PROJ, 'case.json')], ['doctor', '--json', '--npm-timeout', '10']]);
    mark('inspect', 'stats', 'watch', 'bundle', 'completion', 'doctor');

    await stax(['code', 'register', '--content', 'firewall.rule=deny all', 'package.json', '--meta', 'by=alice']);
    await all([['code', 'verify'], ['code', 'log', 'firewall.rule']]);
    await stax(['code', 'revoke', 'firewall.rule', '--reason', 'replaced']);
    mark('code register', 'code verify', 'code log', 'code revoke');

    // The guard: an allowlist signed with the HMAC key from the environment, then also with alice's key.
    await stax(['approve', 'left-pad', '1.3.0', '--integrity', INTEGRITY, '--note', 'secrets suite']);
    await stax(['approve', 'ms', '2.1.3', '--integrity', INTEGRITY, '--key', 'alice']);
    await all([
      ['approve', 'x', '1.0.0', '--integrity', 'sha512-not-base64!', '--json'],
      ['allowlist', 'show'], ['allowlist', 'verify', '--json'], ['check', '--all'], ['check', 'left-pad@1.3.0', '--json'],
      ['hook', 'status', '--npm-timeout', '10'], ['hook', 'run'], ['ci', '--format', 'sarif'],
    ]);
    await all([['allowlist', 'verify', '--hmac-key-file', T('hmac.key'), '--json'], ['check', '--json']], { env: { STAX_HMAC_KEY: 'a-wrong-key' } });
    await all([['revoke', 'left-pad', '1.3.0'], ['hook', 'install']]);
    await all([['revoke', 'nothing', '9.9.9'], ['check', '--fail-open'], ['hook', 'run', '--fail-open']]);
    await stax(['hook', 'uninstall']);
    await all([['npm', 'install', '-g', 'left-pad'], ['npm', 'ci', '--json']], { cwd: T('npmproj') });
    // Key rotation last: from here on the allowlist is signed with HMAC_FILE_SECRET.
    await stax(['allowlist', 'sign', '--key', 'alice', '--hmac-key-file', T('hmac.key')], { env: { STAX_HMAC_KEY_PREVIOUS: HMAC_SECRET } });
    await stax(['allowlist', 'verify', '--hmac-key-file', T('hmac.key')]);
    mark('approve', 'revoke', 'allowlist show', 'allowlist verify', 'allowlist sign', 'check', 'hook status', 'hook run', 'hook install', 'hook uninstall', 'npm', 'ci');

    // Every command, whatever it is, also on a file that does not exist, in an empty folder:
    // in this process through main() with the same environment (a child each would cost a
    // Node start-up per command for error paths that all end in one line).
    for (const c of commands) await inProcess([...c.name.split(' '), T('missing-file'), '--json'], {}, T('generic'));

    const uncovered = [...HAS].filter((n) => !covered.has(n));
    stats.add('commands run', HAS.size);
    if (uncovered.length > 0) {
      // A command added since this suite was written runs only the generic invocations above:
      // give it ordinary uses and error paths here.
      console.warn(`secrets suite: only generic invocations for ${uncovered.join(', ')}`);
      stats.add('commands with only generic invocations', uncovered.length);
    }
    // No run may have crashed, whatever it was given.
    const crashed = outputs.filter(({ r }) => /internal error|\n\s+at /.test(r.stderr) || r.signal !== null);
    expect(crashed.map(({ args, r }) => `stax ${args.join(' ')}: ${r.signal ?? ''} ${r.stderr.slice(0, 200)}`)).toEqual([]);
  });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const abs = join(dir, name);
    const st = statSync(abs, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) out.push(...walk(abs));
    else if (st.isFile()) out.push(abs);
  }
  return out;
}

// ---- key files ---------------------------------------------------------------------------------

describe('key files', () => {
  it('are written 0600, even under umask 000; their public halves 0644', { timeout: 60_000 }, async () => {
    const out = T('gen/umask.key');
    const env = Object.fromEntries(Object.entries(baseEnv({ HOME, STAX_KEY_DIR: KEY_DIR })).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const r = await startNode(['-e', `process.umask(0); require('node:child_process').execFileSync(process.execPath, [${JSON.stringify(BIN)}, 'key', 'generate', '--name', 'umask', '--out', ${JSON.stringify(out)}], { stdio: 'inherit' })`], { cwd: REPO, env }).exited;
    expect(r.code, r.stderr).toBe(0);
    keyFiles.add(out);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(statSync(out.replace(/\.key$/, '.pub')).mode & 0o777).toBe(0o644);
    for (const f of [T('gen/bob.key'), join(KEY_DIR, 'carol.key')]) expect(statSync(f).mode & 0o777).toBe(0o600);
  });

  it('are refused when group or others can read them: KEY_INSECURE, for every command that takes one', { timeout: 60_000 }, async () => {
    const cases: string[][] = [
      ['key', 'show', T('alice-0640.key'), '--json'],
      ['log', 'x', '--key', T('alice-0640.key'), '--trail', T('gen/insecure.jsonl'), '--json'],
      ['checkpoint', join(PROJ, '.stax/trail.jsonl'), '--key', T('alice-0640.key'), '--no-save', '--json'],
      ['prove', join(PROJ, '.stax/trail.jsonl'), '--index', '0', '--key', T('alice-0640.key'), '--json'],
      ['verify', join(FIXTURES, 'guardian/approved_registry.json'), '--hmac-key-file', T('hmac-0644.key'), '--json'],
    ];
    if (HAS.has('approve')) cases.push(['approve', 'z', '1.0.0', '--integrity', INTEGRITY, '--key', T('alice-0640.key'), '--json'], ['approve', 'z', '1.0.0', '--integrity', INTEGRITY, '--hmac-key-file', T('hmac-0644.key'), '--json']);
    if (HAS.has('check')) cases.push(['check', '--hmac-key-file', T('hmac-0644.key'), '--json']);
    // In this process (main() with the same environment): error paths, one line each.
    for (const args of cases) {
      const r = await inProcess(args, { STAX_HMAC_KEY: undefined });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(errorCode(r), `${args.join(' ')}: ${r.stdout}`).toBe('KEY_INSECURE');
    }
  });
});

// ---- no default secrets ------------------------------------------------------------------------

describe('no default secrets', () => {
  it('every command that needs a key fails with KEY_MISSING when none is given', { timeout: 60_000 }, async () => {
    const none = { STAX_HMAC_KEY: undefined, STAX_SIGNING_KEY: undefined, STAX_KEY_DIR: T('no-keys-here') };
    const trail = join(PROJ, '.stax/trail.jsonl');
    const cases: string[][] = [
      ['verify', join(FIXTURES, 'guardian/approved_registry.json'), '--json'],
      ['verify', trail, '--checkpoint', `${trail}.checkpoint`, '--json'],
      ['checkpoint', trail, '--no-save', '--json'],
      ['prove', trail, '--index', '0', '--json'],
      ['verify-proof', join(PROJ, 'proof.json'), '--json'],
    ];
    if (HAS.has('approve')) cases.push(['approve', 'w', '1.0.0', '--integrity', INTEGRITY, '--json']);
    if (HAS.has('allowlist verify')) cases.push(['allowlist', 'verify', '--json']);
    if (HAS.has('allowlist sign')) cases.push(['allowlist', 'sign', '--json']);
    if (HAS.has('check')) cases.push(['check', '--json']);
    for (const args of cases) {
      const r = await inProcess(args, none);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(errorCode(r), `${args.join(' ')}: ${r.stdout}`).toBe('KEY_MISSING');
    }
    stats.add('commands checked for default secrets', cases.length);
  });
});

// ---- constant-time comparison ------------------------------------------------------------------

describe('HMAC comparisons', () => {
  it('use crypto.timingSafeEqual, never === (src/formats/guardian.ts, src/guard/*.ts and any other file that makes an HMAC)', () => {
    const files = new Set([join(REPO, 'src/formats/guardian.ts'), ...readdirSync(join(REPO, 'src/guard')).filter((f) => f.endsWith('.ts')).map((f) => join(REPO, 'src/guard', f))]);
    for (const f of walk(join(REPO, 'src'))) if (f.endsWith('.ts') && readFileSync(f, 'utf8').includes('createHmac(')) files.add(f);
    let comparisons = 0;
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const where = relative(REPO, file);
      // An HMAC compared inline: createHmac(...)...digest(...) === x, or x !== hmacSignature(...).
      expect(text, where).not.toMatch(/\b(createHmac|hmacSignature)\([^()]*(\([^()]*\)[^()]*)*\)(\s*\.\s*\w+\([^()]*\))*\s*(===|!==|==|!=)|(===|!==|==|!=)\s*(createHmac|hmacSignature)\(/);
      // Every variable holding an HMAC is compared only through timingSafeEqual.
      for (const m of text.matchAll(/(?:const|let)\s+(\w+)\s*=\s*[^;]*\b(?:createHmac|hmacSignature)\(/g)) {
        const name = m[1]!;
        expect(text, `${where}: ${name} is compared with ===`).not.toMatch(new RegExp(`\\b${name}\\b\\s*(===|!==|==|!=)|(===|!==|==|!=)\\s*\\b${name}\\b`));
        expect(text, `${where}: ${name} never reaches timingSafeEqual`).toMatch(new RegExp(`timingSafeEqual\\([^)]*\\b${name}\\b`));
        comparisons++;
      }
    }
    // guardian.ts and allowlist.ts each verify an HMAC: at least those two.
    expect(comparisons).toBeGreaterThanOrEqual(2);
  });
});

// ---- the search, after every command above has run ---------------------------------------------

describe('the search', () => {
  it('no secret appears in any output, error, trail, log or other file', () => {
    expect(outputs.length).toBeGreaterThan(commands.length * 2);
    // The Ed25519 seeds of every private key in play: the known ones and the generated ones.
    const seeds = new Map<string, Uint8Array>([['alice seed', ALICE_SEED], ['log seed', LOG_SEED]]);
    for (const file of walk(tmp)) {
      if (!file.endsWith('.key')) continue;
      const text = readFileSync(file, 'utf8').trim();
      if (!text.startsWith('PRIVATE+KEY+') || keyFiles.has(file)) continue;
      keyFiles.add(file);
      seeds.set(`generated seed in ${relative(tmp, file)}`, Buffer.from(text.split('+').slice(4).join('+'), 'base64').subarray(1));
    }
    expect(seeds.size).toBeGreaterThanOrEqual(4);
    const needles = new Map<string, string>();
    const add = (what: string, text: string): void => {
      needles.set(text, what);
      for (let i = 0; i + 12 <= text.length; i += 4) needles.set(text.slice(i, i + 12), `${what} (12 characters at ${i})`);
    };
    for (const secret of [HMAC_SECRET, HMAC_FILE_SECRET, HMAC_PREVIOUS]) {
      add(`HMAC key ${secret.slice(0, 4)}…`, secret);
      add(`HMAC key ${secret.slice(0, 4)}… as hex`, Buffer.from(secret).toString('hex'));
      add(`HMAC key ${secret.slice(0, 4)}… as base64`, Buffer.from(secret).toString('base64'));
    }
    for (const [what, s] of seeds) {
      add(`${what} (base64, as in the key file)`, Buffer.concat([Buffer.of(1), s]).toString('base64'));
      add(`${what} (base64)`, Buffer.from(s).toString('base64'));
      add(`${what} (hex)`, Buffer.from(s).toString('hex'));
    }
    const found: string[] = [];
    const search = (where: string, text: string): void => {
      for (const [needle, what] of needles) if (text.includes(needle)) found.push(`${what} in ${where}`);
    };
    for (const { args, r } of outputs) {
      search(`stdout of stax ${args.join(' ')}`, r.stdout);
      search(`stderr of stax ${args.join(' ')}`, r.stderr);
      stats.add('outputs searched', 2);
    }
    for (const file of walk(tmp)) {
      if (keyFiles.has(file)) continue;
      search(relative(tmp, file), readFileSync(file).toString('latin1'));
      stats.add('files searched');
    }
    stats.add('secret encodings searched for', needles.size);
    expect(found).toEqual([]);
  });
});
