/**
 * Turns what the user named (files, folders, glob patterns) into the list of files to hash.
 * Folders are walked recursively in name order. Symlinks are listed as links and not
 * entered unless followed; when followed, a link back to a folder that is already being
 * walked (a loop) is reported and not entered, by device and inode as `find -L` does.
 * FIFOs, sockets and devices are never opened: they are listed as skipped.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { compileGlob, hasGlob, type Glob } from './glob.js';

export interface WalkOptions {
  followSymlinks: boolean;
  /** Absolute paths left out: the bank itself, its lock, the `.stax` folder. */
  exclude?: (abs: string) => boolean;
}

export interface Found {
  /** Absolute path. */
  path: string;
  /** `symlink` only when links are not followed. */
  type: 'file' | 'symlink';
}

export interface Skipped {
  path: string;
  kind: 'special' | 'loop' | 'unreadable';
  reason: string;
}

export interface WalkResult {
  files: Found[];
  skipped: Skipped[];
}

export type ArgKind = 'file' | 'folder' | 'glob' | 'missing';

export interface Expanded extends WalkResult {
  arg: string;
  kind: ArgKind;
  /** The absolute path (for a glob: its base folder). */
  path: string;
  glob?: Glob;
}

/** Expands one command-line argument. A path that does not exist is kind `missing`. */
export function expandArg(arg: string, cwd: string, options: WalkOptions): Expanded {
  const out: WalkResult = { files: [], skipped: [] };
  if (hasGlob(arg)) {
    const glob = compileGlob(arg, cwd);
    const st = statOrNull(glob.base, true);
    if (st?.isDirectory()) walk(glob.base, '', 0, options, out, new Set([key(st)]), glob);
    return { arg, kind: 'glob', path: glob.base, glob, ...out };
  }
  const abs = resolve(cwd, arg);
  const lst = statOrNull(abs, false);
  if (lst === null) return { arg, kind: 'missing', path: abs, ...out };
  let st: Stats | null = lst;
  if (lst.isSymbolicLink()) {
    if (!options.followSymlinks) {
      out.files.push({ path: abs, type: 'symlink' });
      return { arg, kind: 'file', path: abs, ...out };
    }
    st = statOrNull(abs, true);
    if (st === null) {
      out.skipped.push({ path: abs, kind: 'unreadable', reason: 'a dangling symlink (its target does not exist) or a symlink loop' });
      return { arg, kind: 'file', path: abs, ...out };
    }
  }
  if (st.isDirectory()) {
    walk(abs, '', 0, options, out, new Set([key(st)]));
    return { arg, kind: 'folder', path: abs, ...out };
  }
  if (st.isFile()) out.files.push({ path: abs, type: 'file' });
  else out.skipped.push({ path: abs, kind: 'special', reason: specialReason(st) });
  return { arg, kind: 'file', path: abs, ...out };
}

/** Walks a folder the bank registered (a scope) to find files nobody registered. */
export function walkScope(scope: string, root: string, options: WalkOptions): WalkResult {
  const e = expandArg(scope, root, options);
  return { files: e.files, skipped: e.skipped };
}

function walk(dir: string, rel: string, depth: number, options: WalkOptions, out: WalkResult, ancestors: Set<string>, glob?: Glob): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    out.skipped.push({ path: dir, kind: 'unreadable', reason: `cannot list the folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const abs = join(dir, entry.name);
    if (options.exclude?.(abs)) continue;
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    let type = direntType(entry);
    let st: Stats | null = null;
    if (type === 'unknown') {
      // Some file systems do not fill in d_type: ask lstat.
      st = statOrNull(abs, false);
      if (st === null) continue;
      type = statType(st);
    }
    if (type === 'symlink' && options.followSymlinks) {
      st = statOrNull(abs, true);
      if (st === null) {
        if (glob === undefined || glob.matches(childRel)) out.skipped.push({ path: abs, kind: 'unreadable', reason: 'a dangling symlink (its target does not exist) or a symlink loop' });
        continue;
      }
      type = statType(st);
      if (type === 'dir' && ancestors.has(key(st))) {
        out.skipped.push({ path: abs, kind: 'loop', reason: 'a symlink loop: it leads back to a folder that contains it' });
        continue;
      }
    }
    if (type === 'dir') {
      if (glob !== undefined && !glob.deep && depth + 1 >= glob.depth) continue;
      st ??= statOrNull(abs, true);
      if (st === null) continue;
      const k = key(st);
      ancestors.add(k);
      walk(abs, childRel, depth + 1, options, out, ancestors, glob);
      ancestors.delete(k);
      continue;
    }
    if (glob !== undefined && !glob.matches(childRel)) continue;
    if (type === 'file') out.files.push({ path: abs, type: 'file' });
    else if (type === 'symlink') out.files.push({ path: abs, type: 'symlink' });
    else out.skipped.push({ path: abs, kind: 'special', reason: st === null ? `a ${type}, not a file` : specialReason(st) });
  }
}

type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char device' | 'block device' | 'unknown';

function direntType(d: Dirent): EntryType {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isCharacterDevice()) return 'char device';
  if (d.isBlockDevice()) return 'block device';
  return 'unknown';
}

function statType(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char device';
  if (st.isBlockDevice()) return 'block device';
  return 'unknown';
}

function specialReason(st: Stats): string {
  return `a ${statType(st)}, not a file: skipped`;
}

function key(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch {
    return null;
  }
}

/** A path relative to the bank's root, with POSIX separators: the default label. */
export function toLabel(root: string, abs: string): string {
  const rel = relative(root, abs);
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

/** The absolute path of a label's recorded relative path. */
export function fromLabel(root: string, path: string): string {
  return resolve(root, ...path.split('/'));
}

/** Whether `abs` is `dir` or inside it. */
export function isInside(abs: string, dir: string): boolean {
  if (abs === dir) return true;
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return abs.startsWith(prefix);
}
