/**
 * A hashing worker thread: receives batches of paths, hashes them with synchronous I/O
 * (which blocks only this thread) and posts the results back. See pool.ts.
 */
import { parentPort } from 'node:worker_threads';
import { BUFFER_BYTES, hashBatchSync, type HashJob } from './hash.js';

const buf = Buffer.allocUnsafe(BUFFER_BYTES);
parentPort?.on('message', (msg: { id: number; jobs: HashJob[] }) => {
  parentPort?.postMessage({ id: msg.id, results: hashBatchSync(msg.jobs, buf) });
});
