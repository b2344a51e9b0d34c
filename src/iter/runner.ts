/**
 * Runs parallel iterators on a worker. A pipeline is split recursively with `join` (forkJoin): the
 * first half runs here, the second is offered to idle workers as a call of the built-in task
 * PAR_ITER_TASK, whose arguments point at the pipeline's description in shared memory. Each worker
 * decodes a description once and keeps the last few, so stealing a piece costs a lookup, not a
 * decode.
 */
import { Destination } from '../codec/passed-buffers.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { channel } from 'node:diagnostics_channel';
import type { BlockRef, PayloadCodec } from '../codec/payload.js';
import { forkJoin } from '../worker/join.js';
import type { TaskFunction } from '../worker/task-table.js';
import type { WorkerThread } from '../worker/worker-thread.js';
import { type PieceLoop, compileLoop } from './loop.js';
import { abortedError } from '../worker/cancellation.js';
import { inlineFunction } from './inline-functions.js';
import { type Pipeline, type TaskLookup, Terminal, combine, conclude, isInline, unitCount } from './pipeline.js';
import { CELL_WORDS, type Cell, initCell, noMatch, settledFor, shortCircuits } from './short-circuit.js';
import { initialSplits, midpoint, trySplit } from './splitter.js';

/** Name of the built-in task that runs a piece of a pipeline (its id follows the module's tasks). */
export const PAR_ITER_TASK = 'viscose:parIter';

/** Pipeline ids are unique per creating thread: the main thread uses this creator number. */
export const MAIN_CREATOR = 1023;

/** The `pusher` of a root piece, which no worker offered: it is not a migration. */
export const ROOT_PIECE = -1;

/**
 * Published on a worker for every piece it runs sequentially, when someone listens: a
 * {@link PieceEvent}. Shows how a pipeline was cut and where its pieces ran.
 */
export const pieceChannel = channel('viscose:parIter:piece');

export interface PieceEvent {
  /** The pipeline, unique per pool. */
  pipeline: number;
  /** The piece covers units [lo, hi) of the source (items, or chunks). */
  lo: number;
  hi: number;
  /** The worker that ran it. */
  worker: number;
}

/** A pipeline as a worker runs it: its description and its compiled loop. */
interface Prepared {
  pipeline: Pipeline;
  loop: PieceLoop;
  /** Its short-circuit cell, for a terminal that stops early. */
  cell: Cell | undefined;
  /** The main-thread buffer ids its decode met: every piece of it may send them (shared-buffers.ts). */
  ids: Set<number> | undefined;
}

/**
 * How many units a piece's loop runs between two looks at its pipeline's cancel flag: one atomic
 * load per this many items keeps the check out of the hot loop's cost.
 */
const CHECK_STRIDE = 1 << 16;

/** How many prepared pipelines a worker keeps. */
const CACHED_PIPELINES = 4;

export interface RunnerParts {
  codec: PayloadCodec;
  /** The task module's exported functions by task id: the pipelines' steps. */
  exported: readonly TaskFunction[];
  /** Task id of PAR_ITER_TASK. */
  pieceTask: number;
  threads: number;
}

/**
 * The arguments of a PAR_ITER_TASK call: the pipeline's id and description, the piece's range and
 * split budget, the worker that offered it (ROOT_PIECE for the root), and the slot whose cancel
 * flag stops the whole pipeline (NO_SLOT for the root, which watches its own slot).
 */
export type PieceArguments = [
  id: number,
  arena: number,
  offset: number,
  length: number,
  kind: number,
  lo: number,
  hi: number,
  splits: number,
  pusher: number,
  stopSlot: number,
];

/** The root piece's stopSlot: it is the root's own slot, which only the worker running it knows. */
export const NO_SLOT = -1;

export function pieceArguments(
  id: number,
  ref: BlockRef,
  lo: number,
  hi: number,
  splits: number,
  pusher: number,
  stopSlot = NO_SLOT,
): PieceArguments {
  return [id, ref.arena, ref.offset, ref.length, ref.kind, lo, hi, splits, pusher, stopSlot];
}

export function pipelineId(sequence: number, creator: number): number {
  return sequence * 1024 + creator;
}

export class ParIterRunner {
  private readonly cache = new Map<number, Prepared>();
  private sequence = 0;
  private readonly lookup: TaskLookup;

  /**
   * `worker` is the one this runner belongs to: pieces split with its join, and stop when the
   * caller of the task they belong to gives up (its cancellation).
   */
  constructor(
    private readonly worker: WorkerThread,
    private readonly parts: RunnerParts,
  ) {
    this.lookup = (task) => (isInline(task) ? inlineFunction(task) : parts.exported[task]);
  }

  /** PAR_ITER_TASK: a piece of a pipeline, stolen from another worker or sent by the main thread. */
  readonly task = (...args: unknown[]): unknown => {
    const [id, arena, offset, length, kind, lo, hi, splits, pusher, stopSlot] = args as PieceArguments;
    const ref: BlockRef = { arena, offset, length, kind };
    // Run by a worker other than the one that offered it: stolen, so some worker is idle.
    const migrated = pusher !== ROOT_PIECE && pusher !== this.worker.index;
    const stop = stopSlot === NO_SLOT ? this.worker.running.current : stopSlot;
    return this.piece(this.prepared(id, ref), id, ref, lo, hi, splits, migrated, stop);
  };

  /** Runs a whole pipeline from task code on this worker, and returns its result. */
  run(pipeline: Pipeline): unknown {
    const { codec, threads } = this.parts;
    const passed = sharedBuffers.passed;
    // Any worker may decode the pipeline, while it runs: the buffers it names are lent until then.
    const cellWords = shortCircuits(pipeline.terminal) ? CELL_WORDS : 0;
    const ref = passed.encodingFor(Destination.EVERY_WORKER, () => codec.storeBlock(pipeline, 'parIter', cellWords));
    const lent = passed.send(Destination.EVERY_WORKER);
    if (lent !== undefined) passed.hold(lent);
    const id = pipelineId(++this.sequence, this.worker.index);
    try {
      if (cellWords > 0) initCell(codec.wordsAfter(ref), pipeline.terminal);
      const prepared = this.remember(id, pipeline, ref);
      const units = unitCount(pipeline);
      // The calling task's slot: cancelling that call stops the pipeline (-1 outside any task).
      const stop = this.worker.running.current;
      const result = this.piece(prepared, id, ref, 0, units, initialSplits(threads, units, pipeline), false, stop);
      return conclude(pipeline.terminal, result);
    } finally {
      this.cache.delete(id);
      codec.releaseBlock(ref);
      if (lent !== undefined) passed.unhold(lent);
    }
  }

  /**
   * Runs units [lo, hi), split or sequentially. Before it runs, before it splits and every
   * CHECK_STRIDE units it looks at the cancel flag of slot `stop`, which stays claimed until every
   * piece is done (the root joins them all), and throws AbortError once it is raised.
   */
  private piece(
    prepared: Prepared,
    id: number,
    ref: BlockRef,
    lo: number,
    hi: number,
    splits: number,
    migrated: boolean,
    stop: number,
  ): unknown {
    const { threads, pieceTask } = this.parts;
    const self = this.worker.index;
    this.checkStop(stop);
    const { cell, pipeline } = prepared;
    // The answer is known, and this piece cannot change it.
    if (cell !== undefined && settledFor(cell, pipeline.terminal, lo, hi)) return noMatch(pipeline);
    const half = trySplit(hi - lo, splits, migrated, threads, prepared.pipeline);
    if (half < 0) {
      if (pieceChannel.hasSubscribers) pieceChannel.publish({ pipeline: id, lo, hi, worker: self } satisfies PieceEvent);
      return this.loop(prepared, lo, hi, stop);
    }
    const mid = midpoint(lo, hi);
    // The half that runs here first is the left one, except for `findLast`, whose answer is
    // likelier on the right: found there first, it lets the offered left half be skipped.
    const fromRight = pipeline.terminal === Terminal.FIND_LAST;
    const [hereLo, hereHi, awayLo, awayHi] = fromRight ? [mid, hi, lo, mid] : [lo, mid, mid, hi];
    const [here, away] = forkJoin(
      this.worker,
      () => this.piece(prepared, id, ref, hereLo, hereHi, half, false, stop),
      pieceTask,
      pieceArguments(id, ref, awayLo, awayHi, half, self, stop),
      () => this.piece(prepared, id, ref, awayLo, awayHi, half, false, stop),
    );
    return fromRight ? combine(pipeline, away, here, this.lookup) : combine(pipeline, here, away, this.lookup);
  }

  /**
   * The compiled loop over [lo, hi) in strides, combined in order, with a look at the flag between
   * and, for a terminal that stops early, at its cell: `findLast` takes the strides from the right.
   */
  private loop(prepared: Prepared, lo: number, hi: number, stop: number): unknown {
    if (stop < 0 || hi - lo <= CHECK_STRIDE) return prepared.loop(lo, hi);
    const { pipeline, cell } = prepared;
    const backwards = pipeline.terminal === Terminal.FIND_LAST;
    const strides = Math.ceil((hi - lo) / CHECK_STRIDE);
    let result: unknown;
    for (let k = 0; k < strides; k++) {
      const from = lo + (backwards ? strides - 1 - k : k) * CHECK_STRIDE;
      const to = Math.min(hi, from + CHECK_STRIDE);
      if (k > 0) {
        this.checkStop(stop);
        // What is left of the piece: [from, hi) going forwards, [lo, to) going backwards.
        if (cell !== undefined && settledFor(cell, pipeline.terminal, backwards ? lo : from, backwards ? to : hi)) break;
      }
      const part = prepared.loop(from, to);
      if (k === 0) result = part;
      else result = backwards ? combine(pipeline, part, result, this.lookup) : combine(pipeline, result, part, this.lookup);
    }
    return result;
  }

  private checkStop(stop: number): void {
    if (stop >= 0 && this.worker.cancellation.requested(stop)) throw abortedError();
  }

  private prepared(id: number, ref: BlockRef): Prepared {
    let prepared = this.cache.get(id);
    if (prepared === undefined) {
      const outer = sharedBuffers.beginTask();
      let ids: Set<number> | undefined;
      try {
        prepared = this.remember(id, this.parts.codec.loadBlock(ref) as Pipeline, ref);
      } finally {
        ids = sharedBuffers.runningTaskIds;
        sharedBuffers.endTask(outer);
      }
      prepared.ids = ids;
    }
    // A piece of a pipeline runs while the call it belongs to holds the ids its decode met.
    sharedBuffers.allowTaskIds(prepared.ids);
    return prepared;
  }

  private remember(id: number, pipeline: Pipeline, ref: BlockRef): Prepared {
    if (this.cache.size >= CACHED_PIPELINES) this.cache.delete(this.cache.keys().next().value!);
    const cell = shortCircuits(pipeline.terminal) ? this.parts.codec.wordsAfter(ref) : undefined;
    const prepared: Prepared = { pipeline, loop: compileLoop(pipeline, this.lookup, cell), cell, ids: undefined };
    this.cache.set(id, prepared);
    return prepared;
  }
}
