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
 * docs/internals/sleep.md has the order of operations and why no wake is lost.
 */
import { Header, type Layout, WorkerBlock, workerWord } from '../shm/layout.js';
import { sharedNow } from './clock.js';
import { SLEEPING_ONE, bumpJecIf, jecOf, sleepingOf } from './sleep-counters.js';

/**
 * What waking a parked worker costs, in milliseconds: a futex call for the waker and 5-50 µs until
 * the sleeper runs. Backlog that busy workers clear faster than this is not worth a wake.
 */
const WAKE_COST_MS = 0.05;

export const AWAKE = 0;
export const BLOCKED = 1;

/** What a worker that found no work should do next: look for work again... */
export const SEARCH = 0;
/** ...or park on its state word (it is registered as sleeping), then search again. */
export const PARK = 1;
export type IdleStep = typeof SEARCH | typeof PARK;

/** How far adaptive spinning may stretch a worker's spin beyond `spinMicros`. */
const MAX_SPIN_FACTOR = 20;

/** Per-worker bookkeeping of its idle periods. */
export class IdleState {
  /** JEC recorded when the worker got sleepy, or -1 while it is still spinning. */
  jec = -1;
  /** performance.now() (milliseconds) after which the worker stops spinning. */
  spinUntil = 0;
  /** The current spin budget in microseconds; adapts between spinMicros and MAX_SPIN_FACTOR times it. */
  spinMicros = 0;
  /** performance.now() when the worker last parked. */
  parkedAt = 0;
}

export class Sleep {
  private readonly counters = Header.SLEEP_COUNTERS;
  private readonly f64: Float64Array;
  private readonly stateWords: number[] = [];
  private readonly searchingWords: number[] = [];
  /** Float64 indices of each worker's BUSY_SINCE. */
  private readonly busySince: number[] = [];
  private readonly averageTaskWords: number[] = [];
  /** Float64 indices of each worker's SEARCHING_SINCE and IDLE_TOTAL_MS (statistics). */
  private readonly searchingSince: number[] = [];
  private readonly idleTotal: number[] = [];
  /** Wakes this thread has issued so far (the main thread's CompletionWatcher watches it). */
  wakesIssued = 0;
  /** Rotates the first worker examined by `wakeAny`, so wakes spread over the pool. */
  private wakeCursor = 0;
  /** How many workers may spin at once (see startLooking). */
  private readonly maxSpinners: number;

  constructor(
    private readonly words: Int32Array,
    layout: Layout,
    /** How long an idle worker keeps searching before it gets sleepy. */
    private readonly spinMicros: number,
  ) {
    this.f64 = new Float64Array(words.buffer as SharedArrayBuffer);
    this.maxSpinners = Math.max(1, layout.threads >> 1);
    for (let i = 0; i < layout.threads; i++) {
      this.stateWords.push(workerWord(layout, i, WorkerBlock.SLEEP_STATE));
      this.searchingWords.push(workerWord(layout, i, WorkerBlock.SEARCHING));
      this.busySince.push(workerWord(layout, i, WorkerBlock.BUSY_SINCE) >> 1);
      this.averageTaskWords.push(workerWord(layout, i, WorkerBlock.AVERAGE_TASK_NS));
      this.searchingSince.push(workerWord(layout, i, WorkerBlock.SEARCHING_SINCE) >> 1);
      this.idleTotal.push(workerWord(layout, i, WorkerBlock.IDLE_TOTAL_MS) >> 1);
    }
  }

  // ---- producer side -------------------------------------------------------------------------

  /**
   * Called after jobs were pushed to `queue`. Its length (the new jobs included) is read only when
   * someone sleeps: the common case costs one load and at most one compare-exchange.
   */
  newJobs(queue: { size(): number }): void {
    const counters = bumpJecIf(this.words, this.counters, true);
    const sleepers = sleepingOf(counters);
    if (sleepers > 0) this.wakeForBacklog(queue.size(), sleepers);
  }

  /**
   * Called after a worker forked a job onto its own deque (a join's second half, a spawn, a piece
   * of a parallel iterator). Unlike a task from the main thread, its cost is unknown and often as
   * long as the task that forked it, so Rayon's rule applies as it is: wake a sleeper unless an
   * awake worker is searching and will take the job, or wake one anyway if earlier jobs are still
   * queued (the searchers did not take those).
   */
  forkedJob(deque: { size(): number }): void {
    const counters = bumpJecIf(this.words, this.counters, true);
    if (sleepingOf(counters) === 0) return;
    if (deque.size() > 1 || this.awakeSearching(1) === 0) this.wakeAny(1);
  }

  /**
   * Wakes sleepers for `queued` jobs, as many as the awake workers will not take care of. Rayon's
   * rule: workers still searching take jobs first, and only the excess wakes sleepers. Added here:
   * when the awake workers — searching, or busy with tasks that are short on average — would clear
   * the whole backlog faster than a wake costs, nobody is woken. A wake would only put one more
   * runnable thread on the cores, and when there are as many cores as workers, its time is taken
   * from the main thread that feeds them.
   */
  private wakeForBacklog(queued: number, sleepers: number): void {
    const wanted = queued - this.awakeSearching(queued);
    if (wanted <= 0 || this.awakeWorkersKeepUp(queued)) return;
    this.wakeAny(Math.min(wanted, sleepers));
  }

  /**
   * Whether the awake workers will clear `queued` jobs within about one wake's time. A worker
   * counts if it is searching, or running a task that has not run long, provided its tasks take
   * less than a wake on average.
   */
  private awakeWorkersKeepUp(queued: number): boolean {
    const now = sharedNow();
    let helpers = 0;
    let averageSum = 0;
    for (let i = 0; i < this.stateWords.length; i++) {
      if (Atomics.load(this.words, this.stateWords[i]) === BLOCKED) continue;
      const average = this.words[this.averageTaskWords[i]] / 1e6;
      if (average > WAKE_COST_MS) continue;
      const since = this.f64[this.busySince[i]];
      const searching = Atomics.load(this.words, this.searchingWords[i]) !== 0;
      if (!searching && (since === 0 || now - since > WAKE_COST_MS)) continue;
      helpers++;
      averageSum += average;
    }
    return helpers > 0 && queued * (averageSum / helpers) <= WAKE_COST_MS * helpers;
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
    this.wakesIssued++;
    return true;
  }

  /** Wakes every parked worker (shutdown, control messages). */
  wakeAll(): void {
    for (let i = 0; i < this.stateWords.length; i++) this.wake(i);
  }

  /**
   * Milliseconds worker `index` has spent searching for work or parked, up to `now` (shared clock).
   * Read without synchronisation from another thread: a statistic, exact to within one interval.
   */
  idleMs(index: number, now: number): number {
    const since = this.f64[this.searchingSince[index]];
    return this.f64[this.idleTotal[index]] + (since !== 0 && now > since ? now - since : 0);
  }

  /** Upper bound of the parked workers. */
  sleepingCount(): number {
    return sleepingOf(Atomics.load(this.words, this.counters));
  }

  // ---- worker side ---------------------------------------------------------------------------

  /**
   * The worker ran out of work and starts searching. It spins only if fewer than half the workers
   * (at least one) already do: more spinners find work no sooner, and on a machine with as many
   * cores as workers each one takes CPU from the thread producing the work. The others go
   * straight to getting sleepy.
   */
  startLooking(self: number, idle: IdleState): void {
    this.f64[this.busySince[self]] = 0;
    this.f64[this.searchingSince[self]] = sharedNow();
    Atomics.store(this.words, this.searchingWords[self], 1);
    this.restartSpin(idle);
    if (this.awakeSearching(this.maxSpinners + 1) > this.maxSpinners) idle.spinUntil = 0;
  }

  /** The worker starts running a task at `since` (shared clock): producers see it busy. */
  taskStarted(self: number, since: number): void {
    this.f64[this.busySince[self]] = since;
  }

  /** Folds a finished task's duration into the worker's running average (1/8 weight). */
  taskFinished(self: number, nanos: number): void {
    const word = this.averageTaskWords[self];
    const average = this.words[word];
    const next = average === 0 ? nanos : average + (nanos - average) / 8;
    this.words[word] = Math.min(2 ** 31 - 1, next) | 0;
  }

  /**
   * The worker found work (or stops searching for another reason). The searchers that held
   * producers back from waking sleepers may be gone now, so the backlog (`queuedJobs`, counted only
   * if someone sleeps) is looked at again. Rayon wakes up to two sleepers here unconditionally; a
   * wake costs a futex call and tens of microseconds of a parked thread's time in JS, so only a
   * backlog worth it pays for one here.
   */
  workFound(self: number, queuedJobs: () => number): void {
    Atomics.store(this.words, this.searchingWords[self], 0);
    const since = this.f64[this.searchingSince[self]];
    if (since !== 0) {
      this.f64[this.idleTotal[self]] += sharedNow() - since;
      this.f64[this.searchingSince[self]] = 0;
    }
    const sleepers = this.sleepingCount();
    if (sleepers === 0) return;
    const queued = queuedJobs();
    if (queued > 0) this.wakeForBacklog(queued, sleepers);
  }

  /** Starts a fresh spin budget: after a wake, or when work was posted while getting sleepy. */
  restartSpin(idle: IdleState): void {
    if (idle.spinMicros === 0) idle.spinMicros = this.spinMicros;
    idle.jec = -1;
    idle.spinUntil = performance.now() + idle.spinMicros / 1000;
  }

  /** The worker is about to park. */
  parking(idle: IdleState): void {
    idle.parkedAt = performance.now();
  }

  /**
   * The worker was woken (`woken`) or gave up waiting. Adaptive spinning: work that arrived soon
   * after the worker parked would have been caught by a longer spin, without a wake that costs a
   * futex call and 5-50 µs — so the spin doubles; a long or fruitless sleep halves it back towards
   * `spinMicros`. Without this, a request/response loop whose gaps are a little longer than the
   * spin settles into paying a wake on every request, which makes the gaps longer still.
   */
  wokeUp(idle: IdleState, woken: boolean): void {
    const slept = (performance.now() - idle.parkedAt) * 1000;
    const ceiling = this.spinMicros * MAX_SPIN_FACTOR;
    idle.spinMicros = woken && slept < ceiling ? Math.min(ceiling, idle.spinMicros * 2) : Math.max(this.spinMicros, idle.spinMicros / 2);
    this.restartSpin(idle);
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
    // This look at every queue, made after the BLOCKED store, is what no lost wake-up rests on
    // (models/sleep.pml fails without it): until that store this worker counts as awake, so a
    // producer may have left its job to it; and the JEC it compared could have wrapped.
    if (workVisible()) {
      this.cancelSleep(self);
      this.restartSpin(idle);
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
