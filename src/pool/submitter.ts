/**
 * Queues the main thread's encoded calls with the dispatcher, and keeps the shared buffers each
 * names known to the workers until no worker reads its payload any more: it settled, was
 * abandoned, or — cancelled — its task returned or never started (codec/shared-buffers.ts). The
 * buffers a call names that the workers do not know yet are posted before it is queued
 * (shared-announcer.ts). Likewise it holds the values a call moves with `transfer()` until the
 * worker that takes the call pulls them, and lets go of them when the call ends without that
 * (codec/held-transfers.ts).
 */
import { heldTransfers } from '../codec/held-transfers.js';
import type { EncodedPayload } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { Dispatcher } from './dispatcher.js';
import type { PendingWork, Submission } from './work.js';
import { SharedBufferAnnouncer } from './shared-announcer.js';
import type { WorkerHost } from './worker-host.js';

export class Submitter {
  private readonly announcer: SharedBufferAnnouncer;
  /** Calls in flight that keep shared buffers alive, by the work their caller knows. */
  private readonly holders = new Map<PendingWork, { holder: PendingWork; held: readonly number[] | undefined; moved: number }>();

  constructor(
    private readonly dispatcher: Dispatcher,
    hosts: () => readonly WorkerHost[],
  ) {
    this.announcer = new SharedBufferAnnouncer(hosts);
  }

  /**
   * Right after an encode whose payload is queued later (`submit`'s `held`): posts the buffers it
   * names that the workers do not know yet, and holds them. Undefined when it names none.
   */
  holdReferenced(): number[] | undefined {
    this.announcer.announceReferenced();
    return sharedBuffers.holdReferenced();
  }

  /**
   * Right after an encode that may move values marked with `transfer()` (for one worker): detaches
   * them from the caller and holds them for the worker that takes the call. Returns their token for
   * `submit`, 0 when the encode moves nothing.
   */
  holdMoved(): number {
    return heldTransfers.holdEncoded();
  }

  /**
   * Queues an encoded call. Must run right after the encode, whose referenced buffers it looks at,
   * or be given what `holdReferenced` returned for it; `moved` is what `holdMoved` returned for it.
   */
  submit(submission: Submission, payload: EncodedPayload, pending: PendingWork, held = this.holdReferenced(), moved = 0): void {
    this.dispatcher.submit(submission, payload, held === undefined && moved === 0 ? pending : this.holding(pending, held, moved));
  }

  /** Lets go of buffers `holdReferenced` held for calls that will not be queued after all. */
  letGo(held: readonly number[]): void {
    if (held.length > 0) sharedBuffers.unhold(held);
  }

  /**
   * Withdraws `work`; its `dropped` hook lets go of its shared buffers once no worker runs it. What
   * it moved with `transfer()` and no worker pulled yet is let go of at once.
   * `running` is told the state word of its slot if a worker runs it (Dispatcher.cancel).
   */
  cancel(work: PendingWork, running?: (stateWord: number) => void): void {
    this.dispatcher.cancel(this.dispatched(work), running);
    // What the call moved is for its task alone, whose outcome nobody wants now: a worker that has
    // claimed it but not pulled yet hears the values are gone and fails the call without running
    // it, and their memory is freed here instead of waiting for that worker's collections.
    const moved = this.holders.get(work)?.moved;
    if (moved !== undefined && moved !== 0) heldTransfers.release(moved);
  }

  /** What the dispatcher knows `work` as. */
  dispatched(work: PendingWork): PendingWork {
    return this.holders.get(work)?.holder ?? work;
  }

  /** Every buffer a worker starting now must know. */
  knownBuffers(): [number, SharedArrayBuffer][] {
    return this.announcer.entries();
  }

  /** The pool stopped: nothing it ran refers to a shared buffer any more. */
  stop(): void {
    for (const { held, moved } of this.holders.values()) this.letGoOf(held, moved);
    this.holders.clear();
    this.announcer.dispose();
  }

  private letGoOf(held: readonly number[] | undefined, moved: number): void {
    if (held !== undefined) sharedBuffers.unhold(held);
    if (moved !== 0) heldTransfers.release(moved);
  }

  /**
   * `work`, letting go of `held` and of the values held under `moved` (if no worker pulled them)
   * when it is over; the dispatcher knows the returned work.
   */
  private holding(work: PendingWork, held: readonly number[] | undefined, moved: number): PendingWork {
    const done = (): void => {
      if (this.holders.delete(work)) this.letGoOf(held, moved);
    };
    const holder: PendingWork = {
      settle(state, outcome, worker, runMs, outcomeBytes) {
        done();
        work.settle(state, outcome, worker, runMs, outcomeBytes);
      },
      abandon(error) {
        done();
        work.abandon(error);
      },
      dropped() {
        done();
        work.dropped?.();
      },
    };
    this.holders.set(work, { holder, held, moved });
    return holder;
  }
}
