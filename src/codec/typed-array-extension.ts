/**
 * A msgpack extension for typed arrays, DataViews and Buffers. It replaces msgpackr's own so that a
 * view over a SharedArrayBuffer travels as a reference (shared-buffers.ts) instead of a copy; any
 * other view is copied, as msgpackr would, and comes back as the same type over a private buffer.
 *
 * Layout of the extension data: byte 0 is the mode, byte 1 the view type; little-endian:
 *   COPY:           the view's bytes follow;
 *   SHARED:         buffer id (uint32) given by the main thread, then byte offset and length in
 *                   elements (float64: exact for any safe integer, as buffers may pass 4 GiB);
 *   PASSED:         a buffer a worker passes by itself (passed-buffers.ts): the worker's origin
 *                   (uint32) and the buffer's serial there (uint32), then offset and length.
 */
import { addExtension } from 'msgpackr';
import { sharedBuffers } from './shared-buffers.js';

/** Extension type byte; msgpackr's built-in extensions do not use it. */
const TYPED_ARRAY_EXTENSION = 0x56;
const COPY = 0;
const SHARED = 1;
const PASSED = 2;

type View = ArrayBufferView;
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset?: number, length?: number) => View;

/** The view types, in a fixed order every thread agrees on. Buffer before Uint8Array matters. */
const VIEW_TYPES: ViewConstructor[] = [
  Buffer as unknown as ViewConstructor,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  // Node 24 and the other runtimes that have it; msgpackr's own typed-array extension would write
  // it with a type code its reader rejects.
  ...('Float16Array' in globalThis ? [(globalThis as unknown as { Float16Array: ViewConstructor }).Float16Array] : []),
];

/** The index of `view`'s type in the list every thread agrees on. */
export function typeIndex(view: View): number {
  for (let i = 0; i < VIEW_TYPES.length; i++) if (view.constructor === VIEW_TYPES[i]) return i;
  // A subclass: encode it as the closest built-in type it extends.
  for (let i = 0; i < VIEW_TYPES.length; i++) if (view instanceof VIEW_TYPES[i]) return i;
  throw new TypeError(`unsupported view type ${view.constructor.name}`);
}

/** A view's length in elements (bytes for a DataView). */
export function lengthOf(view: View): number {
  return view instanceof DataView ? view.byteLength : (view as unknown as { length: number }).length;
}

function packView(view: View): Buffer {
  const type = typeIndex(view);
  if (view.buffer instanceof SharedArrayBuffer) {
    const id = sharedBuffers.idFor(view.buffer);
    const passed = id < 0;
    const data = Buffer.allocUnsafe(passed ? 26 : 22);
    data[0] = passed ? PASSED : SHARED;
    data[1] = type;
    let at = 2;
    if (passed) {
      data.writeUInt32LE(sharedBuffers.passed.origin, at);
      at = data.writeUInt32LE(-1 - id, at + 4);
    } else {
      at = data.writeUInt32LE(id, at);
    }
    data.writeDoubleLE(view.byteOffset, at);
    data.writeDoubleLE(lengthOf(view), at + 8);
    return data;
  }
  const data = Buffer.allocUnsafe(2 + view.byteLength);
  data[0] = COPY;
  data[1] = type;
  data.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), 2);
  return data;
}

function unpackView(data: Uint8Array): View {
  const Type = VIEW_TYPES[data[1]];
  if (data[0] !== COPY) {
    const fields = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const passed = data[0] === PASSED;
    const buffer = passed
      ? sharedBuffers.passed.bufferFrom(fields.readUInt32LE(2), fields.readUInt32LE(6))
      : sharedBuffers.bufferFor(fields.readUInt32LE(2));
    const at = passed ? 10 : 6;
    return viewOver(data[1], buffer, fields.readDoubleLE(at), fields.readDoubleLE(at + 8));
  }
  // A private copy: the source is a scratch buffer that the next message overwrites. (Buffer's own
  // slice would be a view, not a copy.)
  const bytes = Uint8Array.prototype.slice.call(data, 2);
  if (Type === (Buffer as unknown)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const element = Type === DataView ? 1 : (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return new Type(bytes.buffer, 0, bytes.byteLength / element);
}

/** A view of type `type` (see `typeIndex`) over `buffer`, `length` elements from `byteOffset`. */
export function viewOver(type: number, buffer: ArrayBufferLike, byteOffset: number, length: number): View {
  const Type = VIEW_TYPES[type];
  return Type === (Buffer as unknown) ? Buffer.from(buffer, byteOffset, length) : new Type(buffer, byteOffset, length);
}

let registered = false;

export function registerTypedArrayExtension(): void {
  if (registered) return;
  registered = true;
  // Registered from the most derived class to the least, since msgpackr tries extensions in the
  // reverse order of registration and matches with instanceof.
  for (const Class of [...VIEW_TYPES].reverse()) {
    addExtension({ Class, type: TYPED_ARRAY_EXTENSION, pack: packView, unpack: unpackView });
  }
}
