/**
 * A worker's buffer ports: the one from the main thread, and one to each other worker.
 *
 * From the main thread come the shared buffers it announces by id and the ids it releases
 * (codec/shared-buffers.ts), ports to workers started later, and the origins of workers that
 * exited. Between workers, and from a worker to the main thread, go the buffers a worker passes by
 * itself (codec/passed-buffers.ts).
 *
 * Ports are read synchronously, never by event: whoever posts does so before it publishes the
 * payload naming what it posted, so a reader that meets a buffer it has not heard of finds it on
 * the port at once, without a turn of its event loop (which Deno gives port messages only after
 * several). Every poster also adds one to the reader's BUFFER_MESSAGES word after posting, so that a
 * busy or idle worker reads releases and drops soon, not only when it meets an unknown buffer.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { PassSource, PassTransport } from '../codec/passed-buffers.js';
import type { BufferMessage, PassMessage, PeerPort } from '../control/protocol.js';

/** How long a worker waiting for a peer's buffer sleeps between looks at its ports. */
const PEER_WAIT_MS = 1;

export class BufferInbox implements PassTransport {
  /** The BUFFER_MESSAGES count when every port was last read to its end. */
  private seen = 0;
  private readonly peers = new Map<number, PeerPort>();
  private readonly peerAt = new Map<number, PeerPort>();

  /**
   * `wordOf(index)` is the index of worker `index`'s BUFFER_MESSAGES word in `words`; this
   * worker is `self`.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly words: Int32Array,
    private readonly wordOf: (index: number) => number,
    private readonly self: number,
    peers: readonly PeerPort[],
  ) {
    for (const peer of peers) this.addPeer(peer);
  }

  /** Reads one message from the main thread and applies it; false when there was none. */
  readonly receiveNext = (): boolean => {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) return false;
    const message = received.message as BufferMessage;
    if ('share' in message) {
      for (const [id, buffer] of message.share) sharedBuffers.remember(id, buffer);
    } else if ('forget' in message) {
      sharedBuffers.forget(message.forget);
    } else if ('peer' in message) {
      this.addPeer(message.peer);
      // It may steal work forked before it existed, which names buffers lent before.
      sharedBuffers.passed.introduce(message.peer.index);
    } else {
      this.removePeer(message.gone);
    }
    return true;
  };

  /** Whether anyone posted messages not read yet. */
  behind(): boolean {
    return Atomics.load(this.words, this.wordOf(this.self)) !== this.seen;
  }

  /** Reads every message there is, on every port. */
  catchUp(): void {
    // Loaded before reading: a message counted in it was posted before it was counted.
    this.seen = Atomics.load(this.words, this.wordOf(this.self));
    this.readMainThread();
    for (const peer of this.peers.values()) while (this.receiveFrom(peer));
  }

  /** Reads what the main thread posted: it introduces workers started after this one. */
  readonly readMainThread = (): void => {
    while (this.receiveNext());
  };

  toMainThread(message: PassMessage): void {
    this.port.postMessage(message);
  }

  toWorker(index: number, message: PassMessage): void {
    let peer = this.peerAt.get(index);
    if (peer === undefined) {
      // Started after this worker: the main thread posted its port before it could run anything.
      this.readMainThread();
      peer = this.peerAt.get(index);
    }
    if (peer !== undefined) this.post(peer, message);
  }

  toEveryWorker(message: PassMessage): void {
    // Learn of workers started since: a buffer lent to every worker must reach them too.
    if (this.behind()) this.catchUp();
    for (const peer of this.peers.values()) this.post(peer, message);
  }

  private post(peer: PeerPort, message: PassMessage): void {
    peer.port.postMessage(message);
    Atomics.add(this.words, this.wordOf(peer.index), 1);
  }

  private addPeer(peer: PeerPort): void {
    this.peers.set(peer.origin, peer);
    this.peerAt.set(peer.index, peer);
    const source: PassSource = {
      receiveNext: () => this.receiveFrom(peer),
      waitForMore: () => this.waitForPeer(peer),
    };
    sharedBuffers.passed.addSource(peer.origin, source);
  }

  private removePeer(origin: number): void {
    const peer = this.peers.get(origin);
    if (peer === undefined) return;
    // What it posted before it exited is still on the port: results it published name some.
    while (this.receiveFrom(peer));
    this.peers.delete(origin);
    if (this.peerAt.get(peer.index) === peer) this.peerAt.delete(peer.index);
    peer.port.close();
    sharedBuffers.passed.senderExited(origin, peer.name);
  }

  private receiveFrom(peer: PeerPort): boolean {
    const received = receiveMessageOnPort(peer.port);
    if (received === undefined) return false;
    sharedBuffers.passed.arrive(peer.origin, received.message as PassMessage);
    return true;
  }

  /**
   * A payload from `peer` names a buffer not on its port yet. Only a worker that started after the
   * payload's forker lent the buffer meets this: the forker sends what it lent once it reads of the
   * newcomer, at its next look at its port. Waits for that, or for the forker's exit.
   */
  private waitForPeer(peer: PeerPort): boolean {
    const seen = Atomics.load(this.words, this.wordOf(this.self));
    this.readMainThread();
    if (!this.peers.has(peer.origin)) return false;
    Atomics.wait(this.words, this.wordOf(this.self), seen, PEER_WAIT_MS);
    return true;
  }
}
