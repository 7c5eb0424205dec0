import type { CommandSpec } from '../command.js';
import { Exit, StaxError } from '../../errors.js';

export const keyGenerateCommand: CommandSpec = {
  name: 'key generate',
  summary: 'create an Ed25519 signing key',
  description:
    'Creates an Ed25519 key pair. The private key is written with mode 0600 (under $STAX_KEY_DIR, else $XDG_CONFIG_HOME/stax/keys, ' +
    'else ~/.config/stax/keys, unless --out is given); the public key is printed as a C2SP signed-note verifier key (name+keyid+base64) ' +
    'and written beside it as <name>.pub. Name the key after the actor it signs for, or after the trail origin for checkpoints.',
  options: [
    { flags: '--name <name>', description: 'the key name: an actor id or a trail origin (required)' },
    { flags: '-o, --out <file>', description: 'where to write the private key' },
    { flags: '--force', description: 'replace an existing key file' },
  ],
  examples: [
    { cmd: 'key generate --name alice', says: 'a key for entries logged by actor alice' },
    { cmd: 'key generate --name example.com/agents/recon --out recon.key', says: 'a key for checkpoints of that trail' },
  ],
  exitCodes: { 0: 'created', 2: 'bad name, or the key file exists' },
  manPage: 'stax-key',
  async run(_args, options, ctx) {
    const { generateKey } = await import('../../keys/store.js');
    if (typeof options.name !== 'string') throw new StaxError('USAGE', 'give the key a name with --name (an actor id or a trail origin)');
    const { resolve } = await import('node:path');
    const key = generateKey(options.name, { out: options.out === undefined ? undefined : resolve(ctx.io.cwd, options.out as string), env: ctx.io.env, force: options.force === true });
    return {
      result: key,
      exitCode: Exit.OK,
      render(k: typeof key, ui) {
        ui.out(k.verifierKey);
        ui.err(`private key: ${k.privateKeyFile} (mode 600; never share it)`);
        ui.err(`public key:  ${k.publicKeyFile} (add its line to a trusted-keys file)`);
      },
    };
  },
};

export const keyListCommand: CommandSpec = {
  name: 'key list',
  summary: 'list the signing keys in the key folder',
  description: 'Lists the private keys in the key folder with their verifier keys and whether their file permissions are safe. Private key material is never printed.',
  examples: [{ cmd: 'key list', says: 'names, key ids and permission state' }],
  exitCodes: { 0: 'listed; every key file is private', 1: 'a key file is readable by group or others, or unreadable', 2: 'the key folder cannot be read' },
  manPage: 'stax-key',
  async run(_args, _options, ctx) {
    const { listKeys } = await import('../../keys/store.js');
    const listing = listKeys(ctx.io.env);
    return {
      result: listing,
      exitCode: listing.keys.every((k) => k.problem === null) ? Exit.OK : Exit.CHECK_FAILED,
      render(l: typeof listing, ui) {
        if (l.keys.length === 0) {
          ui.out(`no keys in ${ui.safe(l.dir)}; create one with: stax key generate --name <name>`);
          return;
        }
        ui.out(ui.table(['name', 'key id', 'mode', 'verifier key / problem'], l.keys.map((k) => [ui.safe(k.name), k.keyId, k.secure ? k.mode : ui.c.red(k.mode), k.problem === null ? ui.safe(k.verifierKey ?? '') : ui.c.red(ui.safe(k.problem))])));
        ui.out(`in ${ui.safe(l.dir)}`);
      },
    };
  },
};

export const keyShowCommand: CommandSpec = {
  name: 'key show',
  summary: 'print the public verifier key of a private key',
  description: 'Prints the C2SP verifier key (name+keyid+base64) for a private key file or a key name in the key folder, for a trusted-keys file. Never prints the private key.',
  args: ['<key>'],
  examples: [{ cmd: 'key show alice >> trusted-keys.txt', says: "trust alice's entries" }],
  exitCodes: { 0: 'printed', 2: 'no such key, or its file is readable by others' },
  manPage: 'stax-key',
  async run([key], _options, ctx) {
    const { loadSigner, resolveKeyFile, verifierKeyOf, keyLabel } = await import('../../keys/store.js');
    const file = resolveKeyFile(key!, ctx.io.env, ctx.io.cwd);
    const signer = loadSigner(file);
    const result = { name: signer.name, keyId: keyLabel(signer).split('+').pop()!, verifierKey: verifierKeyOf(signer), file };
    return { result, exitCode: Exit.OK, render: (r: typeof result, ui) => ui.out(r.verifierKey) };
  },
};
