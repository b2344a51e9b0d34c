/**
 * The processor's capacity: a counting semaphore of `maxPendingTasks` permits, one per request in
 * flight. Waiters queue by priority with the starvation bound of queue/priority.ts, and a waiter
 * may give up after a timeout.
 *
 * A request never asks for more permits than exist: a batch takes its permits one request (or one
 * chunk, capped at the capacity) at a time, so a batch larger than the capacity streams through it
 * instead of waiting forever for permits that cannot all be free at once.
 */
import { PoolClosedError, ProcessingError } from '../errors.js';
import { DrainEdge } from '../pool/drain-edge.js';
import { WaitQueue } from '../pool/wait-queue.js';
import { type Timer, startTimer } from '../time/timer.js';

interface Waiter {
  permits: number;
  grant(): void;
  fail(error: Error): void;
  /** Set once granted, failed or timed out: a waiter left in the queue after that is skipped. */
  done: boolean;
}

export class Capacity {
  private available: number;
  private readonly waiters = new WaitQueue<Waiter>();
  /** Waiters queued and not yet done (the queue may still hold some that timed out). */
  private waiting = 0;
  /** Announces the changes of `needsDrain`, and resolves `drain()`. */
  private readonly edge: DrainEdge;
  private closedWith: Error | undefined;

  /** @param announce hears `needsDrain` turn true or false (drain-edge.ts) */
  constructor(
    readonly total: number,
    announce: (needsDrain: boolean) => void = () => {},
  ) {
    this.available = total;
    this.edge = new DrainEdge(() => this.needsDrain, announce);
  }

  /** Permits not taken. */
  get free(): number {
    return this.available;
  }

  /** Requests waiting for permits. */
  get queued(): number {
    return this.waiting;
  }

  /** Whether a producer should hold back: no permit free, or requests already waiting. */
  get needsDrain(): boolean {
    return this.available === 0 || this.waiting > 0;
  }

  /** Takes `permits` now if they are free and nobody waits ahead; never queues. */
  tryAcquire(permits: number): boolean {
    if (this.closedWith !== undefined || this.waiting > 0 || this.available < permits) return false;
    this.available -= permits;
    this.edge.changed();
    return true;
  }

  /**
   * Takes `permits`, waiting at priority `level` for them if needed; rejects with a `timed-out`
   * ProcessingError after `timeoutMs` (never if Infinity), and with the close error if the capacity is
   * closed meanwhile.
   */
  acquire(permits: number, level: number, timeoutMs = Infinity, index?: number, signal?: AbortSignal): Promise<void> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(cancelledWaiting(index, signal));
    if (this.tryAcquire(permits)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const stopWaiting = () => {
        timer?.cancel();
        signal?.removeEventListener('abort', onAbort);
      };
      /** Leaves the queue with `error` (the waiter stays in it, marked done, until its turn). */
      const giveUp = (error: ProcessingError) => {
        if (waiter.done) return;
        waiter.done = true;
        stopWaiting();
        this.waiting--;
        reject(error);
        this.grantWaiters();
        this.edge.changed();
      };
      const onAbort = () => giveUp(cancelledWaiting(index, signal!));
      const waiter: Waiter = {
        permits,
        done: false,
        grant: () => {
          stopWaiting();
          resolve();
        },
        fail: (error) => {
          stopWaiting();
          reject(error);
        },
      };
      timer = startTimer(timeoutMs, () =>
        giveUp(new ProcessingError('timed-out', `waited ${timeoutMs} ms for capacity (queueTimeout)`, { index })),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting++;
      this.waiters.push(waiter, level);
      this.edge.changed();
    });
  }

  release(permits: number): void {
    this.available += permits;
    this.grantWaiters();
    this.edge.changed();
  }

  /** Resolves once `needsDrain` is false. */
  drain(): Promise<void> {
    return this.edge.drain();
  }

  /** Fails every waiter and every later acquire with `error`. */
  close(error: Error = new PoolClosedError('the processor is closed')): void {
    this.closedWith = error;
    for (let waiter = this.waiters.shift(); waiter !== undefined; waiter = this.waiters.shift()) {
      if (waiter.done) continue;
      waiter.done = true;
      waiter.fail(error);
    }
    this.waiting = 0;
    this.edge.changed();
  }

  /** Grants waiters in priority order while their permits are free. */
  private grantWaiters(): void {
    while (this.waiting > 0) {
      const next = this.peekLive();
      if (next === undefined || next.permits > this.available) return;
      this.waiters.shift();
      next.done = true;
      this.waiting--;
      this.available -= next.permits;
      next.grant();
    }
  }

  /** The waiter the queue would hand out next, dropping those that timed out. */
  private peekLive(): Waiter | undefined {
    for (;;) {
      const next = this.waiters.peek();
      if (next === undefined || !next.done) return next;
      this.waiters.discard();
    }
  }
}

function cancelledWaiting(index: number | undefined, signal: AbortSignal): ProcessingError {
  return new ProcessingError('cancelled', 'the request was aborted while it waited for capacity', { cause: signal.reason, index });
}
