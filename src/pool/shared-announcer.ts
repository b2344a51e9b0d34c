/**
 * Makes the shared buffers a payload refers to known to this pool's workers before the payload is
 * queued (codec/shared-buffers.ts explains the references). A buffer is announced once, over the
 * control plane; a worker that starts later receives every known buffer with its configuration.
 */
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { WorkerHost } from './worker-host.js';

export class SharedBufferAnnouncer {
  /** Buffers this pool has announced or is announcing, for workers starting from now on. */
  private readonly known: [number, SharedArrayBuffer][] = [];
  private readonly announced = new Set<number>();
  private readonly announcing = new Map<number, Promise<void>>();

  constructor(private readonly hosts: () => readonly WorkerHost[]) {}

  /** Every buffer a starting worker must know. */
  entries(): [number, SharedArrayBuffer][] {
    return [...this.known];
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

  private async announce(id: number): Promise<void> {
    const entry: [number, SharedArrayBuffer] = [id, sharedBuffers.bufferFor(id)];
    this.known.push(entry);
    // A worker that dies meanwhile is replaced, and its replacement starts with `known`.
    await Promise.allSettled(this.hosts().map((host) => host.call((control) => control.shareBuffers([entry]))));
    this.announced.add(id);
    this.announcing.delete(id);
  }
}
