/**
 * SharedArrayBuffers travel by reference. A typed array, DataView or Buffer over a
 * SharedArrayBuffer is encoded as (buffer id, view type, byte offset, length); the other side looks
 * the id up and builds a view over the same memory. Nothing is copied.
 *
 * Ids are handed out by the main thread, the first time a buffer is encoded there, and never
 * reused. Each pool posts a buffer to its workers' buffer ports before it queues a payload that
 * refers to it (pool/shared-announcer.ts); a worker that meets an id it does not know yet reads its
 * port until the announcement is there (worker/buffer-inbox.ts).
 *
 * A worker passes any other buffer by itself, under its own origin and a serial
 * (passed-buffers.ts): one it created, one another worker passed it, one whose id the main thread
 * already released.
 *
 * Lifetime (docs/internals/shared-buffers.md): the main thread's registry holds a
 * buffer strongly while calls in flight name it (`holdReferenced` / `unhold`), then keeps it among
 * the few most recently used idle buffers, so that a buffer sent again and again is announced
 * once. A buffer pushed out of those, or released explicitly, is reported to the release
 * listeners (the pools' announcers), which tell their workers to forget it. No finalizer or weak
 * reference is involved: V8 keeps weakly referenced objects alive until a full collection, which
 * a small heap with much shared memory hanging off it rarely runs.
 */
import { ThreadPoolError } from '../errors.js';
import { PassedBuffers } from './passed-buffers.js';

/** Idle buffers the main thread keeps known to the workers: at most this many, */
const IDLE_BUFFERS = 64;
/** and at most this many bytes of them (a bigger buffer is announced again at each use). */
const IDLE_BYTES = 64 * 1024 * 1024;

/** Main thread: a buffer with an id, and how many calls in flight refer to it. */
interface Entry {
  readonly id: number;
  /**
   * Cleared when the entry is dropped: an entry that lived long enough to be promoted to V8's old
   * generation would otherwise keep its buffer, and the shared memory behind it, until the next
   * full collection, which a small heap rarely runs.
   */
  buffer: SharedArrayBuffer | undefined;
  /** Its size when it got an id: what idle accounting adds and takes away (a growable one grows). */
  readonly bytes: number;
  calls: number;
}

export class SharedBufferRegistry {
  /** Main thread: every buffer with an id, held or idle. */
  private readonly entries = new Map<SharedArrayBuffer, Entry>();
  private readonly byId = new Map<number, Entry>();
  /** Main thread: entries no call refers to, least recently used first. */
  private readonly idle = new Map<number, Entry>();
  private idleBytes = 0;
  private readonly releaseListeners = new Set<(id: number) => void>();
  private nextId = 1;

  /** Worker: the buffers it was told about, both ways. */
  private readonly announced = new Map<number, SharedArrayBuffer>();
  private readonly announcedIds = new Map<SharedArrayBuffer, number>();
  /** Worker: takes the next announcement or release off its port; false when there is none. */
  private receiveNext: (() => boolean) | undefined;
  /**
   * Worker: the ids the running task decoded (see `idFor`), created on the first; undefined for a
   * task that decoded none.
   */
  private taskIds: Set<number> | undefined;
  /** Buffers passed by a worker's origin and serial, both ways. */
  readonly passed = new PassedBuffers();

  /** Ids referenced by the value being encoded (reset by `startEncoding`). */
  private readonly referenced: number[] = [];

  /**
   * Called by a worker at start-up: it uses the ids its pool announces and assigns none;
   * `receiveNext` reads one announcement off its port, for an id not heard of yet.
   */
  useAnnouncedIdsOnly(receiveNext: () => boolean): void {
    this.receiveNext = receiveNext;
  }

  /** Called before each encode: forgets which ids the previous one referenced. */
  startEncoding(): void {
    // Setting an array's length is a runtime call even when it changes nothing; most encodes
    // reference no buffer.
    if (this.referenced.length !== 0) this.referenced.length = 0;
    this.passed.startEncoding();
  }

  /** Ids the last encode referenced (possibly with repeats). */
  get lastReferenced(): readonly number[] {
    return this.referenced;
  }

  /**
   * The id a buffer travels by: a main-thread id (≥ 1), or — a buffer a worker passes by itself —
   * minus one minus its serial there (passed-buffers.ts).
   */
  idFor(buffer: SharedArrayBuffer): number {
    const id = this.receiveNext === undefined ? this.ownId(buffer) : this.workerId(buffer);
    if (id === undefined) return -1 - this.passed.serialFor(buffer);
    this.referenced.push(id);
    return id;
  }

  /**
   * Worker: a main-thread id the running task may use. The main thread holds the ids a call names
   * until the call is over, so the ids decoded by a task of that call (its arguments, its halves'
   * results, its pipeline) are valid for anything it sends. Another id it knows may be released by
   * the main thread at any moment (a buffer kept in module state since an earlier call): such a
   * buffer is passed by this worker instead.
   */
  private workerId(buffer: SharedArrayBuffer): number | undefined {
    const id = this.announcedIds.get(buffer);
    return id !== undefined && this.taskIds?.has(id) === true ? id : undefined;
  }

  /**
   * Worker: a task starts (it has decoded no id yet) or an asynchronous one resumes to store its
   * outcome (with the `ids` it had decoded, from `runningTaskIds`). Returns what `endTask` restores.
   */
  beginTask(ids?: Set<number>): Set<number> | undefined {
    const outer = this.taskIds;
    this.taskIds = ids;
    return outer;
  }

  /** Worker: the ids the running task decoded so far. */
  get runningTaskIds(): Set<number> | undefined {
    return this.taskIds;
  }

  /** Worker: the running task may also send `ids` (decoded earlier for the same call). */
  allowTaskIds(ids: Set<number> | undefined): void {
    if (ids === undefined) return;
    if (this.taskIds === undefined) this.taskIds = new Set(ids);
    else for (const id of ids) this.taskIds.add(id);
  }

  /** Worker: the task that `beginTask` began is over for now. */
  endTask(outer: Set<number> | undefined): void {
    this.taskIds = outer;
  }

  bufferFor(id: number): SharedArrayBuffer {
    let buffer = this.receiveNext === undefined ? this.live(id) : this.announced.get(id);
    // Announced before the payload was queued: if it is not here yet, it waits on the port.
    while (buffer === undefined && this.receiveNext?.() === true) buffer = this.announced.get(id);
    if (buffer === undefined) {
      throw new ThreadPoolError(`a shared buffer (id ${id}) was released by the main thread while a payload named it`);
    }
    if (this.receiveNext !== undefined) {
      this.taskIds ??= new Set();
      this.taskIds.add(id);
    }
    return buffer;
  }

  /** Worker: records a buffer announced by the main thread. */
  remember(id: number, buffer: SharedArrayBuffer): void {
    this.announcedIds.set(buffer, id);
    this.announced.set(id, buffer);
  }

  /** Worker: drops buffers the main thread released; their ids are never used again. */
  forget(ids: readonly number[]): void {
    for (const id of ids) {
      const buffer = this.announced.get(id);
      if (buffer === undefined) continue;
      this.announced.delete(id);
      this.announcedIds.delete(buffer);
    }
  }

  /** How many buffers this thread can decode right now (for tests and statistics). */
  get size(): number {
    return (this.receiveNext === undefined ? this.entries.size : this.announced.size) + this.passed.size;
  }

  /** Main thread: a buffer by id while it has one. */
  live(id: number): SharedArrayBuffer | undefined {
    return this.byId.get(id)?.buffer;
  }

  /**
   * Main thread, after an encode: keeps the buffers it referenced known to the workers until
   * `unhold`, so that no worker is told to forget a buffer a call in flight names. Undefined when
   * it referenced none.
   */
  holdReferenced(): number[] | undefined {
    if (this.referenced.length === 0) return undefined;
    const ids = [...new Set(this.referenced)];
    for (const id of ids) {
      const entry = this.byId.get(id)!;
      if (entry.calls++ === 0) this.leaveIdle(entry);
    }
    this.trimIdle();
    return ids;
  }

  /** Main thread: the call that held these ids is over; no worker reads its payload any more. */
  unhold(ids: readonly number[]): void {
    for (const id of ids) {
      const entry = this.byId.get(id);
      if (entry !== undefined && --entry.calls === 0) this.enterIdle(entry);
    }
    this.trimIdle();
  }

  /**
   * Main thread: forgets a buffer now rather than once newer ones push it out. Refused while a
   * call in flight names it. Sending it again later gives it a new id.
   */
  release(buffer: SharedArrayBuffer): void {
    const entry = this.entries.get(buffer);
    if (entry === undefined) return;
    if (entry.calls > 0) {
      throw new TypeError(`the shared buffer cannot be released: ${entry.calls} call(s) in flight refer to it`);
    }
    this.leaveIdle(entry);
    this.drop(entry);
  }

  /** Main thread: `listener` hears of every id released from now on, until it unsubscribes. */
  onRelease(listener: (id: number) => void): () => void {
    this.releaseListeners.add(listener);
    return () => this.releaseListeners.delete(listener);
  }

  private ownId(buffer: SharedArrayBuffer): number {
    const known = this.entries.get(buffer);
    if (known !== undefined) return known.id;
    // Idle until the call being encoded holds it: an encode that fails leaves nothing held.
    const entry: Entry = { id: this.nextId++, buffer, bytes: buffer.byteLength, calls: 0 };
    this.entries.set(buffer, entry);
    this.byId.set(entry.id, entry);
    this.enterIdle(entry);
    return entry.id;
  }

  private enterIdle(entry: Entry): void {
    this.idle.set(entry.id, entry);
    this.idleBytes += entry.bytes;
  }

  private leaveIdle(entry: Entry): void {
    if (this.idle.delete(entry.id)) this.idleBytes -= entry.bytes;
  }

  private trimIdle(): void {
    for (const entry of this.idle.values()) {
      if (this.idle.size <= IDLE_BUFFERS && this.idleBytes <= IDLE_BYTES) return;
      this.leaveIdle(entry);
      this.drop(entry);
    }
  }

  private drop(entry: Entry): void {
    this.entries.delete(entry.buffer!);
    this.byId.delete(entry.id);
    entry.buffer = undefined;
    for (const listener of this.releaseListeners) listener(entry.id);
  }
}

/** The registry of this thread (one per thread: msgpackr's extensions are per thread too). */
export const sharedBuffers = new SharedBufferRegistry();
