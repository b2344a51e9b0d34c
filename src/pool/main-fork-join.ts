/**
 * Fork-join from the main thread: a scope whose spawns any worker runs, a broadcast to every
 * worker, and parallel iterators whose root piece a worker splits from there. The pool's facade
 * delegates here; calls go through its submitter and call watch like any other.
 */
import type { BlockRef, EncodedPayload } from '../codec/payload.js';
import { encodingTransfers, TransferMode } from '../codec/transfer.js';
import { AbortError, PoolClosedError } from '../errors.js';
import { inlineStepSource } from '../iter/inline-step.js';
import { type IterSource, type ItemOf, ParIterChain, type PoolParIter, type TaskResolver } from '../iter/par-iter.js';
import { type Pipeline, conclude, unitCount } from '../iter/pipeline.js';
import { MAIN_CREATOR, PAR_ITER_TASK, ROOT_PIECE, pieceArguments, pipelineId } from '../iter/runner.js';
import { initialSplits } from '../iter/splitter.js';
import { CELL_WORDS, initCell, shortCircuits } from '../iter/short-circuit.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import { SlotFlag } from '../shm/slot.js';
import { type CallGate, type CallRunner, PLAIN_RUN } from './call-runner.js';
import type { CallWatch, RunLimit } from './call-watch.js';
import { BroadcastCall, ScopeCall, SingleCall } from './calls.js';
import type { DataPlane } from './data-plane.js';
import type { PendingWork } from './work.js';
import type { Submitter } from './submitter.js';
import type { TaskEventListener } from './task-events.js';
import type { AnyFunction, PoolScope, PoolScopeFifo, TaskArgs, TaskModule, TaskName } from './types.js';

export class MainForkJoin<M extends TaskModule> {
  /** Parallel iterators started from this thread, for their ids. */
  private pipelines = 0;

  constructor(
    private readonly gate: CallGate,
    private readonly plane: DataPlane,
    private readonly submitter: Submitter,
    private readonly calls: CallWatch,
    private readonly names: { readonly tasks: readonly string[]; readonly threadNames: readonly string[] },
  ) {}

  /** ThreadPool.join: both calls run; if both fail, the first one's error wins. */
  async join(
    a: readonly [TaskName<M>, ...unknown[]],
    b: readonly [TaskName<M>, ...unknown[]],
    runner: CallRunner<M>,
  ): Promise<[unknown, unknown]> {
    const run = (call: readonly [TaskName<M>, ...unknown[]]) => runner.run(call[0], call.slice(1) as TaskArgs<M, TaskName<M>>, PLAIN_RUN);
    const [first, second] = await Promise.allSettled([run(a), run(b)]);
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'rejected') throw second.reason;
    return [first.value, second.value];
  }

  /** ThreadPool.scope. */
  scope<R>(body: (scope: PoolScope<M>) => R | PromiseLike<R>): Promise<R> {
    return this.openScope(false, body);
  }

  /** ThreadPool.scopeFifo. */
  scopeFifo<R>(body: (scope: PoolScopeFifo<M>) => R | PromiseLike<R>): Promise<R> {
    return this.openScope(true, body);
  }

  private async openScope<R>(fifo: boolean, body: (scope: PoolScope<M> & PoolScopeFifo<M>) => R | PromiseLike<R>): Promise<R> {
    if (!this.gate.open()) throw new PoolClosedError();
    const dispatcher = this.plane.dispatcher;
    const record = await dispatcher.acquireSlot();
    return new Promise<R>((resolve, reject) => {
      const call = new ScopeCall<R>(this.names.tasks, this.names.threadNames, resolve, reject);
      dispatcher.openRecord(record, call, fifo);
      let open = true;
      const accept = (name: TaskName<M>, operation: string): number => {
        if (!open) throw new PoolClosedError(`the scope's body has returned: ${operation} from within the scope`);
        return this.gate.accept(name);
      };
      // The injector is a FIFO: from this thread, `spawn` and `spawnFifo` both start oldest first.
      const spawn = (name: TaskName<M>, ...args: unknown[]) => {
        const task = accept(name, fifo ? 'spawnFifo' : 'spawn');
        // One worker runs a spawn: what it moves with transfer() goes to that worker.
        const payload = encodingTransfers(TransferMode.MOVE, () => this.plane.codec.encodeList(args, 'args'));
        this.spawnInto(record, task, payload, -1, this.submitter.holdMoved());
      };
      const spawnBroadcast = (name: TaskName<M>, ...args: unknown[]) => {
        const task = accept(name, 'spawnBroadcast');
        const payload = this.plane.codec.encodeList(args, 'args');
        for (const worker of this.presentWorkers()) this.spawnInto(record, task, payload, worker);
      };
      // One of the two kinds, as `fifo` says: the body was typed for that one.
      const scope = (fifo ? { spawnFifo: spawn, spawnBroadcast } : { spawn, spawnBroadcast }) as unknown as PoolScope<M> & PoolScopeFifo<M>;
      Promise.resolve()
        .then(() => body(scope))
        .then(
          (value) => call.bodyReturned(value),
          (error: unknown) => call.bodyFailed(error, dispatcher.claimRecordForBody(record)),
        )
        .finally(() => {
          open = false;
          dispatcher.finishRecordPart(record);
        });
    });
  }

  /** The workers a broadcast reaches: those there now (an elastic pool may not have started all). */
  private presentWorkers(): number[] {
    return this.names.threadNames.map((_, index) => index).filter((index) => this.plane.present(index));
  }

  /** Counts a spawn into the scope of `record`, then queues it (`target`: a worker's mailbox, or -1). */
  private spawnInto(record: number, task: number, payload: EncodedPayload, target: number, moved = 0): void {
    const dispatcher = this.plane.dispatcher;
    dispatcher.addRecordPart(record);
    const spawned: PendingWork = {
      settle: () => {},
      abandon: (error) => dispatcher.finishRecordPart(record, { error, task }),
    };
    const submission = { task, batch: 0, flags: SlotFlag.DISCARD_RESULT, scope: record, target, level: NORMAL_LEVEL };
    this.submitter.submit(submission, payload, spawned, undefined, moved);
  }

  /** ThreadPool.broadcast. */
  broadcast(name: TaskName<M>, args: unknown[]): Promise<unknown[]> {
    let task: number;
    let payload: EncodedPayload;
    try {
      task = this.gate.accept(name);
      payload = this.plane.codec.encodeList(args, 'args');
    } catch (error) {
      return Promise.reject(error);
    }
    const targets = this.presentWorkers();
    return new Promise((resolve, reject) => {
      const call = new BroadcastCall(name, this.names.threadNames, targets.length, resolve as (value: unknown[]) => void, reject);
      targets.forEach((worker, part) => {
        const target = { task, batch: 0, flags: 0, scope: -1, target: worker, level: NORMAL_LEVEL };
        this.submitter.submit(target, payload, call.part(part, worker));
      });
    });
  }

  /**
   * What a step of this pool's iterators names: a task of the module by its name, a plain function
   * by its source. One for the pool, which is how chain and zip know an iterator is the pool's own.
   */
  private readonly resolveStep: TaskResolver = (task, where) =>
    typeof task === 'function' ? inlineStepSource(task as AnyFunction, where) : this.gate.accept(task as string);

  /** ThreadPool.parIter at a priority level, with an optional signal, run-time limit and event listener. */
  parIter<S extends IterSource<unknown>>(
    level: number,
    source: S,
    signal?: AbortSignal,
    limit?: RunLimit,
    onEvent?: TaskEventListener,
  ): PoolParIter<M, ItemOf<S>> {
    const chain = ParIterChain.over(source, this.resolveStep, (finish) => this.runPipeline(finish, level, signal, limit, onEvent));
    return chain as unknown as PoolParIter<M, ItemOf<S>>;
  }

  /**
   * Stores a pipeline's description in shared memory and sends its root piece to a worker, which
   * splits it from there. The description is released once the root piece is done, or at once if
   * it is withdrawn before it ran. An abort or a timeout raises the root slot's cancel flag, which
   * every piece of the pipeline watches (src/iter/runner.ts).
   */
  private runPipeline(
    finish: () => Pipeline,
    level: number,
    signal?: AbortSignal,
    limit?: RunLimit,
    onEvent?: TaskEventListener,
  ): Promise<unknown> {
    const { codec } = this.plane;
    let pipeline: Pipeline;
    let ref: BlockRef;
    let payload: EncodedPayload;
    let held: number[] | undefined;
    try {
      if (!this.gate.open()) throw new PoolClosedError();
      if (signal?.aborted) throw new AbortError(signal.reason);
      pipeline = finish();
      const cellWords = shortCircuits(pipeline.terminal) ? CELL_WORDS : 0;
      ref = codec.storeBlock(pipeline, 'parIter', cellWords);
      if (cellWords > 0) initCell(codec.wordsAfter(ref), pipeline.terminal);
      held = this.submitter.holdReferenced();
      const units = unitCount(pipeline);
      const id = pipelineId(++this.pipelines, MAIN_CREATOR);
      payload = codec.encodeList(
        pieceArguments(id, ref, 0, units, initialSplits(this.names.threadNames.length, units, pipeline), ROOT_PIECE),
        'args',
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const call = { name: PAR_ITER_TASK, task: this.names.tasks.length, payload, ref, held, level, signal, limit, onEvent };
    return this.runBuiltIn(call).then((result) => conclude(pipeline.terminal, result));
  }

  /**
   * Sends a call of a built-in task (one of those whose ids follow the module's tasks) to a worker.
   * `ref`, a block of shared memory its arguments point at, is released once the call is done, or
   * at once if it is withdrawn before it ran. An abort or a timeout raises the call's cancel flag.
   */
  runBuiltIn(call: BuiltInCall): Promise<unknown> {
    const { codec } = this.plane;
    const { name, ref, signal, limit } = call;
    let stopListening: (() => void) | undefined;
    const promise = new Promise((resolve, reject) => {
      const single = new SingleCall(name, this.names.threadNames, resolve, reject);
      const work: PendingWork = {
        // The call is done only once every piece it forked is: nobody reads the block any more.
        settle: (state, outcome, worker, runMs, outcomeBytes) => {
          if (ref !== undefined) codec.releaseBlock(ref);
          single.settle(state, outcome, worker, runMs, outcomeBytes);
        },
        // Not released: pieces of the call may still wait in the queues of a worker that died,
        // and would read the block after it was reused. A leaked block is the lesser harm.
        abandon: (error) => single.abandon(error),
        dropped: () => {
          if (ref !== undefined) codec.releaseBlock(ref);
        },
      };
      const findable = signal !== undefined || limit !== undefined;
      this.submitter.submit(
        { task: call.task, batch: 0, flags: 0, scope: -1, target: -1, level: call.level, findable, onEvent: call.onEvent },
        call.payload,
        work,
        call.held,
      );
      stopListening = this.calls.watch(name, work, signal, limit, reject);
    });
    if (stopListening !== undefined) promise.then(stopListening, stopListening);
    return promise;
  }
}

/** A call of a built-in task: its name (for errors), id, encoded arguments, and what they hold. */
export interface BuiltInCall {
  name: string;
  task: number;
  payload: EncodedPayload;
  /** A block the arguments point at, released with the call. */
  ref?: BlockRef;
  /** The shared buffers the arguments (and block) name, held by `Submitter.holdReferenced`. */
  held?: number[];
  level: number;
  signal?: AbortSignal;
  limit?: RunLimit;
  onEvent?: TaskEventListener;
}
