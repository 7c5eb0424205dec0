import { relative, resolve, isAbsolute } from 'node:path';
import type { CommandSpec, OptionSpec, RunContext } from '../command.js';
import { Exit, StaxError } from '../../errors.js';
import type { Ui } from '../output.js';
import { VERIFY_OPTIONS, str, verifyOptions } from './guard-options.js';
import type { ApprovalItem, Candidate, ChangeOptions, ChangeResult, Skipped } from '../../guard/approve.js';
import type { CheckOptions, CheckResult, FailOpenOutcome, PackageVerdict } from '../../guard/check.js';
import type { ResolvedPackage } from '../../guard/resolve.js';
import type { SignatureCheck } from '../../guard/allowlist.js';

const CHANGE_OPTIONS: OptionSpec[] = [
  { flags: '--key <key>', description: 'sign with this Ed25519 private key (file or key name); may repeat', repeatable: true },
  { flags: '--by <actor>', description: 'who approves (default: $STAX_ACTOR, else the user name)' },
  ...VERIFY_OPTIONS,
];

async function changeOptions(options: Record<string, unknown>, ctx: RunContext): Promise<ChangeOptions> {
  const { defaultActor } = await import('../../trail/paths.js');
  const by = str(options.by);
  if (by !== undefined && by.trim() === '') throw new StaxError('USAGE', '--by needs a name');
  return { ...verifyOptions(options, ctx), keys: (options.key as string[] | undefined) ?? [], actor: by ?? defaultActor(ctx.io.env) };
}

/** A path as the user would type it: relative to the working folder when inside it. */
function shown(ui: Ui, file: string | null): string {
  if (file === null) return '-';
  const rel = relative(ui.io.cwd, file);
  return ui.safe(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file);
}

function shortSri(sri: string | null): string {
  if (sri === null) return '-';
  const first = sri.trim().split(/\s+/)[0] ?? '';
  return first.length > 19 ? `${first.slice(0, 18)}…` : first;
}

function signedWith(ui: Ui, r: ChangeResult): string {
  return [...(r.signedWith.hmac ? ['hmac'] : []), ...r.signedWith.ed25519.map((k) => ui.safe(k))].join(', ');
}

function renderChange(ui: Ui, r: ChangeResult): void {
  const trail = r.trailEntry === null ? 'no guard trail entry (--no-guard-trail)' : `guard trail ${shown(ui, r.guardTrail)} entry ${r.trailEntry.seq}`;
  ui.out(`${r.created ? 'created' : 'updated'} ${shown(ui, r.allowlist)}: serial ${r.previousSerial ?? 0} → ${r.serial}, signed with ${signedWith(ui, r)}; ${trail}`);
}

function describeItem(ui: Ui, item: ApprovalItem, resolved: ResolvedPackage | null): string {
  switch (item.kind) {
    case 'source':
      return `${ui.safe(item.name)} from the source ${ui.safe(item.source, 120)}`;
    case 'range':
      return `${ui.safe(item.name)} in the range ${ui.safe(item.range)} ${ui.c.yellow('(weak: not pinned to an integrity)')}`;
    case 'version': {
      const script = item.installScript === null ? 'install script unknown' : item.installScript ? ui.c.yellow('RUNS AN INSTALL SCRIPT') : 'no install script';
      const host = item.host ?? 'any allowed host';
      return `${ui.safe(item.name)} ${ui.safe(item.version)} (${ui.safe(shortSri(item.integrity))}, ${ui.safe(host)}, ${script})${resolved?.deprecated ? ui.c.yellow(` deprecated: ${ui.safe(resolved.deprecated, 120)}`) : ''}`;
    }
  }
}

// ---- stax approve -----------------------------------------------------------------------

interface ApproveResult extends ChangeResult {
  approved: ApprovalItem[];
  resolved: ResolvedPackage | null;
}

interface FromLockfileResult {
  lockfile: string;
  candidates: number;
  approved: ApprovalItem[];
  skipped: Skipped[];
  change: ChangeResult | null;
}

export const approveCommand: CommandSpec = {
  name: 'approve',
  summary: 'approve a package version (pinned to its integrity), a range or a source',
  description:
    'Adds an approval to the signed allowlist (.stax/allowlist.json) and records the change in the guard trail: one atomic write, serial + 1. ' +
    'A version is resolved on your configured npm registry (its .npmrc and auth apply) and pinned to the integrity, tarball host and install-script ' +
    'status the registry reports; without a version the latest is taken, and the output says so. --integrity approves offline. --range approves a ' +
    'semver range (visibly weaker: such packages are reported flagged, RANGE_ONLY), --source an exact git, file: or tarball source. ' +
    '--from-lockfile lists every lockfile package not yet approved and approves the ones you choose in one signed change, with the integrity from the lockfile. ' +
    'A change is signed with STAX_HMAC_KEY (or --hmac-key-file) and/or --key, and is refused unless the current allowlist verifies first.',
  args: ['[name]', '[version]'],
  options: [
    { flags: '--integrity <sri>', description: 'approve this exact version with this integrity, without the network' },
    { flags: '--range <range>', description: 'approve a semver range instead of one version (weaker)' },
    { flags: '--source <spec>', description: "approve an exact git, file: or tarball source (as the lockfile's \"resolved\")" },
    { flags: '--from-lockfile [file]', description: 'review the lockfile (default: npm-shrinkwrap.json, else package-lock.json) and approve its unapproved packages' },
    { flags: '-y, --yes', description: 'with --from-lockfile: approve every unapproved package without asking' },
    { flags: '--note <text>', description: 'why it is approved' },
    { flags: '--expires <when>', description: 'an ISO date (2027-01-31) or a duration (90d, 12w, 1y) after which the approval lapses' },
    { flags: '--allow-host <host>', description: 'also allow this registry host (host or host:port); may repeat', repeatable: true },
    ...CHANGE_OPTIONS,
  ],
  examples: [
    { cmd: 'approve lodash 4.17.21', says: 'resolve on the registry and pin lodash 4.17.21 to its integrity' },
    { cmd: 'approve lodash --note "report builder" --expires 90d', says: 'approve the latest version (the output names it) for 90 days' },
    { cmd: 'approve ms 2.1.3 --integrity sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==', says: 'offline, from a lockfile you trust' },
    { cmd: 'approve --from-lockfile', says: 'pick from every package in package-lock.json that is not approved yet' },
    { cmd: 'approve tool --source git+ssh://git@github.com/acme/tool.git#4f9c2e1…', says: 'approve a git dependency at one commit' },
  ],
  exitCodes: { 0: 'approved (or nothing to approve)', 1: 'the current allowlist fails verification (edited, rolled back)', 2: 'bad arguments, no key, registry unreachable, or not a terminal without --yes' },
  manPage: 'stax-approve',
  async run([name, version], options, ctx) {
    const { approve, signingKeys, parseExpires } = await import('../../guard/approve.js');
    const base = await changeOptions(options, ctx);
    const meta = {
      note: str(options.note) ?? null,
      expires: typeof options.expires === 'string' ? parseExpires(options.expires, new Date()) : null,
      hosts: ((options.allowHost as string[] | undefined) ?? []).map((h) => h.toLowerCase()),
    };
    // Fail on a missing key before any network work.
    signingKeys(base);
    if (options.fromLockfile !== undefined) {
      if (name !== undefined) throw new StaxError('USAGE', '--from-lockfile takes the lockfile as its own value (--from-lockfile FILE), not a package name');
      return fromLockfile(options, ctx, base, meta);
    }
    if (name === undefined) {
      if (meta.hosts.length === 0) throw new StaxError('USAGE', 'name a package (stax approve lodash 4.17.21), or use --from-lockfile');
      const change = await approve(base, [], meta);
      return { result: { ...change, approved: [], resolved: null }, exitCode: Exit.OK, render: (r: ApproveResult, ui: Ui) => renderChange(ui, r) };
    }
    const how = (['integrity', 'range', 'source'] as const).filter((k) => options[k] !== undefined);
    if (how.length > 1) throw new StaxError('USAGE', `give only one of --${how.join(', --')}`);
    let item: ApprovalItem;
    let resolved: ResolvedPackage | null = null;
    if (typeof options.source === 'string' || typeof options.range === 'string') {
      if (version !== undefined) throw new StaxError('USAGE', `--${how[0]} approves without a version; drop "${version}"`);
      item = typeof options.source === 'string' ? { kind: 'source', name: name, source: options.source } : { kind: 'range', name: name, range: options.range as string };
    } else if (typeof options.integrity === 'string') {
      if (version === undefined) throw new StaxError('USAGE', '--integrity needs the exact version it belongs to: stax approve <name> <version> --integrity sha512-…');
      item = { kind: 'version', name: name, version, integrity: options.integrity, host: null, installScript: null };
    } else {
      const { checkPackageName } = await import('../../guard/package-name.js');
      const errors = checkPackageName(name).errors;
      if (errors.length > 0) throw new StaxError('USAGE', `"${name}" is not an npm package name: ${errors.join('; ')}`);
      const { loadNpmConfig, resolvePackage } = await import('../../guard/resolve.js');
      resolved = await resolvePackage(name, version, await loadNpmConfig(ctx.io.cwd, ctx.io.env));
      item = { kind: 'version', name, version: resolved.version, integrity: resolved.integrity, host: resolved.host, installScript: resolved.installScript };
    }
    const change = await approve(base, [item], meta);
    return {
      result: { ...change, approved: [item], resolved } satisfies ApproveResult,
      exitCode: Exit.OK,
      render(r: ApproveResult, ui: Ui) {
        if (r.resolved?.latest) ui.out(ui.c.yellow(`no version given: took the latest, ${ui.safe(r.resolved.name)}@${ui.safe(r.resolved.version)} (dist-tag "latest" on ${ui.safe(r.resolved.registry)})`));
        for (const a of r.approved) ui.out(`${ui.c.green('✔')} approved ${describeItem(ui, a, r.resolved)}`);
        renderChange(ui, r);
      },
    };
  },
};

async function fromLockfile(options: Record<string, unknown>, ctx: RunContext, base: ChangeOptions, meta: { note: string | null; expires: string | null; hosts: string[] }) {
  const { approve, candidateItem, lockfileCandidates } = await import('../../guard/approve.js');
  const { findLockfile, readLockfile } = await import('../../guard/lockfile.js');
  const { openAllowlist, allowlistPath } = await import('../../guard/check.js');
  const { existsSync } = await import('node:fs');
  const file = typeof options.fromLockfile === 'string' ? resolve(ctx.io.cwd, options.fromLockfile) : await findLockfile(ctx.io.cwd);
  const lock = await readLockfile(file);
  // What is approved already: the allowlist must verify before it is trusted for that.
  const current = existsSync(allowlistPath(base)) ? (await openAllowlist(base)).allowlist : null;
  const { candidates, skipped } = lockfileCandidates(lock, current);
  let chosen: Candidate[] = candidates;
  if (candidates.length > 0 && options.yes !== true) {
    const { canPrompt } = await import('../prompt.js');
    if (!canPrompt(ctx)) {
      throw new StaxError(
        'NOT_A_TTY',
        `${candidates.length} package(s) in ${file} are not approved. Not asking: this is not an interactive terminal (or CI is set). ` +
          `Review them with: stax check --lockfile ${file}; then approve them all with: stax approve --from-lockfile ${file} --yes`,
      );
    }
    chosen = await pick(ctx, candidates);
  }
  const items = chosen.map(candidateItem);
  const change = items.length === 0 ? null : await approve(base, items, meta);
  const result: FromLockfileResult = { lockfile: file, candidates: candidates.length, approved: items, skipped, change };
  return {
    result,
    exitCode: Exit.OK,
    render(r: FromLockfileResult, ui: Ui) {
      if (r.candidates === 0) ui.out(`nothing to approve: every package in ${shown(ui, r.lockfile)} is approved already`);
      else if (r.approved.length === 0) ui.out('nothing approved');
      for (const a of r.approved) ui.out(`${ui.c.green('✔')} approved ${describeItem(ui, a, null)}`);
      for (const s of r.skipped) ui.err(`skipped ${ui.safe(s.name)} ${ui.safe(s.version)} (${ui.safe(s.path)}): ${ui.safe(s.why)}`);
      if (r.change !== null) renderChange(ui, r.change);
    },
  };
}

async function pick(ctx: RunContext, candidates: Candidate[]): Promise<Candidate[]> {
  const { checkbox, Separator } = await import('@inquirer/prompts');
  const ui = ctx.ui;
  const label = (c: Candidate): string => {
    const what = c.kind === 'source' ? `${ui.safe(c.name)}  ${c.from} ${ui.safe(c.source ?? '', 70)}` : `${ui.safe(c.name)} ${ui.safe(c.version)}  ${ui.safe(shortSri(c.integrity))}`;
    const script = c.installScript === null ? 'install script ?' : c.installScript ? 'INSTALL SCRIPT' : 'no install script';
    return `${what}  ${script}  ${c.dev ? 'dev' : 'prod'}${c.optional ? ' optional' : ''}${c.range !== null ? `  (now only by range ${ui.safe(c.range)})` : ''}`;
  };
  const choices = [
    new Separator(`${candidates.length} package(s) not yet approved (space toggles, a toggles all, enter approves the chosen ones in one signed change)`),
    ...candidates.map((c, i) => ({ name: label(c), value: i, checked: false })),
  ];
  const picked = await checkbox({ message: 'Approve which packages?', choices, pageSize: 20, loop: false }, { input: ctx.io.stdin, output: ctx.io.stdout });
  return picked.map((i) => candidates[i]!);
}

// ---- stax revoke ------------------------------------------------------------------------

export const revokeCommand: CommandSpec = {
  name: 'revoke',
  summary: 'remove an approval (a version, a range, a whole package, a source or a host)',
  description:
    'Removes approvals from the signed allowlist in one atomic change (serial + 1, one guard-trail entry). With a version (or a range exactly as ' +
    'approved) only that approval goes; with the name alone, every approval of the package, its sources included.',
  args: ['[name]', '[version]'],
  options: [
    { flags: '--source <spec>', description: 'revoke the approval of this exact source' },
    { flags: '--host <host>', description: 'stop allowing this registry host' },
    ...CHANGE_OPTIONS,
  ],
  examples: [
    { cmd: 'revoke lodash 4.17.20', says: 'that version is no longer approved' },
    { cmd: 'revoke left-pad', says: 'every approval of left-pad' },
    { cmd: 'revoke --source git+ssh://git@github.com/acme/tool.git#4f9c2e1…', says: 'that git commit is no longer approved' },
  ],
  exitCodes: { 0: 'revoked', 1: 'the current allowlist fails verification', 2: 'not approved, bad arguments or no key' },
  manPage: 'stax-approve',
  async run([name, version], options, ctx) {
    const { revoke } = await import('../../guard/approve.js');
    const base = await changeOptions(options, ctx);
    const targets: Array<import('../../guard/approve.js').RevokeTarget> = [];
    if (typeof options.source === 'string') targets.push({ source: options.source });
    if (typeof options.host === 'string') targets.push({ host: options.host.toLowerCase() });
    if (name !== undefined) targets.push(version === undefined ? { name } : { name, version });
    else if (version !== undefined) throw new StaxError('USAGE', 'name the package before the version');
    if (targets.length === 0) throw new StaxError('USAGE', 'name what to revoke: stax revoke <name> [version], --source SPEC or --host HOST');
    const change = await revoke(base, targets);
    return {
      result: change,
      exitCode: Exit.OK,
      render(r: ChangeResult, ui: Ui) {
        for (const c of r.changes) {
          const what = c.host !== undefined ? `the host ${c.host}` : c.source !== undefined ? `the source ${c.source}` : `${c.name ?? ''}${c.version ? ` ${c.version}` : c.range ? ` range ${c.range}` : ' (every approval)'}`;
          ui.out(`${ui.c.red('✘')} revoked ${ui.safe(what, 200)}`);
        }
        renderChange(ui, r);
      },
    };
  },
};

// ---- stax allowlist show / verify / sign ---------------------------------------------------

interface ShowEntry {
  name: string;
  kind: 'version' | 'range' | 'source';
  version: string | null;
  range: string | null;
  source: string | null;
  integrity: string | null;
  host: string | null;
  installScript: boolean | null;
  approvedBy: string;
  approvedAt: string;
  expires: string | null;
  expired: boolean;
  note: string | null;
}

interface ShowResult {
  file: string;
  serial: number;
  updated: string;
  hosts: string[];
  verified: boolean;
  signature: SignatureCheck | null;
  problem: { code: string; reason?: string; message: string } | null;
  entries: ShowEntry[];
}

export const allowlistShowCommand: CommandSpec = {
  name: 'allowlist show',
  summary: 'list what the allowlist approves',
  description:
    'Prints one row per approval: package, version (or range, or source), integrity, who approved it and when, expiry and note, after verifying ' +
    'the signature and the guard trail the way stax check does. A file that fails verification is still listed, under a warning, with exit code 1.',
  options: VERIFY_OPTIONS,
  examples: [
    { cmd: 'allowlist show', says: 'the approvals in .stax/allowlist.json' },
    { cmd: 'allowlist show --json', says: 'the same, as JSON' },
  ],
  exitCodes: { 0: 'listed (verified, or no key to verify with)', 1: 'listed, but the signature or the guard trail does not verify', 2: 'no allowlist, or unreadable' },
  manPage: 'stax-allowlist',
  async run(_args, options, ctx) {
    const { readAllowlist } = await import('../../guard/allowlist.js');
    const { allowlistPath, openAllowlist } = await import('../../guard/check.js');
    const o = verifyOptions(options, ctx);
    const file = allowlistPath(o);
    const a = await readAllowlist(file);
    let signature: SignatureCheck | null = null;
    let problem: ShowResult['problem'] = null;
    let exitCode: 0 | 1 = Exit.OK;
    try {
      signature = (await openAllowlist(o)).signature;
    } catch (err) {
      if (!(err instanceof StaxError)) throw err;
      problem = err.toJSON();
      if (err.exitCode === Exit.CHECK_FAILED) exitCode = Exit.CHECK_FAILED;
    }
    const now = Date.now();
    const stamp = (x: { approvedBy: string; approvedAt: string; expires: string | null; note: string | null }) => ({
      approvedBy: x.approvedBy,
      approvedAt: x.approvedAt,
      expires: x.expires,
      expired: x.expires !== null && Date.parse(x.expires) <= now,
      note: x.note,
    });
    const entries: ShowEntry[] = [];
    for (const name of Object.keys(a.packages).sort()) {
      const p = a.packages[name]!;
      for (const [v, x] of Object.entries(p.versions)) entries.push({ name, kind: 'version', version: v, range: null, source: null, integrity: x.integrity, host: x.host, installScript: x.installScript, ...stamp(x) });
      for (const [r, x] of Object.entries(p.ranges)) entries.push({ name, kind: 'range', version: null, range: r, source: null, integrity: null, host: null, installScript: null, ...stamp(x) });
    }
    for (const [s, x] of Object.entries(a.sources)) entries.push({ name: x.name, kind: 'source', version: null, range: null, source: s, integrity: null, host: null, installScript: null, ...stamp(x) });
    const result: ShowResult = { file, serial: a.serial, updated: a.updated, hosts: a.hosts, verified: signature !== null, signature, problem, entries };
    return {
      result,
      exitCode,
      render(r: ShowResult, ui: Ui) {
        if (r.problem !== null) ui.err(ui.ce.red(`${r.problem.code === 'KEY_MISSING' ? 'NOT VERIFIED' : 'DOES NOT VERIFY'}: ${ui.safe(r.problem.message)}`));
        const rows = r.entries.map((e) => [
          ui.safe(e.name),
          e.kind === 'version' ? ui.safe(e.version ?? '') : e.kind === 'range' ? ui.c.yellow(`range ${ui.safe(e.range ?? '')}`) : `source ${ui.safe(e.source ?? '', 60)}`,
          ui.safe(shortSri(e.integrity)),
          ui.safe(e.approvedBy, 40),
          e.approvedAt.slice(0, 10),
          e.expires === null ? '-' : e.expired ? ui.c.red(`${e.expires.slice(0, 10)} (expired)`) : e.expires.slice(0, 10),
          ui.safe(e.note ?? '', 50),
        ]);
        if (rows.length > 0) ui.out(ui.table(['package', 'version / range / source', 'integrity', 'approved by', 'when', 'expires', 'note'], rows, { align: ['left', 'left', 'left', 'left', 'left', 'left', 'left'] }));
        const sig = r.signature === null ? 'NOT verified' : r.signature.mode === 'hmac' ? 'HMAC signature verified' : `Ed25519 signature verified (${r.signature.signedBy.map((s) => ui.safe(s)).join(', ')})`;
        ui.out(`${shown(ui, r.file)}: serial ${r.serial}, updated ${r.updated}, ${r.entries.length} approval(s), hosts ${ui.safe(r.hosts.join(', ') || 'none')}; ${sig}`);
      },
    };
  },
};

interface VerifyResult {
  file: string;
  valid: boolean;
  serial: number | null;
  signature: SignatureCheck | null;
  guardTrail: { file: string; entries: number; serial: number | null } | null;
  problems: Array<{ code: string; message: string }>;
}

export const allowlistVerifyCommand: CommandSpec = {
  name: 'allowlist verify',
  summary: 'check the allowlist signature, serial and guard trail',
  description:
    'Verifies the allowlist as stax check does before looking at any package: the signature in the required mode (Ed25519 by a trusted key when ' +
    'a trusted-keys file is configured, else HMAC), then the guard trail (a verified chain whose newest allowlist.change has this serial and digest: ' +
    'an older serial is a ROLLBACK, a different digest an ALLOWLIST_MISMATCH).',
  options: VERIFY_OPTIONS,
  examples: [
    { cmd: 'allowlist verify', says: 'exit 0 when the allowlist is signed and current' },
    { cmd: 'allowlist verify --trusted-keys keys.txt --json', says: 'in CI, with public keys only' },
  ],
  exitCodes: { 0: 'signed and current', 1: 'bad or missing signature, untrusted key, rollback or mismatch with the guard trail', 2: 'no allowlist, no key, unreadable file' },
  manPage: 'stax-allowlist',
  async run(_args, options, ctx) {
    const { GuardError } = await import('../../guard/allowlist.js');
    const { allowlistPath, openAllowlist } = await import('../../guard/check.js');
    const o = verifyOptions(options, ctx);
    const file = allowlistPath(o);
    let result: VerifyResult;
    try {
      const opened = await openAllowlist(o);
      const t = opened.trail;
      result = {
        file,
        valid: true,
        serial: opened.allowlist.serial,
        signature: opened.signature,
        guardTrail: t === null ? null : { file: t.file, entries: t.entries, serial: t.latest?.serial ?? null },
        problems: [],
      };
    } catch (err) {
      if (!(err instanceof GuardError) || err.exitCode !== Exit.CHECK_FAILED) throw err;
      result = { file, valid: false, serial: null, signature: null, guardTrail: null, problems: [{ code: err.reason, message: err.message }] };
    }
    return {
      result,
      exitCode: result.valid ? Exit.OK : Exit.CHECK_FAILED,
      render(r: VerifyResult, ui: Ui) {
        if (!r.valid) {
          ui.out(`${ui.c.red('✘ does not verify')}  ${shown(ui, r.file)}`);
          for (const p of r.problems) ui.out(`  ${p.code}: ${ui.safe(p.message)}`);
          return;
        }
        const trail = r.guardTrail === null ? 'guard trail not checked' : `matches guard trail ${shown(ui, r.guardTrail.file)} (${r.guardTrail.entries} entries)`;
        const sig = r.signature!.mode === 'hmac' ? 'HMAC signature' : `Ed25519 signature by ${r.signature!.signedBy.map((s) => ui.safe(s)).join(', ')}`;
        ui.out(`${ui.c.green('✔ valid')}  ${shown(ui, r.file)}  serial ${r.serial}, ${sig}, ${trail}`);
      },
    };
  },
};

export const allowlistSignCommand: CommandSpec = {
  name: 'allowlist sign',
  summary: 're-sign the allowlist (after a key rotation, or to add Ed25519)',
  description:
    'Signs the allowlist again with the keys given (STAX_HMAC_KEY or --hmac-key-file, and/or --key), changing nothing but serial (+ 1) and time, ' +
    'and records the re-signing in the guard trail. The current file must verify first: with the trusted keys, the previous HMAC key ' +
    '(--previous-hmac-key-file or STAX_HMAC_KEY_PREVIOUS) or the current one.',
  options: [{ flags: '--previous-hmac-key-file <file>', description: 'the HMAC key the file is signed with now (default: $STAX_HMAC_KEY_PREVIOUS)' }, ...CHANGE_OPTIONS],
  examples: [
    { cmd: 'allowlist sign --key alice', says: 'add an Ed25519 signature by alice (with the HMAC key still set, both sign)' },
    { cmd: 'STAX_HMAC_KEY_PREVIOUS=$OLD STAX_HMAC_KEY=$NEW stax allowlist sign', says: 'rotate the HMAC key' },
  ],
  exitCodes: { 0: 're-signed', 1: 'the current allowlist fails verification', 2: 'no key, or unreadable files' },
  manPage: 'stax-allowlist',
  async run(_args, options, ctx) {
    const { resign } = await import('../../guard/approve.js');
    const change = await resign({ ...(await changeOptions(options, ctx)), previousHmacKeyFile: str(options.previousHmacKeyFile) });
    return { result: change, exitCode: Exit.OK, render: (r: ChangeResult, ui: Ui) => renderChange(ui, r) };
  },
};

// ---- stax check -------------------------------------------------------------------------

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: 'check the lockfile against the signed allowlist',
  description:
    'Verifies the allowlist (signature, then the guard trail against rollback), then every package of the lockfile (npm-shrinkwrap.json, else ' +
    'package-lock.json): name and version approved, integrity equal to the pinned one, registry host allowed, git/file/tarball sources approved ' +
    'exactly, approvals not expired, install scripts flagged (and blocked when new since approval). Prints what is blocked or flagged and why. ' +
    'Packages named as arguments (name@version) are checked too. --fail-open never blocks: it records the decision in the guard trail with ' +
    'failOpen: true and warns loudly; it is never the default.',
  args: ['[spec...]'],
  options: [
    { flags: '--lockfile <file>', description: 'the lockfile (default: npm-shrinkwrap.json, else package-lock.json)' },
    { flags: '--all', description: 'list allowed packages too' },
    { flags: '--registry <url>', description: 'the registry npm fetches from, for lockfile entries without "resolved" (default: npm config)' },
    { flags: '--fail-open', description: 'report, record (failOpen: true) and exit 0 even when something is blocked or the check cannot run' },
    ...VERIFY_OPTIONS,
  ],
  examples: [
    { cmd: 'check', says: 'exit 0 when nothing in package-lock.json is blocked' },
    { cmd: 'check left-pad@1.3.0 --json', says: 'also check a package about to be added' },
    { cmd: 'check --trusted-keys .stax/trusted-keys.txt', says: 'require an Ed25519 signature by a trusted key (safe in CI and hooks)' },
  ],
  exitCodes: { 0: 'nothing blocked', 1: 'something is blocked, or the allowlist fails verification (bad signature, rollback)', 2: 'no allowlist, no key, or an unreadable lockfile' },
  manPage: 'stax-check',
  async run(specs, options, ctx) {
    const { checkProject, checkProjectFailOpen } = await import('../../guard/check.js');
    const opts: CheckOptions = { ...verifyOptions(options, ctx), lockfile: str(options.lockfile), extra: specs, registry: str(options.registry) };
    const all = options.all === true;
    if (options.failOpen === true) {
      const outcome = await checkProjectFailOpen({ ...opts, command: ['stax check', ...specs].join(' ') });
      return {
        result: outcome,
        exitCode: Exit.OK,
        render(r: FailOpenOutcome, ui: Ui) {
          if (r.result !== null) renderCheck(ui, r.result, all);
          ui.err(ui.ce.bgRed.white.bold(` ${ui.safe(r.warning)} `));
        },
      };
    }
    const result = await checkProject(opts);
    return { result, exitCode: result.ok ? Exit.OK : Exit.CHECK_FAILED, render: (r: CheckResult, ui: Ui) => renderCheck(ui, r, all) };
  },
};

function renderCheck(ui: Ui, r: CheckResult, all: boolean): void {
  const shownPackages = r.packages.filter((p) => all || p.status !== 'allowed');
  const status = (p: PackageVerdict): string => (p.status === 'blocked' ? ui.c.red('blocked') : p.status === 'flagged' ? ui.c.yellow('flagged') : ui.c.green('allowed'));
  if (shownPackages.length > 0) {
    const rows = shownPackages.map((p) => [ui.safe(p.name), ui.safe(p.version || '-'), status(p), p.reasons.map((x) => x.code).join(' ') || '-', p.line === null ? '-' : String(p.line)]);
    ui.out(ui.table(['package', 'version', 'status', 'codes', 'line'], rows, { align: ['left', 'left', 'left', 'left', 'right'] }));
    for (const p of shownPackages) {
      for (const x of p.reasons) ui.out(`  ${ui.safe(p.name)}${p.version ? ` ${ui.safe(p.version)}` : ''}: ${x.code}: ${ui.safe(x.message, 400)}`);
    }
  }
  const { allowed, flagged, blocked } = r.counts;
  const mark = blocked > 0 ? ui.c.red('✘') : ui.c.green('✔');
  const sig = r.signature.mode === 'hmac' ? 'HMAC-signed' : `signed by ${r.signature.signedBy.map((s) => ui.safe(s)).join(', ')}`;
  ui.out(`${mark} ${blocked} blocked, ${flagged} flagged, ${allowed} allowed  (${r.lockfile === null ? 'no lockfile' : shown(ui, r.lockfile)} against ${shown(ui, r.allowlist)} serial ${r.serial}, ${sig})`);
  for (const w of r.warnings) ui.err(ui.ce.yellow(`warning: ${ui.safe(w)}`));
}
