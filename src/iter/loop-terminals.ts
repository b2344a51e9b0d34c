/**
 * The terminal's part of a compiled loop (loop.ts), as source text: the accumulator and how an
 * item goes into it, or, for a terminal that stops early, what a match does and what a piece
 * without one returns. Every text here reads the item from `item` and calls the terminal's task as
 * `terminalFunction`.
 */
import { CALLBACK_TERMINALS, type Pipeline, Terminal } from './pipeline.js';
import { CHECK_EVERY } from './short-circuit.js';

/** A value that a step returned must not be a promise: the loop cannot wait for it. */
export function checked(variable: string): string {
  return `if (typeof ${variable} === 'object' && ${variable} !== null && typeof ${variable}.then === 'function') notSynchronous(${variable});`;
}

/** How many extra arguments a callback terminal passes after the item (0 for the others). */
export function callbackArity(pipeline: Pipeline): number {
  return CALLBACK_TERMINALS.has(pipeline.terminal) ? (pipeline.terminalArgument as unknown[]).length : 0;
}

/** `terminalFunction(item, t_0, ...)` as source text. */
function callbackCall(arity: number): string {
  const args = ['item'];
  for (let k = 0; k < arity; k++) args.push(`t_${k}`);
  return `terminalFunction(${args.join(', ')})`;
}

/** `statements` that record in the cell that they threw, before the error goes on. */
export function failing(statements: string[]): string[] {
  return ['try {', ...statements.map((line) => `  ${line}`), '} catch (error) {', '  matched(i);', '  throw error;', '}'];
}

/**
 * A loop that returns at the first match of its piece (at the last, walking backwards, for
 * `findLast`), and gives up every CHECK_EVERY units once the cell says the rest of the piece
 * cannot change the answer.
 */
export function shortCircuitSource(terminal: number, prelude: string[], body: string[], closing: string, arity: number): string {
  const backwards = terminal === Terminal.FIND_LAST;
  const [onMatch, none] = matchSource(terminal);
  // Walking units backwards, the last match is the last one found inside a unit's flatMap loops.
  const lastOfUnit = backwards && closing.length > 0;
  return [
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
export function terminalSource(terminal: number, callbackArity: number): [string, string[]] {
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
