// A task module whose top-level await never settles: create() used to wait for ever, and the
// workers kept the process alive. A start-up limit (startTimeout) now rejects with a typed error
// naming the module and the worker, and terminates the workers; a replacement worker that hangs
// the same way is given up as one that cannot start. The same for `viscose worker`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, StartTimeoutError, ThreadPool, ThreadPoolError, WorkerCrashedError } from 'viscose';
import { rejection } from '../../support/rejection.js';
import { waitFor } from '../../support/wait-for.js';

const hanging = new URL('../../fixtures/hangs-at-load.mjs', import.meta.url);
const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

describe('a task module that never finishes loading', () => {
  it('create() rejects with StartTimeoutError naming the module and a worker', async () => {
    const error = await rejection(ThreadPool.create({ module: hanging, threads: 2, startTimeout: 300, threadNamePrefix: 'loader' }));
    expect(error).toBeInstanceOf(StartTimeoutError);
    expect(error).toMatchObject({ code: 'VISCOSE_START_TIMEOUT', module: hanging.href, timeoutMs: 300 });
    expect((error as StartTimeoutError).worker).toMatch(/^loader-[01]$/);
    expect((error as Error).message).toContain(hanging.href);
  });

  it('the rejected create() leaves nothing that keeps the process alive', async () => {
    const script = fileURLToPath(new URL('../../fixtures/scripts/hangs-at-create.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 20_000 });
    expect(stdout.trim()).toBe('StartTimeoutError');
  });

  it('a replacement that hangs at load is terminated and given up; the pool goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viscose-hang-'));
    const marker = join(dir, 'hang');
    const errors: Error[] = [];
    const pool = await ThreadPool.create({
      module: hanging,
      threads: 2,
      startTimeout: 300,
      env: { ...process.env, VISCOSE_TEST_HANG_FILE: marker },
      onError: (error) => errors.push(error),
    });
    try {
      writeFileSync(marker, '');
      expect(await rejection(pool.run('exit', 3))).toBeInstanceOf(WorkerCrashedError);
      await waitFor(() => errors.some((error) => error.cause instanceof StartTimeoutError), 10_000);
      const givenUp = errors.find((error) => error.cause instanceof StartTimeoutError)!;
      expect(givenUp).toBeInstanceOf(ThreadPoolError);
      expect(givenUp.message).toMatch(/could not be restarted .*startTimeout.*it is not replaced/);
      expect(await pool.run('add', 2, 3)).toBe(5);
    } finally {
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('startTimeout takes a positive number of milliseconds or Infinity', async () => {
    for (const startTimeout of [0, -5, Number.NaN, '100']) {
      const error = await rejection(ThreadPool.create({ module: hanging, threads: 1, startTimeout: startTimeout as number }));
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error).toMatchObject({ option: 'startTimeout' });
    }
  });

  it('viscose worker exits with the StartTimeoutError message', async () => {
    const run = promisify(execFile);
    const failure = await run(
      process.execPath,
      [
        CLI,
        'worker',
        '--module',
        fileURLToPath(hanging),
        '--queue',
        'q',
        '--redis',
        'redis://127.0.0.1:1',
        '--threads',
        '1',
        '--start-timeout',
        '300',
      ],
      { timeout: 20_000 },
    ).then(
      () => expect.fail('viscose worker should have failed'),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('did not load');
    expect(failure.stderr).toContain('startTimeout');
  });
});
