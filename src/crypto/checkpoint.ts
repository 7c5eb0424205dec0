/**
 * The body of a C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the text of a signed
 * note (note.ts) that commits a log to a tree head.
 *
 *   <origin>\n<tree size, decimal>\n<root hash, base64>\n(<extension line>\n)*
 *
 * The origin SHOULD look like a schema-less URL, but clients MUST NOT assume it does, so
 * any non-empty line is accepted. Tree sizes are limited to Number.MAX_SAFE_INTEGER
 * (2^53 - 1) rather than the spec's uint64, since sizes are plain numbers in stax; no
 * real log comes near it.
 */
import { toBase64, fromBase64, bytesEqual } from './encoding.js';
import { emptyRoot, HASH_SIZE } from './merkle.js';

export interface Checkpoint {
  origin: string;
  size: number;
  /** RFC 6962 root hash of the first `size` entries, 32 bytes. */
  root: Uint8Array;
  /** Opaque extension lines, without their newlines; usually none. */
  extensions: string[];
}

export interface CheckpointInput {
  origin: string;
  size: number;
  root: Uint8Array;
  extensions?: readonly string[];
}

export type CheckpointErrorCode =
  /** Not newline-terminated, fewer than three lines, control characters. */
  | 'CHECKPOINT_MALFORMED'
  | 'ORIGIN_INVALID'
  /** Not decimal, a leading zero, a sign, or too large. */
  | 'SIZE_INVALID'
  /** Not canonical base64, not 32 bytes, or not the empty-tree root for size 0. */
  | 'ROOT_INVALID'
  /** An empty or multi-line extension. */
  | 'EXTENSION_INVALID';

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  readonly code: CheckpointErrorCode;
  /** 1-based line of the checkpoint text, when the problem is on one line. */
  readonly line: number | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(
    code: CheckpointErrorCode,
    message: string,
    evidence: { line?: number; expected?: string; found?: string } = {},
  ) {
    super(evidence.line === undefined ? message : `checkpoint line ${evidence.line}: ${message}`);
    this.code = code;
    this.line = evidence.line;
    this.expected = evidence.expected;
    this.found = evidence.found;
  }
}

const SIZE_RE = /^(?:0|[1-9][0-9]*)$/;

export function formatCheckpoint(checkpoint: CheckpointInput): string {
  const { origin, size, root } = checkpoint;
  const extensions = checkpoint.extensions ?? [];
  if (origin === '' || hasControl(origin)) {
    throw new CheckpointError('ORIGIN_INVALID', 'origin must be a non-empty single line', {
      found: JSON.stringify(origin),
    });
  }
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new CheckpointError('SIZE_INVALID', `tree size ${size} is not a non-negative safe integer`, {
      found: String(size),
    });
  }
  checkRoot(root, size);
  extensions.forEach((ext, i) => {
    if (ext === '' || hasControl(ext)) {
      throw new CheckpointError('EXTENSION_INVALID', `extension ${i + 1} must be a non-empty single line`, {
        line: 4 + i,
        found: JSON.stringify(ext),
      });
    }
  });
  return [origin, String(size), toBase64(root), ...extensions].map((line) => `${line}\n`).join('');
}

/** Parses checkpoint text, such as the `text` of an opened note. */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) {
    throw new CheckpointError('CHECKPOINT_MALFORMED', 'checkpoint text must end with a newline');
  }
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    if (hasControl(line)) {
      const why = 'control character (a CR of CRLF?) or unpaired surrogate; lines end with "\\n" only';
      throw new CheckpointError('CHECKPOINT_MALFORMED', why, { line: i + 1 });
    }
  });
  if (lines.length < 3) {
    throw new CheckpointError(
      'CHECKPOINT_MALFORMED',
      `a checkpoint has at least 3 lines (origin, tree size, root hash), not ${lines.length}`,
      { expected: '>= 3', found: String(lines.length) },
    );
  }
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') throw new CheckpointError('ORIGIN_INVALID', 'origin is empty', { line: 1 });

  if (!SIZE_RE.test(sizeText)) {
    throw new CheckpointError('SIZE_INVALID', 'tree size must be decimal digits with no leading zero', {
      line: 2,
      found: JSON.stringify(sizeText),
    });
  }
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) {
    throw new CheckpointError('SIZE_INVALID', `tree size ${sizeText} is above 2^53 - 1, beyond what stax handles`, {
      line: 2,
      found: sizeText,
    });
  }

  const root = fromBase64(rootText);
  if (root === undefined) {
    throw new CheckpointError('ROOT_INVALID', 'root hash is not canonical standard base64', {
      line: 3,
      found: JSON.stringify(rootText),
    });
  }
  checkRoot(root, size, 3);

  extensions.forEach((ext, i) => {
    if (ext === '') {
      // Also what a whole signed note looks like here: pass openNote's `text` instead.
      throw new CheckpointError('EXTENSION_INVALID', 'empty extension line (a signed note rather than its text?)', {
        line: 4 + i,
      });
    }
  });
  return { origin, size, root, extensions };
}

function checkRoot(root: Uint8Array, size: number, line?: number): void {
  const at = line === undefined ? {} : { line };
  if (root.length !== HASH_SIZE) {
    throw new CheckpointError('ROOT_INVALID', `root hash is ${root.length} bytes, not ${HASH_SIZE}`, {
      ...at,
      expected: String(HASH_SIZE),
      found: String(root.length),
    });
  }
  // A tree with no leaves has exactly one root: SHA-256 of nothing.
  if (size === 0 && !bytesEqual(root, emptyRoot())) {
    throw new CheckpointError('ROOT_INVALID', 'tree size is 0 but the root is not the empty-tree hash', {
      ...at,
      expected: toBase64(emptyRoot()),
      found: toBase64(root),
    });
  }
}

// Control characters other than "\n" (which splits lines), and lone surrogates.
function hasControl(s: string): boolean {
  return /[\u0000-\u001f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}
