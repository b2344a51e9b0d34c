/**
 * How many workers a pool may have: `threads` (a fixed size), or `minThreads`/`maxThreads` and
 * `idleTimeout` (an elastic one). The shared memory is laid out for the largest size; an elastic
 * pool starts `minThreads` workers, starts more while calls wait and no worker is idle, and lets a
 * worker idle longer than `idleTimeout` retire (docs/guide/pool.md, "Elastic size").
 */
import { InvalidOptionError } from '../errors.js';

/** The size options as given (`threads` already resolved to its default when absent). */
export interface SizeOptions {
  /** Whether `threads` was given (and not 0, which asks for the default). */
  threadsGiven: boolean;
  threads: number;
  minThreads: number | undefined;
  maxThreads: number | undefined;
  idleTimeout: number | undefined;
}

export interface PoolSize {
  /** Workers started with the pool, and the fewest an idle pool keeps. */
  minThreads: number;
  /** The most workers the pool runs at once; the shared memory is laid out for this many. */
  maxThreads: number;
  /** How long a worker may stay idle before it retires; `Infinity` for a fixed-size pool. */
  idleTimeoutMs: number;
}

/** An elastic pool keeps an idle worker this long, unless told otherwise. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;

/**
 * Checks the combination: `threads` is the fixed-size shorthand and excludes the elastic options;
 * `minThreads` alone grows up to the default thread count (or itself, if larger); `maxThreads`
 * alone keeps one worker when idle; `minThreads` must not exceed `maxThreads`; `idleTimeout`
 * belongs to an elastic pool.
 */
export function resolvePoolSize(given: SizeOptions): PoolSize {
  const { threadsGiven, threads, minThreads, maxThreads, idleTimeout } = given;
  if (threadsGiven) {
    const elastic = minThreads !== undefined ? 'minThreads' : maxThreads !== undefined ? 'maxThreads' : undefined;
    if (elastic !== undefined) {
      throw new InvalidOptionError(
        'threads',
        `sets a fixed size and cannot be combined with ${elastic}; give either threads, or minThreads and maxThreads`,
      );
    }
    if (idleTimeout !== undefined) {
      throw new InvalidOptionError('idleTimeout', 'a pool of fixed `threads` never retires its workers; give minThreads and maxThreads');
    }
  }
  if (minThreads === undefined && maxThreads === undefined) return { minThreads: threads, maxThreads: threads, idleTimeoutMs: Infinity };
  const max = maxThreads ?? Math.max(minThreads!, threads);
  const min = minThreads ?? 1;
  if (min > max) {
    throw new InvalidOptionError('minThreads', `minThreads (${min}) must not exceed maxThreads (${max})`);
  }
  return { minThreads: min, maxThreads: max, idleTimeoutMs: idleTimeout ?? DEFAULT_IDLE_TIMEOUT_MS };
}
