/**
 * A synthetic node_modules-like tree, the same bytes on every run and machine: packages of
 * a few to a few dozen files (package.json, README.md, LICENSE, lib/, dist/, types/), file
 * sizes drawn from the size distribution of a real installed node_modules (this
 * repository's: 10,664 files, median 1.1 kB, mean 12 kB, 1% above 150 kB; the largest
 * files, binaries of many MB, capped here at 2 MB), contents JS-like text that is
 * different in every file.
 *
 * Used by bench/workloads/4-codebank.mjs; `node bench/scripts/synth-tree.mjs DIR [FILES]`
 * writes one by hand.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** [quantile, bytes] of the file sizes in a real node_modules (find -printf %s). */
const SIZE_QUANTILES = [
  [0, 0], [0.01, 25], [0.05, 76], [0.1, 151], [0.2, 278], [0.3, 520], [0.4, 815], [0.5, 1093], [0.6, 1491], [0.7, 2264],
  [0.8, 4243], [0.9, 10395], [0.95, 23770], [0.97, 42422], [0.98, 62632], [0.99, 153875], [0.995, 260049], [0.999, 545945], [1, 2_000_000],
];

function sizeAt(u) {
  for (let i = 1; i < SIZE_QUANTILES.length; i++) {
    const [q1, s1] = SIZE_QUANTILES[i];
    if (u <= q1) {
      const [q0, s0] = SIZE_QUANTILES[i - 1];
      // Geometric interpolation: sizes spread over orders of magnitude.
      const f = (u - q0) / (q1 - q0);
      return Math.round(s0 === 0 ? s1 * f : s0 * (s1 / s0) ** f);
    }
  }
  return SIZE_QUANTILES[SIZE_QUANTILES.length - 1][1];
}

const WORDS = ['function', 'return', 'const', 'value', 'options', 'module', 'exports', 'require', 'this', 'undefined', 'length', 'index', 'string', 'object', 'callback', 'error', 'result', 'prototype', 'typeof', 'null', 'buffer', 'stream', 'path', 'node', 'config', 'default', 'async', 'await', 'Promise', 'resolve'];
const PUNCT = [' ', ' ', ' ', ' ', '.', '(', ') ', ', ', ';\n', ' = ', ' {\n  ', '\n}\n', ' => ', ': '];
const DIRS = ['lib', 'dist', 'src', 'types', 'lib/internal', 'dist/esm', 'dist/cjs', 'build'];
const EXTS = ['.js', '.js', '.js', '.js', '.d.ts', '.d.ts', '.js.map', '.mjs', '.cjs', '.json', '.md'];

/** Writes `files` files under `dir` (which must not exist yet). Returns the byte count. */
export function writeTree(dir, files = 20_000, seed = 4) {
  const rand = prng(seed);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  // One corpus of JS-like text; each file is a slice of it after a header naming the file,
  // so no two files hash alike.
  let corpus = '';
  while (corpus.length < 4 << 20) corpus += pick(WORDS) + pick(PUNCT);
  const CORPUS = Buffer.from(corpus, 'latin1');
  let written = 0;
  let bytes = 0;
  let pkg = 0;
  while (written < files) {
    const name = `${pick(WORDS).toLowerCase()}-${pick(WORDS).toLowerCase()}-${pkg++}`;
    const base = join(dir, 'node_modules', rand() < 0.2 ? `@scope${pkg % 7}/${name}` : name);
    const n = Math.min(files - written, 3 + Math.floor(-Math.log(1 - rand()) * 10));
    // A package keeps its files in the root and one or two folders (about 6 files a folder
    // overall, as in the real tree).
    const dirs = ['', pick(DIRS)];
    if (rand() < 0.3) dirs.push(pick(DIRS));
    for (let i = 0; i < n; i++) {
      const rel = i === 0 ? 'package.json' : i === 1 ? 'README.md' : i === 2 ? 'LICENSE' : join(pick(dirs), `${pick(WORDS).toLowerCase()}${i}${pick(EXTS)}`);
      const path = join(base, rel);
      const header = Buffer.from(`/* ${name}/${rel} */\n`, 'latin1');
      const size = Math.max(0, sizeAt(rand()) - header.length);
      const at = Math.floor(rand() * (CORPUS.length - 1));
      const parts = [header];
      for (let left = size, off = at; left > 0; ) {
        const take = Math.min(left, CORPUS.length - off);
        parts.push(CORPUS.subarray(off, off + take));
        left -= take;
        off = 0;
      }
      const body = Buffer.concat(parts);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body);
      bytes += body.length;
      written++;
    }
  }
  return { files: written, bytes };
}

/**
 * The tree at `dir`, built once: written beside it under a temporary name and renamed
 * when complete, so an interrupted build is never reused.
 */
export function ensureTree(dir, files = 20_000, seed = 4) {
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  writeTree(tmp, files, seed);
  renameSync(tmp, dir);
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, n] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: node bench/scripts/synth-tree.mjs DIR [FILES]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(writeTree(dir, n === undefined ? 20_000 : Number(n))) + '\n');
}
