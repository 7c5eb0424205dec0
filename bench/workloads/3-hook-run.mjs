/**
 * Workload 3: `stax hook run` as npm starts it before an install (preinstall, npm's
 * environment), on a project whose lockfile has 2,300 registry packages, every one
 * approved in an HMAC-signed allowlist with a guard trail, against `node -e 0` (Node's own
 * start-up, the floor) and lockfile-lint (the lockfile linter people put in that place)
 * run with its usual options on the same lockfile.
 *
 * The lockfile is synthetic and the same on every run (bench/scripts/synth-lockfile.mjs);
 * the allowlist is made by the real CLI (`stax approve --from-lockfile --yes`). Every run
 * appends an install.check entry to the guard trail, so the trail is put back before each
 * run: every run checks the same allowlist against the same trail.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeProject } from '../scripts/synth-lockfile.mjs';

export const PACKAGES = 2_300;
const LOCKFILE_LINT = 'lockfile-lint@5';
// A fixed key: the allowlist is rebuilt by every setup, so it never outlives a run.
const HMAC_KEY = 'stax-bench-hmac-key-not-a-secret';

export const name = 'hook run: 2,300-package lockfile';
export const description = '`stax hook run` under npm preinstall (2,300 approved packages, HMAC allowlist, guard trail) vs `node -e 0` and lockfile-lint';
export const target = [
  { kind: 'slowdown', baseline: 'node -e 0', atMost: 2 },
  { kind: 'speedup', baseline: 'lockfile-lint', atLeast: 1 },
];
export const rounds = 11;

function run(argv, cwd, env, what) {
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed (${r.status ?? r.signal}): ${argv.join(' ')}\n${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout;
}

/** lockfile-lint in a folder of its own beside the workloads' folders, installed once. */
function lockfileLint(dir) {
  const prefix = join(dir, '..', 'tools', 'lockfile-lint-5');
  const bin = join(prefix, 'node_modules', 'lockfile-lint', 'bin', 'lockfile-lint.js');
  if (!existsSync(bin)) {
    process.stderr.write(`[bench] 3-hook-run: installing ${LOCKFILE_LINT} into ${prefix} (once; needs the npm registry)\n`);
    mkdirSync(prefix, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', LOCKFILE_LINT], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`could not install ${LOCKFILE_LINT} (npm exited ${r.status ?? r.signal}); install it by hand: npm install --prefix ${prefix} ${LOCKFILE_LINT}`);
  }
  const version = JSON.parse(readFileSync(join(prefix, 'node_modules', 'lockfile-lint', 'package.json'), 'utf8')).version;
  process.stderr.write(`[bench] 3-hook-run: lockfile-lint ${version}\n`);
  return bin;
}

function npmVersion() {
  const r = spawnSync('npm', ['--version'], { encoding: 'utf8' });
  const v = r.status === 0 ? r.stdout.trim() : '';
  return /^\d+\.\d+\.\d+/.test(v) ? v : '11.0.0';
}

export async function setup({ dir, repo, node }) {
  const lint = lockfileLint(dir);
  // The allowlist carries approval times, so it is rebuilt every time rather than reused.
  const project = join(dir, `project-${PACKAGES}`);
  rmSync(project, { recursive: true, force: true });
  const { lockfile } = writeProject(project, PACKAGES);
  const bin = join(repo, 'bin', 'stax.js');
  const env = { STAX_HMAC_KEY: HMAC_KEY, STAX_ACTOR: 'bench' };
  run([node, bin, 'hook', 'install'], project, env, 'stax hook install');
  run([node, bin, 'approve', '--from-lockfile', lockfile, '--yes'], project, env, 'stax approve --from-lockfile');
  const trail = join(project, '.stax', 'guard.jsonl');
  const pristine = join(dir, 'guard.jsonl.pristine');
  copyFileSync(trail, pristine);
  const npm = npmVersion();
  return {
    project,
    lockfile,
    lint,
    bin,
    trail,
    pristine,
    // What npm puts in the environment of a preinstall script that matters to the hook.
    env: {
      ...env,
      npm_lifecycle_event: 'preinstall',
      npm_lifecycle_script: JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).scripts?.preinstall ?? 'stax hook run',
      npm_command: 'install',
      npm_config_user_agent: `npm/${npm} node/${process.version} ${process.platform} ${process.arch} workspaces/false`,
      npm_package_json: join(project, 'package.json'),
      npm_package_name: 'bench-guarded-app',
      INIT_CWD: project,
    },
  };
}

export const contenders = {
  stax: ({ project, bin, trail, pristine, env }) => ({
    argv: [process.execPath, bin, 'hook', 'run'],
    cwd: project,
    env,
    prepare: () => copyFileSync(pristine, trail),
  }),
  'node -e 0': () => ({ argv: [process.execPath, '-e', '0'] }),
  'lockfile-lint': ({ project, lockfile, lint }) => ({
    argv: [process.execPath, lint, '--path', lockfile, '--type', 'npm', '--allowed-hosts', 'npm', '--validate-https'],
    cwd: project,
  }),
};
