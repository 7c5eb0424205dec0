/**
 * Tells the chain formats apart from the first 64 KiB of a file, so that `stax verify`
 * needs no `--format` for any file a user is likely to hold.
 */
import type { Input } from '../io/input.js';
import { DocumentSplitter } from '../io/json-document.js';

export const FORMATS = ['stax', 'trailstax-trail', 'trailstax-codebank', 'guardian-trail', 'guardian-registry', 'tracehound-audit'] as const;
export type FormatId = (typeof FORMATS)[number];

export const FORMAT_TITLES: Record<FormatId, string> = {
  stax: 'stax chain v1',
  'trailstax-trail': 'TrailStax trail export',
  'trailstax-codebank': 'TrailStax code bank export',
  'guardian-trail': 'TrailStax guardian trail',
  'guardian-registry': 'TrailStax guardian registry',
  'tracehound-audit': 'Tracehound AuditChain export',
};

const SAMPLE_BYTES = 64 * 1024;

/** Reads up to 64 KiB and returns it with an Input that still yields every byte. */
export async function peek(input: Input): Promise<{ sample: string; input: Input }> {
  const iterator = input.chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < SAMPLE_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  const sample = Buffer.concat(head).subarray(0, SAMPLE_BYTES).toString('utf8');
  async function* replay(): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { sample, input: { ...input, chunks: replay() } };
}

export function detectFormat(sample: string): FormatId | null {
  const text = sample.replace(/^\ufeff/, '').trimStart();
  if (text.startsWith('[')) return /"previousHash"\s*:/.test(text.slice(0, 4096)) || /^\[\s*\]/.test(text) ? 'tracehound-audit' : null;
  if (!text.startsWith('{')) return null;

  // JSON Lines: the first line is a complete object of its own.
  const nl = text.indexOf('\n');
  if (nl > 0) {
    const first = tryParse(text.slice(0, nl));
    if (first !== undefined && !(typeof first === 'object' && first !== null && 'entries' in first)) {
      if (isObject(first) && first.format === 'stax-chain') return 'stax';
      if (isObject(first) && 'chain_hash' in first) return 'guardian-trail';
    }
  }

  const { keys, firstValue } = topLevel(text);
  const has = (k: string): boolean => keys.has(k);
  // A registry is keyed by package names, any of which could look like a field name
  // ("commits", "entries"): recognize it by its values first.
  if (firstValue !== null && /"package"\s*:/.test(firstValue) && /"signature"\s*:/.test(firstValue) && !has('trailstax_version') && !has('codebank_version')) {
    return 'guardian-registry';
  }
  if (has('format') && /"format"\s*:\s*"stax-chain"/.test(text)) return 'stax';
  if (has('trailstax_version') || (has('entries') && (has('session_id') || has('tail_hash')))) return 'trailstax-trail';
  if (has('codebank_version') || has('commits')) return 'trailstax-codebank';
  if (/"chain_hash"\s*:/.test(text.slice(0, nl > 0 ? nl : text.length)) && nl < 0) return 'guardian-trail';
  // A registry: every value an object with a package and a signature.
  if (keys.size > 0 && /"signature"\s*:/.test(text) && /"package"\s*:/.test(text)) return 'guardian-registry';
  return null;
}

function topLevel(text: string): { keys: Set<string>; firstValue: string | null } {
  const keys = new Set<string>();
  let firstValue: string | null = null;
  const splitter = new DocumentSplitter({ file: '', arrays: new Set(['entries', 'commits']), maxPieceChars: SAMPLE_BYTES * 2 });
  try {
    for (const ev of splitter.feed(text)) {
      if (ev.kind === 'member') {
        keys.add(ev.key);
        if (firstValue === null && ev.text.startsWith('{')) firstValue = ev.text;
      }
      if (ev.kind === 'element' || ev.kind === 'arrayEnd') if (ev.key !== null) keys.add(ev.key);
    }
  } catch {
    // The sample may end mid-document or be broken; the keys seen so far still count.
  }
  return { keys, firstValue };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
