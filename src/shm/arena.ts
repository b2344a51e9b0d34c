/**
 * Shared arenas for payloads too large for a slot's inline area.
 *
 * Every thread (the main thread and each worker) owns one growable SharedArrayBuffer. Only its
 * owner allocates in it, so allocation needs no lock and a thread that dies mid-allocation can only
 * disturb its own arena. The thread that consumes a payload (decodes the arguments, or the
 * result) releases the block by storing FREE in the block's header; the owner notices released
 * blocks when it next needs one of that size.
 *
 * Layout: word 0 is the high-water mark in bytes (written by the owner); blocks start at
 * DATA_START. A block is a power of two bytes long and starts with a 16-byte header:
 *   word 0  state (FREE / LIVE)
 *   word 1  size class k (the block is 2^k bytes)
 * The header is written before the high-water mark moves past it, so a new owner (a respawned
 * worker) can rebuild its free lists by walking the blocks below the mark.
 */

import { PayloadTooLargeError } from '../errors.js';

const HIGH_WATER = 0;
const DATA_START = 64;
const BLOCK_HEADER = 16;
const FREE = 0;
const LIVE = 1;
const MIN_CLASS = 10;
/**
 * The largest byte length a growable SharedArrayBuffer may reserve in V8. Block offsets stay below
 * it, so the `>> 2` that turns them into word indices cannot wrap.
 */
export const MAX_ARENA_BYTES = 2 ** 31 - 1;
const INITIAL_BYTES = 1 << 16;

/** Creates the buffer of one arena (done by the main thread for every thread at start-up). */
export function createArenaBuffer(maxBytes: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: maxBytes });
  new Int32Array(buffer)[HIGH_WATER] = DATA_START;
  return buffer;
}

/** Any thread's access to one arena: reading payloads and releasing blocks. */
export class Arena {
  /** Length-tracking views: they follow the buffer when its owner grows it. */
  readonly bytes: Uint8Array;
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
  }

  /** Gives a block back to its owner. Called once, by the consumer of the payload. */
  release(dataOffset: number): void {
    Atomics.store(this.words, (dataOffset - BLOCK_HEADER) >> 2, FREE);
  }

  /** Bytes of a payload; a view that aliases shared memory, to be copied before decoding. */
  view(dataOffset: number, length: number): Uint8Array {
    return this.bytes.subarray(dataOffset, dataOffset + length);
  }
}

/** The owner's allocator over its arena. Single-threaded by construction. */
export class ArenaAllocator {
  /** Blocks known to be free, per size class. */
  private readonly free: number[][] = [];
  /** Blocks handed out and not yet seen released, per size class. */
  private readonly handedOut: number[][] = [];

  constructor(private readonly arena: Arena) {
    for (let k = 0; k < 32; k++) {
      this.free.push([]);
      this.handedOut.push([]);
    }
    this.adoptExisting();
  }

  /** Returns the data offset of a block of at least `length` bytes, marked LIVE. */
  allocate(length: number): number {
    if (length + BLOCK_HEADER > this.arena.buffer.maxByteLength - DATA_START) {
      throw new PayloadTooLargeError(`a payload of ${length} bytes cannot fit a shared arena of ${this.arena.buffer.maxByteLength} bytes`);
    }
    const k = sizeClassFor(length + BLOCK_HEADER);
    let block = this.free[k].pop();
    if (block === undefined && this.collectReleased(k)) block = this.free[k].pop();
    if (block === undefined) block = this.bump(k);
    Atomics.store(this.arena.words, block >> 2, LIVE);
    this.handedOut[k].push(block);
    return block + BLOCK_HEADER;
  }

  /** Moves released blocks of class k to the free list; returns whether it found any. */
  private collectReleased(k: number): boolean {
    const list = this.handedOut[k];
    const words = this.arena.words;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const block = list[i];
      if (Atomics.load(words, block >> 2) === FREE) this.free[k].push(block);
      else list[kept++] = block;
    }
    const found = kept < list.length;
    list.length = kept;
    return found;
  }

  private bump(k: number): number {
    const words = this.arena.words;
    const block = Atomics.load(words, HIGH_WATER);
    const end = block + 2 ** k;
    const buffer = this.arena.buffer;
    if (end > buffer.byteLength) {
      if (end > buffer.maxByteLength) {
        throw new PayloadTooLargeError(`the shared arena has no room for ${2 ** k} more bytes (${buffer.maxByteLength} reserved)`);
      }
      buffer.grow(Math.min(buffer.maxByteLength, Math.max(end, buffer.byteLength * 2)));
    }
    words[(block >> 2) + 1] = k;
    Atomics.store(words, block >> 2, LIVE);
    Atomics.store(words, HIGH_WATER, end);
    return block;
  }

  /** Rebuilds the owner's bookkeeping from the block headers (a new owner of an old arena). */
  private adoptExisting(): void {
    const words = this.arena.words;
    const end = Atomics.load(words, HIGH_WATER);
    for (let block = DATA_START; block < end; ) {
      const k = words[(block >> 2) + 1];
      if (Atomics.load(words, block >> 2) === FREE) this.free[k].push(block);
      else this.handedOut[k].push(block);
      block += 2 ** k;
    }
  }
}

function sizeClassFor(bytes: number): number {
  let k = MIN_CLASS;
  while (2 ** k < bytes) k++;
  return k;
}
