/**
 * A worker's own region of the slot table, for the work it forks: the second half of a `join`, the
 * tasks of a `scope`, the parts of a `broadcast`, scope records.
 *
 * Only the owner allocates, from a private free list. Most slots come back through `release` from
 * the owner itself (it reads every result it waits for). A scope's spawned task is different:
 * nobody reads its result, and whichever worker finishes it marks it DONE; the owner collects such
 * slots when its free list runs dry, like the arenas collect released blocks.
 *
 * A worker that replaces a dead one inherits its region. Whatever the predecessor left in use is an
 * orphan: a task still queued or running (for a scope that goes on, or for a join whose caller
 * died), a finished one nobody will read, a record whose parts still run. Orphans are freed when
 * they are finished, the same way; and queued tasks whose queue entry the predecessor took with it
 * are queued again (`requeueLost`).
 */
import type { PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { Mailbox } from '../queue/mailbox.js';
import { scopeComplete } from '../shm/scope-count.js';
import { ERROR_WRITTEN, SlotField, SlotFlag, SlotState, type SlotTable, stateOf } from '../shm/slot.js';
import { free } from '../shm/slot-protocol.js';
import type { FifoLanes } from './fifo-lanes.js';

export class NestedSlots {
  private readonly free: number[] = [];
  /** Spawned tasks handed out, which come back by being finished rather than freed. */
  private readonly spawned: number[] = [];
  /** Slots a dead predecessor left in use. */
  private orphans: number[] = [];
  /** Lent buffers (codec/passed-buffers.ts) the payload of each slot names, until it is freed. */
  private readonly lent = new Map<number, readonly number[]>();

  constructor(
    private readonly slots: SlotTable,
    private readonly codec: PayloadCodec,
    first: number,
    private readonly count: number,
  ) {
    for (let slot = first + count - 1; slot >= first; slot--) {
      if (stateOf(Atomics.load(slots.words, slots.word(slot, SlotField.STATE))) === SlotState.FREE) this.free.push(slot);
      else this.orphans.push(slot);
    }
  }

  /**
   * Queues again, on this worker's deque, the orphans that are QUEUED but whose entry is in no
   * queue: the predecessor died between popping the entry and claiming the task. Also repairs the
   * deque itself (WorkQueue.adoptOwnership). Jobs in the worker's FIFO `lanes` are queued there.
   * Call before the worker takes any work.
   */
  requeueLost(own: WorkQueue, mailboxes: Mailbox[], lanes?: FifoLanes): void {
    const present = own.adoptOwnership();
    for (const mailbox of mailboxes) for (const entry of mailbox.entries()) present.add(entry);
    if (lanes !== undefined) for (const entry of lanes.adoptOwnership()) present.add(entry);
    for (const slot of this.orphans) {
      const word = Atomics.load(this.slots.words, this.slots.word(slot, SlotField.STATE));
      if (stateOf(word) !== SlotState.QUEUED) continue;
      const entry = this.slots.entryFor(slot, word);
      // The deque has room for the whole region and a stale entry per worker (data-plane.ts).
      if (!present.has(entry)) own.push(entry);
    }
  }

  /** A free slot of the region, or -1 when every one is in use. */
  allocate(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    return this.collectFinished() ? this.free.pop()! : -1;
  }

  /** The payload stored in `slot` names these lent buffers (none when undefined). */
  lend(slot: number, serials: readonly number[] | undefined): void {
    if (serials === undefined) return;
    sharedBuffers.passed.hold(serials);
    this.lent.set(slot, serials);
  }

  /**
   * Frees the finished spawned tasks that name lent buffers: every other worker holds those
   * buffers until then, and this worker otherwise collects them only when its free list runs dry.
   * For an idle worker.
   */
  returnLent(): void {
    if (this.lent.size !== 0 && this.spawned.length !== 0) this.collectFinished();
  }

  /** Notes that `slot` carries a spawned task or a FIFO pointer, to be collected once finished. */
  handedToScope(slot: number): void {
    this.spawned.push(slot);
  }

  /**
   * Whether no slot of the region is in use, once the finished spawned tasks and orphans are
   * collected: nothing this worker forked is outstanding, no scope record, no result unread.
   */
  ownsNothing(): boolean {
    this.collectFinished();
    return this.free.length === this.count;
  }

  /** Returns a slot to the free list with a new generation. */
  release(slot: number): void {
    free(this.slots.words, this.slots.word(slot, SlotField.STATE));
    this.free.push(slot);
    const lent = this.lent.get(slot);
    if (lent !== undefined) {
      this.lent.delete(slot);
      sharedBuffers.passed.unhold(lent);
    }
  }

  /** Frees the finished spawned tasks and orphans; returns whether it found any. */
  private collectFinished(): boolean {
    const before = this.free.length;
    let kept = 0;
    for (const slot of this.spawned) if (!this.collectSpawn(slot)) this.spawned[kept++] = slot;
    this.spawned.length = kept;
    if (this.orphans.length > 0) this.orphans = this.orphans.filter((slot) => !this.collectOrphan(slot));
    return this.free.length > before;
  }

  /** Frees a spawned task or FIFO pointer (fifo-lanes.ts) once finished; returns whether it did. */
  private collectSpawn(slot: number): boolean {
    if (stateOf(Atomics.load(this.slots.words, this.slots.word(slot, SlotField.STATE))) === SlotState.FAILED) {
      // Only a pointer fails: its follower died, and recovery stored the crash as its outcome.
      this.codec.release(slot);
    } else if (!this.finishedSpawn(slot)) {
      return false;
    }
    this.release(slot);
    return true;
  }

  private finishedSpawn(slot: number): boolean {
    const words = this.slots.words;
    return (
      stateOf(Atomics.load(words, this.slots.word(slot, SlotField.STATE))) === SlotState.DONE &&
      (words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.DISCARD_RESULT) !== 0
    );
  }

  /** Frees an orphan if nothing will touch it any more; returns whether it did. */
  private collectOrphan(slot: number): boolean {
    const words = this.slots.words;
    const state = stateOf(Atomics.load(words, this.slots.word(slot, SlotField.STATE)));
    if (state === SlotState.RECORD) {
      if (!scopeComplete(words, this.slots.word(slot, SlotField.COUNT))) return false;
      if (Atomics.load(words, this.slots.word(slot, SlotField.ERROR)) === ERROR_WRITTEN) this.codec.release(slot);
    } else if (state === SlotState.DONE || state === SlotState.FAILED) {
      // A result nobody will read (its reader died); a spawned task stores none.
      if (!this.finishedSpawn(slot)) this.codec.release(slot);
    } else {
      return false; // queued, running or counting out: it will finish
    }
    this.release(slot);
    return true;
  }
}
