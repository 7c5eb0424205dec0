import { resolve } from 'node:path';
import type { CommandSpec, RunContext } from '../command.js';
import { Exit, StaxError } from '../../errors.js';
import type { Ui } from '../output.js';

async function signerFrom(options: Record<string, unknown>, ctx: RunContext) {
  const { loadSigner, resolveKeyFile } = await import('../../keys/store.js');
  const key = (options.key as string | undefined) ?? ctx.io.env.STAX_SIGNING_KEY;
  if (key === undefined || key === '') throw new StaxError('KEY_MISSING', 'name the signing key with --key (a file or a key name); create one with: stax key generate --name <origin>');
  return loadSigner(resolveKeyFile(key, ctx.io.env, ctx.io.cwd));
}

export const checkpointCommand: CommandSpec = {
  name: 'checkpoint',
  summary: 'sign a checkpoint of a trail (origin, size, Merkle root)',
  description:
    'Verifies the trail, then signs a C2SP tlog-checkpoint over the RFC 6962 Merkle tree of its entries and keeps it beside the trail ' +
    '(<trail>.checkpoint) unless --no-save. A kept checkpoint must be extended: if the trail no longer holds what the previous ' +
    'checkpoint saw, nothing is signed. Hand checkpoints to whoever must later be able to tell a cut-off or rewritten trail.',
  args: ['[file]'],
  options: [
    { flags: '--key <key>', description: 'the private key (file or name; default: $STAX_SIGNING_KEY)' },
    { flags: '-o, --out <file>', description: 'also write the signed checkpoint to this file' },
    { flags: '--no-save', description: 'do not keep the checkpoint beside the trail' },
  ],
  examples: [
    { cmd: 'checkpoint .stax/trail.jsonl --key example.com/agents/recon', says: 'sign and keep .stax/trail.jsonl.checkpoint' },
    { cmd: 'checkpoint --key log.key --out /mnt/offsite/cp-2026-11-22.txt', says: 'also store a copy where the trail owner cannot edit it' },
  ],
  exitCodes: { 0: 'signed', 1: 'the trail does not verify or no longer extends its kept checkpoint', 2: 'unreadable trail or key' },
  manPage: 'stax-checkpoint',
  async run([file], options, ctx) {
    const { makeCheckpoint, checkpointPathFor } = await import('../../trail/checkpoint.js');
    const { defaultTrailPath } = await import('../../trail/paths.js');
    const { writeFileAtomic } = await import('../../fs/atomic.js');
    const trail = file === undefined ? defaultTrailPath(ctx.io.cwd) : resolve(ctx.io.cwd, file);
    const signer = await signerFrom(options, ctx);
    const r = await makeCheckpoint(trail, signer, { save: options.save === false ? null : checkpointPathFor(trail) });
    if (typeof options.out === 'string') writeFileAtomic(resolve(ctx.io.cwd, options.out), r.note, { overwrite: true });
    return {
      result: { ...r, out: (options.out as string | undefined) ?? null },
      exitCode: Exit.OK,
      render(res: typeof r, ui: Ui) {
        // The note's first line is the trail's origin, which someone else may have written.
        for (const line of res.note.trimEnd().split('\n')) ui.out(ui.safe(line));
        ui.err(`checkpoint of ${res.size} entries${res.previous ? ` (extends the kept one at ${res.previous.size})` : ''}${res.saved ? `, kept in ${res.saved}` : ''}`);
      },
    };
  },
};

export const proveCommand: CommandSpec = {
  name: 'prove',
  summary: 'write an inclusion or consistency proof bundle',
  description:
    'With --index N: a bundle holding entry N, its RFC 6962 inclusion proof and a signed checkpoint, so an auditor can check that one ' +
    'entry without seeing the rest. With --since OLD: a consistency proof that the trail only grew since the old checkpoint. The ' +
    'checkpoint used is --checkpoint, else the one kept beside the trail; --key signs a fresh one instead.',
  args: ['<file>'],
  options: [
    { flags: '--index <n>', description: 'prove that entry n is in the log' },
    { flags: '--since <checkpoint>', description: 'prove the log only grew since this older signed checkpoint' },
    { flags: '--checkpoint <file>', description: 'the signed checkpoint to prove against (default: <file>.checkpoint)' },
    { flags: '--key <key>', description: 'sign a fresh checkpoint with this key instead' },
    { flags: '--trusted-keys <file>', description: 'keys that may have signed --checkpoint/--since (default: the signer of the kept checkpoint must be given by --key)' },
    { flags: '-o, --out <file>', description: 'write the bundle here (default: standard output)' },
  ],
  examples: [
    { cmd: 'prove .stax/trail.jsonl --index 41 --out entry-41.proof.json', says: 'hand an auditor one entry and its proof' },
    { cmd: 'prove .stax/trail.jsonl --since cp-monday.txt --trusted-keys keys.txt --out grew.proof.json', says: 'prove the trail only grew since Monday' },
  ],
  exitCodes: { 0: 'bundle written', 1: 'the trail does not match the checkpoint', 2: 'bad arguments, unreadable trail, checkpoint or key' },
  manPage: 'stax-prove',
  async run([file], options, ctx) {
    const { checkpointPathFor, makeCheckpoint, openCheckpoint, readCheckpointFile } = await import('../../trail/checkpoint.js');
    const { proveConsistency, proveInclusion } = await import('../../trail/proof.js');
    const { loadTrustedKeys, verifierKeyOf } = await import('../../keys/store.js');
    const { parseVerifierKey } = await import('../../crypto/note.js');
    const { writeFileAtomic } = await import('../../fs/atomic.js');
    const trail = resolve(ctx.io.cwd, file!);
    if ((options.index === undefined) === (options.since === undefined)) throw new StaxError('USAGE', 'give exactly one of --index N or --since OLD_CHECKPOINT');
    const signer = options.key === undefined ? undefined : await signerFrom(options, ctx);
    const trusted = typeof options.trustedKeys === 'string' ? loadTrustedKeys(resolve(ctx.io.cwd, options.trustedKeys)).keys : [];
    const verifiers = signer === undefined ? trusted : [...trusted, parseVerifierKey(verifierKeyOf(signer))];
    if (verifiers.length === 0) throw new StaxError('KEY_MISSING', 'name the keys that sign checkpoints: --trusted-keys FILE, or --key to sign a fresh checkpoint');
    const current =
      signer !== undefined && options.checkpoint === undefined
        ? openCheckpoint((await makeCheckpoint(trail, signer, { save: null })).note, verifiers, 'the fresh checkpoint')
        : readCheckpointFile(resolve(ctx.io.cwd, (options.checkpoint as string | undefined) ?? checkpointPathFor(trail)), verifiers);
    const bundle =
      options.index !== undefined
        ? await proveInclusion(trail, Number(options.index), current)
        : await proveConsistency(trail, readCheckpointFile(resolve(ctx.io.cwd, options.since as string), verifiers), current);
    const text = JSON.stringify(bundle, null, 2) + '\n';
    const out = options.out as string | undefined;
    if (out !== undefined) writeFileAtomic(resolve(ctx.io.cwd, out), text, { overwrite: true });
    return {
      result: bundle,
      exitCode: Exit.OK,
      render(b: typeof bundle, ui: Ui) {
        if (out === undefined) ui.io.stdout.write(text);
        else ui.out(`wrote ${b.type} for ${'index' in b ? `entry ${b.index} of ${b.treeSize}` : `sizes ${b.oldSize} → ${b.newSize}`} to ${ui.safe(out)}`);
      },
    };
  },
};

export const verifyProofCommand: CommandSpec = {
  name: 'verify-proof',
  summary: 'check a proof bundle offline, with trusted keys only',
  description:
    'Checks an inclusion bundle (the entry hashes to its recorded hash, the audit path leads to the root of a checkpoint signed by a ' +
    'trusted key, and a trusted entry signature verifies) or a consistency bundle (both checkpoints signed by trusted keys, the newer ' +
    'one extends the older). Needs no trail and no network.',
  args: ['<bundle>'],
  options: [{ flags: '--trusted-keys <file>', description: 'verifier keys allowed to sign checkpoints and entries (required)' }],
  examples: [{ cmd: 'verify-proof entry-41.proof.json --trusted-keys keys.txt', says: "an auditor's check of one entry" }],
  exitCodes: { 0: 'the proof holds', 1: 'the proof fails (tampered entry, wrong path, fork)', 2: 'unreadable bundle, untrusted or invalid checkpoint signature' },
  manPage: 'stax-prove',
  async run([bundle], options, ctx) {
    const { verifyProofBundle } = await import('../../trail/proof.js');
    const { loadTrustedKeys } = await import('../../keys/store.js');
    if (typeof options.trustedKeys !== 'string') throw new StaxError('KEY_MISSING', 'a proof is only as good as the keys you trust: pass --trusted-keys FILE');
    const check = verifyProofBundle(resolve(ctx.io.cwd, bundle!), loadTrustedKeys(resolve(ctx.io.cwd, options.trustedKeys)));
    return {
      result: check,
      exitCode: check.valid ? Exit.OK : Exit.CHECK_FAILED,
      render(c: typeof check, ui: Ui) {
        if (c.valid) ui.out(`${ui.c.green('✔ proof holds')}: ${ui.safe(c.statement ?? '')}`);
        else {
          ui.out(`${ui.c.red('✘ proof FAILS')}  ${ui.safe(c.file)}`);
          for (const p of c.problems) ui.out(`  ${p.code}: ${ui.safe(p.message)}`);
        }
      },
    };
  },
};
