/**
 * A single-threaded stand-in for the pool's data plane: one real shared buffer laid out like the
 * pool's, its SlotTable, one growable arena per "thread" and a PayloadCodec that encodes into one
 * of them. Tests play both sides of a slot (producer and consumer) on one thread.
 */
import { PayloadCodec } from '../../src/codec/payload.js';
import { Arena, ArenaAllocator, createArenaBuffer } from '../../src/shm/arena.js';
import { computeLayout, type Layout } from '../../src/shm/layout.js';
import { SlotField, SlotTable } from '../../src/shm/slot.js';
import { sharedViews, type SharedViews } from '../../src/shm/views.js';

export interface CodecOptions {
  slots?: number;
  /** The pool's default inline area is 448 bytes. */
  inlinePayloadBytes?: number;
  maxPayloadBytes?: number;
  /** maxByteLength of each arena; small by default so that a test cannot reserve much by mistake. */
  arenaBytes?: number;
  /** Number of arenas (the pool has one per worker plus one for the main thread). */
  arenaCount?: number;
  /** The arena the codec encodes into: 0 is the main thread's, a worker owns another. */
  ownArena?: number;
}

export interface CodecRig {
  layout: Layout;
  views: SharedViews;
  slots: SlotTable;
  arenas: Arena[];
  codec: PayloadCodec;
}

export function makeCodec(options: CodecOptions = {}): CodecRig {
  const layout = computeLayout({
    threads: 1,
    slots: options.slots ?? 4,
    inlinePayloadBytes: options.inlinePayloadBytes ?? 448,
    dequeCapacity: 16,
    nestedSlots: 4,
    mailboxCapacity: 4,
  });
  const views = sharedViews(new SharedArrayBuffer(layout.totalBytes));
  const slots = new SlotTable(views.words, layout);
  const arenas: Arena[] = [];
  for (let i = 0; i < (options.arenaCount ?? 2); i++) {
    arenas.push(new Arena(createArenaBuffer(options.arenaBytes ?? 16 << 20)));
  }
  const own = options.ownArena ?? 0;
  const allocator = new ArenaAllocator(arenas[own]);
  const codec = new PayloadCodec(views, slots, arenas, allocator, own, options.maxPayloadBytes ?? 128 << 20);
  return { layout, views, slots, arenas, codec };
}

/**
 * encodeValue → store → loadValue → release: the path of a task result; with `records`, the path of
 * a batch's results (inline records).
 */
export function roundTripValue(rig: CodecRig, value: unknown, slot = 0, records = false): unknown {
  rig.codec.store(slot, rig.codec.encodeValue(value, 'result', records));
  const decoded = rig.codec.loadValue(slot);
  rig.codec.release(slot);
  return decoded;
}

/** encodeList → store → loadList → release: the path of task arguments. */
export function roundTripList(rig: CodecRig, values: readonly unknown[], slot = 0): unknown[] {
  rig.codec.store(slot, rig.codec.encodeList(values, 'args'));
  const decoded = rig.codec.loadList(slot);
  rig.codec.release(slot);
  return decoded;
}

export interface SlotHeader {
  kind: number;
  length: number;
  arena: number;
  offset: number;
}

/** The payload header words of a slot, as its consumer reads them. */
export function slotHeader(rig: CodecRig, slot: number): SlotHeader {
  const word = (field: number) => rig.views.words[rig.slots.word(slot, field)];
  return {
    kind: word(SlotField.KIND),
    length: word(SlotField.LENGTH),
    arena: word(SlotField.ARENA),
    offset: word(SlotField.OFFSET),
  };
}

/** An arena's high-water mark (word 0, see arena.ts): how far its owner has allocated. */
export function highWater(arena: Arena): number {
  return Atomics.load(arena.words, 0);
}

/** The error `fn` throws; fails the test when it returns. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw, but the call returned');
}
