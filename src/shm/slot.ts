/**
 * Task slots: the header words of a slot and the encoding of its state word.
 *
 * The state word packs the lifecycle state, the worker that claimed the slot and a generation:
 *
 *   bits 0..3    state (SlotState)
 *   bits 4..13   owner: index of the worker that claimed it (meaningful while RUNNING/DONE/FAILED)
 *   bits 14..31  generation, incremented each time the slot is freed
 *
 * Claiming a queued task, and so learning who runs it, is one compare-exchange on this word: a
 * worker that dies right after it leaves a slot whose owner is known, and one that dies right
 * before it leaves a slot that is still QUEUED.
 *
 * Queue entries carry the slot index in their low `slotBits` bits and the low bits of the
 * generation above them (bit 31 stays clear, so entries are non-negative). A stale entry, whose
 * slot was freed and reused since, is recognised by its generation and skipped.
 */
import { type Layout, SLOT_HEADER_BYTES, WORD_BYTES } from './layout.js';

export const SlotState = {
  FREE: 0,
  QUEUED: 1,
  RUNNING: 2,
  DONE: 3,
  FAILED: 4,
  /**
   * A queued call withdrawn by the main thread (its caller aborted) before any worker claimed it:
   * a tombstone. Its queue entry stays where it is; the worker that takes that entry returns the
   * slot to the main thread instead of running it.
   */
  CANCELLED: 5,
  /** The slot holds a scope's shared record (COUNT, ERROR), not a task: nobody may claim it. */
  RECORD: 6,
  /** A tombstone taken by the worker that found its entry (the owner), on its way back to main. */
  RETURNED: 7,
  /**
   * A scope's task that finished and is counting itself out of its record (scope-count.ts): the
   * owner is the worker doing it. Tells crash recovery which part a dead worker was counting out.
   */
  COUNTING: 8,
} as const;
export type SlotStateValue = (typeof SlotState)[keyof typeof SlotState];

const STATE_MASK = 0xf;
const OWNER_SHIFT = 4;
const OWNER_MASK = 0x3ff;
const GEN_SHIFT = 14;

export function stateOf(word: number): number {
  return word & STATE_MASK;
}

export function ownerOf(word: number): number {
  return (word >>> OWNER_SHIFT) & OWNER_MASK;
}

export function generationOf(word: number): number {
  return word >>> GEN_SHIFT;
}

export function makeStateWord(generation: number, owner: number, state: number): number {
  return (generation << GEN_SHIFT) | (owner << OWNER_SHIFT) | state | 0;
}

/**
 * The state word's encoding and the states a claim reads and writes, for the native queue, which
 * makes the same claims (native-queue/src/slot_claim.h): mask, owner shift, owner mask, generation
 * shift, QUEUED, RUNNING, CANCELLED, RETURNED.
 */
export function claimEncodingWords(): Int32Array {
  return Int32Array.of(
    STATE_MASK,
    OWNER_SHIFT,
    OWNER_MASK,
    GEN_SHIFT,
    SlotState.QUEUED,
    SlotState.RUNNING,
    SlotState.CANCELLED,
    SlotState.RETURNED,
  );
}

/** The same word with another state and owner, generation unchanged. */
export function withState(word: number, owner: number, state: number): number {
  return (word & ~((OWNER_MASK << OWNER_SHIFT) | STATE_MASK)) | (owner << OWNER_SHIFT) | state | 0;
}

/** Word offsets inside a slot header. */
export const SlotField = {
  STATE: 0,
  /** Index of the task function in the sorted export list. */
  TASK: 1,
  /** PayloadKind of the payload currently stored (arguments, then the result). */
  KIND: 2,
  /** Scalar fast path: the tags of the values, 3 bits each. */
  TAGS: 3,
  /** Payload length in bytes, or the number of scalars. */
  LENGTH: 4,
  /** -1 when the payload is inline, else the arena that holds it. */
  ARENA: 5,
  /** Byte offset of the payload block in that arena. */
  OFFSET: 6,
  /** Number of calls in a batch slot; 0 for a single call. */
  BATCH: 7,
  /** SlotFlag bits, written with the task. */
  FLAGS: 8,
  /** The scope record slot a spawned task belongs to, or -1. */
  SCOPE: 9,
  /** Scope records only: tasks (and the body) not finished yet. */
  COUNT: 10,
  /** Scope records only: 0, or ERROR_WRITING / ERROR_WRITTEN once a first error is claimed. */
  ERROR: 11,
  /**
   * The scope record `currentScope()` returns while this task runs, or -1. For a spawned task it is
   * SCOPE; for forked work (a join's second half, a parallel iterator's piece, a broadcast part) it
   * is what the forking code saw, so that it sees the same wherever it runs. Unlike SCOPE it is no
   * membership: nothing counts the task out of that scope. The forker waits for the task, so the
   * record outlives it.
   */
  VISIBLE_SCOPE: 12,
  /**
   * The main-thread call this task works for: its slot, whose CANCEL_REQUESTED flag cancels this
   * task too. A main-thread call's own slot; for forked work (a join half, a piece, a spawned task,
   * a broadcast part) the forker's ROOT, so that a stolen half sees its caller's cancel wherever it
   * runs. The root call waits for everything it forked, so its slot is not reused meanwhile (unless
   * its worker died, and then its forks' outcomes go nowhere).
   */
  ROOT: 13,
  /**
   * The generation of ROOT's state word while that call runs: with ROOT, the identity of the root
   * call. Whoever reads ROOT's words for that call (a task's `emit`) checks that the slot still
   * holds it (RUNNING, same generation), since a slot outlives no call: a root whose worker died,
   * or an asynchronous root given up on, may be freed and reused while work it forked still runs.
   */
  ROOT_GENERATION: 14,
  /** Float64 timestamps (shared clock, milliseconds) start at this word (8-byte aligned). */
  TIMES: 16,
} as const;

export const SlotFlag = {
  /**
   * Started from synchronous code inside a task (join, scope, broadcast): it must not return a
   * promise, since the code waiting for it cannot let an event loop run.
   */
  SYNC_ONLY: 1,
  /** Nobody reads the result (a scope's spawned task): it is not encoded. */
  DISCARD_RESULT: 2,
  /**
   * A batch chunk whose calls all run whatever happens to the others: its result is
   * `[results, failures]`, failures being `[index in the chunk, error]` pairs.
   */
  SETTLE_EACH: 4,
  /**
   * Raised by the main thread (Atomics.or) when the caller of a running task aborted it; the task
   * sees it through `isCancelled()`. Its outcome is dropped when it finishes.
   */
  CANCEL_REQUESTED: 8,
  /**
   * Scope records only: the body of the scope has been counted out. Set by its finisher while it
   * holds its mark on COUNT (scope-count.ts), so that recovery from the death of a worker in the
   * middle of its own scope knows whether the body part is still to be subtracted.
   */
  BODY_COUNTED: 16,
  /**
   * A pointer to a FIFO lane, not a task (docs/internals/scopes.md): whoever claims it runs the
   * oldest job of lane TASK of the worker whose region holds it. Nobody reads its outcome.
   */
  FIFO_FRONT: 32,
  /** Scope records only: a `scopeFifo`, whose tasks spawn more with `spawnFifo`. */
  SCOPE_FIFO: 64,
  /**
   * A main-thread call whose caller listens for its events (`onEvent`): set with the task, read in
   * the ROOT slot by `emit` in any task working for that call. Without it no event is sent.
   */
  EVENTS: 128,
  /**
   * With SETTLE_EACH: the caller forwards the chunk's values as packed JSON data (a cluster node).
   * When JSON's types cover them (codec/json-values.ts), the worker packs them itself as one list,
   * null for each failed call, and its result is `[that list's bytes, failures]`.
   */
  PACK_VALUES: 256,
} as const;

/** Values of a scope record's ERROR word. */
export const ERROR_WRITING = 1;
export const ERROR_WRITTEN = 2;
/** The scope's own body failed first: its error stays with the body, nothing is stored. */
export const ERROR_IN_BODY = 3;

/** Indices of the Float64 timestamps of a slot (see SlotTable.timeIndex). */
export const SlotTime = {
  /** When the main thread accepted the call; 0 when it records no statistics (and for records). */
  ACCEPTED: 0,
  /** When a worker claimed the task and started running it. */
  STARTED: 1,
  /** When the worker stored its outcome. */
  FINISHED: 2,
} as const;

export const PayloadKind = {
  /** Up to MAX_SCALARS numbers, booleans, null or undefined, stored as tags + float64. */
  SCALARS: 1,
  /** msgpack, objects as plain msgpack maps: the fastest for small values. */
  PLAIN: 2,
  /**
   * msgpack, objects as self-describing records (defined inline, once per message): msgpack maps
   * then decode as Map, and arrays of same-shaped objects decode several times faster.
   */
  RECORDS: 3,
} as const;

export const INLINE = -1;

/**
 * Where the state words of the slots that entries name are, and how entries encode a slot: the slot
 * table as the queues' claims (queue/claim.ts, and the native queue's slot_claim.h) see it.
 */
export interface ClaimTable {
  readonly words: Int32Array;
  /** Word index of slot 0's state word. */
  readonly baseWord: number;
  /** Words from one slot's state word to the next one's. */
  readonly strideWords: number;
  /** Low bits of an entry that hold the slot index; the generation's low bits are above them. */
  readonly slotBits: number;
}

/**
 * Queue entries of a table whose slot indices take `slotBits` bits: the one place that splits an
 * entry into slot and generation (the native queue's slot_claim.h does the same in C++, from the
 * same `slotBits`). With 31 slot bits (tests' item tables) no generation fits.
 */
export class EntryCodec {
  readonly slotMask: number;
  /** The generation bits that fit in an entry. */
  readonly generationMask: number;

  constructor(readonly slotBits: number) {
    this.slotMask = slotBits >= 31 ? 0x7fffffff : (1 << slotBits) - 1;
    this.generationMask = slotBits >= 31 ? 0 : (1 << (31 - slotBits)) - 1;
  }

  /** The entry that names this incarnation of `slot` (`stateWord` gives its generation). */
  encode(slot: number, stateWord: number): number {
    return ((generationOf(stateWord) & this.generationMask) << this.slotBits) | slot | 0;
  }

  slotOf(entry: number): number {
    return entry & this.slotMask;
  }

  /** Whether `entry` names the incarnation of its slot whose state word is `stateWord`. */
  names(entry: number, stateWord: number): boolean {
    return (generationOf(stateWord) & this.generationMask) === entry >>> this.slotBits;
  }
}

/** Precomputed address arithmetic for the slot table of one layout. */
export class SlotTable implements ClaimTable {
  /** All slots: the main thread's, then every worker's nested region. */
  readonly count: number;
  /** The main thread's slots, [0, mainSlots). */
  readonly mainSlots: number;
  readonly slotBits: number;
  readonly entries: EntryCodec;
  /** Word index of slot 0's state word (the slot table as a ClaimTable). */
  readonly baseWord: number;
  readonly strideWords: number;
  readonly inlineBytes: number;

  constructor(
    readonly words: Int32Array,
    layout: Layout,
  ) {
    this.count = layout.totalSlots;
    this.mainSlots = layout.slots;
    this.slotBits = layout.slotBits;
    this.entries = new EntryCodec(layout.slotBits);
    this.baseWord = layout.slotBase / WORD_BYTES;
    this.strideWords = layout.slotStride / WORD_BYTES;
    this.inlineBytes = layout.slotStride - SLOT_HEADER_BYTES;
  }

  /** Word index of a header field of a slot. */
  word(slot: number, field: number): number {
    return this.baseWord + slot * this.strideWords + field;
  }

  /** Byte offset of a slot's inline payload in the shared buffer. */
  inlineOffset(slot: number): number {
    return (this.baseWord + slot * this.strideWords) * WORD_BYTES + SLOT_HEADER_BYTES;
  }

  /**
   * Float64 index (over the whole buffer) of a slot's inline payload, where scalars go. Slots are
   * line-aligned, so the division is exact; a shift would wrap in a buffer past 2 GiB.
   */
  inlineScalarIndex(slot: number): number {
    return this.inlineOffset(slot) / 8;
  }

  /** Float64 index (over the whole buffer) of timestamp `k` of a slot. */
  timeIndex(slot: number, k: number): number {
    return (this.baseWord + slot * this.strideWords + SlotField.TIMES) / 2 + k;
  }

  loadState(slot: number): number {
    return Atomics.load(this.words, this.word(slot, SlotField.STATE));
  }

  /** The queue entry that names this incarnation of a slot. */
  entryFor(slot: number, stateWord: number): number {
    return this.entries.encode(slot, stateWord);
  }

  slotOfEntry(entry: number): number {
    return this.entries.slotOf(entry);
  }
}
