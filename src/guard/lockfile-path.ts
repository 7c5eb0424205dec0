/**
 * Locations in a v2/v3 lockfile's "packages" object, and workspace patterns.
 *
 * A location is relative to the project root and uses `/`: `node_modules/a`,
 * `node_modules/a/node_modules/@s/b`, a folder such as `packages/a` (a workspace, or the
 * target of a `file:` folder dependency), or a folder's own tree `packages/a/node_modules/x`.
 * A `file:../sibling` dependency legitimately puts its target at `../sibling`, so `..` is
 * allowed as a leading run (the caller checks a link points there); anywhere else it would
 * let a lockfile name a place outside node_modules (`node_modules/../../etc`), which npm
 * would then write to.
 */

export type LocationProblemCode = 'PATH_TRAVERSAL' | 'PATH_INVALID';

export interface Location {
  /** The folder before the first `node_modules` segment: '' for the root's own tree. */
  folder: string;
  /** The package names down the `node_modules` chain; empty for a folder entry. */
  names: string[];
  /** The last name (best effort when the location is malformed); '' for a folder entry. */
  name: string;
  problem?: { code: LocationProblemCode; message: string };
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** The name after the last `node_modules/`, keeping a scope: how npm names an entry. */
export function nameFromLocation(location: string): string {
  const at = location.lastIndexOf('node_modules/');
  return at < 0 ? '' : location.slice(at + 'node_modules/'.length);
}

/** npm's name for a folder without a `name` field: its basename, with an `@scope/` parent. */
export function nameFromFolder(folder: string): string {
  const segments = folder.split('/');
  const base = segments[segments.length - 1] ?? '';
  const parent = segments[segments.length - 2];
  return parent !== undefined && parent.startsWith('@') ? `${parent}/${base}` : base;
}

export function parseLocation(key: string): Location {
  const bestName = nameFromLocation(key);
  const fail = (code: LocationProblemCode, message: string): Location => ({
    folder: '',
    names: bestName === '' ? [] : [bestName],
    name: bestName,
    problem: { code, message },
  });

  if (CONTROL.test(key)) return fail('PATH_INVALID', 'location contains control characters');
  if (/^(?:[\\/]|[A-Za-z]:)/.test(key)) return fail('PATH_TRAVERSAL', 'location is an absolute path');
  // A backslash is a separator on Windows: check `..` with it too, then reject it anyway.
  const loose = key.split(/[\\/]/);
  let seenOther = false;
  for (const segment of loose) {
    if (segment === '..') {
      if (seenOther) return fail('PATH_TRAVERSAL', 'location climbs out of the folder it names with ".."');
    } else {
      seenOther = true;
    }
  }
  if (key.includes('\\')) return fail('PATH_INVALID', 'location contains a backslash');
  const segments = key.split('/');
  if (segments.some((s) => s === '' || s === '.')) {
    return fail('PATH_INVALID', 'location has an empty or "." segment');
  }

  const first = segments.indexOf('node_modules');
  if (first < 0) return { folder: key, names: [], name: '' };
  const names: string[] = [];
  let i = first;
  while (i < segments.length) {
    if (segments[i] !== 'node_modules') {
      return fail('PATH_INVALID', `location has "${segments[i] ?? ''}" where "node_modules" should be`);
    }
    const head = segments[i + 1];
    if (head === undefined) return fail('PATH_INVALID', 'location ends in "node_modules"');
    if (head.startsWith('@')) {
      const tail = segments[i + 2];
      if (tail === undefined || tail === 'node_modules') {
        return fail('PATH_INVALID', `location has the scope "${head}" without a package name`);
      }
      names.push(`${head}/${tail}`);
      i += 3;
    } else {
      names.push(head);
      i += 2;
    }
  }
  return { folder: segments.slice(0, first).join('/'), names, name: names[names.length - 1] ?? '' };
}

/** Where the package at a location is required from: the location minus its last name. */
export function parentLocation(key: string, name: string): string {
  const own = `node_modules/${name}`;
  if (key === own) return '';
  return key.endsWith(`/${own}`) ? key.slice(0, -own.length - 1) : '';
}

// ---- workspace patterns --------------------------------------------------------------

const MAX_EXPANSIONS = 64;

function normalizePattern(pattern: string): string {
  let p = pattern.trim();
  while (p.startsWith('./')) p = p.slice(2);
  while (p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Expands `{a,b}` groups (not nested), at most MAX_EXPANSIONS results. */
function expandBraces(pattern: string): string[] {
  let out = [pattern];
  for (let round = 0; round < 8; round++) {
    const next: string[] = [];
    let changed = false;
    for (const p of out) {
      const open = p.indexOf('{');
      const close = open < 0 ? -1 : p.indexOf('}', open);
      if (close < 0) {
        next.push(p);
        continue;
      }
      changed = true;
      for (const alt of p.slice(open + 1, close).split(',')) {
        next.push(p.slice(0, open) + alt + p.slice(close + 1));
        if (next.length > MAX_EXPANSIONS) return next.slice(0, MAX_EXPANSIONS);
      }
    }
    out = next;
    if (!changed) break;
  }
  return out;
}

/** Greedy wildcard match with backtracking to the last star: O(pattern × text). */
function wildcard<T>(
  pattern: readonly T[],
  text: readonly T[],
  isStar: (p: T) => boolean,
  eq: (p: T, t: T) => boolean,
): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pe = pattern[p];
    const te = text[t] as T;
    if (pe !== undefined && isStar(pe)) {
      starP = p++;
      starT = t;
    } else if (pe !== undefined && eq(pe, te)) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && isStar(pattern[p] as T)) p++;
  return p === pattern.length;
}

function segmentMatches(pattern: string, segment: string): boolean {
  return wildcard(
    [...pattern],
    [...segment],
    (c) => c === '*',
    (c, s) => c === '?' || c === s,
  );
}

function folderMatches(pattern: string, folder: string): boolean {
  return wildcard(
    pattern.split('/'),
    folder.split('/'),
    (p) => p === '**',
    (p, s) => segmentMatches(p, s),
  );
}

/**
 * A test for "is this folder a workspace" from package.json `workspaces` patterns, as
 * @npmcli/map-workspaces reads them: globs with `*`, `?`, `**` and `{a,b}`, and
 * `!pattern` to exclude. Character classes (`[...]`) are taken literally.
 */
export function workspaceMatcher(patterns: readonly string[]): (folder: string) => boolean {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const raw of patterns) {
    const negated = raw.trim().startsWith('!');
    const body = normalizePattern(negated ? raw.trim().slice(1) : raw);
    if (body === '') continue;
    (negated ? exclude : include).push(...expandBraces(body));
  }
  return (folder) => include.some((p) => folderMatches(p, folder)) && !exclude.some((p) => folderMatches(p, folder));
}
