/**
 * What a lockfile's `resolved` and (in v1) `version` strings say about where a package
 * comes from. Pure string work: nothing here touches the network.
 */

export type PackageSource = 'registry' | 'git' | 'file' | 'link' | 'remote' | 'workspace';

// npm writes git dependencies as git+ssh:// or git+https:// (hosted shortcuts normalized);
// older lockfiles and hand edits may hold git:// or a hosted shortcut.
const GIT = /^(?:git\+[a-z][a-z0-9+.-]*:|git:|github:|gitlab:|bitbucket:|gist:)/i;
// npm-package-arg's rule for telling a file: tarball from a file: folder.
const TARBALL = /[.](?:tgz|tar\.gz|tar)$/i;
// Subresource Integrity as npm writes it: one or more `alg-base64` tokens (ssri's
// strict algorithms, plus sha1 found in old lockfiles), each maybe with `?options`.
const SRI_TOKEN = /^(?:sha1|sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}(?:\?[\x21-\x7e]*)?$/;

export function isGitSpec(spec: string): boolean {
  return GIT.test(spec);
}

export function isFileSpec(spec: string): boolean {
  return spec.startsWith('file:');
}

export function isTarballPath(path: string): boolean {
  return TARBALL.test(path);
}

/** The spec parsed as an http(s) URL, or undefined. */
export function httpUrl(spec: string): URL | undefined {
  if (!/^https?:\/\//i.test(spec)) return undefined;
  try {
    return new URL(spec);
  } catch {
    return undefined;
  }
}

export function isValidIntegrity(integrity: string): boolean {
  const tokens = integrity.trim().split(/\s+/);
  return tokens.length > 0 && tokens.every((t) => SRI_TOKEN.test(t));
}

/** `npm:real-name@1.2.3` (v1 lockfiles' way of writing an alias) → name and version. */
export function parseNpmAlias(spec: string): { name: string; version: string } | undefined {
  if (!spec.startsWith('npm:')) return undefined;
  const body = spec.slice(4);
  const at = body.lastIndexOf('@');
  return at <= 0 ? { name: body, version: '' } : { name: body.slice(0, at), version: body.slice(at + 1) };
}

export interface RegistryTarball {
  /** The package name the URL's path names. */
  name: string;
  /** The version its file name carries, when the file name starts with the name. */
  version: string | undefined;
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/**
 * Reads a registry tarball URL, `<any prefix>/<name>/-/<basename>-<version>.tgz`, the
 * shape npmjs.org, its mirrors, Verdaccio, Artifactory and Nexus serve. The scope may be
 * a path segment (`/@types/ms/-/ms-0.7.34.tgz`) or escaped (`/@types%2fms/-/...`).
 * GitHub Packages' `/download/@owner/name/1.0.0/<hash>` does not have this shape.
 */
export function readRegistryTarball(url: URL): RegistryTarball | undefined {
  const path = url.pathname;
  const dash = path.lastIndexOf('/-/');
  if (dash < 0) return undefined;
  const file = decode(path.slice(dash + 3));
  if (file === undefined || file.includes('/') || !file.endsWith('.tgz')) return undefined;
  const segments = path.slice(0, dash).split('/');
  const last = decode(segments[segments.length - 1] ?? '');
  const before = decode(segments[segments.length - 2] ?? '');
  if (last === undefined || last === '') return undefined;
  let name = last;
  if (!last.includes('/') && before !== undefined && before.startsWith('@')) name = `${before}/${last}`;
  const base = name.slice(name.lastIndexOf('/') + 1);
  const version = file.startsWith(`${base}-`) ? file.slice(base.length + 1, -'.tgz'.length) : undefined;
  return { name, version };
}
