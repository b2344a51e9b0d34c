/**
 * Work this worker forks (the second half of a `join`, a `spawn`, the parts of a `broadcast`): a
 * task written into a slot of its nested region, published QUEUED, offered on its deque, in a FIFO
 * lane or in a worker's mailbox, and its outcome read back once it finished, wherever it ran.
 */
import { Destination } from '../codec/passed-buffers.js';
import { ThreadPoolError } from '../errors.js';
import type { EncodedPayload, PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { Mailbox, PostOutcome } from '../queue/mailbox.js';
import type { WorkQueue } from '../queue/work-queue.js';
import { SlotField, SlotFlag, SlotState, type SlotTable, generationOf, stateOf } from '../shm/slot.js';
import { publishQueued } from '../shm/slot-protocol.js';
import type { Sleep } from '../sync/sleep.js';
import type { NestedSlots } from './nested-slots.js';
import type { RunningTasks } from './running-tasks.js';

export class ForkedTasks {
  private readonly words: Int32Array;

  constructor(
    private readonly slots: SlotTable,
    private readonly codec: PayloadCodec,
    /** This worker's region of the slot table, where what it forks lives. */
    readonly nested: NestedSlots,
    /** This worker's deque. */
    private readonly own: WorkQueue,
    /** Every worker's mailbox. */
    private readonly mailboxes: readonly Mailbox[],
    private readonly sleep: Sleep,
    private readonly running: RunningTasks,
    /**
     * The root call of code running outside any task on this thread (an asynchronous task's
     * continuation), as [slot, generation], when that call listens for events.
     */
    private readonly rootOutsideTasks: () => readonly [number, number] | undefined,
  ) {
    this.words = slots.words;
  }

  /** The workers a broadcast reaches: every index a worker is at now (an elastic pool's may vary). */
  broadcastTargets(): number[] {
    const targets: number[] = [];
    for (let i = 0; i < this.mailboxes.length; i++) if (this.mailboxes[i].present()) targets.push(i);
    return targets;
  }

  /** Whether this worker's deque has room for one more entry (only this worker pushes). */
  hasRoom(): boolean {
    return this.own.hasRoom();
  }

  /** Encodes the arguments of forked work, which any worker may decode (or none). */
  encodeArgs(args: unknown[]): EncodedPayload {
    return sharedBuffers.passed.encodingFor(Destination.EVERY_WORKER, () => this.codec.encodeList(args, 'args'));
  }

  /**
   * Stores a task in a slot of this worker's region, not yet visible to anyone. `payload` from
   * encodeArgs; `scope`: the record the task belongs to (-1 for none); `visibleScope`: see
   * VISIBLE_SCOPE. The buffers the payload passes are posted before anyone can find the task, and
   * lent while the slot holds it.
   */
  write(slot: number, task: number, payload: EncodedPayload, flags: number, scope: number, visibleScope: number): void {
    const { slots, words } = this;
    this.codec.store(slot, payload);
    this.nested.lend(slot, sharedBuffers.passed.send(Destination.EVERY_WORKER));
    words[slots.word(slot, SlotField.TASK)] = task;
    words[slots.word(slot, SlotField.BATCH)] = 0;
    words[slots.word(slot, SlotField.FLAGS)] = flags;
    words[slots.word(slot, SlotField.SCOPE)] = scope;
    words[slots.word(slot, SlotField.VISIBLE_SCOPE)] = visibleScope;
    const forker = this.running.current;
    if (forker >= 0) {
      words[slots.word(slot, SlotField.ROOT)] = words[slots.word(forker, SlotField.ROOT)];
      words[slots.word(slot, SlotField.ROOT_GENERATION)] = words[slots.word(forker, SlotField.ROOT_GENERATION)];
      return;
    }
    // Forked outside any task (none on this worker): by an asynchronous task's continuation, whose
    // call is known when it listens for events; otherwise the task is its own root call.
    const [root, generation] = this.rootOutsideTasks() ?? [slot, generationOf(words[slots.word(slot, SlotField.STATE)])];
    words[slots.word(slot, SlotField.ROOT)] = root;
    words[slots.word(slot, SlotField.ROOT_GENERATION)] = generation;
  }

  /**
   * Stores a FIFO pointer to this worker's lane `lane` in a slot of its region (fifo-lanes.ts), not
   * yet visible to anyone. It carries no payload: whoever claims it runs the lane's oldest job.
   */
  writePointer(slot: number, lane: number): void {
    const { slots, words } = this;
    words[slots.word(slot, SlotField.TASK)] = lane;
    words[slots.word(slot, SlotField.BATCH)] = 0;
    words[slots.word(slot, SlotField.FLAGS)] = SlotFlag.FIFO_FRONT | SlotFlag.DISCARD_RESULT | SlotFlag.SYNC_ONLY;
    words[slots.word(slot, SlotField.SCOPE)] = -1;
    words[slots.word(slot, SlotField.VISIBLE_SCOPE)] = -1;
    words[slots.word(slot, SlotField.ROOT)] = slot;
  }

  /**
   * A slot for each of `workers` parts of a broadcast; throws when this worker's region has too few
   * free (`operation` names the call in the error).
   */
  allocateParts(operation: string, workers: number): number[] {
    const parts: number[] = [];
    for (let i = 0; i < workers; i++) {
      const slot = this.nested.allocate();
      if (slot < 0) {
        for (const taken of parts) this.nested.release(taken);
        throw new ThreadPoolError(
          `${operation} to ${workers} workers needs ${workers} free nested slots on this worker: raise nestedTasksPerWorker`,
        );
      }
      parts.push(slot);
    }
    return parts;
  }

  /**
   * Makes a slot whose task is written QUEUED; returns its queue entry. The payload descriptor and
   * header were written before this state store, which publishes them.
   */
  enqueue(slot: number): number {
    const queued = publishQueued(this.words, this.slots.word(slot, SlotField.STATE));
    return this.slots.entryFor(slot, queued);
  }

  /** A synchronous task no scope counts: written, queued and pushed to this worker's deque. */
  pushTask(slot: number, task: number, payload: EncodedPayload, visibleScope: number): number {
    if (!this.own.hasRoom()) return -1;
    this.write(slot, task, payload, SlotFlag.SYNC_ONLY, -1, visibleScope);
    const entry = this.enqueue(slot);
    this.push(entry);
    return entry;
  }

  /** Pushes a queued entry to this worker's deque, where idle workers may steal it. */
  push(entry: number): void {
    this.own.push(entry);
    this.sleep.forkedJob(this.own);
  }

  /** Posts an entry to `worker`'s mailbox, unless it is full or no worker is there any more. */
  post(worker: number, entry: number): PostOutcome {
    return this.mailboxes[worker].post(entry);
  }

  /** Wakes `worker` if it is parked: something was posted to it. */
  wake(worker: number): void {
    this.sleep.wake(worker);
  }

  /** Frees a forked slot taken back before anyone ran it. */
  discard(slot: number): void {
    this.codec.release(slot);
    this.nested.release(slot);
  }

  /** Whether the task of a forked slot has finished, wherever it ran. */
  finished(slot: number): boolean {
    const state = stateOf(Atomics.load(this.words, this.slots.word(slot, SlotField.STATE)));
    return state === SlotState.DONE || state === SlotState.FAILED;
  }

  /** Reads a finished slot's outcome and frees the slot. */
  collect(slot: number): { failed: boolean; value: unknown } {
    const failed = stateOf(Atomics.load(this.words, this.slots.word(slot, SlotField.STATE))) === SlotState.FAILED;
    let value: unknown;
    try {
      value = this.codec.loadValue(slot);
    } catch (error) {
      return { failed: true, value: error };
    } finally {
      this.codec.release(slot);
      this.nested.release(slot);
    }
    return { failed, value };
  }
}
