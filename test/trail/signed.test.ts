import { chmodSync, copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir, type RunResult } from '../support/cli.js';
import { readChain, writeRehashedChain } from '../support/chain.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const env = { STAX_KEY_DIR: join(tmp.path, 'keys') };
const trail = join(tmp.path, 'trail.jsonl');
const trusted = join(tmp.path, 'trusted.txt');
const cp = `${trail}.checkpoint`;
const run = (args: string[]): Promise<RunResult> => runCli(args, { cwd: tmp.path, env });
const report = (r: RunResult): { valid: boolean; problems: Array<{ index: number | null; code: string }>; limits: Array<{ threat: string }> } => JSON.parse(r.stdout)[0];
const codes = (r: RunResult): string[] => report(r).problems.map((p) => p.code);

beforeAll(async () => {
  for (const name of ['alice', 'bob', 'example.com/recon']) expect((await run(['key', 'generate', '--name', name])).code).toBe(0);
  const keys = await Promise.all(['alice', 'bob', 'example.com/recon'].map((n) => run(['key', 'show', n])));
  writeFileSync(trusted, '# who may sign\n' + keys.map((k) => k.stdout).join(''));
  for (const [i, actor] of ['alice', 'bob', 'alice', 'bob', 'alice'].entries()) {
    const r = await run(['log', `step.${i}`, '--trail', trail, '--key', actor, '--origin', 'example.com/recon', '--payload', JSON.stringify({ i })]);
    expect(r.code).toBe(0);
  }
  expect((await run(['checkpoint', trail, '--key', 'example.com/recon'])).code).toBe(0);
});

describe('stax key', () => {
  it('writes private keys 0600, prints verifier keys, and never prints a private key', async () => {
    const list = await run(['key', 'list', '--json']);
    expect(list.code).toBe(0);
    const { keys } = JSON.parse(list.stdout) as { keys: Array<{ name: string; mode: string; verifierKey: string }> };
    expect(keys.map((k) => k.name).sort()).toEqual(['alice', 'bob', 'example.com/recon']);
    for (const k of keys) {
      expect(k.mode).toBe('600');
      expect(k.verifierKey).toMatch(/^[^+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    }
    const secret = readFileSync(join(env.STAX_KEY_DIR, 'alice.key'), 'utf8').trim();
    expect(secret).toMatch(/^PRIVATE\+KEY\+alice\+/);
    for (const out of [list.stdout, (await run(['key', 'show', 'alice'])).stdout]) expect(out).not.toContain(secret.split('+').pop()!);
    expect(statSync(join(env.STAX_KEY_DIR, 'alice.key')).mode & 0o777).toBe(0o600);
  });

  it('refuses a private key file that group or others can read, and an existing key file', async () => {
    const leaky = join(tmp.path, 'leaky.key');
    copyFileSync(join(env.STAX_KEY_DIR, 'alice.key'), leaky);
    chmodSync(leaky, 0o644);
    const r = await run(['log', 'x', '--trail', join(tmp.path, 'other.jsonl'), '--key', leaky]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/leaky\.key: key file has mode 644.*chmod 600/);
    expect((await run(['key', 'generate', '--name', 'alice'])).code).toBe(2);
    expect((await run(['key', 'generate', '--name', 'has space'])).code).toBe(2);
  });

  it('refuses to sign for an actor the key is not named after', async () => {
    const r = await run(['log', 'x', '--trail', join(tmp.path, 'o2.jsonl'), '--key', 'alice', '--actor', 'mallory']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot sign for actor "mallory"/);
  });
});

describe('verify --trusted-keys', () => {
  it('accepts a fully signed trail and says truncation is still undetectable without a checkpoint', async () => {
    const r = await run(['verify', trail, '--trusted-keys', trusted, '--json']);
    expect(r.code).toBe(0);
    expect(report(r).limits.map((l) => l.threat)).toEqual(['truncation', 'unsigned-fields']);
  });

  it('reports unsigned, unknown-key and badly signed entries with their index', async () => {
    const { header, entries } = readChain(trail);
    const onlyAlice = join(tmp.path, 'alice-only.txt');
    writeFileSync(onlyAlice, (await run(['key', 'show', 'alice'])).stdout);
    expect(codes(await run(['verify', trail, '--trusted-keys', onlyAlice, '--json']))).toEqual(['UNKNOWN_KEY', 'UNKNOWN_KEY']);
    // An unsigned entry appended by someone without a key.
    const mixed = join(tmp.path, 'mixed.jsonl');
    copyFileSync(trail, mixed);
    expect((await run(['log', 'sneaky', '--trail', mixed, '--actor', 'alice'])).code).toBe(0);
    const m = await run(['verify', mixed, '--trusted-keys', trusted, '--json']);
    expect(m.code).toBe(1);
    expect(report(m).problems).toMatchObject([{ index: 5, code: 'UNSIGNED' }]);
    // A signature moved to another entry of the same actor.
    const swapped = join(tmp.path, 'swapped.jsonl');
    const e0 = entries[0]!;
    const e2 = entries[2]!;
    writeFileSync(swapped, readFileSync(trail, 'utf8').replace(e0.sig!.sig, 'X').replace(e2.sig!.sig, e0.sig!.sig).replace('X', e2.sig!.sig));
    expect(report(await run(['verify', swapped, '--trusted-keys', trusted, '--json'])).problems).toMatchObject([
      { index: 0, code: 'BAD_SIGNATURE' },
      { index: 2, code: 'BAD_SIGNATURE' },
    ]);
    expect(header.origin).toBe('example.com/recon');
  });

  it('catches a complete rewrite: re-hashing every entry cannot forge the signatures', async () => {
    const { header, entries } = readChain(trail);
    const rewritten = join(tmp.path, 'rewritten.jsonl');
    writeRehashedChain(rewritten, header, entries.map((e, i) => ({ ...e, payload: i === 1 ? { i: 99 } : e.payload })));
    expect((await run(['verify', rewritten, '--json'])).code).toBe(0); // the plain chain is fine...
    const r = await run(['verify', rewritten, '--trusted-keys', trusted, '--json']);
    expect(r.code).toBe(1); // ...the signatures are not: they were dropped
    expect(new Set(codes(r))).toEqual(new Set(['UNSIGNED']));
  });
});

describe('checkpoints', () => {
  it('verifies a trail that only grew since the checkpoint', async () => {
    const grown = join(tmp.path, 'grown.jsonl');
    copyFileSync(trail, grown);
    expect((await run(['log', 'later', '--trail', grown, '--key', 'bob'])).code).toBe(0);
    const r = await run(['verify', grown, '--trusted-keys', trusted, '--checkpoint', cp, '--json']);
    expect(r.code).toBe(0);
  });

  it('catches a cut-off tail', async () => {
    const cut = join(tmp.path, 'cut.jsonl');
    writeFileSync(cut, readFileSync(trail, 'utf8').split('\n').slice(0, 4).join('\n') + '\n');
    expect((await run(['verify', cut, '--json'])).code).toBe(0);
    const r = await run(['verify', cut, '--trusted-keys', trusted, '--checkpoint', cp, '--json']);
    expect(r.code).toBe(1);
    expect(report(r).problems).toMatchObject([{ index: 3, code: 'TRUNCATED' }]);
  });

  it('catches a rewritten history, even of an unsigned trail', async () => {
    const { header, entries } = readChain(trail);
    const rewritten = join(tmp.path, 'rewritten2.jsonl');
    writeRehashedChain(rewritten, header, entries.map((e, i) => ({ ...e, action: i === 0 ? 'innocent' : e.action })));
    const r = await run(['verify', rewritten, '--trusted-keys', trusted, '--checkpoint', cp, '--json']);
    expect(codes(r)).toContain('REWRITTEN');
  });

  it('catches a fork: two signed checkpoints of one size with different roots', async () => {
    const { header, entries } = readChain(trail);
    const fork = join(tmp.path, 'fork.jsonl');
    writeRehashedChain(fork, header, entries.map((e) => ({ ...e, payload: { forked: true } })));
    const forkCp = join(tmp.path, 'fork.cp');
    expect((await run(['checkpoint', fork, '--key', 'example.com/recon', '--no-save', '--out', forkCp])).code).toBe(0);
    const r = await run(['verify', trail, '--trusted-keys', trusted, '--checkpoint', cp, '--checkpoint', forkCp, '--json']);
    expect(r.code).toBe(1);
    expect(codes(r)).toEqual(expect.arrayContaining(['REWRITTEN', 'FORK']));
  });

  it('refuses a checkpoint signed by an untrusted key, and one for another log', async () => {
    const other = join(tmp.path, 'other-keys.txt');
    writeFileSync(other, (await run(['key', 'show', 'bob'])).stdout);
    const r = await run(['verify', trail, '--trusted-keys', other, '--checkpoint', cp]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not signed by any trusted key/);
    const mine = join(tmp.path, 'mine.jsonl');
    expect((await run(['log', 'x', '--trail', mine, '--origin', 'example.com/elsewhere', '--key', 'alice'])).code).toBe(0);
    expect(codes(await run(['verify', mine, '--trusted-keys', trusted, '--checkpoint', cp, '--json']))).toContain('CHECKPOINT_MISMATCH');
    expect((await run(['verify', trail, '--checkpoint', cp])).code).toBe(2);
  });

  it('will not sign a checkpoint over a trail rewritten since the kept one', async () => {
    const { header, entries } = readChain(trail);
    const copy = join(tmp.path, 'kept.jsonl');
    copyFileSync(trail, copy);
    copyFileSync(cp, `${copy}.checkpoint`);
    writeRehashedChain(copy, header, entries.map((e) => ({ ...e, actor: 'mallory' })));
    const r = await run(['checkpoint', copy, '--key', 'example.com/recon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/REWRITTEN/);
    expect(readFileSync(`${copy}.checkpoint`, 'utf8')).toBe(readFileSync(cp, 'utf8'));
  });
});

describe('proofs, checked offline', () => {
  it('proves one entry with nothing but the entry, its path and a signed checkpoint', async () => {
    const bundle = join(tmp.path, 'entry3.json');
    expect((await run(['prove', trail, '--index', '3', '--trusted-keys', trusted, '--out', bundle])).code).toBe(0);
    const ok = await run(['verify-proof', bundle, '--trusted-keys', trusted, '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, type: 'stax-inclusion-proof', origin: 'example.com/recon' });
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    b.entry.payload = { i: 1000 };
    writeFileSync(bundle, JSON.stringify(b));
    const bad = await run(['verify-proof', bundle, '--trusted-keys', trusted, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems.map((p: { code: string }) => p.code)).toEqual(['HASH_MISMATCH', 'BAD_PROOF', 'BAD_SIGNATURE']);
    expect((await run(['prove', trail, '--index', '9', '--trusted-keys', trusted])).code).toBe(2);
  });

  it('proves the log only grew, and catches a checkpoint that does not extend the old one', async () => {
    const grown = join(tmp.path, 'grown2.jsonl');
    copyFileSync(trail, grown);
    copyFileSync(cp, join(tmp.path, 'old.cp'));
    for (let i = 0; i < 4; i++) await run(['log', 'more', '--trail', grown, '--key', 'alice']);
    const bundle = join(tmp.path, 'grew.json');
    const made = await run(['prove', grown, '--since', 'old.cp', '--key', 'example.com/recon', '--out', bundle]);
    expect(made.code).toBe(0);
    const ok = await run(['verify-proof', bundle, '--trusted-keys', trusted, '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, type: 'stax-consistency-proof' });
    // A newer checkpoint of a forked log: same old size, different history.
    const { header, entries } = readChain(grown);
    const fork = join(tmp.path, 'fork2.jsonl');
    writeRehashedChain(fork, header, entries.map((e, i) => ({ ...e, action: i === 2 ? 'forged' : e.action })));
    const forkCp = join(tmp.path, 'fork2.cp');
    await run(['checkpoint', fork, '--key', 'example.com/recon', '--no-save', '--out', forkCp]);
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    b.newCheckpoint = readFileSync(forkCp, 'utf8');
    writeFileSync(bundle, JSON.stringify(b));
    const bad = await run(['verify-proof', bundle, '--trusted-keys', trusted, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).problems[0].code).toBe('FORK');
  });
});
