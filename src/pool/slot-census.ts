/**
 * Where the task slots are: a scan of every slot's state word, for the pool's statistics. A
 * snapshot of words other threads keep changing, so the counts of a busy pool only add up
 * approximately; once it is idle they are exact, which is what a check for leaked slots needs.
 */
import { partsLeft } from '../shm/scope-count.js';
import { SlotField, SlotState, type SlotTable, stateOf } from '../shm/slot.js';

export interface SlotCounts {
  capacity: number;
  free: number;
  /** Tasks waiting in a queue, and withdrawn calls whose queue entry is still to be found. */
  queued: number;
  /** Tasks running, or counting themselves out of their scope. */
  running: number;
  /**
   * Finished tasks whose outcome is still to be read, and finished scopes whose record is still to
   * be freed. In a worker's region, such slots are freed by the worker when it next needs one.
   */
  finished: number;
  /** Records of scopes with parts still running. */
  openScopes: number;
}

export interface SlotCensus {
  /** The main thread's slots: one per call (or batch chunk) accepted and not yet settled. */
  main: SlotCounts;
  /** The workers' nested regions: work forked inside tasks, and the records of their scopes. */
  nested: SlotCounts;
}

export function takeSlotCensus(slots: SlotTable): SlotCensus {
  const census: SlotCensus = { main: emptyCounts(slots.mainSlots), nested: emptyCounts(slots.count - slots.mainSlots) };
  const words = slots.words;
  for (let slot = 0; slot < slots.count; slot++) {
    const counts = slot < slots.mainSlots ? census.main : census.nested;
    const state = stateOf(Atomics.load(words, slots.word(slot, SlotField.STATE)));
    switch (state) {
      case SlotState.FREE:
        counts.free++;
        break;
      case SlotState.QUEUED:
      case SlotState.CANCELLED:
      case SlotState.RETURNED:
        counts.queued++;
        break;
      case SlotState.RUNNING:
      case SlotState.COUNTING:
        counts.running++;
        break;
      case SlotState.RECORD:
        if (partsLeft(Atomics.load(words, slots.word(slot, SlotField.COUNT))) > 0) counts.openScopes++;
        else counts.finished++;
        break;
      default:
        counts.finished++;
    }
  }
  return census;
}

function emptyCounts(capacity: number): SlotCounts {
  return { capacity, free: 0, queued: 0, running: 0, finished: 0, openScopes: 0 };
}
