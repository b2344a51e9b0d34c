/**
 * The sequential loop that runs a pipeline over a range of its units: where the time of a
 * parallel iterator goes. A generic loop that dispatches on the step and terminal kinds per item
 * costs around 20 ns an item; a loop written for the one pipeline runs at the speed of a
 * hand-written `for`. So the loop is generated as source text for the pipeline's shape, compiled
 * once per shape and thread, and bound to the pipeline's values. The shape is the text itself
 * plus what it cannot show: the kind of each source (an array, which typed array) and the id of
 * each exported task, so that every element access and call site in a loop stays monomorphic.
 */
import { callbackArity, checked, failing, shortCircuitSource, terminalSource } from './loop-terminals.js';
import {
  CALLBACK_TERMINALS,
  type Pipeline,
  type Segment,
  type Source,
  Step,
  type StepSpec,
  type TaskLookup,
  type TaskRef,
  Terminal,
  greater,
  isInline,
  lesser,
  notSynchronous,
  segmentUnits,
} from './pipeline.js';
import { CHECK_EVERY, type Cell, recordMatch, settledFor, shortCircuits } from './short-circuit.js';

/** Runs the pipeline over units [lo, hi) and returns that range's partial result. */
export type PieceLoop = (lo: number, hi: number) => unknown;

/**
 * A compiled loop: the pipeline's values first (bound once per pipeline), then lo and hi. The
 * values arrive as parameters because a loop reads parameters faster than captured variables.
 */
type CompiledLoop = (...valuesThenRange: unknown[]) => unknown;

/** Loops by shape; a program has few distinct pipelines, so the cache stays small. */
const loops = new Map<string, CompiledLoop>();
let compiledLoops = 0;

/** How many loops this thread compiled: one per pipeline shape it ran. */
export function loopsCompiled(): number {
  return compiledLoops;
}

/** `cell`: the pipeline's short-circuit cell, for a terminal that stops early (short-circuit.ts). */
export function compileLoop(pipeline: Pipeline, task: TaskLookup, cell?: Cell): PieceLoop {
  const code = new LoopCode(task);
  const body = code.loop(pipeline, cell);
  // Inline steps are constants of the loop's own compilation, so a call of one is a call of a
  // known local function, which V8 inlines like a hand-written helper.
  const factory = [
    "'use strict';",
    ...code.fused,
    `return function loop(${[...code.parameters, 'lo', 'hi'].join(', ')}) {`,
    body,
    '};',
  ].join('\n');
  const key = `${code.shape.join(',')}\n${factory}`;
  let loop = loops.get(key);
  if (loop === undefined) {
    loop = new Function(factory)() as CompiledLoop;
    loops.set(key, loop);
    compiledLoops++;
  }
  return loop.bind(undefined, ...code.values) as PieceLoop;
}

/** Lines of a loop body, and how many flatMap loops they opened that are still to close. */
interface Section {
  lines: string[];
  nested: number;
}

/** The text of one pipeline's loop, with the names and values of what it reads. */
class LoopCode {
  readonly parameters: string[] = [];
  readonly values: unknown[] = [];
  /** `const inline0 = <source>;` for each inline step: part of the loop's text. */
  readonly fused: string[] = [];
  /** What the shape holds beyond the text: source kinds and exported task ids, in the order read. */
  readonly shape: string[] = [];
  /** What runs once per loop, before its first unit: a mapInit's init, a fold's identity. */
  private readonly prelude: string[] = [];
  private names = 0;

  constructor(private readonly task: TaskLookup) {}

  /** A value the loop reads: a parameter named `name`, or a fresh name from `stem`. */
  private value(value: unknown, stem: string, name = `${stem}${this.names++}`): string {
    this.parameters.push(name);
    this.values.push(value);
    return name;
  }

  /** A task the loop calls: an exported one as a parameter, an inline one declared in the loop's text. */
  private taskCalled(ref: TaskRef, name = `task${this.names++}`): string {
    if (isInline(ref)) {
      this.fused.push(`const ${name} = ${ref};`);
    } else {
      this.shape.push(`task ${ref}`);
      this.value(this.task(ref), '', name);
    }
    return name;
  }

  loop(pipeline: Pipeline, cell: Cell | undefined): string {
    const { terminal } = pipeline;
    this.value(lesser, '', 'lesser');
    this.value(greater, '', 'greater');
    this.value(notSynchronous, '', 'notSynchronous');
    this.value(pipeline.terminalArgument, '', 'terminalArgument');
    this.value(cell === undefined ? undefined : (lo: number, hi: number) => settledFor(cell, terminal, lo, hi), '', 'settled');
    this.value(cell === undefined ? undefined : (unit: number) => recordMatch(cell, terminal, unit), '', 'matched');
    if (pipeline.terminalTask !== -1) this.taskCalled(pipeline.terminalTask, 'terminalFunction');
    if (CALLBACK_TERMINALS.has(terminal)) {
      for (const [k, value] of (pipeline.terminalArgument as unknown[]).entries()) this.value(value, '', `t_${k}`);
    }
    // The source unit the loop's index reads: i itself, or through the view (view.ts).
    const at = pipeline.view === undefined ? 'i' : `(${this.value(pipeline.view[1], 'ua')} * i + ${this.value(pipeline.view[2], 'ub')})`;
    const perUnit: Section = { lines: ['let item;'], nested: 0 };
    if (pipeline.chunk > 0) {
      const chunkAt = this.value((index: number) => chunkOf(pipeline, index), 'chunkAt');
      perUnit.lines.push(`item = ${chunkAt}(${at});`);
    } else {
      perUnit.lines.push(...this.unit(pipeline.source, at, 'item'));
    }
    // The steps run per unit; after a fold, the rest run once on its accumulator.
    const foldAt = pipeline.steps.findIndex(([step]) => step === Step.FOLD);
    const folded: Section = { lines: [], nested: 0 };
    if (foldAt < 0) {
      this.steps(pipeline.steps, 'item', 'i', perUnit);
    } else {
      this.steps(pipeline.steps.slice(0, foldAt), 'item', 'i', perUnit);
      const [, foldTask, [identity]] = pipeline.steps[foldAt];
      const fold = this.taskCalled(foldTask);
      const accumulator = `folded${this.names++}`;
      this.prelude.push(`let ${accumulator} = structuredClone(${this.value(identity, 'identity')});`);
      perUnit.lines.push(`${accumulator} = ${fold}(${accumulator}, item);`, checked(accumulator));
      folded.lines.push(`let item = ${accumulator};`);
      this.steps(pipeline.steps.slice(foldAt + 1), 'item', 'i', folded);
    }
    return this.assemble(pipeline, perUnit, foldAt < 0 ? undefined : folded);
  }

  /** The loop around the per-unit lines, with the terminal's part (loop-terminals.ts). */
  private assemble(pipeline: Pipeline, perUnit: Section, folded: Section | undefined): string {
    const { terminal } = pipeline;
    const closing = (part: Section) => '}'.repeat(part.nested);
    const stopsOnError = terminal === Terminal.TRY_FOR_EACH || terminal === Terminal.TRY_REDUCE;
    if (shortCircuits(terminal) && !stopsOnError) {
      return shortCircuitSource(terminal, this.prelude, perUnit.lines, closing(perUnit), callbackArity(pipeline));
    }
    const [initial, accumulate] = terminalSource(terminal, callbackArity(pipeline));
    const unitLines = [...perUnit.lines, ...(folded === undefined ? accumulate : []), closing(perUnit)];
    return [
      ...this.prelude,
      `let acc = ${initial};`,
      'for (let i = lo; i < hi; i++) {',
      // Another piece's task threw: what is left of this one cannot change the outcome.
      ...(stopsOnError ? [`  if ((i & ${CHECK_EVERY - 1}) === 0 && settled(i, hi)) break;`] : []),
      ...(stopsOnError ? failing(unitLines) : unitLines).map((line) => `  ${line}`),
      '}',
      // The fold's accumulator is this loop's one item: the steps after it run on it once (a
      // one-turn loop, so that a filter's `continue` drops it).
      ...(folded === undefined
        ? []
        : ['for (let once = 0; once < 1; once++) {', ...[...folded.lines, ...accumulate, closing(folded)].map((line) => `  ${line}`), '}']),
      'return acc;',
    ].join('\n');
  }

  /**
   * Lines that set `variable` to the item at unit `at` (an expression) of `source`: a range's
   * integer, an element, or, in a chain, the item of the segment holding the unit, with that
   * segment's view and steps applied (they may `continue` to drop it: a chain's filter).
   */
  private unit(source: Source, at: string, variable: string): string[] {
    if (source.kind === 'range') {
      this.shape.push('range');
      return [`${variable} = ${this.value(source.start, 'start')} + ${at};`];
    }
    if (source.kind === 'items') {
      this.shape.push(Array.isArray(source.items) ? 'array' : Object.prototype.toString.call(source.items));
      return [`${variable} = ${this.value(source.items, 'items')}[${at}];`];
    }
    const unit = `u${this.names++}`;
    const lines = [`const ${unit} = ${at};`];
    let offset = 0;
    source.segments.forEach((segment, k) => {
      const end = offset + segmentUnits(segment);
      const last = k === source.segments.length - 1;
      lines.push(`${k === 0 ? '' : '} else '}${last ? '{' : `if (${unit} < ${this.value(end, 'end')}) {`}`);
      const index = `j${this.names++}`;
      lines.push(`  const ${index} = ${offset === 0 ? unit : `${unit} - ${this.value(offset, 'offset')}`};`);
      lines.push(...this.segmentItem(segment, index, variable).map((line) => `  ${line}`));
      offset = end;
    });
    lines.push('}');
    return lines;
  }

  /** Lines that set `variable` to item `index` of `segment`: its unit through its view, then its steps. */
  private segmentItem(segment: Segment, index: string, variable: string): string[] {
    const at =
      segment.view === undefined ? index : `(${this.value(segment.view[1], 'va')} * ${index} + ${this.value(segment.view[2], 'vb')})`;
    const section: Section = { lines: this.unit(segment.source, at, variable), nested: 0 };
    this.steps(segment.steps, variable, index, section);
    return section.lines;
  }

  /**
   * Lines that run `steps` on `variable`, whose item index (what an enumerate or a zip numbers) is
   * `index`. A flatMap opens a loop that the section's closing ends; a fold is the caller's.
   */
  private steps(steps: readonly StepSpec[], variable: string, index: string, section: Section): void {
    const body = section.lines;
    for (const [step, ref, stepExtra] of steps) {
      if (step === Step.ENUMERATE || step === Step.ZIP) {
        // Its numbering through the views after it, if any (view.ts); a zip's partner first.
        const numbering = step === Step.ZIP ? stepExtra.slice(1) : stepExtra;
        const numbered =
          numbering.length === 0 ? index : `(${this.value(numbering[0], 'ea')} * ${index} + ${this.value(numbering[1], 'eb')})`;
        if (step === Step.ENUMERATE) {
          body.push(`${variable} = [${numbered}, ${variable}];`);
        } else {
          const partner = `partner${this.names++}`;
          body.push(`let ${partner};`, ...this.segmentItem(stepExtra[0] as Segment, numbered, partner));
          body.push(`${variable} = [${variable}, ${partner}];`);
        }
        continue;
      }
      const fn = this.taskCalled(ref);
      let extra = stepExtra;
      let state = '';
      if (step === Step.MAP_INIT) {
        // Its init task, called once per loop, then its extras.
        state = `state${this.names++}`;
        this.prelude.push(`const ${state} = ${this.taskCalled(extra[0] as TaskRef)}();`, checked(state));
        extra = extra.slice(1);
      }
      const args = [...(state === '' ? [] : [state]), variable, ...extra.map((value) => this.value(value, 'x'))].join(', ');
      const result = `r${this.names++}`;
      if (step === Step.MAP || step === Step.MAP_INIT) {
        body.push(`${variable} = ${fn}(${args});`, checked(variable));
      } else if (step === Step.FILTER) {
        body.push(`const ${result} = ${fn}(${args});`, checked(result), `if (!${result}) continue;`);
      } else if (step === Step.FILTER_MAP) {
        body.push(`${variable} = ${fn}(${args});`, checked(variable), `if (${variable} === undefined) continue;`);
      } else if (step === Step.INSPECT) {
        body.push(`const ${result} = ${fn}(${args});`, checked(result));
      } else if (step === Step.FLAT_MAP) {
        body.push(`const ${result} = ${fn}(${args});`, checked(result), `for (const inner of ${result}) {`, `${variable} = inner;`);
        section.nested++;
      } else {
        throw new Error(`unknown iterator step ${step}`);
      }
    }
  }
}

/** A unit of a chunked source: a view (typed array) or a slice (array or range) of `chunk` items. */
function chunkOf(pipeline: Pipeline, index: number): unknown {
  const { source, chunk } = pipeline;
  if (source.kind === 'range') {
    const from = source.start + index * chunk;
    const to = Math.min(source.end, from + chunk);
    return Array.from({ length: to - from }, (_, k) => from + k);
  }
  if (source.kind === 'chain') throw new TypeError('chunks of a chain');
  const items = source.items;
  const from = index * chunk;
  const to = Math.min(items.length, from + chunk);
  if (ArrayBuffer.isView(items)) return (items as unknown as { subarray(a: number, b: number): unknown }).subarray(from, to);
  return Array.prototype.slice.call(items, from, to);
}
