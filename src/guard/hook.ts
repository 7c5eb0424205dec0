/**
 * The npm install hook: `stax hook install | uninstall | status | run`.
 *
 * `install` puts a `preinstall` script into the project's package.json that runs
 * `stax hook run`; npm runs it (see src/guard/npm-env.ts for when, by npm version), and a
 * non-zero exit stops the install. `run` checks the lockfile against the signed allowlist
 * (src/guard/check.ts), records the decision in the guard trail and prints what is blocked.
 * `status` says which of the ways around the hook apply to this project.
 *
 * package.json is edited as text, by the smallest change that does the job: the file keeps
 * its indentation, key order, line endings and final newline, and `uninstall` removes
 * byte for byte what `install` added.
 *
 * `run` is on npm's install path: this module loads check.ts and nothing heavier (no
 * pacote, no prompts); the CLI loads cli-table3 only to print what is blocked.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { Exit, StaxError, fileError, type ExitCode } from '../errors.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { JsonParseError, parseJson } from '../json/parse.js';
import type { CheckResult } from './check.js';
import { npmInvocation, type NpmInvocation, type PreinstallTiming } from './npm-env.js';

type Env = Record<string, string | undefined>;

// ---- the script -------------------------------------------------------------------------

/**
 * What the guard tells the user when npm cannot find stax. POSIX sh (npm's default
 * script-shell outside Windows); no double quotes or backslashes, so package.json shows it
 * as written.
 */
// Not "npm i -g stax": that name on the public registry belongs to an unrelated package.
const NOT_INSTALLED = "echo 'stax hook: install blocked: stax is not installed (install your copy globally: npm install -g <stax checkout or tarball>; see man stax-hook)' >&2";

/**
 * The preinstall command. `command -v` finds stax on PATH, which npm prefixes with
 * node_modules/.bin, so a devDependency and a global install both work; `|| exit $?`
 * ends the shell when the check fails, so whatever a chained script does after
 * ` && ` (say `a || b`) cannot turn a blocked install into a success.
 */
export function hookScript(failOpen = false): string {
  return `command -v stax >/dev/null || { ${NOT_INSTALLED}; exit 1; }; stax hook run${failOpen ? ' --fail-open' : ''} || exit $?`;
}

/** Joins the guard and a preinstall script that was there before it. */
export const CHAIN = ' && ';

export type HookForm =
  /** No preinstall, or one that does not run stax. */
  | 'absent'
  /** Exactly the guard. */
  | 'installed'
  /** The guard, then the project's own preinstall. */
  | 'chained'
  /** A preinstall that runs `stax hook run` in a form `install` did not write. */
  | 'custom';

export interface HookState {
  /** The package.json. */
  file: string;
  form: HookForm;
  /** The preinstall script as it is, or null. */
  preinstall: string | null;
  /** For `chained`: the project's own script after the guard. */
  chained: string | null;
  /** The guard runs with --fail-open: it never blocks. */
  failOpen: boolean;
}

/**
 * The guard as any stax version writes it (the message may change between versions, so an
 * older hook is still recognized, updated by install and removed by uninstall).
 */
const GUARD_FORM = /^command -v stax >\/dev\/null \|\| \{ echo '[^']*' >&2; exit 1; \}; stax hook run( --fail-open)? \|\| exit \$\?/;

export function classifyPreinstall(script: string | null): Pick<HookState, 'form' | 'chained' | 'failOpen'> & { guard: string | null } {
  if (script === null) return { form: 'absent', chained: null, failOpen: false, guard: null };
  const m = GUARD_FORM.exec(script);
  if (m !== null) {
    const guard = m[0];
    const failOpen = m[1] !== undefined;
    if (script === guard) return { form: 'installed', chained: null, failOpen, guard };
    if (script.startsWith(guard + CHAIN)) return { form: 'chained', chained: script.slice(guard.length + CHAIN.length), failOpen, guard };
  }
  if (/(?:^|[\s;&|(])stax\s+hook\s+run\b/.test(script)) return { form: 'custom', chained: null, failOpen: /--fail-open\b/.test(script), guard: null };
  return { form: 'absent', chained: null, failOpen: false, guard: null };
}

// ---- package.json as text ---------------------------------------------------------------

interface Member {
  key: string;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

interface ObjectSpan {
  /** Index of `{`. */
  open: number;
  /** Index of `}`. */
  close: number;
  members: Member[];
}

interface Manifest {
  text: string;
  /** Leading byte-order mark, kept as it was. */
  bom: string;
  top: ObjectSpan;
  scripts: { member: Member; object: ObjectSpan } | null;
  preinstall: { member: Member; value: string } | null;
}

function isWs(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function skipWs(t: string, i: number): number {
  while (isWs(t[i])) i++;
  return i;
}

/** Index just past the string that starts at `i` (a `"`). */
function stringEnd(t: string, i: number): number {
  for (let j = i + 1; j < t.length; j++) {
    if (t[j] === '\\') j++;
    else if (t[j] === '"') return j + 1;
  }
  throw new Error('unterminated string');
}

/** Index just past the value that starts at `i`. The text was validated by the parser. */
function valueEnd(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return stringEnd(t, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t[j];
      if (d === '"') j = stringEnd(t, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw new Error('unterminated container');
  }
  let j = i;
  while (j < t.length && !isWs(t[j]) && t[j] !== ',' && t[j] !== '}' && t[j] !== ']') j++;
  return j;
}

function scanObject(t: string, open: number): ObjectSpan {
  const members: Member[] = [];
  let i = skipWs(t, open + 1);
  if (t[i] === '}') return { open, close: i, members };
  for (;;) {
    const keyStart = i;
    const keyEnd = stringEnd(t, i);
    i = skipWs(t, keyEnd);
    i = skipWs(t, i + 1); // the colon
    const valueStart = i;
    const end = valueEnd(t, i);
    members.push({ key: JSON.parse(t.slice(keyStart, keyEnd)) as string, keyStart, keyEnd, valueStart, valueEnd: end });
    i = skipWs(t, end);
    if (t[i] === '}') return { open, close: i, members };
    i = skipWs(t, i + 1); // the comma
  }
}

/** Reads package.json text; refuses what npm would read differently from what a person sees. */
export function parseManifest(text: string, file: string): Manifest {
  const bom = text.startsWith('\ufeff') ? '\ufeff' : '';
  const body = text.slice(bom.length);
  let value;
  try {
    // Repeated keys are an error: JSON.parse (npm) takes the last, a reader sees the first.
    value = parseJson(body);
  } catch (err) {
    if (err instanceof JsonParseError) throw new StaxError('INPUT_INVALID', `not valid JSON: ${err.message}`, { file, cause: err });
    throw err;
  }
  if (!(value instanceof Map)) throw new StaxError('INPUT_INVALID', 'package.json is not a JSON object', { file });
  const start = skipWs(text, bom.length);
  const top = scanObject(text, start);
  const scriptsMember = top.members.find((m) => m.key === 'scripts');
  let scripts: Manifest['scripts'] = null;
  let preinstall: Manifest['preinstall'] = null;
  if (scriptsMember !== undefined) {
    if (text[scriptsMember.valueStart] !== '{') throw new StaxError('INPUT_INVALID', '"scripts" is not an object', { file });
    scripts = { member: scriptsMember, object: scanObject(text, scriptsMember.valueStart) };
    const pre = scripts.object.members.find((m) => m.key === 'preinstall');
    if (pre !== undefined) {
      if (text[pre.valueStart] !== '"') throw new StaxError('INPUT_INVALID', '"scripts.preinstall" is not a string', { file });
      preinstall = { member: pre, value: JSON.parse(text.slice(pre.valueStart, pre.valueEnd)) as string };
    }
  }
  return { text, bom, top, scripts, preinstall };
}

/** The file's layout: line ending, one level of indentation, and what follows a colon. */
function layout(m: Manifest): { eol: string; unit: string; inline: boolean; colon: string } {
  const t = m.text;
  const eol = t.includes('\r\n') ? '\r\n' : '\n';
  const first = m.top.members[0];
  let unit = '  ';
  let inline = false;
  let colon = ': ';
  if (first !== undefined) {
    const before = t.slice(m.top.open + 1, first.keyStart);
    const nl = before.lastIndexOf('\n');
    if (nl < 0) inline = true;
    else unit = before.slice(nl + 1);
    colon = t.slice(first.keyEnd, first.valueStart);
  }
  return { eol, unit, inline, colon };
}

/** The text with [start, end) replaced. */
function splice(t: string, start: number, end: number, insert: string): string {
  return t.slice(0, start) + insert + t.slice(end);
}

/** Removes one member from an object, with the separator that belongs to it. */
function removeMember(t: string, obj: ObjectSpan, index: number): string {
  const m = obj.members[index]!;
  const next = obj.members[index + 1];
  if (next !== undefined) return splice(t, m.keyStart, next.keyStart, '');
  const prev = obj.members[index - 1];
  if (prev !== undefined) return splice(t, prev.valueEnd, m.valueEnd, '');
  return splice(t, obj.open + 1, obj.close, '');
}

export type InstallAction = 'installed' | 'chained' | 'updated' | 'unchanged' | 'custom';
export type UninstallAction = 'removed' | 'unchained' | 'absent' | 'custom';

/** Adds the guard to package.json text. Pure: the caller writes the file. */
export function addHook(text: string, options: { failOpen?: boolean; file?: string } = {}): { text: string; action: InstallAction } {
  const file = options.file ?? 'package.json';
  const m = parseManifest(text, file);
  const guard = hookScript(options.failOpen === true);
  const token = JSON.stringify(guard);
  const t = m.text;
  if (m.preinstall !== null) {
    const { member, value } = m.preinstall;
    const state = classifyPreinstall(value);
    if (state.form === 'custom') return { text: t, action: 'custom' };
    if (state.form === 'installed' || state.form === 'chained') {
      if (state.guard === guard) return { text: t, action: 'unchanged' };
      if (state.chained === null) return { text: splice(t, member.valueStart, member.valueEnd, token), action: 'updated' };
      // Swap the guard only; the project's script keeps its escapes as written.
      const old = JSON.stringify(state.guard + CHAIN).slice(0, -1);
      const tokenText = t.slice(member.valueStart, member.valueEnd);
      const next = tokenText.startsWith(old) ? `${JSON.stringify(guard + CHAIN).slice(0, -1)}${tokenText.slice(old.length)}` : JSON.stringify(guard + CHAIN + state.chained);
      return { text: splice(t, member.valueStart, member.valueEnd, next), action: 'updated' };
    }
    // An empty script cannot follow ` && `: the guard takes its place (uninstall then removes it).
    if (value.trim() === '') return { text: splice(t, member.valueStart, member.valueEnd, token), action: 'installed' };
    // Chain in front of the existing script, keeping its escapes exactly as written.
    const raw = t.slice(member.valueStart + 1, member.valueEnd - 1);
    return { text: splice(t, member.valueStart, member.valueEnd, `"${token.slice(1, -1)}${CHAIN}${raw}"`), action: 'chained' };
  }
  const { eol, unit, inline, colon } = layout(m);
  if (m.scripts !== null) {
    const obj = m.scripts.object;
    const first = obj.members[0];
    if (first !== undefined) {
      const sep = t.slice(first.keyEnd, first.valueStart);
      const ws = t.slice(obj.open + 1, first.keyStart);
      return { text: splice(t, first.keyStart, first.keyStart, `"preinstall"${sep}${token},${ws}`), action: 'installed' };
    }
    const body = inline ? `"preinstall"${colon}${token}` : `${eol}${unit}${unit}"preinstall"${colon}${token}${eol}${unit}`;
    return { text: splice(t, obj.open + 1, obj.close, body), action: 'installed' };
  }
  const scripts = inline ? `"scripts"${colon}{"preinstall"${colon}${token}}` : `"scripts"${colon}{${eol}${unit}${unit}"preinstall"${colon}${token}${eol}${unit}}`;
  const last = m.top.members[m.top.members.length - 1];
  if (last === undefined) {
    return { text: splice(t, m.top.open + 1, m.top.close, inline ? scripts : `${eol}${unit}${scripts}${eol}`), action: 'installed' };
  }
  const prev = m.top.members[m.top.members.length - 2];
  const ws = prev === undefined ? t.slice(m.top.open + 1, last.keyStart) : t.slice(skipWs(t, prev.valueEnd) + 1, last.keyStart);
  return { text: splice(t, last.valueEnd, last.valueEnd, `,${ws}${scripts}`), action: 'installed' };
}

/** Removes what addHook added. Pure: the caller writes the file. */
export function removeHook(text: string, options: { file?: string } = {}): { text: string; action: UninstallAction } {
  const m = parseManifest(text, options.file ?? 'package.json');
  if (m.preinstall === null || m.scripts === null) return { text: m.text, action: 'absent' };
  const { member, value } = m.preinstall;
  const state = classifyPreinstall(value);
  const t = m.text;
  if (state.form === 'absent') return { text: t, action: 'absent' };
  if (state.form === 'custom') return { text: t, action: 'custom' };
  if (state.form === 'chained') {
    const prefix = JSON.stringify(state.guard + CHAIN).slice(0, -1);
    const tokenText = t.slice(member.valueStart, member.valueEnd);
    // addHook kept the original's escapes after the prefix; give them back unchanged.
    const restored = tokenText.startsWith(prefix) ? `"${tokenText.slice(prefix.length)}` : JSON.stringify(state.chained);
    return { text: splice(t, member.valueStart, member.valueEnd, restored), action: 'unchained' };
  }
  const scripts = m.scripts.object;
  // The guard was the only script: the scripts object goes too (install created it, or it was empty).
  if (scripts.members.length === 1) return { text: removeMember(t, m.top, m.top.members.indexOf(m.scripts.member)), action: 'removed' };
  return { text: removeMember(t, scripts, scripts.members.indexOf(member)), action: 'removed' };
}

function readManifestText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new StaxError('FILE_NOT_FOUND', 'no package.json here: run stax hook in the project folder (or create one with npm init)', { file, cause: err });
    }
    throw fileError(file, err);
  }
}

export function readHookState(cwd: string): HookState {
  const file = join(cwd, 'package.json');
  const m = parseManifest(readManifestText(file), file);
  const preinstall = m.preinstall?.value ?? null;
  const { form, chained, failOpen } = classifyPreinstall(preinstall);
  return { file, preinstall, form, chained, failOpen };
}

export interface HookEdit<A extends string> {
  file: string;
  action: A;
  changed: boolean;
  before: string | null;
  after: string | null;
}

function writeManifest(file: string, text: string): void {
  // Write through a symlinked package.json to its target, with the target's mode.
  const target = realpathSync(file);
  writeFileAtomic(target, text, { overwrite: true, mode: statSync(target).mode & 0o777 });
}

export function installHook(cwd: string, options: { failOpen?: boolean } = {}): HookEdit<InstallAction> {
  const file = join(cwd, 'package.json');
  const text = readManifestText(file);
  const before = parseManifest(text, file).preinstall?.value ?? null;
  const edit = addHook(text, { ...options, file });
  if (edit.text !== text) writeManifest(file, edit.text);
  const after = parseManifest(edit.text, file).preinstall?.value ?? null;
  return { file, action: edit.action, changed: edit.text !== text, before, after };
}

export function uninstallHook(cwd: string): HookEdit<UninstallAction> {
  const file = join(cwd, 'package.json');
  const text = readManifestText(file);
  const before = parseManifest(text, file).preinstall?.value ?? null;
  const edit = removeHook(text, { file });
  if (edit.text !== text) writeManifest(file, edit.text);
  const after = parseManifest(edit.text, file).preinstall?.value ?? null;
  return { file, action: edit.action, changed: edit.text !== text, before, after };
}

// ---- lockfile drift ---------------------------------------------------------------------

export interface Drift {
  name: string;
  /** The spec package.json asks for. */
  spec: string;
  /** The version the lockfile has, or null when it has none. */
  locked: string | null;
  message: string;
}

const DEP_FIELDS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;

/**
 * The dependencies package.json asks for that the lockfile does not satisfy. npm 12 runs
 * the hook of a bare `npm install` before it resolves: whatever it resolves afterwards for
 * these was never checked. Only registry ranges are compared by version; other specs
 * (git, file, tags) count as satisfied when the lockfile has the package at all.
 */
export async function lockfileDrift(manifestText: string, lockText: string): Promise<Drift[]> {
  let manifest: Record<string, unknown>;
  let lock: Record<string, unknown>;
  try {
    manifest = JSON.parse(manifestText.replace(/^\ufeff/, '')) as Record<string, unknown>;
    lock = JSON.parse(lockText.replace(/^\ufeff/, '')) as Record<string, unknown>;
  } catch {
    return []; // the check reports unreadable files
  }
  if (manifest === null || typeof manifest !== 'object' || lock === null || typeof lock !== 'object') return [];
  const { default: semver } = await import('semver');
  const packages = isRecord(lock.packages) ? lock.packages : null;
  const v1 = isRecord(lock.dependencies) ? lock.dependencies : null;
  const out: Drift[] = [];
  const seen = new Set<string>();
  for (const field of DEP_FIELDS) {
    const deps = manifest[field];
    if (!isRecord(deps)) continue;
    for (const name of Object.keys(deps)) {
      const spec = deps[name];
      if (typeof spec !== 'string' || seen.has(name)) continue;
      seen.add(name);
      const entry = packages !== null ? own(packages, `node_modules/${name}`) : v1 !== null ? own(v1, name) : undefined;
      if (!isRecord(entry)) {
        out.push({ name, spec, locked: null, message: `package.json asks for ${name}@${spec}, which the lockfile does not have` });
        continue;
      }
      if (entry.link === true) continue;
      const version = typeof entry.version === 'string' ? entry.version : null;
      let range = spec;
      const alias = /^npm:((?:@[^/@]+\/)?[^@]+)(?:@(.*))?$/.exec(spec);
      if (alias !== null) {
        if (typeof entry.name === 'string' && entry.name !== alias[1]) {
          out.push({ name, spec, locked: version, message: `package.json asks for ${name}@${spec}, but the lockfile has ${entry.name} under that name` });
          continue;
        }
        range = alias[2] ?? '*';
      }
      if (range === '' || semver.validRange(range) === null || version === null || semver.valid(version) === null) continue;
      if (!semver.satisfies(version, range, { includePrerelease: false })) {
        out.push({ name, spec, locked: version, message: `package.json asks for ${name}@${spec}, but the lockfile has ${version}` });
      }
    }
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function own(r: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(r, key) ? r[key] : undefined;
}

// ---- stax hook run ----------------------------------------------------------------------

export interface HookRunOptions {
  cwd: string;
  env: Env;
  failOpen?: boolean;
  lockfile?: string;
  allowlist?: string;
  trustedKeys?: string;
  hmacKeyFile?: string;
  /** Default .stax/guard.jsonl; null: no rollback check and nothing recorded. */
  guardTrail?: string | null;
  /** Who ran it, for the guard trail (default $STAX_ACTOR, else the user name). */
  actor?: string;
  now?: Date;
}

export interface BlockedItem {
  name: string;
  version: string;
  codes: string[];
}

export interface HookRunResult {
  /** The project folder checked. */
  project: string;
  npm: Pick<NpmInvocation, 'underNpm' | 'command' | 'npmVersion' | 'timing'>;
  /** What was about to run, as recorded: `npm ci`, `npm install`, `stax hook run`. */
  command: string;
  /** The install may go on: exit 0. */
  allowed: boolean;
  /** npm 7-11 ran the hook after installing: what is blocked is already in node_modules. */
  tooLate: boolean;
  failOpen: boolean;
  check: CheckResult | null;
  drift: Drift[];
  blocked: BlockedItem[];
  /** Why the check could not run (fail closed: the install is blocked). */
  error: { code: string; reason?: string; message: string; file?: string } | null;
  errorExitCode: ExitCode | null;
  recorded: { file: string; seq: number } | null;
  recordError: string | null;
  /** Under --fail-open: the loud warning. */
  warning: string | null;
  /** What to tell the user: what happened, what to do. */
  advice: string[];
}

export async function runHook(o: HookRunOptions): Promise<HookRunResult> {
  const inv = npmInvocation(o.env);
  const project = inv.underNpm && inv.packageJson !== null ? dirname(resolve(o.cwd, inv.packageJson)) : o.cwd;
  const command = inv.underNpm ? `npm ${inv.command ?? 'install'}` : 'stax hook run';
  const npm = { underNpm: inv.underNpm, command: inv.command, npmVersion: inv.npmVersion, timing: inv.timing };
  const check = await import('./check.js');
  const opts = {
    cwd: project,
    env: o.env,
    lockfile: o.lockfile,
    allowlist: o.allowlist,
    trustedKeys: o.trustedKeys,
    hmacKeyFile: o.hmacKeyFile,
    guardTrail: o.guardTrail,
    now: o.now,
  };
  const drift = await driftOf(project, o.lockfile);
  const driftBlocked: BlockedItem[] = drift.map((d) => ({ name: d.name, version: d.spec, codes: ['LOCKFILE_STALE'] }));
  const base = { project, npm, command, drift, tooLate: false };

  if (o.failOpen === true) {
    const out = await check.checkProjectFailOpen({ ...opts, command, npm: inv.npmVersion, actor: o.actor });
    const warning = drift.length === 0 ? out.warning : `${out.warning} Also unchecked: ${drift.map((d) => `${d.name}@${d.spec}`).join(', ')} (package.json, not in the lockfile).`;
    return { ...base, allowed: true, failOpen: true, check: out.result, blocked: [...out.wouldBlock, ...driftBlocked], error: out.error, errorExitCode: null, recorded: out.recorded, recordError: out.recordError, warning, advice: [] };
  }

  let result: CheckResult | null = null;
  let error: HookRunResult['error'] = null;
  let errorExitCode: ExitCode | null = null;
  try {
    result = await check.checkProject(opts);
  } catch (err) {
    if (!(err instanceof StaxError)) throw err;
    error = err.toJSON() as NonNullable<HookRunResult['error']>;
    errorExitCode = err.exitCode;
  }
  const blocked: BlockedItem[] = [
    ...(result?.packages ?? []).filter((p) => p.status === 'blocked').map((p) => ({ name: p.name, version: p.version, codes: p.reasons.map((r) => r.code) })),
    ...driftBlocked,
  ];
  const allowed = error === null && blocked.length === 0;
  const recordedAs = await recordDecision(opts, { result, error, blocked, allowed, command, npmVersion: inv.npmVersion, actor: o.actor });
  const out: HookRunResult = {
    ...base,
    tooLate: !allowed && inv.underNpm && inv.timing === 'after-install',
    allowed,
    failOpen: false,
    check: result,
    blocked,
    error,
    errorExitCode,
    ...recordedAs,
    warning: null,
    advice: [],
  };
  out.advice = hookAdvice(out);
  return out;
}

async function driftOf(project: string, lockfile: string | undefined): Promise<Drift[]> {
  const { readFile } = await import('node:fs/promises');
  const read = async (f: string): Promise<string | null> => readFile(f, 'utf8').catch(() => null);
  const manifest = await read(join(project, 'package.json'));
  if (manifest === null) return [];
  let lock: string | null = null;
  if (lockfile !== undefined) lock = await read(resolve(project, lockfile));
  else for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) if ((lock = await read(join(project, name))) !== null) break;
  return lock === null ? [] : lockfileDrift(manifest, lock);
}

export interface DecisionRecord {
  result: CheckResult | null;
  error: HookRunResult['error'];
  blocked: BlockedItem[];
  allowed: boolean;
  command: string;
  npmVersion: string | null;
  actor: string | undefined;
}

/** Appends an install decision (install.check) to the guard trail, unless the trail itself is what failed. */
export async function recordDecision(
  opts: { cwd: string; env: Env; lockfile?: string; guardTrail?: string | null },
  r: DecisionRecord,
): Promise<Pick<HookRunResult, 'recorded' | 'recordError'>> {
  const { guardTrailPath } = await import('./check.js');
  const trail = guardTrailPath(opts);
  if (trail === null) return { recorded: null, recordError: 'no guard trail (--no-guard-trail): nothing recorded' };
  if (r.error !== null && /^GUARD_TRAIL_/.test(r.error.reason ?? '')) return { recorded: null, recordError: `the guard trail is not usable (${r.error.reason}): nothing recorded` };
  const { existsSync } = await import('node:fs');
  if (!existsSync(trail)) return { recorded: null, recordError: `no guard trail at ${trail}: nothing recorded` };
  const { appendInstallCheck, fileDigest } = await import('./guard-trail.js');
  const { defaultActor } = await import('../trail/paths.js');
  const lockfile = r.result?.lockfile ?? (opts.lockfile === undefined ? null : resolve(opts.cwd, opts.lockfile));
  const payload: import('./guard-trail.js').InstallCheckPayload = {
    lockfile,
    lockfileDigest: lockfile === null ? null : await fileDigest(lockfile),
    npm: r.npmVersion,
    command: r.command,
    allowed: r.allowed,
    blocked: r.blocked,
    failOpen: false,
  };
  if (r.error !== null) payload.error = { code: r.error.reason ?? r.error.code, message: r.error.message };
  try {
    const entry = await appendInstallCheck(trail, payload, { actor: r.actor ?? defaultActor(opts.env), cwd: opts.cwd });
    return { recorded: { file: trail, seq: entry.seq }, recordError: null };
  } catch (err) {
    return { recorded: null, recordError: `could not record in ${trail}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export function hookExitCode(r: HookRunResult): ExitCode {
  if (r.allowed) return Exit.OK;
  return r.errorExitCode ?? Exit.CHECK_FAILED;
}

/** What to tell the user after a run, plain text (the CLI colours and neutralizes it). */
export function hookAdvice(r: Omit<HookRunResult, 'advice'>): string[] {
  const lines: string[] = [];
  const npm = r.npm.npmVersion === null ? 'npm' : `npm ${r.npm.npmVersion}`;
  if (r.failOpen) return lines;
  if (r.allowed) {
    if (r.npm.underNpm && r.npm.timing === 'after-install') {
      lines.push(`note: ${npm} runs this check only after installing; npm 12 runs it before anything is fetched`);
    }
    return lines;
  }
  if (r.drift.length > 0) {
    lines.push(
      `package.json asks for what the lockfile does not have (${r.drift.map((d) => `${d.name}@${d.spec}`).join(', ')}): npm would resolve it after this check, unchecked. ` +
        'Resolve and check it first with: stax npm install',
    );
  }
  if (r.error !== null && r.error.code === 'FILE_NOT_FOUND' && r.check === null && /lock/i.test(r.error.message)) {
    lines.push('without a lockfile npm resolves everything after this check: create and check one with: stax npm install');
  }
  if (r.tooLate) {
    lines.push(
      `TOO LATE TO PREVENT: ${npm} runs the preinstall script only AFTER installing the dependencies, so the blocked packages are in node_modules now ` +
        'and their install scripts may have run. Remove node_modules (rm -rf node_modules), then do one of: upgrade to npm 12 (it runs this check before fetching); ' +
        'check before installing, as in CI: stax hook run && npm ci --ignore-scripts; or install through the guard: stax npm install / stax npm ci',
    );
  } else if (r.npm.underNpm && r.npm.timing === 'before-fetch') {
    lines.push(`${npm} has fetched nothing yet: the install is stopped before any blocked package arrived`);
  }
  if (r.blocked.some((b) => b.codes.some((c) => c === 'NOT_APPROVED' || c === 'VERSION_NOT_APPROVED'))) {
    lines.push('review what is blocked; to allow it: stax approve <name> <version> (signed, recorded in the guard trail)');
  }
  if (r.error !== null) lines.push('the guard could not check, so the install is blocked (fail closed); fix the problem above');
  return lines;
}

// ---- stax hook status -------------------------------------------------------------------

export type Verdict = 'ok' | 'gap' | 'warn' | 'info';

export interface StatusLine {
  id: 'npm' | 'hook' | 'stax' | 'ignore-scripts' | 'lockfile' | 'keys' | 'allowlist' | 'install-pkg';
  verdict: Verdict;
  /** What was found. */
  found: string;
  /** What it means, or what to do. */
  detail: string;
}

export interface HookStatus {
  project: string;
  npm: { version: string | null; error: string | null; timing: PreinstallTiming };
  hook: HookState | null;
  ignoreScripts: { effective: boolean; npmSays: boolean | null; sources: import('./npm-env.js').SettingSource[] };
  stax: { local: string | null; global: string | null };
  lockfile: string | null;
  allowlist: { file: string; exists: boolean; serial: number | null; signature: { mode: string; signedBy: string[] } | null; error: string | null };
  keys: { mode: 'ed25519' | 'hmac' | null; source: string | null };
  lines: StatusLine[];
  /** No gap: every install npm can guard is guarded. */
  covered: boolean;
}

export interface HookStatusOptions {
  cwd: string;
  env: Env;
  allowlist?: string;
  trustedKeys?: string;
  hmacKeyFile?: string;
  guardTrail?: string | null;
  /** How long to wait for npm (default 10 s). */
  npmTimeoutMs?: number;
}

export async function hookStatus(o: HookStatusOptions): Promise<HookStatus> {
  const env = await import('./npm-env.js');
  const { existsSync } = await import('node:fs');
  const project = o.cwd;
  const lines: StatusLine[] = [];
  const timeout = o.npmTimeoutMs ?? 10_000;

  // npm: the one that runs here, asked directly (the hook is not running under npm now).
  const [version, ignoreAnswer] = await Promise.all([env.askNpm(['--version'], project, o.env, timeout), env.askNpm(['config', 'get', 'ignore-scripts'], project, o.env, timeout)]);
  const timing = env.preinstallTiming(version.value);
  if (version.value === null) {
    lines.push({ id: 'npm', verdict: 'gap', found: `npm: ${version.error ?? 'unknown'}`, detail: 'cannot tell when npm would run the hook' });
  } else if (timing === 'before-fetch') {
    lines.push({ id: 'npm', verdict: 'ok', found: `npm ${version.value}`, detail: 'runs preinstall before fetching anything (npm install, npm ci): the hook can stop an install' });
  } else {
    lines.push({
      id: 'npm',
      verdict: 'gap',
      found: `npm ${version.value}`,
      detail: 'runs preinstall only after installing: the hook can fail the install but not prevent it. Upgrade to npm 12, or check first (stax hook run && npm ci --ignore-scripts), or use stax npm install',
    });
  }

  // The hook in package.json.
  let hook: HookState | null = null;
  try {
    hook = readHookState(project);
    const f = hook.form;
    if (f === 'absent') lines.push({ id: 'hook', verdict: 'gap', found: 'not installed', detail: 'add it with: stax hook install' });
    else if (hook.failOpen) lines.push({ id: 'hook', verdict: 'gap', found: `${f}, with --fail-open`, detail: 'the hook records but never blocks; reinstall without: stax hook install' });
    else if (f === 'custom') lines.push({ id: 'hook', verdict: 'warn', found: 'custom preinstall runs stax hook run', detail: 'not the form stax hook install writes; check that a failure stops the script' });
    else lines.push({ id: 'hook', verdict: 'ok', found: f === 'chained' ? 'installed, before the project\'s own preinstall' : 'installed', detail: 'scripts.preinstall in package.json' });
  } catch (err) {
    lines.push({ id: 'hook', verdict: 'gap', found: 'no readable package.json', detail: err instanceof Error ? err.message : String(err) });
  }

  // Where the hook would find stax.
  const localBin = join(project, 'node_modules', '.bin', process.platform === 'win32' ? 'stax.cmd' : 'stax');
  const local = existsSync(localBin) ? localBin : null;
  const outside = (o.env.PATH ?? '').split(delimiter).filter((d) => !d.endsWith(join('node_modules', '.bin')));
  const global = env.whichOnPath('stax', { ...o.env, PATH: outside.join(delimiter) });
  if (global !== null) lines.push({ id: 'stax', verdict: 'ok', found: `on PATH: ${global}`, detail: 'the hook can run before node_modules exists' });
  else if (local !== null && timing !== 'before-fetch')
    lines.push({ id: 'stax', verdict: 'ok', found: 'devDependency only', detail: 'enough while npm runs preinstall after installing; npm 12 needs stax outside node_modules (npm install -g <your stax checkout or tarball>)' });
  else if (local !== null)
    lines.push({ id: 'stax', verdict: 'gap', found: 'devDependency only', detail: 'npm 12 runs preinstall before node_modules is filled (npm ci empties it first): install stax globally too (npm install -g <your stax checkout or tarball>)' });
  else lines.push({ id: 'stax', verdict: 'gap', found: 'not installed', detail: 'the hook blocks every install until stax is installed: npm install -g <your stax checkout or tarball>' });

  // ignore-scripts.
  const ig = env.ignoreScripts(project, o.env);
  const npmSays = ignoreAnswer.value === 'true' ? true : ignoreAnswer.value === 'false' ? false : null;
  const effective = npmSays ?? ig.effective;
  const setTrue = ig.sources.filter((s) => env.isTrue(s.value));
  if (effective) {
    const where = setTrue.map((s) => `${s.level} ${s.where}`).join(', ') || 'npm config';
    lines.push({ id: 'ignore-scripts', verdict: 'gap', found: `true (${where})`, detail: 'npm runs no scripts, so the hook never runs: remove the setting, or check first (stax hook run && npm ci --ignore-scripts)' });
  } else {
    lines.push({ id: 'ignore-scripts', verdict: 'ok', found: 'false', detail: setTrue.length > 0 ? `set true in ${setTrue.map((s) => s.where).join(', ')} but overridden` : 'npm runs the hook' });
  }

  // The lockfile.
  let lockfile: string | null = null;
  for (const name of ['npm-shrinkwrap.json', 'package-lock.json']) {
    if (existsSync(join(project, name))) {
      lockfile = join(project, name);
      break;
    }
  }
  if (lockfile === null) lines.push({ id: 'lockfile', verdict: 'gap', found: 'none', detail: 'npm resolves everything after the hook ran: create one with stax npm install' });
  else lines.push({ id: 'lockfile', verdict: 'ok', found: relative(project, lockfile), detail: 'the hook checks every package in it' });

  // Keys, then the allowlist (which needs them).
  const { trustedKeysPath } = await import('./allowlist.js');
  const { findHmacKey } = await import('../keys/secret-file.js');
  const keys: HookStatus['keys'] = { mode: null, source: null };
  const trusted = trustedKeysPath({ cwd: project, trustedKeys: o.trustedKeys });
  if (trusted !== null) {
    keys.mode = 'ed25519';
    keys.source = trusted;
    lines.push({ id: 'keys', verdict: existsSync(trusted) ? 'ok' : 'gap', found: `Ed25519 trusted keys: ${relative(project, trusted) || trusted}`, detail: 'public keys only: safe where npm hands its environment to install scripts' });
  } else if (findHmacKey({ env: o.env, file: o.hmacKeyFile === undefined ? undefined : resolve(project, o.hmacKeyFile) }) !== undefined) {
    keys.mode = 'hmac';
    keys.source = o.hmacKeyFile ?? 'STAX_HMAC_KEY';
    lines.push({ id: 'keys', verdict: 'warn', found: `HMAC key from ${keys.source}`, detail: 'an HMAC key can forge as well as verify, and npm passes the environment to install scripts; prefer trusted Ed25519 keys' });
  } else {
    lines.push({ id: 'keys', verdict: 'gap', found: 'none', detail: 'no trusted-keys file and no STAX_HMAC_KEY: every check fails closed (KEY_MISSING)' });
  }

  const check = await import('./check.js');
  const file = check.allowlistPath({ cwd: project, allowlist: o.allowlist });
  const allowlist: HookStatus['allowlist'] = { file, exists: existsSync(file), serial: null, signature: null, error: null };
  if (!allowlist.exists) {
    lines.push({ id: 'allowlist', verdict: 'gap', found: 'none', detail: `every install is blocked until there is one: stax approve --from-lockfile` });
  } else {
    try {
      const opened = await check.openAllowlist({ cwd: project, env: o.env, allowlist: o.allowlist, trustedKeys: o.trustedKeys, hmacKeyFile: o.hmacKeyFile, guardTrail: o.guardTrail });
      allowlist.serial = opened.allowlist.serial;
      allowlist.signature = opened.signature;
      lines.push({ id: 'allowlist', verdict: 'ok', found: `serial ${opened.allowlist.serial}, ${opened.signature.mode === 'hmac' ? 'HMAC-signed' : `signed by ${opened.signature.signedBy.join(', ')}`}`, detail: opened.trail === null ? 'signature verifies (rollback check off)' : 'signature verifies and matches the guard trail' });
    } catch (err) {
      allowlist.error = err instanceof Error ? err.message : String(err);
      lines.push({ id: 'allowlist', verdict: 'gap', found: 'does not verify', detail: allowlist.error });
    }
  }

  lines.push({
    id: 'install-pkg',
    verdict: 'info',
    found: 'npm install <pkg>',
    detail: 'no npm version runs preinstall for npm install <pkg> (nor npm update <pkg>): use stax npm install <pkg>, which checks before it installs',
  });

  return {
    project,
    npm: { version: version.value, error: version.error, timing },
    hook,
    ignoreScripts: { effective, npmSays, sources: ig.sources },
    stax: { local, global },
    lockfile,
    allowlist,
    keys,
    lines,
    covered: !lines.some((l) => l.verdict === 'gap'),
  };
}
