/**
 * A small glob matcher for `stax code register 'agents/**\/*.py'`: a quoted pattern reaches
 * us unexpanded, and Node 20 has no stable fs.glob. Supports `*` (any characters but `/`),
 * `?` (one character but `/`) and `**` as a whole segment (zero or more folders). As in a
 * shell, wildcards do not match a leading dot unless the pattern segment starts with one.
 */
import { isAbsolute, resolve } from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

export interface Glob {
  /** The folder the walk starts from: the pattern's leading segments without wildcards. */
  base: string;
  /** The rest of the pattern, relative to `base`, POSIX separators. */
  rest: string;
  /** Whether `rest` has a `**` segment (otherwise the walk can stop at its depth). */
  deep: boolean;
  /** How many segments `rest` has. */
  depth: number;
  /** Matches a path relative to `base`, with POSIX separators. */
  matches(relative: string): boolean;
}

export function compileGlob(pattern: string, cwd: string): Glob {
  const posix = pattern.replace(/\\/g, '/');
  const segments = posix.split('/');
  const firstWild = segments.findIndex((s) => hasGlob(s));
  const staticPart = segments.slice(0, firstWild).join('/');
  const restSegments = segments.slice(firstWild).filter((s, i, all) => s !== '' || i === all.length - 1);
  const base = staticPart === '' ? (isAbsolute(posix) ? '/' : cwd) : resolve(cwd, staticPart);
  const rest = restSegments.join('/');
  const regex = new RegExp(`^${segmentsToRegex(restSegments)}$`);
  return {
    base,
    rest,
    deep: restSegments.includes('**'),
    depth: restSegments.length,
    matches: (relative) => regex.test(relative),
  };
}

const NO_DOT = '(?!\\.)';

function segmentsToRegex(segments: string[]): string {
  let out = '';
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '**') {
      // Not last: any number of folders, each followed by '/'. Last: one or more segments.
      out += last ? `${NO_DOT}[^/]+(?:/${NO_DOT}[^/]+)*` : `(?:${NO_DOT}[^/]+/)*`;
      return;
    }
    out += segmentToRegex(seg) + (last ? '' : '/');
  });
  return out;
}

function segmentToRegex(seg: string): string {
  let out = seg.startsWith('.') || !/^[*?]/.test(seg) ? '' : NO_DOT;
  for (const ch of seg) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}
