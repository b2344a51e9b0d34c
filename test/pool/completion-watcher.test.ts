/**
 * The main thread's completion watcher (src/pool/completion-watcher.ts), on one thread with fake
 * rings and a fake clock that stands still: it keeps polling within its window, parks at once after
 * the main thread woke a worker (so the woken worker can have its core), parks when the window has
 * passed, a rung doorbell brings it back, and it waits within one look only when completions have
 * been coming within microseconds.
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
  /** Looks at the rings without draining them; a completion is published at look number `publishAtLook`. */
  looks = 0;
  publishAtLook = -1;
  /** How far the (fake) clock moves on each look. */
  lookCostMs = 0;
  /** When the latest completion finished, as the watcher reads it. */
  finishedAt = () => performance.timeOrigin + performance.now();
  private published = 0;
  readonly watcher = new CompletionWatcher(
    this.words,
    () => {
      this.drains++;
      this.completed += this.published;
      this.inFlight -= this.published;
      this.published = 0;
    },
    () => {
      if (this.lookCostMs > 0) vi.advanceTimersByTime(this.lookCostMs);
      if (++this.looks === this.publishAtLook) this.published++;
      return this.published > 0;
    },
    () => this.completed,
    () => this.finishedAt(),
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

  it('waits within one look for a completion expected within microseconds', async () => {
    pool = new FakePool();
    pool.inFlight = 1_000;
    // Tasks that finish the moment they are waited for teach it that completions come at once.
    pool.finishedAt = () => 0;
    pool.lookCostMs = 1e-6;
    pool.watcher.wake();
    for (let i = 0; i < 20; i++) {
      pool.complete();
      await turn();
    }
    const drains = pool.drains;
    const completed = pool.completed;
    pool.publishAtLook = pool.looks + 3;
    await turn();
    // One poll looked three times and drained the completion published at the third look.
    expect(pool.drains).toBe(drains + 1);
    expect(pool.completed).toBe(completed + 1);
    expect(pool.looks).toBeGreaterThanOrEqual(pool.publishAtLook);
  });

  it('does not wait within a look before completions have been seen to come within microseconds', async () => {
    pool = new FakePool(); // its estimate starts at a quarter of the longest polling window
    pool.lookCostMs = 0.001;
    pool.watcher.wake();
    await turn();
    expect(pool.looks).toBeLessThanOrEqual(1);
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
