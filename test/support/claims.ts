/**
 * Claims for queue tests whose entries are plain item numbers: one state word per item, every item
 * QUEUED until a taker claims it, read as a slot table with one-word slots and no generation bits.
 * The pool's claim (src/queue/claim.ts) runs on it unchanged, in TypeScript or in the native queue.
 */
import type { ClaimTable } from '../../src/shm/slot.js';
import { SlotClaim } from '../../src/queue/claim.js';
import { SlotState, makeStateWord, ownerOf, stateOf } from '../../src/shm/slot.js';

/** One QUEUED state word per item. */
export function itemClaimsBuffer(items: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(items * Int32Array.BYTES_PER_ELEMENT);
  new Int32Array(buffer).fill(makeStateWord(0, 0, SlotState.QUEUED));
  return buffer;
}

/**
 * The items as a slot table. With the default 31 slot bits entries carry no generation; with fewer,
 * an entry's upper bits must match the generation in the item's state word, as in the pool.
 */
export function itemClaimTable(buffer: SharedArrayBuffer, slotBits = 31): ClaimTable {
  return { words: new Int32Array(buffer), baseWord: 0, strideWords: 1, slotBits };
}

/** Taker `worker`'s claims on the items. */
export function itemClaim(table: ClaimTable, worker: number): SlotClaim {
  return new SlotClaim(table, worker);
}

/** Who claimed each item (-1: nobody), read after the threads finished. */
export function claimOwners(buffer: SharedArrayBuffer): number[] {
  return Array.from(new Int32Array(buffer), (word) => (stateOf(word) === SlotState.RUNNING ? ownerOf(word) : -1));
}
