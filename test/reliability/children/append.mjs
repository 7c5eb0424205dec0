// A writer to be killed: appends to a stax chain until SIGKILL, printing "<seq> <hash>"
// for each entry only after its append resolved (written and fdatasync'ed). Whatever it
// printed must be in the file afterwards. Runs the built library (dist/).
//
//   node append.mjs <file> <mode> <actor> [count]
//   mode: each      one awaited append at a time (each its own lock and fdatasync)
//         batch     appendMany of 50 small entries (one write, one fdatasync)
//         big       appendMany of 400 entries of ~8 KB: 3 MB writes, which SIGKILL can tear
//                   (Linux stops a large write() between pages on a fatal signal)
//         burst     the same without fdatasync (durability 'none'): the write is then most of
//                   each cycle, so kills tear it often. A process kill loses nothing the
//                   kernel accepted, so its acknowledged entries must be there too.
//         codebank  registerCode with one inline content per call (the code bank's own path)
//         approve   approve() one new package version per call; <file> is the project folder,
//                   signed with $STAX_HMAC_KEY; prints "<serial> <seq> <hash> <name>" (the
//                   guard-trail entry of the change) once approve() returned
const [file, mode = 'each', actor = 'crash', count = 'Infinity'] = process.argv.slice(2);

// For the large modes, say "W" just before each large write() starts, so that the parent
// can aim its kill at the write itself. The write is not changed: fs.writeSync is wrapped,
// and syncBuiltinESMExports() makes the writer's `import { writeSync }` see the wrapper.
if (mode === 'big' || mode === 'burst') {
  const fs = (await import('node:fs')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  const write = fs.writeSync;
  fs.writeSync = function (fd, buffer, ...rest) {
    if (buffer.length > 1 << 20) process.stdout.write('W\n');
    return write.call(this, fd, buffer, ...rest);
  };
  syncBuiltinESMExports();
}
const limit = Number(count);
// Multi-byte characters, so that a torn write can cut inside one.
const text = (i) => `é…😀 ${i} ${'x'.repeat(i % 97)}`;
const ack = (e) => process.stdout.write(`${e.seq} ${e.hash}\n`);

if (mode === 'approve') {
  // Say "R" just after the new allowlist is renamed into place, before its guard-trail entry
  // is appended, so that the parent can aim a kill between the two.
  const fs = (await import('node:fs')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  const rename = fs.renameSync;
  fs.renameSync = function (from, to) {
    const out = rename.call(this, from, to);
    if (String(to).endsWith('allowlist.json')) process.stdout.write('R\n');
    return out;
  };
  syncBuiltinESMExports();
  const { approve } = await import('../../../dist/guard/approve.js');
  const integrity = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
  for (let i = 0; i < limit; i++) {
    const name = `pkg-${process.pid}-${i}`;
    const r = await approve({ cwd: file, env: process.env, actor }, [{ kind: 'version', name, version: '1.0.0', integrity, host: null, installScript: null }]);
    process.stdout.write(`${r.serial} ${r.trailEntry.seq} ${r.trailEntry.hash} ${name}\n`);
  }
} else if (mode === 'codebank') {
  const { registerCode } = await import('../../../dist/codebank/register.js');
  const { dirname } = await import('node:path');
  const root = dirname(file);
  for (let i = 0; i < limit; i++) {
    const r = await registerCode({ bank: file, root, cwd: root, paths: [], contents: [{ label: `rule-${process.pid}-${i}`, text: text(i) }], actor, origin: 'crash.example/bank' });
    for (const item of r.items) if (item.seq !== undefined) ack(item);
  }
} else {
  const { ChainWriter } = await import('../../../dist/chain/writer.js');
  const writer = new ChainWriter(file, { create: { kind: 'trail', origin: 'crash.example/trail' }, durability: mode === 'burst' ? 'none' : 'fsync' });
  for (let i = 0; i < limit; ) {
    if (mode === 'each') {
      ack(await writer.append({ actor, action: 'step', payload: { i, s: text(i) } }));
      i++;
    } else {
      const large = mode === 'big' || mode === 'burst';
      const n = large ? 400 : 50;
      const pad = large ? 'yé€😀'.repeat(800) : '';
      const batch = Array.from({ length: n }, (_, k) => ({ actor, action: mode, payload: { i: i + k, s: text(i + k), pad } }));
      for (const e of await writer.appendMany(batch)) ack(e);
      i += n;
    }
  }
}
