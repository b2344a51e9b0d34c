// The cluster client is typed from the task module as a pool is: task names, arguments and
// results, with or without call options.
import { describe, expectTypeOf, it } from 'vitest';
import type { ClusterClient } from 'viscose/bullmq';

declare function add(a: number, b: number): number;
declare function resize(image: string, width: number): Promise<{ width: number; height: number }>;

const tasks = { add, resize };
type Tasks = typeof tasks;

describe('ClusterClient', () => {
  const client = {} as ClusterClient<Tasks>;

  it('types results from the tasks, awaited', () => {
    expectTypeOf(client.run('add', 1, 2)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(client.run('resize', 'a.png', 200)).toEqualTypeOf<Promise<{ width: number; height: number }>>();
    expectTypeOf(client.runBatch('add', [[1, 2]])).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(client.runBatchSettled('add', [[1, 2]])).toEqualTypeOf<Promise<PromiseSettledResult<number>[]>>();
    expectTypeOf(client.with({ priority: 'high' }).run('add', 1, 2)).toEqualTypeOf<Promise<number>>();
  });

  it('rejects unknown tasks, wrong arguments and unknown priorities', () => {
    // @ts-expect-error not a task of the module
    void client.run('subtract', 1, 2);
    // @ts-expect-error a string where a number goes
    void client.run('add', 1, '2');
    // @ts-expect-error an argument missing
    void client.runBatch('resize', [['a.png']]);
    // @ts-expect-error not a priority
    void client.with({ priority: 'urgent' });
    // @ts-expect-error the client names its jobs
    void client.with({ job: { jobId: 'mine' } });
  });
});
