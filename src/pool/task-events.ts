/**
 * The main thread's end of the workers' event ports: the events tasks `emit` (worker/task-events.ts),
 * delivered to the `onEvent` listener of the call they belong to (docs/internals/task-events.md).
 *
 * Each worker posts on its own port, so the events of one worker arrive in the order it emitted
 * them. Ports are read synchronously, never by event (as buffer ports are: Deno hands a port's
 * messages to a listener only turns later, and one taken by its listener is gone for a synchronous
 * read): whenever the completion watcher looks for completions while some call listens — a worker
 * that posts rings the doorbell if the watcher parked — and, before a call with a listener settles
 * (or is given up on), to their end. So an event emitted before the task returned reaches the
 * listener before the call's promise settles. An event for a call no longer listened to (settled,
 * timed out, aborted) is dropped. Every event taken off a port, delivered or dropped, is subtracted
 * from its worker's EVENTS_UNDELIVERED, which bounds what a worker may have in flight.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { unpack } from '../codec/msgpack.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { TaskEventMessage } from '../control/protocol.js';
import { ThreadPoolError, messageOf } from '../errors.js';
import { type Layout, WorkerBlock, workerWord } from '../shm/layout.js';

/** The listener of a call's events (`onEvent`): called on the main thread, in order per worker. */
export type TaskEventListener = (event: string, payload: unknown) => void;

interface Listening {
  readonly generation: number;
  readonly listener: TaskEventListener;
}

export class TaskEvents {
  /** The main thread's end of each worker's event port, by worker index. */
  private readonly ports: (MessagePort | undefined)[] = [];
  /** The listener of the call in each main-thread slot, while it listens. */
  private readonly listening: (Listening | undefined)[];
  /** Calls listening now: without any, the ports are not looked at. */
  private listeners = 0;
  /** Where a listener's exception goes (the pool's `onError`). */
  report: (error: unknown) => void = () => {};

  constructor(
    private readonly words: Int32Array,
    private readonly layout: Layout,
  ) {
    this.listening = new Array<Listening | undefined>(layout.slots);
  }

  /** A new event port for worker `index` being started; the other end goes to the worker. */
  open(index: number): MessagePort {
    this.close(index);
    Atomics.store(this.words, this.undeliveredWord(index), 0);
    const { port1, port2 } = new MessageChannel();
    this.ports[index] = port1;
    return port2;
  }

  /** Worker `index` exited (after its last results were settled) or the pool stopped. */
  close(index: number): void {
    this.ports[index]?.close();
    this.ports[index] = undefined;
  }

  closeAll(): void {
    for (let index = 0; index < this.ports.length; index++) this.close(index);
  }

  /** The call queued in main-thread `slot` at `generation` listens with `listener`. */
  listen(slot: number, generation: number, listener: TaskEventListener): void {
    this.listening[slot] = { generation, listener };
    this.listeners++;
  }

  /**
   * The call in `slot` is about to settle, or was given up on: every event emitted so far is
   * delivered (those of other calls too), then the call listens no more. Nothing to do for a call
   * without a listener.
   */
  stopListening(slot: number): void {
    if (this.listening[slot] === undefined) return;
    this.deliverPosted();
    this.listening[slot] = undefined;
    this.listeners--;
  }

  /** Takes every event posted so far off every port that has some, if any call listens. */
  deliverPosted(): void {
    if (this.listeners === 0) return;
    for (let index = 0; index < this.ports.length; index++) {
      const port = this.ports[index];
      if (port === undefined) continue;
      while (Atomics.load(this.words, this.undeliveredWord(index)) > 0) {
        const received = receiveMessageOnPort(port);
        if (received === undefined) break;
        this.take(index, received.message as TaskEventMessage);
      }
    }
  }

  private take(index: number, message: TaskEventMessage): void {
    Atomics.sub(this.words, this.undeliveredWord(index), 1);
    const [slot, generation, event, scalar, bytes, kind] = message;
    let payload = scalar;
    if (bytes !== undefined) {
      try {
        payload = unpack(bytes, bytes.length, kind);
      } catch (error) {
        this.report(new ThreadPoolError(`the payload of event "${event}" could not be decoded on the main thread: ${messageOf(error)}`));
        return;
      } finally {
        // Read once, delivered or not: the buffers it passed are forgotten.
        sharedBuffers.passed.finishDecoding();
      }
    }
    const listening = this.listening[slot];
    if (listening === undefined || listening.generation !== generation) return;
    try {
      listening.listener(event, payload);
    } catch (error) {
      this.report(error);
    }
  }

  private undeliveredWord(index: number): number {
    return workerWord(this.layout, index, WorkerBlock.EVENTS_UNDELIVERED);
  }
}
