/**
 * The bookkeeping of buffers a worker passes by itself (codec/passed-buffers.ts), with three
 * registries standing for two workers and the main thread, and ports that are plain queues: which
 * serial a buffer travels under, who is posted what, and when each side lets go.
 */
import { describe, expect, it } from 'vitest';
import { Destination, PassedBuffers, type PassPost, type PassTransport } from '../../src/codec/passed-buffers.js';
import { EncodeError, ThreadPoolError, WorkerCrashedError } from '../../src/errors.js';

/** Worker `index` of a pool of `threads`, its origin 100 + index, with queues to every thread. */
class Rig {
  readonly threads: PassedBuffers[] = [];
  readonly main = new PassedBuffers();
  /** Queued messages by [from origin, to thread (-1 the main thread)]. */
  readonly queues = new Map<string, PassPost[]>();
  posts = 0;

  constructor(workers: number) {
    for (let index = 0; index < workers; index++) this.threads.push(new PassedBuffers());
    for (let index = 0; index < workers; index++) this.join(index, workers);
  }

  join(index: number, workers: number): void {
    const passed = this.threads[index];
    const origin = 100 + index;
    const post = (to: number, message: PassPost): void => {
      this.posts++;
      const key = `${origin}>${to}`;
      this.queues.set(key, [...(this.queues.get(key) ?? []), message]);
    };
    const transport: PassTransport = {
      toMainThread: (message) => post(-1, message),
      toWorker: (to, message) => post(to, message),
      toEveryWorker: (message) => {
        for (let to = 0; to < workers; to++) if (to !== index) post(to, message);
      },
    };
    passed.becomeWorker(index, origin, transport, () => {});
    for (let from = 0; from < workers; from++) if (from !== index) passed.addSource(100 + from, this.source(100 + from, index, passed));
    this.main.addSource(origin, this.source(origin, -1, this.main));
  }

  source(from: number, to: number, reader: PassedBuffers): { receiveNext(): boolean } {
    return {
      receiveNext: () => {
        const queue = this.queues.get(`${from}>${to}`) ?? [];
        const message = queue.shift();
        if (message === undefined) return false;
        reader.arrive(from, message);
        return true;
      },
    };
  }

  /** Reads every message queued for worker `to`, as its loop does when its word moved. */
  drain(to: number): void {
    for (let from = 0; from < this.threads.length; from++) {
      if (from === to) continue;
      const source = this.source(100 + from, to, this.threads[to]);
      while (source.receiveNext());
    }
  }

  /** Encodes `buffers` on worker `index` for `destination`, as the codec does; returns the serials. */
  encode(index: number, destination: number, buffers: SharedArrayBuffer[]): number[] {
    const passed = this.threads[index];
    passed.startEncoding();
    return passed.encodingFor(destination, () => buffers.map((buffer) => passed.serialFor(buffer)));
  }

  /** Decodes one payload naming (origin, serial) pairs on `reader`, as the codec does. */
  decode(reader: PassedBuffers, named: [number, number][]): SharedArrayBuffer[] {
    try {
      return named.map(([origin, serial]) => reader.bufferFrom(origin, serial));
    } finally {
      reader.finishDecoding();
    }
  }
}

describe('lent to every worker (forked work)', () => {
  it('one serial while held, posted once, dropped everywhere when the last hold goes', () => {
    const rig = new Rig(3);
    const [w0, w1, w2] = rig.threads;
    const buffer = new SharedArrayBuffer(8);
    const [serial] = rig.encode(0, Destination.EVERY_WORKER, [buffer]);
    const first = w0.send(Destination.EVERY_WORKER)!;
    w0.hold(first);
    expect(rig.posts).toBe(2);
    // A nested fork over the same buffer: the same serial, nothing posted again.
    expect(rig.encode(0, Destination.EVERY_WORKER, [buffer, buffer])).toEqual([serial, serial]);
    const second = w0.send(Destination.EVERY_WORKER)!;
    w0.hold(second);
    expect(rig.posts).toBe(2);
    // Any worker decodes it, any number of times, and so does the lender itself.
    expect(rig.decode(w1, [[100, serial]])[0]).toBe(buffer);
    expect(rig.decode(w1, [[100, serial]])[0]).toBe(buffer);
    expect(rig.decode(w0, [[100, serial]])[0]).toBe(buffer);
    w0.unhold(second);
    expect(rig.posts).toBe(2);
    w0.unhold(first);
    expect(rig.posts).toBe(4);
    // The drop follows the pass on every port; the lender forgets at once.
    expect(() => rig.decode(w0, [[100, serial]])).toThrow(/never arrived/);
    // A reader that has not read the drop yet still finds it; once it has, it holds nothing.
    expect(rig.decode(w2, [[100, serial]])[0]).toBe(buffer);
    rig.drain(1);
    rig.drain(2);
    expect(w1.size).toBe(0);
    expect(w2.size).toBe(0);
    // Lent again later: a new serial.
    expect(rig.encode(0, Destination.EVERY_WORKER, [buffer])).not.toEqual([serial]);
  });

  it('an encode that is never sent lends nothing', () => {
    const rig = new Rig(2);
    rig.encode(0, Destination.EVERY_WORKER, [new SharedArrayBuffer(8)]);
    rig.threads[0].startEncoding();
    expect(rig.threads[0].send(Destination.EVERY_WORKER)).toBeUndefined();
    expect(rig.posts).toBe(0);
  });

  it('a worker joining later is sent what is lent at that moment', () => {
    const rig = new Rig(2);
    const buffer = new SharedArrayBuffer(8);
    const [serial] = rig.encode(0, Destination.EVERY_WORKER, [buffer]);
    rig.threads[0].hold(rig.threads[0].send(Destination.EVERY_WORKER)!);
    const newcomer = new PassedBuffers();
    newcomer.becomeWorker(2, 102, { toMainThread() {}, toWorker() {}, toEveryWorker() {} }, () => {});
    newcomer.addSource(100, rig.source(100, 2, newcomer));
    expect(() => rig.decode(newcomer, [[100, serial]])).toThrow(/never arrived/);
    rig.threads[0].introduce(2);
    expect(rig.decode(newcomer, [[100, serial]])[0]).toBe(buffer);
  });
});

describe('read once (outcomes)', () => {
  it('posted to the reader alone, forgotten when the decode naming it is over', () => {
    const rig = new Rig(2);
    const buffer = new SharedArrayBuffer(8);
    // Named twice in one result: one serial, read twice in one decode.
    const serials = rig.encode(1, Destination.MAIN_THREAD, [buffer, buffer]);
    expect(serials[0]).toBe(serials[1]);
    expect(rig.threads[1].send(Destination.MAIN_THREAD)).toBeUndefined();
    expect(rig.posts).toBe(1);
    const decoded = rig.decode(rig.main, [
      [101, serials[0]],
      [101, serials[1]],
    ]);
    expect(decoded).toEqual([buffer, buffer]);
    expect(rig.main.size).toBe(0);
  });

  it('to the forking worker, or to itself, the same way', () => {
    const rig = new Rig(2);
    const buffer = new SharedArrayBuffer(8);
    const [toOther] = rig.encode(1, 0, [buffer]);
    rig.threads[1].send(0);
    expect(rig.decode(rig.threads[0], [[101, toOther]])[0]).toBe(buffer);
    const [toSelf] = rig.encode(1, 1, [buffer]);
    rig.threads[1].send(1);
    expect(rig.posts).toBe(1);
    expect(rig.decode(rig.threads[1], [[101, toSelf]])[0]).toBe(buffer);
    expect(rig.threads[0].size + rig.threads[1].size).toBe(0);
  });
});

describe('refusals and exits', () => {
  it('with no destination, a buffer without an id is refused', () => {
    const passed = new PassedBuffers();
    passed.startEncoding();
    expect(() => passed.serialFor(new SharedArrayBuffer(8))).toThrow(EncodeError);
  });

  it('a sender that exited: its results are still read, what it lent is dropped and fails as its crash', () => {
    const rig = new Rig(2);
    const result = new SharedArrayBuffer(8);
    const [lent] = rig.encode(0, Destination.EVERY_WORKER, [new SharedArrayBuffer(8)]);
    rig.threads[0].hold(rig.threads[0].send(Destination.EVERY_WORKER)!);
    const [once] = rig.encode(0, 1, [result]);
    rig.threads[0].send(1);
    rig.drain(1);
    rig.threads[1].senderExited(100, 'viscose-0');
    expect(rig.decode(rig.threads[1], [[100, once]])).toEqual([result]);
    expect(() => rig.decode(rig.threads[1], [[100, lent]])).toThrow(WorkerCrashedError);
    expect(() => rig.decode(rig.threads[1], [[100, lent]])).toThrow(/worker viscose-0 crashed: it exited/);
    expect(rig.threads[1].size).toBe(0);
  });

  it('a reader waits for a serial its sender has not posted yet, as long as the sender may post it', () => {
    const reader = new PassedBuffers();
    const buffer = new SharedArrayBuffer(8);
    let waits = 0;
    reader.addSource(7, {
      receiveNext: () => false,
      waitForMore: () => {
        if (++waits === 3) reader.arrive(7, { pass: [[5, buffer]], once: true });
        return true;
      },
    });
    expect(reader.bufferFrom(7, 5)).toBe(buffer);
    expect(waits).toBe(3);
    reader.finishDecoding();
    reader.addSource(8, { receiveNext: () => false, waitForMore: () => false });
    expect(() => reader.bufferFrom(8, 1)).toThrow(/never arrived/);
    expect(() => reader.bufferFrom(8, 1)).toThrow(ThreadPoolError);
  });
});
