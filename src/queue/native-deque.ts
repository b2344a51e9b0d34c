/**
 * The C++ implementation of the deque (native-queue/), behind the same WorkQueue interface as
 * ChaseLevDeque and over the same shared words. A steal claims natively: the addon is given the
 * slot table the entries name and the state encoding, and makes the claim of src/queue/claim.ts
 * itself, so that a steal is one call across the boundary.
 */
import { type NativeDequeHandle, WITHDRAWN_BASE, nativeAddon } from '../native/addon.js';
import { type ClaimTable, claimEncodingWords } from '../shm/slot.js';
import type { SlotClaim } from './claim.js';
import { RETRY, type WorkQueue } from './work-queue.js';

export class NativeDeque implements WorkQueue {
  readonly capacity: number;
  private readonly handle: NativeDequeHandle;

  /** Throws a ThreadPoolError saying how to build the addon when it is not built. */
  constructor(
    words: Int32Array,
    topWord: number,
    bottomWord: number,
    ringWord: number,
    capacity: number,
    private readonly claims: ClaimTable,
  ) {
    if (capacity < 1 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`deque capacity must be a power of two, got ${capacity}`);
    }
    const { NativeDeque: Handle } = nativeAddon("the native queue (queue: 'native')");
    this.capacity = capacity;
    this.handle = new Handle(
      words,
      topWord,
      bottomWord,
      ringWord,
      capacity,
      claims.words,
      claims.baseWord,
      claims.strideWords,
      claims.slotBits,
      claimEncodingWords(),
    );
  }

  push(entry: number): boolean {
    return this.handle.push(entry);
  }

  pop(): number {
    return this.handle.pop();
  }

  steal(claim: SlotClaim): number {
    if (claim.table !== this.claims) throw new Error('a native deque claims in the slot table it was built with');
    const result = this.handle.steal(claim.worker, claim.takesWithdrawn);
    if (result > WITHDRAWN_BASE) return result;
    claim.handBackWithdrawn(WITHDRAWN_BASE - result);
    return RETRY;
  }

  hasRoom(): boolean {
    return this.handle.hasRoom();
  }

  isEmpty(): boolean {
    return this.handle.size() === 0;
  }

  size(): number {
    return this.handle.size();
  }

  reset(start = 0): void {
    this.handle.reset(start);
  }

  adoptOwnership(): Set<number> {
    return new Set(this.handle.adoptOwnership());
  }
}
