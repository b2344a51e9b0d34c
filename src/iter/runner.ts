/**
 * Runs parallel iterators on a worker. A pipeline is split recursively with `join` (forkJoin): the
 * first half runs here, the second is offered to idle workers as a call of the built-in task
 * PAR_ITER_TASK, whose arguments point at the pipeline's description in shared memory. Each worker
 * decodes a description once and keeps the last few, so stealing a piece costs a lookup, not a
 * decode.
 */
import { channel } from 'node:diagnostics_channel';
import type { BlockRef, PayloadCodec } from '../codec/payload.js';
import type { TaskFunction } from '../worker/executor.js';
import type { ForkJoin } from '../worker/fork.js';
import { type PieceLoop, compileLoop } from './loop.js';
import { type Pipeline, combine, unitCount } from './pipeline.js';
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
}

/** How many prepared pipelines a worker keeps. */
const CACHED_PIPELINES = 4;

export interface RunnerParts {
  codec: PayloadCodec;
  tasks: TaskFunction[];
  /** Task id of PAR_ITER_TASK. */
  pieceTask: number;
  threads: number;
  self: number;
}

/**
 * The arguments of a PAR_ITER_TASK call: the pipeline's id and description, the piece's range and
 * split budget, and the worker that offered it (ROOT_PIECE for the root).
 */
export type PieceArguments = [id: number, arena: number, offset: number, length: number, kind: number, lo: number, hi: number, splits: number, pusher: number];

export function pieceArguments(id: number, ref: BlockRef, lo: number, hi: number, splits: number, pusher: number): PieceArguments {
  return [id, ref.arena, ref.offset, ref.length, ref.kind, lo, hi, splits, pusher];
}

export function pipelineId(sequence: number, creator: number): number {
  return sequence * 1024 + creator;
}

export class ParIterRunner {
  private readonly cache = new Map<number, Prepared>();
  private sequence = 0;
  private forks!: ForkJoin;
  private readonly lookup: (id: number) => TaskFunction;

  constructor(private readonly parts: RunnerParts) {
    this.lookup = (id) => parts.tasks[id];
  }

  /** Connects the fork-join operations, which are built after the runner's task exists. */
  attach(forks: ForkJoin): void {
    this.forks = forks;
  }

  /** PAR_ITER_TASK: a piece of a pipeline, stolen from another worker or sent by the main thread. */
  readonly task = (...args: unknown[]): unknown => {
    const [id, arena, offset, length, kind, lo, hi, splits, pusher] = args as PieceArguments;
    const ref: BlockRef = { arena, offset, length, kind };
    // Run by a worker other than the one that offered it: stolen, so some worker is idle.
    const migrated = pusher !== ROOT_PIECE && pusher !== this.parts.self;
    return this.piece(this.prepared(id, ref), id, ref, lo, hi, splits, migrated);
  };

  /** Runs a whole pipeline from task code on this worker, and returns its result. */
  run(pipeline: Pipeline): unknown {
    const { codec, self, threads } = this.parts;
    const ref = codec.storeBlock(pipeline, 'parIter');
    const id = pipelineId(++this.sequence, self);
    try {
      const prepared = this.remember(id, pipeline);
      const units = unitCount(pipeline);
      return this.piece(prepared, id, ref, 0, units, initialSplits(threads, units, pipeline), false);
    } finally {
      this.cache.delete(id);
      codec.releaseBlock(ref);
    }
  }

  private piece(prepared: Prepared, id: number, ref: BlockRef, lo: number, hi: number, splits: number, migrated: boolean): unknown {
    const { threads, self, pieceTask } = this.parts;
    const half = trySplit(hi - lo, splits, migrated, threads, prepared.pipeline);
    if (half < 0) {
      if (pieceChannel.hasSubscribers) pieceChannel.publish({ pipeline: id, lo, hi, worker: self } satisfies PieceEvent);
      return prepared.loop(lo, hi);
    }
    const mid = midpoint(lo, hi);
    const [left, right] = this.forks.forkJoin(
      () => this.piece(prepared, id, ref, lo, mid, half, false),
      pieceTask,
      pieceArguments(id, ref, mid, hi, half, self),
      () => this.piece(prepared, id, ref, mid, hi, half, false),
    );
    return combine(prepared.pipeline, left, right, this.lookup);
  }

  private prepared(id: number, ref: BlockRef): Prepared {
    return this.cache.get(id) ?? this.remember(id, this.parts.codec.loadBlock(ref) as Pipeline);
  }

  private remember(id: number, pipeline: Pipeline): Prepared {
    if (this.cache.size >= CACHED_PIPELINES) this.cache.delete(this.cache.keys().next().value!);
    const prepared = { pipeline, loop: compileLoop(pipeline, this.lookup) };
    this.cache.set(id, prepared);
    return prepared;
  }
}
