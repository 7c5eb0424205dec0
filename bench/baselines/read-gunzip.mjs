#!/usr/bin/env node
/**
 * The plain way to look inside a folder of Tracehound envelopes: read every *.thcs file
 * and gunzip what follows the 78-byte header. No checks at all (no magic, sizes, hashes
 * or signature): the floor for anything that opens every envelope. Prints the count and
 * the payload bytes so that the work cannot be skipped.
 *
 *   node bench/baselines/read-gunzip.mjs DIR
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const HEADER = 78;
const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: read-gunzip.mjs DIR\n');
  process.exit(2);
}
let count = 0;
let bytes = 0;
for (const name of readdirSync(dir)) {
  if (!name.endsWith('.thcs')) continue;
  const payload = gunzipSync(readFileSync(join(dir, name)).subarray(HEADER));
  bytes += payload.length;
  count++;
}
process.stdout.write(`${count} envelopes, ${bytes} payload bytes\n`);
