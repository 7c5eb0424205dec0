import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ignoreScripts, npmInvocation, npmrcFiles, parseUserAgent, preinstallTiming, readNpmrc } from '../../src/guard/npm-env.js';
import { lockfileChanges, parseNpmArgs } from '../../src/guard/npm-wrapper.js';
import { StaxError } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';

const tmp = tempDir('stax-npm-env-');
afterAll(() => tmp.cleanup());

describe('what npm tells a script about itself', () => {
  it('reads the user agent npm 11 and 12 set', () => {
    expect(parseUserAgent('npm/11.19.1 node/v20.20.2 linux x64 workspaces/false')).toEqual({ npm: '11.19.1', node: '20.20.2' });
    expect(parseUserAgent('npm/12.0.0-pre.1 node/v22.23.3 darwin arm64 workspaces/true ci/github-actions')).toEqual({ npm: '12.0.0-pre.1', node: '22.23.3' });
    expect(parseUserAgent('yarn/1.22.0 npm/? node/v20.0.0')).toBeNull();
    expect(parseUserAgent(undefined)).toBeNull();
  });

  it.each([
    ['12.2.0', 'before-fetch'],
    ['13.0.0', 'before-fetch'],
    ['11.19.1', 'after-install'],
    ['7.0.0', 'after-install'],
    ['6.14.18', 'after-install'],
    [null, 'unknown'],
  ] as const)('npm %s runs the root preinstall %s', (version, timing) => {
    expect(preinstallTiming(version)).toBe(timing);
  });

  it('knows when npm runs it as the preinstall script', () => {
    const inv = npmInvocation({ npm_lifecycle_event: 'preinstall', npm_command: 'ci', npm_config_user_agent: 'npm/12.2.0 node/v22.23.3 linux x64', npm_package_json: '/p/package.json', INIT_CWD: '/p' });
    expect(inv).toEqual({ underNpm: true, event: 'preinstall', command: 'ci', npmVersion: '12.2.0', nodeVersion: '22.23.3', timing: 'before-fetch', packageJson: '/p/package.json', initCwd: '/p' });
    expect(npmInvocation({ npm_config_npm_version: '11.0.0' })).toMatchObject({ underNpm: false, npmVersion: '11.0.0', timing: 'after-install' });
    expect(npmInvocation({})).toMatchObject({ underNpm: false, npmVersion: null, timing: 'unknown' });
  });
});

describe('npmrc and ignore-scripts', () => {
  const home = join(tmp.path, 'home');
  const project = join(tmp.path, 'project');
  mkdirSync(home, { recursive: true });
  mkdirSync(join(project, 'sub'), { recursive: true });
  writeFileSync(join(project, 'package.json'), '{}');

  it('reads npmrc lines as npm does: comments, bare keys, quoted values, ${VAR}', () => {
    const f = join(tmp.path, 'a.npmrc');
    writeFileSync(f, '; comment\n# comment\nignore-scripts\nregistry = "http://r/"\n//r/:_authToken=${TOKEN}\nliteral=\\${TOKEN}\r\n');
    expect([...readNpmrc(f, { TOKEN: 't0k' })]).toEqual([
      ['ignore-scripts', 'true'],
      ['registry', 'http://r/'],
      ['//r/:_authToken', 't0k'],
      ['literal', '${TOKEN}'],
    ]);
    expect(readNpmrc(join(tmp.path, 'missing'), {}).size).toBe(0);
  });

  it('finds the project .npmrc from a sub-folder, and skips it when it is the user file', () => {
    const env = { HOME: home, npm_config_globalconfig: join(tmp.path, 'g') };
    expect(npmrcFiles(join(project, 'sub'), env).map((f) => [f.level, f.file])).toEqual([
      ['global', join(tmp.path, 'g')],
      ['user', join(home, '.npmrc')],
      ['project', join(project, '.npmrc')],
    ]);
    expect(npmrcFiles(project, { ...env, NPM_CONFIG_USERCONFIG: join(project, '.npmrc') }).map((f) => f.level)).toEqual(['global', 'user']);
  });

  it('says where ignore-scripts is set, the environment winning over the project over the user', () => {
    writeFileSync(join(home, '.npmrc'), 'ignore-scripts=true\n');
    const env = { HOME: home, npm_config_globalconfig: join(tmp.path, 'none') };
    expect(ignoreScripts(project, env)).toEqual({ effective: true, sources: [{ level: 'user', where: join(home, '.npmrc'), value: 'true' }] });
    writeFileSync(join(project, '.npmrc'), 'ignore-scripts=false\n');
    expect(ignoreScripts(project, env).effective).toBe(false);
    expect(ignoreScripts(project, { ...env, npm_config_ignore_scripts: 'true' })).toMatchObject({ effective: true, sources: [{ level: 'user' }, { level: 'project' }, { level: 'env', where: 'npm_config_ignore_scripts' }] });
    expect(ignoreScripts(project, { ...env, NPM_CONFIG_IGNORE_SCRIPTS: '' }).effective).toBe(false);
  });
});

describe('stax npm arguments', () => {
  it.each([
    [['install', 'express'], 'install', ['express']],
    [['i', '-D', 'left-pad@1.3.0', '--save-exact'], 'install', ['left-pad@1.3.0']],
    [['add', '--omit', 'dev', '--registry=http://r/', 'a', '--', '-weird'], 'install', ['a', '-weird']],
    [['ci', '--omit=dev'], 'ci', []],
    [['up', 'ms'], 'update', ['ms']],
    [['install'], 'install', []],
  ] as const)('%j is %s of %j', (args, family, specs) => {
    expect(parseNpmArgs([...args])).toMatchObject({ family, specs });
  });

  it.each([
    [[], 'give an npm command'],
    [['run', 'build'], 'stax npm guards install, ci and update'],
    [['-D', 'install', 'x'], 'put the npm command first'],
    [['install', '-g', 'x'], 'a global install (-g) has none'],
    [['ci', 'x'], 'takes no packages'],
  ] as const)('refuses %j', (args, message) => {
    let err: unknown;
    try {
      parseNpmArgs([...args]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StaxError);
    expect((err as StaxError).message).toContain(message);
  });

  it('lists what a lockfile change adds, removes and changes', () => {
    const a = join(tmp.path, 'a.json');
    const b = join(tmp.path, 'b.json');
    writeFileSync(a, JSON.stringify({ packages: { '': {}, 'node_modules/x': { version: '1.0.0', integrity: 'i1' }, 'node_modules/y': { version: '1.0.0' } } }));
    writeFileSync(b, JSON.stringify({ packages: { '': {}, 'node_modules/x': { version: '1.0.0', integrity: 'i2' }, 'node_modules/z': { name: 'zz', version: '2.0.0' } } }));
    expect(lockfileChanges(a, b)).toEqual([
      { path: 'node_modules/x', name: 'x', from: '1.0.0', to: '1.0.0' },
      { path: 'node_modules/z', name: 'zz', from: null, to: '2.0.0' },
      { path: 'node_modules/y', name: 'y', from: '1.0.0', to: null },
    ]);
    expect(lockfileChanges(a, a)).toEqual([]);
  });
});
