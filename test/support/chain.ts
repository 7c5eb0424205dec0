/** Builds and rewrites stax chains in tests, the way an attacker with write access would. */
import { readFileSync, writeFileSync } from 'node:fs';
import { GENESIS_HASH, serializeEntry, serializeHeader, type ChainEntry, type ChainHeader, type EntryBody } from '../../src/chain/entry.js';

export function readChain(file: string): { header: ChainHeader; entries: ChainEntry[] } {
  const [head, ...rest] = readFileSync(file, 'utf8').trim().split('\n');
  return { header: JSON.parse(head!) as ChainHeader, entries: rest.map((l) => JSON.parse(l) as ChainEntry) };
}

/** Writes entries as a fresh, internally consistent chain: every hash and link recomputed, signatures dropped. */
export function writeRehashedChain(file: string, header: ChainHeader, bodies: Array<Omit<EntryBody, 'seq' | 'prev'>>): void {
  let prev = GENESIS_HASH;
  const lines = [serializeHeader(header)];
  bodies.forEach((b, seq) => {
    const { hash: _h, sig: _s, ...rest } = b as ChainEntry;
    const { line, hash } = serializeEntry({ ...rest, seq, prev } as EntryBody);
    lines.push(line);
    prev = hash;
  });
  writeFileSync(file, lines.join('\n') + '\n');
}
