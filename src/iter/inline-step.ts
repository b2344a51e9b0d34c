/**
 * Plain functions as iterator steps: `pool.parIter(values).map((x) => x * x)`. A function cannot
 * cross threads, but the source of a self-contained one can: each worker compiles it once and the
 * loop generator (loop.ts) writes it into the loop it compiles for the pipeline's shape, where V8
 * can inline it like any local function.
 *
 * "Self-contained" is checked before anything runs, on a real parse (acorn) and a real scope
 * analysis (eslint-scope), because a captured variable would be silently missing on the worker: the
 * function may read its parameters, its own locals and the standard globals, nothing else.
 */
import { createRequire } from 'node:module';
import type * as Acorn from 'acorn';
import type * as AcornWalk from 'acorn-walk';
import type * as EslintScope from 'eslint-scope';
import type * as ESTree from 'estree';
import { InlineStepError } from '../errors.js';

interface Analysis {
  parse: typeof Acorn.parse;
  ancestor: typeof AcornWalk.ancestor;
  analyze: typeof EslintScope.analyze;
}

let analysis: Analysis | undefined;

/**
 * The parser and the scope analysis, loaded on the first plain function: importing them costs
 * about 20 ms, which neither `import 'viscose'` nor a worker's start should pay unless used.
 */
function loadAnalysis(): Analysis {
  if (analysis === undefined) {
    const require = createRequire(import.meta.url);
    analysis = {
      parse: (require('acorn') as typeof Acorn).parse,
      ancestor: (require('acorn-walk') as typeof AcornWalk).ancestor,
      analyze: (require('eslint-scope') as typeof EslintScope).analyze,
    };
  }
  return analysis;
}

/**
 * The globals an inline step may read: ECMAScript's own, which every worker has and which mean
 * the same there. Host objects (`process`, `require`), `globalThis`, `eval` and `Function` are not
 * among them: through those a step could reach state that differs from thread to thread.
 */
const STANDARD_GLOBALS: ReadonlySet<string> = new Set([
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'Atomics',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'Float32Array',
  'Float64Array',
  'Infinity',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'Intl',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'SharedArrayBuffer',
  'String',
  'Symbol',
  'SyntaxError',
  'TextDecoder',
  'TextEncoder',
  'TypeError',
  'URIError',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'WeakMap',
  'WeakSet',
  'console',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'structuredClone',
  'undefined',
]);

/** Checked sources by function text: a program passes the same few steps again and again. */
const checked = new Map<string, string>();
const MAX_CHECKED = 512;

/**
 * The source to ship for `fn` used as the step or task of `where`: an expression that evaluates
 * to the function. Throws InlineStepError when `fn` cannot run elsewhere from its source alone.
 */
export function inlineStepSource(fn: (...args: never[]) => unknown, where: string): string {
  const text = Function.prototype.toString.call(fn);
  const known = checked.get(text);
  if (known !== undefined) return known;
  const shipped = check(fn, text, where);
  if (checked.size >= MAX_CHECKED) checked.clear();
  checked.set(text, shipped);
  return shipped;
}

function check(fn: (...args: never[]) => unknown, text: string, where: string): string {
  const refuse = (why: string) => new InlineStepError(where, describe(fn), why);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(text)) {
    throw refuse(
      fn.name.startsWith('bound ')
        ? 'it is a bound function, whose receiver and bound arguments cannot travel: write an arrow function that takes them as extra arguments'
        : 'it is a built-in function, whose source is not available: wrap it in an arrow function, as in (x) => Math.sqrt(x)',
    );
  }
  if (/^class\b/.test(text)) throw refuse('it is a class, not a function');
  const parsed = parseFunction(text);
  if (parsed === undefined) throw refuse('its source could not be parsed as a function expression or method');
  const { program, fn: node, shipped } = parsed;
  if (node.async) throw refuse('it is async: a step must return its result, not a promise');
  if (node.generator) throw refuse('it is a generator function: return an array for flatMap instead');
  const receiver = receiverUse(program, node);
  if (receiver !== undefined)
    throw refuse(`it uses \`${receiver}\`, which has no meaning on another thread: pass what it needs as extra arguments`);
  const free = freeVariables(program);
  if (free.length > 0) {
    const names = free.map((name) => `\`${name}\``).join(', ');
    throw refuse(
      `it refers to ${names}, which ${free.length === 1 ? 'is' : 'are'} not defined on the worker: ` +
        `pass ${free.length === 1 ? 'it as an extra argument' : 'them as extra arguments'} after the function, or export the function from the task module and name it`,
    );
  }
  return shipped;
}

/**
 * A function's text as an expression: a function or arrow expression as it stands, a method
 * (`m(x) { ... }`, as a class or object method prints) taken out of an object literal.
 */
function parseFunction(text: string): { program: ESTree.Program; fn: ESTree.Function; shipped: string } | undefined {
  for (const shipped of [`(${text})`, `Object.values({ ${text} })[0]`]) {
    let program: ESTree.Program;
    try {
      // A module is strict code, as the worker compiles it: sloppy-only syntax fails here, not there.
      program = loadAnalysis().parse(shipped, { ecmaVersion: 'latest', sourceType: 'module', ranges: true }) as unknown as ESTree.Program;
    } catch {
      continue;
    }
    const fn = functionOf(program);
    if (fn !== undefined) return { program, fn, shipped };
  }
  return undefined;
}

/** The function node of a parsed `(fn)` or `Object.values({ method })[0]`. */
function functionOf(program: ESTree.Program): ESTree.Function | undefined {
  const statement = program.body[0];
  if (program.body.length !== 1 || statement.type !== 'ExpressionStatement') return undefined;
  const expression = statement.expression;
  if (expression.type === 'FunctionExpression' || expression.type === 'ArrowFunctionExpression') return expression;
  if (expression.type !== 'MemberExpression' || expression.object.type !== 'CallExpression') return undefined;
  const literal = expression.object.arguments[0];
  if (literal?.type !== 'ObjectExpression' || literal.properties.length !== 1) return undefined;
  const property = literal.properties[0];
  if (property.type !== 'Property' || !property.method || property.value.type !== 'FunctionExpression') return undefined;
  return property.value;
}

/**
 * `this`, `super` or `new.target` as the step itself would see them: in its body, or in arrows
 * within it, but not inside a nested ordinary function, which has its own.
 */
function receiverUse(program: ESTree.Program, step: ESTree.Function): string | undefined {
  let found: string | undefined;
  const visit = (what: string) => (_node: unknown, _state: unknown, ancestors: unknown[]) => {
    const own = (ancestors as ESTree.Node[])
      .slice(0, -1)
      .reverse()
      .find((node) => node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration' || node === step);
    if (own === undefined || own === step) found ??= what;
  };
  loadAnalysis().ancestor(program as never, { ThisExpression: visit('this'), Super: visit('super'), MetaProperty: visit('new.target') });
  return found;
}

/** Names the program reads or writes without declaring them, less the standard globals. */
function freeVariables(program: ESTree.Program): string[] {
  const manager = loadAnalysis().analyze(program, { ecmaVersion: 2022, sourceType: 'module' });
  const names = new Set<string>();
  for (const reference of manager.globalScope?.through ?? []) {
    if (!STANDARD_GLOBALS.has(reference.identifier.name)) names.add(reference.identifier.name);
  }
  return [...names];
}

function describe(fn: (...args: never[]) => unknown): string {
  const name = fn.name.replace(/^bound /, '');
  return name === '' ? 'an anonymous function' : `function ${name}`;
}
