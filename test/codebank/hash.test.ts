/**
 * Hashing on real files: digests agree with ssri and sha256sum's rule, symlinks are hashed
 * as links, FIFOs are never opened, a file growing while it is hashed (appended to by
 * another process) is caught, and the worker pool in dist/ gives the same answers as the
 * calling thread.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssri from 'ssri';
import { afterAll, describe, expect, it } from 'vitest';
import { digestBytes, hashPathSync, type HashResult } from '../../src/codebank/hash.js';
import { hashMany } from '../../src/codebank/pool.js';
import { REPO, tempDir } from '../support/cli.js';
import { startAppender } from './helpers.js';

const tmp = tempDir('stax-hash-');
afterAll(() => tmp.cleanup());
const isRoot = process.getuid?.() === 0;

describe('hashPathSync', () => {
  it('gives an SRI string with sha512 and sha256 that ssri agrees with, and the hex sha256', () => {
    const file = join(tmp.path, 'a.py');
    const bytes = Buffer.from('print("hello")\n');
    writeFileSync(file, bytes, { mode: 0o640 });
    chmodSync(file, 0o640);
    const r = hashPathSync({ path: file, follow: false });
    expect(r).toMatchObject({ status: 'hashed', type: 'file', size: bytes.length, mode: '0640' });
    if (r.status !== 'hashed') throw new Error('not hashed');
    const parsed = ssri.parse(r.integrity, { strict: true });
    expect(Object.keys(parsed).sort()).toEqual(['sha256', 'sha512']);
    expect(ssri.checkData(bytes, r.integrity)).not.toBe(false);
    expect(parsed.match(ssri.fromData(bytes, { algorithms: ['sha512'] }))).not.toBe(false);
    expect(r.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('streams files larger than its buffer, and empty files', () => {
    const big = join(tmp.path, 'big.bin');
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(big, bytes);
    const r = hashPathSync({ path: big, follow: false }, Buffer.alloc(1 << 20));
    expect(r).toMatchObject({ status: 'hashed', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    const exact = join(tmp.path, 'exact.bin');
    writeFileSync(exact, Buffer.alloc(1 << 20, 1));
    expect(hashPathSync({ path: exact, follow: false })).toMatchObject({ status: 'hashed', size: 1 << 20 });
    const empty = join(tmp.path, 'empty');
    writeFileSync(empty, '');
    expect(hashPathSync({ path: empty, follow: false })).toMatchObject({ status: 'hashed', size: 0, integrity: digestBytes('').integrity });
  });

  it('records a symlink as its target string unless told to follow it', () => {
    const target = join(tmp.path, 'target.txt');
    writeFileSync(target, 'content');
    const link = join(tmp.path, 'link');
    symlinkSync('target.txt', link);
    expect(hashPathSync({ path: link, follow: false })).toMatchObject({ status: 'hashed', type: 'symlink', target: 'target.txt', integrity: digestBytes('target.txt').integrity });
    expect(hashPathSync({ path: link, follow: true })).toMatchObject({ status: 'hashed', type: 'file', integrity: digestBytes('content').integrity });
    const dangling = join(tmp.path, 'dangling');
    symlinkSync('nowhere', dangling);
    expect(hashPathSync({ path: dangling, follow: true })).toMatchObject({ status: 'unreadable', reason: expect.stringMatching(/dangling/) });
    const loop = join(tmp.path, 'loop');
    symlinkSync('loop', loop);
    expect(hashPathSync({ path: loop, follow: true })).toMatchObject({ status: 'unreadable', reason: expect.stringMatching(/loop/) });
  });

  it('never opens a FIFO (opening one would block), and says a folder is not a file', () => {
    const fifo = join(tmp.path, 'pipe');
    execFileSync('mkfifo', [fifo]);
    expect(hashPathSync({ path: fifo, follow: false })).toMatchObject({ status: 'special', type: 'fifo' });
    mkdirSync(join(tmp.path, 'dir'));
    expect(hashPathSync({ path: join(tmp.path, 'dir'), follow: false })).toMatchObject({ status: 'special', type: 'directory' });
    expect(hashPathSync({ path: join(tmp.path, 'gone'), follow: false })).toMatchObject({ status: 'missing' });
  });

  // Root reads a chmod 000 file anyway (CAP_DAC_OVERRIDE), so there is nothing to test as root.
  it.skipIf(isRoot)('reports an unreadable file instead of failing', () => {
    const secret = join(tmp.path, 'secret');
    writeFileSync(secret, 'x');
    chmodSync(secret, 0);
    expect(hashPathSync({ path: secret, follow: false })).toMatchObject({ status: 'unreadable', reason: 'permission denied' });
  });

  it('catches a 200 MB file that another process appends to while it is hashed', async () => {
    const file = join(tmp.path, 'growing.bin');
    writeFileSync(file, '');
    truncateSync(file, 200 * 1024 * 1024); // sparse: 200 MB of zeros that cost no disk
    const child = await startAppender(file);
    try {
      const r = hashPathSync({ path: file, follow: false });
      expect(r.status).toBe('changed-during-hash');
    } finally {
      child.kill();
    }
    // Once nobody writes, the same file hashes cleanly.
    await new Promise((r) => child.once('exit', r));
    expect(hashPathSync({ path: file, follow: false }).status).toBe('hashed');
  });
});

describe('hashMany', () => {
  const dir = join(tmp.path, 'many');
  mkdirSync(dir);
  const paths: string[] = [];
  for (let i = 0; i < 150; i++) {
    const p = join(dir, `f${i}.txt`);
    writeFileSync(p, `file ${i}\n`.repeat(i));
    paths.push(p);
  }
  paths.push(join(dir, 'missing.txt'));
  const expected = paths.map((p, i) => (i < 150 ? createHash('sha256').update(readFileSync(p)).digest('hex') : null));
  const sha = (r: HashResult): string | null => (r.status === 'hashed' ? r.sha256 : null);

  it('hashes in the calling thread, in order, with progress', async () => {
    const seen: number[] = [];
    const results = await hashMany(paths.map((path) => ({ path, follow: false })), { threads: 1, onProgress: (p) => seen.push(p.done) });
    expect(results.map(sha)).toEqual(expected);
    expect(results[150]).toMatchObject({ status: 'missing' });
    expect(seen[seen.length - 1]).toBe(151);
  });

  it('gives the same results on two worker threads (the built pool, which has its worker script)', async () => {
    const built = (await import(join(REPO, 'dist/codebank/pool.js'))) as typeof import('../../src/codebank/pool.js');
    let last = 0;
    const results = await built.hashMany(paths.map((path) => ({ path, follow: false })), { threads: 2, onProgress: (p) => (last = p.done) });
    expect(results.map(sha)).toEqual(expected);
    expect(last).toBe(151);
  });
});
