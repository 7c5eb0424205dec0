/**
 * The front door, tried as a new user would: README's tour runs exactly as written, and CI
 * runs exactly the test command README gives.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, REPO, tempDir } from './support/cli.js';

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const tmp = tempDir('stax-readme-');
afterAll(() => tmp.cleanup());

/** The ```sh blocks of one `## ` section, in order. */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('README', () => {
  it('gives the two set-up commands, and CI runs exactly its test command', () => {
    const setup = shellBlocks('Set-up').join('');
    expect(setup).toMatch(/^npm install && npx stax verify fixtures\/trails\/example\.jsonl/m);
    expect(setup).toMatch(/^npm test\b/m);
    const ci = readFileSync(join(REPO, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('runs the five-minute tour as written: every tamper is caught, the bump is blocked', () => {
    const bin = join(tmp.path, 'bin');
    mkdirSync(bin);
    symlinkSync(BIN, join(bin, 'stax'));
    symlinkSync(BIN, join(bin, 'tracehound'));
    const script = shellBlocks('A five-minute tour').join('\n');
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: REPO,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: tmp.path, NO_COLOR: '1', LANG: 'C.UTF-8', TMPDIR: tmp.path },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/internal error|command not found/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^caught: exit 1$/gm)).toHaveLength(4);
    expect(r.stdout.match(/^blocked: exit 1$/gm)).toHaveLength(1);
    expect(r.stdout).toContain('TRUNCATED');
    expect(r.stdout).toContain('VERSION_NOT_APPROVED');
    expect(r.stdout).toMatch(/modified \| agents\/utils\.py/);
  }, 150_000);
});
