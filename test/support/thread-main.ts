/**
 * Worker-thread side of ./threads.ts: checks in, waits for the common start signal, runs the
 * thread's body and reports its result. An exception escapes to the main thread as the worker's
 * 'error' event, which fails the test with the thrown message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ThreadWorkerData } from './threads.js';

/** Index of the start word the threads block on until every one of them has checked in. */
export const START_RELEASED = 0;

export function threadMain<D, R>(body: (data: D) => R): void {
  const { start, data } = workerData as ThreadWorkerData<D>;
  const startWords = new Int32Array(start);
  parentPort!.postMessage({ checkedIn: true });
  while (Atomics.load(startWords, START_RELEASED) === 0) Atomics.wait(startWords, START_RELEASED, 0);
  parentPort!.postMessage({ result: body(data) });
}
