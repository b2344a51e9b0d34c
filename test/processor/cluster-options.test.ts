// ParallelProcessor on a cluster: the options that concern a pool of its own, and the per-request
// options a cluster cannot honour, are refused with an InvalidOptionError that says why. None of
// this reaches a cluster: the client here records its calls and answers them itself.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidOptionError, ParallelProcessor, type ProcessorCalls, type ProcessorCluster } from 'viscose';

type Handlers = { double(request: { id: number }): number };

/** A cluster that runs `double` at once, and records the options of every `with()`. */
function fakeCluster(): ProcessorCluster<Handlers> & { withs: unknown[] } {
  const double = ({ id }: { id: number }) => id * 2;
  const calls = {
    run: async (_name: string, request: { id: number }) => double(request),
    runBatchSettled: async (_name: string, argsList: Iterable<[{ id: number }]>) =>
      Array.from(argsList, ([request]) => ({ status: 'fulfilled', value: double(request) })),
  } as unknown as ProcessorCalls<Handlers>;
  const withs: unknown[] = [];
  return {
    withs,
    with(options) {
      withs.push(options);
      return calls;
    },
  };
}

function refusal(make: () => unknown): InvalidOptionError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('nothing was refused');
}

describe('a processor on a cluster', () => {
  it.each([
    ['module', new URL('../fixtures/requests.mjs', import.meta.url), /task module/],
    ['threads', 2, /pools of their own/],
    ['threadCount', 2, /pools of their own/],
    ['threadNamePrefix', 'rpc', /pools of their own/],
    ['pool', { spinMicros: 0 }, /pools of their own/],
    ['retries', 1, /jobOptions\.attempts/],
    ['timeout', 100, /does not tell when a node starts a job/],
    ['taskTimeoutMs', 100, /does not tell when a node starts a job/],
  ])('refuses the pool option %s, naming it and `cluster`', async (name, value, why) => {
    const options = { cluster: fakeCluster(), handler: 'double', [name]: value };
    const error = await ParallelProcessor.create(options as never).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(name);
    expect((error as InvalidOptionError).message).toContain('`cluster`');
    expect((error as InvalidOptionError).message).toMatch(why);
  });

  it('refuses what is not a cluster client', async () => {
    await expect(ParallelProcessor.create<Handlers, 'double'>({ cluster: {} as never, handler: 'double' })).rejects.toThrow(
      /invalid option cluster: expected the client/,
    );
  });

  it('refuses a per-request timeout and onEvent, in every method, before anything runs', async () => {
    const cluster = fakeCluster();
    const processor = await ParallelProcessor.create<Handlers, 'double'>({ cluster, handler: 'double' });
    const withs = cluster.withs.length;
    const timeout = refusal(() => processor.process({ id: 1 }, { timeout: 50 }));
    expect(timeout.option).toBe('timeout');
    expect(timeout.message).toMatch(/AbortSignal\.timeout/);
    expect(refusal(() => processor.executeParallelBatch([{ id: 1 }], { timeout: 50 })).option).toBe('timeout');
    expect(refusal(() => processor.executeChunkedParallel([{ id: 1 }], { onEvent: () => {} })).option).toBe('onEvent');
    expect(refusal(() => processor.stream([{ id: 1 }], { onEvent: () => {} })).message).toMatch(/do not travel back/);
    expect(refusal(() => processor.tryProcess({ id: 1 }, { timeout: 50 })).option).toBe('timeout');
    expect(cluster.withs.length).toBe(withs);
    expect(processor.statistics().requests.submitted).toBe(0);
    await processor.close();
  });

  it('runs its requests through the cluster with their priority, and has no pool of its own', async () => {
    const cluster = fakeCluster();
    await using processor = await ParallelProcessor.create<Handlers, 'double'>({ cluster, handler: 'double', maxPendingTasks: 3 });
    expect(await processor.process({ id: 4 }, { priority: 'high' })).toBe(8);
    expect(cluster.withs.at(-1)).toMatchObject({ priority: 'high' });
    const results = await processor.executeChunkedParallel([{ id: 1 }, { id: 2 }]);
    expect(results.map((result) => result.ok && result.value)).toEqual([2, 4]);
    expect(processor.pool).toBeUndefined();
    expectTypeOf(processor.pool).toEqualTypeOf<undefined>();
    expectTypeOf(processor.statistics().pool).toEqualTypeOf<undefined>();
    expect(processor.threads).toBe(3);
    const statistics = processor.statistics();
    expect(statistics.pool).toBeUndefined();
    expect(statistics.requests.completed).toBe(3);
    expect(processor.metrics()).not.toContain('viscose_pool_');
    expect(processor.metrics()).toContain('viscose_processor_requests_total{outcome="completed"} 3');
  });
});
