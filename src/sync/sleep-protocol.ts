/**
 * Rayon's sleep protocol over Atomics, the part that models/sleep.pml checks: idle workers get
 * sleepy, register as sleeping and park on their own word; producers wake them. Nothing here
 * depends on timing. When to spin, how many sleepers a backlog is worth (sleep-heuristics.ts) and
 * how long workers were idle (idle-time.ts) are layered on top by sleep.ts.
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
 * sleeps, which is also the only time they pay for a wake. Every `Atomics.notify` takes a
 * process-wide lock in V8 even when nobody waits, so producers call it only for a BLOCKED worker.
 *
 * docs/internals/sleep.md has the order of operations and why no wake is lost.
 */
import { Header, type Layout, WorkerBlock, workerWord } from '../shm/layout.js';
import { SLEEPING_ONE, bumpJecIf, jecOf, sleepingOf } from './sleep-counters.js';

export const AWAKE = 0;
export const BLOCKED = 1;

export class SleepProtocol {
  private readonly counters = Header.SLEEP_COUNTERS;
  private readonly stateWords: number[] = [];
  private readonly searchingWords: number[] = [];
  /** Wakes this thread has issued so far (the main thread's CompletionWatcher watches it). */
  wakesIssued = 0;
  /** Rotates the first worker examined by `wakeAny`, so wakes spread over the pool. */
  private wakeCursor = 0;

  constructor(
    private readonly words: Int32Array,
    layout: Layout,
  ) {
    for (let i = 0; i < layout.threads; i++) {
      this.stateWords.push(workerWord(layout, i, WorkerBlock.SLEEP_STATE));
      this.searchingWords.push(workerWord(layout, i, WorkerBlock.SEARCHING));
    }
  }

  /** How many workers the protocol covers. */
  get workers(): number {
    return this.stateWords.length;
  }

  // ---- producer side -------------------------------------------------------------------------

  /** Work was posted: makes a sleepy JEC odd, so that no worker sleepy before the post registers. Returns `sleeping`. */
  workPosted(): number {
    return sleepingOf(bumpJecIf(this.words, this.counters, true));
  }

  /** Upper bound of the parked workers. */
  sleepingCount(): number {
    return sleepingOf(Atomics.load(this.words, this.counters));
  }

  /** Workers searching for work without being parked, counted up to `limit`. */
  awakeSearching(limit: number): number {
    let found = 0;
    for (let i = 0; i < this.stateWords.length && found < limit; i++) {
      if (Atomics.load(this.words, this.searchingWords[i]) !== 0 && Atomics.load(this.words, this.stateWords[i]) !== BLOCKED) {
        found++;
      }
    }
    return found;
  }

  /** Whether worker `index` is registered as parked (its state word is BLOCKED). */
  isParked(index: number): boolean {
    return Atomics.load(this.words, this.stateWords[index]) === BLOCKED;
  }

  /** Whether worker `index` has no work (searching or parked). */
  isSearching(index: number): boolean {
    return Atomics.load(this.words, this.searchingWords[index]) !== 0;
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
    this.wakesIssued++;
    return true;
  }

  /** Wakes every parked worker (shutdown, control messages). */
  wakeAll(): void {
    for (let i = 0; i < this.stateWords.length; i++) this.wake(i);
  }

  /**
   * After worker `index` died: release it from the sleeping state if it was parked and clear its
   * searching flag, so that neither misleads producers until its replacement starts.
   */
  forgetWorker(index: number): void {
    this.wake(index);
    Atomics.store(this.words, this.searchingWords[index], 0);
  }

  // ---- worker side ---------------------------------------------------------------------------

  /** Worker `self` ran out of work: producers may now leave jobs to it. */
  startSearching(self: number): void {
    Atomics.store(this.words, this.searchingWords[self], 1);
  }

  /** Worker `self` found work, or stops searching for another reason. */
  stopSearching(self: number): void {
    Atomics.store(this.words, this.searchingWords[self], 0);
  }

  /** Gets sleepy: makes an odd JEC even and returns the JEC to register with. */
  getSleepy(): number {
    return jecOf(bumpJecIf(this.words, this.counters, false));
  }

  /**
   * Registers worker `self` as sleeping if the JEC is still `jec`, stores BLOCKED, then makes the
   * final check: `workVisible` must look at every queue a producer could have filled. Returns
   * whether the worker may park; false if work was posted since it got sleepy, or is visible now
   * (its registration then cancelled).
   */
  tryRegisterSleep(self: number, jec: number, workVisible: () => boolean): boolean {
    for (;;) {
      const old = Atomics.load(this.words, this.counters);
      if (jecOf(old) !== jec) return false;
      if (Atomics.compareExchange(this.words, this.counters, old, (old + SLEEPING_ONE) | 0) === old) break;
    }
    Atomics.store(this.words, this.stateWords[self], BLOCKED);
    // This look at every queue, made after the BLOCKED store, is what no lost wake-up rests on
    // (models/sleep.pml fails without it): until that store this worker counts as awake, so a
    // producer may have left its job to it; and the JEC it compared could have wrapped.
    if (workVisible()) {
      this.cancelSleep(self);
      return false;
    }
    return true;
  }

  /**
   * Leaves the registered-sleeping state without having been woken by someone else. If a waker
   * won the race it already decremented `sleeping`. Returns whether this call left it (false: a
   * waker was first).
   */
  cancelSleep(self: number): boolean {
    if (Atomics.compareExchange(this.words, this.stateWords[self], BLOCKED, AWAKE) !== BLOCKED) return false;
    Atomics.sub(this.words, this.counters, SLEEPING_ONE);
    return true;
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

  /** The index of worker `self`'s state word, for an asynchronous park. */
  stateWord(self: number): number {
    return this.stateWords[self];
  }
}
