/**
 * A pool's life, in one place:
 *
 *   running ──every worker gone──▶ failed
 *   running | failed ──close()──▶ closing ──every call settled, workers shut down──▶ closed
 *   running | failed | closing ──terminate()──▶ terminating ──threads gone──▶ closed
 *
 * Once failed, every call fails with the failure (`ThreadPoolError`), whatever comes after;
 * otherwise a pool that is not running refuses calls with PoolClosedError. A close that outlives
 * its timeout turns into a terminate.
 */
import { InvalidOptionError, PoolClosedError, type ThreadPoolError } from '../errors.js';
import { millisecondsOrZero } from '../options/validators.js';
import { startTimer } from '../time/timer.js';

/** Options of `close()`. */
export interface CloseOptions {
  /** Milliseconds to wait for the calls accepted to settle; past them the pool is terminated. Default: no limit. */
  timeout?: number;
}

export type Phase = 'running' | 'failed' | 'closing' | 'terminating' | 'closed';

/** How the pool carries out the steps of closing and terminating. */
export interface LifecycleSteps {
  /** Calls accepted and not settled. */
  pending(): number;
  /** Every call settled: the workers stop, run their exit handlers and end. Resolves with what failed. */
  stopWorkers(): Promise<unknown[]>;
  /** Settles every call not settled yet with `error`. */
  abandonAll(error: Error): void;
  /** Ends every worker thread now. */
  terminateWorkers(): Promise<unknown>;
  /** Nothing runs any more: the shared buffers and buffer ports go. */
  releaseBuffers(): void;
  /** The data plane's watcher and its hold on the process go. */
  dispose(): void;
  /** A failure nobody awaits (the pool's `onError`). */
  report(error: unknown): void;
}

export class Lifecycle {
  private current: Phase = 'running';
  /** Why every call fails, once every worker is gone. */
  private failedWith: ThreadPoolError | undefined;
  private closing: Promise<void> | undefined;
  /** Set when close() finished by itself, not cut short by terminate(). */
  private closedGracefully = false;
  /** terminate()'s work, once it was called. */
  private terminating: Promise<void> | undefined;
  private drainedWaiters: (() => void)[] = [];

  constructor(private readonly steps: LifecycleSteps) {}

  get phase(): Phase {
    return this.current;
  }

  get failure(): ThreadPoolError | undefined {
    return this.failedWith;
  }

  /** Neither close() nor terminate() was called. */
  get open(): boolean {
    return this.current === 'running' || this.current === 'failed';
  }

  /** terminate() was called, or the pool closed: no worker runs anything any more. */
  get stopped(): boolean {
    return this.current === 'terminating' || this.current === 'closed';
  }

  /** Throws why the pool takes no call, if it takes none. */
  assertAccepting(): void {
    if (this.failedWith !== undefined) throw this.failedWith;
    if (this.current !== 'running') throw new PoolClosedError();
  }

  /** Every worker is gone and none can be replaced: what is pending fails with `failure`, and every later call. */
  fail(failure: ThreadPoolError): void {
    this.failedWith = failure;
    if (this.current === 'running') this.current = 'failed';
    this.steps.abandonAll(failure);
  }

  /** Calls may have settled: a close waiting for the pool to drain goes on if it did. */
  settled(): void {
    if (this.steps.pending() !== 0 && !this.stopped) return;
    const waiters = this.drainedWaiters;
    this.drainedWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** `close(options)` as the user calls it: a bad option rejects, the pool stays as it is. */
  closeWith(options: CloseOptions): Promise<void> {
    let timeout: number;
    try {
      if (options === null || typeof options !== 'object')
        throw new InvalidOptionError('close', 'expected an object such as { timeout: 5000 }');
      timeout = options.timeout === undefined ? Infinity : millisecondsOrZero('timeout', options.timeout);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.close(timeout);
  }

  /** ThreadPool.close, with its timeout validated (Infinity for none). */
  close(timeout: number): Promise<void> {
    this.closing ??= this.closeGracefully();
    if (timeout === Infinity) return this.closing;
    const closing = this.closing;
    return new Promise<void>((resolve, reject) => {
      const timer = startTimer(timeout, () => void this.terminate().then(resolve, reject));
      closing.then(
        () => {
          // Cut short by terminate() (this timeout's or the caller's): done when that is.
          if (this.closedGracefully || this.terminating !== undefined) {
            timer.cancel();
            void (this.terminating ?? closing).then(resolve, reject);
          }
        },
        (error: unknown) => {
          timer.cancel();
          reject(error);
        },
      );
    });
  }

  /** ThreadPool.terminate. */
  terminate(): Promise<void> {
    if (this.terminating !== undefined) return this.terminating;
    if (this.current === 'closed') return Promise.resolve();
    this.current = 'terminating';
    this.steps.abandonAll(new PoolClosedError('the pool was terminated before the task finished'));
    this.settled();
    this.steps.releaseBuffers();
    this.terminating = this.steps.terminateWorkers().then(() => {
      this.steps.dispose();
      this.current = 'closed';
    });
    return this.terminating;
  }

  private async closeGracefully(): Promise<void> {
    if (this.stopped) return;
    this.current = 'closing';
    await this.drained();
    // terminate() may have been called meanwhile, after every await.
    if (this.stopped) return;
    const failures = await this.steps.stopWorkers();
    if (this.stopped) return;
    this.current = 'closed';
    this.closedGracefully = true;
    this.steps.releaseBuffers();
    this.steps.dispose();
    for (const failure of failures) this.steps.report(failure);
  }

  private drained(): Promise<void> {
    if (this.steps.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }
}
