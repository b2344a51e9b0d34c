/**
 * `join` and `broadcast` for task code on a worker (docs/internals/fork-join.md).
 *
 * - join(a, b): b is queued on the worker's deque, a runs inline, then b is popped back and run
 *   inline with its original arguments (never decoded) unless a thief took it; then the worker runs
 *   other work until b's state word says DONE or FAILED (the thief wakes it if it parked). a's
 *   error wins over b's.
 * - broadcast(task): one part per worker, posted to each mailbox; results in worker order.
 */
import type { PostOutcome } from '../queue/mailbox.js';
import { SlotFlag } from '../shm/slot.js';
import { callSync } from './outcomes.js';
import type { TaskFunction } from './task-table.js';
import type { WorkerThread } from './worker-thread.js';

export function join(worker: WorkerThread, fa: TaskFunction, argsA: unknown[], fb: TaskFunction, argsB: unknown[]): [unknown, unknown] {
  return forkJoin(
    worker,
    () => callSync(fa, argsA, 'join (first call)'),
    worker.tasks.idOf(fb, 'join (second call)'),
    argsB,
    () => callSync(fb, argsB, 'join (second call)'),
  );
}

/**
 * join, with the second half given twice: as a task id and arguments, for a thief, and as a
 * function that runs it here, for when it is not stolen.
 */
export function forkJoin(worker: WorkerThread, a: () => unknown, taskB: number, argsB: unknown[], b: () => unknown): [unknown, unknown] {
  const { forked } = worker;
  const slot = forked.nested.allocate();
  let entry = -1;
  if (slot >= 0) {
    try {
      entry = forked.pushTask(slot, taskB, forked.encodeArgs(argsB), worker.visible.record());
    } finally {
      if (entry < 0) forked.nested.release(slot);
    }
  }
  let resultA: unknown;
  let failureA: { error: unknown } | undefined;
  try {
    resultA = a();
  } catch (error) {
    failureA = { error };
  }
  let resultB: unknown;
  let failureB: { error: unknown } | undefined;
  if (entry < 0 || worker.takeBack(entry)) {
    // Not stolen (or never queued): run it here with the original arguments, nothing decoded.
    if (entry >= 0) forked.discard(slot);
    try {
      resultB = b();
    } catch (error) {
      failureB = { error };
    }
  } else {
    worker.waitUntil(() => forked.finished(slot));
    const outcome = forked.collect(slot);
    if (outcome.failed) failureB = { error: outcome.value };
    else resultB = outcome.value;
  }
  if (failureA !== undefined) throw failureA.error;
  if (failureB !== undefined) throw failureB.error;
  return [resultA, resultB];
}

export function broadcast(worker: WorkerThread, fn: TaskFunction, args: unknown[]): unknown[] {
  const task = worker.tasks.idOf(fn, 'broadcast');
  const { forked } = worker;
  const { nested } = forked;
  const targets = forked.broadcastTargets();
  const parts = forked.allocateParts('a broadcast', targets.length);
  let entries: number[];
  try {
    const payload = forked.encodeArgs(args);
    const visibleScope = worker.visible.record();
    entries = parts.map((slot) => {
      forked.write(slot, task, payload, SlotFlag.SYNC_ONLY, -1, visibleScope);
      return forked.enqueue(slot);
    });
  } catch (error) {
    for (const slot of parts) nested.release(slot);
    throw error;
  }
  postToEach(worker, targets, entries);
  worker.waitUntil(() => parts.every((slot) => forked.finished(slot)));
  let failure: { error: unknown } | undefined;
  const results = parts.map((slot) => {
    const outcome = forked.collect(slot);
    if (outcome.failed) failure ??= { error: outcome.value };
    return outcome.value;
  });
  if (failure !== undefined) throw failure.error;
  return results;
}

/**
 * Posts `entries[k]` to the mailbox of worker `targets[k]`, for each, and wakes it. A target that
 * retired since the broadcast picked it (an elastic pool) has no mailbox any more: its part goes
 * to this worker's deque, where any worker may take it.
 */
export function postToEach(worker: WorkerThread, targets: readonly number[], entries: readonly number[]): void {
  const { forked } = worker;
  for (let k = 0; k < entries.length; k++) {
    let outcome = 'full' as PostOutcome;
    // A full mailbox empties as its worker runs what it holds: work meanwhile, then retry.
    worker.waitUntil(() => {
      outcome = forked.post(targets[k], entries[k]);
      return outcome !== 'full';
    });
    if (outcome === 'posted') forked.wake(targets[k]);
    else forked.push(entries[k]);
  }
}
