/**
 * Shell completion, in the real shells: the bash script is loaded with `source <(stax
 * completion bash)` in bash and asked for completions the way readline asks (COMP_LINE,
 * COMP_POINT, COMP_WORDS, COMP_CWORD, then COMPREPLY). zsh and fish are checked when they
 * are installed (CI has only bash; a developer with zsh or fish runs those tests too).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, groups } from '../../src/cli/registry.js';
import { completionModel } from '../../src/cli/completion.js';
import { BIN, REPO, baseEnv, runCli, runInProcess, tempDir } from '../support/cli.js';

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const env = Object.fromEntries(Object.entries(baseEnv()).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
const LOAD = `source <("${process.execPath}" "${BIN}" completion bash)`;
const tmp = tempDir('stax-completion-');
const SCRIPT = join(tmp.path, 'stax.bash');
beforeAll(() => {
  const r = spawnSync(process.execPath, [BIN, 'completion', 'bash'], { cwd: REPO, env, encoding: 'utf8' });
  expect(r.status).toBe(0);
  writeFileSync(SCRIPT, r.stdout);
});
afterAll(() => tmp.cleanup());

const sq = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Completes each line (the cursor at its end) in one bash with the generated script, as
 * readline would: COMP_LINE and COMP_POINT, COMP_WORDS and COMP_CWORD; returns each COMPREPLY.
 */
function bashCompleteAll(lines: string[], options: { wordsOnly?: boolean } = {}): string[][] {
  const calls = lines.map((line) => {
    const words = line.split(/\s+/);
    const setup = [
      options.wordsOnly ? 'unset COMP_LINE COMP_POINT' : `COMP_LINE=${sq(line)}; COMP_POINT=${line.length}`,
      `COMP_WORDS=(${words.map(sq).join(' ')}); COMP_CWORD=${words.length - 1}`,
    ].join('; ');
    return `${setup}; _stax stax; printf '%s\\n' "\${COMPREPLY[@]}"; echo '--'`;
  });
  const r = spawnSync('bash', ['-c', [`source ${sq(SCRIPT)}`, ...calls].join('\n')], { cwd: REPO, env, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout
    .split('--\n')
    .slice(0, lines.length)
    .map((block) => block.split('\n').filter((l) => l !== ''));
}

const bashComplete = (line: string, options: { wordsOnly?: boolean } = {}): string[] => bashCompleteAll([line], options)[0]!;

describe('stax completion bash', () => {
  it('loads in bash and registers both program names', () => {
    const r = spawnSync('bash', ['-c', `${LOAD}\ncomplete -p stax tracehound`], { cwd: REPO, env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('complete -F _stax stax\ncomplete -F _stax tracehound\n');
  });

  it('completes stax tr<TAB> to trail', () => {
    expect(bashComplete('stax tr')).toEqual(['trail']);
    expect(bashComplete('stax tr', { wordsOnly: true })).toEqual(['trail']);
  });

  it('completes every command of the registry from its parent', () => {
    const lines = commands.map((c) => {
      const words = c.name.split(' ');
      return ['stax', ...words.slice(0, -1), words[words.length - 1]!.slice(0, -1)].join(' ');
    });
    const replies = bashCompleteAll(lines);
    commands.forEach((c, i) => expect(replies[i], c.name).toContain(c.name.split(' ').pop()));
  });

  it('completes sub-commands, options, and option values', () => {
    expect(bashComplete('stax trail ')).toEqual(['show', 'export', 'import', 'repair']);
    expect(bashComplete('stax verify --')).toEqual(expect.arrayContaining(['--format', '--trusted-keys', '--checkpoint', '--json', '--help']));
    expect(bashComplete('stax --')).toEqual(['--help', '--version']);
    expect(bashComplete('stax completion ')).toEqual(['bash', 'zsh', 'fish']);
    // A value that is not a file completes nothing rather than file names.
    expect(bashComplete('stax verify --format ')).toEqual([]);
  });

  it('completes file names for file arguments and options, and skips option values', () => {
    expect(bashComplete('stax verify fixtures/trails/ex')).toEqual(['fixtures/trails/example.jsonl']);
    expect(bashComplete('stax verify --trusted-keys fixtures/trails/ex')).toEqual(['fixtures/trails/example.jsonl']);
    expect(bashComplete('stax verify --format stax fixtures/trails/ex')).toEqual(['fixtures/trails/example.jsonl']);
    expect(bashComplete('stax verify --trusted-keys=fixtures/trails/ex')).toEqual(['fixtures/trails/example.jsonl']);
  });

  it('completes envelope names with ":" in them (bash splits words there)', () => {
    const reply = bashComplete('stax inspect fixtures/tracehound/injection:f43');
    expect(reply).toEqual(['f436593d6ab2724173e860d99d4199351fb0830d61fee3c69008c85af794a468.thcs']);
  });

  it('completes folder names only where a folder is wanted', () => {
    const reply = bashComplete('stax watch fixtures/t');
    expect(reply.sort()).toEqual(['fixtures/tracehound', 'fixtures/trails', 'fixtures/trailstax']);
  });
});

describe('stax completion', () => {
  it('refuses a shell it does not know, with one line and exit 2', async () => {
    const r = await runCli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bash, zsh, fish/);
  });

  it('prints {shell, script} with --json', async () => {
    const r = await runInProcess(['completion', 'fish', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { shell: string; script: string };
    expect(out.shell).toBe('fish');
    expect(out.script).toMatch(/^# fish completion/);
  });

  it('models every command and group of the registry', () => {
    const model = completionModel(commands, groups);
    const paths = model.map((n) => n.path);
    for (const c of commands) expect(paths).toContain(c.name);
    for (const g of groups) expect(paths).toContain(g.name);
    const verify = model.find((n) => n.path === 'verify')!;
    expect(verify.args).toEqual({ kind: 'file' });
    expect(verify.options.find((o) => o.names.includes('--trusted-keys'))?.value).toEqual({ kind: 'file' });
    expect(verify.options.find((o) => o.names.includes('--format'))?.value).toEqual({ kind: 'none' });
  });
});

// zsh and fish are not on CI's machine; these run where they are installed.
describe.skipIf(!has('zsh'))('stax completion zsh', () => {
  it('is valid zsh and completes from the registry', async () => {
    const { stdout } = await runInProcess(['completion', 'zsh']);
    expect(spawnSync('zsh', ['-n'], { input: stdout, encoding: 'utf8' }).status).toBe(0);
    // The completion system's builtins stubbed: what _stax would offer, as lines.
    const script = [
      stdout,
      '_describe() { print -rl -- ${(P)4} }',
      '_files() { print -r -- "FILES $*" }',
      'compadd() { print -rl -- ${(P)2} }',
      'words=(stax tr); CURRENT=2; _stax',
      'words=(stax trail show --l); CURRENT=4; _stax',
      'words=(stax verify --trusted-keys x); CURRENT=4; _stax',
      'words=(stax completion ""); CURRENT=3; _stax',
    ].join('\n');
    const r = spawnSync('zsh', ['-f', '-c', 'compdef() { : }\n' + script], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('trail:read, export, import and repair trails');
    expect(r.stdout).toContain('--limit:at most n entries');
    expect(r.stdout).toContain('FILES \n');
    expect(r.stdout).toContain('bash\nzsh\nfish\n');
  });
});

describe.skipIf(!has('fish'))('stax completion fish', () => {
  it('is valid fish and completes from the registry', async () => {
    const { stdout } = await runInProcess(['completion', 'fish']);
    const file = join(REPO, 'fixtures');
    const r = spawnSync(
      'fish',
      ['--no-config', '-c', `${stdout}\ncomplete -C 'stax tr'; complete -C 'stax trail show --l'; complete -C 'stax completion '; complete -C 'stax verify trails/ex'`],
      { cwd: file, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('trail\tread, export, import and repair trails');
    expect(r.stdout).toContain('--limit\tat most n entries');
    expect(r.stdout).toContain('bash\nfish\nzsh\n');
    expect(r.stdout).toContain('trails/example.jsonl');
  });
});
