/**
 * SharedArrayBuffers a worker passes on by itself: buffers it created, or got from another worker,
 * or whose main thread already let go of them. Only the main thread hands out ids
 * (shared-buffers.ts); a worker sends any other buffer under its own origin (a number unique in the
 * process) and a serial of its own, posted on a port to the thread that will decode it before the
 * payload naming it is published, so the reader finds it at once.
 *
 * Two lifetimes, chosen by where the payload goes (`destination`, set around the encode):
 * - Read once: a result (or a scope's error) for the main thread, for the worker that waits for it,
 *   or for this worker itself. The buffer is posted to that reader alone, which forgets it as soon
 *   as the decode naming it is over (`finishDecoding`): every such payload is decoded exactly once.
 * - Lent: forked work (a join's second half, a scope's spawn, a broadcast, a parallel iterator's
 *   pipeline) that any worker may decode, any number of times, or none. The buffer is posted to
 *   every other worker and kept under one serial while any stored payload names it (`hold` /
 *   `unhold`, called by whoever keeps the payload); when the last lets go, every worker is told to
 *   drop it. A worker that joins the pool later is sent what is lent at that moment (`introduce`).
 *
 * A worker that forwards a buffer it received passes it under its own origin again: a reader only
 * ever needs the port of the thread that sent it the payload.
 *
 * Values marked with `transfer()` (transfer.ts) in a payload with one reader travel the read-once
 * way too, under serials of the same counter, but in the post's transfer list: the ArrayBuffer or
 * MessagePort moves to the reader and is detached here. To this worker itself they pass as they are.
 */
import type { MessagePort } from 'node:worker_threads';
import { EncodeError, ThreadPoolError, WorkerCrashedError } from '../errors.js';
import type { PassMessage } from '../control/protocol.js';
import { TransferMode } from './transfer.js';

/** A value moved with `transfer()`: an ArrayBuffer (detached at the sender) or a MessagePort. */
export type Movable = ArrayBuffer | MessagePort;

/** Moved values for one reader, posted with them in the transfer list; read once. */
export interface MoveMessage {
  move: [number, Movable][];
}

/** What a worker posts to a thread that decodes its payloads. */
export type PassPost = PassMessage | MoveMessage;

/** Where the value being encoded goes (worker side), or a worker's index. */
export const Destination = {
  /** Nowhere a worker may pass buffers to: the value is refused if it names one. */
  NOWHERE: -3,
  /** Forked work, which any worker may run. */
  EVERY_WORKER: -2,
  MAIN_THREAD: -1,
} as const;

/** How a worker posts what it passes (worker/buffer-inbox.ts). */
export interface PassTransport {
  /** Posts to the main thread; `transfer` moves what it lists. */
  toMainThread(message: PassPost, transfer?: Movable[]): void;
  /** Posts to worker `index`, another than this one, if it is known. */
  toWorker(index: number, message: PassPost, transfer?: Movable[]): void;
  /** Posts to every other worker known. */
  toEveryWorker(message: PassMessage): void;
}

/**
 * A thread this one receives passed buffers from. `receiveNext` reads one message off its port
 * (false when there is none); `waitForMore`, where set, waits until more may have arrived, and
 * returns false once the sender can send nothing more.
 */
export interface PassSource {
  receiveNext(): boolean;
  waitForMore?(): boolean;
}

interface Lent {
  readonly serial: number;
  readonly buffer: SharedArrayBuffer;
  /** Stored payloads that name it. */
  holds: number;
}

interface Arrival {
  buffer: SharedArrayBuffer | Movable;
  /** Forgotten after the decode that reads it; otherwise kept until its sender drops it. */
  once: boolean;
}

export class PassedBuffers {
  /** What this thread's passes are known by; 0 on the main thread, which passes nothing. */
  origin = 0;
  /** This worker's index, -1 on the main thread. */
  private self = -1;
  private transport: PassTransport | undefined;
  /** Where the value being encoded on this worker goes (`Destination` or a worker index). */
  destination: number = Destination.NOWHERE;

  /** The buffers the current encode passes that are not lent already, by serial. */
  private readonly passing = new Map<SharedArrayBuffer, number>();
  /** The values marked with `transfer()` the current encode moves, by serial. */
  private readonly moving = new Map<Movable, number>();
  /** Serials of lent buffers the current encode names, with repeats (each one is held). */
  private readonly lentNamed: number[] = [];
  private nextSerial = 0;
  private readonly lent = new Map<SharedArrayBuffer, Lent>();
  private readonly lentBySerial = new Map<number, Lent>();

  /** Everything that arrived and is not forgotten yet, by origin and serial. */
  private readonly arrivals = new Map<number, Map<number, Arrival>>();
  private readonly sources = new Map<number, PassSource>();
  /** Origins that will send nothing more, with their worker's name (it exited). */
  private readonly gone = new Map<number, string>();
  /** Read-once arrivals the current decode read, forgotten when it is over. */
  private readonly readOnce: [number, number][] = [];
  /** Worker: reads its main-thread port, which introduces new senders. */
  private learnSenders: (() => void) | undefined;

  /** Called by a worker at start-up. */
  becomeWorker(self: number, origin: number, transport: PassTransport, learnSenders: () => void): void {
    this.self = self;
    this.origin = origin;
    this.transport = transport;
    this.learnSenders = learnSenders;
    // What it passes to itself arrives without a port.
    this.arrivals.set(origin, new Map());
  }

  /** Called before each encode. */
  startEncoding(): void {
    if (this.passing.size !== 0) this.passing.clear();
    if (this.moving.size !== 0) this.moving.clear();
    if (this.lentNamed.length !== 0) this.lentNamed.length = 0;
  }

  /** Whether this thread is a worker (the main thread holds its transfers instead: held-transfers.ts). */
  get isWorker(): boolean {
    return this.self >= 0;
  }

  /** What the current encode on this worker does with a value marked with `transfer()`. */
  get transferMode(): number {
    const destination = this.destination;
    if (destination === Destination.NOWHERE) return TransferMode.REFUSE;
    return destination === Destination.EVERY_WORKER ? TransferMode.COPY : TransferMode.MOVE;
  }

  /** The serial a value marked with `transfer()` moves under in the current encode (one reader). */
  serialForMoved(value: Movable): number {
    let serial = this.moving.get(value);
    if (serial === undefined) {
      serial = this.nextSerial;
      this.nextSerial = (this.nextSerial + 1) >>> 0;
      this.moving.set(value, serial);
    }
    return serial;
  }

  /** Runs `encode` with buffers passed to `destination` (an encode, or one and its store). */
  encodingFor<T>(destination: number, encode: () => T): T {
    this.destination = destination;
    try {
      return encode();
    } finally {
      this.destination = Destination.NOWHERE;
    }
  }

  /** The serial `buffer` travels under in the current encode. */
  serialFor(buffer: SharedArrayBuffer): number {
    const destination = this.destination;
    if (destination === Destination.NOWHERE) {
      throw new EncodeError(
        'a SharedArrayBuffer',
        'no id for it: only buffers the main thread sent, or that a task passes in its arguments or result, can travel',
      );
    }
    const lent = destination === Destination.EVERY_WORKER ? this.lent.get(buffer) : undefined;
    let serial = lent?.serial ?? this.passing.get(buffer);
    if (serial === undefined) {
      serial = this.nextSerial;
      this.nextSerial = (this.nextSerial + 1) >>> 0;
      this.passing.set(buffer, serial);
    }
    if (destination === Destination.EVERY_WORKER) this.lentNamed.push(serial);
    return serial;
  }

  /**
   * Once the payload of the last encode, made for `destination`, is stored and before it is
   * published: posts the buffers it passes to its reader(s). For forked work (`EVERY_WORKER`),
   * returns the serials to `hold` for each stored copy of the payload, undefined when it names no
   * lent buffer; call it again for each copy.
   */
  send(destination: number): readonly number[] | undefined {
    if (this.moving.size !== 0) this.sendMoved(destination);
    if (this.passing.size !== 0) {
      const pass: [number, SharedArrayBuffer][] = [];
      for (const [buffer, serial] of this.passing) pass.push([serial, buffer]);
      this.passing.clear();
      if (destination === Destination.EVERY_WORKER) {
        for (const [serial, buffer] of pass) {
          const lent: Lent = { serial, buffer, holds: 0 };
          this.lent.set(buffer, lent);
          this.lentBySerial.set(serial, lent);
        }
        this.arrive(this.origin, { pass, once: false });
        this.transport!.toEveryWorker({ pass, once: false });
      } else if (destination === this.self) {
        this.arrive(this.origin, { pass, once: true });
      } else if (destination === Destination.MAIN_THREAD) {
        this.transport!.toMainThread({ pass, once: true });
      } else {
        this.transport!.toWorker(destination, { pass, once: true });
      }
    }
    if (destination !== Destination.EVERY_WORKER || this.lentNamed.length === 0) return undefined;
    return this.lentNamed.slice();
  }

  /**
   * Posts the values the last encode moves to its one reader, in the transfer list (they are
   * detached here), or keeps them as they are for this worker's own decode. Posted before the
   * payload is published, like the buffers passed to be read once.
   */
  private sendMoved(destination: number): void {
    const move: [number, Movable][] = [];
    for (const [value, serial] of this.moving) move.push([serial, value]);
    this.moving.clear();
    if (destination === this.self) {
      this.arrive(this.origin, { move });
      return;
    }
    const transfer = move.map(([, value]) => value);
    if (destination === Destination.MAIN_THREAD) this.transport!.toMainThread({ move }, transfer);
    else this.transport!.toWorker(destination, { move }, transfer);
  }

  /** A stored payload names these lent buffers (from `send`). */
  hold(serials: readonly number[]): void {
    for (const serial of serials) this.lentBySerial.get(serial)!.holds++;
  }

  /** A stored payload that named them is gone: no reader will decode it any more. */
  unhold(serials: readonly number[]): void {
    let dropped: number[] | undefined;
    for (const serial of serials) {
      const lent = this.lentBySerial.get(serial)!;
      if (--lent.holds !== 0) continue;
      this.lent.delete(lent.buffer);
      this.lentBySerial.delete(serial);
      dropped ??= [];
      dropped.push(serial);
    }
    if (dropped === undefined) return;
    this.arrive(this.origin, { drop: dropped });
    this.transport!.toEveryWorker({ drop: dropped });
  }

  /** Worker `index` just joined the pool: it is sent every buffer lent right now. */
  introduce(index: number): void {
    if (this.lent.size === 0) return;
    const pass: [number, SharedArrayBuffer][] = [];
    for (const lent of this.lent.values()) pass.push([lent.serial, lent.buffer]);
    this.transport!.toWorker(index, { pass, once: false });
  }

  /** Passed buffers from `origin` are read with `source`. */
  addSource(origin: number, source: PassSource): void {
    this.sources.set(origin, source);
    this.arrivals.set(origin, new Map());
  }

  /** Main thread: `origin` exited and every result it published was decoded; what it sent goes. */
  removeSource(origin: number): void {
    this.sources.delete(origin);
    this.arrivals.delete(origin);
  }

  /**
   * Worker: the worker `name` behind `origin` exited, and whatever it posted was read. What it
   * passed to be read once stays until read: the results it published are still collected. What it
   * lent goes: only its own forked work names that, which its caller no longer waits for; a payload
   * naming it fails as a crash of that worker.
   */
  senderExited(origin: number, name: string): void {
    this.sources.delete(origin);
    const arrivals = this.arrivals.get(origin);
    if (arrivals !== undefined) {
      for (const [serial, arrival] of arrivals) if (!arrival.once) arrivals.delete(serial);
      if (arrivals.size === 0) this.arrivals.delete(origin);
    }
    // Origins are never reused, so this only grows by the workers that exit: a short entry each.
    this.gone.set(origin, name);
  }

  /** A message from `origin`, read off its port. */
  arrive(origin: number, message: PassPost): void {
    const arrivals = this.arrivals.get(origin);
    if (arrivals === undefined) return;
    if ('move' in message) {
      for (const [serial, value] of message.move) arrivals.set(serial, { buffer: value, once: true });
    } else if ('pass' in message) {
      for (const [serial, buffer] of message.pass) arrivals.set(serial, { buffer, once: message.once });
    } else {
      for (const serial of message.drop) arrivals.delete(serial);
    }
  }

  /** The buffer `origin` passed under `serial`, for the payload being decoded. */
  bufferFrom(origin: number, serial: number): SharedArrayBuffer {
    return this.arrival(origin, serial) as SharedArrayBuffer;
  }

  /** The value `origin` moved under `serial` (`transfer()`), for the payload being decoded. */
  movedFrom(origin: number, serial: number): Movable {
    return this.arrival(origin, serial) as Movable;
  }

  private arrival(origin: number, serial: number): SharedArrayBuffer | Movable {
    let arrival = this.arrivals.get(origin)?.get(serial);
    if (arrival === undefined) {
      if (!this.sources.has(origin) && !this.gone.has(origin)) this.learnSenders?.();
      const source = this.sources.get(origin);
      while (arrival === undefined && source !== undefined) {
        if (!source.receiveNext() && source.waitForMore?.() !== true) break;
        arrival = this.arrivals.get(origin)?.get(serial);
      }
    }
    if (arrival === undefined) {
      const gone = this.gone.get(origin);
      if (gone !== undefined) throw new WorkerCrashedError(gone, 'it exited, and work it forked names a shared buffer only it could pass');
      throw new ThreadPoolError(`a shared buffer a thread passed (serial ${serial}) never arrived`);
    }
    if (arrival.once) this.readOnce.push([origin, serial]);
    return arrival.buffer;
  }

  /** After every decode: the read-once buffers it read are forgotten. */
  finishDecoding(): void {
    if (this.readOnce.length === 0) return;
    for (const [origin, serial] of this.readOnce) this.arrivals.get(origin)?.delete(serial);
    this.readOnce.length = 0;
  }

  /** How many passed buffers this thread can decode right now (for tests). */
  get size(): number {
    let size = 0;
    for (const arrivals of this.arrivals.values()) size += arrivals.size;
    return size;
  }
}
