/**
 * `transfer(value)`: marks an ArrayBuffer (directly or through a view over it) or a MessagePort
 * to be moved to the thread that reads the payload instead of copied (docs/guide/transfers.md).
 *
 * The mark is on the buffer, not on the view: every view over a marked buffer in the same payload
 * arrives over the one moved buffer, at its own offset and length. Marks are kept in a WeakSet, so
 * marking costs the value nothing and a value never sent is not held.
 *
 * Where a marked value may go is decided per encode (`transferMode`): moved when exactly one
 * thread will decode the payload (a call's arguments, a task's result), copied when any number of
 * workers may (forked work: a buffer is copied, a port refused), refused elsewhere.
 */
import { MessagePort } from 'node:worker_threads';

const marked = new WeakSet<object>();
/** Whether anything was ever marked on this thread: until then the encoders skip every lookup. */
let anyMarked = false;

/**
 * A value `transfer` accepts: an ArrayBuffer, a view over one, or a MessagePort. (`ArrayBufferLike`,
 * so that `transfer(bytes.buffer)` type-checks; shared memory is refused when called.)
 */
export type Transferable = ArrayBufferLike | ArrayBufferView | MessagePort;

/**
 * Moves `value` to the thread that runs the call (in a call's arguments) or to the caller (in a
 * task's result) instead of copying it, and returns `value` itself, so it can be written in place:
 * `pool.run('hash', transfer(bytes))`.
 *
 * - An `ArrayBuffer`, or a typed array, `DataView` or `Buffer` over one: the whole buffer moves,
 *   without a copy; on the sending side it is detached at once (its `byteLength` turns 0), and
 *   the receiver gets the same bytes, each view at its own offset and length.
 * - A `MessagePort`: it moves, and the receiver can post on it (for example to stream data back
 *   while the task runs).
 *
 * An unmarked `ArrayBuffer` is copied, as always; a `SharedArrayBuffer` is never copied and needs
 * no mark. A marked value in work that several workers may decode (a `broadcast`, a parallel
 * iterator's step arguments) is refused with EncodeError; in forked work inside a task (`join`,
 * `scope.spawn`), a marked buffer is copied if another worker steals the work and is the same
 * object if it runs inline. A call with a transfer cannot use `retries`.
 *
 * @throws TypeError when `value` is none of these, or is over shared memory, or a buffer that is
 * detached already.
 */
export function transfer<T extends Transferable>(value: T): T {
  const target = transferTarget(value);
  marked.add(target);
  anyMarked = true;
  return value;
}

/** What moves when `value` is marked: the buffer under a view, else the value itself. */
function transferTarget(value: unknown): object {
  if (value instanceof MessagePort) return value;
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  if (buffer instanceof ArrayBuffer) {
    if (isDetached(buffer)) throw new TypeError('transfer(): the ArrayBuffer is detached (it was transferred already)');
    return buffer;
  }
  if (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer) {
    throw new TypeError('transfer(): shared memory is never copied and needs no transfer');
  }
  throw new TypeError(`transfer() takes an ArrayBuffer, a typed array, a DataView or a MessagePort, got ${describe(value)}`);
}

/**
 * Whether a buffer was transferred away. `ArrayBuffer.prototype.detached` exists from Node 22 and
 * in Bun and Deno; on Node 20, a detached buffer is the empty one over which no view can be made.
 */
export function isDetached(buffer: ArrayBufferLike): boolean {
  if (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer) return false;
  const detached = (buffer as { detached?: boolean }).detached;
  if (detached !== undefined) return detached;
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  return typeof value;
}

/**
 * The value to move in place of `value` when it is marked: the ArrayBuffer itself, the buffer
 * under a view, or a port; undefined when it is not marked. Cheap for unmarked values, and free
 * until the first `transfer` call.
 */
export function markedTarget(value: object): ArrayBuffer | MessagePort | undefined {
  if (!anyMarked) return undefined;
  const target = ArrayBuffer.isView(value) ? value.buffer : value;
  return marked.has(target) ? (target as ArrayBuffer | MessagePort) : undefined;
}

/** What an encode does with a marked value. */
export const TransferMode = {
  /** Refused with EncodeError: the payload has no single reader. */
  REFUSE: 0,
  /** Copied (a buffer) or refused (a port): any number of workers may decode the payload. */
  COPY: 1,
  /** Moved to the payload's only reader. */
  MOVE: 2,
} as const;

/**
 * Set around an encode by whoever knows its readers; REFUSE otherwise. On the main thread only
 * the paths that queue a payload for one worker set MOVE; on a worker, passed-buffers.ts derives
 * it from where the value goes.
 */
let mode: number = TransferMode.REFUSE;

export function transferMode(): number {
  return mode;
}

/** Runs `encode` with marked values treated as `encodeMode` says. */
export function encodingTransfers<T>(encodeMode: number, encode: () => T): T {
  const outer = mode;
  mode = encodeMode;
  try {
    return encode();
  } finally {
    mode = outer;
  }
}
