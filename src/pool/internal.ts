/**
 * Entry points that the ParallelProcessor uses and the package does not export: calls that also
 * report how long their tasks ran on the workers (the processor's batch efficiency needs it).
 */
export const RUN_TIMED = Symbol('viscose.runTimed');
export const RUN_BATCH_SETTLED_TIMED = Symbol('viscose.runBatchSettledTimed');

/** A call's value and the milliseconds its task (or all the chunks of a batch) ran on workers. */
export interface Timed<T> {
  value: T;
  runMs: number;
}
