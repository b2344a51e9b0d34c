/**
 * Makes the shared buffers a payload refers to known to this pool's workers before the payload is
 * queued, and makes them forget the buffers the main thread released (codec/shared-buffers.ts
 * explains the references, ARCHITECTURE.md the lifetime). A buffer is announced once, over the
 * control plane; a worker that starts later receives every live buffer with its configuration.
 * Releases are batched: one control message per worker for all the ids released in one turn of
 * the event loop.
 */
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { WorkerHost } from './worker-host.js';

export class SharedBufferAnnouncer {
  /** Ids this pool's workers were told about (or are being told about), and not told to forget. */
  private readonly known = new Set<number>();
  private readonly announced = new Set<number>();
  private readonly announcing = new Map<number, Promise<void>>();
  /** Buffers to announce in the next message, and the promise that settles once it was confirmed. */
  private batch: [number, SharedArrayBuffer][] = [];
  private batchSent: Promise<void> | undefined;
  /** Released ids not yet sent to the workers. */
  private releasing: number[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly hosts: () => readonly WorkerHost[]) {
    this.unsubscribe = sharedBuffers.onRelease((id) => this.released(id));
  }

  /** Every live buffer a starting worker must know. */
  entries(): [number, SharedArrayBuffer][] {
    const entries: [number, SharedArrayBuffer][] = [];
    for (const id of this.known) {
      const buffer = sharedBuffers.live(id);
      if (buffer !== undefined) entries.push([id, buffer]);
    }
    return entries;
  }

  /**
   * After an encode: undefined when every shared buffer it referenced is already known to the
   * workers (the common case, checked without allocating), else a promise that settles once they
   * are.
   */
  ready(): Promise<void> | undefined {
    const referenced = sharedBuffers.lastReferenced;
    let waits: Promise<void>[] | undefined;
    for (let i = 0; i < referenced.length; i++) {
      const id = referenced[i];
      if (this.announced.has(id)) continue;
      let announcement = this.announcing.get(id);
      if (announcement === undefined) {
        announcement = this.announce(id);
        this.announcing.set(id, announcement);
      }
      (waits ??= []).push(announcement);
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  /** The pool stopped: it hears of no more releases (and is not kept alive by the registry). */
  dispose(): void {
    this.unsubscribe();
  }

  /**
   * Announces `id` with every other buffer first referenced in the same run of microtasks: one
   * control message per worker for all of them.
   */
  private announce(id: number): Promise<void> {
    this.known.add(id);
    this.batch.push([id, sharedBuffers.bufferFor(id)]);
    if (this.batch.length === 1) {
      this.batchSent = new Promise((resolve) => queueMicrotask(() => void this.sendBatch().then(resolve)));
    }
    return this.batchSent!;
  }

  private async sendBatch(): Promise<void> {
    const entries = this.batch;
    this.batch = [];
    // A worker that dies meanwhile is replaced, and its replacement starts with `entries()`.
    await Promise.allSettled(this.hosts().map((host) => host.call((control) => control.shareBuffers(entries))));
    for (const [id] of entries) {
      this.announced.add(id);
      this.announcing.delete(id);
    }
  }

  /**
   * The main thread released `id`. No call in flight names it (calls hold their buffers), so no
   * payload a worker will still decode does; the release follows the announcement on the same
   * port, so a worker never hears of them in the other order.
   */
  private released(id: number): void {
    if (!this.known.delete(id)) return;
    this.announced.delete(id);
    if (this.releasing.push(id) === 1) setTimeout(() => this.sendReleases(), 0);
  }

  private sendReleases(): void {
    const ids = this.releasing;
    this.releasing = [];
    for (const host of this.hosts()) void host.call((control) => control.releaseBuffers(ids)).catch(() => {});
  }
}
