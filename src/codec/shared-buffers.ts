/**
 * SharedArrayBuffers travel by reference. A typed array, DataView or Buffer over a
 * SharedArrayBuffer is encoded as (buffer id, view type, byte offset, length); the other side looks
 * the id up and builds a view over the same memory. Nothing is copied.
 *
 * Ids are handed out by the main thread, the first time a buffer is encoded there; each pool
 * announces a buffer to its workers over the control plane before it queues a payload that refers
 * to it (ThreadPool does), and hands every known buffer to a worker that starts later. A worker
 * can therefore decode any reference it receives, and send back any buffer it was sent. A buffer
 * created inside a worker has no id and cannot travel: creating shared memory is the main thread's
 * job.
 *
 * The registry keeps the buffers it knows alive for as long as the thread lives: a buffer may be
 * referenced by queued work long after the code that sent it dropped it.
 */
import { EncodeError } from '../errors.js';

export class SharedBufferRegistry {
  private readonly ids = new Map<SharedArrayBuffer, number>();
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  private nextId = 1;
  /** Ids referenced by the value being encoded (reset by `startEncoding`). */
  private readonly referenced: number[] = [];

  /** Whether this thread may give new buffers an id (a pool's thread) or only use known ones (a worker). */
  private assignsIds = true;

  /** Called by a worker at start-up: it uses the ids its pool announces and assigns none. */
  useAnnouncedIdsOnly(): void {
    this.assignsIds = false;
  }

  /** Called before each encode: forgets which ids the previous one referenced. */
  startEncoding(): void {
    // Setting an array's length is a runtime call even when it changes nothing; most encodes
    // reference no buffer.
    if (this.referenced.length !== 0) this.referenced.length = 0;
  }

  /** Ids the last encode referenced (possibly with repeats). */
  get lastReferenced(): readonly number[] {
    return this.referenced;
  }

  idFor(buffer: SharedArrayBuffer): number {
    let id = this.ids.get(buffer);
    if (id === undefined) {
      if (!this.assignsIds) {
        throw new EncodeError(
          'a SharedArrayBuffer',
          'it was created inside a worker; only shared memory created on the main thread can travel between threads',
        );
      }
      id = this.nextId++;
      this.remember(id, buffer);
    }
    this.referenced.push(id);
    return id;
  }

  bufferFor(id: number): SharedArrayBuffer {
    const buffer = this.buffers.get(id);
    if (buffer === undefined) throw new Error(`viscose internal error: shared buffer ${id} was never announced to this thread`);
    return buffer;
  }

  /** Records a buffer announced by the main thread. */
  remember(id: number, buffer: SharedArrayBuffer): void {
    this.ids.set(buffer, id);
    this.buffers.set(id, buffer);
  }

  /** Every known buffer, for a worker that starts after they were announced. */
  entries(): [number, SharedArrayBuffer][] {
    return [...this.buffers];
  }
}

/** The registry of this thread (one per thread: msgpackr's extensions are per thread too). */
export const sharedBuffers = new SharedBufferRegistry();
