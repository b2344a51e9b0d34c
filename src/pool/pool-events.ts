/**
 * The pool's events (`pool.on(...)`, node:events): their payloads, and the rules for `error`, whose
 * default in EventEmitter (throw when nobody listens) must never crash the user's process for a
 * failure the pool found on its own.
 */
import type { EventEmitter } from 'node:events';
import { ThreadPoolError, messageOf } from '../errors.js';
import { emitProcessWarning } from '../options/validators.js';

/**
 * Why a worker is gone:
 * - `crashed`: it ended on its own (an uncaught error, `process.exit()`, out of memory, a failed
 *   start);
 * - `restarted`: `pool.restartWorker(index)` terminated it;
 * - `killed`: the pool terminated it to stop a task: past its `terminateAfter`, or whose signal
 *   aborted with `terminateOnAbort`;
 * - `retired`: the pool let an idle worker go, shrinking;
 * - `closed`: the pool closed or was terminated.
 */
export type WorkerExitReason = 'crashed' | 'restarted' | 'killed' | 'retired' | 'closed';

/** Payload of `workerCreate`. */
export interface WorkerCreated {
  /** The worker's index (a replacement takes the index of the worker it replaces). */
  index: number;
  name: string;
  /** `Worker.threadId`. */
  threadId: number;
}

/** Payload of `workerExit`. */
export interface WorkerExited {
  index: number;
  name: string;
  /** `Worker.threadId`. */
  threadId: number;
  why: WorkerExitReason;
  /** The thread's exit code. */
  exitCode: number;
}

/**
 * The pool's events and their arguments, for `pool.on(event, listener)` (docs/guide/pool.md,
 * "Events").
 */
export interface PoolEvents {
  /**
   * `needsDrain` went from true to false: a task slot is free and no call waits for one. Emitted
   * once per change, after the change, never twice in a row.
   */
  drain: [];
  /**
   * `needsDrain` went from false to true: every task slot is taken, so the next call waits (or,
   * past `maxQueue`, is refused). Emitted once per change, never twice in a row.
   */
  needsDrain: [];
  /**
   * A failure no caller can be told about: a worker that died while idle, one that could not be
   * restarted, an exit handler that threw, a spawned call that failed, an observer that threw.
   * The `onError` option receives the same failures; with neither, a process warning is emitted.
   */
  error: [error: Error];
  /** A worker started and takes work: every first worker (emitted after `create()`), every replacement. */
  workerCreate: [worker: WorkerCreated];
  /** A worker announced by `workerCreate` is gone; its calls were settled (or retried) first. */
  workerExit: [worker: WorkerExited];
}

/**
 * Makes `to` emit the `error` events of `from` for as long as `to` has an `error` listener of its
 * own; without one, `from` handles them as if `to` did not exist (onError, else a warning).
 */
export function forwardErrors(from: ErrorEmitter, to: ErrorEmitter): void {
  const forward = (error: Error) => to.emit('error', error);
  const watched = to as unknown as EventEmitter;
  watched.on('newListener', (event: string | symbol) => {
    if (event === 'error' && to.listenerCount('error') === 0) from.on('error', forward);
  });
  watched.on('removeListener', (event: string | symbol) => {
    if (event === 'error' && to.listenerCount('error') === 0) from.off('error', forward);
  });
}

/** What forwardErrors needs of an emitter of `error` events. */
interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  emit(event: 'error', error: Error): boolean;
  listenerCount(event: 'error'): number;
}

/**
 * Hands a failure nobody awaits to the `error` listeners and to `onError`, each if there is one,
 * and to a process warning if there is neither (`onError` is then the default, a warning); in a
 * microtask, outside the code that found it.
 */
export function reportFailure(emitter: EventEmitter<PoolEvents>, onError: (error: Error) => void, error: unknown): void {
  const failure = error instanceof Error ? error : new ThreadPoolError(messageOf(error), { cause: error });
  queueMicrotask(() => {
    const listened = emitter.listenerCount('error') > 0;
    if (listened) emitter.emit('error', failure);
    if (!listened || onError !== emitProcessWarning) onError(failure);
  });
}
