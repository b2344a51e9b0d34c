/**
 * What a main-thread slot carries for the dispatcher: the work waiting for its outcome, and how a
 * call is to be queued.
 */

/** Whoever waits for the outcome of a slot: a call, a chunk of a batch, a part of a scope... */
export interface PendingWork {
  /**
   * The slot finished: `state` is DONE or FAILED, `outcome` the decoded result or error, `runMs`
   * how long its task ran on `worker` (meaningless for a scope record, which runs no task), and
   * `outcomeBytes` how long its outcome's encoding was.
   */
  settle(state: number, outcome: unknown, worker: number, runMs: number, outcomeBytes: number): void;
  /** It will not finish (pool terminated, worker crashed, payload could not be stored). */
  abandon(error: unknown): void;
  /**
   * Cancelled: called once no worker runs it any more (at once if it never ran, else when its
   * task returns), for what must outlive the task but not the call (a pipeline's description).
   */
  dropped?(): void;
}

import type { TaskEventListener } from './task-events.js';

/** How a call is to be queued. */
export interface Submission {
  task: number;
  /** Calls in a batch chunk; 0 for a single call. */
  batch: number;
  /** SlotFlag bits. */
  flags: number;
  /** The scope record the call is spawned into, or -1. */
  scope: number;
  /** A worker whose mailbox receives the call (a broadcast part), or -1 for the injector. */
  target: number;
  /** Priority level (queue/priority.ts): which injector level, and the order among waiting calls. */
  level: number;
  /**
   * Its caller may withdraw it or check on it (it has a signal or a run-time limit): the
   * dispatcher keeps the way back from the work to its slot. Other calls skip that cost.
   */
  findable?: boolean;
  /**
   * The slot holds `batch` calls of one turn that travel together (coalescer.ts): each counts as a
   * call, in `outstanding` and in the statistics, as it would have alone.
   */
  shared?: boolean;
  /** Listens for the events its task (and what that forks) emits; sets the slot's EVENTS flag. */
  onEvent?: TaskEventListener;
  /** Queued again after its worker died: accepted already, it is not refused by `maxQueue`. */
  readmitted?: boolean;
}
