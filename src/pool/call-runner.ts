/**
 * The pool's single calls and batches: encoding, queueing through the submitter, watching through
 * the call watch, and running again after a crash when a call asks for `retries`.
 *
 * A batch travels in chunks (sized below), so that it costs a few slots and encodings rather than
 * one per call; a chunk whose encoding exceeds maxPayloadBytes is halved until it fits.
 */
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import { AbortError, PayloadTooLargeError } from '../errors.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import { SlotFlag } from '../shm/slot.js';
import type { CallWatch, RunLimit } from './call-watch.js';
import { BatchCall, SingleCall } from './calls.js';
import type { PendingWork, Submission } from './dispatcher.js';
import { retryingOnCrash } from './retry.js';
import type { Submitter } from './submitter.js';
import type { TaskArgs, TaskModule, TaskName, TaskResult } from './types.js';

/** A batch is cut into at least this many chunks per thread, so that idle workers find work... */
const CHUNKS_PER_THREAD = 8;
/** ...of at most this many calls, so that the workers start while the rest is being encoded. */
const MAX_CHUNK = 512;

/** How a single call runs. */
export interface RunHow {
  /** Priority level (0 is the highest). */
  level: number;
  /** Resolve with the task's run time too (the processor's statistics). */
  timed?: boolean;
  signal?: AbortSignal;
  limit?: RunLimit;
  /** Runs again after its worker crashed, at most this many times. */
  retries?: number;
}

/** A plain `run`: normal priority, nothing else. */
export const PLAIN_RUN: RunHow = { level: NORMAL_LEVEL };

/** What the pool's facade answers for the calls made through it (here and main-fork-join.ts). */
export interface CallGate {
  /** Task `name`'s id; throws why the pool takes no call now (closed, failed, no such task). */
  accept(name: string): number;
  /** Whether close() and terminate() were not called yet. */
  open(): boolean;
  /** Why a call whose worker crashed cannot run again (the pool failed or was terminated), if so. */
  refusesRetries(): Error | undefined;
}

/** How a batch runs (`runBatch`, `runBatchSettled`, the processor's chunks). */
export interface BatchHow {
  /** Every call runs whatever happens to the others; results are PromiseSettledResults. */
  settleEach?: boolean;
  /** Resolve with the chunks' run time too (the processor's statistics). */
  timed?: boolean;
  /** The calls travel as one chunk unless their encoding is too large (the processor chunks). */
  oneChunk?: boolean;
  signal?: AbortSignal;
  /** Chunks run again after their worker crashed, at most this many times. */
  retries?: number;
}

export class CallRunner<M extends TaskModule> {
  constructor(
    private readonly gate: CallGate,
    private readonly codec: PayloadCodec,
    private readonly submitter: Submitter,
    private readonly calls: CallWatch,
    private readonly threadNames: readonly string[],
  ) {}

  /** A single call of task `name`, run as `how` says. */
  run<K extends TaskName<M>>(name: K, args: TaskArgs<M, K>, how: RunHow): Promise<TaskResult<M, K>> {
    const { level, timed = false, signal, limit, retries = 0 } = how;
    let task: number;
    let payload: EncodedPayload;
    try {
      if (signal?.aborted) throw new AbortError(signal.reason);
      task = this.gate.accept(name);
      payload = this.codec.encodeList(args, 'args');
    } catch (error) {
      return Promise.reject(error);
    }
    let stopListening: (() => void) | undefined;
    const promise = new Promise<TaskResult<M, K>>((resolve, reject) => {
      let call: PendingWork = new SingleCall(name, this.threadNames, resolve as (value: unknown) => void, reject, timed);
      if (retries > 0) call = this.retrying(call, retries, () => this.codec.encodeList(args, 'args'), toInjector(task, 0, level));
      this.submitter.submit(toInjector(task, 0, level), payload, call);
      stopListening = this.calls.watch(name, call, signal, limit, reject);
    });
    if (stopListening !== undefined) promise.then(stopListening, stopListening);
    return promise;
  }

  /** A batch of calls of task `name` at priority `level`, cut into chunks (see the file comment). */
  batch<K extends TaskName<M>>(level: number, name: K, argsList: Iterable<TaskArgs<M, K>>, how: BatchHow): Promise<unknown> {
    const { settleEach = false, timed = false, oneChunk = false, signal, retries = 0 } = how;
    let task: number;
    let calls: unknown[][];
    try {
      if (signal?.aborted) throw new AbortError(signal.reason);
      task = this.gate.accept(name);
      calls = this.codec.inspectCalls(argumentLists(argsList), 'argsList');
    } catch (error) {
      return Promise.reject(error);
    }
    if (calls.length === 0) return Promise.resolve(timed ? { value: [], runMs: 0 } : []);
    let stopListening: (() => void) | undefined;
    const promise = new Promise((resolve, reject) => {
      const batch = new BatchCall(name, this.threadNames, calls.length, resolve, reject, settleEach, timed);
      const size = oneChunk ? calls.length : Math.min(MAX_CHUNK, Math.ceil(calls.length / (this.threadNames.length * CHUNKS_PER_THREAD)));
      for (let start = 0; start < calls.length && !batch.settled; ) {
        start += this.submitChunk(task, level, calls, start, Math.min(size, calls.length - start), batch, retries);
      }
      if (signal !== undefined)
        stopListening = this.calls.withdrawOnAbort(
          signal,
          () => batch.chunks,
          (reason) => batch.abort(reason),
        );
    });
    if (stopListening !== undefined) promise.then(stopListening, stopListening);
    return promise;
  }

  /**
   * Queues calls [start, start + count) of a batch as one chunk and returns how many it queued: a
   * chunk whose encoding exceeds maxPayloadBytes is halved until it fits. A single call too large
   * fails the batch (chunks already queued still run; their results are dropped).
   */
  private submitChunk(
    task: number,
    level: number,
    calls: unknown[][],
    start: number,
    count: number,
    batch: BatchCall,
    retries: number,
  ): number {
    let payload: EncodedPayload;
    const encode = () => this.codec.encodeInspected(calls.slice(start, start + count), 'argsList');
    try {
      payload = encode();
    } catch (error) {
      if (error instanceof PayloadTooLargeError && count > 1)
        return this.submitChunk(task, level, calls, start, count >> 1, batch, retries);
      batch.fail(error, start, count);
      return count;
    }
    const submission = toInjector(task, count, level);
    if (batch.settleEach) submission.flags = SlotFlag.SETTLE_EACH;
    const wrap = retries > 0 ? (chunk: PendingWork) => this.retrying(chunk, retries, encode, submission) : undefined;
    this.submitter.submit(submission, payload, batch.chunk(start, count, wrap));
    return count;
  }

  /**
   * `work`, run again up to `retries` times if its worker dies under it: re-encoded with `encode`
   * (the first encoding is gone by then) and queued as `submission` again.
   */
  private retrying(work: PendingWork, retries: number, encode: () => EncodedPayload, submission: Submission): PendingWork {
    return retryingOnCrash(work, retries, (again) => {
      const refused = this.gate.refusesRetries();
      if (refused !== undefined) {
        again.abandon(refused);
        return;
      }
      this.submitter.submit(submission, encode(), again);
    });
  }
}

function argumentLists(argsList: Iterable<unknown>): unknown[][] {
  if (argsList === null || typeof argsList !== 'object' || typeof (argsList as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw invalidArgument('argsList must be an iterable of argument lists');
  }
  const calls = Array.isArray(argsList) ? (argsList as unknown[]) : [...argsList];
  for (let i = 0; i < calls.length; i++) {
    if (!Array.isArray(calls[i])) {
      throw invalidArgument(`argsList[${i}] must be an array of arguments, got ${typeof calls[i]}`);
    }
  }
  return calls as unknown[][];
}

function invalidArgument(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A call queued on the injector, for any worker. */
function toInjector(task: number, batch: number, level: number): Submission {
  return { task, batch, flags: 0, scope: -1, target: -1, level };
}
