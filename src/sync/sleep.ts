/**
 * Rayon's sleep protocol over Atomics: idle workers spin for a bounded time, announce that they are
 * getting sleepy, then park on their own word. Producers of work call `notify` only when the packed
 * counters say that someone sleeps, because every `Atomics.notify` takes a process-wide lock in V8
 * even when nobody waits.
 *
 * Who writes what:
 * - the counter word (sleep-counters.ts): every thread, only through compare-exchange or add/sub;
 * - a worker's SEARCHING word: that worker alone, 1 while it has no work (searching or parked);
 * - a worker's state word: the worker sets BLOCKED; whoever wakes it (a producer, a latch, the main
 *   thread, or the worker itself when it gives up sleeping) moves it back to AWAKE with a single
 *   compare-exchange, and only the winner of that exchange decrements `sleeping`.
 *
 * Rayon keeps the count of searching workers in the packed word; here each worker flags itself
 * instead, so that a worker dying mid-update cannot leave a phantom "idle but awake" worker that
 * would stop producers from waking the real sleepers. Producers count the flags only when someone
 * sleeps, which is also the only time they pay for a wake.
 *
 * ARCHITECTURE.md ("Sleep and wake") has the order of operations and why no wake is lost.
 */
import { Header, type Layout, WorkerBlock, workerWord } from '../shm/layout.js';
import { SLEEPING_ONE, bumpJecIf, jecOf, sleepingOf } from './sleep-counters.js';

export const AWAKE = 0;
export const BLOCKED = 1;

/** What a worker that found no work should do next: look for work again... */
export const SEARCH = 0;
/** ...or park on its state word (it is registered as sleeping), then search again. */
export const PARK = 1;
export type IdleStep = typeof SEARCH | typeof PARK;

/** Per-worker bookkeeping of one idle period. */
export class IdleState {
  /** JEC recorded when the worker got sleepy, or -1 while it is still spinning. */
  jec = -1;
  /** performance.now() (milliseconds) after which the worker stops spinning. */
  spinUntil = 0;
}

export class Sleep {
  private readonly counters = Header.SLEEP_COUNTERS;
  private readonly stateWords: number[] = [];
  private readonly searchingWords: number[] = [];
  /** Rotates the first worker examined by `wakeAny`, so wakes spread over the pool. */
  private wakeCursor = 0;

  constructor(
    private readonly words: Int32Array,
    layout: Layout,
    /** How long an idle worker keeps searching before it gets sleepy. */
    private readonly spinMicros: number,
  ) {
    for (let i = 0; i < layout.threads; i++) {
      this.stateWords.push(workerWord(layout, i, WorkerBlock.SLEEP_STATE));
      this.searchingWords.push(workerWord(layout, i, WorkerBlock.SEARCHING));
    }
  }

  // ---- producer side -------------------------------------------------------------------------

  /**
   * Called after jobs were made visible; `queued` is how many wait in the queue that received them,
   * counting the new ones. Workers that are awake and searching will take some of them; sleepers are
   * woken for the rest. This is Rayon's rule (wake only beyond the awake idle workers when the queue
   * was empty, and regardless of them otherwise) with the queue's length standing in for "was it
   * empty".
   */
  newJobs(queued: number): void {
    const counters = bumpJecIf(this.words, this.counters, true);
    const sleepers = sleepingOf(counters);
    if (sleepers === 0) return;
    const toWake = Math.min(queued - this.awakeSearching(queued), sleepers);
    if (toWake > 0) this.wakeAny(toWake);
  }

  /** Workers searching for work without being parked, counted up to `limit`. */
  private awakeSearching(limit: number): number {
    let found = 0;
    for (let i = 0; i < this.stateWords.length && found < limit; i++) {
      if (Atomics.load(this.words, this.searchingWords[i]) !== 0 && Atomics.load(this.words, this.stateWords[i]) !== BLOCKED) {
        found++;
      }
    }
    return found;
  }

  /** Wakes up to `count` parked workers. */
  wakeAny(count: number): number {
    const n = this.stateWords.length;
    let woken = 0;
    const start = this.wakeCursor;
    for (let k = 0; k < n && woken < count; k++) {
      const i = start + k < n ? start + k : start + k - n;
      if (this.wake(i)) woken++;
    }
    this.wakeCursor = start + 1 < n ? start + 1 : 0;
    return woken;
  }

  /** Wakes worker `index` if it is parked. Returns whether this call woke it. */
  wake(index: number): boolean {
    const word = this.stateWords[index];
    if (Atomics.compareExchange(this.words, word, BLOCKED, AWAKE) !== BLOCKED) return false;
    Atomics.sub(this.words, this.counters, SLEEPING_ONE);
    // Wake every waiter on the word: a worker may have an abandoned waitAsync registered there
    // from an earlier asynchronous park, and waking only one could pick that one.
    Atomics.notify(this.words, word);
    return true;
  }

  /** Wakes every parked worker (shutdown, control messages). */
  wakeAll(): void {
    for (let i = 0; i < this.stateWords.length; i++) this.wake(i);
  }

  /** Upper bound of the parked workers. */
  sleepingCount(): number {
    return sleepingOf(Atomics.load(this.words, this.counters));
  }

  // ---- worker side ---------------------------------------------------------------------------

  /** The worker ran out of work and starts searching. */
  startLooking(self: number, idle: IdleState): void {
    Atomics.store(this.words, this.searchingWords[self], 1);
    this.restartSpin(idle);
  }

  /**
   * The worker found work (or stops searching for another reason). If more work is queued and
   * someone sleeps, it wakes one helper: the searchers that held producers back from waking
   * sleepers may be gone now. Rayon wakes up to two sleepers here unconditionally; a wake costs a
   * futex call and tens of microseconds of a parked thread's time in JS, so only evident backlog
   * pays for one here.
   */
  workFound(self: number, moreWork: () => boolean): void {
    Atomics.store(this.words, this.searchingWords[self], 0);
    if (this.sleepingCount() > 0 && moreWork()) this.wakeAny(1);
  }

  /** Starts a fresh spin budget: after a wake, or when work was posted while getting sleepy. */
  restartSpin(idle: IdleState): void {
    idle.jec = -1;
    idle.spinUntil = performance.now() + this.spinMicros / 1000;
  }

  /**
   * One fruitless search. Spins until the budget is spent, then records the JEC (sleepy), and on the
   * next fruitless search tries to register as sleeping. `workVisible` is the final check after
   * registering: it must look at every queue a producer could have filled.
   */
  noWorkFound(idle: IdleState, self: number, now: number, workVisible: () => boolean): IdleStep {
    if (idle.jec < 0) {
      if (now < idle.spinUntil) return SEARCH;
      idle.jec = jecOf(bumpJecIf(this.words, this.counters, false));
      return SEARCH;
    }
    return this.tryRegisterSleep(idle, self, workVisible) ? PARK : SEARCH;
  }

  private tryRegisterSleep(idle: IdleState, self: number, workVisible: () => boolean): boolean {
    for (;;) {
      const old = Atomics.load(this.words, this.counters);
      if (jecOf(old) !== idle.jec) {
        // Work was posted since we got sleepy: search again with a fresh spin budget.
        this.restartSpin(idle);
        return false;
      }
      if (Atomics.compareExchange(this.words, this.counters, old, (old + SLEEPING_ONE) | 0) === old) break;
    }
    Atomics.store(this.words, this.stateWords[self], BLOCKED);
    // The JEC wraps after 2^19 sleepy/post rounds; this look at every queue, made after the
    // registration is visible, closes that window for good.
    if (workVisible()) {
      this.cancelSleep(self);
      this.restartSpin(idle);
      return false;
    }
    return true;
  }

  /**
   * Leaves the registered-sleeping state without having been woken by someone else. If a waker
   * won the race it already decremented `sleeping`.
   */
  cancelSleep(self: number): void {
    if (Atomics.compareExchange(this.words, this.stateWords[self], BLOCKED, AWAKE) === BLOCKED) {
      Atomics.sub(this.words, this.counters, SLEEPING_ONE);
    }
  }

  /**
   * Blocks the worker until its state word leaves BLOCKED or `timeoutMs` passes. Returns whether it
   * was woken; after a timeout it is still registered as sleeping (see cancelSleep).
   */
  parkSync(self: number, timeoutMs: number): boolean {
    const word = this.stateWords[self];
    const deadline = performance.now() + timeoutMs;
    while (Atomics.load(this.words, word) === BLOCKED) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.words, word, BLOCKED, left);
    }
    return true;
  }

  stateWord(self: number): number {
    return this.stateWords[self];
  }

  /**
   * After worker `index` died: release it from the sleeping state if it was parked and clear its
   * searching flag, so that neither misleads producers until its replacement starts.
   */
  forgetWorker(index: number): void {
    this.wake(index);
    Atomics.store(this.words, this.searchingWords[index], 0);
  }
}
