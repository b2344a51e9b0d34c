/**
 * The timing heuristics layered on the sleep protocol (sleep-protocol.ts): how long an idle worker
 * spins before it gets sleepy, how many may spin at once, and whether a backlog is worth waking a
 * sleeper. None of them is needed for correctness: models/sleep.pml lets the backlog estimate
 * answer anything whenever some worker is awake, and a spin only delays getting sleepy.
 */
import { type Layout, WorkerBlock, workerWord } from '../shm/layout.js';
import { sharedNow } from './clock.js';
import type { SleepProtocol } from './sleep-protocol.js';

/**
 * What waking a parked worker costs, in milliseconds: a futex call for the waker and 5-50 µs until
 * the sleeper runs. Backlog that busy workers clear faster than this is not worth a wake.
 */
const WAKE_COST_MS = 0.05;

/** How far adaptive spinning may stretch a worker's spin beyond `spinMicros`. */
const MAX_SPIN_FACTOR = 20;

/** A worker's spin, as it adapts from one idle period to the next. */
export interface SpinBudget {
  /** performance.now() (milliseconds) after which the worker stops spinning. */
  spinUntil: number;
  /** The current spin budget in microseconds; adapts between spinMicros and MAX_SPIN_FACTOR times it. */
  spinMicros: number;
  /** performance.now() when the worker last parked. */
  parkedAt: number;
}

export class SleepHeuristics {
  private readonly f64: Float64Array;
  /** Float64 indices of each worker's BUSY_SINCE. */
  private readonly busySince: number[] = [];
  private readonly averageTaskWords: number[] = [];
  /** How many workers may spin at once (see limitSpinners). */
  private readonly maxSpinners: number;

  constructor(
    private readonly words: Int32Array,
    layout: Layout,
    private readonly protocol: SleepProtocol,
    /** How long an idle worker keeps searching before it gets sleepy. */
    private readonly spinMicros: number,
  ) {
    this.f64 = new Float64Array(words.buffer as SharedArrayBuffer);
    this.maxSpinners = Math.max(1, layout.threads >> 1);
    for (let i = 0; i < layout.threads; i++) {
      this.busySince.push(workerWord(layout, i, WorkerBlock.BUSY_SINCE) >> 1);
      this.averageTaskWords.push(workerWord(layout, i, WorkerBlock.AVERAGE_TASK_NS));
    }
  }

  // ---- what producers read: who is busy, and with how long tasks -------------------------------

  /** Worker `self` starts running a task at `since` (shared clock): producers see it busy. */
  taskStarted(self: number, since: number): void {
    this.f64[this.busySince[self]] = since;
  }

  /** Worker `self` runs no task any more. */
  notBusy(self: number): void {
    this.f64[this.busySince[self]] = 0;
  }

  /** Folds a finished task's duration into the worker's running average (1/8 weight). */
  taskFinished(self: number, nanos: number): void {
    const word = this.averageTaskWords[self];
    const average = this.words[word];
    const next = average === 0 ? nanos : average + (nanos - average) / 8;
    this.words[word] = Math.min(2 ** 31 - 1, next) | 0;
  }

  /**
   * Wakes sleepers for `queued` jobs, as many as the awake workers will not take care of. Rayon's
   * rule: workers still searching take jobs first, and only the excess wakes sleepers. Added here:
   * when the awake workers — searching, or busy with tasks that are short on average — would clear
   * the whole backlog faster than a wake costs, nobody is woken. A wake would only put one more
   * runnable thread on the cores, and when there are as many cores as workers, its time is taken
   * from the main thread that feeds them.
   */
  wakeForBacklog(queued: number, sleepers: number): void {
    const wanted = queued - this.protocol.awakeSearching(queued);
    if (wanted <= 0 || this.awakeWorkersKeepUp(queued)) return;
    this.protocol.wakeAny(Math.min(wanted, sleepers));
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
    for (let i = 0; i < this.protocol.workers; i++) {
      if (this.protocol.isParked(i)) continue;
      const average = this.words[this.averageTaskWords[i]] / 1e6;
      if (average > WAKE_COST_MS) continue;
      const since = this.f64[this.busySince[i]];
      if (!this.protocol.isSearching(i) && (since === 0 || now - since > WAKE_COST_MS)) continue;
      helpers++;
      averageSum += average;
    }
    return helpers > 0 && queued * (averageSum / helpers) <= WAKE_COST_MS * helpers;
  }

  // ---- the worker's spin ------------------------------------------------------------------------

  /** Starts a fresh spin budget: after a wake, or when work was posted while getting sleepy. */
  restartSpin(spin: SpinBudget): void {
    if (spin.spinMicros === 0) spin.spinMicros = this.spinMicros;
    spin.spinUntil = performance.now() + spin.spinMicros / 1000;
  }

  /**
   * A worker that just started searching spins only if fewer than half the workers (at least one)
   * already do: more spinners find work no sooner, and on a machine with as many cores as workers
   * each one takes CPU from the thread producing the work. The others go straight to getting sleepy.
   */
  limitSpinners(spin: SpinBudget): void {
    if (this.protocol.awakeSearching(this.maxSpinners + 1) > this.maxSpinners) spin.spinUntil = 0;
  }

  /** The worker is about to park. */
  parking(spin: SpinBudget): void {
    spin.parkedAt = performance.now();
  }

  /**
   * The worker was woken (`woken`) or gave up waiting. Work that arrived soon after the worker
   * parked would have been caught by a longer spin, without a wake that costs a futex call and
   * 5-50 µs — so the spin doubles; a long or fruitless sleep halves it back towards `spinMicros`.
   * Without this, a request/response loop whose gaps are a little longer than the spin settles into
   * paying a wake on every request, which makes the gaps longer still.
   */
  adaptSpin(spin: SpinBudget, woken: boolean): void {
    const slept = (performance.now() - spin.parkedAt) * 1000;
    const ceiling = this.spinMicros * MAX_SPIN_FACTOR;
    spin.spinMicros = woken && slept < ceiling ? Math.min(ceiling, spin.spinMicros * 2) : Math.max(this.spinMicros, spin.spinMicros / 2);
  }
}
