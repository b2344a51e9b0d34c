/**
 * How many workers a pool may have: `threads` (a fixed size), or `minThreads`/`maxThreads` (an
 * elastic one). The shared memory is laid out for the largest size; an elastic pool starts
 * `minThreads` workers and starts more while calls wait and no worker is idle
 * (docs/guide/pool.md, "Elastic size").
 */
import { InvalidOptionError } from '../errors.js';

/** The size options as given (`threads` already resolved to its default when absent). */
export interface SizeOptions {
  /** Whether `threads` was given (and not 0, which asks for the default). */
  threadsGiven: boolean;
  threads: number;
  minThreads: number | undefined;
  maxThreads: number | undefined;
}

export interface PoolSize {
  /** Workers started with the pool. */
  minThreads: number;
  /** The most workers the pool runs at once; the shared memory is laid out for this many. */
  maxThreads: number;
}

/**
 * Checks the combination: `threads` is the fixed-size shorthand and excludes the elastic options;
 * `minThreads` alone grows up to the default thread count (or itself, if larger); `maxThreads`
 * alone starts one worker; `minThreads` must not exceed `maxThreads`.
 */
export function resolvePoolSize(given: SizeOptions): PoolSize {
  const { threadsGiven, threads, minThreads, maxThreads } = given;
  if (threadsGiven) {
    const elastic = minThreads !== undefined ? 'minThreads' : maxThreads !== undefined ? 'maxThreads' : undefined;
    if (elastic !== undefined) {
      throw new InvalidOptionError(
        'threads',
        `sets a fixed size and cannot be combined with ${elastic}; give either threads, or minThreads and maxThreads`,
      );
    }
  }
  if (minThreads === undefined && maxThreads === undefined) return { minThreads: threads, maxThreads: threads };
  const max = maxThreads ?? Math.max(minThreads!, threads);
  const min = minThreads ?? 1;
  if (min > max) {
    throw new InvalidOptionError('minThreads', `minThreads (${min}) must not exceed maxThreads (${max})`);
  }
  return { minThreads: min, maxThreads: max };
}
