/**
 * The pool's single calls and batches: encoding, queueing through the submitter, watching through
 * the call watch, running again after a crash when a call asks for `retries`, and telling the
 * caller's observer what ran.
 *
 * A batch travels in chunks (sized below unless the caller says), so that it costs a few slots and
 * encodings rather than one per call; a chunk whose encoding exceeds maxPayloadBytes is halved
 * until it fits. Argument lists that arrive encoded (EncodedCalls) are cut into chunks as they are,
 * without being decoded.
 */
import { EncodedCalls } from '../codec/encoded-calls.js';
import { MAX_CHUNK_HEADER_BYTES } from '../codec/chunk-buffer.js';
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import { encodingTransfers, TransferMode } from '../codec/transfer.js';
import { takeMovesPlaced } from '../codec/moved-extension.js';
import { AbortError, PayloadTooLargeError, TransferError } from '../errors.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import { SlotFlag } from '../shm/slot.js';
import type { CallWatch, RunLimit } from './call-watch.js';
import { BatchCall, SingleCall } from './calls.js';
import type { PendingWork, Submission } from './work.js';
import { Coalescer, MAX_SHARED_ARGUMENT_BYTES } from './coalescer.js';
import type { CoalesceMode } from './options.js';
import { retryingOnCrash } from './retry.js';
import { TaskCosts } from './task-costs.js';
import type { Submitter } from './submitter.js';
import type { TaskEventListener } from './task-events.js';
import type { CallObserver, TaskArgs, TaskModule, TaskName, TaskResult } from './types.js';

/** A batch is cut into at least this many chunks per thread, so that idle workers find work... */
const CHUNKS_PER_THREAD = 8;
/** ...of at most this many calls, so that the workers start while the rest is being encoded. */
const MAX_CHUNK = 512;

/** How a single call runs. */
export interface RunHow {
  /** Priority level (0 is the highest). */
  level: number;
  signal?: AbortSignal;
  limit?: RunLimit;
  /** Runs again after its worker crashed, at most this many times. */
  retries?: number;
  observer?: CallObserver;
  /** An abort of `signal` while the task runs terminates its worker. */
  terminateOnAbort?: boolean;
  /** Listens for the events its task emits. */
  onEvent?: TaskEventListener;
}

/** A plain `run`: normal priority, nothing else. */
export const PLAIN_RUN: RunHow = { level: NORMAL_LEVEL };

/** What the pool's facade answers for the calls made through it (here and main-fork-join.ts). */
export interface CallGate {
  /** Task `name`'s id; throws why the pool takes no call now (closed, failed, no such task). */
  accept(name: string): number;
  /** Whether close() and terminate() were not called yet. */
  open(): boolean;
  /**
   * Why an accepted call can no longer be queued (the pool failed or was terminated), if so: for
   * a call run again after a crash, or calls of a turn that travel together at its end.
   */
  refusesLateQueueing(): Error | undefined;
  /** Reports what a caller's observer threw to the pool's `onError`. */
  report(error: unknown): void;
}

/** How a batch runs (`runBatch`, `runBatchSettled`). */
export interface BatchHow {
  level: number;
  /** Every call runs whatever happens to the others; results are PromiseSettledResults. */
  settleEach?: boolean;
  /** With `settleEach`: the workers pack values of JSON data, and the batch resolves to a PackedBatch (calls.ts). */
  packValues?: boolean;
  /** Calls per chunk; by default from the batch's length and the thread count. */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Chunks run again after their worker crashed, at most this many times. */
  retries?: number;
  observer?: CallObserver;
  /** An abort of `signal` terminates the workers running its chunks. */
  terminateOnAbort?: boolean;
  /** Listens for the events its tasks emit. */
  onEvent?: TaskEventListener;
}

/** A plain `runBatch` and `runBatchSettled`. */
export const PLAIN_BATCH: BatchHow = { level: NORMAL_LEVEL };
export const SETTLED_BATCH: BatchHow = { level: NORMAL_LEVEL, settleEach: true };

/** A batch's argument lists, as its chunks take them. */
interface BatchArguments {
  readonly length: number;
  /** Calls [start, start + count) as one chunk's payload; PayloadTooLargeError past maxPayloadBytes. */
  encode(start: number, count: number): EncodedPayload;
}

/** A batch being queued: what every chunk of it shares. */
interface BatchRun {
  task: number;
  calls: BatchArguments;
  batch: BatchCall;
  how: BatchHow;
}

export class CallRunner<M extends TaskModule> {
  private readonly costs: TaskCosts;
  private readonly coalescer: Coalescer;

  constructor(
    private readonly gate: CallGate,
    private readonly codec: PayloadCodec,
    private readonly submitter: Submitter,
    private readonly calls: CallWatch,
    private readonly threadNames: readonly string[],
    tasks: number,
    coalesce: CoalesceMode,
  ) {
    this.costs = new TaskCosts(tasks, codec.maxPayloadBytes);
    this.coalescer = new Coalescer(codec, submitter, this.costs, threadNames, coalesce, () => gate.refusesLateQueueing(), this.report);
  }

  /** Reports what a caller's observer threw to the pool's `onError`. */
  private readonly report = (error: unknown): void => this.gate.report(error);

  /**
   * A single call of task `name`, run as `how` says; it may travel with others made in the same
   * turn (coalescer.ts) when nothing in `how` asks for it to be watched on its own.
   */
  run<K extends TaskName<M>>(name: K, args: TaskArgs<M, K>, how: RunHow): Promise<TaskResult<M, K>> {
    const { level, signal, limit, retries = 0, observer, onEvent, terminateOnAbort } = how;
    let task: number;
    let payload: EncodedPayload;
    let held: number[] | undefined;
    let moved = 0;
    try {
      if (signal?.aborted) throw new AbortError(signal.reason);
      task = this.gate.accept(name);
      payload = encodeMoving(() => this.codec.encodeList(args, 'args'), retries);
      held = this.submitter.holdReferenced();
      moved = this.submitter.holdMoved();
      // A slot shared by calls of one turn has one root call: events need a slot of their own.
      const alone = signal !== undefined || limit !== undefined || retries > 0 || onEvent !== undefined;
      // A call that moves values has a token of its own to be pulled by: it travels alone.
      if (!alone && moved === 0 && this.coalescer.shares(task)) {
        // A chunk holds its parts behind a header, within maxPayloadBytes.
        const part = this.codec.partOf(payload, Math.min(MAX_SHARED_ARGUMENT_BYTES, this.codec.maxPayloadBytes - MAX_CHUNK_HEADER_BYTES));
        if (part !== undefined) {
          return new Promise((resolve, reject) =>
            this.coalescer.add(task, level, name, part, held, resolve as (value: unknown) => void, reject, observer?.ran),
          );
        }
      }
    } catch (error) {
      return Promise.reject(error);
    }
    let stopListening: (() => void) | undefined;
    const promise = new Promise<TaskResult<M, K>>((resolve, reject) => {
      let call: PendingWork = new SingleCall(name, this.threadNames, resolve as (value: unknown) => void, reject, this.costs, task);
      call = observed(call, observer, 1, this.report);
      const submission = toInjector(task, 0, level);
      submission.findable = signal !== undefined || limit !== undefined;
      submission.onEvent = onEvent;
      if (retries > 0) call = this.retrying(call, retries, 1, () => this.codec.encodeList(args, 'args'), submission, observer);
      this.submitter.submit(submission, payload, call, held, moved);
      stopListening = this.calls.watch(name, call, signal, limit, reject, terminateOnAbort);
    });
    if (stopListening !== undefined) promise.then(stopListening, stopListening);
    return promise;
  }

  /** A batch of calls of task `name`, cut into chunks (see the file comment). */
  batch(name: TaskName<M>, argsList: Iterable<unknown[]>, how: BatchHow): Promise<unknown> {
    const { settleEach = false, signal, retries = 0 } = how;
    const packValues = settleEach && how.packValues === true;
    let task: number;
    let calls: BatchArguments;
    try {
      if (signal?.aborted) throw new AbortError(signal.reason);
      task = this.gate.accept(name);
      calls = EncodedCalls.is(argsList) ? this.encodedArguments(argsList) : this.inspectedArguments(argsList, retries);
    } catch (error) {
      return Promise.reject(error);
    }
    if (calls.length === 0) return Promise.resolve(packValues ? { packed: [], entries: [] } : []);
    let stopListening: (() => void) | undefined;
    const promise = new Promise((resolve, reject) => {
      const batch = new BatchCall(name, this.threadNames, calls.length, resolve, reject, settleEach, packValues);
      const run: BatchRun = { task, calls, batch, how };
      const size = how.chunkSize ?? Math.min(MAX_CHUNK, Math.ceil(calls.length / (this.threadNames.length * CHUNKS_PER_THREAD)));
      for (let start = 0; start < calls.length && !batch.settled; ) {
        start += this.submitChunk(run, start, Math.min(size, calls.length - start), retries);
      }
      if (signal !== undefined)
        stopListening = this.calls.withdrawOnAbort(
          signal,
          () => batch.chunks,
          (reason) => batch.abort(reason),
          how.terminateOnAbort,
        );
    });
    if (stopListening !== undefined) promise.then(stopListening, stopListening);
    return promise;
  }

  /** Argument lists checked whole before any chunk is queued, encoded a chunk at a time. */
  private inspectedArguments(argsList: Iterable<unknown[]>, retries: number): BatchArguments {
    const calls = encodeMoving(() => this.codec.inspectCalls(argumentLists(argsList), 'argsList'), retries);
    return {
      length: calls.length,
      encode: (start, count) => this.codec.encodeInspected(calls.slice(start, start + count), 'argsList'),
    };
  }

  /** Argument lists encoded already: a chunk is their parts behind a header, copied as they are. */
  private encodedArguments(calls: EncodedCalls): BatchArguments {
    this.codec.checkEncodedCalls(calls, 'argsList');
    return { length: calls.length, encode: (start, count) => this.codec.chunkOfEncoded(calls, start, count, 'argsList') };
  }

  /**
   * Queues calls [start, start + count) of a batch as one chunk, which runs again up to `retries`
   * times if its worker dies under it, and returns how many it queued: a chunk whose encoding
   * exceeds maxPayloadBytes is halved until it fits. A single call too large fails the batch
   * (chunks already queued still run; their results are dropped). `readmitted`: queued again after
   * a crash, past `maxQueue`.
   */
  private submitChunk(run: BatchRun, start: number, count: number, retries: number, readmitted = false): number {
    const { task, calls, batch, how } = run;
    let payload: EncodedPayload;
    const encode = () => calls.encode(start, count);
    try {
      payload = encode();
    } catch (error) {
      if (error instanceof PayloadTooLargeError && count > 1) return this.submitChunk(run, start, count >> 1, retries, readmitted);
      batch.fail(error, start, count);
      return count;
    }
    const submission = toInjector(task, count, how.level);
    submission.readmitted = readmitted;
    if (batch.settleEach) submission.flags = SlotFlag.SETTLE_EACH | (how.packValues ? SlotFlag.PACK_VALUES : 0);
    submission.findable = how.signal !== undefined;
    submission.onEvent = how.onEvent;
    const wrap = (chunk: PendingWork): PendingWork => {
      const work = observed(chunk, how.observer, count, this.report);
      if (retries === 0) return work;
      // In a settled batch, the calls of a chunk whose worker died run again one per slot, so that
      // a call that kills its worker takes only itself down.
      if (batch.settleEach && count > 1) return this.splitOnCrash(work, run, start, count, retries);
      return this.retrying(work, retries, count, encode, submission, how.observer);
    };
    this.submitter.submit(submission, payload, batch.chunk(start, count, wrap), undefined, this.submitter.holdMoved());
    return count;
  }

  /**
   * `work`, run again up to `retries` times if its worker dies under it: re-encoded with `encode`
   * (the first encoding is gone by then) and queued as `submission` again.
   */
  private retrying(
    work: PendingWork,
    retries: number,
    calls: number,
    encode: () => EncodedPayload,
    submission: Submission,
    observer: CallObserver | undefined,
  ): PendingWork {
    return retryingOnCrash(work, retries, (again) => {
      const refused = this.gate.refusesLateQueueing();
      if (refused !== undefined) {
        again.abandon(refused);
        return;
      }
      this.notifyRetrying(observer, calls);
      this.submitter.submit({ ...submission, readmitted: true }, encode(), again);
    });
  }

  /**
   * A settled batch's chunk of `count` calls from `start` that, if its worker dies under it, is
   * queued again as `count` chunks of one call; that counts as one of each call's retries.
   */
  private splitOnCrash(work: PendingWork, run: BatchRun, start: number, count: number, retries: number): PendingWork {
    return retryingOnCrash(work, 1, (again) => {
      const refused = this.gate.refusesLateQueueing();
      if (refused !== undefined) {
        again.abandon(refused);
        return;
      }
      if (run.batch.settled) return; // aborted: nobody wants these results any more
      this.notifyRetrying(run.how.observer, count);
      for (let i = 0; i < count; i++) this.submitChunk(run, start + i, 1, retries - 1, true);
    });
  }

  /** Tells `observer` that calls are run again; what it throws goes to the pool's `onError`. */
  private notifyRetrying(observer: CallObserver | undefined, calls: number): void {
    try {
      observer?.retrying?.(calls);
    } catch (error) {
      this.gate.report(error);
    }
  }
}

/** Pending work that tells its caller's observer how long it ran, before it settles. */
class ObservedWork implements PendingWork {
  constructor(
    private readonly work: PendingWork,
    private readonly observer: CallObserver,
    private readonly calls: number,
    private readonly report: (error: unknown) => void,
  ) {}

  settle(state: number, outcome: unknown, worker: number, runMs: number, outcomeBytes: number): void {
    try {
      this.observer.ran?.(runMs, this.calls);
    } catch (error) {
      this.report(error);
    }
    this.work.settle(state, outcome, worker, runMs, outcomeBytes);
  }

  abandon(error: unknown): void {
    this.work.abandon(error);
  }
}

/** `work`, observed if the caller asked for run times. */
function observed(work: PendingWork, observer: CallObserver | undefined, calls: number, report: (error: unknown) => void): PendingWork {
  return observer?.ran === undefined ? work : new ObservedWork(work, observer, calls, report);
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

/**
 * Runs `encode` (or inspection) of arguments that one worker decodes: values marked with
 * `transfer()` in them move to it. A call that may run again after a crash cannot move anything:
 * what moved is gone with the worker that died.
 */
function encodeMoving<T>(encode: () => T, retries: number): T {
  takeMovesPlaced();
  const encoded = encodingTransfers(TransferMode.MOVE, encode);
  if (retries > 0 && takeMovesPlaced() > 0) {
    throw new TransferError(
      'retries cannot be combined with transfer(): a moved value is gone with a worker that dies, so the call could not run again',
    );
  }
  return encoded;
}

/** A call queued on the injector, for any worker. */
function toInjector(task: number, batch: number, level: number): Submission {
  return { task, batch, flags: 0, scope: -1, target: -1, level, findable: false };
}
