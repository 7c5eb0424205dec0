/**
 * npm package-name rules, as validate-npm-package-name (v6, the copy npm 11 ships) applies
 * them. Its "errors" make a name impossible on the registry; its "warnings" are rules added
 * in 2017 that packages published earlier may still break (JSONStream has capitals, some
 * old names are longer than 214 characters), so a lockfile can legitimately contain them.
 * We leave out its warning for core-module names: `events`, `buffer`, `punycode` and
 * friends are ordinary registry packages found in many lockfiles.
 */

export interface NameCheck {
  /** Reasons the name can never be an npm package name. */
  errors: string[];
  /** Reasons only packages published before the current rules may have this name. */
  legacy: string[];
}

const EXCLUDED = new Set(['node_modules', 'favicon.ico']);
const SCOPED = /^@([^/]+)\/([^/]+)$/;
const SPECIAL = /[~'!()*]/;
const MAX_LENGTH = 214;

export function checkPackageName(name: string): NameCheck {
  const errors: string[] = [];
  const legacy: string[] = [];
  if (name.length === 0) {
    errors.push('name is empty');
    return { errors, legacy };
  }
  if (name.startsWith('.')) errors.push('name cannot start with a period');
  if (name.startsWith('-')) errors.push('name cannot start with a hyphen');
  if (name.startsWith('_')) errors.push('name cannot start with an underscore');
  if (name.trim() !== name) errors.push('name cannot contain leading or trailing spaces');
  if (EXCLUDED.has(name.toLowerCase())) errors.push(`${name.toLowerCase()} is not a valid package name`);

  if (name.length > MAX_LENGTH) legacy.push(`name is longer than ${MAX_LENGTH} characters`);
  if (name.toLowerCase() !== name) legacy.push('name contains capital letters');
  const last = name.slice(name.lastIndexOf('/') + 1);
  if (SPECIAL.test(last)) legacy.push("name contains one of the special characters ~'!()*");

  if (!urlSafe(name)) {
    // Only a scope separator may be escaped: "@scope/name" with both parts URL-safe.
    const scoped = SCOPED.exec(name);
    const scope = scoped?.[1];
    const pkg = scoped?.[2];
    if (scope === undefined || pkg === undefined) {
      errors.push('name can only contain URL-friendly characters');
    } else {
      if (pkg.startsWith('.')) errors.push('name cannot start with a period');
      if (!urlSafe(scope) || !urlSafe(pkg)) {
        errors.push('name can only contain URL-friendly characters');
      }
    }
  }
  return { errors, legacy };
}

/** encodeURIComponent leaves it unchanged; a lone surrogate (it throws there) is not safe. */
function urlSafe(text: string): boolean {
  try {
    return encodeURIComponent(text) === text;
  } catch {
    return false;
  }
}

/** True when the name is `@scope/name`. */
export function isScoped(name: string): boolean {
  return name.startsWith('@') && name.includes('/');
}
