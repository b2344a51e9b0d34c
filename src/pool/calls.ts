/**
 * The callers waiting on slots: a single `run`, or a `runBatch` split into chunks, one per slot.
 */
import { TaskError, WorkerCrashedError } from '../errors.js';
import { SlotState } from '../shm/slot.js';
import type { PendingWork } from './work.js';
import type { TaskCosts } from './task-costs.js';

type Resolve<T> = (value: T) => void;
type Reject = (reason: unknown) => void;

export class SingleCall implements PendingWork {
  constructor(
    private readonly task: string,
    private readonly workerNames: readonly string[],
    private readonly resolve: Resolve<unknown>,
    private readonly reject: Reject,
    /** Where what the call cost is learned (a call of the task module), with its task id. */
    private readonly costs?: TaskCosts,
    private readonly taskId = -1,
  ) {}

  settle(state: number, outcome: unknown, worker: number, runMs: number, outcomeBytes: number): void {
    this.costs?.ran(this.taskId, runMs, 1, outcomeBytes);
    if (state === SlotState.DONE) this.resolve(outcome);
    else this.reject(new TaskError(this.task, this.workerNames[worker], outcome));
  }

  abandon(error: unknown): void {
    if (error instanceof WorkerCrashedError) this.costs?.crashedOn(this.taskId);
    this.reject(error);
  }
}

/** The values of calls [start, start + count) of a batch, packed by their worker (SlotFlag.PACK_VALUES). */
export interface PackedValues {
  start: number;
  count: number;
  /** One RECORDS msgpack list of JSON data (codec/json-values.ts); null for a failed call. */
  bytes: Uint8Array;
}

/**
 * The pool's method that runs a settled batch whose workers pack values of JSON data (a
 * PackedBatch): a cluster node forwards them as they are (bullmq/job-runs.ts). Registered, so that
 * two copies of this module (the published bundle and its source) know each other's pools.
 */
export const PACKED_BATCH: unique symbol = Symbol.for('viscose.packedBatch');

/** What a settled batch whose values are packed (`packValues`) resolves to. */
export interface PackedBatch {
  /** The chunks whose values their workers packed, in the order they finished. */
  packed: PackedValues[];
  /** Each call's PromiseSettledResult, but for a fulfilled call whose value is packed. */
  entries: (PromiseSettledResult<unknown> | undefined)[];
}

/**
 * A `runBatch` call: resolves with every result in order once every call's result arrived, or
 * rejects with the first failure reported (later outcomes are dropped; chunks already queued still
 * run). With `settleEach` (`runBatchSettled`) every call runs and resolves to a
 * PromiseSettledResult; a failure only rejects its own entry (a result or error that cannot cross
 * threads included: the worker fails that entry alone), and a chunk that failed as a whole (its
 * worker crashed, its results were too large together) rejects the entries of its calls. With
 * `packValues` as well, the workers pack the values of JSON data, and it resolves to a PackedBatch.
 */
export class BatchCall {
  private readonly results: unknown[];
  /** With `packValues`: the chunks whose values came packed. */
  private readonly packed: PackedValues[] | undefined;
  /**
   * Calls whose results arrived. Counting calls rather than chunks matters: chunks are queued while
   * earlier ones already complete, so "no chunk outstanding" can happen before the last is queued.
   */
  private filled = 0;
  /** Resolved or rejected: later outcomes are dropped. */
  settled = false;

  constructor(
    readonly task: string,
    readonly workerNames: readonly string[],
    total: number,
    private readonly resolve: Resolve<unknown>,
    private readonly reject: Reject,
    readonly settleEach = false,
    packValues = false,
  ) {
    this.results = new Array<unknown>(total);
    this.packed = packValues ? [] : undefined;
  }

  /** The chunks queued so far (what an abort withdraws). */
  readonly chunks: PendingWork[] = [];

  /**
   * The pending work for the chunk of `count` calls starting at index `start`; `wrap` puts it in
   * what is queued (a retrying wrapper), which is what an abort then withdraws.
   */
  chunk(start: number, count: number, wrap: (work: PendingWork) => PendingWork = (work) => work): PendingWork {
    const chunk = wrap(new BatchChunk(this, start, count));
    this.chunks.push(chunk);
    return chunk;
  }

  fill(start: number, values: unknown[]): void {
    if (this.settled) return;
    const results = this.results;
    for (let i = 0; i < values.length; i++) results[start + i] = values[i];
    this.arrived(values.length);
  }

  /** A settled chunk's values came packed; `failures` are the entries of its failed calls, by index in the chunk. */
  fillPacked(values: PackedValues, failures: [number, PromiseRejectedResult][]): void {
    if (this.settled) return;
    for (const [index, entry] of failures) this.results[values.start + index] = entry;
    this.packed!.push(values);
    this.arrived(values.count);
  }

  private arrived(calls: number): void {
    this.filled += calls;
    if (this.filled < this.results.length) return;
    this.settled = true;
    this.resolve(this.packed === undefined ? this.results : ({ packed: this.packed, entries: this.results } as PackedBatch));
  }

  /** The caller aborted: the whole batch rejects, whatever its mode. */
  abort(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  /** The batch failed as a whole (plain mode), or calls [start, start + count) did (settled mode). */
  fail(error: unknown, start = 0, count = 0): void {
    if (!this.settleEach) {
      this.abort(error);
      return;
    }
    this.fill(
      start,
      Array.from({ length: count }, () => ({ status: 'rejected', reason: error })),
    );
  }
}

class BatchChunk implements PendingWork {
  constructor(
    private readonly batch: BatchCall,
    private readonly start: number,
    private readonly count: number,
  ) {}

  settle(state: number, outcome: unknown, worker: number): void {
    const { batch, start, count } = this;
    if (state === SlotState.DONE) {
      if (!batch.settleEach) {
        batch.fill(start, outcome as unknown[]);
        return;
      }
      const [results, failures] = outcome as [unknown[] | Uint8Array, [number, unknown][]];
      const rejected = failures.map(([index, error]): [number, PromiseRejectedResult] => [index, this.rejection(index, error, worker)]);
      if (results instanceof Uint8Array) {
        batch.fillPacked({ start, count, bytes: results }, rejected);
        return;
      }
      const entries: PromiseSettledResult<unknown>[] = results.map((value) => ({ status: 'fulfilled', value }));
      for (const [index, entry] of rejected) entries[index] = entry;
      batch.fill(start, entries);
      return;
    }
    // A failed chunk reports [index within the chunk, error]; -1 when no call is to blame.
    const [index, error] = outcome as [number, unknown];
    const at = index < 0 ? undefined : start + index;
    batch.fail(new TaskError(batch.task, batch.workerNames[worker], error, at), start, this.count);
  }

  abandon(error: unknown): void {
    this.batch.fail(error, this.start, this.count);
  }

  /** The entry of the chunk's call `index`, which failed with `error`. */
  private rejection(index: number, error: unknown, worker: number): PromiseRejectedResult {
    const { batch, start } = this;
    return { status: 'rejected', reason: new TaskError(batch.task, batch.workerNames[worker], error, start + index) };
  }
}

/** A `broadcast` from the main thread: one part per worker, settled once every part is. */
export class BroadcastCall {
  private readonly outcomes: { state: number; value: unknown; worker: number }[] = [];
  private remaining: number;
  private settled = false;

  constructor(
    private readonly task: string,
    private readonly workerNames: readonly string[],
    parts: number,
    private readonly resolve: Resolve<unknown[]>,
    private readonly reject: Reject,
  ) {
    this.remaining = parts;
  }

  /** The pending work of the `index`-th part, the one posted to `target`. */
  part(index: number, target: number): PendingWork {
    return {
      settle: (state, value, worker) => this.partDone(index, { state, value, worker }),
      abandon: (error) => this.partDone(index, { state: -1, value: error, worker: target }),
    };
  }

  private partDone(index: number, outcome: { state: number; value: unknown; worker: number }): void {
    this.outcomes[index] = outcome;
    if (--this.remaining > 0 || this.settled) return;
    this.settled = true;
    // Like Rayon: wait for every part, then report the failure of the lowest worker, if any.
    const failed = this.outcomes.find((part) => part.state !== SlotState.DONE);
    if (failed === undefined) this.resolve(this.outcomes.map((part) => part.value));
    else if (failed.state === -1) this.reject(failed.value);
    else this.reject(new TaskError(this.task, this.workerNames[failed.worker], failed.value));
  }
}

/**
 * A scope opened on the main thread: its record slot completes once the body and every task
 * spawned into it, transitively, have finished; the first error wins (the body's own error is kept
 * here, the tasks' travel in the record as [task id, worker index, error]).
 */
export class ScopeCall<R> implements PendingWork {
  private bodyValue: R | undefined;
  private bodyError: { error: unknown } | undefined;

  constructor(
    private readonly tasks: readonly string[],
    private readonly workerNames: readonly string[],
    private readonly resolve: Resolve<R>,
    private readonly reject: Reject,
  ) {}

  bodyReturned(value: R): void {
    this.bodyValue = value;
  }

  /** The body failed; `first` says whether its error was the scope's first. */
  bodyFailed(error: unknown, first: boolean): void {
    if (first) this.bodyError = { error };
  }

  settle(state: number, outcome: unknown): void {
    if (this.bodyError !== undefined) {
      this.reject(this.bodyError.error);
    } else if (state === SlotState.FAILED) {
      const [task, worker, error] = outcome as [number, number, unknown];
      this.reject(new TaskError(this.tasks[task], worker < 0 ? 'the main thread' : this.workerNames[worker], error));
    } else {
      this.resolve(this.bodyValue as R);
    }
  }

  abandon(error: unknown): void {
    this.reject(error);
  }
}
