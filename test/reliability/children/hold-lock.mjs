// Takes a chain's lock and holds it until killed: the parent SIGKILLs it to leave a stale
// lock behind, as a writer killed in the middle of an append does.
//   node hold-lock.mjs <chain file>
const { FileLock } = await import('../../../dist/chain/lock.js');
const lock = FileLock.for(process.argv[2]);
await lock.acquire({ timeoutMs: 10_000 });
process.stdout.write('held\n');
setInterval(() => undefined, 1 << 30);
