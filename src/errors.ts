/**
 * Typed errors with stable string codes. Library code throws these; only the CLI layer
 * (src/cli/main.ts) turns them into a one-line message and an exit code.
 */

/** Exit codes shared by every command. */
export const Exit = {
  /** Everything checked out. */
  OK: 0,
  /** A check failed: tampered, blocked, modified. */
  CHECK_FAILED: 1,
  /** Usage error or unreadable input: nothing was checked. */
  USAGE: 2,
} as const;
export type ExitCode = (typeof Exit)[keyof typeof Exit];

export type ErrorCode =
  | 'USAGE'
  | 'FILE_UNREADABLE'
  | 'FILE_NOT_FOUND'
  | 'FORMAT_UNKNOWN'
  | 'INPUT_INVALID'
  | 'INPUT_TOO_LARGE'
  | 'KEY_MISSING'
  | 'KEY_INVALID'
  | 'KEY_INSECURE'
  | 'CONFIG_INVALID'
  | 'WRITE_FAILED'
  | 'LOCK_TIMEOUT'
  | 'NOT_A_TTY'
  | 'INTERNAL';

export interface StaxErrorOptions {
  /** The file the problem is about, printed before the message. */
  file?: string;
  cause?: unknown;
  exitCode?: ExitCode;
}

export class StaxError extends Error {
  override readonly name = 'StaxError';
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: ErrorCode, message: string, options: StaxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.exitCode = options.exitCode ?? Exit.USAGE;
  }

  toJSON(): { code: ErrorCode; message: string; file?: string } {
    return this.file === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, file: this.file };
  }
}

/** Turns an operating-system error on `file` into a StaxError with a human message. */
export function fileError(file: string, err: unknown, verb = 'read'): StaxError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new StaxError('FILE_NOT_FOUND', 'no such file', { file, cause: err });
    case 'EACCES':
    case 'EPERM':
      return new StaxError('FILE_UNREADABLE', `permission denied (cannot ${verb})`, { file, cause: err });
    case 'EISDIR':
      return new StaxError('FILE_UNREADABLE', 'is a directory', { file, cause: err });
    case 'ENOTDIR':
      return new StaxError('FILE_NOT_FOUND', 'a parent of this path is not a directory', { file, cause: err });
    case 'ELOOP':
      return new StaxError('FILE_UNREADABLE', 'too many levels of symbolic links', { file, cause: err });
    default: {
      const detail = err instanceof Error ? err.message : String(err);
      return new StaxError(verb === 'read' ? 'FILE_UNREADABLE' : 'WRITE_FAILED', `cannot ${verb}: ${detail}`, {
        file,
        cause: err,
      });
    }
  }
}
