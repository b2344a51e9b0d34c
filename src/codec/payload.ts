/**
 * Payloads of task slots: arguments on the way in, a result or an error on the way out.
 *
 * Encoding picks the scalar fast path when it can, msgpack otherwise. A packed payload goes to the
 * slot's inline area when it fits, else to a block of the encoding thread's own arena. The header
 * words that describe it (kind, tags, length, arena, offset) are written with plain stores and
 * published by the state-word store that hands the slot to the other side.
 *
 * Decoding never reads msgpack straight from shared memory: the bytes are copied into a private
 * scratch buffer first. msgpackr's native string extractor rejects SharedArrayBuffer sources and
 * pays an exception per message (6-8 µs) otherwise, and decoded binary data would alias the slot.
 */
import { EncodeError, PayloadTooLargeError, messageOf } from '../errors.js';
import { ChunkBuffer, chunkHeaderBytes } from './chunk-buffer.js';
import { UnstoredPayload } from './unstored-payload.js';
import type { Arena, ArenaAllocator } from '../shm/arena.js';
import type { EncodedCalls } from './encoded-calls.js';
import { INLINE, PayloadKind, SlotField, type SlotTable } from '../shm/slot.js';
import type { SharedViews } from '../shm/views.js';
import { HAS_MAP, inspectValue, MARKED, startPayload, takeMarkedCopy } from './inspect.js';
import { type Packed, pack, unpack } from './msgpack.js';
import { heldTransfers, pulledTransfers } from './held-transfers.js';
import { sharedBuffers } from './shared-buffers.js';
import { readScalar, readScalars, scalarTags, tagOf, writeScalars } from './scalars.js';

/** A payload encoded and not yet stored. */
export interface EncodedPayload {
  kind: number;
  /** Scalar tags (SCALARS only). */
  tags: number;
  /** Byte length, or the number of scalars. */
  length: number;
  /** msgpack bytes (PACKED kinds only): `bytes[start, start + length)`. */
  bytes: Uint8Array | undefined;
  start: number;
  /** The values themselves (SCALARS only). */
  scalars: readonly unknown[] | undefined;
}

/** Where an encoded value lives in an arena, independent of any slot (see `storeBlock`). */
export interface BlockRef {
  arena: number;
  offset: number;
  length: number;
  kind: number;
}

/** The payload of a chunk of calls assembled in the first `length` bytes of `chunk`. */
function chunkPayload(chunk: Uint8Array, length: number): EncodedPayload {
  return { kind: PayloadKind.PLAIN, tags: 0, length, bytes: chunk, start: 0, scalars: undefined };
}

/** Scratch buffers up to this size are kept for reuse; larger payloads get a one-off buffer. */
const MAX_KEPT_SCRATCH = 1 << 20;

export class PayloadCodec {
  private scratch = Buffer.allocUnsafeSlow(4096);
  private readonly chunks = new ChunkBuffer(MAX_KEPT_SCRATCH);
  /** The payload held valid across encodes while code runs before its store (`hold`). */
  private readonly unstored = new UnstoredPayload();
  private readonly single: unknown[] = [undefined];

  constructor(
    private readonly views: SharedViews,
    private readonly slots: SlotTable,
    /** Every thread's arena, indexed by arena id. */
    private readonly arenas: readonly Arena[],
    /** This thread's own arena, where it stores the payloads it encodes. */
    private readonly allocator: ArenaAllocator,
    private readonly arenaId: number,
    /** The largest encoded payload accepted (the pool option of the same name). */
    readonly maxPayloadBytes: number,
  ) {}

  /**
   * Encodes a list of values (task arguments). Throws EncodeError naming the offending argument
   * (`root[firstIndex + i]`), or PayloadTooLargeError, before encoding anything when the inspection
   * shows that the list cannot fit. The result is valid until the next encode on this thread, or
   * until `letGo` after `hold`.
   */
  encodeList(values: readonly unknown[], root: string, firstIndex = 0): EncodedPayload {
    this.unstored.beforeEncode();
    const tags = scalarTags(values);
    if (tags >= 0) return this.scalarPayload(tags, values);
    let flags = 0;
    let marked: unknown[] | undefined;
    startPayload(root, -1, this.maxPayloadBytes);
    for (let i = 0; i < values.length; i++) {
      const valueFlags = inspectValue(values[i], root, firstIndex + i);
      if (valueFlags & MARKED) {
        marked ??= [...values];
        marked[i] = takeMarkedCopy();
      }
      flags |= valueFlags;
    }
    return this.packedPayload(marked ?? values, flags & HAS_MAP ? PayloadKind.RECORDS : PayloadKind.PLAIN, root);
  }

  /**
   * The arguments `encodeList` just encoded as `payload`, as one part of a chunk that `chunkOf`
   * assembles later from calls made one by one: a self-contained PLAIN msgpack list, copied out
   * (scalars are packed now). Undefined when they need the RECORDS encoding (they hold a `Map`) or
   * the part passes `maxBytes`: such a call travels alone, with `payload` as it is.
   */
  partOf(payload: EncodedPayload, maxBytes: number): Uint8Array | undefined {
    let part: Uint8Array | undefined;
    if (payload.kind === PayloadKind.SCALARS) {
      // Numbers, booleans and the like: nothing to inspect, and `payload` stays as it is.
      const packed = pack(payload.scalars, PayloadKind.PLAIN);
      part = packed.end - packed.start > maxBytes ? undefined : packed.bytes.slice(packed.start, packed.end);
    } else if (payload.kind === PayloadKind.PLAIN && payload.length <= maxBytes) {
      part = payload.bytes!.slice(payload.start, payload.start + payload.length);
    }
    return part;
  }

  /**
   * The payload of a chunk whose calls' arguments are `parts` (from `partOf`), `bytes` long
   * together: a msgpack array header followed by the parts, which is the PLAIN encoding of the list
   * of argument lists the worker's batch path decodes.
   */
  chunkOf(parts: readonly Uint8Array[], bytes: number): EncodedPayload {
    this.unstored.beforeEncode();
    const header = chunkHeaderBytes(parts.length);
    const chunk = this.chunks.take(parts.length, header + bytes);
    let offset = header;
    for (const part of parts) {
      chunk.set(part, offset);
      offset += part.length;
    }
    return chunkPayload(chunk, header + bytes);
  }

  /**
   * Refuses, before any chunk is queued, a batch of encoded calls (`root[i]`) of which one cannot
   * fit in maxPayloadBytes even alone, as `inspectCalls` refuses such an argument list.
   */
  checkEncodedCalls(calls: EncodedCalls, root: string): void {
    const limit = this.maxPayloadBytes - chunkHeaderBytes(1);
    for (let i = 0; i < calls.length; i++) {
      const length = calls.ends[i] - calls.startOf(i);
      if (length > limit) {
        throw new PayloadTooLargeError(
          `${root}[${i}] encodes to ${length} bytes, more than maxPayloadBytes (${this.maxPayloadBytes}) allows a call`,
        );
      }
    }
  }

  /**
   * Encoded calls [first, first + count) as one chunk, like `chunkOf` but with one copy, as their
   * parts lie together; PayloadTooLargeError past maxPayloadBytes.
   */
  chunkOfEncoded(calls: EncodedCalls, first: number, count: number, root: string): EncodedPayload {
    const start = calls.startOf(first);
    const end = calls.startOf(first + count);
    if (chunkHeaderBytes(count) + end - start > this.maxPayloadBytes) {
      throw new PayloadTooLargeError(
        `${root}[${first}..${first + count - 1}] encode to ${end - start} bytes, more than maxPayloadBytes (${this.maxPayloadBytes})`,
      );
    }
    this.unstored.beforeEncode();
    const header = chunkHeaderBytes(count);
    const chunk = this.chunks.take(count, header + end - start);
    chunk.set(calls.bytes.subarray(start, end), header);
    return chunkPayload(chunk, header + end - start);
  }

  /**
   * Encodes a single value (a result or an error); see `encodeList`. `results` says the value is a
   * batch's list of results: it gets the RECORDS encoding whatever it holds (the better one for
   * arrays of similar objects), and its items count as the first level of nesting.
   */
  encodeValue(value: unknown, root: string, results = false, limit = this.maxPayloadBytes): EncodedPayload {
    this.unstored.beforeEncode();
    const tag = tagOf(value);
    if (tag >= 0) {
      this.single[0] = value;
      return this.scalarPayload(tag, this.single);
    }
    startPayload(root, -1, limit);
    const flags = inspectValue(value, root, -1, results ? -1 : 0);
    const encoded = flags & MARKED ? takeMarkedCopy() : value;
    return this.packedPayload(encoded, results || flags & HAS_MAP ? PayloadKind.RECORDS : PayloadKind.PLAIN, root, limit);
  }

  /**
   * Encodes a failure report (a reduced error), which may take a slot's whole inline area even when
   * maxPayloadBytes is smaller: stored inline it takes no arena memory, so a report small enough can
   * always be stored.
   */
  encodeReport(value: unknown, root: string): EncodedPayload {
    return this.encodeValue(value, root, false, Math.max(this.maxPayloadBytes, this.slots.inlineBytes));
  }

  /**
   * Inspects a batch's argument lists (`root[i]`) before any chunk is queued, so that a bad call
   * rejects the whole batch (a call that cannot fit in maxPayloadBytes alone included). Returns the
   * lists to pass to `encodeInspected`: `calls` itself, or a copy in which the lists holding a -0 or
   * an array with holes are replaced.
   */
  inspectCalls(calls: unknown[][], root: string): unknown[][] {
    let marked: unknown[][] | undefined;
    for (let i = 0; i < calls.length; i++) {
      startPayload(root, i, this.maxPayloadBytes);
      if (inspectValue(calls[i], root, i, -1) & MARKED) {
        marked ??= [...calls];
        marked[i] = takeMarkedCopy() as unknown[];
      }
    }
    return marked ?? calls;
  }

  /** Encodes calls returned by `inspectCalls`, as RECORDS (the faster to decode for a batch). */
  encodeInspected(value: unknown, root: string): EncodedPayload {
    this.unstored.beforeEncode();
    return this.packedPayload(value, PayloadKind.RECORDS, root);
  }

  /**
   * Keeps `payload` valid, whatever is encoded, until `letGo(payload)`: for code that runs
   * between its encode and its store (unstored-payload.ts).
   */
  hold(payload: EncodedPayload): void {
    this.unstored.hold(payload);
  }

  letGo(payload: EncodedPayload): void {
    this.unstored.release(payload);
  }

  /** A copy of an encoded payload that survives later encodes (for calls waiting for a slot). */
  detach(payload: EncodedPayload): EncodedPayload {
    return {
      kind: payload.kind,
      tags: payload.tags,
      length: payload.length,
      bytes: payload.bytes?.slice(payload.start, payload.start + payload.length),
      start: 0,
      scalars: payload.scalars === undefined ? undefined : [...payload.scalars],
    };
  }

  /**
   * Stores an encoded payload in a slot (its inline area, or this thread's arena). Throws
   * PayloadTooLargeError, with the slot untouched, when the arena has no room.
   */
  store(slot: number, payload: EncodedPayload): void {
    const words = this.views.words;
    const slots = this.slots;
    const length = payload.length;
    const inline = slots.inlineOffset(slot);
    if (payload.kind === PayloadKind.SCALARS) {
      words[slots.word(slot, SlotField.TAGS)] = payload.tags;
      words[slots.word(slot, SlotField.ARENA)] = INLINE;
      writeScalars(this.views.f64, slots.inlineScalarIndex(slot), payload.scalars!);
    } else {
      const bytes = payload.bytes!.subarray(payload.start, payload.start + length);
      if (length <= slots.inlineBytes) {
        words[slots.word(slot, SlotField.ARENA)] = INLINE;
        this.views.bytes.set(bytes, inline);
      } else {
        const offset = this.allocator.allocate(length);
        this.arenas[this.arenaId].bytes.set(bytes, offset);
        words[slots.word(slot, SlotField.ARENA)] = this.arenaId;
        words[slots.word(slot, SlotField.OFFSET)] = offset;
      }
    }
    words[slots.word(slot, SlotField.KIND)] = payload.kind;
    words[slots.word(slot, SlotField.LENGTH)] = length;
  }

  /** Decodes a list stored with `encodeList`. */
  loadList(slot: number): unknown[] {
    const words = this.views.words;
    const slots = this.slots;
    const kind = words[slots.word(slot, SlotField.KIND)];
    const length = words[slots.word(slot, SlotField.LENGTH)];
    if (kind === PayloadKind.SCALARS) {
      return readScalars(this.views.f64, slots.inlineScalarIndex(slot), words[slots.word(slot, SlotField.TAGS)], length);
    }
    return this.unpackStored(slot, kind, length) as unknown[];
  }

  /** Decodes a value stored with `encodeValue`. */
  loadValue(slot: number): unknown {
    const words = this.views.words;
    const slots = this.slots;
    const kind = words[slots.word(slot, SlotField.KIND)];
    if (kind === PayloadKind.SCALARS) {
      return readScalar(this.views.f64, slots.inlineScalarIndex(slot), words[slots.word(slot, SlotField.TAGS)] & 7);
    }
    return this.unpackStored(slot, kind, words[slots.word(slot, SlotField.LENGTH)]);
  }

  /**
   * Encodes an object into a block of this thread's arena, for a description that many tasks read
   * (a parallel iterator's pipeline), with `extraWords` int32 words of shared state after it
   * (`wordsAfter`), left for the caller to initialise. The block stays until `releaseBlock`.
   */
  storeBlock(value: object, root: string, extraWords = 0): BlockRef {
    const payload = this.encodeValue(value, root);
    // Room for `extraWords` int32 words after the bytes, at the next 4-byte boundary (wordsAfter).
    const offset = this.allocator.allocate(payload.length + (extraWords > 0 ? 3 + extraWords * 4 : 0));
    this.arenas[this.arenaId].bytes.set(payload.bytes!.subarray(payload.start, payload.start + payload.length), offset);
    return { arena: this.arenaId, offset, length: payload.length, kind: payload.kind };
  }

  /**
   * The int32 words reserved after a block's bytes by `storeBlock(value, root, extraWords)`, as
   * `words[index]`, `words[index + 1]`, ...: shared state that lives and dies with the block.
   */
  wordsAfter(ref: BlockRef): { words: Int32Array; index: number } {
    return { words: this.arenas[ref.arena].words, index: (ref.offset + ref.length + 3) >> 2 };
  }

  loadBlock(ref: BlockRef): unknown {
    return this.unpackFrom(this.arenas[ref.arena].bytes, ref.offset, ref.length, ref.kind);
  }

  releaseBlock(ref: BlockRef): void {
    this.arenas[ref.arena].release(ref.offset);
  }

  /** Gives the slot's arena block (if any) back to its owner. Call once the payload is decoded. */
  release(slot: number): void {
    const words = this.views.words;
    const arena = words[this.slots.word(slot, SlotField.ARENA)];
    if (arena === INLINE) return;
    words[this.slots.word(slot, SlotField.ARENA)] = INLINE;
    this.arenas[arena].release(words[this.slots.word(slot, SlotField.OFFSET)]);
  }

  private scalarPayload(tags: number, values: readonly unknown[]): EncodedPayload {
    sharedBuffers.startEncoding();
    heldTransfers.startEncoding();
    const encoded = this.unstored.descriptor;
    encoded.kind = PayloadKind.SCALARS;
    encoded.tags = tags;
    encoded.length = values.length;
    encoded.bytes = undefined;
    encoded.start = 0;
    encoded.scalars = values;
    return encoded;
  }

  private packedPayload(value: unknown, kind: number, root: string, limit = this.maxPayloadBytes): EncodedPayload {
    let packed: Packed;
    sharedBuffers.startEncoding();
    heldTransfers.startEncoding();
    try {
      packed = pack(value, kind);
    } catch (error) {
      throw new EncodeError(root, messageOf(error), error);
    }
    const length = packed.end - packed.start;
    if (length > limit) {
      throw new PayloadTooLargeError(
        `${root} encodes to ${length} bytes, more than ${limit === this.maxPayloadBytes ? 'maxPayloadBytes' : "a slot's inline area"} (${limit})`,
      );
    }
    const encoded = this.unstored.descriptor;
    encoded.kind = kind;
    encoded.tags = 0;
    encoded.length = length;
    encoded.bytes = packed.bytes;
    encoded.start = packed.start;
    encoded.scalars = undefined;
    return encoded;
  }

  private unpackStored(slot: number, kind: number, length: number): unknown {
    const words = this.views.words;
    const arena = words[this.slots.word(slot, SlotField.ARENA)];
    if (arena === INLINE) return this.unpackFrom(this.views.bytes, this.slots.inlineOffset(slot), length, kind);
    return this.unpackFrom(this.arenas[arena].bytes, words[this.slots.word(slot, SlotField.OFFSET)], length, kind);
  }

  private unpackFrom(source: Uint8Array, offset: number, length: number, kind: number): unknown {
    const scratch = this.scratchFor(length);
    scratch.set(source.subarray(offset, offset + length));
    try {
      return unpack(scratch, length, kind);
    } finally {
      sharedBuffers.passed.finishDecoding();
      pulledTransfers.finishDecoding();
    }
  }

  private scratchFor(length: number): Buffer {
    if (length <= this.scratch.length) return this.scratch;
    const buffer = Buffer.allocUnsafeSlow(length);
    if (length <= MAX_KEPT_SCRATCH) this.scratch = buffer;
    return buffer;
  }
}
