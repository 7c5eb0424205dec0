// Appends N entries to a new stax chain through the library (dist/chain/writer.js), the
// way a program that logs many events does: it issues appends as they come, GROUP at a
// time, and waits for each group (one lock, one write and, with durability 'fsync', one
// fdatasync per group commit). Prints {"seconds": ...} for the appends alone.
//
// usage: node bench/scripts/append-many.mjs FILE N GROUP fsync|none
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [file, n = '100000', group = '1000', durability = 'fsync'] = process.argv.slice(2);
const dist = join(fileURLToPath(import.meta.url), '../../../dist');
const { ChainWriter } = await import(join(dist, 'chain/writer.js'));
rmSync(file, { force: true });
const writer = new ChainWriter(file, { create: { kind: 'trail', origin: 'bench.example/append' }, durability });
const total = Number(n);
const size = Number(group);
const t0 = process.hrtime.bigint();
for (let i = 0; i < total; i += size) {
  const batch = [];
  for (let j = i; j < Math.min(total, i + size); j++) {
    batch.push(writer.append({ actor: 'bench', action: 'http.request', payload: { i: j, url: `https://example.com/items/${j % 97}`, status: 200 } }));
  }
  await Promise.all(batch);
}
await writer.close();
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ seconds, entries: total, perSecond: Math.round(total / seconds) }) + '\n');
