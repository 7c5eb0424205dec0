/** What `stax ci` found: one check per configured target, each with located findings. */

export type CheckKind = 'trail' | 'codebank' | 'guard';

export interface CiFinding {
  level: 'error' | 'warning' | 'note';
  /** A stable code from the check that found it (HASH_MISMATCH, NOT_APPROVED, modified...). */
  code: string;
  message: string;
  /** The file to point at, relative to the project root. */
  file: string;
  line?: number;
}

export interface CiCheck {
  kind: CheckKind;
  /** The target: a trail file, a bank, a lockfile. */
  target: string;
  /** pass: all good; fail: a check failed; error: the input could not be read. */
  status: 'pass' | 'fail' | 'error';
  summary: string;
  findings: CiFinding[];
  /** Units checked (entries, files, packages), for test-report UIs. */
  units: number;
  seconds: number;
}

export interface CiResult {
  ok: boolean;
  config: string | null;
  root: string;
  checks: CiCheck[];
  counts: { pass: number; fail: number; error: number };
}
