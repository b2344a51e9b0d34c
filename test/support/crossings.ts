// Values sent through a pool and back, with the task module test/fixtures/values.mjs: through
// `run`, or as the second call of a `runBatch` (so that a batch of mixed calls is exercised).
import type { ThreadPool } from 'viscose';
import type * as Values from '../fixtures/values.mjs';

export type Way = 'run' | 'runBatch';
export const WAYS: Way[] = ['run', 'runBatch'];

/** `pool` is asked for at each call: the tests create it in a beforeAll. */
export function crossings(pool: () => ThreadPool<typeof Values>) {
  return {
    /** `value` sent to a worker and back. */
    async sent(way: Way, value: unknown): Promise<unknown> {
      if (way === 'run') return pool().run('echo', value);
      return (await pool().runBatch('echo', [[1], [value]]))[1];
    },
    /** The sample `kind`, built and returned by a worker. */
    async returned(way: Way, kind: string): Promise<unknown> {
      if (way === 'run') return pool().run('make', kind);
      return (await pool().runBatch('make', [['number'], [kind]]))[1];
    },
  };
}
