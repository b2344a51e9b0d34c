/**
 * The options of `pool.with(options)`: their table (shared in part with the processor's requests
 * and the cluster's calls) and how they resolve into the way a call and a batch run.
 */
import { InvalidOptionError } from '../errors.js';
import { type OptionTable, resolveTable } from '../options/table.js';
import {
  abortSignal,
  flag,
  integer,
  oneOf,
  optional,
  optionalFunction,
  optionalObject,
  positiveMilliseconds,
} from '../options/validators.js';
import { PRIORITY_LEVEL, type Priority } from '../queue/priority.js';
import type { BatchHow, CallRunner, RunHow } from './call-runner.js';
import type { MainForkJoin } from './main-fork-join.js';
import type { TaskEventListener } from './task-events.js';
import { terminationUnavailable } from './termination.js';
import type { CallObserver, CallOptions, PoolCalls, TaskModule, TaskName } from './types.js';

/** `priority`, as every facade takes it. */
export const PRIORITY_OPTION = { validate: oneOf<Priority>('high', 'normal', 'low'), default: 'normal' } as const;
/** `signal`, as every facade takes it. */
export const SIGNAL_OPTION = { validate: abortSignal } as const;
/** A task's run-time limit (`timeout`), as the pool and the processor take it. */
export const TIMEOUT_OPTION = { validate: positiveMilliseconds, default: Infinity, defaultDoc: 'none' } as const;
/** `onEvent`, the listener of what a call's task emits, as every facade takes it. */
export const ON_EVENT_OPTION = { validate: optionalFunction<TaskEventListener>('(event, payload)'), defaultDoc: 'none' } as const;

export const CALL_OPTIONS = {
  priority: PRIORITY_OPTION,
  signal: SIGNAL_OPTION,
  timeout: TIMEOUT_OPTION,
  terminateAfter: { validate: positiveMilliseconds, default: Infinity, defaultDoc: 'never' },
  terminateOnAbort: { validate: optional(flag), defaultDoc: "the pool's `terminateOnAbort`" },
  retries: { validate: integer(0), default: 0 },
  chunkSize: { validate: optional(integer(1)), defaultDoc: 'from the batch length and the threads' },
  observer: { validate: optionalObject<CallObserver>('an object with `ran` and/or `retrying` methods') },
  onEvent: ON_EVENT_OPTION,
} as const satisfies OptionTable<CallOptions>;

/** How the calls made with some options run: a single call, and a batch (or why batches refuse them). */
export interface CallPlans {
  run: RunHow;
  batch: BatchHow | InvalidOptionError;
}

/** `pool` gives the defaults that are pool options (`terminateOnAbort`). */
export function resolveCallOptions(options: CallOptions, pool: { terminateOnAbort: boolean }): CallPlans {
  const { priority, signal, timeout, terminateAfter, retries, chunkSize, observer, onEvent, ...kill } = resolveTable(
    CALL_OPTIONS,
    options,
    'an object of call options',
  );
  const level = PRIORITY_LEVEL[priority];
  if (terminateAfter !== Infinity) {
    if (timeout === Infinity) throw new InvalidOptionError('terminateAfter', 'needs a finite timeout');
    const unavailable = terminationUnavailable('terminateAfter');
    if (unavailable !== undefined) throw new InvalidOptionError('terminateAfter', unavailable);
  }
  const terminateOnAbort = kill.terminateOnAbort ?? pool.terminateOnAbort;
  if (kill.terminateOnAbort === true) {
    const unavailable = terminationUnavailable('terminateOnAbort');
    if (unavailable !== undefined) throw new InvalidOptionError('terminateOnAbort', unavailable);
  }
  const limit = timeout === Infinity ? undefined : { timeoutMs: timeout, terminateAfterMs: terminateAfter };
  return {
    run: { level, signal, limit, retries, observer, onEvent, terminateOnAbort },
    batch:
      limit === undefined
        ? { level, signal, retries, chunkSize, observer, onEvent, terminateOnAbort }
        : new InvalidOptionError('timeout', 'applies to run only: a batch chunk runs many calls'),
  };
}

/** A batch of task `name` run as `plans` say, in `mode`; or their refusal of batches. */
export function batchWith<M extends TaskModule>(
  plans: CallPlans,
  runner: CallRunner<M>,
  name: TaskName<M>,
  argsList: Iterable<unknown[]>,
  mode: Pick<BatchHow, 'settleEach' | 'packValues'>,
): Promise<unknown> {
  return plans.batch instanceof InvalidOptionError
    ? Promise.reject(plans.batch)
    : runner.batch(name, argsList, { ...plans.batch, ...mode });
}

/** `pool.with(options)`: the pool's calls, run as the resolved options `plans` say. */
export function callsWith<M extends TaskModule>(plans: CallPlans, runner: CallRunner<M>, forks: MainForkJoin<M>): PoolCalls<M> {
  const batch = <R>(name: TaskName<M>, argsList: Iterable<unknown[]>, settleEach: boolean): Promise<R> =>
    batchWith(plans, runner, name, argsList, { settleEach }) as Promise<R>;
  return {
    run: (name, ...args) => runner.run(name, args, plans.run),
    runBatch: (name, argsList) => batch(name, argsList, false),
    runBatchSettled: (name, argsList) => batch(name, argsList, true),
    parIter: (source) => forks.parIter(plans.run.level, source, plans.run.signal, plans.run.limit, plans.run.onEvent),
  };
}
