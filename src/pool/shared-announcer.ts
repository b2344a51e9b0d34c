/**
 * Makes the shared buffers a payload refers to known to this pool's workers before the payload is
 * queued, and makes them forget the buffers the main thread released (codec/shared-buffers.ts
 * explains the references, docs/internals/shared-buffers.md the lifetime). A buffer is posted once to each worker's
 * buffer port, which the worker reads when it meets the id; nothing waits for an answer. A worker
 * that starts later receives every buffer its pool knows with its configuration. Releases are
 * batched: one message per worker for all the ids released in one run of completions.
 */
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { WorkerHost } from './worker-host.js';

export class SharedBufferAnnouncer {
  /** Ids this pool's workers were told about, and not told to forget. */
  private readonly known = new Set<number>();
  /** Released ids not yet sent to the workers. */
  private releasing: number[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly hosts: () => readonly WorkerHost[]) {
    this.unsubscribe = sharedBuffers.onRelease((id) => this.released(id));
  }

  /** Every buffer a starting worker must know. */
  entries(): [number, SharedArrayBuffer][] {
    const entries: [number, SharedArrayBuffer][] = [];
    for (const id of this.known) entries.push([id, sharedBuffers.live(id)!]);
    return entries;
  }

  /**
   * After an encode, before its payload is queued: posts the shared buffers it referenced that the
   * workers do not know yet (checked without allocating in the common case, where they all do).
   */
  announceReferenced(): void {
    const referenced = sharedBuffers.lastReferenced;
    let entries: [number, SharedArrayBuffer][] | undefined;
    for (let i = 0; i < referenced.length; i++) {
      const id = referenced[i];
      if (this.known.has(id)) continue;
      this.known.add(id);
      entries ??= [];
      entries.push([id, sharedBuffers.live(id)!]);
    }
    if (entries === undefined) return;
    for (const host of this.hosts()) host.postBuffers({ share: entries });
  }

  /** The pool stopped: it hears of no more releases (and is not kept alive by the registry). */
  dispose(): void {
    this.unsubscribe();
  }

  /**
   * The main thread released `id`: no call in flight names it (calls hold their buffers), so no
   * payload a worker will still decode does. The release follows the announcement on the same
   * port, so a worker never hears of them in the other order.
   */
  private released(id: number): void {
    if (!this.known.delete(id)) return;
    // After the current run of completions, not after a timer: a busy main thread may not reach
    // its timers for seconds, and every worker holds the buffer meanwhile.
    if (this.releasing.push(id) === 1) queueMicrotask(() => this.sendReleases());
  }

  private sendReleases(): void {
    const forget = this.releasing;
    this.releasing = [];
    for (const host of this.hosts()) host.postBuffers({ forget });
  }
}
