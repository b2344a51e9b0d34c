/**
 * How many calls each main-thread slot counts for: one, or the calls of one turn that share it
 * (coalescer.ts). The dispatcher's `outstanding` and the statistics count calls, not slots.
 */
import { SlotState } from '../shm/slot.js';
import type { Submission } from './work.js';

export class SharedSlots {
  /** The calls each shared slot in use holds; 0 for any other slot. */
  private readonly calls: Uint32Array;
  /** Calls in shared slots in use or waiting for one, beyond one per slot. */
  extra = 0;

  constructor(slots: number) {
    this.calls = new Uint32Array(slots);
  }

  /** `submission` was accepted: returns how many calls it counts for. */
  accepted(submission: Submission): number {
    const calls = callsOf(submission);
    this.extra += calls - 1;
    return calls;
  }

  /** An accepted `submission` was not queued after all: returns how many calls it counted for. */
  refused(submission: Submission): number {
    const calls = callsOf(submission);
    this.extra -= calls - 1;
    return calls;
  }

  /** `submission` is in `slot` now. */
  stored(slot: number, submission: Submission): void {
    if (submission.shared === true) this.calls[slot] = submission.batch;
  }

  /** The calls `slot` holds. */
  in(slot: number): number {
    return this.calls[slot] || 1;
  }

  /** Of the calls of `slot`, which finished in `state` with `outcome`, how many failed. */
  failedIn(slot: number, state: number, outcome: unknown): number {
    if (state !== SlotState.DONE) return this.in(slot);
    // A shared slot's calls each settle on their own: [results, failures].
    return this.calls[slot] === 0 ? 0 : (outcome as [unknown[], unknown[]])[1].length;
  }

  /** `slot` is free again. */
  freed(slot: number): void {
    const calls = this.calls[slot];
    if (calls === 0) return;
    this.extra -= calls - 1;
    this.calls[slot] = 0;
  }

  /** Every slot was given up (terminate). */
  clear(): void {
    this.calls.fill(0);
    this.extra = 0;
  }
}

function callsOf(submission: Submission): number {
  return submission.shared === true ? submission.batch : 1;
}
