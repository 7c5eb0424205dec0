// The floor for workload 1: read the file as a stream of lines and JSON.parse each one,
// nothing else (no hashing, no checks). No verifier can be faster than this.
import { createReadStream } from 'node:fs';

const file = process.argv[2];
let carry = '';
let lines = 0;
for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
  const text = carry + chunk;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    JSON.parse(text.slice(start, nl));
    lines++;
    start = nl + 1;
  }
  carry = text.slice(start);
}
if (carry.length > 0) {
  JSON.parse(carry);
  lines++;
}
process.stdout.write(`${lines} lines\n`);
