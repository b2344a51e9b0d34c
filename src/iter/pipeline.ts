/**
 * What a parallel iterator computes, as data: a source, steps (map, filter) and a terminal
 * operation. The description is encoded once into shared memory; every piece of the iteration —
 * a range of the source's items, on whichever worker — reads it from there, runs the steps over
 * its range sequentially, and combines its result with its sibling's in source order.
 *
 * Step and terminal functions are tasks of the task module, named by their task id, since the
 * pieces run on any worker.
 */
import type { SplitLimits } from './splitter.js';

export const Step = {
  MAP: 0,
  FILTER: 1,
  /** Replaces each item with [source index, item]. */
  ENUMERATE: 2,
} as const;

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
} as const;

/** Terminals whose task is a predicate or callback taking the item and extra arguments. */
export const CALLBACK_TERMINALS: ReadonlySet<number> = new Set([
  Terminal.FOR_EACH,
  Terminal.ANY,
  Terminal.ALL,
  Terminal.FIND_ANY,
  Terminal.FIND_FIRST,
  Terminal.FIND_LAST,
  Terminal.POSITION_ANY,
  Terminal.POSITION_FIRST,
]);

/** The items a pipeline iterates over. */
export type Source =
  | { kind: 'range'; start: number; end: number }
  /** An array or typed array; a typed array over shared memory travels by reference. */
  | { kind: 'items'; items: ArrayLike<unknown> };

export interface Pipeline extends SplitLimits {
  source: Source;
  /** Items per chunk when iterating over chunks of the source, else 0. */
  chunk: number;
  /** [step, task id, extra arguments] */
  steps: [number, number, unknown[]][];
  terminal: number;
  /** REDUCE and the callback terminals: the task; -1 otherwise. */
  terminalTask: number;
  /** REDUCE: its identity; a callback terminal: its extra arguments; COLLECT_INTO: the target array. */
  terminalArgument: unknown;
}

/** Number of units the pipeline splits over: items, or chunks of them. */
export function unitCount(pipeline: Pick<Pipeline, 'source' | 'chunk'>): number {
  const { source, chunk } = pipeline;
  const items = source.kind === 'range' ? Math.max(0, source.end - source.start) : source.items.length;
  return chunk > 0 ? Math.ceil(items / chunk) : items;
}

export type TaskLookup = (id: number) => (...args: unknown[]) => unknown;

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

/** Combines the partial results of two adjacent ranges, left one first. */
export function combine(pipeline: Pipeline, left: unknown, right: unknown, task: TaskLookup): unknown {
  switch (pipeline.terminal) {
    case Terminal.COLLECT:
      return (left as unknown[]).concat(right as unknown[]);
    case Terminal.REDUCE: {
      const result = task(pipeline.terminalTask)(left, right);
      return isPromise(result) ? notSynchronous(result) : result;
    }
    case Terminal.SUM:
    case Terminal.COUNT:
      return (left as number) + (right as number);
    case Terminal.PRODUCT:
      return (left as number) * (right as number);
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
    case Terminal.MIN:
      return lesser(left, right);
    case Terminal.MAX:
      return greater(left, right);
    default:
      return undefined;
  }
}

function isPromise(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
