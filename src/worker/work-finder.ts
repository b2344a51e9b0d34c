/**
 * Where a worker looks for work, in Rayon's order: its own deque (newest first), its mailbox (jobs
 * addressed to it: broadcasts), its FIFO lanes (jobs whose pointer was lost: fifo-lanes.ts), one steal per other worker starting from a random victim (repeated
 * while any steal lost a race), and the injector last, highest priority first. Whatever it returns
 * this worker has claimed.
 */
import { SlotClaim } from '../queue/claim.js';
import type { Mailbox } from '../queue/mailbox.js';
import { LevelPicker } from '../queue/priority.js';
import { EMPTY, RETRY, type WorkQueue } from '../queue/work-queue.js';
import type { SlotTable } from '../shm/slot.js';
import { WorkerCounter, type WorkerCounters } from '../shm/worker-counters.js';
import { FifoLanes } from './fifo-lanes.js';

export class WorkFinder {
  /** This worker's deque. */
  readonly own: WorkQueue;
  /** This worker's claims on queue entries. */
  readonly claims: SlotClaim;
  /** Every worker's FIFO lanes, seen from this worker. */
  readonly fifo: FifoLanes;
  /**
   * Its claims on injector entries, which may also be withdrawn calls (only the main thread's
   * calls sit in the injector, and only they can be withdrawn): their slots go back to the main
   * thread, which frees them.
   */
  private readonly injectedClaims: SlotClaim;
  private readonly mailbox: Mailbox;
  /** Chooses the injector level to take from (priorities with a starvation bound). */
  private readonly levels = new LevelPicker();
  private readonly injectorHasWork = (level: number): boolean => !this.injectors[level].isEmpty();

  constructor(
    private readonly index: number,
    slots: SlotTable,
    /** Every worker's deque, this worker's own at `index`. */
    private readonly deques: readonly WorkQueue[],
    /** Every worker's mailbox, this worker's own at `index`. */
    mailboxes: readonly Mailbox[],
    /** Every worker's FIFO lanes, this worker's own at `index`. */
    lanes: readonly (readonly WorkQueue[])[],
    private readonly injectors: readonly WorkQueue[],
    private readonly counters: WorkerCounters,
    /** Gives the slot of a withdrawn call back to the main thread. */
    returnToMain: (slot: number) => void,
  ) {
    this.own = deques[index];
    this.mailbox = mailboxes[index];
    this.claims = new SlotClaim(slots, index);
    this.fifo = new FifoLanes(lanes, index, this.claims);
    this.injectedClaims = new SlotClaim(slots, index, returnToMain);
  }

  /**
   * Returns a slot this worker has claimed, or -1. Without `stealing` (a wait nested too deep) it
   * only looks at what no other worker can run for it: its own deque and mailbox. Without
   * `injected` it leaves the injector alone (work from outside may be asynchronous, and the worker
   * has as many asynchronous tasks in flight as it may).
   */
  find(stealing: boolean, injected: boolean): number {
    for (;;) {
      const entry = this.own.pop();
      if (entry === EMPTY) break;
      const slot = this.claims.claim(entry);
      if (slot >= 0) return slot;
    }
    const posted = this.mailbox.take(this.claims);
    if (posted >= 0) return posted;
    const lost = this.fifo.takeOwn();
    if (lost >= 0) return lost;
    if (!stealing) return -1;
    const stolen = this.stealFromOthers();
    if (stolen >= 0) return stolen;
    return injected ? this.takeInjected() : -1;
  }

  private stealFromOthers(): number {
    const n = this.deques.length;
    if (n < 2) return -1;
    for (;;) {
      let retry = false;
      const start = (Math.random() * n) | 0;
      for (let k = 0; k < n; k++) {
        const victim = start + k < n ? start + k : start + k - n;
        if (victim === this.index) continue;
        this.counters.increment(WorkerCounter.STEAL_ATTEMPTS);
        const slot = this.deques[victim].steal(this.claims);
        if (slot >= 0) {
          this.counters.increment(WorkerCounter.STEALS);
          return slot;
        }
        // A lost race or a stale entry: the victim may hold live ones behind it.
        if (slot === RETRY) retry = true;
      }
      if (!retry) return -1;
    }
  }

  /** Takes work from the injector: the most urgent level first, within the starvation bound. */
  private takeInjected(): number {
    const first = this.levels.first(this.injectorHasWork);
    if (first < 0) return -1;
    let slot = this.takeFromLevel(first);
    // The chosen level may have been emptied by other workers meanwhile: any other will do.
    for (let level = 0; slot < 0 && level < this.injectors.length; level++) {
      if (level !== first) slot = this.takeFromLevel(level);
    }
    return slot;
  }

  private takeFromLevel(level: number): number {
    const injector = this.injectors[level];
    for (;;) {
      const slot = injector.steal(this.injectedClaims);
      if (slot === EMPTY) return -1;
      if (slot === RETRY) continue;
      this.counters.increment(WorkerCounter.INJECTOR_TAKES);
      this.levels.served(level, this.injectorHasWork);
      return slot;
    }
  }

  /** How many jobs wait in the injector and the deques (a snapshot). */
  readonly queuedJobs = (): number => {
    let queued = 0;
    for (let i = 0; i < this.injectors.length; i++) queued += this.injectors[i].size();
    for (let i = 0; i < this.deques.length; i++) queued += this.deques[i].size();
    return queued;
  };

  /** Is anything queued anywhere this worker may take it from? */
  readonly workVisible = (): boolean => {
    if (this.ownWorkVisible()) return true;
    for (let i = 0; i < this.injectors.length; i++) if (!this.injectors[i].isEmpty()) return true;
    for (let i = 0; i < this.deques.length; i++) if (!this.deques[i].isEmpty()) return true;
    return false;
  };

  /** Is anything queued that only this worker takes: its own deque, mailbox and FIFO lanes? */
  readonly ownWorkVisible = (): boolean => !this.own.isEmpty() || this.mailbox.hasEntries() || this.fifo.ownWorkVisible();
}
