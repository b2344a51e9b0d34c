/**
 * The work-stealing deque as the scheduler uses it, whichever implementation is behind it: the
 * TypeScript one (ChaseLevDeque, the default) or the C++ one from native-queue/ (NativeDeque).
 * Both work on the same shared words with the same protocol (docs/internals/deque.md), so
 * threads using different implementations can share one deque.
 */
import type { SlotClaim } from './claim.js';

/** Returned by `pop` and `steal` when the deque holds nothing. */
export const EMPTY = -1;
/** Returned by `steal` when it lost a race or skipped a stale entry; the deque may still hold entries. */
export const RETRY = -2;

/** Which implementation of the deque a pool uses. */
export type QueueBackend = 'js' | 'native';

export interface WorkQueue {
  readonly capacity: number;
  /** Owner only. False when the deque is full; the entry is then not queued. */
  push(entry: number): boolean;
  /** Owner only. Takes the most recently pushed entry, or returns EMPTY. It claims nothing. */
  pop(): number;
  /**
   * Any thread. Claims the task of the oldest entry, then removes the entry; returns the claimed
   * slot, EMPTY when there is nothing to take, or RETRY when a race was lost or a stale entry was
   * skipped.
   */
  steal(claim: SlotClaim): number;
  /** Owner only. Whether a push would succeed (thieves can only make more room). */
  hasRoom(): boolean;
  /** Any thread. A snapshot that may be stale by the time it returns. */
  isEmpty(): boolean;
  /** Any thread. A snapshot of the number of entries. */
  size(): number;
  /** Sets both indices to `start`, while no other thread uses the deque. */
  reset(start?: number): void;
  /** The new owner of a dead owner's deque: repairs it and returns the entries it holds. */
  adoptOwnership(): Set<number>;
}
