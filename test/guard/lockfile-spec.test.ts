import { describe, expect, it } from 'vitest';
import {
  httpUrl,
  isGitSpec,
  isTarballPath,
  isValidIntegrity,
  parseNpmAlias,
  readRegistryTarball,
} from '../../src/guard/lockfile-spec.js';

describe('readRegistryTarball', () => {
  it.each([
    ['https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', 'ms', '2.1.3'],
    ['https://registry.npmjs.org/@types/ms/-/ms-0.7.34.tgz', '@types/ms', '0.7.34'],
    ['https://registry.example.com/@types%2fms/-/ms-0.7.34.tgz', '@types/ms', '0.7.34'],
    ['https://r.example.com/artifactory/api/npm/npm/left-pad/-/left-pad-1.3.0.tgz', 'left-pad', '1.3.0'],
    ['https://registry.yarnpkg.com/a/-/a-1.0.0-beta.1.tgz', 'a', '1.0.0-beta.1'],
    ['https://registry.npmjs.org/evil/-/other-1.0.0.tgz', 'evil', undefined],
  ])('reads %s', (url, name, version) => {
    expect(readRegistryTarball(new URL(url))).toEqual({ name, version });
  });

  it.each([
    'https://example.com/x.tgz',
    'https://npm.pkg.github.com/download/@o/p/1.0.0/0123abcd',
    'https://registry.npmjs.org/ms/-/ms-2.1.3.zip',
    'https://registry.npmjs.org/-/ms-2.1.3.tgz',
  ])('does not take %s for a registry tarball', (url) => {
    expect(readRegistryTarball(new URL(url))).toBeUndefined();
  });
});

describe('specs', () => {
  it.each([
    ['git+ssh://git@github.com/x/y.git#0123', true],
    ['git+https://github.com/x/y.git', true],
    ['git://github.com/x/y.git', true],
    ['github:x/y#abc', true],
    ['https://github.com/x/y.git', false],
    ['1.0.0', false],
  ])('isGitSpec(%s) = %s', (spec, expected) => {
    expect(isGitSpec(spec)).toBe(expected);
  });

  it('tells tarballs from folders like npm-package-arg', () => {
    expect(isTarballPath('vendor/x-1.0.0.tgz')).toBe(true);
    expect(isTarballPath('vendor/x.tar.gz')).toBe(true);
    expect(isTarballPath('vendor/x')).toBe(false);
  });

  it('parses http(s) URLs only', () => {
    expect(httpUrl('https://example.com/x.tgz')?.host).toBe('example.com');
    expect(httpUrl('http://127.0.0.1:48213/x.tgz')?.host).toBe('127.0.0.1:48213');
    expect(httpUrl('ftp://example.com/x.tgz')).toBeUndefined();
    expect(httpUrl('https://')).toBeUndefined();
    expect(httpUrl('file:x.tgz')).toBeUndefined();
  });

  it('parses npm: aliases', () => {
    expect(parseNpmAlias('npm:left-pad@1.3.0')).toEqual({ name: 'left-pad', version: '1.3.0' });
    expect(parseNpmAlias('npm:@types/ms@0.7.34')).toEqual({ name: '@types/ms', version: '0.7.34' });
    expect(parseNpmAlias('npm:@types/ms')).toEqual({ name: '@types/ms', version: '' });
    expect(parseNpmAlias('1.0.0')).toBeUndefined();
  });

  it('checks Subresource Integrity strings', () => {
    expect(
      isValidIntegrity(
        'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==',
      ),
    ).toBe(true);
    expect(isValidIntegrity('sha1-2KmYUXoHC0e+PzFb7FxqDOObxRc= sha512-abc')).toBe(true);
    expect(isValidIntegrity('md5-abc')).toBe(false);
    expect(isValidIntegrity('sha512-not base64!')).toBe(false);
    expect(isValidIntegrity('')).toBe(false);
  });
});
