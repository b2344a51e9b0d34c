/**
 * The flags a worker starts with when the pool is given no `execArgv`. Node's default is to hand a
 * worker its parent's options, and some of them describe how the main program was started rather
 * than how JavaScript should run: a worker that inherits `--input-type=module` (every
 * `node --input-type=module -e "…"` one-liner) refuses to load its entry file with
 * ERR_INPUT_TYPE_NOT_ALLOWED. Such flags are dropped; everything else is kept.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { InvalidOptionError } from '../errors.js';

/**
 * Options that say where the main program comes from or how the main process runs it (a string to
 * evaluate, a syntax check, a REPL, the test runner, the file watcher), with whether each takes a
 * value. None of them means anything to a worker whose code is a file, and `--input-type` makes
 * it fail.
 */
const MAIN_PROGRAM_FLAGS = new Map<string, boolean>([
  ['--input-type', true],
  ['--eval', true],
  ['-e', true],
  ['--print', true],
  ['-p', true],
  ['--check', false],
  ['-c', false],
  ['--interactive', false],
  ['-i', false],
  ['--test', false],
  ['--watch', false],
  ['--watch-path', true],
  ['--watch-preserve-output', false],
]);

/** Options that take a value even when it starts with a dash (a script, a module specifier). */
const VALUE_ALWAYS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);

/** One option as it stands in `process.execArgv`: the flag, then its value if given apart. */
interface Option {
  name: string;
  args: string[];
}

/** Splits an execArgv list into options, each with the separate value it took, if any. */
function options(argv: readonly string[]): Option[] {
  const parsed: Option[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.startsWith('--') ? arg.split('=', 1)[0]! : arg;
    const next = argv[i + 1];
    const takesValue =
      !arg.includes('=') &&
      next !== undefined &&
      (MAIN_PROGRAM_FLAGS.get(name) === true || VALUE_ALWAYS.has(name) || !next.startsWith('-'));
    parsed.push({ name, args: takesValue ? [arg, argv[++i]!] : [arg] });
  }
  return parsed;
}

/**
 * What a worker should be given as `execArgv`: the caller's list as it is when there is one;
 * otherwise `undefined` (Node's inheritance) unless the parent's flags include one of
 * MAIN_PROGRAM_FLAGS, in which case the parent's list without them.
 */
export function workerExecArgv(given: string[] | undefined, parent: readonly string[] = process.execArgv): string[] | undefined {
  if (given !== undefined) return given;
  const parsed = options(parent);
  if (!parsed.some((option) => MAIN_PROGRAM_FLAGS.has(option.name))) return undefined;
  return parsed.filter((option) => !MAIN_PROGRAM_FLAGS.has(option.name)).flatMap((option) => option.args);
}

/**
 * Flags an explicit execArgv may not hold, learnt from the first worker that refused them: V8 and
 * process-wide options (`--max-old-space-size`, `--expose-gc`, …), which inheritance allows but an
 * explicit list does not. They already apply to the whole process, workers included, so leaving
 * them out changes only what the worker's `process.execArgv` shows.
 */
let refusedInExplicitList: ReadonlySet<string> | undefined;

/**
 * Starts a Worker. When the pool derived its execArgv from the parent's (`derived`), options Node
 * accepts only by inheritance are dropped: Node names them in ERR_WORKER_INVALID_EXEC_ARGV, which is
 * raised before any thread starts.
 */
export function startWorker(entry: URL, workerOptions: WorkerOptions, derived: boolean): Worker {
  const execArgv = workerOptions.execArgv;
  if (!derived || execArgv === undefined) {
    try {
      return new Worker(entry, workerOptions);
    } catch (error) {
      // The caller's own list: say which option it was.
      if (!isInvalidExecArgv(error)) throw error;
      throw new InvalidOptionError('execArgv', (error as Error).message, { cause: error });
    }
  }
  const withoutRefused = (refused: ReadonlySet<string>) =>
    options(execArgv)
      .filter((option) => !refused.has(option.name))
      .flatMap((option) => option.args);
  if (refusedInExplicitList !== undefined) return new Worker(entry, { ...workerOptions, execArgv: withoutRefused(refusedInExplicitList) });
  try {
    return new Worker(entry, workerOptions);
  } catch (error) {
    const named = refusedFlags(error);
    if (named === undefined) throw error;
    refusedInExplicitList = new Set(named.split(', ').map((flag) => flag.split('=', 1)[0]!));
    return new Worker(entry, { ...workerOptions, execArgv: withoutRefused(refusedInExplicitList) });
  }
}

function isInvalidExecArgv(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_WORKER_INVALID_EXEC_ARGV';
}

/** The flags Node names in an ERR_WORKER_INVALID_EXEC_ARGV, if that is what `error` is. */
function refusedFlags(error: unknown): string | undefined {
  return isInvalidExecArgv(error) ? /flags: (.*)$/.exec((error as Error).message)?.[1] : undefined;
}
