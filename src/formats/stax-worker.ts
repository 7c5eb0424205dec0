/**
 * A worker thread of the parallel stax verifier (stax-parallel.ts): receives blocks of
 * whole lines as bytes and sends back what checkBlock found in them. Everything that
 * depends on earlier entries stays on the main thread, in order.
 */
import { parentPort } from 'node:worker_threads';
import { checkBlock } from './stax-block.js';
import type { BlockRequest } from './stax-parallel.js';

parentPort!.on('message', (req: BlockRequest) => {
  const result = checkBlock(req);
  parentPort!.postMessage(result, [result.kinds.buffer as ArrayBuffer, result.seqs.buffer as ArrayBuffer, result.bytes]);
});
