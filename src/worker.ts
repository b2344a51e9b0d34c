/**
 * Task-side helpers, imported by task modules as `viscose/worker`.
 *
 * @packageDocumentation
 */
import { workerIdentity } from './worker/context.js';

/**
 * Index of the worker thread running the caller, from 0 to `currentNumThreads() - 1`, or
 * `undefined` when called outside a viscose worker (on the main thread, say).
 */
export function currentThreadIndex(): number | undefined {
  return workerIdentity()?.index;
}

/** Number of worker threads of the pool running the caller, or `undefined` outside a worker. */
export function currentNumThreads(): number | undefined {
  return workerIdentity()?.numThreads;
}

/** Name of the worker thread running the caller (`prefix-index`), or `undefined` outside a worker. */
export function currentThreadName(): string | undefined {
  return workerIdentity()?.name;
}
