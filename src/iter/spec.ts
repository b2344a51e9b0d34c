/**
 * The chainable part of a parallel iterator, shared by the main-thread and the task-side facades:
 * an immutable description of source, steps and split limits, turned into a Pipeline by a terminal
 * operation.
 */
import {
  type Pipeline,
  type Segment,
  type Source,
  Step,
  type StepSpec,
  type TaskRef,
  Terminal,
  UNINDEXING_STEPS,
  segmentUnits,
  sourceUnits,
} from './pipeline.js';
import { shortCircuits } from './short-circuit.js';
import { type View, adapterView, compose, wholeSource } from './view.js';

/** A half-open range of integers, as a parallel iterator source: `range(0, 1_000_000)`. */
export interface Range {
  readonly kind: 'range';
  readonly start: number;
  readonly end: number;
}

/**
 * The integers start, start + 1, ..., end - 1 (none when end <= start). Both ends must be safe
 * integers and the range at most Number.MAX_SAFE_INTEGER items long, so that every index into it
 * is exact.
 */
export function range(start: number, end: number): Range {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw new RangeError(`range(${start}, ${end}): both ends must be safe integers`);
  }
  if (end - start > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`range(${start}, ${end}): more than Number.MAX_SAFE_INTEGER (2^53 - 1) items`);
  }
  return { kind: 'range', start, end };
}

export type IterSource<T> = Range | ArrayLike<T>;

/** Everything a chain has said so far. */
interface SpecState {
  /** The source: a chain once `chain` was called, whose segments hold what came before it. */
  readonly source: Source;
  readonly chunk: number;
  readonly steps: readonly StepSpec[];
  readonly minLen: number;
  readonly maxLen: number;
  /** What skip, take, stepBy and rev made of the source, if any of them was used. */
  readonly view: View | undefined;
}

export class PipelineSpec {
  private constructor(private readonly state: SpecState) {}

  private with(changes: Partial<SpecState>): PipelineSpec {
    return new PipelineSpec({ ...this.state, ...changes });
  }

  private get steps(): SpecState['steps'] {
    return this.state.steps;
  }

  /**
   * collectInto writes the item of source unit i to target[i], from whichever worker runs it: the
   * target must be shared memory, long enough, and every unit must yield one item.
   */
  private checkTarget(target: unknown): void {
    if (!isSharedTypedArray(target)) {
      throw new TypeError('collectInto needs a typed array over a SharedArrayBuffer, which every worker can write');
    }
    if (this.lostIndices()) {
      throw new TypeError(
        'collectInto writes item i to target[i]: it cannot follow a filter, filterMap, flatMap or fold, which change how many items there are',
      );
    }
    const units = this.units();
    if (target.length < units) {
      throw new RangeError(`collectInto: the target holds ${target.length} items, the iterator yields ${units}`);
    }
  }

  /** Units the loop runs over. */
  private units(): number {
    return this.state.view?.count ?? sourceUnits(this.state);
  }

  private hasFold(): boolean {
    return this.steps.some(([step]) => step === Step.FOLD);
  }

  /**
   * Whether a step changed how many items there are (filter, filterMap, flatMap, fold), here or in
   * a chained segment, so that indices are lost.
   */
  private lostIndices(): boolean {
    const { source } = this.state;
    const chainLost =
      source.kind === 'chain' && source.segments.some((segment) => segment.steps.some(([step]) => UNINDEXING_STEPS.has(step)));
    return chainLost || this.steps.some(([step]) => UNINDEXING_STEPS.has(step));
  }

  static over(source: IterSource<unknown>): PipelineSpec {
    return new PipelineSpec({ source: toSource(source), chunk: 0, steps: [], minLen: 1, maxLen: Infinity, view: undefined });
  }

  withChunks(size: number): PipelineSpec {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunks(${size}): the size must be a positive integer`);
    if (!this.atSource()) throw new TypeError('chunks() applies to the source: call it first');
    if (this.state.source.kind === 'chain') throw new TypeError('chunks() cannot split chained sources: chain the chunks instead');
    return this.with({ chunk: size });
  }

  /** Whether nothing but the source was given yet: no chunks, step or view. */
  private atSource(): boolean {
    return this.steps.length === 0 && this.state.chunk === 0 && this.state.view === undefined;
  }

  /**
   * `chain(other)`: the items of `other` (a source, or another iterator with its own steps and
   * views) after these. Each side keeps its steps; what follows applies to both.
   */
  withChain(other: IterSource<unknown> | PipelineSpec): PipelineSpec {
    const mine = this.segment('chain');
    const theirs = other instanceof PipelineSpec ? other.segment('chain') : { source: toSource(other), steps: [] };
    const source: Source = { kind: 'chain', segments: [...segmentsOf(mine), ...segmentsOf(theirs)] };
    return new PipelineSpec({ source, chunk: 0, steps: [], minLen: this.state.minLen, maxLen: this.state.maxLen, view: undefined });
  }

  /**
   * This iterator as a part of another's chain or zip. Its steps must run item by item inside the
   * other's loop: no chunks, and no fold or flatMap, which make a loop of their own.
   */
  private segment(adapter: 'chain' | 'zip'): Segment {
    if (this.state.chunk > 0) throw new TypeError(`${adapter}() cannot take an iterator over chunks: ${adapter} its source instead`);
    if (this.steps.some(([step]) => step === Step.FOLD || step === Step.FLAT_MAP)) {
      throw new TypeError(`${adapter}() cannot take an iterator with a fold or flatMap: ${adapter} first, then fold or flatMap`);
    }
    const { view } = this.state;
    return { source: this.state.source, steps: [...this.steps], ...(view === undefined ? {} : { view: [view.count, view.a, view.b] }) };
  }

  withStep(step: number, task: TaskRef, extra: unknown[]): PipelineSpec {
    if ((step === Step.FOLD || step === Step.ENUMERATE) && this.hasFold()) {
      throw new TypeError(`${step === Step.FOLD ? 'fold' : 'enumerate'}() cannot follow a fold, whose accumulators have no index`);
    }
    return this.with({ steps: [...this.steps, [step, task, extra]] });
  }

  /** As Rayon's `with_min_len`: 0 sets no minimum, like 1. */
  withMinLen(minLen: number): PipelineSpec {
    return this.with({ minLen: length('minLen', minLen) });
  }

  /** As Rayon's `with_max_len`: 0 acts as 1 (pieces split down to single items). */
  withMaxLen(maxLen: number): PipelineSpec {
    return this.with({ maxLen: length('maxLen', maxLen) });
  }

  /**
   * `skip(n)`, `take(n)`, `stepBy(n)` or `rev()`: a view of the sequence so far (view.ts). Only an
   * indexed iterator has one, as in Rayon: not after a filter or filterMap.
   */
  withView(adapter: 'skip' | 'take' | 'stepBy' | 'rev', n = 0): PipelineSpec {
    if (this.lostIndices()) {
      throw new TypeError(
        `${adapter}() needs the items' indices: it cannot follow a filter, filterMap, flatMap or fold, which change how many items there are`,
      );
    }
    if (adapter === 'stepBy' ? !Number.isSafeInteger(n) || n < 1 : !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`${adapter}(${n}): expected a ${adapter === 'stepBy' ? 'positive' : 'non-negative'} integer`);
    }
    const current = this.state.view ?? wholeSource(this.units());
    const made = adapterView(adapter, current.count, n);
    // An enumerate or zip before the view keeps numbering what it saw: its map goes through the view too.
    const steps = this.steps.map(([step, task, extra]): StepSpec => {
      if (step === Step.ENUMERATE) return [step, task, numberedThrough(extra, current.count, made)];
      if (step === Step.ZIP) return [step, task, [extra[0], ...numberedThrough(extra.slice(1), current.count, made)]];
      return [step, task, extra];
    });
    return this.with({ steps, view: compose(current, made) });
  }

  /**
   * `zip(partner)`: each item paired with the partner's item of the same index, as many as the
   * shorter has. The partner is a source or another iterator with its own steps and views. Like a
   * view, it needs the items' indices, on both sides.
   */
  withZip(partner: IterSource<unknown> | PipelineSpec): PipelineSpec {
    const unindexed = 'it cannot follow a filter, filterMap, flatMap or fold, which change how many items there are';
    if (this.lostIndices()) throw new TypeError(`zip() needs the items' indices: ${unindexed}`);
    if (partner instanceof PipelineSpec && partner.lostIndices()) {
      throw new TypeError(`zip() needs its partner's indices: the partner ${unindexed.replace('it cannot follow', 'cannot have')}`);
    }
    const segment = partner instanceof PipelineSpec ? partner.segment('zip') : { source: toSource(partner), steps: [] };
    const length = segmentUnits(segment);
    const spec = length < this.units() ? this.withView('take', length) : this;
    return spec.withStep(Step.ZIP, -1, [segment, 1, 0]);
  }

  /** The pipeline ending in `terminal` (with its task, or -1, and argument). */
  finish(terminal: number, terminalTask: TaskRef = -1, terminalArgument: unknown = undefined): Pipeline {
    if (terminal === Terminal.COLLECT_INTO) this.checkTarget(terminalArgument);
    if (shortCircuits(terminal) && this.hasFold()) {
      throw new TypeError('a terminal that stops early cannot follow a fold: reduce, collect or sum its accumulators instead');
    }
    if ((terminal === Terminal.POSITION_ANY || terminal === Terminal.POSITION_FIRST) && this.lostIndices()) {
      throw new TypeError(
        'a position counts the items of the source: it cannot follow a filter, filterMap, flatMap or fold, which change how many items there are',
      );
    }
    return {
      source: this.state.source,
      chunk: this.state.chunk,
      steps: [...this.steps],
      ...(this.state.view === undefined
        ? {}
        : { view: [this.state.view.count, this.state.view.a, this.state.view.b] as [number, number, number] }),
      minLen: this.state.minLen,
      maxLen: this.state.maxLen,
      terminal,
      terminalTask,
      terminalArgument,
    };
  }
}

/** The segments a segment stands for in a chain: a bare chain's own, so that chains stay flat. */
function segmentsOf(segment: Segment): Segment[] {
  const bare = segment.steps.length === 0 && segment.view === undefined;
  return bare && segment.source.kind === 'chain' ? segment.source.segments : [segment];
}

/** A source as a pipeline carries it. */
function toSource(source: IterSource<unknown>): Source {
  if (isRange(source)) {
    // Checked again: a hand-made { kind: 'range' } object has not been through range().
    const { start, end } = range(source.start, source.end);
    return { kind: 'range', start, end };
  }
  if (source === null || typeof source !== 'object' || typeof (source as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError('a parallel iterator needs a range(start, end), an array or a typed array');
  }
  return { kind: 'items', items: source };
}

/**
 * The [a, b] numbering of an enumerate or zip (`numbering`, empty for "the loop's index") after a
 * view `made` of a sequence of `count` items.
 */
function numberedThrough(numbering: unknown[], count: number, made: View): [number, number] {
  const before = numbering.length === 0 ? wholeSource(count) : { count, a: numbering[0] as number, b: numbering[1] as number };
  const through = compose(before, made);
  return [through.a, through.b];
}

/** A typed array whose memory every worker can write. */
function isSharedTypedArray(value: unknown): value is ArrayLike<unknown> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && value.buffer instanceof SharedArrayBuffer;
}

function isRange(source: unknown): source is Range {
  return source !== null && typeof source === 'object' && (source as Range).kind === 'range';
}

function length(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name}(${value}): expected a non-negative integer`);
  return value;
}
