/**
 * The command contract, checked for every command in the registry (npm/cli keeps forty
 * commands consistent the same way): texts, examples, exit codes, --json, a man page, a
 * group for every sub-command, and a --help that shows all of it. A command added to the
 * registry is checked without anyone touching this file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands, groups } from '../../src/cli/registry.js';
import { REPO, runInProcess } from '../support/cli.js';

const squash = (text: string): string => text.replace(/\s+/g, ' ').trim();
const ownExample = (name: string, cmd: string): boolean => cmd === name || cmd.startsWith(`${name} `);

describe('the registry', () => {
  it('names each command once, and each page in the stax-/tracehound- namespace', () => {
    const names = commands.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    for (const page of [...commands.map((c) => c.manPage), ...groups.map((g) => g.manPage)]) {
      expect(page).toMatch(/^(stax|tracehound)-[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });

  it('has no group without commands, and no group that is also a command', () => {
    for (const g of groups) {
      expect(commands.some((c) => c.name.startsWith(`${g.name} `)), `group ${g.name} has no command`).toBe(true);
      expect(commands.some((c) => c.name === g.name), `${g.name} is both a group and a command`).toBe(false);
      expect(g.summary.trim(), `group ${g.name}`).not.toBe('');
      expect(existsSync(join(REPO, 'man', `${g.manPage}.1`)), `man/${g.manPage}.1 (run npm run man)`).toBe(true);
    }
  });
});

describe.each(commands.map((c) => [c.name, c] as const))('%s', (name, spec) => {
  it('has a one-line summary and a description', () => {
    expect(spec.summary.trim()).not.toBe('');
    expect(spec.summary).not.toMatch(/\n/);
    expect((spec.description ?? '').trim()).not.toBe('');
  });

  it('has an example that starts with its own command path', () => {
    expect(spec.examples.some((e) => ownExample(name, e.cmd)), `no example of ${name} starts with "${name}"`).toBe(true);
    for (const e of spec.examples) expect(e.says.trim(), `example "${e.cmd}" says nothing`).not.toBe('');
  });

  it('documents exit codes 0 and 2', () => {
    expect(spec.exitCodes[0]?.trim() ?? '', `${name}: exit code 0 undocumented`).not.toBe('');
    expect(spec.exitCodes[2]?.trim() ?? '', `${name}: exit code 2 undocumented`).not.toBe('');
  });

  it('names a man page that exists in man/', () => {
    expect(existsSync(join(REPO, 'man', `${spec.manPage}.1`)), `man/${spec.manPage}.1 is missing: run npm run man`).toBe(true);
  });

  it('belongs to a group when its name has several words', () => {
    const words = name.split(' ');
    for (let i = 1; i < words.length; i++) {
      const prefix = words.slice(0, i).join(' ');
      expect(groups.some((g) => g.name === prefix), `no GroupSpec for "${prefix}"`).toBe(true);
    }
  });

  it('shows its usage, options, --json, examples and exit codes in --help', async () => {
    const r = await runInProcess([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const help = squash(r.stdout);
    expect(help).toContain(`Usage: stax ${name}`);
    expect(help).toContain(squash(spec.description ?? spec.summary));
    expect(help).toContain('--json');
    for (const opt of spec.options ?? []) {
      if (opt.hidden) continue;
      const long = opt.flags.split(/[\s,]+/).find((f) => f.startsWith('--'));
      if (long !== undefined) expect(help, `option ${opt.flags}`).toContain(long);
    }
    expect(help).toContain('Examples:');
    const example = spec.examples.find((e) => ownExample(name, e.cmd))!;
    expect(help).toContain(squash(`$ stax ${example.cmd}`));
    expect(r.stdout).toContain('Exit codes:');
    for (const [code, text] of Object.entries(spec.exitCodes)) expect(help, `exit code ${code}`).toContain(squash(`${code} ${text}`));
    expect(help).toContain(`See also: man ${spec.manPage}`);
  });

  it('is listed with its one-line summary in the help of its parent', async () => {
    const parent = name.split(' ').slice(0, -1);
    const r = await runInProcess([...parent, '--help']);
    // A bare group exits 2 after its help; --help on a group exits 0.
    expect(r.code).toBe(0);
    expect(squash(r.stdout)).toContain(squash(spec.summary));
  });
});
