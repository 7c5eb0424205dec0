#!/usr/bin/env node
/**
 * stax benchmarks: `npm run bench [-- FILTER...] [--rounds N]`.
 *
 * Every workload is a module in bench/workloads/ (see bench/workloads/README.md). The
 * harness builds each workload's files once (deterministically, in a temp folder), runs
 * every contender as a whole process several times in alternation (round 1: a b c, round
 * 2: b c a, ...) so that a slow minute on a shared machine hits all of them alike, then
 * prints one table of medians and ratios and writes bench/results/latest.json.
 *
 * Ratios are the result; absolute times on a shared machine drift by a third.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = join(BENCH, '..');
const TIME = '/usr/bin/time';

function parseArgs(argv) {
  const out = { rounds: 5, filters: [], out: join(BENCH, 'results', 'latest.json'), work: join(tmpdir(), 'stax-bench') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') out.rounds = Number(argv[++i]);
    else if (a === '--out') out.out = argv[++i];
    else if (a === '--work-dir') out.work = argv[++i];
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node bench/run.mjs [FILTER...] [--rounds N] [--out FILE] [--work-dir DIR]\n  FILTER: a workload number or part of its file name\n');
      process.exit(0);
    } else out.filters.push(a);
  }
  if (!Number.isInteger(out.rounds) || out.rounds < 1) throw new Error('--rounds must be a positive integer');
  return out;
}

async function loadWorkloads(filters) {
  const dir = join(BENCH, 'workloads');
  const files = readdirSync(dir)
    .filter((f) => /^\d+[a-z]?-.*\.mjs$/.test(f))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
  const chosen = files.filter((f) => filters.length === 0 || filters.some((x) => (/^\d+$/.test(x) ? parseInt(f, 10) === Number(x) : f.includes(x))));
  const out = [];
  for (const file of chosen) {
    const mod = await import(join(dir, file));
    const wl = mod.default ?? mod;
    for (const key of ['name', 'setup', 'contenders']) if (!(key in wl)) throw new Error(`${file}: a workload exports ${key}`);
    if (!('stax' in wl.contenders)) throw new Error(`${file}: one contender must be named "stax"`);
    out.push({ file, ...wl });
  }
  return out;
}

/** Runs one contender once: wall time from here, peak RSS from GNU time when there is one. */
function runOnce(spec, scratch) {
  spec.prepare?.();
  const haveTime = existsSync(TIME);
  const rssFile = join(scratch, 'rss.txt');
  const [cmd, ...args] = haveTime ? [TIME, '-f', '%M', '-o', rssFile, ...spec.argv] : spec.argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd: spec.cwd ?? REPO,
    env: { ...process.env, ...spec.env },
    input: spec.stdin ?? '',
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const expected = spec.exitCode ?? 0;
  if (r.status !== expected) {
    throw new Error(`${spec.argv.join(' ')} exited ${r.status ?? r.signal}, expected ${expected}\n${(r.stderr ?? '').slice(-2000)}`);
  }
  const rssKB = haveTime ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : NaN;
  let seconds = wall;
  if (spec.reportsSeconds) {
    // The program timed its own work (a library benchmark): take its number.
    const m = /"seconds"\s*:\s*([0-9.eE+-]+)/.exec(r.stdout);
    if (m === null) throw new Error(`${spec.argv.join(' ')} printed no {"seconds": ...}`);
    seconds = Number(m[1]);
  }
  spec.check?.(r.stdout);
  return { seconds, wall, rssKB };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function fmtSeconds(s) {
  if (!Number.isFinite(s)) return '-';
  return s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}

function fmtMB(kb) {
  return Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '-';
}

/** Evaluates one target against the medians. */
function evaluate(target, stats) {
  const stax = stats.stax;
  switch (target.kind) {
    case 'speedup': {
      const base = stats[target.baseline];
      const ratio = base.median / stax.median;
      return { baseline: target.baseline, ratio, text: `>= ${target.atLeast}x ${target.baseline}`, measured: `${ratio.toFixed(2)}x`, met: ratio >= target.atLeast };
    }
    case 'rate': {
      const rate = target.work / stax.median;
      return { baseline: target.baseline ?? null, text: `>= ${fmtNum(target.atLeast)} ${target.unit}`, measured: `${fmtNum(rate)} ${target.unit}`, met: rate >= target.atLeast, value: rate };
    }
    case 'rss':
      return { baseline: null, text: `peak RSS < ${target.belowMB} MB`, measured: fmtMB(stax.rssMaxKB), met: stax.rssMaxKB / 1024 < target.belowMB };
    case 'slowdown': {
      const base = stats[target.baseline];
      const times = stax.median / base.median;
      return { baseline: target.baseline, text: `<= ${target.atMost}x ${target.baseline} time`, measured: `${times.toFixed(2)}x`, met: times <= target.atMost };
    }
    case 'overhead': {
      const base = stats[target.baseline];
      const extra = (stax.median - base.median) * 1000;
      return { baseline: target.baseline, text: `<= ${target.baseline} + ${target.atMostMs} ms`, measured: `+${extra.toFixed(0)} ms`, met: extra <= target.atMostMs };
    }
    case 'info':
      return { baseline: target.baseline ?? null, text: target.text ?? '(for reference)', measured: target.measure?.(stats) ?? '', met: null };
    default:
      throw new Error(`unknown target kind ${target.kind}`);
  }
}

function fmtNum(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function table(rows) {
  const head = ['workload', 'baseline', 'stax median', 'baseline median', 'ratio', 'stax peak RSS', 'target', 'measured', 'met'];
  const cells = rows.map((r) => [r.workload, r.baseline ?? '-', r.stax, r.base, r.ratio, r.rss, r.target, r.measured, r.met === null ? '-' : r.met ? 'yes' : 'NO']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => `| ${c.map((x, i) => x.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  mkdirSync(opts.work, { recursive: true });
  // Per run: several people may run benchmarks on one machine at once.
  const scratch = mkdtempSync(join(opts.work, 'scratch-'));
  const workloads = await loadWorkloads(opts.filters);
  if (workloads.length === 0) throw new Error(`no workload matches ${opts.filters.join(' ')}`);
  const started = new Date();
  const load0 = loadavg();
  const results = [];
  const rows = [];
  for (const wl of workloads) {
    process.stderr.write(`[bench] ${wl.file}: setting up\n`);
    const ctx = await wl.setup({ dir: join(opts.work, wl.file.replace(/\.mjs$/, '')), repo: REPO, node: process.execPath, scratch });
    const names = Object.keys(wl.contenders);
    const specs = Object.fromEntries(names.map((n) => [n, wl.contenders[n](ctx)]));
    const runs = Object.fromEntries(names.map((n) => [n, []]));
    // One warm-up run each (page cache, compile caches), not counted.
    for (const n of names) runOnce(specs[n], scratch);
    const rounds = wl.rounds ?? opts.rounds;
    for (let round = 0; round < rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const n of order) runs[n].push(runOnce(specs[n], scratch));
      process.stderr.write(`[bench] ${wl.file}: round ${round + 1}/${rounds}\n`);
    }
    await wl.teardown?.(ctx);
    const stats = Object.fromEntries(
      names.map((n) => {
        const rs = runs[n];
        return [n, { median: median(rs.map((r) => r.seconds)), runs: rs.map((r) => r.seconds), rssMaxKB: Math.max(...rs.map((r) => r.rssKB)), rssMedianKB: median(rs.map((r) => r.rssKB)) }];
      }),
    );
    const targets = (Array.isArray(wl.target) ? wl.target : wl.target ? [wl.target] : []).map((t) => evaluate(t, stats));
    const covered = new Set(targets.map((t) => t.baseline).filter(Boolean));
    for (const n of names) {
      if (n === 'stax' || covered.has(n)) continue;
      targets.push({ baseline: n, text: '(for reference)', measured: '', met: null });
    }
    for (const t of targets) {
      const base = t.baseline === null ? undefined : stats[t.baseline];
      rows.push({
        workload: wl.name,
        baseline: t.baseline,
        stax: fmtSeconds(stats.stax.median),
        base: base ? fmtSeconds(base.median) : '-',
        ratio: base ? `${(base.median / stats.stax.median).toFixed(2)}x` : '-',
        rss: fmtMB(stats.stax.rssMaxKB),
        target: t.text,
        measured: t.measured,
        met: t.met,
      });
    }
    results.push({ file: wl.file, name: wl.name, description: wl.description ?? null, rounds, contenders: stats, targets });
  }
  const out = {
    date: started.toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: { count: availableParallelism(), model: cpus()[0]?.model ?? 'unknown' },
    loadavg: { before: load0, after: loadavg() },
    note: 'ratio = baseline median / stax median (above 1: stax is faster); times are whole processes unless a contender timed its own work',
    workloads: results,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(out, null, 2) + '\n');
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(`\n${table(rows)}\n\nnode ${process.version}, ${availableParallelism()} cores, load ${load0.map((x) => x.toFixed(1)).join(' ')} -> ${loadavg().map((x) => x.toFixed(1)).join(' ')}; results in ${opts.out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
