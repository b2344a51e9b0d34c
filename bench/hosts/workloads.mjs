// The two workloads of the cluster benchmark, built the same way by the benchmark (for the
// cluster) and by local-batch.mjs (for the local pool inside a host's quota), with the check of
// their results: a batch of trivial tasks, and a batch of CPU-bound tasks of about 2 ms each, and
// how each is timed.
import { checkTrivialResults, trivialRequests } from '../lib/trivial-requests.mjs';
import { cpu } from '../lib/tasks.mjs';

/**
 * @param {{ kind: 'trivial' | 'cpu', count: number, unit?: number }} spec
 * @returns {{ task: string, argsList: unknown[][], check(results: unknown[]): void }}
 */
export function workload({ kind, count, unit }) {
  if (kind === 'trivial') {
    const requests = trivialRequests(count);
    return { task: 'trivial', argsList: requests.map((request) => [request]), check: (results) => checkTrivialResults(requests, results) };
  }
  const requests = Array.from({ length: count }, (_, seed) => ({ n: unit, seed }));
  return {
    task: 'cpu',
    argsList: requests.map((request) => [request]),
    check(results) {
      if (results.length !== count) throw new Error(`expected ${count} results, got ${results.length}`);
      // Spot checks: recomputing every hash would double the parent's CPU time.
      for (let i = 0; i < count; i += Math.ceil(count / 50)) {
        if (results[i] !== cpu(requests[i])) throw new Error(`cpu task ${i} returned a wrong hash`);
      }
    },
  };
}

/**
 * Runs `warmUpCalls` calls first (whole batches, then a part of one), then `batches` timed batches,
 * checking every result. A node of a cluster and a local pool are long-lived processes: what they
 * sustain once their JIT has compiled the hot paths and their heaps have grown is what users get,
 * and a cold process would charge a cluster of N processes N compilations.
 * @param {(task: string, argsList: unknown[][]) => Promise<unknown[]>} runBatch
 * @param {ReturnType<typeof workload>} built
 * @param {{ warmUpCalls: number, batches: number }} timing
 * @returns {Promise<number[]>} each timed batch's milliseconds
 */
export async function timeBatches(runBatch, { task, argsList, check }, { warmUpCalls, batches }) {
  for (let left = warmUpCalls; left > 0; left -= argsList.length) {
    const calls = left >= argsList.length ? argsList : argsList.slice(0, left);
    await runBatch(task, calls);
  }
  const times = [];
  for (let batch = 0; batch < batches; batch++) {
    const start = performance.now();
    const results = await runBatch(task, argsList);
    times.push(performance.now() - start);
    check(results);
  }
  return times;
}
