/**
 * `stax ci`: every configured check, never a prompt, one result. A check that cannot read
 * its input does not stop the others; it is reported as an error and makes the exit 2.
 */
import { loadCiConfig, type CiConfig } from './config.js';
import { checkCodebank } from './codebank-check.js';
import { checkGuard } from './guard-check.js';
import type { CiCheck, CiResult } from './result.js';
import { checkTrail } from './trail-check.js';

export interface CiOptions {
  root: string;
  config?: string;
  env: Record<string, string | undefined>;
}

export async function runCi(options: CiOptions): Promise<CiResult> {
  const config: CiConfig = loadCiConfig(options.root, options.config);
  const checks: CiCheck[] = [];
  for (const t of config.trails) checks.push(await checkTrail(config.root, t));
  for (const b of config.codebanks) checks.push(await checkCodebank(config.root, b, options.env));
  if (config.guard !== null) checks.push(await checkGuard(config.root, config.guard, options.env));
  const counts = { pass: 0, fail: 0, error: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0 && counts.error === 0, config: config.source, root: config.root, checks, counts };
}
