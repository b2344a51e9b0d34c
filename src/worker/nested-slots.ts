/**
 * A worker's own region of the slot table, for the work it forks: the second half of a `join`, the
 * tasks of a `scope`, the parts of a `broadcast`, scope records.
 *
 * Only the owner allocates, from a private free list. Most slots come back through `free` from the
 * owner itself (it reads every result it waits for). A scope's spawned task is different: nobody
 * reads its result, and whichever worker finishes it marks it DONE; the owner collects such slots
 * when its free list runs dry (`reclaimable`), like the arenas collect released blocks.
 */
import { SlotField, SlotFlag, SlotState, type SlotTable, generationOf, makeStateWord, stateOf } from '../shm/slot.js';

export class NestedSlots {
  private readonly free: number[] = [];
  /** Spawned tasks handed out, which come back by being finished rather than freed. */
  private readonly spawned: number[] = [];

  constructor(
    private readonly slots: SlotTable,
    first: number,
    count: number,
  ) {
    for (let slot = first + count - 1; slot >= first; slot--) this.free.push(slot);
  }

  /** A free slot of the region, or -1 when every one is in use. */
  allocate(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    return this.collectFinishedSpawns() ? this.free.pop()! : -1;
  }

  /** Notes that `slot` carries a spawned task, to be collected once finished. */
  handedToScope(slot: number): void {
    this.spawned.push(slot);
  }

  /** Returns a slot to the free list with a new generation. */
  release(slot: number): void {
    const index = this.slots.word(slot, SlotField.STATE);
    const word = Atomics.load(this.slots.words, index);
    Atomics.store(this.slots.words, index, makeStateWord(generationOf(word) + 1, 0, SlotState.FREE));
    this.free.push(slot);
  }

  private collectFinishedSpawns(): boolean {
    const words = this.slots.words;
    let kept = 0;
    let found = false;
    for (let i = 0; i < this.spawned.length; i++) {
      const slot = this.spawned[i];
      const state = stateOf(Atomics.load(words, this.slots.word(slot, SlotField.STATE)));
      if (state === SlotState.DONE && (words[this.slots.word(slot, SlotField.FLAGS)] & SlotFlag.DISCARD_RESULT) !== 0) {
        this.release(slot);
        found = true;
      } else {
        this.spawned[kept++] = slot;
      }
    }
    this.spawned.length = kept;
    return found;
  }
}
