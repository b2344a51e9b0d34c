/**
 * A worker's buffer ports: the one from the main thread, and one to each other worker.
 *
 * From the main thread come the shared buffers it announces by id and the ids it releases
 * (codec/shared-buffers.ts), ports to workers started later, the origins of workers that exited,
 * the port this worker asks for held transfers on and the answers (codec/held-transfers.ts).
 * Between workers, and from a worker to the main thread, go the buffers a worker passes by itself
 * and the values it moves (codec/passed-buffers.ts).
 *
 * Ports are read synchronously, never by event: whoever posts does so before it publishes the
 * payload naming what it posted, so a reader that meets a buffer it has not heard of finds it on
 * the port at once, without a turn of its event loop (which Deno gives port messages only after
 * several). Every poster also adds one to the reader's BUFFER_MESSAGES word after posting, so that a
 * busy or idle worker reads releases and drops soon, not only when it meets an unknown buffer.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { type PullAnswer, pulledTransfers } from '../codec/held-transfers.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { Movable, PassPost, PassSource, PassTransport } from '../codec/passed-buffers.js';
import type { BufferMessage, PeerPort } from '../control/protocol.js';
import { TransferError } from '../errors.js';

/** How long a worker waiting for a peer's buffer sleeps between looks at its ports. */
const PEER_WAIT_MS = 1;
/**
 * How long a worker waiting for held transfers sleeps between looks at its port at most. The main
 * thread's post wakes it sooner; this only bounds a wake that was missed.
 */
const PULL_WAIT_MS = 10;

/** What the main thread posts on the buffer port besides BufferMessages (pool/pulls.ts). */
type TransferPost = { pullPort: MessagePort } | PullAnswer;

export class BufferInbox implements PassTransport {
  /** The BUFFER_MESSAGES count when every port was last read to its end. */
  private seen = 0;
  private readonly peers = new Map<number, PeerPort>();
  private readonly peerAt = new Map<number, PeerPort>();
  /** Where this worker asks the main thread for held transfers; the main thread posts it first. */
  private pullPort: MessagePort | undefined;
  /** Answers to pulls, by token, until the pull that waits for them takes them. */
  private readonly answers = new Map<number, PullAnswer>();

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
    pulledTransfers.becomeWorker(this.pull);
  }

  /** Reads one message from the main thread and applies it; false when there was none. */
  readonly receiveNext = (): boolean => {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) return false;
    const message = received.message as BufferMessage | TransferPost;
    if ('moved' in message) {
      this.answers.set(message.moved, message);
    } else if ('pullPort' in message) {
      this.pullPort = message.pullPort;
    } else if ('share' in message) {
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

  toMainThread(message: PassPost, transfer: Movable[] = []): void {
    this.port.postMessage(message, transfer);
  }

  toWorker(index: number, message: PassPost, transfer: Movable[] = []): void {
    let peer = this.peerAt.get(index);
    if (peer === undefined) {
      // Started after this worker: the main thread posted its port before it could run anything.
      this.readMainThread();
      peer = this.peerAt.get(index);
    }
    if (peer !== undefined) this.post(peer, message, transfer);
  }

  toEveryWorker(message: PassPost): void {
    // Learn of workers started since: a buffer lent to every worker must reach them too.
    if (this.behind()) this.catchUp();
    for (const peer of this.peers.values()) this.post(peer, message);
  }

  /**
   * Asks the main thread for the values it holds under `token` for the payload being decoded, and
   * waits for them: they arrive on the main-thread port, whose poster wakes this worker.
   */
  readonly pull = (token: number): Movable[] => {
    while (this.pullPort === undefined && this.receiveNext());
    this.pullPort!.postMessage({ pull: token });
    for (;;) {
      const seen = Atomics.load(this.words, this.wordOf(this.self));
      this.readMainThread();
      const answer = this.answers.get(token);
      if (answer !== undefined) {
        this.answers.delete(token);
        if ('lost' in answer) {
          throw new TransferError(
            'the values moved with transfer() were let go of before this worker took the call (it was aborted, timed out or its pool stopped)',
          );
        }
        return answer.values;
      }
      Atomics.wait(this.words, this.wordOf(this.self), seen, PULL_WAIT_MS);
    }
  };

  private post(peer: PeerPort, message: PassPost, transfer: Movable[] = []): void {
    peer.port.postMessage(message, transfer);
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
    sharedBuffers.passed.arrive(peer.origin, received.message as PassPost);
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
