/**
 * The idle side of the pool, as producers and workers call it: the sleep protocol
 * (sleep-protocol.ts, model-checked by models/sleep.pml) with the timing heuristics that decide
 * when to spin and when a backlog is worth a wake (sleep-heuristics.ts), and the idle time kept for
 * statistics (idle-time.ts). This class only puts them in order; each step's reasons are in the
 * module that owns it, and the whole sequence in docs/internals/sleep.md.
 */
import type { Layout } from '../shm/layout.js';
import { IdleTime } from './idle-time.js';
import { SleepHeuristics, type SpinBudget } from './sleep-heuristics.js';
import { SleepProtocol } from './sleep-protocol.js';

export { AWAKE, BLOCKED } from './sleep-protocol.js';

/** What a worker that found no work should do next: look for work again... */
export const SEARCH = 0;
/** ...or park on its state word (it is registered as sleeping), then search again. */
export const PARK = 1;
export type IdleStep = typeof SEARCH | typeof PARK;

/** Per-worker bookkeeping of its idle periods. */
export class IdleState implements SpinBudget {
  /** JEC recorded when the worker got sleepy, or -1 while it is still spinning. */
  jec = -1;
  spinUntil = 0;
  spinMicros = 0;
  parkedAt = 0;
}

export class Sleep {
  private readonly protocol: SleepProtocol;
  private readonly heuristics: SleepHeuristics;
  private readonly idleTime: IdleTime;

  constructor(
    words: Int32Array,
    layout: Layout,
    /** How long an idle worker keeps searching before it gets sleepy. */
    spinMicros: number,
  ) {
    this.protocol = new SleepProtocol(words, layout);
    this.heuristics = new SleepHeuristics(words, layout, this.protocol, spinMicros);
    this.idleTime = new IdleTime(words, layout);
  }

  /** Wakes this thread has issued so far (the main thread's CompletionWatcher watches it). */
  get wakesIssued(): number {
    return this.protocol.wakesIssued;
  }

  // ---- producer side -------------------------------------------------------------------------

  /**
   * Called after jobs were pushed to `queue`. Its length (the new jobs included) is read only when
   * someone sleeps: the common case costs one load and at most one compare-exchange.
   */
  newJobs(queue: { size(): number }): void {
    const sleepers = this.protocol.workPosted();
    if (sleepers > 0) this.heuristics.wakeForBacklog(queue.size(), sleepers);
  }

  /**
   * Called after a worker forked a job onto its own deque (a join's second half, a spawn, a piece
   * of a parallel iterator). Unlike a task from the main thread, its cost is unknown and often as
   * long as the task that forked it, so Rayon's rule applies as it is: wake a sleeper unless an
   * awake worker is searching and will take the job, or wake one anyway if earlier jobs are still
   * queued (the searchers did not take those).
   */
  forkedJob(deque: { size(): number }): void {
    if (this.protocol.workPosted() === 0) return;
    if (deque.size() > 1 || this.protocol.awakeSearching(1) === 0) this.protocol.wakeAny(1);
  }

  /** Wakes worker `index` if it is parked. Returns whether this call woke it. */
  wake(index: number): boolean {
    return this.protocol.wake(index);
  }

  /** Wakes every parked worker (shutdown, control messages). */
  wakeAll(): void {
    this.protocol.wakeAll();
  }

  /** Milliseconds worker `index` has spent searching for work or parked, up to `now` (shared clock). */
  idleMs(index: number, now: number): number {
    return this.idleTime.idleMs(index, now);
  }

  /** Whether worker `index` has no work: it is searching or parked. */
  isSearching(index: number): boolean {
    return this.protocol.isSearching(index);
  }

  /** Upper bound of the parked workers. */
  sleepingCount(): number {
    return this.protocol.sleepingCount();
  }

  /** After worker `index` died: neither its sleep nor its search may mislead producers. */
  forgetWorker(index: number): void {
    this.protocol.forgetWorker(index);
  }

  /**
   * The main thread, for an index an elastic pool has no worker at (not started, or retired): the
   * time until `occupied(index)` counts as idle in the statistics, as a worker parked there would.
   */
  vacated(index: number): void {
    this.idleTime.searchStarted(index);
  }

  /** The main thread, before a worker starts at a vacated index: the idle time stops there. */
  occupied(index: number): void {
    this.idleTime.searchEnded(index);
  }

  // ---- worker side ---------------------------------------------------------------------------

  /** The worker ran out of work and starts searching, spinning first if few others spin. */
  startLooking(self: number, idle: IdleState): void {
    this.heuristics.notBusy(self);
    this.idleTime.searchStarted(self);
    this.protocol.startSearching(self);
    this.restartSpin(idle);
    this.heuristics.limitSpinners(idle);
  }

  /** The worker starts running a task at `since` (shared clock): producers see it busy. */
  taskStarted(self: number, since: number): void {
    this.heuristics.taskStarted(self, since);
  }

  /** Folds a finished task's duration into the worker's running average. */
  taskFinished(self: number, nanos: number): void {
    this.heuristics.taskFinished(self, nanos);
  }

  /**
   * The worker found work (or stops searching for another reason). The searchers that held
   * producers back from waking sleepers may be gone now, so the backlog (`queuedJobs`, counted only
   * if someone sleeps) is looked at again. Rayon wakes up to two sleepers here unconditionally; a
   * wake costs a futex call and tens of microseconds of a parked thread's time in JS, so only a
   * backlog worth it pays for one here.
   */
  workFound(self: number, queuedJobs: () => number): void {
    this.protocol.stopSearching(self);
    this.idleTime.searchEnded(self);
    const sleepers = this.protocol.sleepingCount();
    if (sleepers === 0) return;
    const queued = queuedJobs();
    if (queued > 0) this.heuristics.wakeForBacklog(queued, sleepers);
  }

  /** Starts a fresh spin budget: after a wake, or when work was posted while getting sleepy. */
  restartSpin(idle: IdleState): void {
    idle.jec = -1;
    this.heuristics.restartSpin(idle);
  }

  /** The worker is about to park. */
  parking(idle: IdleState): void {
    this.heuristics.parking(idle);
  }

  /** The worker was woken (`woken`) or gave up waiting: its spin adapts, and starts afresh. */
  wokeUp(idle: IdleState, woken: boolean): void {
    this.heuristics.adaptSpin(idle, woken);
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
      idle.jec = this.protocol.getSleepy();
      return SEARCH;
    }
    if (this.protocol.tryRegisterSleep(self, idle.jec, workVisible)) return PARK;
    // Work was posted since the worker got sleepy, or is visible: search again with a fresh spin.
    this.restartSpin(idle);
    return SEARCH;
  }

  /** Leaves the registered-sleeping state; false if a waker was first (see SleepProtocol). */
  cancelSleep(self: number): boolean {
    return this.protocol.cancelSleep(self);
  }

  /** Blocks the worker until it is woken (true) or `timeoutMs` passes, still registered (false). */
  parkSync(self: number, timeoutMs: number): boolean {
    return this.protocol.parkSync(self, timeoutMs);
  }

  /** The index of worker `self`'s state word, for an asynchronous park. */
  stateWord(self: number): number {
    return this.protocol.stateWord(self);
  }
}
