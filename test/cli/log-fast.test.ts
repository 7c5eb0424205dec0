/**
 * bin/stax.js runs `stax log` without the full CLI when its arguments are the plain kind
 * (src/cli/fast-log.ts). Both paths run the same command function; these tests check that
 * what a user sees is the same either way, and that anything unusual goes to the full CLI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLogArgs } from '../../src/cli/fast-log.js';
import { runCli, tempDir, type RunResult } from '../support/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const FULL = { STAX_NO_FAST_PATH: '1' };
/** Output with the parts that differ between two appends (time, hash, seq) masked. */
const mask = (s: string): string => s.replace(/[0-9a-f]{64}/g, 'H').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, 'T').replace(/entry \d+/g, 'entry N').replace(/"(seq)": \d+/g, '"$1": N');

async function both(args: string[], input = ''): Promise<[RunResult, RunResult]> {
  const fast = await runCli(args, { cwd: tmp.path, input, env: { STAX_ACTOR: 'tester' } });
  const full = await runCli(args, { cwd: tmp.path, input, env: { STAX_ACTOR: 'tester', ...FULL } });
  return [fast, full];
}

describe('stax log fast path', () => {
  it.each([
    [['log', 'deploy', '--payload', '{"v":1}']],
    [['log', 'deploy', '--payload', '{"v":1}', '--json']],
    [['log', 'deploy', '--actor', 'ci', '--session', 's1', '--no-fsync', '--trail', 'other/t.jsonl']],
    [['log', 'deploy', '--payload', '{bad']],
    [['log', 'deploy', '--payload', '{"v":1}', '--json', '--trail', 'missing-dir/../t2.jsonl']],
    [['log', 'deploy', '--payload-file', 'nope.json']],
    [['log', 'deploy', '--payload', '1', '--payload-file', 'nope.json', '--json']],
  ])('prints what the full CLI prints: %j', async (args) => {
    const [fast, full] = await both(args);
    expect(mask(fast.stdout)).toBe(mask(full.stdout));
    expect(mask(fast.stderr)).toBe(mask(full.stderr));
    expect(fast.code).toBe(full.code);
  });

  it('takes the payload from standard input, as the full CLI does', async () => {
    const [fast, full] = await both(['log', 'stdin.payload', '--json'], '{"rows": 42}');
    expect(JSON.parse(fast.stdout).payload).toEqual({ rows: 42 });
    expect(JSON.parse(full.stdout).payload).toEqual({ rows: 42 });
    const lines = readFileSync(join(tmp.path, '.stax/trail.jsonl'), 'utf8').trim().split('\n');
    expect((await runCli(['verify', '.stax/trail.jsonl'], { cwd: tmp.path })).code).toBe(0);
    expect(lines.length).toBeGreaterThan(3);
  });

  it.each([
    [['deploy'], { action: 'deploy', options: { fsync: true } }],
    [['deploy', '--no-fsync', '--json', '--actor', 'ci'], { action: 'deploy', options: { fsync: false, json: true, actor: 'ci' } }],
    [['--payload-file', 'p.json', 'x'], { action: 'x', options: { fsync: true, payloadFile: 'p.json' } }],
    [['deploy', '--help'], null],
    [['-h'], null],
    [['deploy', 'extra'], null],
    [[], null],
    [['deploy', '--payload'], null],
    [['deploy', '--payload', '-1'], null],
    [['deploy', '--payload=1'], null],
    [['deploy', '--actor', 'a', '--actor', 'b'], null],
    [['deploy', '--unknown'], null],
    [['deploy', '--'], null],
  ])('parses %j as commander would, or hands it over', (args, expected) => {
    expect(parseLogArgs(args)).toEqual(expected);
  });
});
