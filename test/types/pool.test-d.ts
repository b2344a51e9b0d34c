// The client is typed from the task module: names, arguments and results are checked by tsc.
import { describe, expectTypeOf, it } from 'vitest';
import type {
  ProcessorOptions,
  TaskArgs,
  TaskName,
  TaskResult,
  ThreadPool,
  ThreadPoolBuilder,
  WorkerCreated,
  WorkerExitReason,
  WorkerExited,
} from 'viscose';
import type * as TypedTasks from '../fixtures/typed-tasks.js';

type Pool = ThreadPool<typeof TypedTasks>;

describe('ThreadPool<typeof import(module)>', () => {
  it('accepts only function exports as task names', () => {
    expectTypeOf<TaskName<typeof TypedTasks>>().toEqualTypeOf<'scale' | 'describeSize'>();
  });

  it('types the arguments and the awaited result', () => {
    expectTypeOf<TaskArgs<typeof TypedTasks, 'scale'>>().toEqualTypeOf<[size: TypedTasks.Size, factor: number]>();
    expectTypeOf<TaskResult<typeof TypedTasks, 'describeSize'>>().toEqualTypeOf<string>();
    expectTypeOf<Pool['run']>().toBeFunction();
    const pool = {} as Pool;
    expectTypeOf(pool.run('scale', { width: 1, height: 2 }, 3)).toEqualTypeOf<Promise<TypedTasks.Size>>();
    expectTypeOf(pool.runBatch('describeSize', [[{ width: 1, height: 2 }]])).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(pool.runBatchSettled('describeSize', [[{ width: 1, height: 2 }]])).toEqualTypeOf<
      Promise<PromiseSettledResult<string>[]>
    >();
    expectTypeOf(pool.with({ priority: 'low' }).run('scale', { width: 1, height: 2 }, 3)).toEqualTypeOf<Promise<TypedTasks.Size>>();
  });

  it('rejects wrong names, arguments and result uses', () => {
    const pool = {} as Pool;
    // @ts-expect-error not an export
    void pool.run('resize', 1);
    // @ts-expect-error a constant, not a function
    void pool.run('notATask');
    // @ts-expect-error the factor must be a number
    void pool.run('scale', { width: 1, height: 2 }, 'twice');
    // @ts-expect-error a missing argument
    void pool.run('scale', { width: 1, height: 2 });
    // @ts-expect-error the result is a Size, not a string
    const wrong: Promise<string> = pool.run('scale', { width: 1, height: 2 }, 3);
    void wrong;
    // @ts-expect-error each batch entry is an argument list
    void pool.runBatch('scale', [{ width: 1, height: 2 }]);
    // @ts-expect-error not a priority
    void pool.with({ priority: 'urgent' });
  });

  it('lets an untyped pool call anything', () => {
    const pool = {} as ThreadPool;
    expectTypeOf(pool.run('anything', 1, 'two')).toEqualTypeOf<Promise<unknown>>();
  });

  it('types the builder handlers by export name', () => {
    const builder = {} as ThreadPoolBuilder<typeof TypedTasks>;
    builder.startHandler('scale');
    // @ts-expect-error not an export
    builder.startHandler('warmUp');
  });

  it('types every builder method as its option, chained', () => {
    const builder = {} as ThreadPoolBuilder<typeof TypedTasks>;
    expectTypeOf(builder.threads(2).statistics(true).queue('js')).toEqualTypeOf<ThreadPoolBuilder<typeof TypedTasks>>();
    // @ts-expect-error threads is a number
    builder.threads('2');
    // @ts-expect-error no such queue
    builder.queue('rust');
  });

  it('still types the processor options under their deprecated names', () => {
    const current: ProcessorOptions = { module: 'file:///tasks.js', handler: 'handle', threads: 2, statistics: false, timeout: 5 };
    const deprecated: ProcessorOptions = { module: 'file:///tasks.js', handler: 'handle', threadCount: 2, enableStatistics: false };
    void [current, deprecated];
    // @ts-expect-error threadCount is a number
    const wrong: ProcessorOptions = { module: 'file:///tasks.js', handler: 'handle', threadCount: '2' };
    void wrong;
  });

  it('types the call observer and chunkSize', () => {
    const pool = {} as ThreadPool<typeof TypedTasks>;
    pool.with({ chunkSize: 8, observer: { ran: (runMs: number, calls: number) => runMs * calls } });
    // @ts-expect-error ran is told numbers
    pool.with({ observer: { ran: (runMs: string) => runMs } });
  });

  it('types the pool events by name', () => {
    const pool = {} as Pool;
    pool.on('workerCreate', (worker) => expectTypeOf(worker).toEqualTypeOf<WorkerCreated>());
    pool.on('workerExit', (worker) => expectTypeOf(worker.why).toEqualTypeOf<WorkerExitReason>());
    pool.once('error', (error) => expectTypeOf(error).toEqualTypeOf<Error>());
    pool.on('drain', () => {});
    // @ts-expect-error needsDrain has no argument
    pool.on('needsDrain', (value: number) => value);
    // @ts-expect-error no such event
    pool.on('workerDestroy', () => {});
    expectTypeOf<WorkerExited['exitCode']>().toEqualTypeOf<number>();
    expectTypeOf(pool.needsDrain).toEqualTypeOf<boolean>();
    expectTypeOf(pool.drain()).toEqualTypeOf<Promise<void>>();
    pool.with({ terminateOnAbort: true });
  });
});
