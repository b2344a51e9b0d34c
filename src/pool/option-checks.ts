/**
 * The checks of the pool options that need more than a generic validator: where the defaults of
 * `threads` and `queue` come from (the environment), the module URL, the thread names, pinning.
 * Each reports an invalid value as an InvalidOptionError naming the option.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SHARE_ENV } from 'node:worker_threads';
import { InvalidOptionError, messageOf } from '../errors.js';
import { type Validator, describe } from '../options/validators.js';
import { MAX_THREADS } from '../shm/layout.js';
import { type NativeAddon, nativeAddon } from '../native/addon.js';
import type { QueueBackend } from '../queue/work-queue.js';

/** `threads`: absent or 0 means the default, as `numThreads(0)` and `VISCOSE_NUM_THREADS=0` do. */
export function threadCount(option: string, value: unknown): number {
  if (value === undefined || value === 0) return threadsFromEnvironment() ?? availableParallelism();
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_THREADS) {
    throw new InvalidOptionError(option, `expected an integer from 1 to ${MAX_THREADS}, or 0 for the default, got ${describe(value)}`);
  }
  return value;
}

function threadsFromEnvironment(): number | undefined {
  const raw = process.env.VISCOSE_NUM_THREADS;
  if (raw === undefined || raw.trim() === '' || raw.trim() === '0') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError('VISCOSE_NUM_THREADS', `expected a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const backend: Validator<QueueBackend> = (option, value) => {
  if (value !== 'js' && value !== 'native') throw new InvalidOptionError(option, `expected "js" or "native", got ${describe(value)}`);
  return value;
};

/** `queue`: absent means `VISCOSE_QUEUE`, else 'js'. */
export function queueBackend(option: string, value: unknown): QueueBackend {
  if (value === undefined) {
    const raw = process.env.VISCOSE_QUEUE;
    return raw === undefined || raw.trim() === '' ? 'js' : backend('VISCOSE_QUEUE', raw);
  }
  const queue = backend(option, value);
  // Fail here, naming the option, rather than in every worker as it starts.
  if (queue === 'native') withAddon(option, 'the native queue');
  return queue;
}

export function pinning(pin: boolean, threads: number): number[] | undefined {
  if (!pin) return undefined;
  const addon = withAddon('pinThreads', 'thread pinning');
  if (!addon.canPinThreads) {
    process.emitWarning(`pinThreads is not supported on ${process.platform}; worker threads are not pinned`);
    return undefined;
  }
  const cpus = addon.allowedCpus();
  if (cpus.length === 0) {
    process.emitWarning('pinThreads: the CPUs this process may use could not be read; worker threads are not pinned');
    return undefined;
  }
  return Array.from({ length: threads }, (_, i) => cpus[i % cpus.length]);
}

function withAddon(option: string, purpose: string): NativeAddon {
  try {
    return nativeAddon(purpose);
  } catch (error) {
    throw new InvalidOptionError(option, messageOf(error));
  }
}

export function threadNames(prefix: string, namer: ((index: number) => string) | undefined, threads: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < threads; i++) {
    const name = namer === undefined ? `${prefix}-${i}` : nameOf(namer, i);
    if (typeof name !== 'string' || name === '') {
      throw new InvalidOptionError('threadName', `returned ${JSON.stringify(name)} for index ${i}; expected a non-empty string`);
    }
    names.push(name);
  }
  return names;
}

function nameOf(namer: (index: number) => string, index: number): unknown {
  try {
    return namer(index);
  } catch (error) {
    throw new InvalidOptionError('threadName', `threw for index ${index}: ${messageOf(error)}`, { cause: error });
  }
}

export function moduleUrl(option: string, module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string' || module === '') {
    throw new InvalidOptionError(option, 'expected a file URL or an absolute path of the task module');
  }
  if (module.startsWith('file:') || module.startsWith('data:')) return module;
  if (isAbsolute(module)) return pathToFileURL(module).href;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(module)?.[1];
  if (scheme !== undefined) {
    throw new InvalidOptionError(
      option,
      `"${module}" is a ${scheme}: URL; a worker loads its task module from a file: or data: URL, or an absolute path`,
    );
  }
  throw new InvalidOptionError(option, `"${module}" is relative; pass new URL('./tasks.js', import.meta.url) or an absolute path`);
}

export function preloads(option: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidOptionError(option, 'expected an array of module URLs, paths or specifiers');
  return value.map((entry: unknown) => {
    if (entry instanceof URL) return entry.href;
    if (typeof entry !== 'string' || entry === '' || entry.startsWith('.')) {
      throw new InvalidOptionError(option, `expected URLs, absolute paths or package specifiers, got ${JSON.stringify(entry)}`);
    }
    return isAbsolute(entry) ? pathToFileURL(entry).href : entry;
  });
}

export function environment(option: string, value: unknown): NodeJS.Dict<string> | typeof SHARE_ENV | undefined {
  if (value === undefined || typeof value === 'symbol') return value as typeof SHARE_ENV | undefined;
  if (value === null || typeof value !== 'object') throw new InvalidOptionError(option, 'expected an object or SHARE_ENV');
  return value as NodeJS.Dict<string>;
}

/**
 * `workerData`: cloned once here, so that a value `new Worker` could not clone is refused naming the
 * option, rather than failing the first worker's start with a DataCloneError.
 */
export function cloneable(option: string, value: unknown): unknown {
  try {
    structuredClone(value);
  } catch (error) {
    throw new InvalidOptionError(option, `cannot be sent to a worker: ${messageOf(error)}`, { cause: error });
  }
  return value;
}
