/**
 * Claiming the task a queue entry names: one compare-exchange on the state word of its slot.
 *
 * An entry carries the slot index in its low `slotBits` bits and the low bits of the slot's
 * generation above them (src/shm/slot.ts). A claim succeeds only on a QUEUED slot of the same
 * generation and makes it RUNNING, owned by the claiming worker. A thief reads an entry before the
 * entry leaves the queue, so two takers may hold the same entry for a moment: the compare-exchange
 * gives the task to one of them, the other finds the entry stale.
 *
 * The native queue (native-queue/src/slot_claim.h) makes the same claim in C++ from a `ClaimTable`
 * and the state encoding below, so a `SlotClaim` is both the JS claim and its description.
 */
import { type ClaimTable, EntryCodec, SlotState, stateOf } from '../shm/slot.js';
import { tryClaim, tryTakeTombstone } from '../shm/slot-protocol.js';

/** What a queue written in JS needs of a claim (tests give their own). */
export interface EntryClaim {
  /** Claims the task `entry` names for the calling thread: its slot, or -1 when the entry is stale. */
  claim(entry: number): number;
}

/** One worker's claims on the entries of one slot table. */
export class SlotClaim implements EntryClaim {
  private readonly entries: EntryCodec;

  /**
   * @param withdrawn Given for takers of the injector, where the main thread's calls wait: an entry
   *   whose call was withdrawn (CANCELLED, same generation) is then taken (RETURNED) and its slot
   *   handed to this function, which gives it back to the main thread. The claim still reports the
   *   entry as stale: there is no task to run.
   */
  constructor(
    readonly table: ClaimTable,
    readonly worker: number,
    private readonly withdrawn?: (slot: number) => void,
  ) {
    this.entries = new EntryCodec(table.slotBits);
  }

  /** Whether entries of withdrawn calls are taken (see the constructor). */
  get takesWithdrawn(): boolean {
    return this.withdrawn !== undefined;
  }

  claim(entry: number): number {
    const { words } = this.table;
    const slot = this.entries.slotOf(entry);
    const index = this.table.baseWord + slot * this.table.strideWords;
    let current = Atomics.load(words, index);
    // A lost compare-exchange is looked at again: the main thread may have withdrawn the call
    // between the load and the exchange (QUEUED → CANCELLED), and the tombstone must then still be
    // taken, or its slot would never go back to the main thread. States only move forward, so this
    // ends within a few rounds.
    for (;;) {
      if (!this.entries.names(entry, current)) return -1;
      const state = stateOf(current);
      if (state === SlotState.QUEUED) {
        const seen = tryClaim(words, index, current, this.worker);
        if (seen === current) return slot;
        current = seen;
      } else if (state === SlotState.CANCELLED && this.withdrawn !== undefined) {
        const seen = tryTakeTombstone(words, index, current, this.worker);
        if (seen === current) {
          this.withdrawn(slot);
          return -1;
        }
        current = seen;
      } else {
        return -1;
      }
    }
  }

  /** A withdrawn call's slot that a native queue took for this claim: hands it to the main thread. */
  handBackWithdrawn(slot: number): void {
    this.withdrawn?.(slot);
  }
}
