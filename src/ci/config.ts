/**
 * The project configuration `stax ci` runs from: `.stax/config.json`, or a `stax` key in
 * package.json. Paths are relative to the project root. Without either, ci discovers the
 * usual files under `.stax/`. Every mistake is reported with its exact path in the file
 * (`stax.trails[0].chekpoints`) and, for a misspelt key, the key it probably meant.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StaxError, fileError } from '../errors.js';
import { PROJECT_DIR } from '../trail/paths.js';

export interface TrailCheckConfig {
  file: string;
  /** Verifier keys every entry must be signed by (named after its actor). */
  trustedKeys?: string;
  /** Signed checkpoints the trail must extend; checked with trustedKeys. */
  checkpoints?: string[];
}

export interface CodebankCheckConfig {
  bank: string;
  /** Only labels under these paths. */
  paths?: string[];
  /** `OLD=NEW` re-rooting for TrailStax exports. */
  rebase?: string[];
}

export interface GuardCheckConfig {
  lockfile?: string;
  allowlist?: string;
  trustedKeys?: string;
  guardTrail?: string;
}

export interface CiConfig {
  /** Where the configuration came from, or null when discovered. */
  source: string | null;
  root: string;
  trails: TrailCheckConfig[];
  codebanks: CodebankCheckConfig[];
  guard: GuardCheckConfig | null;
}

const SHAPES = {
  top: { trails: 'array', codebanks: 'array', guard: 'object' },
  trail: { file: 'string', trustedKeys: 'string', checkpoints: 'string[]' },
  codebank: { bank: 'string', paths: 'string[]', rebase: 'string[]' },
  guard: { lockfile: 'string', allowlist: 'string', trustedKeys: 'string', guardTrail: 'string' },
} as const;

type Shape = Record<string, 'string' | 'string[]' | 'array' | 'object'>;

export function loadCiConfig(root: string, explicit?: string): CiConfig {
  if (explicit !== undefined) return parseConfig(root, explicit, readJson(explicit), explicit);
  const file = join(root, PROJECT_DIR, 'config.json');
  if (existsSync(file)) return parseConfig(root, file, readJson(file), relative(root, file));
  const pkg = join(root, 'package.json');
  if (existsSync(pkg)) {
    const manifest = readJson(pkg) as Record<string, unknown>;
    if (manifest !== null && typeof manifest === 'object' && Object.hasOwn(manifest, 'stax')) {
      return parseConfig(root, pkg, manifest.stax, 'package.json "stax"', 'stax');
    }
  }
  return discover(root);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, err);
  }
  try {
    return JSON.parse(text.replace(/^\ufeff/, '')) as unknown;
  } catch (err) {
    throw new StaxError('CONFIG_INVALID', `not valid JSON: ${(err as Error).message}`, { file });
  }
}

function parseConfig(root: string, file: string, value: unknown, source: string, prefix = ''): CiConfig {
  const fail = (path: string, message: string): never => {
    throw new StaxError('CONFIG_INVALID', `${path}: ${message}`, { file });
  };
  const at = (p: string): string => (prefix === '' ? p : `${prefix}.${p}`);
  const checkObject = (v: unknown, shape: Shape, path: string, required: string[] = []): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path || '(top level)', 'must be an object');
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const kind = Object.hasOwn(shape, key) ? shape[key] : undefined;
      const here = path === '' ? key : `${path}.${key}`;
      if (kind === undefined) {
        const near = closest(key, Object.keys(shape));
        fail(here, `unknown key${near === null ? '' : ` (did you mean "${near}"?)`}; allowed: ${Object.keys(shape).join(', ')}`);
      }
      const val = o[key];
      if (kind === 'string' && (typeof val !== 'string' || val === '')) fail(here, 'must be a non-empty string (a path)');
      if (kind === 'string[]' && (!Array.isArray(val) || val.some((x) => typeof x !== 'string' || x === ''))) fail(here, 'must be an array of non-empty strings');
      if (kind === 'array' && !Array.isArray(val)) fail(here, 'must be an array');
    }
    for (const key of required) if (!Object.hasOwn(o, key)) fail(path === '' ? key : `${path}.${key}`, 'is required');
    return o;
  };
  const top = checkObject(value, SHAPES.top, prefix);
  const trails = ((top.trails as unknown[] | undefined) ?? []).map((t, i) => checkObject(t, SHAPES.trail, at(`trails[${i}]`), ['file']) as unknown as TrailCheckConfig);
  const codebanks = ((top.codebanks as unknown[] | undefined) ?? []).map((c, i) => checkObject(c, SHAPES.codebank, at(`codebanks[${i}]`), ['bank']) as unknown as CodebankCheckConfig);
  const guard = top.guard === undefined ? null : (checkObject(top.guard, SHAPES.guard, at('guard')) as GuardCheckConfig);
  for (const [i, t] of trails.entries()) {
    if (t.checkpoints !== undefined && t.checkpoints.length > 0 && t.trustedKeys === undefined) {
      fail(at(`trails[${i}].checkpoints`), 'needs trustedKeys: a checkpoint is only as good as its signer');
    }
  }
  for (const [i, c] of codebanks.entries()) {
    for (const [j, r] of (c.rebase ?? []).entries()) if (!/^[^=]+=[^=]+$/.test(r)) fail(at(`codebanks[${i}].rebase[${j}]`), 'must be OLD=NEW');
  }
  if (trails.length === 0 && codebanks.length === 0 && guard === null) fail(prefix || '(top level)', 'configures nothing to check: add trails, codebanks or guard');
  return { source, root, trails, codebanks, guard };
}

/** Without configuration: the usual files under .stax/, each checked when present. */
function discover(root: string): CiConfig {
  const dir = join(root, PROJECT_DIR);
  const has = (name: string): boolean => existsSync(join(dir, name));
  const trustedKeys = has('trusted-keys.txt') ? join(PROJECT_DIR, 'trusted-keys.txt') : undefined;
  const trails: TrailCheckConfig[] = [];
  if (has('trail.jsonl')) {
    const checkpoints = trustedKeys !== undefined && has('trail.jsonl.checkpoint') ? [join(PROJECT_DIR, 'trail.jsonl.checkpoint')] : undefined;
    trails.push({ file: join(PROJECT_DIR, 'trail.jsonl'), trustedKeys, checkpoints });
  }
  const codebanks = has('codebank.jsonl') ? [{ bank: join(PROJECT_DIR, 'codebank.jsonl') }] : [];
  const guard = has('allowlist.json') ? {} : null;
  if (trails.length === 0 && codebanks.length === 0 && guard === null) {
    throw new StaxError('CONFIG_INVALID', `nothing to check: no ${PROJECT_DIR}/config.json, no "stax" key in package.json, and no ${PROJECT_DIR}/trail.jsonl, codebank.jsonl or allowlist.json`, { file: root });
  }
  return { source: null, root, trails, codebanks, guard };
}

/** The allowed key a misspelt one most likely meant (edit distance at most 2). */
function closest(key: string, allowed: string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
