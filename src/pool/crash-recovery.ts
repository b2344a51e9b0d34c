/**
 * After a worker's thread has exited: finishes, from the main thread, what it left half-done in
 * the workers' nested regions and in scope records. (The main thread's own slots — calls it was
 * running, or had finished without publishing — are the dispatcher's part of the recovery; the
 * dead worker's deque and region are repaired by its successor, worker/region.ts.)
 *
 * What a worker can leave behind, and what is done with it (docs/internals/shutdown.md):
 * - its mark on a scope record's COUNT word (scope-count.ts), with its CHANGING word naming the
 *   part: the change it had begun is finished — an added spawn is kept if its slot became QUEUED
 *   and taken back if not, a count-out has its slot marked DONE (or its body flagged counted) and
 *   completes the scope if it was the last part;
 * - a task it had finished and not yet counted out of its scope (COUNTING): counted out now;
 * - a task it was running in some worker's region: a join half or broadcast part fails with the
 *   crash error and the worker waiting for it is woken; a spawned task fails its scope with it and
 *   is counted out;
 * - its own scopes: their bodies are counted out, so that the records complete once the tasks
 *   still running elsewhere finish, and its successor can free them.
 * Nothing here races with the dead worker; live workers change these words only by the same
 * marked compare-exchanges, or not at all (a slot owned by the dead worker is written by nobody
 * else).
 */
import type { PayloadCodec } from '../codec/payload.js';
import { type Layout, WorkerBlock, nestedOwner, nestedSlotBase, workerWord } from '../shm/layout.js';
import { BODY_PART, ONE_PART, finisherOf, partsLeft, workerFinisher } from '../shm/scope-count.js';
import { SlotField, SlotFlag, SlotState, type SlotTable, ownerOf, stateOf } from '../shm/slot.js';
import type { MainRecords } from './main-records.js';
import { countedOut, finish } from '../shm/slot-protocol.js';

export class CrashRecovery {
  private readonly words: Int32Array;

  constructor(
    private readonly slots: SlotTable,
    private readonly layout: Layout,
    private readonly codec: PayloadCodec,
    private readonly records: MainRecords,
    /** Wakes worker `index` if it is parked. */
    private readonly wake: (index: number) => void,
    /** Settles the caller of a finished main-thread slot and frees the slot. */
    private readonly completeMain: (slot: number) => void,
  ) {
    this.words = slots.words;
  }

  /**
   * Recovers what worker `dead` left half-done; `crash` is the error its tasks fail with. Returns
   * how many tasks of the workers' regions failed with it (their waiters see the crash).
   */
  recover(dead: number, crash: unknown): number {
    this.finishMarkedChanges(dead);
    const { slots } = this;
    let failed = 0;
    for (let slot = 0; slot < slots.count; slot++) {
      const stateWord = Atomics.load(this.words, slots.word(slot, SlotField.STATE));
      if (ownerOf(stateWord) !== dead) continue;
      const state = stateOf(stateWord);
      if (state === SlotState.COUNTING) {
        this.records.countOut(this.scopeOf(slot), () => this.markCounted(slot));
      } else if (state === SlotState.RUNNING && slot >= slots.mainSlots) {
        this.failNested(slot, dead, crash);
        failed++;
      }
    }
    this.countOutBodies(dead);
    return failed;
  }

  /** Records the dead worker's mark is on: the change it was making when it died. */
  private finishMarkedChanges(dead: number): void {
    const { slots, words } = this;
    const finisher = workerFinisher(dead);
    // Written before the mark: with the mark on a record, it names the part being changed.
    const part = Atomics.load(words, workerWord(this.layout, dead, WorkerBlock.CHANGING));
    for (let record = 0; record < slots.count; record++) {
      const countWord = Atomics.load(words, slots.word(record, SlotField.COUNT));
      if (finisherOf(countWord) !== finisher || !this.isRecord(record, dead)) continue;
      const count = slots.word(record, SlotField.COUNT);
      if (part === BODY_PART) {
        Atomics.or(words, slots.word(record, SlotField.FLAGS), SlotFlag.BODY_COUNTED);
        this.records.afterChange(record, partsLeft(countWord), finisher);
        continue;
      }
      const state = stateOf(Atomics.load(words, slots.word(part, SlotField.STATE)));
      if (state === SlotState.COUNTING || state === SlotState.DONE) {
        // Counting a finished task out: the subtraction was made; what followed is done here.
        if (state === SlotState.COUNTING) this.markCounted(part);
        this.records.afterChange(record, partsLeft(countWord), finisher);
        continue;
      }
      // Adding a spawn: kept if its slot became QUEUED (its successor queues it again), else taken
      // back. Never the last part: the spawner's own part is still counted.
      Atomics.sub(words, count, state === SlotState.QUEUED ? finisher : finisher + ONE_PART);
    }
  }

  /**
   * Whether `record`, which carries the dead worker's mark, is a scope record: in state RECORD, or
   * a main-thread one it completed (DONE or FAILED, owned by it) before removing its mark. No other
   * slot can carry a mark: every change that completes a record removes its mark before the
   * record is freed.
   */
  private isRecord(record: number, dead: number): boolean {
    const stateWord = Atomics.load(this.words, this.slots.word(record, SlotField.STATE));
    const state = stateOf(stateWord);
    if (state === SlotState.RECORD) return true;
    return record < this.slots.mainSlots && ownerOf(stateWord) === dead && (state === SlotState.DONE || state === SlotState.FAILED);
  }

  /** A counted-out task's slot becomes DONE; a main-thread one is then settled and freed. */
  private markCounted(slot: number): void {
    const state = this.slots.word(slot, SlotField.STATE);
    countedOut(this.words, state, ownerOf(Atomics.load(this.words, state)));
    if (slot < this.slots.mainSlots) this.completeMain(slot);
  }

  /** A task of a worker's region that the dead worker was running. */
  private failNested(slot: number, dead: number, crash: unknown): void {
    const scope = this.scopeOf(slot);
    if (scope >= 0) {
      this.records.recordError(scope, crash, this.words[this.slots.word(slot, SlotField.TASK)]);
      this.records.countOut(scope, () => this.markCounted(slot));
      return;
    }
    // Whatever block the slot still names (arguments not yet released, or a result stored just
    // before the death) is given back; release() forgets it, so it cannot be given back twice.
    this.codec.release(slot);
    this.codec.store(slot, this.codec.encodeValue(crash, 'error'));
    finish(this.words, this.slots.word(slot, SlotField.STATE), dead, SlotState.FAILED);
    const waiter = nestedOwner(this.layout, slot);
    if (waiter !== dead) this.wake(waiter);
  }

  /** The dead worker's own open scopes: their bodies will never count themselves out. */
  private countOutBodies(dead: number): void {
    const { slots, words } = this;
    const first = nestedSlotBase(this.layout, dead);
    for (let record = first; record < first + this.layout.nestedSlots; record++) {
      if (stateOf(Atomics.load(words, slots.word(record, SlotField.STATE))) !== SlotState.RECORD) continue;
      const flags = slots.word(record, SlotField.FLAGS);
      if ((Atomics.load(words, flags) & SlotFlag.BODY_COUNTED) !== 0) continue;
      this.records.countOut(record, () => Atomics.or(words, flags, SlotFlag.BODY_COUNTED));
    }
  }

  private scopeOf(slot: number): number {
    return this.words[this.slots.word(slot, SlotField.SCOPE)];
  }
}
