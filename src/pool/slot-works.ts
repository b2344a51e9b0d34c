/**
 * Who waits for the outcome of each main-thread slot in use, and the way back: the slot a call is
 * in, found without scanning the table when its caller aborts or its run-time limit checks on it.
 * A call cancelled while its task runs leaves a stand-in in its slot until the task returns.
 */
import type { PendingWork } from './work.js';

/**
 * What takes the place of a call that was cancelled while its task runs: the outcome is dropped,
 * and the call's `dropped` hook, if any, runs once the task returns.
 */
class Dropped implements PendingWork {
  constructor(private readonly done: () => void = () => {}) {}
  settle(): void {
    this.done();
  }
  abandon(): void {}
}
const DROPPED = new Dropped();

/** Whether `work` is the stand-in of a cancelled call, whose outcome nobody waits for. */
export function isDropped(work: PendingWork): boolean {
  return work instanceof Dropped;
}

export class SlotWorks {
  private readonly bySlot: (PendingWork | undefined)[];
  /**
   * The slot of each work that may be looked up (see `set`). Only those are indexed: a map entry
   * per call cost plain calls a sixth of their throughput.
   */
  private readonly slotOf = new Map<PendingWork, number>();
  /** 1 where the work in the slot is in `slotOf`. */
  private readonly indexed: Uint8Array;

  constructor(slots: number) {
    this.bySlot = new Array<PendingWork | undefined>(slots);
    this.indexed = new Uint8Array(slots);
  }

  /** How many slots the table has. */
  get size(): number {
    return this.bySlot.length;
  }

  /** Who waits for `slot`, or undefined if the slot is free. */
  at(slot: number): PendingWork | undefined {
    return this.bySlot[slot];
  }

  /**
   * The slot `work` is in, or -1 (waiting for a slot, finished, dropped, or not `findable` when
   * it was set).
   */
  find(work: PendingWork): number {
    return this.slotOf.get(work) ?? -1;
  }

  /** `work` now waits for `slot`; `findable`: `find` must find it (its caller may look it up). */
  set(slot: number, work: PendingWork, findable: boolean): void {
    this.unindex(slot);
    this.bySlot[slot] = work;
    if (!findable) return;
    this.slotOf.set(work, slot);
    this.indexed[slot] = 1;
  }

  /**
   * The call in `slot` was cancelled but its task may still run: a stand-in takes its place, and
   * `find` no longer finds it.
   */
  drop(slot: number): void {
    const work = this.bySlot[slot];
    if (work === undefined) return;
    this.unindex(slot);
    this.bySlot[slot] = work.dropped === undefined ? DROPPED : new Dropped(work.dropped);
  }

  /** Nobody waits for `slot` any more. */
  clear(slot: number): void {
    this.unindex(slot);
    this.bySlot[slot] = undefined;
  }

  private unindex(slot: number): void {
    if (this.indexed[slot] === 0) return;
    this.indexed[slot] = 0;
    const work = this.bySlot[slot]!;
    // A retried call may be in a newer slot already: only this slot's entry goes.
    if (this.slotOf.get(work) === slot) this.slotOf.delete(work);
  }
}
