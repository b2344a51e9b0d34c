// Scopes are typed from the tasks they spawn: in task code by the function, from the main thread by
// the export name. Each kind of scope offers only its own spawn.
import { describe, expectTypeOf, it } from 'vitest';
import type { PoolScope, PoolScopeFifo, ThreadPool } from 'viscose';
import { type Scope, type ScopeFifo, currentScope, currentScopeFifo, scope, scopeFifo } from 'viscose/worker';
import type * as TypedTasks from '../fixtures/typed-tasks.js';

declare function scale(size: { width: number; height: number }, factor: number): { width: number; height: number };

describe('scopes in task code', () => {
  it('types spawnFifo and spawnBroadcast by the task', () => {
    expectTypeOf(scopeFifo(() => 1)).toEqualTypeOf<number>();
    scopeFifo((s) => {
      expectTypeOf(s).toEqualTypeOf<ScopeFifo>();
      s.spawnFifo(scale, { width: 1, height: 2 }, 3);
      s.spawnBroadcast(scale, { width: 1, height: 2 }, 3);
      // @ts-expect-error the factor must be a number
      s.spawnFifo(scale, { width: 1, height: 2 }, 'twice');
      // @ts-expect-error a FIFO scope has no LIFO spawn
      s.spawn(scale, { width: 1, height: 2 }, 3);
    });
    scope((s) => {
      s.spawnBroadcast(scale, { width: 1, height: 2 }, 3);
      // @ts-expect-error a missing argument
      s.spawnBroadcast(scale, { width: 1, height: 2 });
      // @ts-expect-error an ordinary scope has no FIFO spawn
      s.spawnFifo(scale, { width: 1, height: 2 }, 3);
    });
  });

  it('finds the current scope of each kind', () => {
    expectTypeOf(currentScope()).toEqualTypeOf<Scope | undefined>();
    expectTypeOf(currentScopeFifo()).toEqualTypeOf<ScopeFifo | undefined>();
  });
});

describe('scopes from the main thread', () => {
  type Pool = ThreadPool<typeof TypedTasks>;

  it('types spawnFifo and spawnBroadcast by the export name', () => {
    const pool = {} as Pool;
    expectTypeOf(pool.scopeFifo(() => 'done')).toEqualTypeOf<Promise<string>>();
    void pool.scopeFifo((s) => {
      expectTypeOf(s).toEqualTypeOf<PoolScopeFifo<typeof TypedTasks>>();
      s.spawnFifo('scale', { width: 1, height: 2 }, 3);
      s.spawnBroadcast('describeSize', { width: 1, height: 2 });
      // @ts-expect-error not an export
      s.spawnFifo('resize', 1);
      // @ts-expect-error a FIFO scope has no LIFO spawn
      s.spawn('scale', { width: 1, height: 2 }, 3);
    });
    void pool.scope((s) => {
      expectTypeOf(s).toEqualTypeOf<PoolScope<typeof TypedTasks>>();
      // @ts-expect-error the factor must be a number
      s.spawnBroadcast('scale', { width: 1, height: 2 }, 'twice');
    });
  });
});
