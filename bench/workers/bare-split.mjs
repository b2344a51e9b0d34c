// A bare worker_threads worker for the fork-join benchmark's reference: it runs the sequential
// kernel of ../lib/kernels.mjs over the half of the shared arrays it is told, and answers by
// postMessage. Two of them, each given one fixed half, are the ceiling a parallel loop can reach
// on the machine, with none of a pool's work: no queues, no splitting, no stealing.
import { parentPort } from 'node:worker_threads';
import { transform } from '../lib/kernels.mjs';

function sum(values, lo, hi) {
  let total = 0;
  for (let i = lo; i < hi; i++) total += values[i];
  return total;
}

function map(values, out, lo, hi) {
  for (let i = lo; i < hi; i++) out[i] = transform(values[i]);
}

parentPort.on('message', ({ op, values, out, lo, hi }) => {
  if (op === 'sum') parentPort.postMessage(sum(values, lo, hi));
  else {
    map(values, out, lo, hi);
    parentPort.postMessage(0);
  }
});
