/**
 * Deterministic workload files. Same arguments, same bytes: every run (and every machine)
 * verifies the same chain, so results compare across runs. Files are built with the real
 * writer's serialization (dist/chain/entry.js), not a copy of it.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(REPO, 'dist');

/** mulberry32: a tiny seeded PRNG, so that payloads vary but never between runs. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = ['session.start', 'http.request', 'iam.role_check', 'scan.deep', 'file.write', 'session.complete'];
const ACTORS = ['recon-agent-001', 'ci', 'alice@example.com', 'deploy-bot'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** The payload of entry i: a few shapes, nested objects, numbers and a little non-ASCII. */
function payloadFor(i, rand) {
  const w = () => WORDS[Math.floor(rand() * WORDS.length)];
  switch (i % 4) {
    case 0:
      return { method: 'GET', status: 200, url: `https://example.com/${w()}`, ms: Math.round(rand() * 5000) / 10 };
    case 1:
      return { role: 'storage.admin', granted: rand() < 0.5, scopes: ['read', 'write'] };
    case 2:
      return { path: `/srv/${w()}.json`, bytes: Math.floor(rand() * 1e6), sha256: createHash('sha256').update(String(i)).digest('hex').slice(0, 16) };
    default:
      return { findings: Math.floor(rand() * 5), summary: `Résumé ${w()}`, tags: [w()] };
  }
}

/**
 * Writes a stax chain of `entries` entries (header line first) to `file`, skipping the
 * work when a finished file with the same name is already there. Names carry the size
 * and a format version, so a stale file is never reused.
 */
export async function staxChain(file, entries, { seed = 1 } = {}) {
  if (existsSync(file)) return file;
  const { serializeEntry, serializeHeader } = await import(join(DIST, 'chain/entry.js'));
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.partial`;
  const fd = openSync(tmp, 'w');
  const rand = prng(seed);
  const t0 = Date.UTC(2025, 0, 1);
  let out = serializeHeader({ format: 'stax-chain', version: 1, kind: 'trail', origin: 'bench.example/agents/recon', created: new Date(t0).toISOString() }) + '\n';
  let prev = '0'.repeat(64);
  for (let seq = 0; seq < entries; seq++) {
    const body = {
      seq,
      ts: new Date(t0 + seq * 37).toISOString(),
      actor: ACTORS[seq % ACTORS.length],
      action: ACTIONS[seq % ACTIONS.length],
      payload: payloadFor(seq, rand),
      prev,
      session: `s-${Math.floor(seq / 1000)}`,
    };
    const { line, hash } = serializeEntry(body);
    prev = hash;
    out += line + '\n';
    if (out.length > 1 << 20) {
      writeSync(fd, out);
      out = '';
    }
  }
  writeSync(fd, out);
  closeSync(fd);
  renameSync(tmp, file);
  return file;
}

/** A TrailStax trail export of `entries` entries, written by Python's own json.dump. */
export function trailstaxExport(file, entries, { seed = 1 } = {}) {
  if (existsSync(file)) return file;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.partial`;
  const r = spawnSync('python3', [join(REPO, 'bench/lib/trailstax_gen.py'), tmp, String(entries), String(seed)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`trailstax_gen.py failed (${r.status ?? r.signal}); is python3 installed?`);
  renameSync(tmp, file);
  return file;
}

export function writeText(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}
