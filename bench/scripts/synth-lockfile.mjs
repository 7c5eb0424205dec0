/**
 * A synthetic but realistic npm v3 lockfile and its package.json, the same bytes on every
 * run and machine (seeded PRNG, no network). The mix of fields follows a real lockfile
 * (this repository's, 548 entries: 3/4 dev, 2/3 with engines, about half with
 * dependencies, 1 in 9 nested, 1 in 5 scoped, a few with install scripts or os/cpu), every
 * registry entry with `resolved` and a sha512 `integrity`, written as npm writes it
 * (JSON.stringify with two spaces, final newline).
 *
 * Used by bench/workloads/3-hook-run.mjs; `node bench/scripts/synth-lockfile.mjs DIR [N]`
 * writes DIR/package.json and DIR/package-lock.json by hand.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** mulberry32 (as bench/lib/generate.mjs): a tiny seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEADS = ['is', 'get', 'has', 'fast', 'json', 'string', 'array', 'object', 'path', 'glob', 'micro', 'tiny', 'safe', 'node', 'web', 'http', 'stream', 'buffer', 'color', 'ansi', 'lodash', 'read', 'write', 'parse', 'make', 'to', 'p', 'async', 'promise', 'event'];
const TAILS = ['utils', 'core', 'plugin', 'loader', 'parser', 'regex', 'map', 'set', 'cache', 'queue', 'types', 'escape', 'stringify', 'merge', 'equal', 'deep', 'flatten', 'debounce', 'limit', 'retry', 'format', 'matcher', 'resolve', 'walk', 'spawn', 'wrap', 'ify', 'js', 'lite', 'extra'];
const SCOPES = ['@babel', '@types', '@smithy', '@aws-sdk', '@jest', '@eslint', '@typescript-eslint', '@octokit', '@sinclair', '@jridgewell', '@nodelib', '@esbuild', '@rollup', '@vitest', '@npmcli'];
const LICENSES = ['MIT', 'MIT', 'MIT', 'MIT', 'ISC', 'ISC', 'Apache-2.0', 'BSD-3-Clause', 'BSD-2-Clause', '0BSD'];
const ENGINES = ['>=6', '>=8', '>=10', '>=12', '>=14', '>=16', '>=18', '^12.20.0 || ^14.13.1 || >=16.0.0', '^18.17.0 || >=20.5.0'];
const REGISTRY = 'https://registry.npmjs.org';

function tarball(name, version) {
  const base = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `${REGISTRY}/${name}/-/${base}-${version}.tgz`;
}

/**
 * Returns `{ manifest, lock }` (objects) for a project with `count` lockfile entries
 * besides the root.
 */
export function synthLockfile(count = 2300, seed = 3) {
  const rand = prng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const version = () => {
    const major = rand() < 0.25 ? 0 : Math.floor(rand() * 12) + 1;
    return `${major}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 15)}`;
  };

  // Unique names: word-word (optionally -n), a fifth of them scoped.
  const names = [];
  const taken = new Set();
  const nestedCount = Math.round(count / 9);
  const topCount = count - nestedCount;
  while (names.length < topCount) {
    let n = `${pick(HEADS)}-${pick(TAILS)}`;
    if (rand() < 0.4) n += `-${Math.floor(rand() * 50)}`;
    if (rand() < 0.2) n = `${pick(SCOPES)}/${n}`;
    if (taken.has(n)) continue;
    taken.add(n);
    names.push(n);
  }
  const versions = new Map(names.map((n) => [n, version()]));

  const entry = (name, v, dev) => {
    const e = { version: v, resolved: tarball(name, v), integrity: `sha512-${createHash('sha512').update(`${name}@${v}`).digest('base64')}` };
    if (dev) e.dev = true;
    if (rand() < 0.03) e.optional = true;
    e.license = pick(LICENSES);
    if (rand() < 0.45) {
      const deps = {};
      const k = 1 + Math.floor(rand() * 6);
      for (let i = 0; i < k; i++) {
        const d = names[Math.floor(rand() * names.length)];
        if (d !== name) deps[d] = `^${versions.get(d)}`;
      }
      e.dependencies = deps;
    }
    if (rand() < 0.05) e.bin = { [name.split('/').pop()]: 'bin/cli.js' };
    if (rand() < 0.63) e.engines = { node: pick(ENGINES) };
    if (rand() < 0.2) e.funding = { url: `https://github.com/sponsors/${name.split('/').pop()}` };
    if (rand() < 0.02) {
      e.optional = true;
      e.os = [pick(['linux', 'darwin', 'win32'])];
      e.cpu = [pick(['x64', 'arm64'])];
    }
    return e;
  };

  const devOf = new Map(names.map((n) => [n, rand() < 0.76]));
  const packages = {};
  const direct = { dependencies: {}, devDependencies: {} };
  // The first 40 names are what package.json asks for; the rest are transitive.
  names.slice(0, 40).forEach((n, i) => {
    const field = i < 15 ? 'dependencies' : 'devDependencies';
    direct[field][n] = `^${versions.get(n)}`;
    devOf.set(n, field === 'devDependencies');
  });
  const root = { name: 'bench-guarded-app', version: '1.0.0', license: 'UNLICENSED', dependencies: direct.dependencies, devDependencies: direct.devDependencies };
  packages[''] = root;
  const sorted = [...names].sort();
  for (const n of sorted) packages[`node_modules/${n}`] = entry(n, versions.get(n), devOf.get(n));
  // Packages with install scripts, as a real tree has a few (esbuild, fsevents, ...): the
  // guard flags them (INSTALL_SCRIPT) but allows them once approved.
  for (const n of sorted.slice(0, 3)) packages[`node_modules/${n}`].hasInstallScript = true;
  // Nested copies: another version of a package under a parent that needs it.
  const nested = [];
  for (let i = 0; nested.length < nestedCount; i++) {
    const parent = sorted[Math.floor(rand() * sorted.length)];
    const child = sorted[Math.floor(rand() * sorted.length)];
    const path = `node_modules/${parent}/node_modules/${child}`;
    if (parent === child || path in packages) continue;
    let v = version();
    if (v === versions.get(child)) v = `${v.split('.')[0]}.${v.split('.')[1]}.99`;
    packages[path] = entry(child, v, devOf.get(parent));
    nested.push(path);
  }
  // npm writes the packages in location order.
  const ordered = { '': root };
  for (const k of Object.keys(packages).filter((k) => k !== '').sort()) ordered[k] = packages[k];
  const lock = { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages: ordered };
  const manifest = { name: root.name, version: root.version, private: true, license: 'UNLICENSED', dependencies: direct.dependencies, devDependencies: direct.devDependencies };
  return { manifest, lock };
}

/** Writes package.json and package-lock.json into `dir`. */
export function writeProject(dir, count = 2300, seed = 3) {
  const { manifest, lock } = synthLockfile(count, seed);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
  return { manifest: join(dir, 'package.json'), lockfile: join(dir, 'package-lock.json'), entries: Object.keys(lock.packages).length - 1 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, n] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: node bench/scripts/synth-lockfile.mjs DIR [ENTRIES]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(writeProject(dir, n === undefined ? 2300 : Number(n))) + '\n');
}
