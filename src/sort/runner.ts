/**
 * Runs parallel sorts on a worker (docs/internals/sort.md). A sort is cut in halves with `join`
 * (forkJoin) down to one leaf per thread; each leaf is sorted natively, and the sorted halves are
 * merged, in parallel too, from one buffer into the other: the data and a scratch buffer of the
 * same kind and length, both in shared memory. The half offered to idle workers is a call of the
 * built-in task SORT_TASK, whose arguments carry both buffers and the job's range.
 */
import { Destination } from '../codec/passed-buffers.js';
import type { BlockRef, PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { pipelineId } from '../iter/runner.js';
import { forkJoin } from '../worker/join.js';
import type { TaskFunction } from '../worker/task-table.js';
import type { WorkerThread } from '../worker/worker-thread.js';
import { INDEX_KIND, applyOrder, comparableItems, numberIndices } from './arrays.js';
import { type MergeRuns, cut, mergeFor } from './merge.js';
import { type Items, type Order, compareOrder, indexOrder, nanStart, valueOrder } from './order.js';
import { ScratchBuffers } from './scratch.js';
import { type AnyNumericArray, anyKind, checkNumericArray, isNumericArray, isShared } from './sortable.js';

/** Name of the built-in task that runs a piece of a sort; its id follows PAR_ITER_TASK's. */
export const SORT_TASK = 'viscose:parSort';

/** SORT_TASK's id is the module's task count plus this (PAR_ITER_TASK comes first). */
export const SORT_TASK_OFFSET = 1;

/** Below this many items a sort runs on one thread: cutting it would cost more than it saves. */
export const SEQUENTIAL_BELOW = 1 << 15;

/** A leaf is never cut below this many items. */
const MIN_LEAF = 1 << 14;

/** A merge of fewer items than this runs in one piece. */
const MIN_MERGE = 1 << 15;

/** How many prepared plain-array sorts (their decoded items) a worker keeps. */
const CACHED_ITEMS = 4;

/** What a SORT_TASK call does. */
export const SortOp = {
  /** A whole sort, sent by the main thread. */
  ROOT: 0,
  /** Sort `[a0, a1)` so that it ends sorted in buffer `buffer`, cut `budget` more times. */
  SORT: 1,
  /** Merge runs `[a0, a1)` and `[b0, b1)` of buffer `buffer` into the other from `at`. */
  MERGE: 2,
} as const;

/** The two buffers of a sort, by number. */
const DATA = 0;
const SCRATCH = 1;

/**
 * What every call of a sort carries: the data and scratch buffers, the compare task's id (-1: by
 * value), and for a plain array the key of its items and the block they are stored in.
 */
export type SortHeader = [
  data: AnyNumericArray,
  scratch: AnyNumericArray,
  compare: number,
  key: number,
  arena: number,
  offset: number,
  length: number,
  kind: number,
];

/** A SORT_TASK call's arguments: the op, the header, then the op's numbers. */
type SortArguments = [
  op: number,
  ...header: SortHeader,
  buffer: number,
  budget: number,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
  at: number,
];

/** The header of a sort whose items are not stored anywhere (a typed array). */
export function sortHeader(data: AnyNumericArray, scratch: AnyNumericArray, compare: number, key = -1, ref?: BlockRef): SortHeader {
  return [data, scratch, compare, key, ref?.arena ?? 0, ref?.offset ?? 0, ref?.length ?? 0, ref?.kind ?? 0];
}

/** A sort as one worker runs it. */
interface Job {
  header: SortHeader;
  buffers: [AnyNumericArray, AnyNumericArray];
  order: Order;
  /** The merge for the buffers' kind and the order (merge.ts). */
  merge: MergeRuns;
}

export interface SortRunnerParts {
  codec: PayloadCodec;
  /** The task module's exported functions by task id: the compare tasks. */
  exported: readonly TaskFunction[];
  /** Task id of SORT_TASK. */
  sortTask: number;
  threads: number;
}

/** How many times to halve `n` items: one leaf per thread (a power of two), none below MIN_LEAF. */
function levelsFor(n: number, threads: number): number {
  let levels = 0;
  while (1 << levels < threads && n >> (levels + 1) >= MIN_LEAF) levels++;
  return levels;
}

export class SortRunner {
  /** Items of plain-array sorts by key, decoded once per worker. */
  private readonly items = new Map<number, Items>();
  private sequence = 0;
  /** Buffers kept for the next sort started on this worker. */
  private readonly scratch = new ScratchBuffers();
  /** How many times a merge may be cut: about two pieces per thread. */
  private readonly mergeBudget: number;

  constructor(
    private readonly worker: WorkerThread,
    private readonly parts: SortRunnerParts,
  ) {
    this.mergeBudget = Math.ceil(Math.log2(parts.threads)) + 1;
  }

  /** SORT_TASK: a whole sort sent by the main thread, or a piece stolen from another worker. */
  readonly task = (...args: unknown[]): void => {
    const [op, data, scratch, compare, key, arena, offset, length, kind, buffer, budget, a0, a1, b0, b1, at] = args as SortArguments;
    const header: SortHeader = [data, scratch, compare, key, arena, offset, length, kind];
    const job = this.job(header, key < 0 ? undefined : { arena, offset, length, kind });
    if (op === SortOp.ROOT) {
      try {
        this.sortRange(job, 0, data.length, DATA, levelsFor(data.length, this.parts.threads));
      } finally {
        this.items.delete(key);
      }
    } else if (op === SortOp.SORT) this.sortRange(job, a0, a1, buffer, budget);
    else this.merge(job, buffer, a0, a1, b0, b1, at, budget);
  };

  /**
   * `parSort`, `parSortUnstable` and `parSortBy` from task code on this worker: sorts `target` in
   * place and returns it. `compare` (an exported task) orders the items; without it, a typed array
   * sorts by value.
   */
  sortHere<T>(target: T, compare: unknown, where: string): T {
    if (compare === undefined) {
      checkNumericArray(target, where);
      this.sortView(anyKind(target), -1);
      return target;
    }
    const id = this.worker.tasks.idOf(compare, `${where} (compare)`);
    if (isNumericArray(target)) {
      checkNumericArray(target, where);
      this.sortView(anyKind(target), id);
    } else if (Array.isArray(target)) {
      this.sortArray(target, id);
    } else {
      throw new TypeError(`${where} sorts a typed array or an array; got ${target === null ? 'null' : typeof target}`);
    }
    return target;
  }

  /** A typed array, sorted in shared memory: its own, or a copy written back. */
  private sortView(view: AnyNumericArray, compare: number): void {
    const comparator = compare < 0 ? undefined : this.parts.exported[compare];
    if (view.length < SEQUENTIAL_BELOW || this.parts.threads === 1) {
      view.sort(comparator as never);
      return;
    }
    const data = isShared(view) ? view : this.scratch.copyOf(view);
    const scratch = this.scratch.take(view);
    this.sortFromHere(sortHeader(data, scratch, compare), undefined);
    if (data !== view) view.set(data);
    this.scratch.give(data === view ? [scratch] : [scratch, data]);
  }

  /** A plain array: its indices are sorted in parallel, then the order applied to it. */
  private sortArray(array: unknown[], compare: number): void {
    const comparator = this.parts.exported[compare];
    if (array.length < SEQUENTIAL_BELOW || this.parts.threads === 1) {
      array.sort(comparator as (a: unknown, b: unknown) => number);
      return;
    }
    const { items, undefineds } = comparableItems(array);
    const { codec } = this.parts;
    const passed = sharedBuffers.passed;
    // Any worker may decode the items while the sort runs: the buffers they name are lent until then.
    const ref = passed.encodingFor(Destination.EVERY_WORKER, () => codec.storeBlock(items, 'parSortBy'));
    const lent = passed.send(Destination.EVERY_WORKER);
    if (lent !== undefined) passed.hold(lent);
    const indices = this.scratch.take(INDEX_KIND, items.length);
    numberIndices(indices);
    const scratch = this.scratch.take(indices);
    const key = pipelineId(++this.sequence, this.worker.index);
    this.items.set(key, items);
    try {
      this.sortFromHere(sortHeader(indices, scratch, compare, key, ref), ref);
    } finally {
      this.items.delete(key);
      codec.releaseBlock(ref);
      if (lent !== undefined) passed.unhold(lent);
    }
    applyOrder(array, items, indices, undefineds);
    this.scratch.give([scratch, indices]);
  }

  private sortFromHere(header: SortHeader, ref: BlockRef | undefined): void {
    const data = header[0];
    this.sortRange(this.job(header, ref), 0, data.length, DATA, levelsFor(data.length, this.parts.threads));
  }

  private job(header: SortHeader, ref: BlockRef | undefined): Job {
    const [data, scratch, compare, key] = header;
    const comparator = compare < 0 ? undefined : (this.parts.exported[compare] as (a: unknown, b: unknown) => unknown);
    let order: Order;
    if (comparator === undefined) order = valueOrder(data);
    else if (ref === undefined) order = compareOrder(comparator);
    else order = indexOrder(comparator, this.itemsOf(key, ref));
    return { header, buffers: [data, scratch], order, merge: mergeFor(Object.prototype.toString.call(data), order.test) };
  }

  /** The items of plain-array sort `key`, decoded from its block the first time this worker needs them. */
  private itemsOf(key: number, ref: BlockRef): Items {
    let items = this.items.get(key);
    if (items === undefined) {
      items = this.parts.codec.loadBlock(ref) as Items;
      if (this.items.size >= CACHED_ITEMS) this.items.delete(this.items.keys().next().value as number);
      this.items.set(key, items);
    }
    return items;
  }

  /**
   * Sorts `[lo, hi)` so that it ends in buffer `into`: a leaf sorts natively there; otherwise both
   * halves are sorted into the other buffer, side by side, and merged back into `into`.
   */
  private sortRange(job: Job, lo: number, hi: number, into: number, levels: number): void {
    if (levels === 0) {
      const [data, target] = [job.buffers[DATA], job.buffers[into]];
      if (into === SCRATCH) target.set(data.subarray(lo, hi), lo);
      target.subarray(lo, hi).sort(job.order.leafCompare);
      return;
    }
    const mid = lo + Math.floor((hi - lo) / 2);
    const other = 1 - into;
    forkJoin(
      this.worker,
      () => this.sortRange(job, lo, mid, other, levels - 1),
      this.parts.sortTask,
      this.callArguments(job, SortOp.SORT, other, levels - 1, mid, hi),
      () => this.sortRange(job, mid, hi, other, levels - 1),
    );
    this.mergeHalves(job, other, lo, mid, hi);
  }

  /**
   * Merges the sorted halves `[lo, mid)` and `[mid, hi)` of buffer `from` into the other buffer.
   * In a value order NaNs end each half; they are left out of the merge and copied after it.
   */
  private mergeHalves(job: Job, from: number, lo: number, mid: number, hi: number): void {
    const [src, dst] = [job.buffers[from], job.buffers[1 - from]];
    const [leftEnd, rightEnd] = job.order.nanLast ? [nanStart(src, lo, mid), nanStart(src, mid, hi)] : [mid, hi];
    this.merge(job, from, lo, leftEnd, mid, rightEnd, lo, this.mergeBudget);
    if (leftEnd < mid) dst.set(src.subarray(leftEnd, mid), lo + (leftEnd - lo) + (rightEnd - mid));
    if (rightEnd < hi) dst.set(src.subarray(rightEnd, hi), rightEnd);
  }

  /** Merges `[a0, a1)` and `[b0, b1)` of buffer `from` into the other buffer from `at`, cut `budget` more times. */
  private merge(job: Job, from: number, a0: number, a1: number, b0: number, b1: number, at: number, budget: number): void {
    const [src, dst] = [job.buffers[from], job.buffers[1 - from]];
    const { before } = job.order;
    if (budget === 0 || a1 - a0 + (b1 - b0) < MIN_MERGE) {
      job.merge(src, a0, a1, b0, b1, dst, at, before);
      return;
    }
    const [i, j] = cut(src, a0, a1, b0, b1, before);
    const rightAt = at + (i - a0) + (j - b0);
    forkJoin(
      this.worker,
      () => this.merge(job, from, a0, i, b0, j, at, budget - 1),
      this.parts.sortTask,
      this.callArguments(job, SortOp.MERGE, from, budget - 1, i, a1, j, b1, rightAt),
      () => this.merge(job, from, i, a1, j, b1, rightAt, budget - 1),
    );
  }

  private callArguments(
    job: Job,
    op: number,
    buffer: number,
    budget: number,
    a0: number,
    a1: number,
    b0 = 0,
    b1 = 0,
    at = 0,
  ): SortArguments {
    return [op, ...job.header, buffer, budget, a0, a1, b0, b1, at];
  }
}
