/**
 * The typed faces of a parallel iterator: `ParIter` inside a task (steps and folds are task
 * functions, terminals return values) and `PoolParIter` on the main thread (tasks named by export
 * name, terminals resolve promises), with the type helpers that check a step against the items.
 * One implementation, `ParIterChain` (par-iter.ts), serves both.
 */
import type { TaskArgs, TaskName, TaskResult } from '../pool/types.js';
import type { IterSource } from './spec.js';

/** A step of a parallel iterator inside a task: a task function taking an item, then extra arguments. */
// biome-ignore lint/suspicious/noExplicitAny: `unknown[]` parameters would reject every typed function.
export type StepFunction<T> = (item: T, ...extra: any[]) => unknown;

/** A step of `mapInit` and `forEachInit`: a task function taking its piece's state, an item, then extra arguments. */
// biome-ignore lint/suspicious/noExplicitAny: `unknown[]` parameters would reject every typed function.
export type InitStepFunction<S, T> = (state: S, item: T, ...extra: any[]) => unknown;

/** The parameters of an init step function after the state and the item. */
export type InitExtraParameters<F> = F extends (state: never, item: never, ...extra: infer Rest) => unknown ? Rest : never;

/** The parameters of a step function after the item. */
export type ExtraParameters<F> = F extends (item: never, ...extra: infer Rest) => unknown ? Rest : never;

/** Whether task `K` takes a list of unknown length (an untyped module): nothing to check. */
export type Unchecked<M, K extends TaskName<M>> = number extends TaskArgs<M, K>['length'] ? true : false;

// Parameters are read by index, not matched as `[First, ...Rest]`: the parameters of a JavaScript
// module's functions are optional, and `[x?: any]` does not match `[infer First, ...unknown[]]`.

/** Tasks of module `M` whose first parameter accepts an item of type `T`. */
type StepName<M, T> = {
  [K in TaskName<M>]: Unchecked<M, K> extends true ? K : [T] extends [TaskArgs<M, K>[0]] ? K : never;
}[TaskName<M>];

/** The arguments of task `K` after the item. */
export type ExtraArgs<M, K extends TaskName<M>> =
  Unchecked<M, K> extends true ? unknown[] : TaskArgs<M, K> extends [unknown?, ...infer Rest] ? Rest : never;

/** Tasks of module `M` that take two `T` and return an `R`. */
export type PairTaskName<M, T, R> = {
  [K in TaskName<M>]: Unchecked<M, K> extends true
    ? K
    : [T, T, TaskResult<M, K>] extends [TaskArgs<M, K>[0], TaskArgs<M, K>[1], R]
      ? K
      : never;
}[TaskName<M>];

/** Tasks of module `M` that fold two `T` into a `T`. */
type FoldName<M, T> = PairTaskName<M, T, T>;

/**
 * Tasks of module `M` that compare two `T`, `(a: T, b: T) => number` (negative, zero or positive):
 * what `minBy`, `maxBy` and `pool.parSortBy` take. An untyped module accepts any name.
 */
export type CompareTaskName<M, T> = PairTaskName<M, T, number>;

/** The items of an array or iterable a flatMap task returns. */
export type ElementOf<R> = R extends Iterable<infer E> ? E : never;

/** The type of the items of a source. */
export type ItemOf<S> = S extends { kind: 'range' } ? number : S extends ArrayLike<infer T> ? T : never;

/** What `chunks` yields for items of type `T`: views of a typed array, slices otherwise. */
export type ChunkOf<T> = T extends number ? ArrayLike<number> : T[];

/**
 * A parallel iterator inside a task (`parIter` from `viscose/worker`): terminals return values.
 * Steps and folds run on any worker, synchronously, once per item: tasks the module exports, or
 * plain self-contained functions, shipped as source (inline steps, docs/guide/iterators.md).
 */
export interface ParIter<T> {
  /** Each item becomes `task(item, ...extra)`. */
  map<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): ParIter<ReturnType<F>>;
  /** Keeps the items for which `task(item, ...extra)` is truthy. */
  filter<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): ParIter<T>;
  /** Each item becomes `task(item, ...extra)`, and is dropped where that is undefined (Rayon's `filter_map`). */
  filterMap<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): ParIter<Exclude<ReturnType<F>, undefined>>;
  /** Calls `task(item, ...extra)` with each item as it passes, unchanged (on whichever worker, in no set order). */
  inspect<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): ParIter<T>;
  /**
   * Each item becomes `task(state, item, ...extra)`, where `state` is what `init()` made for the
   * piece (a scratch buffer, a random generator): made for each piece, and again every 65,536
   * items of a long one, never used by two calls at once (Rayon's `map_init`).
   */
  mapInit<S, F extends InitStepFunction<S, T>>(init: () => S, task: F, ...extra: InitExtraParameters<F>): ParIter<ReturnType<F>>;
  /** Calls `task(state, item, ...extra)` for every item, `state` made by `init()` once per piece (Rayon's `for_each_init`). */
  forEachInit<S, F extends InitStepFunction<S, T>>(init: () => S, task: F, ...extra: InitExtraParameters<F>): void;
  /**
   * Folds the items of each piece into one with `task(accumulator, item)`, from a copy of
   * `identity` (Rayon's `fold`): the iterator goes on over those accumulators, one per piece (and
   * per 65,536 items of a long one), which a `reduce`, `sum` or `collect` then combines.
   */
  fold<A>(identity: A, task: (accumulator: A, item: T) => A): ParIter<A>;
  /** Each item becomes the items of the array or iterable `task(item, ...extra)` returns (Rayon's `flat_map_iter`). */
  flatMap<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): ParIter<ElementOf<ReturnType<F>>>;
  /** Each item becomes `[index, item]`, the index of its unit in the source (before any filter). */
  enumerate(): ParIter<[number, T]>;
  /** Iterates over chunks of `size` items of the source. Call it first, before any step. */
  chunks(size: number): ParIter<ChunkOf<T>>;
  /** The items of `other` (a range, an array or a typed array) after these. Not after chunks, a fold or a flatMap. */
  chain<S extends IterSource<T>>(other: S): ParIter<T | ItemOf<S>>;
  /** The items of another iterator, with its own steps and views, after these; the steps that follow apply to both. */
  chain<U>(other: ParIter<U>): ParIter<T | U>;
  /** All but the first `n` items. Not after a filter or filterMap (the items' indices must be known). */
  skip(n: number): ParIter<T>;
  /** The first `n` items (all if fewer). Not after a filter or filterMap. */
  take(n: number): ParIter<T>;
  /** Items 0, `step`, 2 × `step`, ... Not after a filter or filterMap. */
  stepBy(step: number): ParIter<T>;
  /** The items in reverse order. Not after a filter or filterMap. */
  rev(): ParIter<T>;
  /** Each item paired with the item of the same index of `partner` (a range, an array or a typed array), as many as the shorter has. Not after a filter or filterMap. */
  zip<S extends IterSource<unknown>>(partner: S): ParIter<[T, ItemOf<S>]>;
  /** Each item paired with the item of the same index of another iterator, whose steps and views run on its own items (no filter among them). */
  zip<U>(partner: ParIter<U>): ParIter<[T, U]>;
  /** Pieces are never split below `length` items (0: no minimum, as Rayon's `with_min_len(0)`). */
  minLen(length: number): ParIter<T>;
  /** Pieces are split until they are no longer than `length` items (0 acts as 1, as Rayon's `with_max_len(0)`). */
  maxLen(length: number): ParIter<T>;
  /** Calls `task(item, ...extra)` for every item. */
  forEach<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): void;
  /**
   * `forEach` that stops early once a task throws (Rayon's `try_for_each`): pieces not started are
   * skipped, running ones stop within 1,024 items, and the error (one of them, if several threw) is
   * thrown.
   */
  tryForEach<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): void;
  /** `reduce` that stops early once a task throws, as `tryForEach` does. */
  tryReduce(task: (left: T, right: T) => T, identity: T): T;
  /**
   * Folds with `task(accumulator, item)`, each piece from `identity`, and the pieces' results with
   * `task(left, right)` in order. `task` must be associative and `identity` neutral for it.
   */
  reduce(task: (left: T, right: T) => T, identity: T): T;
  /** Folds as `reduce` does, with no identity (Rayon's `reduce_with`); undefined over nothing. */
  reduceWith(task: (left: T, right: T) => T): T | undefined;
  /** The sum of numbers, added in a tree order (floating-point rounding may differ from a loop). */
  sum(): number;
  /** The product of numbers, multiplied in a tree order; 1 over nothing. */
  product(): number;
  /** The least item by `task(a, b)` (negative, zero or positive, as for `Array.prototype.sort`), the first of equals; undefined if none. */
  minBy(task: (a: T, b: T) => number): T | undefined;
  /** The greatest item by `task(a, b)`, the last of equals (as Rayon's `max_by`); undefined if none. */
  maxBy(task: (a: T, b: T) => number): T | undefined;
  /** The item of least key `task(item, ...extra)` (keys compared with `<`), the first of equals; undefined if none. */
  minByKey<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): T | undefined;
  /** The item of greatest key, the last of equals; undefined if none. */
  maxByKey<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): T | undefined;
  /**
   * Whether `task(item, ...extra)` is truthy for some item. Stops early: once a match is found,
   * pieces not started are skipped and running ones stop within 1,024 items.
   */
  any<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): boolean;
  /** Whether `task(item, ...extra)` is truthy for every item (true over nothing). Stops early, as `any`. */
  all<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): boolean;
  /** Some item for which `task(item, ...extra)` is truthy, not necessarily the first; undefined if none. Stops early. */
  findAny<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): T | undefined;
  /** The first item, in source order, for which `task(item, ...extra)` is truthy; undefined if none. Stops early. */
  findFirst<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): T | undefined;
  /** The last such item in source order; undefined if none. Stops early. */
  findLast<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): T | undefined;
  /** The index of some item for which `task(item, ...extra)` is truthy, or -1. No filter may come before it. Stops early. */
  positionAny<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): number;
  /** The index of the first such item, or -1. No filter may come before it. Stops early. */
  positionFirst<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): number;
  /** The smallest item by `<`, the first of equals; NaN if any item is NaN; undefined if none. */
  min(): T | undefined;
  /** The largest item by `>`, with the rules of `min`. */
  max(): T | undefined;
  count(): number;
  /** The items, in source order. */
  collect(): T[];
  /** [key, value] items into a Map, in source order: a later pair of the same key wins (Rayon's `collect::<HashMap>`). */
  collect(into: MapConstructor): T extends readonly [infer K, infer V] ? Map<K, V> : never;
  /** The items into a Set. */
  collect(into: SetConstructor): Set<T>;
  /** [the items for which `task(item, ...extra)` is truthy, the others], each in source order. */
  partition<F extends StepFunction<T>>(task: F, ...extra: ExtraParameters<F>): [T[], T[]];
  /** Pairs into [their first items, their second items], in source order. */
  unzip(): T extends readonly [infer A, infer B] ? [A[], B[]] : never;
  /**
   * Writes the item of source unit i to `target[i]`, where `target` is a typed array over a
   * SharedArrayBuffer (every worker writes its pieces' items in place; nothing is sent back).
   * No filter may come before it.
   */
  collectInto(target: ArrayLike<T> & ArrayBufferView): void;
}

/**
 * A parallel iterator started from the main thread (`pool.parIter`): steps and folds name tasks
 * of the module, or are plain self-contained functions (inline steps: shipped as source, checked
 * first, see docs/guide/iterators.md); terminals return promises.
 */
export interface PoolParIter<M, T> {
  /** Each item becomes `name(item, ...extra)`. */
  map<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, TaskResult<M, K>>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  map<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): PoolParIter<M, ReturnType<F>>;
  /** Keeps the items for which `name(item, ...extra)` is truthy. */
  filter<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, T>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  filter<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): PoolParIter<M, T>;
  /** Each item becomes `name(item, ...extra)`, dropped where that is undefined (Rayon's `filter_map`). */
  filterMap<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, Exclude<TaskResult<M, K>, undefined>>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  filterMap<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): PoolParIter<M, Exclude<ReturnType<F>, undefined>>;
  /** Calls `name(item, ...extra)` with each item as it passes, unchanged. */
  inspect<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, T>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  inspect<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): PoolParIter<M, T>;
  /** Each item becomes `name(state, item, ...extra)`, `state` made by task `init` once per piece (Rayon's `map_init`). */
  mapInit<I extends TaskName<M>, K extends TaskName<M>>(init: I, name: K, ...extra: unknown[]): PoolParIter<M, TaskResult<M, K>>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  mapInit<S, F extends InitStepFunction<S, T>>(init: () => S, step: F, ...extra: InitExtraParameters<F>): PoolParIter<M, ReturnType<F>>;
  /** Calls `name(state, item, ...extra)` for every item, `state` made by task `init` once per piece. */
  forEachInit<I extends TaskName<M>, K extends TaskName<M>>(init: I, name: K, ...extra: unknown[]): Promise<void>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  forEachInit<S, F extends InitStepFunction<S, T>>(init: () => S, step: F, ...extra: InitExtraParameters<F>): Promise<void>;
  /** Folds each piece's items into one with task `name`, from a copy of `identity`, as {@link ParIter.fold} does. */
  fold<K extends TaskName<M>>(identity: TaskResult<M, K>, name: K): PoolParIter<M, TaskResult<M, K>>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  fold<A>(identity: A, step: (accumulator: A, item: T) => A): PoolParIter<M, A>;
  /** Each item becomes the items of the array or iterable `name(item, ...extra)` returns. */
  flatMap<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, ElementOf<TaskResult<M, K>>>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  flatMap<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): PoolParIter<M, ElementOf<ReturnType<F>>>;
  /** Each item becomes `[index, item]`, the index of its unit in the source (before any filter). */
  enumerate(): PoolParIter<M, [number, T]>;
  /** Iterates over chunks of `size` items of the source. Call it first, before any step. */
  chunks(size: number): PoolParIter<M, ChunkOf<T>>;
  /** The items of `other` after these. Not after chunks, a fold or a flatMap. */
  chain<S extends IterSource<T>>(other: S): PoolParIter<M, T | ItemOf<S>>;
  /** The items of another iterator of this pool, with its own steps and views, after these. */
  chain<U>(other: PoolParIter<M, U>): PoolParIter<M, T | U>;
  /** All but the first `n` items. Not after a filter or filterMap. */
  skip(n: number): PoolParIter<M, T>;
  /** The first `n` items (all if fewer). Not after a filter or filterMap. */
  take(n: number): PoolParIter<M, T>;
  /** Items 0, `step`, 2 × `step`, ... Not after a filter or filterMap. */
  stepBy(step: number): PoolParIter<M, T>;
  /** The items in reverse order. Not after a filter or filterMap. */
  rev(): PoolParIter<M, T>;
  /** Each item paired with the item of the same index of `partner`, as many as the shorter has. Not after a filter or filterMap. */
  zip<S extends IterSource<unknown>>(partner: S): PoolParIter<M, [T, ItemOf<S>]>;
  /** Each item paired with the item of the same index of another iterator of this pool (no filter among its steps). */
  zip<U>(partner: PoolParIter<M, U>): PoolParIter<M, [T, U]>;
  /** Pieces are never split below `length` items (0: no minimum, as Rayon's `with_min_len(0)`). */
  minLen(length: number): PoolParIter<M, T>;
  /** Pieces are split until they are no longer than `length` items (0 acts as 1, as Rayon's `with_max_len(0)`). */
  maxLen(length: number): PoolParIter<M, T>;
  /** Calls `name(item, ...extra)` for every item. */
  forEach<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<void>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  forEach<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): Promise<void>;
  /** `forEach` that stops early once a task throws, and rejects with that error (as {@link ParIter.tryForEach}). */
  tryForEach<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<void>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  tryForEach<F extends StepFunction<T>>(step: F, ...extra: ExtraParameters<F>): Promise<void>;
  /** `reduce` that stops early once a task throws, and rejects with that error. */
  tryReduce<K extends FoldName<M, T>>(name: K, identity: T): Promise<T>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  tryReduce(step: (left: T, right: T) => T, identity: T): Promise<T>;
  /** Folds as {@link ParIter.reduce} does, with task `name`. */
  reduce<K extends FoldName<M, T>>(name: K, identity: T): Promise<T>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  reduce(step: (left: T, right: T) => T, identity: T): Promise<T>;
  /** Folds as {@link ParIter.reduceWith} does, with task `name`; undefined over nothing. */
  reduceWith<K extends FoldName<M, T>>(name: K): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  reduceWith(step: (left: T, right: T) => T): Promise<T | undefined>;
  /** The sum of numbers, added in a tree order (floating-point rounding may differ from a loop). */
  sum(): Promise<number>;
  /** The product of numbers, multiplied in a tree order; 1 over nothing. */
  product(): Promise<number>;
  /** The least item by the compare task `name(a, b)`, the first of equals; undefined if none. */
  minBy<K extends CompareTaskName<M, T>>(name: K): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  minBy(compare: (a: T, b: T) => number): Promise<T | undefined>;
  /** The greatest item by the compare task `name(a, b)`, the last of equals; undefined if none. */
  maxBy<K extends CompareTaskName<M, T>>(name: K): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  maxBy(compare: (a: T, b: T) => number): Promise<T | undefined>;
  /** The item of least key `name(item, ...extra)`, the first of equals; undefined if none. */
  minByKey<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  minByKey<F extends StepFunction<T>>(key: F, ...extra: ExtraParameters<F>): Promise<T | undefined>;
  /** The item of greatest key `name(item, ...extra)`, the last of equals; undefined if none. */
  maxByKey<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  maxByKey<F extends StepFunction<T>>(key: F, ...extra: ExtraParameters<F>): Promise<T | undefined>;
  /** Whether `name(item, ...extra)` is truthy for some item; stops early, as {@link ParIter.any}. */
  any<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<boolean>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  any<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<boolean>;
  /** Whether `name(item, ...extra)` is truthy for every item; stops early. */
  all<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<boolean>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  all<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<boolean>;
  /** Some item for which `name(item, ...extra)` is truthy, or undefined; stops early. */
  findAny<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  findAny<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<T | undefined>;
  /** The first such item in source order, or undefined; stops early. */
  findFirst<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  findFirst<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<T | undefined>;
  /** The last such item in source order, or undefined; stops early. */
  findLast<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<T | undefined>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  findLast<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<T | undefined>;
  /** The index of some such item, or -1; no filter may come before it; stops early. */
  positionAny<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<number>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  positionAny<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<number>;
  /** The index of the first such item, or -1; no filter may come before it; stops early. */
  positionFirst<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<number>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  positionFirst<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<number>;
  /** The smallest item by `<`, the first of equals; NaN if any item is NaN; undefined if none. */
  min(): Promise<T | undefined>;
  /** The largest item by `>`, with the rules of `min`. */
  max(): Promise<T | undefined>;
  count(): Promise<number>;
  /** The items, in source order. */
  collect(): Promise<T[]>;
  /** [key, value] items into a Map, in source order: a later pair of the same key wins. */
  collect(into: MapConstructor): Promise<T extends readonly [infer K, infer V] ? Map<K, V> : never>;
  /** The items into a Set. */
  collect(into: SetConstructor): Promise<Set<T>>;
  /** [the items for which `name(item, ...extra)` is truthy, the others], each in source order. */
  partition<K extends StepName<M, T>>(name: K, ...extra: ExtraArgs<M, K>): Promise<[T[], T[]]>;
  /** The same with a plain, self-contained function, shipped as its source and fused into the loop (inline steps). */
  partition<F extends StepFunction<T>>(test: F, ...extra: ExtraParameters<F>): Promise<[T[], T[]]>;
  /** Pairs into [their first items, their second items], in source order. */
  unzip(): Promise<T extends readonly [infer A, infer B] ? [A[], B[]] : never>;
  /** Writes the item of source unit i to `target[i]`, as {@link ParIter.collectInto} does. */
  collectInto(target: ArrayLike<T> & ArrayBufferView): Promise<void>;
}
