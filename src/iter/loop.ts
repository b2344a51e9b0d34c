/**
 * The sequential loop that runs a pipeline over a range of its units: where the time of a
 * parallel iterator goes. A generic loop that dispatches on the step and terminal kinds per item
 * costs around 20 ns an item; a loop written for the one pipeline runs at the speed of a
 * hand-written `for`. So the loop is generated as source text for the pipeline's shape (source
 * type, steps, terminal, task ids), compiled once per shape and thread, and bound to the
 * pipeline's values. Keying by task ids too keeps every call site in a loop monomorphic.
 */
import {
  CALLBACK_TERMINALS,
  type Pipeline,
  type Source,
  Step,
  type TaskLookup,
  type TaskRef,
  Terminal,
  greater,
  isInline,
  itemCount,
  lesser,
  notSynchronous,
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
  const key = shapeKey(pipeline);
  const { parameters, values, fused } = loopValues(pipeline, task, cell);
  let loop = loops.get(key);
  if (loop === undefined) {
    // Inline steps are constants of the loop's own compilation, so a call of one is a call of a
    // known local function, which V8 inlines like a hand-written helper.
    const factory = [
      "'use strict';",
      ...fused,
      `return function loop(${[...parameters, 'lo', 'hi'].join(', ')}) {`,
      loopSource(pipeline),
      '};',
    ].join('\n');
    loop = new Function(factory)() as CompiledLoop;
    loops.set(key, loop);
    compiledLoops++;
  }
  return loop.bind(undefined, ...values) as PieceLoop;
}

/** What a loop is given: its parameters' names and values, and the inline steps it declares itself. */
interface LoopValues {
  parameters: string[];
  values: unknown[];
  /** `const f0 = (source);` for each inline step: part of the compiled text, as its shape says. */
  fused: string[];
}

/** The names and values of the parameters a loop reads, in the order of its parameter list. */
function loopValues(pipeline: Pipeline, task: TaskLookup, cell: Cell | undefined): LoopValues {
  const { source, terminal } = pipeline;
  const parameters = [
    'items',
    'start',
    'chunkAt',
    'lesser',
    'greater',
    'notSynchronous',
    'terminalArgument',
    'settled',
    'matched',
    'ua',
    'ub',
  ];
  const values: unknown[] = [
    source.kind === 'items' ? source.items : undefined,
    source.kind === 'range' ? source.start : 0,
    (index: number) => chunkAt(pipeline, index),
    lesser,
    greater,
    notSynchronous,
    pipeline.terminalArgument,
    cell === undefined ? undefined : (lo: number, hi: number) => settledFor(cell, terminal, lo, hi),
    cell === undefined ? undefined : (unit: number) => recordMatch(cell, terminal, unit),
    pipeline.view?.[1],
    pipeline.view?.[2],
  ];
  const fused: string[] = [];
  // A task the loop calls: an exported one as a parameter, an inline one declared in its text.
  const bindTask = (name: string, ref: TaskRef) => {
    if (isInline(ref)) {
      fused.push(`const ${name} = ${ref};`);
    } else {
      parameters.push(name);
      values.push(ref >= 0 ? task(ref) : undefined);
    }
  };
  bindTask('terminalFunction', pipeline.terminalTask);
  // Each chained source k: where its units start, and its items or its range's start.
  let offset = itemCount(source);
  (pipeline.chained ?? []).forEach((part, k) => {
    parameters.push(`o${k}`, `items${k}`, `start${k}`);
    values.push(offset, part.kind === 'items' ? part.items : undefined, part.kind === 'range' ? part.start : 0);
    offset += itemCount(part);
  });
  pipeline.steps.forEach(([step, id, stepExtra], s) => {
    let extra = stepExtra;
    if (step === Step.ENUMERATE || step === Step.ZIP) {
      // Its numbering through the views after it, if any (view.ts); a zip's partner first.
      const numbering = step === Step.ZIP ? extra.slice(1) : extra;
      if (step === Step.ZIP) {
        parameters.push(`z${s}`);
        values.push(partnerAt(extra[0] as Source));
      }
      numbering.forEach((value, k) => {
        parameters.push(`e${s}_${k}`);
        values.push(value);
      });
      return;
    }
    bindTask(`f${s}`, id);
    if (step === Step.MAP_INIT) {
      // Its init task, then its extras (loopSource calls the init once per loop).
      bindTask(`g${s}`, extra[0] as TaskRef);
      extra = extra.slice(1);
    }
    extra.forEach((value, k) => {
      parameters.push(`x${s}_${k}`);
      values.push(value);
    });
  });
  if (CALLBACK_TERMINALS.has(terminal)) {
    (pipeline.terminalArgument as unknown[]).forEach((value, k) => {
      parameters.push(`t_${k}`);
      values.push(value);
    });
  }
  return { parameters, values, fused };
}

/** What a source is, for the shape key: a range, an array, or which typed array. */
function sourceType(source: Source): string {
  return source.kind === 'range' ? 'range' : Array.isArray(source.items) ? 'array' : Object.prototype.toString.call(source.items);
}

function shapeKey(pipeline: Pipeline): string {
  const sources = [pipeline.source, ...(pipeline.chained ?? [])].map(sourceType).join('+');
  // A task's id, or an inline step's source, which the loop's text holds; a mapInit's init too.
  const steps = pipeline.steps
    .map(([step, id, extra]) => `${step}:${id}:${step === Step.MAP_INIT ? `${extra[0]}:` : ''}${extra.length}`)
    .join(',');
  const view = pipeline.view === undefined ? '' : 'view';
  return `${sources}|${pipeline.chunk > 0}|${view}|${steps}|${pipeline.terminal}:${pipeline.terminalTask}:${callbackArity(pipeline)}`;
}

/**
 * The source text of unit `at`: a chunk, or an item of the source, or of the chained source whose
 * units hold it (the last whose offset `o<k>` it reached).
 */
function unitSource(pipeline: Pipeline, at: string): string {
  if (pipeline.chunk > 0) return `chunkAt(${at})`;
  const read = (source: Source, items: string, start: string, index: string) =>
    source.kind === 'range' ? `${start} + ${index}` : `${items}[${index}]`;
  let expression = read(pipeline.source, 'items', 'start', at);
  (pipeline.chained ?? []).forEach((part, k) => {
    expression = `(${at} < o${k} ? ${expression} : ${read(part, `items${k}`, `start${k}`, `${at} - o${k}`)})`;
  });
  return expression;
}

/** The item at an index of a zip's partner source. */
function partnerAt(source: Source): (index: number) => unknown {
  if (source.kind === 'range') {
    const start = source.start;
    return (index) => start + index;
  }
  const items = source.items;
  return (index) => items[index];
}

/** A unit of a chunked source: a view (typed array) or a slice (array or range) of `chunk` items. */
function chunkAt(pipeline: Pipeline, index: number): unknown {
  const { source, chunk } = pipeline;
  if (source.kind === 'range') {
    const from = source.start + index * chunk;
    const to = Math.min(source.end, from + chunk);
    return Array.from({ length: to - from }, (_, k) => from + k);
  }
  const items = source.items;
  const from = index * chunk;
  const to = Math.min(items.length, from + chunk);
  if (ArrayBuffer.isView(items)) return (items as unknown as { subarray(a: number, b: number): unknown }).subarray(from, to);
  return Array.prototype.slice.call(items, from, to);
}

/** The arguments `name(item, ...extras[s])` as source text, for an extra-argument list of `count`. */
function argumentList(first: string, step: number, count: number): string {
  const names = [first];
  for (let k = 0; k < count; k++) names.push(`x${step}_${k}`);
  return names.join(', ');
}

/** A value that a step returned must not be a promise: the loop cannot wait for it. */
function checked(variable: string): string {
  return `if (typeof ${variable} === 'object' && ${variable} !== null && typeof ${variable}.then === 'function') notSynchronous(${variable});`;
}

/** How many extra arguments a callback terminal passes after the item (0 for the others). */
function callbackArity(pipeline: Pipeline): number {
  return CALLBACK_TERMINALS.has(pipeline.terminal) ? (pipeline.terminalArgument as unknown[]).length : 0;
}

/** `terminalFunction(item, t_0, ...)` as source text. */
function callbackCall(arity: number): string {
  const args = ['item'];
  for (let k = 0; k < arity; k++) args.push(`t_${k}`);
  return `terminalFunction(${args.join(', ')})`;
}

/** Lines of a loop body, and how many flatMap loops they opened that are still to close. */
interface Section {
  lines: string[];
  nested: number;
}

function loopSource(pipeline: Pipeline): string {
  // The source unit the loop's index reads: i itself, or through the view (view.ts).
  const at = pipeline.view === undefined ? 'i' : '(ua * i + ub)';
  // What runs once per loop, before its first unit: a mapInit's init, a fold's identity.
  const prelude: string[] = [];
  // The steps run per unit; after a fold, the rest run once on its accumulator (foldedSource).
  const perUnit: Section = { lines: [`let item = ${unitSource(pipeline, at)};`], nested: 0 };
  let section = perUnit;
  let folded: { section: Section; step: number } | undefined;
  pipeline.steps.forEach(([step, , extra], s) => {
    const body = section.lines;
    const call = `f${s}(${argumentList('item', s, extra.length)})`;
    if (step === Step.FOLD) {
      prelude.push(`let folded${s} = structuredClone(x${s}_0);`);
      body.push(`folded${s} = f${s}(folded${s}, item);`, checked(`folded${s}`));
      folded = { section: { lines: [`let item = folded${s};`], nested: 0 }, step: s };
      section = folded.section;
    } else if (step === Step.MAP_INIT) {
      prelude.push(`const state${s} = g${s}();`, checked(`state${s}`));
      body.push(`item = f${s}(state${s}, ${argumentList('item', s, extra.length - 1)});`, checked('item'));
    } else if (step === Step.FLAT_MAP) {
      body.push(`const many${s} = ${call};`, checked(`many${s}`), `for (const inner${s} of many${s}) {`, `item = inner${s};`);
      section.nested++;
    } else if (step === Step.MAP) {
      body.push(`item = ${call};`, checked('item'));
    } else if (step === Step.FILTER) {
      body.push(`const keep${s} = ${call};`, checked(`keep${s}`), `if (!keep${s}) continue;`);
    } else if (step === Step.FILTER_MAP) {
      body.push(`item = ${call};`, checked('item'), 'if (item === undefined) continue;');
    } else if (step === Step.INSPECT) {
      body.push(`const seen${s} = ${call};`, checked(`seen${s}`));
    } else if (step === Step.ZIP) {
      body.push(`item = [item, z${s}(e${s}_0 * i + e${s}_1)];`);
    } else {
      body.push(extra.length === 0 ? 'item = [i, item];' : `item = [e${s}_0 * i + e${s}_1, item];`);
    }
  });
  const closing = (part: Section) => '}'.repeat(part.nested);
  const { terminal } = pipeline;
  const stopsOnError = terminal === Terminal.TRY_FOR_EACH || terminal === Terminal.TRY_REDUCE;
  if (shortCircuits(terminal) && !stopsOnError) {
    return shortCircuitSource(terminal, prelude, perUnit.lines, closing(perUnit), callbackArity(pipeline));
  }
  const [initial, accumulate] = terminalSource(terminal, callbackArity(pipeline));
  const unitLines = [...perUnit.lines, ...(folded === undefined ? accumulate : []), closing(perUnit)];
  return [
    "'use strict';",
    ...prelude,
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
      : [
          'for (let once = 0; once < 1; once++) {',
          ...[...folded.section.lines, ...accumulate, closing(folded.section)].map((line) => `  ${line}`),
          '}',
        ]),
    'return acc;',
  ].join('\n');
}

/** `statements` that record in the cell that they threw, before the error goes on. */
function failing(statements: string[]): string[] {
  return ['try {', ...statements.map((line) => `  ${line}`), '} catch (error) {', '  matched(i);', '  throw error;', '}'];
}

/**
 * A loop that returns at the first match of its piece (at the last, walking backwards, for
 * `findLast`), and gives up every CHECK_EVERY units once the cell says the rest of the piece
 * cannot change the answer.
 */
function shortCircuitSource(terminal: number, prelude: string[], body: string[], closing: string, arity: number): string {
  const backwards = terminal === Terminal.FIND_LAST;
  const [onMatch, none] = matchSource(terminal);
  // Walking units backwards, the last match is the last one found inside a unit's flatMap loops.
  const lastOfUnit = backwards && closing.length > 0;
  return [
    "'use strict';",
    ...prelude,
    backwards ? 'for (let i = hi - 1; i >= lo; i--) {' : 'for (let i = lo; i < hi; i++) {',
    `  if ((i & ${CHECK_EVERY - 1}) === 0 && ${backwards ? 'settled(lo, i + 1)' : 'settled(i, hi)'}) break;`,
    ...(lastOfUnit ? ['  let last;'] : []),
    ...[...body, `const hit = ${callbackCall(arity)};`, checked('hit'), lastOfUnit ? 'if (hit) last = [item];' : onMatch, closing].map(
      (line) => `  ${line}`,
    ),
    ...(lastOfUnit ? ['  if (last !== undefined) { matched(i); return last; }'] : []),
    '}',
    `return ${none};`,
  ].join('\n');
}

/** What a short-circuit loop does on a match, and what it returns without one (short-circuit.ts). */
function matchSource(terminal: number): [string, string] {
  switch (terminal) {
    case Terminal.ANY:
      return ['if (hit) { matched(i); return true; }', 'false'];
    case Terminal.ALL:
      return ['if (!hit) { matched(i); return false; }', 'true'];
    case Terminal.POSITION_ANY:
    case Terminal.POSITION_FIRST:
      return ['if (hit) { matched(i); return i; }', '-1'];
    default:
      return ['if (hit) { matched(i); return [item]; }', '[]'];
  }
}

/** The accumulator's initial value and the statements that fold `item` into it. */
function terminalSource(terminal: number, callbackArity: number): [string, string[]] {
  switch (terminal) {
    case Terminal.COLLECT:
      return ['[]', ['acc.push(item);']];
    case Terminal.REDUCE:
    case Terminal.TRY_REDUCE:
      return ['terminalArgument', ['acc = terminalFunction(acc, item);', checked('acc')]];
    case Terminal.SUM:
      return ['0', ['acc += item;']];
    case Terminal.PRODUCT:
      return ['1', ['acc *= item;']];
    case Terminal.PARTITION:
      return ['[[], []]', [`const hit = ${callbackCall(callbackArity)};`, checked('hit'), '(hit ? acc[0] : acc[1]).push(item);']];
    case Terminal.UNZIP:
      return ['[[], []]', ['acc[0].push(item[0]);', 'acc[1].push(item[1]);']];
    case Terminal.COLLECT_MAP:
      return ['new Map()', ['acc.set(item[0], item[1]);']];
    case Terminal.COLLECT_SET:
      return ['new Set()', ['acc.add(item);']];
    case Terminal.MIN:
      return ['undefined', ['acc = lesser(acc, item);']];
    case Terminal.MAX:
      return ['undefined', ['acc = greater(acc, item);']];
    case Terminal.COUNT:
      return ['0', ['acc++;']];
    case Terminal.COLLECT_INTO:
      return ['undefined', ['terminalArgument[i] = item;']];
    case Terminal.FOR_EACH:
    case Terminal.TRY_FOR_EACH:
      return ['undefined', [`const done = ${callbackCall(callbackArity)};`, checked('done')]];
    // An item or nothing: [item] or [] (pipeline.ts combine keeps the same rules across pieces).
    case Terminal.MIN_BY:
    case Terminal.MAX_BY: {
      const replaces = terminal === Terminal.MIN_BY ? 'order > 0' : '!(order > 0)';
      return [
        '[]',
        [
          'if (acc.length === 0) { acc = [item]; continue; }',
          'const order = terminalFunction(acc[0], item);',
          checked('order'),
          `if (${replaces}) acc[0] = item;`,
        ],
      ];
    }
    case Terminal.REDUCE_WITH:
      return ['[]', ['if (acc.length === 0) { acc = [item]; continue; }', 'acc[0] = terminalFunction(acc[0], item);', checked('acc[0]')]];
    case Terminal.MIN_BY_KEY:
    case Terminal.MAX_BY_KEY: {
      const replaces = terminal === Terminal.MIN_BY_KEY ? 'key < acc[0][1]' : 'key >= acc[0][1]';
      return [
        '[]',
        [`const key = ${callbackCall(callbackArity)};`, checked('key'), `if (acc.length === 0 || ${replaces}) acc = [[item, key]];`],
      ];
    }
    default:
      throw new Error(`unknown terminal operation ${terminal}`);
  }
}
