/** The `trails` checks of `stax ci`: verify, with signatures and checkpoints when configured. */
import { relative, resolve } from 'node:path';
import type { VerifyReport } from '../chain/report.js';
import { StaxError } from '../errors.js';
import { verifyFile } from '../formats/verify.js';
import { loadTrustedKeys } from '../keys/store.js';
import { staxAssurance } from '../trail/assurance.js';
import { readCheckpointFile } from '../trail/checkpoint.js';
import type { TrailCheckConfig } from './config.js';
import type { CiCheck, CiFinding } from './result.js';

export async function checkTrail(root: string, config: TrailCheckConfig): Promise<CiCheck> {
  const started = performance.now();
  const file = resolve(root, config.file);
  const rel = relative(root, file) || config.file;
  const seconds = (): number => (performance.now() - started) / 1000;
  let report: VerifyReport;
  try {
    const trusted = config.trustedKeys === undefined ? null : loadTrustedKeys(resolve(root, config.trustedKeys));
    const checkpoints = (config.checkpoints ?? []).map((c) => readCheckpointFile(resolve(root, c), trusted?.keys ?? []));
    report = await verifyFile(file, { staxVisitors: trusted === null ? undefined : () => staxAssurance(trusted, checkpoints) });
  } catch (err) {
    if (!(err instanceof StaxError)) throw err;
    const where = err.file === undefined ? rel : relative(root, err.file) || err.file;
    return { kind: 'trail', target: rel, status: 'error', summary: err.message, findings: [{ level: 'error', code: err.code, message: err.message, file: where }], units: 0, seconds: seconds() };
  }
  const findings: CiFinding[] = report.problems.map((p) => ({
    level: 'error',
    code: p.code,
    message: p.index === null ? p.message : p.message.startsWith(`entry ${p.index}`) ? p.message : `entry ${p.index}: ${p.message}`,
    file: rel,
    ...(p.line === undefined ? {} : { line: p.line }),
  }));
  for (const l of report.limits) findings.push({ level: 'note', code: `LIMIT_${l.threat.toUpperCase().replace(/-/g, '_')}`, message: l.message, file: rel });
  const summary = report.valid ? `${report.entries} entries verified (${report.format})` : `${report.problemCount} problem${report.problemCount === 1 ? '' : 's'} in ${report.entries} entries, first at entry ${report.firstBad ?? '-'}`;
  return { kind: 'trail', target: rel, status: report.valid ? 'pass' : 'fail', summary, findings, units: report.entries, seconds: seconds() };
}
