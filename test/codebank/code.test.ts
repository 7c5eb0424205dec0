/**
 * `stax code register / verify / log / revoke` end to end, on real trees built in temp
 * folders, through the built CLI as a child process (and a few in-process).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CodeVerifyResult } from '../../src/codebank/result.js';
import type { RegisterResult } from '../../src/codebank/register.js';
import { runCli, runInProcess, tempDir } from '../support/cli.js';
import { startAppender } from './helpers.js';

const tmp = tempDir('stax-code-');
afterAll(() => tmp.cleanup());
const isRoot = process.getuid?.() === 0;

let n = 0;
/** A fresh project folder with these files. */
function project(files: Record<string, string>): string {
  const dir = join(tmp.path, `p${n++}`);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

const AGENTS = {
  'agents/recon/recon_agent.py': 'import utils\nprint("recon")\n',
  'agents/recon/utils.py': 'def helper():\n    return 1\n',
  'agents/shared/utils.py': 'def shared():\n    return 2\n',
  'agents/README.md': '# agents\n',
};

async function register(cwd: string, args: string[], input?: string): Promise<{ code: number; json: RegisterResult; stderr: string }> {
  const r = await runCli(['code', 'register', ...args, '--json'], { cwd, input, env: { STAX_ACTOR: 'alice' } });
  return { code: r.code, json: JSON.parse(r.stdout) as RegisterResult, stderr: r.stderr };
}

async function verify(cwd: string, args: string[] = []): Promise<{ code: number; json: CodeVerifyResult }> {
  const r = await runCli(['code', 'verify', ...args, '--json'], { cwd });
  return { code: r.code, json: JSON.parse(r.stdout) as CodeVerifyResult };
}

const statuses = (v: CodeVerifyResult): Record<string, string> => Object.fromEntries(v.items.map((i) => [i.label ?? i.path ?? '', i.status]));

describe('stax code register', () => {
  it('registers a folder with path labels (two utils.py do not collide), then is a no-op when nothing changed', async () => {
    const dir = project(AGENTS);
    const first = await register(dir, ['agents']);
    expect(first.code).toBe(0);
    expect(first.json.items.map((i) => [i.status, i.label])).toEqual([
      ['added', 'agents/README.md'],
      ['added', 'agents/recon/recon_agent.py'],
      ['added', 'agents/recon/utils.py'],
      ['added', 'agents/shared/utils.py'],
    ]);
    expect(first.json.items[0]).toMatchObject({ type: 'file', size: 9, mode: '0644', integrity: expect.stringMatching(/^sha512-\S+ sha256-\S+$/) });
    const again = await register(dir, ['agents']);
    expect(again.json.appended).toBe(0);
    expect(again.json.items.every((i) => i.status === 'unchanged')).toBe(true);
    const v = await runCli(['verify', '.stax/codebank.jsonl', '--json'], { cwd: dir });
    expect(JSON.parse(v.stdout)[0]).toMatchObject({ valid: true, entries: 4 });
    const bank = readFileSync(join(dir, '.stax/codebank.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(bank[0]!)).toMatchObject({ format: 'stax-chain', kind: 'codebank' });
    expect(JSON.parse(bank[1]!)).toMatchObject({ action: 'code.register', actor: 'alice', label: 'agents/README.md', payload: { path: 'agents/README.md', scope: 'agents' } });
  });

  it('appends a new commit for a changed file and keeps the history (code log)', async () => {
    const dir = project(AGENTS);
    await register(dir, ['agents']);
    appendFileSync(join(dir, 'agents/recon/utils.py'), '# patched\n');
    const r = await register(dir, ['agents/recon/utils.py']);
    expect(r.json.items).toEqual([expect.objectContaining({ status: 'updated', label: 'agents/recon/utils.py', seq: 4, previous: expect.objectContaining({ seq: 2, size: 27 }) })]);
    const log = await runCli(['code', 'log', 'agents/recon/utils.py', '--json'], { cwd: dir });
    const commits = JSON.parse(log.stdout).commits as Array<{ seq: number; record: { size: number } }>;
    expect(commits.map((c) => [c.seq, c.record.size])).toEqual([[2, 27], [4, 37]]);
    const human = await runCli(['code', 'log', 'agents/recon/utils.py'], { cwd: dir, env: { STAX_ACTOR: 'alice' } });
    expect(human.stdout).toMatch(/seq .*time .*actor .*event .*digest .*size/);
    expect(human.stdout).toMatch(/\|\s+4 \| \S+Z \| alice \| register \| sha512-\S+… \|\s+37 \|/);
  });

  it('expands a quoted glob itself, takes --label for one file, --meta, and inline --content (argument or stdin)', async () => {
    const dir = project(AGENTS);
    const glob = await register(dir, ['agents/**/*.py']);
    expect(glob.json.items.map((i) => i.label)).toEqual(['agents/recon/recon_agent.py', 'agents/recon/utils.py', 'agents/shared/utils.py']);
    const labelled = await register(dir, ['agents/README.md', '--label', 'docs', '--meta', 'version=1.2.0', '--meta', 'owner=ops']);
    expect(labelled.json.items).toEqual([expect.objectContaining({ status: 'added', label: 'docs', path: 'agents/README.md' })]);
    const inline = await register(dir, ['--content', 'firewall.rule=deny all', '--content', 'prompt.txt'], 'You are a careful agent.\n');
    expect(inline.json.items).toEqual([
      expect.objectContaining({ status: 'added', label: 'firewall.rule', type: 'inline', size: 8 }),
      expect.objectContaining({ status: 'added', label: 'prompt.txt', type: 'inline', size: 25 }),
    ]);
    const bank = readFileSync(join(dir, '.stax/codebank.jsonl'), 'utf8');
    expect(bank).toContain('"meta":{"owner":"ops","version":"1.2.0"}');
    expect(bank).not.toContain('deny all'); // only the digest of inline content is kept

    const ok = await runCli(['code', 'verify', '--content', 'firewall.rule=deny all', '--json'], { cwd: dir });
    expect(statuses(JSON.parse(ok.stdout))).toMatchObject({ 'firewall.rule': 'ok', 'prompt.txt': 'inline' });
    const bad = await runCli(['code', 'verify', '--content', 'firewall.rule=allow all', '--json'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(statuses(JSON.parse(bad.stdout))['firewall.rule']).toBe('modified');

    // A new file matching the registered glob is new; one that does not match is not the bank's business.
    writeFileSync(join(dir, 'agents/recon/extra.py'), 'x');
    writeFileSync(join(dir, 'agents/recon/notes.txt'), 'x');
    const after = await verify(dir);
    expect(statuses(after.json)['agents/recon/extra.py']).toBe('new');
    expect(statuses(after.json)['agents/recon/notes.txt']).toBeUndefined();
  });

  it('rejects what it cannot do, before writing anything (exit 2)', async () => {
    const dir = project(AGENTS);
    for (const [args, pattern] of [
      [['nope.py'], /nope\.py: no such file or folder/],
      [['agents/*.rs'], /matches no files/],
      [['agents', '--label', 'x'], /--label names one file/],
      [['agents/README.md', '--meta', 'novalue'], /--meta takes key=value/],
      [[], /name at least one file/],
    ] as const) {
      const r = await runCli(['code', 'register', ...args], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
    expect(() => readFileSync(join(dir, '.stax/codebank.jsonl'))).toThrow();
  });

  it('records a symlink as a link, skips a FIFO with a note, and reports a file that grows while hashed', async () => {
    const dir = project({ 'bin/tool.sh': 'echo hi\n' });
    symlinkSync('tool.sh', join(dir, 'bin/tool'));
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(dir, 'bin/pipe')]);
    const big = join(dir, 'bin/model.bin');
    writeFileSync(big, '');
    truncateSync(big, 200 * 1024 * 1024);
    const child = await startAppender(big);
    let r;
    try {
      r = await register(dir, ['bin']);
    } finally {
      child.kill();
    }
    expect(r.code).toBe(1);
    const byPath = Object.fromEntries(r.json.items.map((i) => [i.path, i]));
    expect(byPath['bin/tool']).toMatchObject({ status: 'added', type: 'symlink', target: 'tool.sh' });
    expect(byPath['bin/pipe']).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/fifo/) });
    expect(byPath['bin/model.bin']).toMatchObject({ status: 'changed-during-hash', reason: expect.stringMatching(/grew|changed/) });
    expect(byPath['bin/tool.sh']).toMatchObject({ status: 'added' });
  });

  it.skipIf(isRoot)('reports an unreadable file and registers the rest (exit 1)', async () => {
    const dir = project(AGENTS);
    chmodSync(join(dir, 'agents/recon/utils.py'), 0);
    const r = await register(dir, ['agents']);
    expect(r.code).toBe(1);
    expect(r.json.items.find((i) => i.label === 'agents/recon/utils.py')).toMatchObject({ status: 'unreadable', reason: 'permission denied' });
    expect(r.json.appended).toBe(3);
  });
});

describe('stax code verify', () => {
  it('gives one verdict per label: ok, modified, missing, moved, new; and exits 1', async () => {
    const dir = project({ ...AGENTS, 'agents/recon/scanner.py': 'scan()\n', 'agents/old.py': 'old\n' });
    await register(dir, ['agents']);
    expect((await verify(dir)).code).toBe(0);

    appendFileSync(join(dir, 'agents/recon/utils.py'), '# injected\n');                                   // edit
    rmSync(join(dir, 'agents/old.py'));                                                                   // deletion
    renameSync(join(dir, 'agents/recon/scanner.py'), join(dir, 'agents/recon/scanner_v2.py'));            // rename
    mkdirSync(join(dir, 'agents/moved'));
    renameSync(join(dir, 'agents/shared/utils.py'), join(dir, 'agents/moved/utils.py'));                  // move
    writeFileSync(join(dir, 'agents/recon/backdoor.py'), 'import os\n');                                  // new file
    const v = await verify(dir);
    expect(v.code).toBe(1);
    expect(statuses(v.json)).toEqual({
      'agents/README.md': 'ok',
      'agents/old.py': 'missing',
      'agents/recon/backdoor.py': 'new',
      'agents/recon/recon_agent.py': 'ok',
      'agents/recon/scanner.py': 'moved',
      'agents/recon/utils.py': 'modified',
      'agents/shared/utils.py': 'moved',
    });
    const edited = v.json.items.find((i) => i.label === 'agents/recon/utils.py')!;
    expect(edited.expected).toMatchObject({ size: 27, seq: 4 });
    expect(edited.found).toMatchObject({ size: 38 });
    expect(edited.expected!.integrity).not.toBe(edited.found!.integrity);
    expect(v.json.items.find((i) => i.label === 'agents/shared/utils.py')).toMatchObject({ movedTo: 'agents/moved/utils.py' });
    expect(v.json.items.find((i) => i.label === 'agents/recon/scanner.py')).toMatchObject({ movedTo: 'agents/recon/scanner_v2.py' });

    const human = await runCli(['code', 'verify'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✔ bank valid/);
    expect(human.stdout).toMatch(/\| modified \| agents\/recon\/utils\.py +\| content changed: sha512-\S+… 27 B → sha512-\S+… 38 B/);
    expect(human.stdout).toMatch(/\| moved +\| agents\/shared\/utils\.py +\| moved to agents\/moved\/utils\.py/);
    expect(human.stdout).not.toMatch(/\| ok /); // ok labels are counted, not listed, unless --all
    expect(human.stdout).toMatch(/✘ 2 ok, 1 modified, 1 missing, 2 moved, 1 new/);
    expect((await runCli(['code', 'verify', '--all'], { cwd: dir })).stdout).toMatch(/\| ok +\| agents\/README\.md/);
  });

  it('matches a renamed folder file by file, identical files one to one', async () => {
    const files: Record<string, string> = { 'pkg/lib/a.py': 'same\n', 'pkg/lib/b.py': 'same\n' };
    for (let i = 0; i < 300; i++) files[`pkg/lib/m${i}.py`] = `module ${i}\n`;
    const dir = project(files);
    await register(dir, ['pkg']);
    renameSync(join(dir, 'pkg/lib'), join(dir, 'pkg/lib2'));
    rmSync(join(dir, 'pkg/lib2/b.py')); // two labels with the same content, one copy left
    const v = await verify(dir);
    const counts = v.json.counts;
    expect(counts).toEqual({ moved: 301, missing: 1 });
    expect(v.json.items.find((i) => i.label === 'pkg/lib/m7.py')).toMatchObject({ status: 'moved', movedTo: 'pkg/lib2/m7.py' });
    expect(v.json.items.find((i) => i.label === 'pkg/lib/a.py')).toMatchObject({ status: 'moved', movedTo: 'pkg/lib2/a.py' });
    expect(v.json.items.find((i) => i.label === 'pkg/lib/b.py')).toMatchObject({ status: 'missing' });
  });

  it('restricts to labels under the paths given', async () => {
    const dir = project(AGENTS);
    await register(dir, ['agents']);
    appendFileSync(join(dir, 'agents/shared/utils.py'), '#\n');
    writeFileSync(join(dir, 'agents/shared/new.py'), 'x');
    const recon = await verify(dir, ['agents/recon']);
    expect(recon.code).toBe(0);
    expect(Object.keys(statuses(recon.json))).toEqual(['agents/recon/recon_agent.py', 'agents/recon/utils.py']);
    const shared = await verify(dir, ['agents/shared']);
    expect(statuses(shared.json)).toEqual({ 'agents/shared/new.py': 'new', 'agents/shared/utils.py': 'modified' });
  });

  it('reports a changed mode and a symlink retargeted', async () => {
    const dir = project({ 'bin/run.sh': 'echo\n', 'bin/a': 'a', 'bin/b': 'b' });
    symlinkSync('a', join(dir, 'bin/current'));
    await register(dir, ['bin']);
    chmodSync(join(dir, 'bin/run.sh'), 0o755);
    rmSync(join(dir, 'bin/current'));
    symlinkSync('b', join(dir, 'bin/current'));
    const v = await verify(dir);
    const byLabel = Object.fromEntries(v.json.items.map((i) => [i.label, i]));
    expect(byLabel['bin/run.sh']).toMatchObject({ status: 'modified', detail: 'mode 0644 → 0755' });
    expect(byLabel['bin/current']).toMatchObject({ status: 'modified', detail: 'symlink target a → b' });
  });

  it('follows symlinks only when told, and reports a symlink loop instead of walking forever', async () => {
    const dir = project({ 'lib/real/x.py': 'x' });
    symlinkSync('..', join(dir, 'lib/real/up'));
    const r = await register(dir, ['lib', '--follow-symlinks']);
    expect(r.code).toBe(0);
    expect(r.json.items.map((i) => [i.status, i.path])).toEqual([['skipped', 'lib/real/up'], ['added', 'lib/real/x.py']]);
    expect(r.json.items[0]!.reason).toMatch(/symlink loop/);
    const v = await runCli(['code', 'verify', '--follow-symlinks'], { cwd: dir });
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/note: lib\/real\/up: a symlink loop/);
  });

  it('does not report revoked labels as missing, but fails while a revoked file is still there', async () => {
    const dir = project(AGENTS);
    await register(dir, ['agents']);
    const rv = await runCli(['code', 'revoke', 'agents/shared/utils.py', '--reason', 'compromised'], { cwd: dir, env: { STAX_ACTOR: 'bob' } });
    expect(rv.code).toBe(0);
    expect(rv.stdout).toBe('revoked agents/shared/utils.py (seq 4)\n');
    const present = await verify(dir);
    expect(present.code).toBe(1);
    expect(present.json.items.find((i) => i.label === 'agents/shared/utils.py')).toMatchObject({ status: 'revoked', ok: false, detail: 'revoked at seq 4 by bob (compromised), but the file is still there' });
    rmSync(join(dir, 'agents/shared/utils.py'));
    const gone = await verify(dir);
    expect(gone.code).toBe(0);
    expect(gone.json.items.find((i) => i.label === 'agents/shared/utils.py')).toMatchObject({ status: 'revoked', ok: true });
    const log = await runCli(['code', 'log', 'agents/shared/utils.py'], { cwd: dir });
    expect(log.stdout).toMatch(/revoke: compromised/);
    const unknown = await runCli(['code', 'revoke', 'utils.py'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no label "utils\.py"/);
  });

  it('does not trust a tampered bank: one commit digest edited → exit 1, "bank tampered", no file verdicts', async () => {
    const dir = project(AGENTS);
    await register(dir, ['agents']);
    // The attacker edits a file and the digest recorded for it, but cannot fix the chain's hash.
    appendFileSync(join(dir, 'agents/recon/utils.py'), 'import socket\n');
    const fresh = await register(project({ 'agents/recon/utils.py': readFileSync(join(dir, 'agents/recon/utils.py'), 'utf8') }), ['agents']);
    const forged = fresh.json.items[0]!.integrity!;
    const bankFile = join(dir, '.stax/codebank.jsonl');
    const lines = readFileSync(bankFile, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"label":"agents/recon/utils.py"'));
    const entry = JSON.parse(lines[i]!);
    lines[i] = lines[i]!.replace(entry.payload.integrity, forged).replace(`"size":${entry.payload.size}`, `"size":${fresh.json.items[0]!.size}`);
    writeFileSync(bankFile, lines.join('\n'));

    const v = await verify(dir);
    expect(v.code).toBe(1);
    expect(v.json).toMatchObject({ trusted: false, ok: false, items: [] });
    expect(v.json.chain.problems).toEqual([expect.objectContaining({ index: 2, code: 'HASH_MISMATCH' })]);
    const human = await runCli(['code', 'verify'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✘ bank tampered .*no verdict about files/);
    const reg = await runCli(['code', 'register', 'agents'], { cwd: dir });
    expect(reg.code).toBe(1);
    expect(reg.stderr).toMatch(/bank tampered/);
    const log = await runCli(['code', 'log', 'agents/recon/utils.py'], { cwd: dir });
    expect(log.code).toBe(1);
  });

  it('says so when there is no bank, or the file is a trail and not a bank', async () => {
    const dir = project(AGENTS);
    const none = await runCli(['code', 'verify'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/codebank\.jsonl: no such file/);
    await runCli(['log', 'x'], { cwd: dir });
    const trail = await runCli(['code', 'verify', '--bank', '.stax/trail.jsonl', '--json'], { cwd: dir });
    expect(trail.code).toBe(1);
    expect(JSON.parse(trail.stdout).chain.problems[0]).toMatchObject({ code: 'HEADER_MISMATCH', message: expect.stringMatching(/not a code bank/) });
  });

  it('keeps the bank elsewhere with --bank and --root', async () => {
    const dir = project(AGENTS);
    const bank = join(tmp.path, `bank${n}.jsonl`);
    const r = await register(tmp.path, ['--bank', bank, '--root', dir, join(dir, 'agents/recon')]);
    expect(r.json.items.map((i) => i.label)).toEqual(['agents/recon/recon_agent.py', 'agents/recon/utils.py']);
    expect((await verify(tmp.path, ['--bank', bank, '--root', dir])).code).toBe(0);
  });
});

describe('stax code, in-process', () => {
  it('registers and verifies through main() with injected streams', async () => {
    const dir = project(AGENTS);
    const r = await runInProcess(['code', 'register', 'agents'], { cwd: dir, env: { STAX_ACTOR: 'carol' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| added +\| agents\/recon\/utils\.py +\| sha512-\S+… \| +27 \|/);
    expect(r.stdout).toMatch(/✔ 4 added, 0 updated, 0 unchanged {2}\(4 commits appended, seq 0–3 to .*codebank\.jsonl\)/);
    writeFileSync(join(dir, 'agents/recon/utils.py'), 'def helper():\n    return 2\n');
    const v = await runInProcess(['code', 'verify'], { cwd: dir });
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/modified \| agents\/recon\/utils\.py/);
    const help = await runInProcess(['code', 'verify', '--help']);
    expect(help.stdout).toContain('Examples:');
    expect(help.stdout).toContain('--rebase');
  });

  it('neutralizes hostile labels before printing them', async () => {
    const dir = project({ 'x.py': 'x' });
    const r = await runInProcess(['code', 'register', 'x.py', '--label', 'evil\u001b]0;pwned\u0007'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b]');
    expect(r.stdout).toContain('evil\\x1b]0;pwned\\x07');
  });
});
