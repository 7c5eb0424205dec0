/** The `codebanks` checks of `stax ci`: the bank's chain first, then every registered file. */
import { relative } from 'node:path';
import { locateBank } from '../codebank/bank.js';
import type { CodeCheck } from '../codebank/result.js';
import { verifyCode } from '../codebank/verify.js';
import { StaxError } from '../errors.js';
import type { CodebankCheckConfig } from './config.js';
import type { CiCheck, CiFinding } from './result.js';

export async function checkCodebank(root: string, config: CodebankCheckConfig, _env: Record<string, string | undefined>): Promise<CiCheck> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const located = locateBank(root, config.bank);
  const rel = relative(root, located.bank) || config.bank;
  try {
    const result = await verifyCode({
      bank: located.bank,
      root: located.root,
      cwd: root,
      paths: config.paths,
      rebase: (config.rebase ?? []).map((r) => ({ from: r.slice(0, r.indexOf('=')), to: r.slice(r.indexOf('=') + 1) })),
    });
    const findings: CiFinding[] = [];
    if (!result.trusted) {
      for (const p of result.chain.problems) {
        findings.push({ level: 'error', code: p.code, message: `bank tampered: ${p.message}`, file: rel, ...(p.line === undefined ? {} : { line: p.line }) });
      }
    }
    for (const item of result.items) if (!item.ok) findings.push(fileFinding(item, rel));
    const bad = result.items.filter((i) => !i.ok).length;
    const summary = !result.trusted
      ? `bank does not verify (${result.chain.problems[0]?.code ?? 'invalid'}); no file verdict is trusted`
      : `${result.items.length - bad} of ${result.items.length} labels ok${bad === 0 ? '' : `, ${bad} not`}`;
    return { kind: 'codebank', target: rel, status: result.ok ? 'pass' : 'fail', summary, findings, units: result.items.length, seconds: seconds() };
  } catch (err) {
    if (!(err instanceof StaxError)) throw err;
    return { kind: 'codebank', target: rel, status: 'error', summary: err.message, findings: [{ level: 'error', code: err.code, message: err.message, file: rel }], units: 0, seconds: seconds() };
  }
}

/** Points at the file when there is one, so an annotation lands on it; else at the bank. */
function fileFinding(item: CodeCheck, bank: string): CiFinding {
  const file = item.status === 'missing' || item.path === null ? bank : (item.checked ?? item.path);
  const what = item.label ?? item.path ?? '?';
  return { level: 'error', code: item.status.toUpperCase().replace(/-/g, '_'), message: `${what}: ${item.detail}`, file };
}
