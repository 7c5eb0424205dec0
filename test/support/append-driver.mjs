// A separate process that appends entries through the library API, one awaited append at
// a time (each its own lock and fdatasync), printing each acknowledged seq on stdout.
// Used by the concurrency and crash tests: whatever it printed must be in the file.
import { ChainWriter } from '../../dist/chain/writer.js';

const [file, count, actor, mode = 'each'] = process.argv.slice(2);
const writer = new ChainWriter(file, { create: { kind: 'trail', origin: 'test.example/concurrency' } });
const n = Number(count);
if (mode === 'batch') {
  const entries = await writer.appendMany(Array.from({ length: n }, (_, i) => ({ actor, action: 'batch', payload: { i } })));
  for (const e of entries) process.stdout.write(`${e.seq} ${e.hash}\n`);
} else {
  for (let i = 0; i < n; i++) {
    const e = await writer.append({ actor, action: 'step', payload: { i, pad: 'x'.repeat(i % 50) } });
    process.stdout.write(`${e.seq} ${e.hash}\n`);
  }
}
