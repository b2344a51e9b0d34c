/**
 * What every facade's options table gives its callers: unknown names refused with the known ones
 * listed, deprecated names accepted with one warning, `undefined` as absent, and a builder method
 * for every pool option.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidOptionError, ParallelProcessor, ThreadPool, ThreadPoolBuilder } from 'viscose';
import { POOL_OPTIONS } from '../../src/pool/options.js';

const module = new URL('../fixtures/requests.mjs', import.meta.url);

function deprecations(): { codes: string[]; stop(): void } {
  const codes: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.name === 'DeprecationWarning' && warning.code?.startsWith('VISCOSE_DEP_')) codes.push(warning.code);
  };
  process.on('warning', listener);
  return { codes, stop: () => process.off('warning', listener) };
}

describe('options tables', () => {
  afterEach(() => vi.restoreAllMocks());

  it('refuses an unknown option, naming it and listing the known ones', async () => {
    const error = await ThreadPool.create({ module, threds: 2 } as never).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ option: 'threds' });
    expect((error as Error).message).toMatch(
      /unknown option; known: module, threads, minThreads, maxThreads, idleTimeout, threadNamePrefix/,
    );
  });

  it('takes the processor options under their deprecated names, warning once per name', async () => {
    const warnings = deprecations();
    try {
      const old = { module, handler: 'handle', threadCount: 1, enableStatistics: false, taskTimeoutMs: 5000, monitorIntervalMs: 500 };
      const first = await ParallelProcessor.create(old as never);
      const second = await ParallelProcessor.create(old as never);
      try {
        expect(first.threads).toBe(1);
        expect(await first.process({ id: 1, payload: 'x' } as never)).toBeDefined();
        expect(first.statistics().latency.count).toBe(0); // statistics off: no histograms
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
      await vi.waitFor(() =>
        expect(warnings.codes.sort()).toEqual([
          'VISCOSE_DEP_ENABLE_STATISTICS',
          'VISCOSE_DEP_MONITOR_INTERVAL_MS',
          'VISCOSE_DEP_TASK_TIMEOUT_MS',
          'VISCOSE_DEP_THREAD_COUNT',
        ]),
      );
    } finally {
      warnings.stop();
    }
  });

  it('names a bad value by the name it was given under, and refuses both names of one option', async () => {
    await expect(ParallelProcessor.create({ module, handler: 'handle', taskTimeoutMs: 0 } as never)).rejects.toMatchObject({
      option: 'taskTimeoutMs',
    });
    await expect(ParallelProcessor.create({ module, handler: 'handle', threads: 1, threadCount: 2 } as never)).rejects.toThrow(
      /threadCount: is the deprecated name of `threads`, which is given too/,
    );
  });

  it('treats undefined as absent and null as a value', async () => {
    const pool = await ThreadPool.create({ module, threads: 1, maxPendingTasks: undefined });
    try {
      expect(pool.settings.maxPendingTasks).toBe(1024);
    } finally {
      await pool.close();
    }
    await expect(ThreadPool.create({ module, threads: 1, maxPendingTasks: null as never })).rejects.toMatchObject({
      option: 'maxPendingTasks',
    });
  });

  it('gives the builder one method per pool option, statistics and queue included', async () => {
    for (const name of Object.keys(POOL_OPTIONS)) {
      expect(typeof (ThreadPoolBuilder.prototype as unknown as Record<string, unknown>)[name], name).toBe('function');
    }
    const pool = await new ThreadPoolBuilder().module(module).threads(1).statistics(true).queue('js').maxPendingTasks(16).build();
    try {
      expect(pool.settings).toMatchObject({ threads: 1, statistics: true, queue: 'js', maxPendingTasks: 16 });
    } finally {
      await pool.close();
    }
  });

  it('keeps the builder’s earlier names working, with a deprecation warning', async () => {
    const warnings = deprecations();
    const errors: Error[] = [];
    try {
      const pool = await new ThreadPoolBuilder()
        .module(module)
        .numThreads(1)
        .errorHandler((error) => errors.push(error))
        .build();
      try {
        expect(pool.threads).toBe(1);
        expect(pool.settings.onError).toBeTypeOf('function');
      } finally {
        await pool.close();
      }
      await vi.waitFor(() => expect(warnings.codes.sort()).toEqual(['VISCOSE_DEP_ERROR_HANDLER', 'VISCOSE_DEP_NUM_THREADS']));
    } finally {
      warnings.stop();
    }
  });
});
