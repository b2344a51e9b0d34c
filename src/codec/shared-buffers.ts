/**
 * SharedArrayBuffers travel by reference. A typed array, DataView or Buffer over a
 * SharedArrayBuffer is encoded as (buffer id, view type, byte offset, length); the other side looks
 * the id up and builds a view over the same memory. Nothing is copied.
 *
 * Ids are handed out by the main thread, the first time a buffer is encoded there, and never
 * reused; each pool announces a buffer to its workers over the control plane before it queues a
 * payload that refers to it (ThreadPool does), and hands every live buffer to a worker that starts
 * later. A buffer created inside a worker has no id and cannot travel.
 *
 * Lifetime (ARCHITECTURE.md, "Shared buffers by reference"): the main thread's registry holds its
 * buffers weakly, plus strongly for every call in flight whose payload names them (`hold`). Once
 * a buffer is collected, or released explicitly, its id is reported to the release listeners (the
 * pools' announcers), which tell their workers to forget it. A worker holds what it was told about
 * until it is told to forget it.
 */
import { EncodeError } from '../errors.js';

/** A buffer some calls in flight refer to, kept alive for them. */
interface Hold {
  buffer: SharedArrayBuffer;
  calls: number;
}

export class SharedBufferRegistry {
  private readonly ids = new WeakMap<SharedArrayBuffer, number>();
  /** Worker: the buffers it was told about (the main thread keeps `weak` and `holds` instead). */
  private readonly buffers = new Map<number, SharedArrayBuffer>();
  /** Main thread: every buffer with an id, weakly. */
  private readonly weak = new Map<number, WeakRef<SharedArrayBuffer>>();
  private readonly holds = new Map<number, Hold>();
  private readonly releaseListeners = new Set<(id: number) => void>();
  private finalizer: FinalizationRegistry<number> | undefined;
  private nextId = 1;
  /** Ids referenced by the value being encoded (reset by `startEncoding`). */
  private readonly referenced: number[] = [];

  /** Whether this thread gives new buffers an id (the main thread) or only uses known ones (a worker). */
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
          'it was created inside a worker, or its main thread released it; only shared memory the main thread holds can travel between threads',
        );
      }
      id = this.nextId++;
      this.ids.set(buffer, id);
      this.weak.set(id, new WeakRef(buffer));
      this.finalizer ??= new FinalizationRegistry((collected) => this.forgetOnMain(collected));
      // The buffer is its own unregister token (held weakly), for an explicit release.
      this.finalizer.register(buffer, id, buffer);
    }
    this.referenced.push(id);
    return id;
  }

  bufferFor(id: number): SharedArrayBuffer {
    const buffer = this.buffers.get(id) ?? this.weak.get(id)?.deref();
    if (buffer === undefined) {
      throw new Error(`a shared buffer (id ${id}) was released: a worker kept it after its main thread dropped it`);
    }
    return buffer;
  }

  /** Worker: records a buffer announced by the main thread. */
  remember(id: number, buffer: SharedArrayBuffer): void {
    this.ids.set(buffer, id);
    this.buffers.set(id, buffer);
  }

  /** Worker: drops buffers the main thread released; their ids are never used again. */
  forget(ids: readonly number[]): void {
    for (const id of ids) {
      const buffer = this.buffers.get(id);
      if (buffer === undefined) continue;
      this.buffers.delete(id);
      this.ids.delete(buffer);
    }
  }

  /** How many buffers this thread can decode right now (for tests and statistics). */
  get size(): number {
    return this.assignsIds ? this.weak.size : this.buffers.size;
  }

  /** Main thread: a live buffer by id, or undefined once it was collected or released. */
  live(id: number): SharedArrayBuffer | undefined {
    return this.weak.get(id)?.deref();
  }

  /**
   * Main thread, after an encode: keeps the buffers it referenced alive until `unhold`, so that no
   * worker is told to forget a buffer a call in flight names. Undefined when it referenced none.
   */
  holdReferenced(): number[] | undefined {
    if (this.referenced.length === 0) return undefined;
    const ids = [...new Set(this.referenced)];
    for (const id of ids) {
      const hold = this.holds.get(id);
      if (hold !== undefined) hold.calls++;
      else this.holds.set(id, { buffer: this.bufferFor(id), calls: 1 });
    }
    return ids;
  }

  /** Main thread: the call that held these ids settled. */
  unhold(ids: readonly number[]): void {
    for (const id of ids) {
      const hold = this.holds.get(id);
      if (hold !== undefined && --hold.calls === 0) this.holds.delete(id);
    }
  }

  /**
   * Main thread: forgets a buffer now rather than once it is collected. Refused while a call in
   * flight names it. Sending it again later gives it a new id.
   */
  release(buffer: SharedArrayBuffer): void {
    const id = this.ids.get(buffer);
    if (id === undefined) return;
    const hold = this.holds.get(id);
    if (hold !== undefined) {
      throw new TypeError(`the shared buffer cannot be released: ${hold.calls} call(s) in flight refer to it`);
    }
    this.ids.delete(buffer);
    this.finalizer?.unregister(buffer);
    this.forgetOnMain(id);
  }

  /** Main thread: `listener` hears of every id released from now on, until it unsubscribes. */
  onRelease(listener: (id: number) => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  private forgetOnMain(id: number): void {
    if (!this.weak.delete(id)) return;
    for (const listener of this.releaseListeners) listener(id);
  }
}

/** The registry of this thread (one per thread: msgpackr's extensions are per thread too). */
export const sharedBuffers = new SharedBufferRegistry();
