import { resolve } from 'node:path';
import type { CommandSpec, RunContext } from '../command.js';
import { Exit, StaxError, fileError } from '../../errors.js';
import type { ChainEntry } from '../../chain/entry.js';

export const logCommand: CommandSpec = {
  name: 'log',
  summary: 'append one entry to a trail',
  description:
    'Appends one entry (actor, action, JSON payload) to a stax trail, creating the trail with its header on first use. ' +
    'Appends never rewrite the file, are serialized across processes by a lock, and are synced to disk before the command returns. ' +
    'The payload comes from --payload, --payload-file, or standard input when it is not a terminal.',
  args: ['<action>'],
  options: [
    { flags: '--payload <json>', description: 'the payload as JSON text' },
    { flags: '--payload-file <file>', description: 'read the payload from a JSON file' },
    { flags: '--trail <file>', description: 'the trail file (default: .stax/trail.jsonl)' },
    { flags: '--actor <id>', description: 'who acted (default: $STAX_ACTOR, else the user name)' },
    { flags: '--session <id>', description: 'a session id to group entries' },
    { flags: '--origin <name>', description: 'origin for a new trail, as in checkpoints: example.com/agents/recon' },
    { flags: '--key <key>', description: 'sign the entry with this private key (file or key name; default: $STAX_SIGNING_KEY); the actor defaults to the key name' },
    { flags: '--no-fsync', description: 'do not wait for the disk (faster; an append may be lost in a power cut)' },
  ],
  examples: [
    { cmd: `log session.start --payload '{"target":"example.com"}'`, says: 'append an entry to .stax/trail.jsonl' },
    { cmd: 'log deploy --actor ci --trail audit/trail.jsonl --payload-file deploy.json', says: 'append to a chosen trail' },
    { cmd: 'log db.export --json < export-summary.json', says: 'payload from stdin; print the new entry as JSON' },
  ],
  exitCodes: { 0: 'the entry was appended', 2: 'bad payload, unreadable or torn trail, or lock timeout' },
  manPage: 'stax-log',
  async run([action], options, ctx) {
    const { ChainWriter } = await import('../../chain/writer.js');
    const { defaultActor, defaultOrigin, defaultTrailPath } = await import('../../trail/paths.js');
    const { parsePayload } = await import('../../trail/payload.js');
    const { io } = ctx;
    const trail = options.trail === undefined ? defaultTrailPath(io.cwd) : resolve(io.cwd, options.trail as string);
    const payload = await readPayload(options, ctx, parsePayload);
    const signer = await loadSigner(options, ctx);
    const writer = new ChainWriter(trail, {
      create: { kind: 'trail', origin: (options.origin as string | undefined) ?? defaultOrigin(io.cwd, 'trail') },
      durability: options.fsync === false ? 'none' : 'fsync',
      sign: signer?.sign,
    });
    const entry = await writer.append({
      actor: (options.actor as string | undefined) ?? signer?.name ?? defaultActor(io.env),
      action: action!,
      payload,
      session: options.session as string | undefined,
    });
    return {
      result: entry,
      exitCode: Exit.OK,
      render: (e: ChainEntry, ui) => ui.out(`appended entry ${e.seq} ${e.hash}${e.sig ? ` signed by ${ui.safe(e.sig.key)}` : ''} to ${ui.safe(trail)}`),
    };
  },
};

async function readPayload(options: Record<string, unknown>, ctx: RunContext, parse: (text: string, source: string) => unknown): Promise<unknown> {
  if (options.payload !== undefined && options.payloadFile !== undefined) {
    throw new StaxError('USAGE', 'give either --payload or --payload-file, not both');
  }
  if (typeof options.payload === 'string') return parse(options.payload, '--payload');
  if (typeof options.payloadFile === 'string') {
    const file = resolve(ctx.io.cwd, options.payloadFile);
    // Imported here: node:fs/promises is a visible part of start-up, and most calls never read a file.
    const { readFile } = await import('node:fs/promises');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw fileError(options.payloadFile, err);
    }
    return parse(strictUtf8(bytes, options.payloadFile), options.payloadFile);
  }
  if (ctx.io.stdin.isTTY === true) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  const text = strictUtf8(Buffer.concat(chunks), 'stdin');
  return text.trim() === '' ? null : parse(text, 'stdin');
}


/** The entry signer when a key is configured: --key, else $STAX_SIGNING_KEY. */
async function loadSigner(options: Record<string, unknown>, ctx: RunContext): Promise<{ name: string; sign: ReturnType<typeof import('../../trail/sign.js').entrySigner> } | undefined> {
  const key = (options.key as string | undefined) ?? ctx.io.env.STAX_SIGNING_KEY;
  if (key === undefined || key === '') return undefined;
  const store = await import('../../keys/store.js');
  const { entrySigner } = await import('../../trail/sign.js');
  const signer = store.loadSigner(store.resolveKeyFile(key, ctx.io.env, ctx.io.cwd));
  return { name: signer.name, sign: entrySigner(signer) };
}

/** A payload that is not UTF-8 is refused: decoding it lossily would record other text. */
function strictUtf8(bytes: Buffer, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new StaxError('INPUT_INVALID', 'the payload is not valid UTF-8', { file: source });
  }
}
