import { describe, expect, it } from 'vitest';
import { runCli, runInProcess } from '../support/cli.js';

describe('the program, as a child process', () => {
  it('answers to both of its names', async () => {
    const stax = await runCli(['--help']);
    expect(stax.code).toBe(0);
    expect(stax.stdout).toMatch(/^Usage: stax /);
    const hound = await runCli(['--help'], { as: 'tracehound' });
    expect(hound.code).toBe(0);
    expect(hound.stdout).toMatch(/^Usage: tracehound /);
  });

  it('prints its version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 with one line for an unknown command or option', async () => {
    const cmd = await runCli(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/^stax: unknown command 'frobnicate'/);
    const opt = await runCli(['verify', '--bogus', 'x']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('exits 2 when a required argument is missing', async () => {
    const r = await runCli(['verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument/);
  });
});

describe('the program, in-process', () => {
  it('shows examples and exit codes in every command help', async () => {
    const r = await runInProcess(['verify', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toContain('--json');
  });
});
