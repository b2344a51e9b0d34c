/**
 * A msgpack extension for values marked with `transfer()` that move (transfer.ts). The careful walk
 * (careful-walk.ts) puts a `Moved` in place of each marked value the encode may move; the extension
 * writes where the reader finds the value instead of its bytes.
 *
 * Layout of the extension data (little-endian): byte 0 the mode, byte 1 the kind (a view type of
 * typed-array-extension.ts, or RAW_BUFFER, or PORT), then two uint32 and, for a view, its byte
 * offset and length in elements (float64):
 *   HELD:   from the main thread: the payload's token and the value's index (held-transfers.ts);
 *   PASSED: from a worker: its origin and the value's serial (passed-buffers.ts).
 */
import { addExtension } from 'msgpackr';
import { MessagePort } from 'node:worker_threads';
import { heldTransfers, pulledTransfers } from './held-transfers.js';
import type { Movable } from './passed-buffers.js';
import { sharedBuffers } from './shared-buffers.js';
import { isDetached, TransferMode, transferMode } from './transfer.js';
import { lengthOf, typeIndex, viewOver } from './typed-array-extension.js';

/** Extension type byte; msgpackr's built-in extensions and ours use others. */
const MOVED_EXTENSION = 0x54;
const HELD = 0;
const PASSED = 1;
const RAW_BUFFER = 0xfe;
const PORT = 0xff;
/** The fewest bytes a moved value encodes to (for the early size check). */
export const MOVED_FLOOR = 13;

/** A marked value in the copy of a payload that is encoded: the value, and the view over it if any. */
export class Moved {
  constructor(
    readonly target: Movable,
    readonly view: ArrayBufferView | undefined,
  ) {}
}

/** What the encode in progress does with a marked value (transfer.ts's TransferMode). */
function currentMode(): number {
  const passed = sharedBuffers.passed;
  return passed.isWorker ? passed.transferMode : transferMode();
}

/**
 * Why the encode in progress cannot take `value`, marked with `transfer()` (`target` moves), or
 * undefined when it can.
 */
export function transferRefusal(target: Movable): string | undefined {
  if (target instanceof ArrayBuffer && isDetached(target)) return 'its ArrayBuffer was moved already by transfer()';
  const mode = currentMode();
  if (mode === TransferMode.MOVE) return undefined;
  if (mode === TransferMode.COPY) {
    return target instanceof MessagePort
      ? 'a MessagePort cannot go in forked work, which any worker may run (return it, or pass it to a call from the main thread)'
      : undefined;
  }
  return 'transfer() values move only in the arguments of a call for one worker (run, spawn, runBatch, join, scope.spawn) or in a result; this payload may be read by several workers';
}

/** `Moved`s made since `takeMovesPlaced` was last called. */
let movesPlaced = 0;

/** What to encode for `value`, which `transferRefusal` accepted: a `Moved`, or the value to copy. */
export function movedOrCopied(value: object, target: Movable): unknown {
  if (currentMode() !== TransferMode.MOVE) return value;
  movesPlaced++;
  return new Moved(target, ArrayBuffer.isView(value) ? value : undefined);
}

/** How many values were put to move since the last call (whether an encode moves anything). */
export function takeMovesPlaced(): number {
  const placed = movesPlaced;
  movesPlaced = 0;
  return placed;
}

function packMoved(moved: Moved): Buffer {
  const { target, view } = moved;
  const data = Buffer.allocUnsafe(view === undefined ? 10 : 26);
  data[1] = view !== undefined ? typeIndex(view) : target instanceof MessagePort ? PORT : RAW_BUFFER;
  const passed = sharedBuffers.passed;
  if (passed.isWorker) {
    data[0] = PASSED;
    data.writeUInt32LE(passed.origin, 2);
    data.writeUInt32LE(passed.serialForMoved(target), 6);
  } else {
    const [token, index] = heldTransfers.refFor(target);
    data[0] = HELD;
    data.writeUInt32LE(token, 2);
    data.writeUInt32LE(index, 6);
  }
  if (view !== undefined) {
    data.writeDoubleLE(view.byteOffset, 10);
    data.writeDoubleLE(lengthOf(view), 18);
  }
  return data;
}

function unpackMoved(data: Uint8Array): unknown {
  const fields = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const a = fields.readUInt32LE(2);
  const b = fields.readUInt32LE(6);
  const value = data[0] === HELD ? pulledTransfers.value(a, b) : sharedBuffers.passed.movedFrom(a, b);
  const kind = data[1];
  if (kind === RAW_BUFFER || kind === PORT) return value;
  return viewOver(kind, value as ArrayBuffer, fields.readDoubleLE(10), fields.readDoubleLE(18));
}

let registered = false;

export function registerMovedExtension(): void {
  if (registered) return;
  registered = true;
  addExtension({ Class: Moved, type: MOVED_EXTENSION, pack: packMoved, unpack: unpackMoved });
}
