/**
 * Ed25519 keys as files. A private key file holds one signer key in the Go/C2SP note
 * format (`PRIVATE+KEY+<name>+<keyid>+<base64>`), mode 0600, under the user's config
 * directory by default; the public half is a C2SP verifier key (`<name>+<keyid>+<base64>`)
 * that anyone may hold. Trusted-keys files list verifier keys, one per line.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { StaxError, fileError } from '../errors.js';
import { generateKeyPair } from '../crypto/ed25519.js';
import { NoteError, formatSignerKey, formatVerifierKey, isValidKeyName, parseSignerKey, parseVerifierKey, type NoteSigner, type NoteVerifier } from '../crypto/note.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { assertRegularFile } from '../fs/regular.js';
import { assertPrivateFile, readSecretFile } from './secret-file.js';

/** `$STAX_KEY_DIR`, else `$XDG_CONFIG_HOME/stax/keys`, else `~/.config/stax/keys`. */
export function keyDir(env: Record<string, string | undefined>): string {
  if (env.STAX_KEY_DIR) return env.STAX_KEY_DIR;
  const config = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(config, 'stax', 'keys');
}

/** A file name for a key name: `example.com/agents/recon` → `example.com_agents_recon.key`. */
export function keyFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.key`;
}

export interface GeneratedKey {
  name: string;
  keyId: string;
  verifierKey: string;
  privateKeyFile: string;
  publicKeyFile: string;
}

export function generateKey(name: string, options: { out?: string; env: Record<string, string | undefined>; force?: boolean }): GeneratedKey {
  if (!isValidKeyName(name)) {
    throw new StaxError('USAGE', `"${name}" is not a valid key name: it must be non-empty, without spaces or "+"`);
  }
  const file = options.out ?? join(keyDir(options.env), keyFileName(name));
  if (options.out === undefined) {
    try {
      mkdirSync(keyDir(options.env), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileError(keyDir(options.env), err, 'create the key folder');
    }
  }
  const pair = generateKeyPair();
  const signer = formatSignerKey(name, pair.seed);
  const verifier = formatVerifierKey(name, pair.publicKey);
  // The private key is created 0600 from the first byte; the rename keeps the mode.
  writeFileAtomic(file, signer + '\n', { overwrite: options.force === true, mode: 0o600 });
  chmodSync(file, 0o600);
  const pub = file.replace(/\.key$/, '') + '.pub';
  writeFileAtomic(pub, verifier + '\n', { overwrite: true, mode: 0o644 });
  return { name, keyId: verifier.split('+')[1]!, verifierKey: verifier, privateKeyFile: file, publicKeyFile: pub };
}

/** Loads a private key, refusing a file that group or others can read. */
export function loadSigner(file: string): NoteSigner {
  const bytes = readSecretFile(file);
  try {
    return parseSignerKey(bytes.toString('utf8').trim());
  } catch (err) {
    if (err instanceof NoteError) throw new StaxError('KEY_INVALID', `not a stax private key (${err.code})`, { file });
    throw err;
  }
}

export function verifierKeyOf(signer: NoteSigner): string {
  return formatVerifierKey(signer.name, signer.publicKey);
}

/** Resolves `--key` given as a path (relative to cwd), or as a key name in the key folder. */
export function resolveKeyFile(key: string, env: Record<string, string | undefined>, cwd: string): string {
  const asPath = resolve(cwd, key);
  if (existsSync(asPath)) return asPath;
  const byName = join(keyDir(env), keyFileName(key));
  if (existsSync(byName)) return byName;
  throw new StaxError('KEY_MISSING', `no key file "${key}" and no key named "${key}" in ${keyDir(env)}; create one with: stax key generate --name <name>`);
}

export interface TrustedKeys {
  file: string;
  keys: NoteVerifier[];
  /** `name+keyid` → key. */
  byId: Map<string, NoteVerifier>;
}

/** Reads a trusted-keys file: one verifier key per line; `#` comments and blank lines ignored. */
export function loadTrustedKeys(file: string): TrustedKeys {
  assertRegularFile(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fileError(file, err);
  }
  const keys: NoteVerifier[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('PRIVATE+KEY+')) {
      throw new StaxError('KEY_INVALID', `line ${i + 1} is a PRIVATE key; a trusted-keys file holds public verifier keys only (stax key show prints one)`, { file });
    }
    try {
      keys.push(parseVerifierKey(line));
    } catch (err) {
      const why = err instanceof NoteError ? err.code : String(err);
      throw new StaxError('KEY_INVALID', `line ${i + 1} is not a verifier key of the form name+keyid+base64 (${why})`, { file });
    }
  }
  if (keys.length === 0) throw new StaxError('KEY_INVALID', 'the trusted-keys file holds no keys', { file });
  return { file, keys, byId: new Map(keys.map((k) => [keyLabel(k), k])) };
}

export function keyLabel(k: Pick<NoteVerifier, 'name' | 'keyId'>): string {
  return `${k.name}+${k.keyId.toString(16).padStart(8, '0')}`;
}

export interface KeyListing {
  name: string;
  keyId: string;
  verifierKey: string | null;
  file: string;
  mode: string;
  secure: boolean;
  problem: string | null;
}

/** The private keys in the key folder, with their public halves and permission state. */
export function listKeys(env: Record<string, string | undefined>): { dir: string; keys: KeyListing[] } {
  const dir = keyDir(env);
  if (!existsSync(dir)) return { dir, keys: [] };
  const keys: KeyListing[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw fileError(dir, err);
  }
  for (const name of names) {
    if (!name.endsWith('.key')) continue;
    const file = join(dir, name);
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch (err) {
      // A dangling link or a file removed meanwhile: list it as a problem, do not stop.
      keys.push({ name: name.slice(0, -4), keyId: '', verifierKey: null, file, mode: '', secure: false, problem: fileError(file, err).message });
      continue;
    }
    const listing: KeyListing = { name: name.slice(0, -4), keyId: '', verifierKey: null, file, mode: mode.toString(8).padStart(3, '0'), secure: (mode & 0o077) === 0, problem: null };
    try {
      assertPrivateFile(file);
      const signer = loadSigner(file);
      listing.name = signer.name;
      listing.keyId = keyLabel(signer).split('+').pop()!;
      listing.verifierKey = verifierKeyOf(signer);
    } catch (err) {
      listing.problem = err instanceof StaxError ? err.message : String(err);
    }
    keys.push(listing);
  }
  return { dir, keys };
}
