/**
 * How the main thread learns that tasks finished, without ever blocking its event loop.
 *
 * While tasks are in flight it polls the completion rings from `setImmediate` callbacks (each one
 * costs an event-loop turn, well under a microsecond of work here). When polling stops paying off it
 * parks: it raises MAIN_PARKED and waits on the doorbell word with `Atomics.waitAsync`; the next
 * worker that publishes a completion clears the flag and rings the doorbell.
 *
 * The polling window adapts. When a park ends soon after it began, polling a little longer would
 * have caught the completion without a cross-thread wake, so the window doubles; when a window
 * expires without a completion, it halves. Request/response traffic thus gets completions within
 * an event-loop turn, and long CPU-bound tasks leave the main thread (and its core) idle.
 */
import { Header } from '../shm/layout.js';

const MAX_POLL_MS = 0.1;
const INITIAL_POLL_MS = 0.05;
const MIN_POLL_MS = 0.002;

export class CompletionWatcher {
  private watching = false;
  private parked = false;
  private pollWindowMs = INITIAL_POLL_MS;
  private lastProgress = 0;
  private parkedAt = 0;

  constructor(
    private readonly words: Int32Array,
    /** Consumes every published completion; returns how many it consumed. */
    private readonly drain: () => number,
    /** Whether anything is still in flight. */
    private readonly busy: () => boolean,
  ) {}

  /** Called when work was submitted: make sure someone is watching for its completion. */
  wake(): void {
    if (this.watching) return;
    this.watching = true;
    this.lastProgress = performance.now();
    setImmediate(this.poll);
  }

  private readonly poll = (): void => {
    const consumed = this.drain();
    if (!this.busy()) {
      this.watching = false;
      return;
    }
    const now = performance.now();
    if (consumed > 0) this.lastProgress = now;
    if (now - this.lastProgress < this.pollWindowMs) {
      setImmediate(this.poll);
      return;
    }
    this.pollWindowMs = Math.max(MIN_POLL_MS, this.pollWindowMs / 2);
    this.park();
  };

  private park(): void {
    const words = this.words;
    Atomics.store(words, Header.MAIN_PARKED, 1);
    const seen = Atomics.load(words, Header.MAIN_DOORBELL);
    // Raising the flag first and then looking once more closes the window in which a worker
    // published after our last drain but read the flag before we raised it.
    if (this.drain() > 0 || !this.busy()) {
      Atomics.store(words, Header.MAIN_PARKED, 0);
      this.resume();
      return;
    }
    const wait = Atomics.waitAsync(words, Header.MAIN_DOORBELL, seen);
    if (!wait.async) {
      this.resume();
      return;
    }
    this.parked = true;
    this.parkedAt = performance.now();
    void wait.value.then(this.unpark);
  }

  private readonly unpark = (): void => {
    this.parked = false;
    if (performance.now() - this.parkedAt < MAX_POLL_MS) {
      this.pollWindowMs = Math.min(MAX_POLL_MS, this.pollWindowMs * 2);
    }
    this.resume();
  };

  private resume(): void {
    this.lastProgress = performance.now();
    this.poll();
  }

  /** Wakes a parked watcher (used when the pool terminates, so no waiter is left behind). */
  release(): void {
    if (!this.parked) return;
    Atomics.store(this.words, Header.MAIN_PARKED, 0);
    Atomics.add(this.words, Header.MAIN_DOORBELL, 1);
    Atomics.notify(this.words, Header.MAIN_DOORBELL);
  }
}
