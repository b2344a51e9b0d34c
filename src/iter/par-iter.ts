/**
 * Parallel iterators: the chainable object behind `pool.parIter(...)` (main thread, tasks named by
 * export name, terminals resolve promises) and `parIter(...)` from `viscose/worker` (inside a task,
 * tasks given as functions, terminals return values). One implementation serves both; the two
 * typed interfaces below describe them.
 */
import type { TaskArgs, TaskName, TaskResult } from '../pool/types.js';
import { type Pipeline, Step, Terminal } from './pipeline.js';
import { type IterSource, PipelineSpec } from './spec.js';

export type { IterSource, Range } from './spec.js';
export { range } from './spec.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/** The parameters of a step function after the item. */
type ExtraParameters<F extends AnyFunction> = Parameters<F> extends [unknown, ...infer Rest] ? Rest : unknown[];
/** The arguments of task `K` after the item. */
type ExtraArgs<M, K extends TaskName<M>> = TaskArgs<M, K> extends [unknown, ...infer Rest] ? Rest : unknown[];

/** The type of the items of a source. */
export type ItemOf<S> = S extends { kind: 'range' } ? number : S extends ArrayLike<infer T> ? T : never;

/** A parallel iterator inside a task (`parIter` from `viscose/worker`): terminals return values. */
export interface ParIter<T> {
  /** Each item becomes `task(item, ...extra)`. */
  map<F extends AnyFunction>(task: F, ...extra: ExtraParameters<F>): ParIter<ReturnType<F>>;
  /** Keeps the items for which `task(item, ...extra)` is truthy. */
  filter<F extends AnyFunction>(task: F, ...extra: ExtraParameters<F>): ParIter<T>;
  /** Each item becomes `[index in the source, item]`. */
  enumerate(): ParIter<[number, T]>;
  /** Iterates over chunks of `size` items of the source (views, for a typed array). Call it first. */
  chunks(size: number): ParIter<T extends number ? ArrayLike<number> : T[]>;
  /** Pieces are never split below `length` items. */
  minLen(length: number): ParIter<T>;
  /** Pieces are split until no longer than `length` items. */
  maxLen(length: number): ParIter<T>;
  /** Calls `task(item, ...extra)` for every item. */
  forEach<F extends AnyFunction>(task: F, ...extra: ExtraParameters<F>): void;
  /** Folds with `task(accumulator, item)` from `identity`; only associativity is assumed, order is kept. */
  reduce<F extends (accumulator: T, item: T) => T>(task: F, identity: T): T;
  sum(): number;
  /** The smallest item, or undefined when there is none. */
  min(): T | undefined;
  max(): T | undefined;
  count(): number;
  /** The items, in source order. */
  collect(): T[];
}

/** A parallel iterator started from the main thread (`pool.parIter`): terminals return promises. */
export interface PoolParIter<M, T> {
  /** Each item becomes `name(item, ...extra)`, name being a task of the module. */
  map<K extends TaskName<M>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, TaskResult<M, K>>;
  /** Keeps the items for which `name(item, ...extra)` is truthy. */
  filter<K extends TaskName<M>>(name: K, ...extra: ExtraArgs<M, K>): PoolParIter<M, T>;
  /** Each item becomes `[index in the source, item]`. */
  enumerate(): PoolParIter<M, [number, T]>;
  /** Iterates over chunks of `size` items of the source (views, for a typed array). Call it first. */
  chunks(size: number): PoolParIter<M, T extends number ? ArrayLike<number> : T[]>;
  /** Pieces are never split below `length` items. */
  minLen(length: number): PoolParIter<M, T>;
  /** Pieces are split until no longer than `length` items. */
  maxLen(length: number): PoolParIter<M, T>;
  /** Calls `name(item, ...extra)` for every item. */
  forEach<K extends TaskName<M>>(name: K, ...extra: ExtraArgs<M, K>): Promise<void>;
  /** Folds with `name(accumulator, item)` from `identity`; only associativity is assumed, order is kept. */
  reduce<K extends TaskName<M>>(name: K, identity: T): Promise<T>;
  sum(): Promise<number>;
  min(): Promise<T | undefined>;
  max(): Promise<T | undefined>;
  count(): Promise<number>;
  /** The items, in source order. */
  collect(): Promise<T[]>;
}

/** Turns a task reference (a function inside a task, a name on the main thread) into its id. */
export type TaskResolver = (task: unknown, where: string) => number;

/** Runs a finished pipeline: synchronously inside a task, as a promise on the main thread. */
export type PipelineRunner = (pipeline: Pipeline) => unknown;

/** The one implementation of both interfaces. */
export class ParIterChain {
  constructor(
    private readonly spec: PipelineSpec,
    private readonly resolve: TaskResolver,
    private readonly runPipeline: PipelineRunner,
  ) {}

  static over(source: IterSource<unknown>, resolve: TaskResolver, run: PipelineRunner): ParIterChain {
    return new ParIterChain(PipelineSpec.over(source), resolve, run);
  }

  private next(spec: PipelineSpec): ParIterChain {
    return new ParIterChain(spec, this.resolve, this.runPipeline);
  }

  map(task: unknown, ...extra: unknown[]): ParIterChain {
    return this.next(this.spec.withStep(Step.MAP, this.resolve(task, 'map'), extra));
  }

  filter(task: unknown, ...extra: unknown[]): ParIterChain {
    return this.next(this.spec.withStep(Step.FILTER, this.resolve(task, 'filter'), extra));
  }

  enumerate(): ParIterChain {
    return this.next(this.spec.withStep(Step.ENUMERATE, -1, []));
  }

  chunks(size: number): ParIterChain {
    return this.next(this.spec.withChunks(size));
  }

  minLen(length: number): ParIterChain {
    return this.next(this.spec.withMinLen(length));
  }

  maxLen(length: number): ParIterChain {
    return this.next(this.spec.withMaxLen(length));
  }

  forEach(task: unknown, ...extra: unknown[]): unknown {
    return this.runPipeline(this.spec.finish(Terminal.FOR_EACH, this.resolve(task, 'forEach'), extra));
  }

  reduce(task: unknown, identity: unknown): unknown {
    return this.runPipeline(this.spec.finish(Terminal.REDUCE, this.resolve(task, 'reduce'), identity));
  }

  sum(): unknown {
    return this.runPipeline(this.spec.finish(Terminal.SUM));
  }

  min(): unknown {
    return this.runPipeline(this.spec.finish(Terminal.MIN));
  }

  max(): unknown {
    return this.runPipeline(this.spec.finish(Terminal.MAX));
  }

  count(): unknown {
    return this.runPipeline(this.spec.finish(Terminal.COUNT));
  }

  collect(): unknown {
    return this.runPipeline(this.spec.finish(Terminal.COLLECT));
  }
}
