import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, runCli, tempDir, type RunResult } from '../support/cli.js';

const require = createRequire(import.meta.url);
const tmp = tempDir();
const project = join(tmp.path, 'project');
const env = { STAX_KEY_DIR: join(tmp.path, 'keys'), STAX_HMAC_KEY: 'ci-test-hmac-key-1f3b' };
const run = (args: string[], extra: Record<string, string> = {}): Promise<RunResult> => runCli(args, { cwd: project, env: { ...env, ...extra } });
afterAll(() => tmp.cleanup());

beforeAll(async () => {
  mkdirSync(join(project, 'src'), { recursive: true });
  writeFileSync(join(project, 'src', 'agent.py'), 'print("recon")\n');
  writeFileSync(join(project, 'src', 'utils.py'), 'def util():\n    return 42\n');
  copyFileSync(join(FIXTURES, 'lockfiles/v3-resolved.package-lock.json'), join(project, 'package-lock.json'));
  for (const name of ['alice', 'ci.example/project']) expect((await run(['key', 'generate', '--name', name])).code).toBe(0);
  writeFileSync(join(project, 'keys.txt'), (await run(['key', 'show', 'alice'])).stdout + (await run(['key', 'show', 'ci.example/project'])).stdout);
  for (const step of ['build.start', 'build.end']) expect((await run(['log', step, '--key', 'alice', '--origin', 'ci.example/project'])).code).toBe(0);
  expect((await run(['checkpoint', '--key', 'ci.example/project'])).code).toBe(0);
  expect((await run(['code', 'register', 'src'])).code).toBe(0);
  const approved = await run(['approve', '--from-lockfile', 'package-lock.json', '--yes']);
  expect(approved.stderr + approved.stdout).not.toContain(env.STAX_HMAC_KEY);
  expect(approved.code).toBe(0);
  writeFileSync(
    join(project, '.stax', 'config.json'),
    JSON.stringify({
      trails: [{ file: '.stax/trail.jsonl', trustedKeys: 'keys.txt', checkpoints: ['.stax/trail.jsonl.checkpoint'] }],
      codebanks: [{ bank: '.stax/codebank.jsonl' }],
      guard: { lockfile: 'package-lock.json' },
    }),
  );
}, 120_000);

interface Result {
  ok: boolean;
  counts: { pass: number; fail: number; error: number };
  checks: Array<{ kind: string; status: string; findings: Array<{ code: string; file: string; line?: number; level: string }> }>;
}

describe('stax ci', () => {
  it('passes a healthy project and says so in one summary', async () => {
    const r = await run(['ci']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✔ 3 passed, 0 failed, 0 could not run \(configuration: .stax\/config.json\)/);
    const json = JSON.parse((await run(['ci', '--json'])).stdout) as Result;
    expect(json.checks.map((c) => `${c.kind}:${c.status}`)).toEqual(['trail:pass', 'codebank:pass', 'guard:pass']);
  });

  describe('when every check fails', () => {
    let blockedLine = 0;
    beforeAll(() => {
      const trail = join(project, '.stax', 'trail.jsonl');
      writeFileSync(trail, readFileSync(trail, 'utf8').replace('"action":"build.end"', '"action":"build.skip"'));
      writeFileSync(join(project, 'src', 'utils.py'), 'def util():\n    return 43\n');
      // A version nobody approved, at a known line of the lockfile.
      const lock = readFileSync(join(project, 'package-lock.json'), 'utf8').split('\n');
      const at = lock.findIndex((l) => l.includes('"node_modules/is-number"'));
      expect(at).toBeGreaterThan(0);
      blockedLine = at + 1;
      const v = lock.findIndex((l, i) => i > at && l.includes('"version"'));
      lock[v] = lock[v]!.replace(/"version": "[^"]+"/, '"version": "9.9.9"');
      writeFileSync(join(project, 'package-lock.json'), lock.join('\n'));
    });

    it('exits 1 and names each problem in text and JSON', async () => {
      const r = await run(['ci']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/0 passed, 3 failed/);
      const json = JSON.parse((await run(['ci', '--json'])).stdout) as Result;
      const codes = json.checks.map((c) => c.findings.filter((f) => f.level === 'error').map((f) => f.code));
      expect(codes[0]).toContain('HASH_MISMATCH');
      expect(codes[1]).toContain('MODIFIED');
      expect(codes[2]).toContain('VERSION_NOT_APPROVED');
    });

    it('--format github: workflow commands that point at the lockfile line of the blocked package', async () => {
      const r = await run(['ci', '--format', 'github']);
      expect(r.code).toBe(1);
      const lines = r.stdout.trim().split('\n');
      for (const l of lines) expect(l).toMatch(/^::(error|warning|notice) (file=[^,:]+(,line=\d+)?,)?title=[^:]+::.+$/);
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^::error file=package-lock.json,line=${blockedLine},title=stax guard%3A VERSION_NOT_APPROVED::is-number@9.9.9`)));
      expect(lines).toContainEqual(expect.stringMatching(/^::error file=src\/utils.py,title=stax codebank%3A MODIFIED::/));
    });

    it('--format junit: XML that a real parser reads back with the right counts', async () => {
      const r = await run(['ci', '--format', 'junit']);
      const parsed = execFileSync('python3', ['-c', `
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
print(root.tag, root.get('tests'), root.get('failures'), root.get('errors'))
for s in root.findall('testsuite'):
    print(s.get('name'), len(s.findall('testcase')), len(s.findall('testcase/failure')))
`], { input: r.stdout }).toString().trim().split('\n');
      expect(parsed).toEqual(['testsuites 3 3 0', 'stax trail 1 1', 'stax codebank 1 1', 'stax guard 1 1']);
    });

    it('--format sarif: valid against the SARIF 2.1.0 schema, with locations', async () => {
      const out = join(tmp.path, 'stax.sarif');
      const r = await run(['ci', '--format', 'sarif', '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/3 failed/);
      const sarif = JSON.parse(readFileSync(out, 'utf8')) as { runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { region?: { startLine: number } } }> }> }> };
      const Ajv = require('ajv-draft-04') as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } };
      const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }).compile(JSON.parse(readFileSync(join(FIXTURES, 'schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as object);
      const valid = validate(sarif);
      expect(validate.errors ?? null).toBeNull();
      expect(valid).toBe(true);
      // The validator is not vacuous: a log with a wrong result level is refused.
      const broken = JSON.parse(JSON.stringify(sarif)) as { runs: Array<{ results: Array<{ level: string }> }> };
      broken.runs[0]!.results[0]!.level = 'fatal';
      expect(validate(broken)).toBe(false);
      const blocked = sarif.runs[0]!.results.find((x) => x.ruleId === 'VERSION_NOT_APPROVED');
      expect(blocked?.locations[0]?.physicalLocation.region?.startLine).toBe(blockedLine);
    });
  });

  describe('configuration', () => {
    it('rejects a misspelt key with its path and the key it meant, exit 2', async () => {
      const bad = join(tmp.path, 'bad.json');
      writeFileSync(bad, JSON.stringify({ trails: [{ file: 'x.jsonl', chekpoints: ['cp'] }] }));
      const r = await run(['ci', '--config', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/bad\.json: trails\[0\]\.chekpoints: unknown key \(did you mean "checkpoints"\?\)/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('refuses checkpoints without trusted keys, and a configuration that checks nothing', async () => {
      const cp = join(tmp.path, 'cp.json');
      writeFileSync(cp, JSON.stringify({ trails: [{ file: 'x.jsonl', checkpoints: ['cp'] }] }));
      expect((await run(['ci', '--config', cp])).stderr).toMatch(/needs trustedKeys/);
      writeFileSync(cp, '{}');
      expect((await run(['ci', '--config', cp])).code).toBe(2);
    });

    it('reads a "stax" key in package.json, and reports an unreadable input as exit 2', async () => {
      const other = join(tmp.path, 'other');
      mkdirSync(other);
      writeFileSync(join(other, 'package.json'), JSON.stringify({ name: 'x', stax: { trails: [{ file: 'missing.jsonl' }] } }));
      const r = await runCli(['ci', '--json'], { cwd: other, env });
      expect(r.code).toBe(2);
      const json = JSON.parse(r.stdout) as Result & { config: string };
      expect(json.config).toBe('package.json "stax"');
      expect(json.checks[0]).toMatchObject({ status: 'error', findings: [{ code: 'FILE_NOT_FOUND' }] });
    });

    it('without configuration, checks what it finds under .stax/, and says when there is nothing', async () => {
      const empty = join(tmp.path, 'empty');
      mkdirSync(empty);
      const r = await runCli(['ci'], { cwd: empty, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/nothing to check/);
    });
  });
});
