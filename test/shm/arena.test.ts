/**
 * Per-thread arenas on real growable SharedArrayBuffers: size classes, release and reuse, growth,
 * exhaustion, and a new owner (a respawned worker) adopting an arena that holds live and released
 * blocks. Consumers are played by a second Arena over the same buffer, as another thread has.
 */
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../src/errors.js';
import { Arena, ArenaAllocator, createArenaBuffer } from '../../src/shm/arena.js';
import { highWater, thrown } from '../support/codec.js';

const KiB = 1024;
// From the layout in arena.ts: blocks start after a 64-byte arena header, each block starts with a
// 16-byte header, and blocks are powers of two of at least 1 KiB. A new arena is 64 KiB.
const DATA_START = 64;
const BLOCK_HEADER = 16;
const INITIAL_BYTES = 64 * KiB;

function makeArena(maxBytes = 4 << 20): { arena: Arena; allocator: ArenaAllocator } {
  const arena = new Arena(createArenaBuffer(maxBytes));
  return { arena, allocator: new ArenaAllocator(arena) };
}

describe('allocation', () => {
  it('a new arena is a 64 KiB growable SharedArrayBuffer with nothing allocated', () => {
    const { arena } = makeArena(1 << 20);
    expect(arena.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(arena.buffer.growable).toBe(true);
    expect(arena.buffer.byteLength).toBe(INITIAL_BYTES);
    expect(arena.buffer.maxByteLength).toBe(1 << 20);
    expect(highWater(arena)).toBe(DATA_START);
  });

  it('the first block starts after the arena header, its data after the block header', () => {
    expect(makeArena().allocator.allocate(1)).toBe(DATA_START + BLOCK_HEADER);
  });

  it('blocks are powers of two of at least 1 KiB, header included', () => {
    const { allocator } = makeArena();
    const tiny = allocator.allocate(1);
    const exact = allocator.allocate(KiB - BLOCK_HEADER);
    const overByOne = allocator.allocate(KiB - BLOCK_HEADER + 1);
    const next = allocator.allocate(1);
    expect(exact - tiny).toBe(KiB);
    expect(overByOne - exact).toBe(KiB);
    expect(next - overByOne).toBe(2 * KiB);
  });

  it('live blocks never overlap, even across growth', () => {
    const { arena, allocator } = makeArena();
    const lengths = [1, 1000, 5000, 1, 70 * KiB, 300, 2 * KiB, 200 * KiB, 17];
    const blocks = lengths.map((length, i) => {
      const offset = allocator.allocate(length);
      arena.bytes.fill(i + 1, offset, offset + length);
      return { offset, length, fill: i + 1 };
    });
    for (const { offset, length, fill } of blocks) {
      expect(offset + length).toBeLessThanOrEqual(arena.buffer.byteLength);
      expect(arena.view(offset, length).every((byte) => byte === fill)).toBe(true);
    }
  });

  it('Arena.view is a window on the shared bytes (so the codec copies it before decoding)', () => {
    const { arena, allocator } = makeArena();
    const offset = allocator.allocate(4);
    const view = arena.view(offset, 4);
    expect(view.buffer).toBe(arena.buffer);
    arena.bytes.set([1, 2, 3, 4], offset);
    expect([...view]).toStrictEqual([1, 2, 3, 4]);
  });
});

describe('release and reuse', () => {
  it('a released block is reused by the next allocation of its size class', () => {
    const { arena, allocator } = makeArena();
    const block = allocator.allocate(100);
    allocator.allocate(100);
    arena.release(block);
    expect(allocator.allocate(900)).toBe(block);
  });

  it('a released block is not reused for another size class', () => {
    const { arena, allocator } = makeArena();
    const small = allocator.allocate(100);
    arena.release(small);
    expect(allocator.allocate(3000)).not.toBe(small);
    expect(allocator.allocate(100)).toBe(small);
  });

  it('a block is handed out once per release', () => {
    const { arena, allocator } = makeArena();
    const block = allocator.allocate(100);
    arena.release(block);
    expect(allocator.allocate(100)).toBe(block);
    expect(allocator.allocate(100)).not.toBe(block);
  });

  it('a release through another Arena over the same buffer (the consumer thread) reaches the owner', () => {
    const { arena, allocator } = makeArena();
    const consumer = new Arena(arena.buffer);
    const block = allocator.allocate(5000);
    consumer.release(block);
    expect(allocator.allocate(5000)).toBe(block);
  });

  it('released blocks of a class are all reused before the arena takes new space', () => {
    const { arena, allocator } = makeArena();
    const blocks = Array.from({ length: 5 }, () => allocator.allocate(2000));
    const mark = highWater(arena);
    for (const block of blocks) arena.release(block);
    const again = Array.from({ length: 5 }, () => allocator.allocate(2000));
    expect(new Set(again)).toStrictEqual(new Set(blocks));
    expect(highWater(arena)).toBe(mark);
  });
});

describe('growth', () => {
  it('the buffer grows to hold a block past its end, and every length-tracking view follows', () => {
    const { arena, allocator } = makeArena(1 << 20);
    // Made before the growth, like the views other threads hold.
    const consumer = new Arena(arena.buffer);
    const length = 100 * KiB;
    const offset = allocator.allocate(length);
    const byteLength = arena.buffer.byteLength;
    expect(byteLength).toBeGreaterThan(INITIAL_BYTES);
    expect(byteLength).toBeGreaterThanOrEqual(offset + length);
    for (const view of [arena, consumer]) {
      expect(view.bytes.length).toBe(byteLength);
      expect(view.words.length).toBe(byteLength / 4);
    }
    arena.bytes.fill(7, offset, offset + length);
    expect(consumer.view(offset, length).every((byte) => byte === 7)).toBe(true);
  });

  it('growth stops at maxByteLength', () => {
    const { arena, allocator } = makeArena(100 * KiB);
    allocator.allocate(20 * KiB);
    allocator.allocate(20 * KiB);
    expect(arena.buffer.byteLength).toBe(100 * KiB);
  });
});

describe('exhaustion', () => {
  it('PayloadTooLargeError once maxByteLength is used up; the arena stays usable', () => {
    const { arena, allocator } = makeArena(128 * KiB);
    const blocks: number[] = [];
    let error: unknown;
    while (error === undefined) {
      try {
        blocks.push(allocator.allocate(32 * KiB - BLOCK_HEADER));
      } catch (caught) {
        error = caught;
      }
    }
    // The 64-byte arena header leaves room for three 32 KiB blocks in 128 KiB, not four.
    expect(blocks).toHaveLength(3);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ code: 'VISCOSE_PAYLOAD_TOO_LARGE' });
    expect(arena.buffer.byteLength).toBe(128 * KiB);
    const mark = highWater(arena);
    // Smaller blocks still fit in what is left, and released blocks are still reused.
    expect(allocator.allocate(1)).toBe(mark + BLOCK_HEADER);
    arena.release(blocks[1]);
    expect(allocator.allocate(32 * KiB - BLOCK_HEADER)).toBe(blocks[1]);
  });

  it('a block larger than the whole arena throws without growing it', () => {
    const { arena, allocator } = makeArena(128 * KiB);
    expect(thrown(() => allocator.allocate(200 * KiB))).toBeInstanceOf(PayloadTooLargeError);
    expect(arena.buffer.byteLength).toBe(INITIAL_BYTES);
    expect(highWater(arena)).toBe(DATA_START);
  });

  // Known gap, kept as an expected failure: size classes of 2^32 bytes and more have no free list,
  // so allocate() throws a TypeError before it reaches the size check. The codec cannot ask for that
  // much (maxPayloadBytes is at most 512 MiB), but the allocator's own contract is broken.
  it('a request too large for any arena (2 GiB) throws PayloadTooLargeError', () => {
    expect(thrown(() => makeArena().allocator.allocate(2 ** 31))).toBeInstanceOf(PayloadTooLargeError);
  });
});

describe('a new owner adopting an existing arena', () => {
  it('rebuilds its free lists: a released block is reused, a live one is not handed out again', () => {
    const { arena, allocator: previous } = makeArena();
    const live = previous.allocate(100);
    const released = previous.allocate(100);
    const liveLarge = previous.allocate(3000);
    const releasedLarge = previous.allocate(3000);
    arena.release(released);
    arena.release(releasedLarge);
    const mark = highWater(arena);

    const adopted = new ArenaAllocator(arena);
    expect(adopted.allocate(200)).toBe(released);
    expect(adopted.allocate(3500)).toBe(releasedLarge);
    // No free block is left in either class: new blocks come from above the old ones.
    expect(adopted.allocate(100)).toBeGreaterThanOrEqual(mark);
    expect(adopted.allocate(3000)).toBeGreaterThanOrEqual(mark);
    // A block that was live at adoption is reused once its consumer releases it.
    arena.release(live);
    expect(adopted.allocate(100)).toBe(live);
    arena.release(liveLarge);
    expect(adopted.allocate(3000)).toBe(liveLarge);
  });

  it('an adopted arena that was never used starts at its first block', () => {
    const arena = new Arena(createArenaBuffer(1 << 20));
    expect(new ArenaAllocator(arena).allocate(1)).toBe(DATA_START + BLOCK_HEADER);
  });
});
