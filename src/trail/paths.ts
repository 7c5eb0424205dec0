/**
 * Where a project's stax files live by default: a `.stax/` folder in the working directory,
 * committed with the project or not, as the team prefers. Every command takes an explicit
 * path too.
 */
import { basename, join } from 'node:path';
import { userInfo } from 'node:os';

export const PROJECT_DIR = '.stax';

export function defaultTrailPath(cwd: string): string {
  return join(cwd, PROJECT_DIR, 'trail.jsonl');
}

/** An origin for a new chain when none is given: the project folder's name, marked local. */
export function defaultOrigin(cwd: string, kind: string): string {
  const name = basename(cwd).replace(/[^A-Za-z0-9._-]/g, '-') || 'project';
  return `localhost/${name}/${kind}`;
}

export function defaultActor(env: Record<string, string | undefined>): string {
  if (env.STAX_ACTOR) return env.STAX_ACTOR;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return env.USER ?? 'unknown';
  }
}
