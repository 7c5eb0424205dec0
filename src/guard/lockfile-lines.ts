/**
 * Finds the line of every package entry in a lockfile's text in one pass, so that a problem
 * can be annotated at the right place (GitHub annotations want a line). JSON.parse keeps no
 * positions, so this walks the text once more, tracking only which object it is inside;
 * it runs after JSON.parse accepted the text and may assume the text is valid JSON.
 *
 * Recorded: the keys of the top-level "packages" object (v2/v3), and the keys of the
 * top-level "dependencies" tree (v1, and v2's copy of it) at every nesting level. Like
 * JSON.parse, a duplicate key replaces what an earlier one recorded.
 */

export interface DependencyLines {
  line: number;
  /** Lines of the entry's own nested "dependencies". */
  dependencies: Map<string, DependencyLines>;
}

export interface LockfileLines {
  /** Key of the "packages" object → 1-based line of that key. */
  packages: Map<string, number>;
  /** The "dependencies" tree, by name at each level. */
  dependencies: Map<string, DependencyLines>;
  /** Deepest nesting of objects and arrays seen (stops counting past the limit). */
  depth: number;
  /** True when nesting went past the limit; the maps are then incomplete. */
  tooDeep: boolean;
}

const enum Kind {
  /** The top-level object. */
  Top,
  /** The "packages" object: its keys are recorded. */
  PackageEntries,
  /** A "dependencies" object of the v1 tree: its keys are recorded. */
  DependencyEntries,
  /** One entry of the v1 tree: its "dependencies" key opens another level. */
  DependencyEntry,
  /** Anything else. */
  Plain,
}

interface Frame {
  kind: Kind;
  isObject: boolean;
  expectKey: boolean;
  /** The current key, decoded only in frames whose keys matter (Top, DependencyEntry). */
  key: string | undefined;
  /** DependencyEntries: where its keys go. DependencyEntry: its own node. */
  entries: Map<string, DependencyLines> | undefined;
  node: DependencyLines | undefined;
  /** DependencyEntries: the node made for the current key, for the value about to open. */
  pending: DependencyLines | undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j < 0) return text.length;
    let k = j - 1;
    let backslashes = 0;
    while (text.charCodeAt(k) === BACKSLASH) {
      backslashes++;
      k--;
    }
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

function decodeKey(raw: string): string {
  // The text already passed JSON.parse, so an escaped key decodes without error.
  return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
}

function frame(kind: Kind, isObject: boolean): Frame {
  return {
    kind,
    isObject,
    expectKey: isObject,
    key: undefined,
    entries: undefined,
    node: undefined,
    pending: undefined,
  };
}

export function scanLockfileLines(text: string, maxDepth: number): LockfileLines {
  const result: LockfileLines = { packages: new Map(), dependencies: new Map(), depth: 0, tooDeep: false };
  const stack: Frame[] = [];
  let line = 1;
  const n = text.length;
  let i = 0;

  const open = (isObject: boolean): void => {
    const parent = stack[stack.length - 1];
    let child: Frame;
    if (parent === undefined) {
      child = frame(isObject ? Kind.Top : Kind.Plain, isObject);
    } else if (!isObject || !parent.isObject) {
      child = frame(Kind.Plain, isObject);
    } else if (parent.kind === Kind.Top && parent.key === 'packages') {
      result.packages = new Map();
      child = frame(Kind.PackageEntries, true);
    } else if (parent.kind === Kind.Top && parent.key === 'dependencies') {
      result.dependencies = new Map();
      child = frame(Kind.DependencyEntries, true);
      child.entries = result.dependencies;
    } else if (parent.kind === Kind.DependencyEntries && parent.pending !== undefined) {
      child = frame(Kind.DependencyEntry, true);
      child.node = parent.pending;
    } else if (parent.kind === Kind.DependencyEntry && parent.key === 'dependencies' && parent.node !== undefined) {
      parent.node.dependencies = new Map();
      child = frame(Kind.DependencyEntries, true);
      child.entries = parent.node.dependencies;
    } else {
      child = frame(Kind.Plain, true);
    }
    stack.push(child);
    if (stack.length > result.depth) result.depth = stack.length;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      i++;
    } else if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top !== undefined && top.isObject && top.expectKey) {
        top.expectKey = false;
        switch (top.kind) {
          case Kind.PackageEntries:
            result.packages.set(decodeKey(text.slice(i + 1, end)), line);
            break;
          case Kind.DependencyEntries: {
            const node: DependencyLines = { line, dependencies: new Map() };
            top.entries?.set(decodeKey(text.slice(i + 1, end)), node);
            top.pending = node;
            break;
          }
          case Kind.Top:
          case Kind.DependencyEntry:
            top.key = decodeKey(text.slice(i + 1, end));
            break;
          default:
            break;
        }
      }
      i = end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      open(c === 0x7b);
      if (stack.length > maxDepth) {
        result.tooDeep = true;
        return result;
      }
      i++;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
      i++;
    } else if (c === 0x2c) {
      const top = stack[stack.length - 1];
      if (top !== undefined && top.isObject) {
        top.expectKey = true;
        top.pending = undefined;
      }
      i++;
    } else {
      i++;
    }
  }
  return result;
}
