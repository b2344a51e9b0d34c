/**
 * What a parallel iterator computes, as data: a source, steps (map, filter, ...) and a terminal
 * operation. The description is encoded once into shared memory; every piece of the iteration —
 * a range of the source's items, on whichever worker — reads it from there, runs the steps over
 * its range sequentially, and combines its result with its sibling's in source order.
 *
 * Step and terminal functions are tasks of the task module, named by their task id, since the
 * pieces run on any worker, or plain self-contained functions, carried as their source
 * (inline-step.ts).
 */
import type { SplitLimits } from './splitter.js';

export const Step = {
  MAP: 0,
  FILTER: 1,
  /** Replaces each item with [source index, item]. */
  ENUMERATE: 2,
  /** Maps each item, and drops it where the task returned undefined (Rayon's `filter_map`). */
  FILTER_MAP: 3,
  /** Calls the task with each item, which passes on unchanged. */
  INSPECT: 4,
  /** Replaces each item with [item, the partner source's item of the same index]. */
  ZIP: 5,
  /** Replaces each item with the items of the array or iterable the task returns for it. */
  FLAT_MAP: 6,
  /** Replaces each item with the task's result for (its piece's state, item); extras start with the init task. */
  MAP_INIT: 7,
  /** Folds the items of each loop into one, from a copy of the identity (extras: [identity]). */
  FOLD: 8,
} as const;

/** Steps that remove, add or merge items: after them a unit's index is no longer an item's. */
export const UNINDEXING_STEPS: ReadonlySet<number> = new Set([Step.FILTER, Step.FILTER_MAP, Step.FLAT_MAP, Step.FOLD]);

export const Terminal = {
  COLLECT: 0,
  REDUCE: 1,
  SUM: 2,
  MIN: 3,
  MAX: 4,
  COUNT: 5,
  FOR_EACH: 6,
  /** Writes the item of source unit i to `target[i]` of a shared typed array. */
  COLLECT_INTO: 7,
  PRODUCT: 8,
  // The terminals that stop early (short-circuit.ts); each takes a predicate task and extras.
  ANY: 9,
  ALL: 10,
  FIND_ANY: 11,
  FIND_FIRST: 12,
  FIND_LAST: 13,
  POSITION_ANY: 14,
  POSITION_FIRST: 15,
  // An item or nothing, each piece's result [item] or []; conclude() unwraps it.
  /** The first least item by a compare task; its task takes (a, b) and returns a number. */
  MIN_BY: 16,
  /** The last greatest item by a compare task. */
  MAX_BY: 17,
  /** The first item of least key (`<` on the keys); its task takes the item and extras. */
  MIN_BY_KEY: 18,
  /** The last item of greatest key. */
  MAX_BY_KEY: 19,
  /** A fold with no identity (Rayon's `reduce_with`). */
  REDUCE_WITH: 20,
  /** [items for which the task is truthy, the others], each in source order. */
  PARTITION: 21,
  /** Pairs into [first items, second items]. */
  UNZIP: 22,
  /** [key, value] pairs into a Map; a later pair of the same key wins. */
  COLLECT_MAP: 23,
  COLLECT_SET: 24,
  // Stop early once a task throws (short-circuit.ts): the error is the terminal's.
  TRY_FOR_EACH: 25,
  TRY_REDUCE: 26,
} as const;

/** Terminals whose task is a predicate or callback taking the item and extra arguments. */
/** Terminals that test each item with a predicate task, and stop once the answer is known. */
export const PREDICATE_TERMINALS: readonly number[] = [
  Terminal.ANY,
  Terminal.ALL,
  Terminal.FIND_ANY,
  Terminal.FIND_FIRST,
  Terminal.FIND_LAST,
  Terminal.POSITION_ANY,
  Terminal.POSITION_FIRST,
];

export const CALLBACK_TERMINALS: ReadonlySet<number> = new Set([
  Terminal.FOR_EACH,
  Terminal.TRY_FOR_EACH,
  Terminal.PARTITION,
  Terminal.MIN_BY_KEY,
  Terminal.MAX_BY_KEY,
  ...PREDICATE_TERMINALS,
]);

/** The items a pipeline iterates over. */
export type Source =
  | { kind: 'range'; start: number; end: number }
  /** An array or typed array; a typed array over shared memory travels by reference. */
  | { kind: 'items'; items: ArrayLike<unknown> }
  /** The units of each segment after those of the one before (`chain`). */
  | { kind: 'chain'; segments: Segment[] };

/** [step, task, extra arguments]: one step of a pipeline or segment. */
export type StepSpec = [step: number, task: TaskRef, extra: unknown[]];

/**
 * Another iterator as `chain` and `zip` take it: its source, steps and view, without chunks,
 * terminal or limits. Its steps number its items from 0 (an enumerate or a zip in it) and run on
 * its items only.
 */
export interface Segment {
  source: Source;
  steps: StepSpec[];
  view?: [count: number, a: number, b: number];
}

export interface Pipeline extends SplitLimits {
  source: Source;
  /** Items per chunk when iterating over chunks of the source (never a chain), else 0. */
  chunk: number;
  /**
   * [step, task, extra arguments]. An ENUMERATE's are [a, b] when views follow it, a ZIP's
   * [partner segment, a, b]: the map from the loop's index to the index they number (view.ts).
   */
  steps: StepSpec[];
  /** After skip, take, stepBy or rev: [count, a, b], the loop's index i reading unit a * i + b (view.ts). */
  view?: [count: number, a: number, b: number];
  terminal: number;
  /** REDUCE and the callback terminals: the task; -1 otherwise. */
  terminalTask: TaskRef;
  /** REDUCE: its identity; a callback terminal: its extra arguments; COLLECT_INTO: the target array. */
  terminalArgument: unknown;
}

/** Number of units the pipeline splits over: items, or chunks of them, as its view leaves them. */
export function unitCount(pipeline: Pick<Pipeline, 'source' | 'chunk' | 'view'>): number {
  if (pipeline.view !== undefined) return pipeline.view[0];
  return sourceUnits(pipeline);
}

/** Units of the source itself: items, or chunks of them. */
export function sourceUnits(pipeline: Pick<Pipeline, 'source' | 'chunk'>): number {
  const items = itemCount(pipeline.source);
  return pipeline.chunk > 0 ? Math.ceil(items / pipeline.chunk) : items;
}

/** Units of a source: a chain's are its segments' (each as its view leaves it). */
export function itemCount(source: Source): number {
  if (source.kind === 'range') return Math.max(0, source.end - source.start);
  if (source.kind === 'chain') return source.segments.reduce((total, segment) => total + segmentUnits(segment), 0);
  return source.items.length;
}

export function segmentUnits(segment: Segment): number {
  return segment.view?.[0] ?? itemCount(segment.source);
}

/**
 * A task as a pipeline names it: an exported task's id (-1 for none), or the source of a plain
 * function, which each worker compiles (inline-step.ts).
 */
export type TaskRef = number | string;

/** Whether a pipeline's task is a plain function carried as its source. */
export function isInline(task: TaskRef): task is string {
  return typeof task === 'string';
}

export type TaskLookup = (task: TaskRef) => (...args: unknown[]) => unknown;

/** Throws for a promise returned by a step: steps run inside a synchronous loop. */
export function notSynchronous(value: PromiseLike<unknown>): never {
  value.then(undefined, () => {});
  throw new TypeError('a parallel iterator step returned a promise; steps must be synchronous');
}

/**
 * The smaller of two items by `<`, for `min`: undefined stands for "no item", NaN wins (as in
 * Math.min) and a tie keeps the left one. All three rules are associative, so any split of the
 * items gives the sequential answer.
 */
export function lesser(left: unknown, right: unknown): unknown {
  if (left === undefined || Number.isNaN(right)) return right;
  if (right === undefined || Number.isNaN(left)) return left;
  return (right as number) < (left as number) ? right : left;
}

/** The larger of two items by `>`, for `max`, with the rules of `lesser`. */
export function greater(left: unknown, right: unknown): unknown {
  if (left === undefined || Number.isNaN(right)) return right;
  if (right === undefined || Number.isNaN(left)) return left;
  return (right as number) > (left as number) ? right : left;
}

/** Terminals whose pieces give [item] or [] (a find, a least or greatest, a fold without identity). */
const OPTIONAL_RESULTS: ReadonlySet<number> = new Set([
  Terminal.FIND_ANY,
  Terminal.FIND_FIRST,
  Terminal.FIND_LAST,
  Terminal.MIN_BY,
  Terminal.MAX_BY,
  Terminal.REDUCE_WITH,
]);

/** The caller's answer from the root piece's result: the item of an optional one, or undefined. */
export function conclude(terminal: number, result: unknown): unknown {
  if (OPTIONAL_RESULTS.has(terminal)) return (result as unknown[]).length > 0 ? (result as unknown[])[0] : undefined;
  // [[item, key]] or []
  if (terminal === Terminal.MIN_BY_KEY || terminal === Terminal.MAX_BY_KEY) {
    return (result as [unknown, unknown][]).length > 0 ? (result as [unknown, unknown][])[0][0] : undefined;
  }
  return result;
}

/** Combines the partial results of two adjacent ranges, left one first. */
export function combine(pipeline: Pipeline, left: unknown, right: unknown, task: TaskLookup): unknown {
  switch (pipeline.terminal) {
    case Terminal.COLLECT:
      return (left as unknown[]).concat(right as unknown[]);
    case Terminal.REDUCE:
    case Terminal.TRY_REDUCE: {
      const result = task(pipeline.terminalTask)(left, right);
      return isPromise(result) ? notSynchronous(result) : result;
    }
    case Terminal.SUM:
    case Terminal.COUNT:
      return (left as number) + (right as number);
    case Terminal.PRODUCT:
      return (left as number) * (right as number);
    case Terminal.PARTITION:
    case Terminal.UNZIP: {
      const [l, r] = [left as [unknown[], unknown[]], right as [unknown[], unknown[]]];
      return [l[0].concat(r[0]), l[1].concat(r[1])];
    }
    case Terminal.COLLECT_MAP:
      for (const [key, value] of right as Map<unknown, unknown>) (left as Map<unknown, unknown>).set(key, value);
      return left;
    case Terminal.COLLECT_SET:
      for (const value of right as Set<unknown>) (left as Set<unknown>).add(value);
      return left;
    case Terminal.ANY:
      return (left as boolean) || (right as boolean);
    case Terminal.ALL:
      return (left as boolean) && (right as boolean);
    // A find's piece result is [item] or [] (short-circuit.ts); a position's, an index or -1.
    case Terminal.FIND_ANY:
    case Terminal.FIND_FIRST:
      return (left as unknown[]).length > 0 ? left : right;
    case Terminal.FIND_LAST:
      return (right as unknown[]).length > 0 ? right : left;
    case Terminal.POSITION_ANY:
    case Terminal.POSITION_FIRST:
      return (left as number) >= 0 ? left : right;
    case Terminal.MIN_BY:
    case Terminal.MAX_BY:
    case Terminal.REDUCE_WITH:
      return byTask(pipeline.terminal, left as [unknown] | [], right as [unknown] | [], task(pipeline.terminalTask));
    case Terminal.MIN_BY_KEY:
      // [item, key] pairs: a tie keeps the left one.
      return optional(left, right, (l, r) => ((r as [unknown, number])[1] < (l as [unknown, number])[1] ? r : l));
    case Terminal.MAX_BY_KEY:
      // A tie takes the right one: the last of the greatest, as Rayon's max_by_key.
      return optional(left, right, (l, r) => ((r as [unknown, number])[1] >= (l as [unknown, number])[1] ? r : l));
    case Terminal.MIN:
      return lesser(left, right);
    case Terminal.MAX:
      return greater(left, right);
    default:
      return undefined;
  }
}

/** Combines two optional results, each [value] or []; `both` picks or folds when both have one. */
function optional(left: unknown, right: unknown, both: (left: unknown, right: unknown) => unknown): unknown {
  const [l, r] = [left as unknown[], right as unknown[]];
  if (l.length === 0) return right;
  if (r.length === 0) return left;
  return [both(l[0], r[0])];
}

/**
 * `minBy` keeps the left of two that compare equal, `maxBy` the right (Rayon's rules); `reduceWith`
 * folds with its task.
 */
function byTask(terminal: number, left: [unknown] | [], right: [unknown] | [], fn: (...args: unknown[]) => unknown): unknown {
  return optional(left, right, (l, r) => {
    const result = fn(l, r);
    if (isPromise(result)) return notSynchronous(result);
    if (terminal === Terminal.REDUCE_WITH) return result;
    const order = result as number;
    return terminal === Terminal.MIN_BY ? (order > 0 ? r : l) : order > 0 ? l : r;
  });
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
