/**
 * Parallel iterators: the chainable object behind `pool.parIter(...)` (main thread, tasks named by
 * export name, terminals resolve promises) and `parIter(...)` from `viscose/worker` (inside a task,
 * tasks given as functions, terminals return values). One implementation serves both; the two
 * typed interfaces that describe them are in par-iter-types.ts.
 */
import { type Pipeline, Step, type TaskRef, Terminal } from './pipeline.js';
import { type IterSource, PipelineSpec } from './spec.js';

export type { IterSource, Range } from './spec.js';
export { range } from './spec.js';

export type * from './par-iter-types.js';

/**
 * Turns what a step was given into what the pipeline carries: an exported task (a function inside
 * a task, a name on the main thread) into its id, a plain function into its source.
 */
export type TaskResolver = (task: unknown, where: string) => TaskRef;

/**
 * Runs the pipeline that `finish` builds: synchronously inside a task, as a promise on the main
 * thread (which turns an error of `finish` into a rejection, as for any failure of a terminal).
 */
export type PipelineRunner = (finish: () => Pipeline) => unknown;

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

  filterMap(task: unknown, ...extra: unknown[]): ParIterChain {
    return this.next(this.spec.withStep(Step.FILTER_MAP, this.resolve(task, 'filterMap'), extra));
  }

  inspect(task: unknown, ...extra: unknown[]): ParIterChain {
    return this.next(this.spec.withStep(Step.INSPECT, this.resolve(task, 'inspect'), extra));
  }

  fold(identity: unknown, task: unknown): ParIterChain {
    return this.next(this.spec.withStep(Step.FOLD, this.resolve(task, 'fold'), [identity]));
  }

  mapInit(init: unknown, task: unknown, ...extra: unknown[]): ParIterChain {
    const initId = this.resolve(init, 'mapInit');
    return this.next(this.spec.withStep(Step.MAP_INIT, this.resolve(task, 'mapInit'), [initId, ...extra]));
  }

  /** mapInit, each result dropped: a count keeps the loop and costs an addition per item. */
  forEachInit(init: unknown, task: unknown, ...extra: unknown[]): unknown {
    const counted = this.mapInit(init, task, ...extra).count();
    return counted instanceof Promise ? counted.then(() => undefined) : undefined;
  }

  flatMap(task: unknown, ...extra: unknown[]): ParIterChain {
    return this.next(this.spec.withStep(Step.FLAT_MAP, this.resolve(task, 'flatMap'), extra));
  }

  enumerate(): ParIterChain {
    return this.next(this.spec.withStep(Step.ENUMERATE, -1, []));
  }

  chunks(size: number): ParIterChain {
    return this.next(this.spec.withChunks(size));
  }

  chain(other: IterSource<unknown> | ParIterChain): ParIterChain {
    return this.next(this.spec.withChain(this.partOf(other, 'chain')));
  }

  /**
   * What `chain` or `zip` takes from `other`: a source as it is, another iterator's description,
   * if its task ids mean what they mean here (it was made by the same pool, or on the same worker).
   */
  private partOf(other: IterSource<unknown> | ParIterChain, adapter: string): IterSource<unknown> | PipelineSpec {
    if (!(other instanceof ParIterChain)) return other;
    if (other.resolve !== this.resolve) {
      throw new TypeError(`${adapter}(): the other iterator was made by another pool, whose tasks may not be this pool's`);
    }
    return other.spec;
  }

  skip(n: number): ParIterChain {
    return this.next(this.spec.withView('skip', n));
  }

  take(n: number): ParIterChain {
    return this.next(this.spec.withView('take', n));
  }

  stepBy(step: number): ParIterChain {
    return this.next(this.spec.withView('stepBy', step));
  }

  rev(): ParIterChain {
    return this.next(this.spec.withView('rev'));
  }

  zip(partner: IterSource<unknown> | ParIterChain): ParIterChain {
    return this.next(this.spec.withZip(this.partOf(partner, 'zip')));
  }

  minLen(length: number): ParIterChain {
    return this.next(this.spec.withMinLen(length));
  }

  maxLen(length: number): ParIterChain {
    return this.next(this.spec.withMaxLen(length));
  }

  forEach(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.FOR_EACH, 'forEach', task, extra);
  }

  /** A terminal that calls `task(item, ...extra)` per item. */
  private callback(terminal: number, where: string, task: unknown, extra: unknown[]): unknown {
    return this.runPipeline(() => this.spec.finish(terminal, this.resolve(task, where), extra));
  }

  reduce(task: unknown, identity: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.REDUCE, this.resolve(task, 'reduce'), identity));
  }

  tryForEach(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.TRY_FOR_EACH, 'tryForEach', task, extra);
  }

  tryReduce(task: unknown, identity: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.TRY_REDUCE, this.resolve(task, 'tryReduce'), identity));
  }

  sum(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.SUM));
  }

  product(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.PRODUCT));
  }

  reduceWith(task: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.REDUCE_WITH, this.resolve(task, 'reduceWith')));
  }

  minBy(task: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.MIN_BY, this.resolve(task, 'minBy')));
  }

  maxBy(task: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.MAX_BY, this.resolve(task, 'maxBy')));
  }

  minByKey(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.MIN_BY_KEY, 'minByKey', task, extra);
  }

  maxByKey(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.MAX_BY_KEY, 'maxByKey', task, extra);
  }

  any(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.ANY, 'any', task, extra);
  }

  all(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.ALL, 'all', task, extra);
  }

  findAny(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.FIND_ANY, 'findAny', task, extra);
  }

  findFirst(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.FIND_FIRST, 'findFirst', task, extra);
  }

  findLast(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.FIND_LAST, 'findLast', task, extra);
  }

  positionAny(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.POSITION_ANY, 'positionAny', task, extra);
  }

  positionFirst(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.POSITION_FIRST, 'positionFirst', task, extra);
  }

  min(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.MIN));
  }

  max(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.MAX));
  }

  count(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.COUNT));
  }

  collect(into?: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(collectTerminal(into)));
  }

  partition(task: unknown, ...extra: unknown[]): unknown {
    return this.callback(Terminal.PARTITION, 'partition', task, extra);
  }

  unzip(): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.UNZIP));
  }

  collectInto(target: unknown): unknown {
    return this.runPipeline(() => this.spec.finish(Terminal.COLLECT_INTO, -1, target));
  }
}

/** What `collect(into)` collects into: an array (nothing given), a Map or a Set. */
function collectTerminal(into: unknown): number {
  if (into === undefined) return Terminal.COLLECT;
  if (into === Map) return Terminal.COLLECT_MAP;
  if (into === Set) return Terminal.COLLECT_SET;
  throw new TypeError('collect(into): expected nothing (an array), Map or Set');
}
