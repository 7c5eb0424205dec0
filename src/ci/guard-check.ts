/** The `guard` check of `stax ci`: the lockfile against the signed allowlist, one finding per package. */
import { relative, resolve } from 'node:path';
import { StaxError } from '../errors.js';
import { GuardError } from '../guard/allowlist.js';
import { checkProject } from '../guard/check.js';
import type { GuardCheckConfig } from './config.js';
import type { CiCheck, CiFinding } from './result.js';

export async function checkGuard(root: string, config: GuardCheckConfig, env: Record<string, string | undefined>): Promise<CiCheck> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const at = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(root, p));
  const target = config.lockfile ?? 'package-lock.json';
  try {
    const result = await checkProject({
      cwd: root,
      env,
      lockfile: at(config.lockfile),
      allowlist: at(config.allowlist),
      trustedKeys: at(config.trustedKeys),
      guardTrail: at(config.guardTrail),
    });
    const lockfile = result.lockfile === null ? target : relative(root, result.lockfile) || result.lockfile;
    const findings: CiFinding[] = [];
    for (const p of result.packages) {
      if (p.status === 'allowed') continue;
      for (const r of p.reasons) {
        findings.push({
          level: p.status === 'blocked' ? 'error' : 'warning',
          code: r.code,
          message: `${p.name}@${p.version || '(no version)'}: ${r.message}`,
          file: lockfile,
          ...(p.line === null ? {} : { line: p.line }),
        });
      }
    }
    const { allowed, flagged, blocked } = result.counts;
    const summary = `${blocked} blocked, ${flagged} flagged, ${allowed} allowed (allowlist serial ${result.serial}, ${result.signature.mode})`;
    return { kind: 'guard', target: lockfile, status: result.ok ? 'pass' : 'fail', summary, findings, units: result.packages.length, seconds: seconds() };
  } catch (err) {
    if (!(err instanceof StaxError)) throw err;
    // A bad signature or a rolled-back allowlist is a failed check (exit 1); a missing key or file is an error.
    const file = err.file === undefined ? target : relative(root, err.file) || err.file;
    return { kind: 'guard', target, status: err.exitCode === 1 ? 'fail' : 'error', summary: err.message, findings: [{ level: 'error', code: err instanceof GuardError ? err.reason : err.code, message: err.message, file }], units: 0, seconds: seconds() };
  }
}
