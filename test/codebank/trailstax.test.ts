/**
 * TrailStax code bank exports: the fixture (written by TrailStax on another machine, files
 * re-rooted with --rebase), and exports written by a real python3 with
 * test/support/trailstax_writer.py, including two `utils.py` that collide under TrailStax's
 * bare-name labels.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CodeVerifyResult } from '../../src/codebank/result.js';
import { rebase } from '../../src/codebank/trailstax.js';
import { FIXTURES, REPO, runCli, runInProcess, tempDir } from '../support/cli.js';

const tmp = tempDir('stax-tsbank-');
afterAll(() => tmp.cleanup());
const BANK = join(FIXTURES, 'trailstax/codebank.json');
const REBASE = '/srv/recon-agent/agents=fixtures/trailstax/agents';

const byLabel = (v: CodeVerifyResult): Record<string, string> => Object.fromEntries(v.items.map((i) => [`${i.label}${i.status === 'collision' ? '' : ` ${i.path}`}`, i.status]));

describe('stax code verify on a TrailStax code bank export', () => {
  it('verifies the fixture: chain, then files re-rooted, inline content not failing', async () => {
    const r = await runCli(['code', 'verify', '--bank', BANK, '--rebase', REBASE, '--json']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as CodeVerifyResult;
    expect(v).toMatchObject({ format: 'trailstax-codebank', trusted: true, ok: true, chain: { valid: true, entries: 3 } });
    expect(v.items.map((i) => [i.status, i.label, i.path])).toEqual([
      ['inline', 'firewall.rule', '<inline>'],
      ['ok', 'recon_agent.py', '/srv/recon-agent/agents/recon_agent.py'],
      ['ok', 'utils.py', '/srv/recon-agent/agents/utils.py'],
    ]);
    expect(v.items.find((i) => i.label === 'utils.py')?.checked).toBe(join(REPO, 'fixtures/trailstax/agents/utils.py'));
    const human = await runCli(['code', 'verify', '--bank', BANK, '--rebase', REBASE, '--all']);
    expect(human.stdout).toMatch(/✔ bank valid .*TrailStax code bank export, 3 commits/);
    expect(human.stdout).toMatch(/\| ok +\| utils\.py +\| fixtures\/trailstax\/agents\/utils\.py +\| 26 B, sha256 03ab92512ba0…/);
    expect(human.stdout).toMatch(/✔ 2 ok, 1 inline/);
  });

  it('without --rebase, checks the recorded absolute paths (missing here) and says how to re-root', async () => {
    const r = await runInProcess(['code', 'verify', '--bank', BANK]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/missing +\| recon_agent\.py/);
    expect(r.stdout).toMatch(/use --rebase OLD=NEW/);
  });

  it('checks inline content given with --content against code_hash', async () => {
    const bad = await runCli(['code', 'verify', '--bank', BANK, '--rebase', REBASE, '--content', 'firewall.rule=allow all', '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).items.find((i: { label: string }) => i.label === 'firewall.rule')).toMatchObject({ status: 'modified' });
  });

  it('reports a modified file by label, with both sha256 digests', async () => {
    const copy = join(tmp.path, 'agents');
    mkdirSync(copy);
    for (const f of ['recon_agent.py', 'utils.py']) writeFileSync(join(copy, f), readFileSync(join(FIXTURES, 'trailstax/agents', f)));
    appendFileSync(join(copy, 'utils.py'), 'import socket\n');
    const r = await runCli(['code', 'verify', '--bank', BANK, '--rebase', `/srv/recon-agent/agents=${copy}`, '--json']);
    expect(r.code).toBe(1);
    const item = (JSON.parse(r.stdout) as CodeVerifyResult).items.find((i) => i.label === 'utils.py');
    expect(item).toMatchObject({ status: 'modified', detail: expect.stringMatching(/^content changed: sha256 03ab92512ba0… → [0-9a-f]{12}… \(40 B\)$/) });
  });

  it('does not trust a tampered export (a code_hash edited): exit 1, no file verdicts', async () => {
    const text = readFileSync(BANK, 'utf8').replace('"code_hash": "03ab9251', '"code_hash": "13ab9251');
    const file = join(tmp.path, 'tampered.json');
    writeFileSync(file, text);
    const r = await runCli(['code', 'verify', '--bank', file, '--rebase', REBASE, '--json']);
    expect(r.code).toBe(1);
    const v = JSON.parse(r.stdout) as CodeVerifyResult;
    expect(v).toMatchObject({ trusted: false, items: [] });
    expect(v.chain.problems[0]).toMatchObject({ index: 1, code: 'HASH_MISMATCH' });
    const human = await runCli(['code', 'verify', '--bank', file]);
    expect(human.stdout).toMatch(/✘ bank tampered/);
  });

  it('reports two utils.py that collide under TrailStax labels, and checks each file', async () => {
    const root = join(tmp.path, 'machine');
    const files = { 'recon/utils.py': 'def recon_helper():\n    return 1\n', 'shared/utils.py': 'def shared_helper():\n    return 2\n' };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    const out = join(tmp.path, 'collide.json');
    // codebank.py registers a file under its bare name: commit(os.path.basename(path), code, path).
    const script = `
import sys
sys.path.insert(0, ${JSON.stringify(join(REPO, 'test/support'))})
from trailstax_writer import CodeBank
bank = CodeBank("recon-agent-001")
for rel in ["recon/utils.py", "shared/utils.py"]:
    with open(${JSON.stringify(root)} + "/" + rel, encoding="utf-8") as f:
        bank.commit("utils.py", f.read(), "/srv/recon-agent/agents/" + rel, {})
bank.commit("firewall.rule", "deny all", "<inline>")
bank.export(${JSON.stringify(out)})
`;
    execFileSync('python3', ['-c', script]);
    appendFileSync(join(root, 'recon/utils.py'), '# changed\n');
    const r = await runCli(['code', 'verify', '--bank', out, '--rebase', `/srv/recon-agent/agents=${root}`, '--json']);
    expect(r.code).toBe(1);
    const v = JSON.parse(r.stdout) as CodeVerifyResult;
    expect(v.chain.valid).toBe(true);
    expect(byLabel(v)).toEqual({
      'utils.py': 'collision',
      'utils.py /srv/recon-agent/agents/recon/utils.py': 'modified',
      'utils.py /srv/recon-agent/agents/shared/utils.py': 'ok',
      'firewall.rule <inline>': 'inline',
    });
    expect(v.items.find((i) => i.status === 'collision')?.detail).toMatch(
      /^2 files share the label "utils\.py": \/srv\/recon-agent\/agents\/recon\/utils\.py \(commit 0\), \/srv\/recon-agent\/agents\/shared\/utils\.py \(commit 1\); TrailStax looks files up by label, so it checks only \/srv\/recon-agent\/agents\/shared\/utils\.py$/,
    );

    // The same two files in a stax bank: labels are paths, so nothing collides.
    const reg = await runCli(['code', 'register', 'recon', 'shared', '--json'], { cwd: root });
    expect(JSON.parse(reg.stdout).items.map((i: { label: string }) => i.label)).toEqual(['recon/utils.py', 'shared/utils.py']);
  });

  it('keeps a re-rooted check inside the folder given, whatever `..` the export holds', () => {
    expect(rebase('/srv/a/x/y.py', [{ from: '/srv/a', to: 'local' }], '/w')).toEqual({ local: '/w/local/x/y.py', base: '/w/local' });
    expect(rebase('/srv/a/../../etc/passwd', [{ from: '/srv/a/', to: 'local' }], '/w')).toEqual({ local: '/etc/passwd', base: '/w/local' });
    expect(rebase('/srv/ab/x.py', [{ from: '/srv/a', to: 'local' }], '/w')).toBeNull();
  });

  it('refuses --rebase for a stax bank, and a bad --rebase', async () => {
    const r = await runCli(['code', 'verify', '--bank', BANK, '--rebase', 'nothing']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--rebase takes OLD=NEW/);
    const dir = join(tmp.path, 'staxbank');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.py'), 'a');
    await runCli(['code', 'register', 'a.py'], { cwd: dir });
    const stax = await runCli(['code', 'verify', '--rebase', '/srv=.'], { cwd: dir });
    expect(stax.code).toBe(2);
    expect(stax.stderr).toMatch(/--rebase is for TrailStax exports/);
  });
});
