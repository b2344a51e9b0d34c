// Not an engine: the machine's ceiling for the tool-call stream. Each thread gets, in one message,
// a share of the requests whose total cost (each request's handler time, measured on the main
// thread) equals the others' as nearly as possible, which no engine can know in advance, and runs
// it with no further communication. What it reaches is what the machine allows two threads; what
// an engine reaches below that is the engine's.
import { Worker } from 'node:worker_threads';
import { StreamOutcome } from './contenders.mjs';

const worker = new URL('./ideal-split-worker.mjs', import.meta.url);

/**
 * Opens `threads` bare workers; `run(requests, costs)` runs the stream and resolves with its
 * outcome, every response brought back to the main thread as an engine's are.
 */
export async function idealSplit({ threads }) {
  const workers = Array.from({ length: threads }, () => new Worker(worker));
  const answer = (thread) =>
    new Promise((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
    });
  await Promise.all(workers.map(answer));
  return {
    name: 'ideal split',
    async run(requests, costs) {
      const shares = balancedShares(costs, threads);
      const answers = await Promise.all(
        shares.map((share, i) => {
          const answered = answer(workers[i]);
          workers[i].postMessage(share.map((index) => requests[index]));
          return answered;
        }),
      );
      const outcome = new StreamOutcome(requests.length);
      for (const [i, share] of shares.entries()) {
        const { handlerMs, responses } = answers[i];
        outcome.handlerMs += handlerMs;
        for (const [k, index] of share.entries()) {
          if (responses[k] === undefined) outcome.failedAt(index);
          else outcome.responses[index] = responses[k];
        }
      }
      return outcome;
    },
    close: () => Promise.all(workers.map((thread) => thread.terminate())),
  };
}

/** Request indices per thread: longest first, each to the least loaded thread. */
function balancedShares(costs, threads) {
  const order = costs.map((_, index) => index).sort((a, b) => costs[b] - costs[a]);
  const shares = Array.from({ length: threads }, () => []);
  const loads = new Array(threads).fill(0);
  for (const index of order) {
    const least = loads.indexOf(Math.min(...loads));
    shares[least].push(index);
    loads[least] += costs[index];
  }
  // Each share in stream order, as the requests arrived.
  for (const share of shares) share.sort((a, b) => a - b);
  return shares;
}
