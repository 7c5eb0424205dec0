/**
 * The hostile-input matrix, through the built CLI (bin/stax.js as a child process, killed
 * at a deadline so that a hang fails instead of stalling the run).
 *
 * Every case ends in one of two ways:
 *  - a clean error: exit 2, nothing on stdout, exactly one line on stderr ("stax: ..."),
 *    no stack trace, no "internal error", no raw control character;
 *  - a correct verdict: exit 0 or 1, with every string from the input neutralized.
 * And nothing already stored changes: every file of a store (a signed trail, its kept
 * checkpoint, keys, trusted keys, evidence) is hashed before and after each group.
 *
 * Not here: stax verify's own matrix of formats (test/formats/hostile.test.ts). Lockfiles
 * run through `stax check` here, and through parseLockfile in test/fuzz/lockfile.test.ts.
 */
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, serializeEntry, serializeHeader } from '../../src/chain/entry.js';
import { ChainWriter } from '../../src/chain/writer.js';
import { commands } from '../../src/cli/registry.js';
import { assembleEnvelope, buildEnvelope } from '../../src/evidence/envelope.js';
import { generateKey, loadSigner } from '../../src/keys/store.js';
import { makeCheckpoint, openCheckpoint, checkpointPathFor } from '../../src/trail/checkpoint.js';
import { exportTrail } from '../../src/trail/export.js';
import { proveInclusion } from '../../src/trail/proof.js';
import { entrySigner } from '../../src/trail/sign.js';
import { parseVerifierKey } from '../../src/crypto/note.js';
import { Stats } from '../support/fuzz-config.js';
import { fingerprint, startStax, type Exited } from '../support/fuzz-process.js';

const stats = new Stats('reliability-hostile');
const root = mkdtempSync(join(tmpdir(), 'stax-hostile-matrix-'));
const store = join(root, 'store');
const inputs = join(root, 'inputs');
const scratch = join(root, 'scratch');
const IS_ROOT = process.getuid?.() === 0;
afterAll(() => {
  stats.flush();
  rmSync(root, { recursive: true, force: true });
});

const S = (p: string): string => join(store, p);
const I = (p: string): string => join(inputs, p);
const HMAC = 'hostile-matrix-hmac-key';

/** C0 (but \n), DEL, C1, bidi controls and the line/paragraph separators: never raw in output. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/;

function run(args: string[], options: { deadlineMs?: number; env?: Record<string, string>; cwd?: string } = {}): Promise<Exited> {
  stats.add('CLI cases');
  return startStax(args, { cwd: options.cwd ?? store, deadlineMs: options.deadlineMs ?? 30_000, env: { STAX_KEY_DIR: join(store, 'keys'), STAX_HMAC_KEY: HMAC, ...options.env } }).exited;
}

function describeRun(args: string[], r: Exited): string {
  return `stax ${args.map((a) => JSON.stringify(a).slice(0, 60)).join(' ')} → exit ${r.code}${r.signal ? ` (${r.signal}: deadline)` : ''}\nstdout: ${r.stdout.slice(0, 400)}\nstderr: ${r.stderr.slice(0, 400)}`;
}

/** Exit 2, one clean line on stderr, nothing on stdout. */
function expectCleanError(args: string[], r: Exited, message?: RegExp): void {
  const what = describeRun(args, r);
  expect(r.signal, what).toBeNull();
  expect(r.code, what).toBe(2);
  expect(r.stdout, what).toBe('');
  // `stax hook run` names itself and adds what happens to the install: npm prints the hook's
  // stderr among its own output.
  expect(r.stderr, what).toMatch(args[0] === 'hook' ? /^stax( hook)?: [^\n]+\n([^\n]+\n)?$/ : /^stax: [^\n]+\n$/);
  expect(r.stderr, what).not.toMatch(/internal error|\n\s+at |Error:/);
  expect(r.stderr.slice(0, -1), what).not.toMatch(RAW_CONTROL);
  if (message !== undefined) expect(r.stderr, what).toMatch(message);
  stats.add('clean errors');
}

/**
 * Exit 0 or 1 (or the given one), no crash, every printed string neutralized. At most one
 * warning line on stderr, unless the command reports there (`stax hook run`: npm shows a
 * hook's stderr).
 */
function expectVerdict(args: string[], r: Exited, exit?: 0 | 1): void {
  const what = describeRun(args, r);
  expect(r.signal, what).toBeNull();
  if (exit === undefined) expect([0, 1], what).toContain(r.code);
  else expect(r.code, what).toBe(exit);
  expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
  if (args[0] !== 'hook') expect(r.stderr.split('\n').filter(Boolean).length, what).toBeLessThanOrEqual(1);
  expect(r.stdout.replaceAll('\n', ''), what).not.toMatch(RAW_CONTROL);
  expect(r.stderr.replaceAll('\n', ''), what).not.toMatch(RAW_CONTROL);
  stats.add('verdicts');
}

/** Runs `body` and checks that no file of the store changed. */
async function storeUnchanged(body: () => Promise<void>): Promise<void> {
  const skip = (rel: string): boolean => rel.endsWith('.lock') || rel.endsWith('.steal');
  const before = fingerprint(store, skip);
  await body();
  const after = fingerprint(store, skip);
  expect([...after.entries()].sort(), 'a file of the store changed').toEqual([...before.entries()].sort());
  stats.add('store fingerprints compared', before.size);
}

// ---- the store and the inputs ---------------------------------------------------------------

const ESCAPES = 'ESC\u001b[2J\u001b]0;pwned\u0007 C1\u009b31m BIDI\u202eevil\u202c CR\roverwrite BEL\u0007 NUL\u0000 LS\u2028';
/** The same without NUL, which no command-line argument can hold. */
const ARG_ESCAPES = ESCAPES.replace('\u0000', '');
let trustedKeys = '';
let escEnvelopeName = '';
let deepEnvelopeName = '';

beforeAll(async () => {
  for (const d of [store, inputs, scratch, join(store, '.stax'), join(store, 'keys'), join(store, 'evidence')]) mkdirSync(d, { recursive: true });
  // The store: a signed trail with a kept checkpoint, the keys, trusted keys, evidence.
  const alice = generateKey('alice', { out: S('keys/alice.key'), env: {} });
  const log = generateKey('hostile.example/trail', { out: S('keys/log.key'), env: {} });
  trustedKeys = S('trusted-keys.txt');
  writeFileSync(trustedKeys, `${alice.verifierKey}\n${log.verifierKey}\n`);
  const aliceSigner = loadSigner(alice.privateKeyFile);
  const trail = S('.stax/trail.jsonl');
  const w = new ChainWriter(trail, { create: { kind: 'trail', origin: 'hostile.example/trail' }, sign: entrySigner(aliceSigner) });
  for (let i = 0; i < 4; i++) await w.append({ actor: 'alice', action: `step.${i}`, payload: { i, note: 'café' } });
  await makeCheckpoint(trail, loadSigner(log.privateKeyFile), { save: checkpointPathFor(trail) });
  const env = buildEnvelope({ payload: { path: '/login' }, at: 'store' }, { category: 'injection' });
  writeFileSync(S(`evidence/${env.fileName}`), env.bytes);

  // Inputs. Escapes in every field a person reads: actor, action, payload, session.
  const esc = new ChainWriter(I('escapes.jsonl'), { create: { kind: 'trail', origin: 'hostile.example/esc' }, durability: 'none' });
  await esc.append({ actor: `actor ${ARG_ESCAPES}`, action: `action ${ESCAPES}`, payload: { [`key ${ESCAPES}`]: ESCAPES }, session: ESCAPES });
  await esc.append({ actor: 'plain', action: 'plain', payload: ESCAPES });
  const escText = readFileSync(I('escapes.jsonl'), 'utf8');
  writeFileSync(I('escapes-tampered.jsonl'), escText.replace('"plain","payload"', '"plain ","payload"'));
  const header = serializeHeader({ format: 'stax-chain', version: 1, kind: 'trail', origin: 'hostile.example/doc', created: '2026-11-22T09:00:00.000Z' });
  const { line } = serializeEntry({ seq: 0, ts: '2026-11-22T09:00:00.000Z', actor: 'a', action: 'x', payload: 1, prev: GENESIS_HASH });
  writeFileSync(I('escapes-doc.json'), `${header.slice(0, -1)},"entries":[${line}],${JSON.stringify(`late ${ESCAPES}`)}:1}`);
  const escEnvelope = buildEnvelope({ payload: { body: ESCAPES, [ESCAPES]: 1 }, at: ESCAPES }, { category: 'injection' });
  escEnvelopeName = escEnvelope.fileName;
  writeFileSync(I(escEnvelope.fileName), escEnvelope.bytes);

  // Gzip bombs: 64 MiB in one line behind a 64 KiB .gz; 512 MiB of zeros behind a 512 KiB envelope claiming 100 bytes.
  writeFileSync(I('bomb.jsonl.gz'), gzipSync(Buffer.concat([Buffer.from(`${header}\n{"payload":"`), Buffer.alloc(64 * 1024 * 1024, 0x61)]), { level: 1 }));
  const mib = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  writeFileSync(I('bomb.thcs'), assembleEnvelope(Buffer.concat(Array.from({ length: 512 }, () => mib)), 100));

  // Depth: 100,000 levels.
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  writeFileSync(I('deep.jsonl'), `${header}\n${line.replace('"payload":1', `"payload":${deep}`)}\n`);
  writeFileSync(I('deep-payload.json'), deep);
  const deepEnvelope = buildEnvelope(Buffer.from(`{"a":${deep}}`), { category: 'injection' });
  deepEnvelopeName = deepEnvelope.fileName;
  writeFileSync(I(deepEnvelope.fileName), deepEnvelope.bytes);

  // Size: a 20 MB line; a valid chain ending in a 20 MB torn line.
  const big = Buffer.alloc(20 * 1024 * 1024, 0x61);
  writeFileSync(I('huge-line.jsonl'), Buffer.concat([Buffer.from(`${header}\n{"payload":"`), big, Buffer.from('"}\n')]));
  writeFileSync(I('huge-tail.jsonl'), Buffer.concat([readFileSync(trail), Buffer.from('{"seq":4,"payload":"'), big]));
  // Bytes: invalid UTF-8, BOM, NUL.
  writeFileSync(I('bad-utf8.jsonl'), Buffer.from(escText.replace('"plain","payload"', '"pl\u00ffin","payload"'), 'latin1'));
  writeFileSync(I('bad-utf8-payload.json'), Buffer.from('{"note":"caf\xe9 \xff"}', 'latin1'));
  writeFileSync(I('bad-utf8-keys.txt'), Buffer.concat([Buffer.from(`${alice.verifierKey}\n`), Buffer.from([0xff, 0xfe, 0x0a])]));
  writeFileSync(I('bom.jsonl'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(trail)]));
  writeFileSync(I('bom-payload.json'), '\ufeff{"a":1}');
  writeFileSync(I('bom-keys.txt'), `\ufeff${alice.verifierKey}\n`);
  writeFileSync(I('nul.jsonl'), readFileSync(trail, 'utf8').replace('café', 'caf\u0000'));
  // A proof bundle, then one with a BOM and one with invalid UTF-8 in a string.
  const cp = openCheckpoint(readFileSync(checkpointPathFor(trail), 'utf8'), [parseVerifierKey(log.verifierKey)], 'cp');
  const bundle = JSON.stringify(await proveInclusion(trail, 1, cp));
  writeFileSync(I('bundle.json'), bundle);
  writeFileSync(I('bom-bundle.json'), `\ufeff${bundle}`);
  writeFileSync(I('bad-utf8-bundle.json'), Buffer.from(bundle.replace('"step.1"', '"step.\xff"'), 'latin1'));
  writeFileSync(I('escapes-bundle.json'), bundle.replace('"step.1"', JSON.stringify(`step ${ESCAPES}`)));

  // Special files.
  symlinkSync('loop', I('loop'));
  mkdirSync(I('loopdir'));
  symlinkSync('.', I('loopdir/self'));
  symlinkSync('a', I('loopdir/b'));
  symlinkSync('b', I('loopdir/a'));
  execFileSync('mkfifo', [I('fifo-fed'), I('fifo-empty')]);
  const doc = I('doc.json');
  await exportTrail(trail, { out: doc, stdout: new PassThrough() });
}, 120_000);

// ---- the matrix -------------------------------------------------------------------------------

describe('hostile input through the CLI', () => {
  it('gzip bombs: a 64 MiB line behind 64 KiB of gzip, and a 512 MiB envelope claiming 100 bytes, with the heap capped at 64 MB', { timeout: 120_000 }, async () => {
    await storeUnchanged(async () => {
      const env = { NODE_OPTIONS: '--max-old-space-size=64' };
      for (const args of [['verify', I('bomb.jsonl.gz')], ['trail', 'show', I('bomb.jsonl.gz')]]) {
        expectCleanError(args, await run(args, { env }), /longer than 16777216 bytes/);
      }
      const args = ['inspect', I('bomb.thcs'), '--json'];
      const r = await run(args, { env });
      expectVerdict(args, r, 1);
      const report = JSON.parse(r.stdout) as { envelopes: Array<{ verdict: string; inflatedBytes: number }> };
      expect(report.envelopes[0]).toMatchObject({ verdict: 'SIZE_EXCEEDED' });
      expect(report.envelopes[0]!.inflatedBytes).toBeLessThan(1024 * 1024);
    });
  });

  it('100,000 levels of nesting: in a trail entry, a payload to log, and an envelope payload', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      for (const args of [['verify', I('deep.jsonl')], ['trail', 'show', I('deep.jsonl')]]) expectVerdict(args, await run(args), 1);
      const logArgs = ['log', 'deep', '--payload-file', I('deep-payload.json')];
      expectCleanError(logArgs, await run(logArgs), /nesting deeper than 1000/);
      const inspectArgs = ['inspect', I(deepEnvelopeName)];
      expectVerdict(inspectArgs, await run(inspectArgs));
    });
  });

  it('huge lines: showing a trail with a 20 MB line, appending after one, repairing a 20 MB torn tail', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      const show = ['trail', 'show', I('huge-line.jsonl')];
      expectCleanError(show, await run(show), /longer than/);
      const log = ['log', 'after.huge', '--trail', I('huge-tail.jsonl'), '--actor', 'a'];
      expectCleanError(log, await run(log), /incomplete|longer than/);
      const repair = ['trail', 'repair', I('huge-tail.jsonl'), '--yes'];
      expectCleanError(repair, await run(repair), /longer than 16 MiB/);
    });
  });

  it('invalid UTF-8, a BOM and NUL bytes: verdicts, clean errors, or accepted for what they are', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      for (const args of [['trail', 'show', I('bad-utf8.jsonl')], ['trail', 'show', I('nul.jsonl')], ['verify', I('nul.jsonl')]]) expectVerdict(args, await run(args), 1);
      expectVerdict(['trail', 'show', I('bom.jsonl')], await run(['trail', 'show', I('bom.jsonl')]), 0);
      const badKeys = ['verify', S('.stax/trail.jsonl'), '--trusted-keys', I('bad-utf8-keys.txt')];
      expectCleanError(badKeys, await run(badKeys), /KEY_INVALID|not a verifier key/);
      const bomKeys = ['verify', S('.stax/trail.jsonl'), '--trusted-keys', I('bom-keys.txt')];
      const r = await run(bomKeys);
      if (r.code === 2) expectCleanError(bomKeys, r);
      else expectVerdict(bomKeys, r);
      for (const file of ['bom-bundle.json', 'bad-utf8-bundle.json']) {
        const args = ['verify-proof', I(file), '--trusted-keys', trustedKeys];
        const out = await run(args);
        if (out.code === 2) expectCleanError(args, out);
        else expectVerdict(args, out);
      }
      // A payload file with a BOM is read as the JSON after it.
      const bomLog = ['log', 'bom', '--payload-file', I('bom-payload.json'), '--trail', join(scratch, 'bom.jsonl'), '--actor', 'a', '--json'];
      const logged = await run(bomLog);
      expectVerdict(bomLog, logged, 0);
      expect(JSON.parse(logged.stdout)).toMatchObject({ payload: { a: 1 } });
    });
  });

  it('terminal escape sequences in every printed field: shown escaped, never raw', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      const cases: Array<[string[], 0 | 1]> = [
        [['trail', 'show', I('escapes.jsonl')], 0],
        [['trail', 'show', I('escapes.jsonl'), '--reverse', '--actor', `actor ${ARG_ESCAPES}`], 0],
        [['verify', I('escapes.jsonl')], 0],
        [['verify', I('escapes-tampered.jsonl')], 1],
        [['trail', 'show', I('escapes-tampered.jsonl')], 1],
        [['verify', I('escapes-doc.json')], 1],
        [['inspect', I(escEnvelopeName)], 0],
        [['verify-proof', I('escapes-bundle.json'), '--trusted-keys', trustedKeys], 1],
      ];
      for (const [args, exit] of cases) {
        const r = await run(args);
        expectVerdict(args, r, exit);
        expect(r.stdout + r.stderr).not.toContain('\u001b');
      }
      // The output does show the escapes, visibly.
      const shown = await run(['trail', 'show', I('escapes.jsonl')]);
      expect(shown.stdout).toContain('\\x1b[2J');
      // A file name with escapes, in an error message.
      const missing = ['verify', I(`missing ${ARG_ESCAPES}.jsonl`)];
      expectCleanError(missing, await run(missing), /no such file/);
    });
  });

  it('__proto__ and constructor: as payload keys, actor and action, kept as data and verified', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      const trail = join(scratch, 'proto.jsonl');
      const payload = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"toString":"x"}';
      const logged = await run(['log', 'constructor', '--actor', '__proto__', '--payload', payload, '--trail', trail, '--json']);
      expectVerdict(['log'], logged, 0);
      const shown = await run(['trail', 'show', trail, '--jsonl']);
      expectVerdict(['trail', 'show', '--jsonl'], shown, 0);
      const entry = JSON.parse(shown.stdout) as Record<string, unknown>;
      expect(entry).toMatchObject({ actor: '__proto__', action: 'constructor' });
      expect(Object.keys(entry.payload as object).sort()).toEqual(['__proto__', 'constructor', 'toString']);
      expect(JSON.stringify(entry.payload)).toBe(payload.replace(/\s/g, ''));
      expectVerdict(['verify'], await run(['verify', trail]), 0);
      const doc = join(scratch, 'proto.json');
      expectVerdict(['trail', 'export'], await run(['trail', 'export', trail, '--out', doc]), 0);
      expectVerdict(['verify', 'doc'], await run(['verify', doc]), 0);
    });
  });

  it('symlink loops: every command that takes a file gives one clean line', { timeout: 90_000 }, async () => {
    await storeUnchanged(async () => {
      const loop = I('loop');
      const cases: string[][] = [
        ['verify', loop],
        ['trail', 'show', loop],
        ['trail', 'export', loop],
        ['trail', 'import', loop, '--out', join(scratch, 'imported.jsonl')],
        ['trail', 'repair', loop, '--yes'],
        ['log', 'x', '--trail', loop, '--actor', 'a'],
        ['checkpoint', loop, '--key', S('keys/log.key')],
        ['verify-proof', loop, '--trusted-keys', trustedKeys],
        ['verify', S('.stax/trail.jsonl'), '--trusted-keys', loop],
        ['key', 'show', loop],
        ['inspect', loop],
      ];
      for (const args of cases) expectCleanError(args, await run(args), /symbolic links|ELOOP|no such file|no key file/i);
      // Folders holding loops: reported, not followed forever.
      for (const args of [['inspect', I('loopdir')], ['stats', I('loopdir')]]) {
        const r = await run(args);
        if (r.code === 2) expectCleanError(args, r);
        else expectVerdict(args, r);
      }
    });
  });

  it('a FIFO fed a valid trail: verify reads it like a file; trail show reads it or refuses it cleanly', { timeout: 60_000 }, async () => {
    await storeUnchanged(async () => {
      const feed = (): void => void createWriteStream(I('fifo-fed')).end(readFileSync(S('.stax/trail.jsonl')));
      feed();
      const verify = ['verify', I('fifo-fed')];
      expectVerdict(verify, await run(verify), 0);
      feed();
      const show = ['trail', 'show', I('fifo-fed')];
      const r = await run(show);
      if (r.code === 2) expectCleanError(show, r, /not a regular file/);
      else expectVerdict(show, r, 0);
      // A refusing reader leaves the feeder waiting for a reader: give it one.
      if (r.code === 2) await run(['verify', I('fifo-fed')]);
    });
  });

  it.skipIf(IS_ROOT)('permission denied: unreadable trail, key and trusted keys; an unwritable trail (skipped as root, which reads anything)', { timeout: 60_000 }, async () => {
    const locked = join(scratch, 'locked');
    mkdirSync(locked);
    writeFileSync(join(locked, 'trail.jsonl'), readFileSync(S('.stax/trail.jsonl')));
    chmodSync(join(locked, 'trail.jsonl'), 0o000);
    writeFileSync(join(locked, 'k.key'), readFileSync(S('keys/alice.key')), { mode: 0o600 });
    chmodSync(join(locked, 'k.key'), 0o000);
    const ro = join(scratch, 'ro.jsonl');
    writeFileSync(ro, readFileSync(S('.stax/trail.jsonl')));
    chmodSync(ro, 0o444);
    await storeUnchanged(async () => {
      for (const args of [
        ['verify', join(locked, 'trail.jsonl')],
        ['trail', 'show', join(locked, 'trail.jsonl')],
        ['key', 'show', join(locked, 'k.key')],
        ['log', 'x', '--trail', ro, '--actor', 'a'],
      ]) {
        expectCleanError(args, await run(args), /permission denied/);
      }
    });
  });
});

// ---- code bank labels --------------------------------------------------------------------------

const HAS_CODE = commands.some((c) => c.name === 'code register');

describe.skipIf(!HAS_CODE)('terminal escapes in code bank labels', () => {
  it('register, verify and log a label full of escapes: shown escaped, never raw', { timeout: 60_000 }, async () => {
    const project = join(scratch, 'codebank');
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, `file ${ARG_ESCAPES.replace(/[\/\r]/g, '')}.txt`), 'print("hi")\n');
    await storeUnchanged(async () => {
      const label = `rule ${ARG_ESCAPES}`;
      const cases: string[][] = [
        ['code', 'register', '--content', `${label}=deny all`, '.'],
        ['code', 'verify', '--all'],
        ['code', 'log', label],
        ['code', 'revoke', label, '--reason', ARG_ESCAPES],
        ['code', 'verify', '--all'],
        ['verify', join(project, '.stax/codebank.jsonl')],
      ];
      for (const args of cases) {
        const r = await run(args, { cwd: project });
        expectVerdict(args, r);
        expect(r.stdout + r.stderr).not.toContain('\u001b');
      }
    });
  });
});

// ---- lockfiles through stax check -----------------------------------------------------------------

const HAS_CHECK = commands.some((c) => c.name === 'check') && commands.some((c) => c.name === 'approve');

const entry = { version: '1.0.0', resolved: 'https://registry.npmjs.org/x/-/x-1.0.0.tgz', integrity: `sha512-${Buffer.alloc(64, 9).toString('base64')}` };

/** A project with a signed allowlist (so that `stax check` gets as far as the lockfile) and this lockfile. */
async function lockfileProject(name: string, lock: unknown): Promise<string> {
  const project = join(scratch, `project-${name.replace(/\W+/g, '-')}`);
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'package.json'), '{"name":"hostile","version":"1.0.0"}');
  const approved = await run(['approve', 'left-pad', '1.3.0', '--integrity', entry.integrity], { cwd: project });
  expect(approved.code, approved.stderr).toBe(0);
  writeFileSync(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  return project;
}

describe.skipIf(!HAS_CHECK)('hostile lockfiles through stax check (with a signed allowlist, so the lockfile is read)', () => {
  const LOCKS: Record<string, unknown> = {
    'escape sequences in package names': { lockfileVersion: 3, packages: { '': {}, [`node_modules/${ESCAPES}`]: entry, [`node_modules/${ARG_ESCAPES}/node_modules/b`]: entry } },
    'path traversal and absolute paths': { lockfileVersion: 3, packages: { '': {}, 'node_modules/../../etc': entry, '/etc/passwd': entry, 'C:\\Windows': entry, 'node_modules/a/../../../x': entry } },
    '__proto__ and constructor': { lockfileVersion: 1, dependencies: JSON.parse('{"__proto__":{"version":"1.0.0"},"constructor":{"version":"1.0.0","dependencies":{"__proto__":{"version":"2.0.0"}}}}') as unknown },
    '__proto__ and constructor (v3)': { lockfileVersion: 3, packages: JSON.parse('{"":{},"node_modules/__proto__":{"version":"1.0.0"},"node_modules/constructor":{"version":"1.0.0"},"node_modules/toString":{"version":"1.0.0"}}') as unknown },
    'invalid npm package names': { lockfileVersion: 3, packages: { '': {}, 'node_modules/.bin': entry, 'node_modules/_x': entry, 'node_modules/A B': entry, 'node_modules/%2e%2e': entry } },
    'a lockfile that lies about its version': { lockfileVersion: 1, packages: { '': {}, 'node_modules/a': entry } },
  };
  for (const [name, lock] of Object.entries(LOCKS)) {
    it(`${name}: a verdict or one clean line, nothing raw, nothing stored changed`, { timeout: 60_000 }, async () => {
      const project = await lockfileProject(name, lock);
      await storeUnchanged(async () => {
        // --registry: the registry npm would use, without asking npm (a process per case).
        const commandsRun = [['check', '--all', '--registry', 'https://registry.npmjs.org/']];
        if (name.startsWith('escape')) commandsRun.push(['hook', 'run']);
        for (const args of commandsRun) {
          const r = await run(args, { cwd: project });
          if (r.code === 2) expectCleanError(args, r);
          else expectVerdict(args, r);
          stats.add('hostile lockfile checks');
        }
      });
    });
  }
});

// ---- bugs found here, since fixed ---------------------------------------------------------------

/** A one-entry trail whose header origin is `origin`, written directly (not by ChainWriter). */
function hostileOriginTrail(name: string, origin: string): string {
  const file = join(scratch, name);
  const header = serializeHeader({ format: 'stax-chain', version: 1, kind: 'trail', origin, created: '2026-11-22T09:00:00.000Z' });
  const { line } = serializeEntry({ seq: 0, ts: '2026-11-22T09:00:00.000Z', actor: 'a', action: 'x', payload: null, prev: GENESIS_HASH });
  writeFileSync(file, `${header}\n${line}\n`);
  return file;
}

describe('bugs found here and since fixed: regression tests', () => {
  // checkpoint-origin-control: `stax checkpoint` on a trail whose header origin holds a
  // control character let formatCheckpoint's CheckpointError escape: "stax: internal error:
  // origin must be a non-empty single line". (ChainWriter also refuses such an origin now,
  // so `stax log --origin` no longer makes one; a trail from elsewhere still can hold one.)
  it('checkpoint-origin-control: a trail whose origin holds ESC gives a clean error, not an internal error', { timeout: 30_000 }, async () => {
    // Written by hand, as an attacker would: stax's own writer refuses such an origin.
    const trail = hostileOriginTrail('esc-origin.jsonl', 'evil\u001b[31m.example');
    const args = ['checkpoint', trail, '--key', S('keys/log.key'), '--no-save'];
    expectCleanError(args, await run(args));
  });

  // checkpoint-origin-raw: `stax checkpoint` printed the signed note (whose first line is
  // the trail header's origin) to stdout without ui.safe: C1 controls (U+009B, a CSI) and
  // bidi overrides from a trail someone else wrote reached the terminal raw.
  it('checkpoint-origin-raw: C1 and bidi characters in a trail origin are not printed raw by stax checkpoint', { timeout: 30_000 }, async () => {
    const trail = hostileOriginTrail('c1-origin.jsonl', 'evil\u009b2J\u202eexample');
    const args = ['checkpoint', trail, '--key', S('keys/log.key'), '--no-save'];
    expectVerdict(args, await run(args), 0);
  });

  // log-payload-lossy-utf8: `stax log --payload-file` read the file with readFile(..,
  // 'utf8'), which turns invalid bytes into U+FFFD: the trail then recorded a payload that
  // was not what the file held, silently.
  it('log-payload-lossy-utf8: a payload file that is not UTF-8 is refused, not recorded with U+FFFD', { timeout: 30_000 }, async () => {
    const args = ['log', 'x', '--payload-file', I('bad-utf8-payload.json'), '--trail', join(scratch, 'lossy.jsonl'), '--actor', 'a'];
    expectCleanError(args, await run(args));
  });

  // log-fifo-fdatasync: `stax log --trail <a FIFO>` wrote a header into the pipe, then
  // fdatasyncSync failed with EINVAL, which ChainWriter did not wrap: "internal error".
  it('log-fifo-fdatasync: appending to a FIFO gives a clean error', { timeout: 30_000 }, async () => {
    const args = ['log', 'x', '--trail', I('fifo-empty'), '--actor', 'a'];
    expectCleanError(args, await run(args, { deadlineMs: 10_000 }));
  });

  // fifo-hang: commands that need a regular file opened a FIFO with no writer and waited
  // forever (trail repair in a synchronous openSync: not even a timer could run).
  it('fifo-hang: trail repair, verify-proof, checkpoint, --trusted-keys, export and import refuse a FIFO instead of waiting', { timeout: 30_000 }, async () => {
    const fifo = I('fifo-empty');
    const cases = [
      ['trail', 'repair', fifo, '--yes'],
      ['verify-proof', fifo, '--trusted-keys', trustedKeys],
      ['checkpoint', fifo, '--key', S('keys/log.key'), '--no-save'],
      ['verify', S('.stax/trail.jsonl'), '--trusted-keys', fifo],
      ['trail', 'export', fifo],
      ['trail', 'import', fifo, '--out', join(scratch, 'from-fifo.jsonl')],
    ];
    const results = await Promise.all(cases.map((args) => run(args, { deadlineMs: 5_000 })));
    results.forEach((r, i) => expectCleanError(cases[i]!, r));
  });

  // package-name-lone-surrogate, through the CLI: checkPackageName's encodeURIComponent
  // threw URIError on a lone surrogate: "stax: internal error: URI malformed".
  it.skipIf(!HAS_CHECK)('package-name-lone-surrogate: stax check on a lockfile naming node_modules/\\ud800 gives a verdict', { timeout: 60_000 }, async () => {
    const project = await lockfileProject('lone surrogate', { lockfileVersion: 3, packages: { '': {}, 'node_modules/\ud800': entry } });
    const r = await run(['check'], { cwd: project });
    expectVerdict(['check'], r, 1);
  });

  // proof-deep-nesting: a bundle entry nested 100,000 deep overflowed canonicalize's recursion.
  it('proof-deep-nesting: verify-proof on a bundle nested 100,000 deep gives one clean line', { timeout: 30_000 }, async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const file = join(scratch, 'deep-bundle.json');
    writeFileSync(file, readFileSync(I('bundle.json'), 'utf8').replace(/"payload":\{[^}]*\}/, `"payload":${deep}`));
    const args = ['verify-proof', file, '--trusted-keys', trustedKeys];
    const r = await run(args);
    if (r.code === 2) expectCleanError(args, r);
    else expectVerdict(args, r);
  });
});
