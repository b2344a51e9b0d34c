// The two workloads of the cluster benchmark, built the same way by the benchmark (for the
// cluster) and by local-batch.mjs (for the local pool inside a host's quota), with the check of
// their results: a batch of trivial tasks, and a batch of CPU-bound tasks of about 2 ms each.
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
