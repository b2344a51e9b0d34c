/**
 * The one shared-memory layout of a pool.
 *
 * Every region lives in a single fixed-size SharedArrayBuffer and is addressed in Int32 words.
 * Words that different threads write at a high rate sit on their own 64-byte cache line: a
 * falsely shared counter costs 15-25 % more per Atomics operation on the machines we measured.
 *
 * The layout is a plain object of numbers so that it can travel to the workers over the control
 * plane and be recomputed identically on both sides.
 */

export const WORD_BYTES = 4;
export const LINE_BYTES = 64;
export const LINE_WORDS = LINE_BYTES / WORD_BYTES;

/** Bytes of fixed header at the start of every task slot; the inline payload follows it. */
export const SLOT_HEADER_BYTES = 128;

/** Number of injector priority levels (high, normal, low). */
export const PRIORITY_LEVELS = 3;

/** Word offsets inside the pool header (line 0 holds constants, the others one hot word each). */
export const Header = {
  MAGIC: 0,
  THREADS: 1,
  SLOTS: 2,
  /** RUNNING or STOPPING; written by the main thread only. */
  POOL_STATE: 1 * LINE_WORDS,
  /**
   * Workers present (started or starting, not retired): the main thread adds one before it starts
   * a worker at a free index, a retiring worker takes one away by compare-exchange while more than
   * `minThreads` are present (docs/internals/elastic-size.md).
   */
  PRESENT_WORKERS: 1 * LINE_WORDS + 1,
  /** Packed sleep counters (see sync/sleep-counters.ts). */
  SLEEP_COUNTERS: 2 * LINE_WORDS,
  /** Incremented by a worker to wake the main thread when it is parked. */
  MAIN_DOORBELL: 3 * LINE_WORDS,
  /** 1 while the main thread waits on MAIN_DOORBELL; cleared by the worker that rings it. */
  MAIN_PARKED: 3 * LINE_WORDS + 1,
  WORDS: 4 * LINE_WORDS,
} as const;

export const MAGIC = 0x56495343; // "VISC"

export const PoolState = {
  RUNNING: 0,
  STOPPING: 1,
} as const;

/** Word offsets inside one worker's block, relative to its base. */
export const WorkerBlock = {
  /** The word this worker parks on (AWAKE / BLOCKED); see sync/sleep-protocol.ts. */
  SLEEP_STATE: 0,
  /** 1 while the worker searches for work (or sleeps); written by the worker only. */
  SEARCHING: 1,
  /**
   * How many control messages the main thread has posted to this worker (modulo 2^32); written by
   * the main thread only, after each post. The worker compares it with what its port delivered.
   */
  CONTROL_POSTED: 2,
  /**
   * The part of a scope this worker is changing the count for right now (scope-count.ts): the slot
   * of a task it is adding or counting out, BODY_PART, or NO_PART. Written by the worker only,
   * before it marks the count; read by crash recovery.
   */
  CHANGING: 3,
  /**
   * 1 once the worker has loaded the task module and its loop may take work. Written by the worker
   * (set) and by the main thread (cleared before a thread starts in this block). A worker that dies
   * with it still 0 died starting; one that dies after it is replaced even if the main thread had
   * not yet heard that it started.
   */
  LOOP_STARTED: 4,
  /**
   * How many messages were posted to this worker's buffer ports (modulo 2^32): the main thread and
   * the other workers add one after each post. The worker reads its ports when the count moved
   * since it last read them all (worker/buffer-inbox.ts).
   */
  BUFFER_MESSAGES: 5,
  /**
   * Events this worker's tasks posted on its event port that the main thread has not taken off yet
   * (worker/task-events.ts): the worker adds one before it posts, the main thread subtracts one per
   * event it takes. `emit` drops events beyond MAX_UNDELIVERED_EVENTS.
   */
  EVENTS_UNDELIVERED: 6,
  DEQUE_TOP: 1 * LINE_WORDS,
  DEQUE_BOTTOM: 2 * LINE_WORDS,
  /** Written by the worker (producer) of its completion ring. */
  RING_TAIL: 3 * LINE_WORDS,
  /** Written by the main thread (consumer) of the completion ring. */
  RING_HEAD: 4 * LINE_WORDS,
  /** Float64 event counters written by the worker only (shm/worker-counters.ts). */
  COUNTERS: 5 * LINE_WORDS,
  /**
   * Written by the worker only, read by producers deciding whether to wake a sleeper: a float64
   * (words 0-1) with the shared-clock time the current task started, 0 between tasks, and the
   * running average duration of its tasks in nanoseconds (word 2).
   */
  BUSY_SINCE: 6 * LINE_WORDS,
  AVERAGE_TASK_NS: 6 * LINE_WORDS + 2,
  /**
   * Written by the worker only, read for statistics: float64s with the shared-clock time it started
   * searching for work (0 while it has work) and the milliseconds it spent searching or parked so
   * far. Busy time is the rest.
   */
  SEARCHING_SINCE: 6 * LINE_WORDS + 4,
  IDLE_TOTAL_MS: 6 * LINE_WORDS + 6,
  /** Entries waiting in this worker's mailbox (see queue/mailbox.ts); any thread adds, the worker subtracts. */
  MAILBOX_COUNT: 7 * LINE_WORDS,
  FIXED_WORDS: 8 * LINE_WORDS,
} as const;

/**
 * FIFO lanes per worker: each holds the jobs the worker spawned into one FIFO scope, oldest first
 * (docs/internals/scopes.md). A worker with more FIFO scopes in use at once spawns inline.
 */
export const FIFO_LANES = 4;

/** Word offsets inside one FIFO lane, relative to its base; its ring follows. */
export const LaneBlock = {
  TOP: 0,
  BOTTOM: 1 * LINE_WORDS,
  FIXED_WORDS: 2 * LINE_WORDS,
} as const;

export const InjectorBlock = {
  TOP: 0,
  BOTTOM: 1 * LINE_WORDS,
  FIXED_WORDS: 2 * LINE_WORDS,
} as const;

export interface LayoutParams {
  threads: number;
  /** Task slots available to work submitted from the main thread (maxPendingTasks). */
  slots: number;
  /** Slots each worker owns for the work it forks (join, scope, broadcast). */
  nestedSlots: number;
  /** Bytes of inline payload per slot (arguments, then the result). */
  inlinePayloadBytes: number;
  /** Capacity of each worker's deque, a power of two. */
  dequeCapacity: number;
  /** Cells of each worker's mailbox (jobs addressed to that worker: broadcasts). */
  mailboxCapacity: number;
}

export interface Layout extends LayoutParams {
  totalBytes: number;
  /** Word index of worker i's block is workerBase + i * workerStride. */
  workerBase: number;
  workerStride: number;
  /** Word offset of the deque ring inside a worker block. */
  dequeRing: number;
  /** Word offset of the completion ring inside a worker block. */
  completionRing: number;
  completionCapacity: number;
  /** Word offset of the mailbox cells inside a worker block. */
  mailbox: number;
  /** Word offset of FIFO lane l inside a worker block is fifoLanes + l * fifoLaneStride. */
  fifoLanes: number;
  fifoLaneStride: number;
  /** Slots in all: the main thread's `slots`, then `nestedSlots` per worker. */
  totalSlots: number;
  /** Word index of injector level p is injectorBase + p * injectorStride. */
  injectorBase: number;
  injectorStride: number;
  injectorRing: number;
  injectorCapacity: number;
  /** Byte offset of slot s is slotBase + s * slotStride. */
  slotBase: number;
  slotStride: number;
  /** Bits of an Int32 queue entry used by the slot index; the rest carry its generation. */
  slotBits: number;
}

/** Largest number of workers: the owner field of a slot's state word has 10 bits. */
export const MAX_THREADS = 1023;
/**
 * The largest slot table (main-thread slots and every nested region together): slot indices fit
 * the low bits of a queue entry with generation bits above them, and a scope's part count (21 bits,
 * scope-count.ts) holds one part per slot.
 */
export const MAX_SLOTS = 1 << 20;

/** The first slot of worker `worker`'s nested region. */
export function nestedSlotBase(layout: Layout, worker: number): number {
  return layout.slots + worker * layout.nestedSlots;
}

/** The worker whose nested region holds `slot`, or -1 for a main-thread slot. */
export function nestedOwner(layout: Layout, slot: number): number {
  return slot < layout.slots ? -1 : ((slot - layout.slots) / layout.nestedSlots) | 0;
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function alignWords(words: number): number {
  return Math.ceil(words / LINE_WORDS) * LINE_WORDS;
}

export function computeLayout(params: LayoutParams): Layout {
  const { threads, slots, inlinePayloadBytes, dequeCapacity } = params;
  // Every completion comes from a distinct slot that is not freed until the main thread consumed
  // it, so a ring as large as the slot table never overflows, whichever worker produced it.
  const completionCapacity = nextPowerOfTwo(slots);
  // One entry per main-thread slot in use, plus one stale entry per worker that could die between
  // claiming a task and removing its entry (the next taker skips it).
  const injectorCapacity = nextPowerOfTwo(slots + threads);

  const dequeRing = WorkerBlock.FIXED_WORDS;
  const completionRing = dequeRing + alignWords(dequeCapacity);
  const mailbox = completionRing + alignWords(completionCapacity);
  const fifoLanes = mailbox + alignWords(params.mailboxCapacity);
  // A lane holds at most one job per slot of its worker's region, like the deque.
  const fifoLaneStride = LaneBlock.FIXED_WORDS + alignWords(dequeCapacity);
  const workerStride = fifoLanes + FIFO_LANES * fifoLaneStride;
  const workerBase = Header.WORDS;

  const injectorBase = workerBase + threads * workerStride;
  const injectorRing = InjectorBlock.FIXED_WORDS;
  const injectorStride = injectorRing + alignWords(injectorCapacity);

  const slotBase = (injectorBase + PRIORITY_LEVELS * injectorStride) * WORD_BYTES;
  const slotStride = SLOT_HEADER_BYTES + Math.ceil(inlinePayloadBytes / LINE_BYTES) * LINE_BYTES;
  const totalSlots = slots + threads * params.nestedSlots;
  const totalBytes = slotBase + totalSlots * slotStride;

  let slotBits = 1;
  while (1 << slotBits < totalSlots) slotBits++;

  return {
    ...params,
    totalBytes,
    workerBase,
    workerStride,
    dequeRing,
    completionRing,
    completionCapacity,
    mailbox,
    fifoLanes,
    fifoLaneStride,
    totalSlots,
    injectorBase,
    injectorStride,
    injectorRing,
    injectorCapacity,
    slotBase,
    slotStride,
    slotBits,
  };
}

export function workerWord(layout: Layout, worker: number, offset: number): number {
  return layout.workerBase + worker * layout.workerStride + offset;
}

export function injectorWord(layout: Layout, level: number, offset: number): number {
  return layout.injectorBase + level * layout.injectorStride + offset;
}
