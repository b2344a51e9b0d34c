/**
 * The main thread's completion watcher (src/pool/completion-watcher.ts), on one thread with fake
 * rings and a fake clock that stands still: it keeps polling within its window, parks at once after
 * the main thread woke a worker (so the woken worker can have its core), parks when the window has
 * passed, and a rung doorbell brings it back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CompletionWatcher } from '../../src/pool/completion-watcher.js';
import { Header } from '../../src/shm/layout.js';

/** One turn of the event loop: the watcher's next poll, if it is polling. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

class FakePool {
  readonly words = new Int32Array(new SharedArrayBuffer(4 * 64));
  inFlight = 1;
  completed = 0;
  wakes = 0;
  drains = 0;
  readonly watcher = new CompletionWatcher(
    this.words,
    () => void this.drains++,
    () => this.completed,
    () => performance.timeOrigin + performance.now(),
    () => this.inFlight > 0,
    () => this.wakes,
  );

  get parked(): boolean {
    return Atomics.load(this.words, Header.MAIN_PARKED) === 1;
  }

  /** What a worker does when it publishes a completion. */
  complete(): void {
    this.completed++;
    this.inFlight--;
    if (Atomics.exchange(this.words, Header.MAIN_PARKED, 0) === 1) {
      Atomics.add(this.words, Header.MAIN_DOORBELL, 1);
      Atomics.notify(this.words, Header.MAIN_DOORBELL);
    }
  }
}

describe('completion watcher', () => {
  let pool: FakePool;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance'] });
  });
  afterEach(() => {
    pool.inFlight = 0;
    pool.watcher.release();
    vi.useRealTimers();
  });

  it('keeps polling within its window while nothing woke a worker, and parks once it has passed', async () => {
    pool = new FakePool();
    pool.watcher.wake();
    for (let i = 0; i < 5; i++) await turn();
    expect(pool.parked).toBe(false);
    expect(pool.drains).toBe(5);
    vi.advanceTimersByTime(1); // past the longest polling window (0.2 ms)
    await turn();
    expect(pool.parked).toBe(true);
  });

  it('parks at the next look after the main thread woke a worker', async () => {
    pool = new FakePool();
    pool.wakes = 1;
    pool.watcher.wake();
    await turn();
    expect(pool.parked).toBe(true);
    const drainsWhileParked = pool.drains;
    await turn();
    await turn();
    expect(pool.drains).toBe(drainsWhileParked);
  });

  it('comes back when a worker rings the doorbell, drains, and stops once nothing is in flight', async () => {
    pool = new FakePool();
    pool.wakes = 1;
    pool.watcher.wake();
    await turn();
    expect(pool.parked).toBe(true);
    const before = pool.drains;
    pool.complete();
    await turn();
    await turn();
    expect(pool.drains).toBeGreaterThan(before);
    expect(pool.parked).toBe(false);
    const stopped = pool.drains;
    await turn();
    expect(pool.drains).toBe(stopped);
  });
});
