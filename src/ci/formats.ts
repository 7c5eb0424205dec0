/**
 * Machine formats for `stax ci`: GitHub Actions workflow commands, JUnit XML and SARIF
 * 2.1.0. Each is a pure function of the result, so tests can feed them to a real parser
 * or schema without running a pipeline.
 */
import type { CiCheck, CiFinding, CiResult } from './result.js';

// GitHub workflow commands: data escapes %, CR and LF; properties also escape : and ,.
// https://docs.github.com/actions/reference/workflow-commands-for-github-actions
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function ghProperty(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function toGithub(result: CiResult): string {
  const lines: string[] = [];
  for (const check of result.checks) {
    for (const f of check.findings) {
      const command = f.level === 'error' ? 'error' : f.level === 'warning' ? 'warning' : 'notice';
      const props = [`file=${ghProperty(f.file)}`];
      if (f.line !== undefined) props.push(`line=${f.line}`);
      props.push(`title=${ghProperty(`stax ${check.kind}: ${f.code}`)}`);
      lines.push(`::${command} ${props.join(',')}::${ghData(f.message)}`);
    }
  }
  const { pass, fail, error } = result.counts;
  lines.push(`::${result.ok ? 'notice' : 'error'} title=stax ci::${ghData(`${pass} passed, ${fail} failed, ${error} could not run`)}`);
  return lines.join('\n') + '\n';
}

function xml(s: string): string {
  // XML 1.0 cannot carry most control characters at all, even escaped: drop them.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function toJunit(result: CiResult): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const tests = result.checks.length;
  const failures = result.counts.fail;
  const errors = result.counts.error;
  const time = result.checks.reduce((t, c) => t + c.seconds, 0);
  out.push(`<testsuites name="stax ci" tests="${tests}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`);
  for (const kind of ['trail', 'codebank', 'guard'] as const) {
    const checks = result.checks.filter((c) => c.kind === kind);
    if (checks.length === 0) continue;
    const f = checks.filter((c) => c.status === 'fail').length;
    const e = checks.filter((c) => c.status === 'error').length;
    const t = checks.reduce((s, c) => s + c.seconds, 0);
    out.push(`  <testsuite name="stax ${kind}" tests="${checks.length}" failures="${f}" errors="${e}" time="${t.toFixed(3)}">`);
    for (const c of checks) out.push(...testcase(c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

function testcase(c: CiCheck): string[] {
  const head = `    <testcase classname="stax.${c.kind}" name="${xml(c.target)}" time="${c.seconds.toFixed(3)}"`;
  if (c.status === 'pass') return [`${head}/>`];
  const tag = c.status === 'fail' ? 'failure' : 'error';
  const detail = c.findings.filter((f) => f.level !== 'note').map((f) => `${f.file}${f.line === undefined ? '' : `:${f.line}`}: ${f.code}: ${f.message}`);
  return [`${head}>`, `      <${tag} message="${xml(c.summary)}" type="${xml(c.findings[0]?.code ?? c.status)}">${xml(detail.join('\n'))}</${tag}>`, '    </testcase>'];
}

export function toSarif(result: CiResult, version: string): string {
  const rules = new Map<string, { kind: string; level: CiFinding['level'] }>();
  for (const c of result.checks) for (const f of c.findings) if (!rules.has(f.code)) rules.set(f.code, { kind: c.kind, level: f.level });
  const ruleIds = [...rules.keys()].sort();
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'stax',
            version,
            rules: ruleIds.map((id) => ({
              id,
              name: id.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, ch: string) => ch.toUpperCase()),
              shortDescription: { text: `stax ${rules.get(id)!.kind} check: ${id}` },
              defaultConfiguration: { level: rules.get(id)!.level },
            })),
          },
        },
        // SARIF wants URIs relative to a base it can name: the project root.
        originalUriBaseIds: { PROJECTROOT: { uri: toFileUri(result.root) } },
        results: result.checks.flatMap((c) =>
          c.findings.map((f) => ({
            ruleId: f.code,
            ruleIndex: ruleIds.indexOf(f.code),
            level: f.level,
            message: { text: f.message },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: encodeURI(f.file.split('\\').join('/')), uriBaseId: 'PROJECTROOT' },
                  ...(f.line === undefined ? {} : { region: { startLine: f.line } }),
                },
              },
            ],
          })),
        ),
        invocations: [{ executionSuccessful: result.counts.error === 0 }],
      },
    ],
  };
  return JSON.stringify(log, null, 2) + '\n';
}

function toFileUri(path: string): string {
  const p = path.endsWith('/') ? path : `${path}/`;
  return `file://${encodeURI(p)}`;
}
