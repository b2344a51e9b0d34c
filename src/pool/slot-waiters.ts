/**
 * Who waits for a free slot: calls (each with a private copy of its payload) and scopes wanting a
 * record, by priority level, oldest first within a level (wait-queue.ts). A call cancelled while it
 * waits stays in line, marked, and passes its slot on when its turn comes: taking it out of the
 * middle of its level's FIFO would cost a scan.
 */
import { QueueFullError } from '../errors.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import type { PendingWork } from './work.js';
import type { CallRecorder } from './statistics.js';
import { WaitQueue } from './wait-queue.js';

interface SlotWaiter {
  /** The call waiting, or undefined for a scope. */
  readonly call: PendingWork | undefined;
  /** Its caller aborted: it will not take the slot it is granted. */
  cancelled: boolean;
  grant(slot: number): void;
  abandon(error: unknown): void;
}

export class SlotWaiters {
  private readonly queue = new WaitQueue<SlotWaiter>();
  /** The calls in `queue`, so that a cancelled one is found without a scan. */
  private readonly calls = new Map<PendingWork, SlotWaiter>();
  /** Cancelled calls still in `queue`. */
  private cancelledCount = 0;
  /** How many may wait (`maxQueue`): whatever priority it has, one more is refused. */
  limit = Infinity;

  /** Counts the calls that give up waiting, when the pool keeps statistics. */
  constructor(private readonly recorder: CallRecorder | undefined) {}

  /** Entries in line, cancelled calls included: while there is one, a free slot goes to the line. */
  get queued(): number {
    return this.queue.length;
  }

  /** Calls and scopes that still want a slot. */
  get waiting(): number {
    return this.queue.length - this.cancelledCount;
  }

  /** Entries in line at priority `level`, cancelled calls included. */
  queuedAt(level: number): number {
    return this.queue.lengthAt(level);
  }

  /**
   * Puts `call` in line at `level`; `publish` stores it in the slot it gets. `calls`: how many
   * calls it counts for in the statistics (those of a shared slot).
   */
  addCall(call: PendingWork, level: number, publish: (slot: number) => void, calls = 1): void {
    const waiter: SlotWaiter = {
      call,
      cancelled: false,
      grant: publish,
      abandon: (error) => {
        if (this.recorder !== undefined) this.recorder.cancelled += calls;
        call.abandon(error);
      },
    };
    this.calls.set(call, waiter);
    this.queue.push(waiter, level);
  }

  /** Why one more waiter is refused now (`limit` wait already), if it is. */
  refusal(): QueueFullError | undefined {
    return this.waiting >= this.limit ? new QueueFullError(this.limit) : undefined;
  }

  /** Puts a scope in line for its record; the promise settles with the slot it gets, or is refused. */
  addScope(): Promise<number> {
    const refusal = this.refusal();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) =>
      this.queue.push({ call: undefined, cancelled: false, grant: resolve, abandon: reject }, NORMAL_LEVEL),
    );
  }

  /** Gives `slot` to the most urgent waiter that still wants one; false if none does. */
  grant(slot: number): boolean {
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      if (this.leave(next)) continue;
      next.grant(slot);
      return true;
    }
    return false;
  }

  /**
   * Withdraws `call` if it waits for a slot (its `dropped` hook runs now: no worker will see it).
   * Returns whether it was waiting.
   */
  cancel(call: PendingWork): boolean {
    const waiter = this.calls.get(call);
    if (waiter === undefined) return false;
    if (!waiter.cancelled) {
      waiter.cancelled = true;
      this.cancelledCount++;
      if (this.recorder !== undefined) this.recorder.cancelled++;
      call.dropped?.();
    }
    return true;
  }

  /** Abandons every waiter with `error`, most urgent level first. For terminate(). */
  abandonAll(error: unknown): void {
    for (const waiter of this.queue.drain()) if (!this.leave(waiter)) waiter.abandon(error);
  }

  /** Forgets `waiter`, taken out of the queue; returns whether it was cancelled. */
  private leave(waiter: SlotWaiter): boolean {
    if (waiter.call !== undefined) this.calls.delete(waiter.call);
    if (!waiter.cancelled) return false;
    this.cancelledCount--;
    return true;
  }
}
