// Indices, lengths and offsets past 2^31. The splitter cut a piece at `lo + ((hi - lo) >> 1)`: a
// 32-bit shift, so `parIter(range(0, 2 ** 31 + 2)).count()` returned 3221225473 and a forEach over
// range(0, 3e9) was handed item -971225472. The same kind of operator put the scalar payloads of
// slots past 2 GiB of a pool's buffer at a negative index (lost, read back as undefined), timestamps
// past 8 GiB likewise, and a mailbox read its largest entry back as -2^31 - 1; the typed-array
// extension could not send a view at or past 4 GiB of a SharedArrayBuffer.
//
// Nothing here iterates billions of items: a pipeline whose step throws at its first item runs one
// item per piece, and the `viscose:parIter:piece` channel reports every piece's [lo, hi) anyway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Range, ThreadPool, range } from 'viscose';
import { midpoint, initialSplits, trySplit } from '../../../src/iter/splitter.js';
import { SlotClaim } from '../../../src/queue/claim.js';
import { ChaseLevDeque } from '../../../src/queue/deque.js';
import { Mailbox } from '../../../src/queue/mailbox.js';
import { NativeDeque } from '../../../src/queue/native-deque.js';
import { SLOT_HEADER_BYTES, computeLayout } from '../../../src/shm/layout.js';
import { SlotField, SlotState, SlotTable, makeStateWord, stateOf } from '../../../src/shm/slot.js';
import type * as Refusing from '../../fixtures/refusing-iter.mjs';
import type * as Tasks from '../../fixtures/tasks.mjs';
import { runtime } from '../../support/runtime.js';
import { type Piece, expectTiling } from '../../support/pieces.js';

const refusingModule = new URL('../../fixtures/refusing-iter.mjs', import.meta.url);
const tasksModule = new URL('../../fixtures/tasks.mjs', import.meta.url);

const MAX = Number.MAX_SAFE_INTEGER;
const noLimits = { minLen: 1, maxLen: Infinity };

/** The lengths around each boundary a 32-bit operator gets wrong, and the largest range allowed. */
const LENGTHS = [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 2, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 3e9, MAX];

type Skip = (note: string) => never;

/**
 * Skips the test when `error` is the refusal to reserve a large SharedArrayBuffer: a machine whose
 * memory limits forbid it cannot run the test. Any other error is rethrown.
 */
function skipIfUnreservable(error: unknown, skip: Skip): never {
  if (error instanceof RangeError) skip(`cannot reserve that much shared memory here: ${error.message}`);
  throw error;
}

/**
 * A SharedArrayBuffer of `bytes`, reserved, not touched, that one `View` can span: Node 20's typed
 * arrays hold at most 2^32 elements, so there a test that needs a longer one cannot run.
 */
function reserveShared(bytes: number, skip: Skip, View: new (buffer: ArrayBufferLike) => ArrayBufferView = Uint8Array): SharedArrayBuffer {
  let buffer: SharedArrayBuffer;
  try {
    buffer = new SharedArrayBuffer(bytes);
  } catch (error) {
    return skipIfUnreservable(error, skip);
  }
  try {
    new View(buffer);
  } catch (error) {
    if (error instanceof RangeError) skip(`one ${View.name} cannot span ${bytes} bytes here: ${error.message}`);
    throw error;
  }
  return buffer;
}

/** The error of a `refuse` step, wherever it ran: it names the item the step was given. */
function expectRefused(error: Error, item: number): void {
  expect(error.message).toMatch(new RegExp(`\\brefused item ${item}$`));
}

describe('cutting a piece in two', () => {
  it('halves [0, 2^31 + 2) into [0, 2^30 + 1) and [2^30 + 1, 2^31 + 2)', () => {
    expect(midpoint(0, 2 ** 31 + 2)).toBe(2 ** 30 + 1);
  });

  it('cuts exactly at the middle around 2^31, 2^32 and 2^53, wherever the piece starts', () => {
    for (const length of LENGTHS) {
      expect(midpoint(0, length)).toBe(Math.floor(length / 2));
      const lo = MAX - length;
      expect(midpoint(lo, MAX)).toBe(lo + Math.floor(length / 2));
    }
    expect(midpoint(2 ** 31 - 1, 2 ** 31 + 1)).toBe(2 ** 31);
    expect(midpoint(2 ** 32 - 3, 2 ** 32 + 3)).toBe(2 ** 32);
    expect(midpoint(MAX - 2, MAX)).toBe(MAX - 1);
  });

  it('splits a range of any safe length into balanced pieces that tile it', () => {
    for (const length of LENGTHS) {
      const pieces: Piece[] = [];
      const piece = (lo: number, hi: number, splits: number): void => {
        const half = trySplit(hi - lo, splits, false, 2, noLimits);
        if (half < 0) {
          pieces.push({ pipeline: 0, lo, hi, worker: 0 });
          return;
        }
        const mid = midpoint(lo, hi);
        piece(lo, mid, half);
        piece(mid, hi, half);
      };
      piece(0, length, initialSplits(2, length, noLimits));
      expectTiling(pieces, length);
      // Two threads, nothing stolen: four quarters, none more than one item longer than another.
      expect(pieces).toHaveLength(4);
      const sizes = pieces.map(({ lo, hi }) => hi - lo);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe('range() bounds', () => {
  it('accepts any range of up to 2^53 - 1 items', () => {
    expect(range(0, MAX)).toEqual({ kind: 'range', start: 0, end: MAX });
    expect(range(-MAX, 0)).toEqual({ kind: 'range', start: -MAX, end: 0 });
    expect(range(MAX, -MAX)).toEqual({ kind: 'range', start: MAX, end: -MAX });
  });

  it('rejects a range of more items, whose indices could not all be exact', () => {
    expect(() => range(-MAX, MAX)).toThrow(RangeError);
    expect(() => range(-1, MAX)).toThrow(/MAX_SAFE_INTEGER/);
  });
});

describe('parallel iterators past 2^31 items, on 2 threads', () => {
  let pool: ThreadPool<typeof Refusing>;
  beforeAll(async () => {
    pool = await ThreadPool.create<typeof Refusing>({ module: refusingModule, threads: 2 });
    await pool.broadcast('recordPieces');
  });
  afterAll(() => pool.close());

  /** Runs `work`, which must fail, and returns its error and the pieces it ran, sorted. */
  async function failingPieces(work: () => Promise<unknown>): Promise<{ error: Error; pieces: Piece[] }> {
    await pool.broadcast('takePieces');
    const error = await work().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    const pieces = ((await pool.broadcast('takePieces')) as Piece[][]).flat().sort((a, b) => a.lo - b.lo);
    return { error: error as Error, pieces };
  }

  it('forEach over range(0, 3e9) starts its first piece at item 0, and the error surfaces', async () => {
    const { error, pieces } = await failingPieces(() => pool.parIter(range(0, 3e9)).forEach('refuse'));
    expectRefused(error, 0);
    const boundaries = expectTiling(pieces, 3e9);
    expect(boundaries).toContain(1.5e9);
  });

  it.each(LENGTHS)('pieces of a range of %d items tile it, cut first at its middle', async (length) => {
    const start = length === MAX ? -MAX : 2 ** 31 - 7;
    const { error, pieces } = await failingPieces(() => pool.parIter(range(start, start + length)).forEach('refuse'));
    expectRefused(error, start);
    expect(expectTiling(pieces, length)).toContain(Math.floor(length / 2));
  });

  it('cuts the same way when the pipeline starts inside a task', async () => {
    const { error, pieces } = await failingPieces(() => pool.run('refuseInside', 0, 2 ** 31 + 2));
    expectRefused(error, 0);
    expect(expectTiling(pieces, 2 ** 31 + 2)).toContain(2 ** 30 + 1);
  });

  it('cuts a shared typed array of 2^31 + 2 elements the same way', async ({ skip }) => {
    const items = new Uint8Array(reserveShared(2 ** 31 + 2, skip));
    const { error, pieces } = await failingPieces(() => pool.parIter(items).forEach('refuse'));
    expectRefused(error, 0);
    expect(expectTiling(pieces, 2 ** 31 + 2)).toContain(2 ** 30 + 1);
  });

  it('counts, sums and collects exactly near 2^31, 2^32 and 2^53', async () => {
    expect(await pool.parIter(range(2 ** 31 - 5, 2 ** 31 + 5)).count()).toBe(10);
    expect(await pool.parIter(range(MAX - 10, MAX - 1)).count()).toBe(9);
    expect(await pool.parIter(range(2 ** 32 - 2, 2 ** 32 + 2)).sum()).toBe(4 * 2 ** 32 - 2);
    expect(await pool.parIter(range(MAX - 3, MAX)).collect()).toEqual([MAX - 3, MAX - 2, MAX - 1]);
    expect(
      await pool
        .parIter(range(-MAX, -MAX + 2))
        .enumerate()
        .collect(),
    ).toEqual([
      [0, -MAX],
      [1, -MAX + 1],
    ]);
  });

  it('checks a hand-made range object as range() does', () => {
    const notARange = { kind: 'range', start: 0, end: 0.5 } as Range;
    expect(() => pool.parIter(notARange)).toThrow(RangeError);
    const tooLong = { kind: 'range', start: -MAX, end: MAX } as Range;
    expect(() => pool.parIter(tooLong)).toThrow(RangeError);
  });
});

describe('shared-memory offsets past 2^31', () => {
  it('addresses the slots of a buffer past 16 GiB exactly', () => {
    const layout = computeLayout({
      threads: 1,
      slots: 2 ** 20,
      nestedSlots: 1,
      inlinePayloadBytes: 2 ** 14,
      dequeCapacity: 2,
      mailboxCapacity: 16,
    });
    expect(layout.totalBytes).toBeGreaterThan(2 ** 34);
    const slots = new SlotTable(new Int32Array(16), layout);
    for (const slot of [0, 2 ** 17, 2 ** 19 + 3, layout.totalSlots - 1]) {
      const start = layout.slotBase + slot * layout.slotStride;
      expect(slots.inlineOffset(slot)).toBe(start + SLOT_HEADER_BYTES);
      expect(slots.inlineScalarIndex(slot) * 8).toBe(start + SLOT_HEADER_BYTES);
      expect(slots.timeIndex(slot, 2) * 8).toBe(start + SlotField.TIMES * 4 + 16);
    }
  });

  it('returns scalar results from slots past 2 GiB of a pool buffer', async ({ skip }) => {
    // 2100 slots of 1 MiB: the last ~50 lie past 2^31 bytes. The buffer is reserved, not touched.
    const pool = await ThreadPool.create<typeof Tasks>({
      module: tasksModule,
      threads: 1,
      maxPendingTasks: 2100,
      inlinePayloadBytes: 2 ** 20,
      nestedTasksPerWorker: 1,
    }).catch((error: unknown) => skipIfUnreservable(error, skip));
    try {
      // The one worker is held busy while every other slot gets a call, so that all are in use.
      const hold = new Int32Array(new SharedArrayBuffer(4));
      await pool.run('typeOf', hold); // announces its buffer: the hold below is queued at once
      const held = pool.run('holdUntil', hold);
      const values = Array.from({ length: 2099 }, (_, i) => i + 0.5);
      const echoed = values.map((value) => pool.run('echo', value));
      Atomics.store(hold, 0, 1);
      await held;
      expect(await Promise.all(echoed)).toEqual(values);
    } finally {
      await pool.close();
    }
  });

  it('reads back the largest queue entry a mailbox can hold', () => {
    const words = new Int32Array(new SharedArrayBuffer(4 * 8));
    const mailbox = new Mailbox(words, 0, 1, 4);
    const largest = 2 ** 31 - 1;
    expect(mailbox.post(largest)).toBe('posted');
    expect(mailbox.entries()).toEqual([largest]);
    const claimed: number[] = [];
    const claim = (entry: number): number => {
      claimed.push(entry);
      return 0;
    };
    expect(mailbox.take({ claim })).toBe(0);
    expect(claimed).toEqual([largest]);
  });

  // Bun cannot allocate a SharedArrayBuffer larger than 4 GiB ("Out of memory"): no slot table
  // reaches past 2^32 words there.
  it.skipIf(runtime === 'bun').for(['js', 'native'] as const)(
    'the %s deque claims a slot whose state word lies past 2^32 words (16 GiB)',
    (backend, { skip }) => {
      // Slot 4100 of 4 MiB slots: its state word is at 4100 * 2^20 > 2^32, reserved but never
      // touched except for that one word.
      const stride = 2 ** 20;
      const slot = 4100;
      const claims = new Int32Array(reserveShared(4 * stride * (slot + 1), skip, Int32Array));
      claims[slot * stride] = makeStateWord(0, 0, SlotState.QUEUED);
      const table = { words: claims, baseWord: 0, strideWords: stride, slotBits: 13 };
      const words = new Int32Array(new SharedArrayBuffer(4 * 64));
      const deque = backend === 'native' ? new NativeDeque(words, 0, 16, 32, 16, table) : new ChaseLevDeque(words, 0, 16, 32, 16);
      expect(deque.push(slot)).toBe(true);
      expect(deque.steal(new SlotClaim(table, 1))).toBe(slot);
      expect(stateOf(claims[slot * stride])).toBe(SlotState.RUNNING);
    },
  );

  // Bun cannot allocate a SharedArrayBuffer larger than 4 GiB ("Out of memory"), so there is no
  // view at or past 4 GiB to send.
  it.skipIf(runtime === 'bun')('sends views at and past 4 GiB of a shared buffer by reference', async ({ skip }) => {
    const buffer = reserveShared(2 ** 32 + 64, skip);
    const pool = await ThreadPool.create<typeof Tasks>({ module: tasksModule, threads: 1 });
    try {
      const views = [new Uint8Array(buffer, 2 ** 32, 16), new Float64Array(buffer, 2 ** 32 + 16, 4), new Uint8Array(buffer)];
      views[0][0] = 7;
      const echoed = (await pool.run('echo', ...views)) as ArrayBufferView[];
      echoed.forEach((view, i) => {
        expect(view.constructor).toBe(views[i].constructor);
        expect(view.buffer).toBe(buffer);
        expect(view.byteOffset).toBe(views[i].byteOffset);
        expect(view.byteLength).toBe(views[i].byteLength);
      });
      expect((echoed[0] as Uint8Array)[0]).toBe(7);
    } finally {
      await pool.close();
    }
  });
});
