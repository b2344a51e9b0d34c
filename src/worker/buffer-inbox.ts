/**
 * A worker's side of its buffer port: the shared buffers the main thread announces, and the ids it
 * releases (codec/shared-buffers.ts). The port is read synchronously, never by event: a payload
 * naming a buffer is queued right after its announcement was posted, so a worker that decodes an id
 * it has not heard of finds the announcement on the port at once, without a turn of its event loop
 * (which Deno gives port messages only after several turns). Releases are read whenever the loop
 * sees that the main thread posted more than was read. The other way, it carries the buffers this
 * worker created that a result for the main thread names.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { sharedBuffers } from '../codec/shared-buffers.js';
import type { BufferMessage } from '../control/protocol.js';

export class BufferInbox {
  private read = 0;

  /** `posted` reads the BUFFER_MESSAGES word: how many messages the main thread has posted. */
  constructor(
    private readonly port: MessagePort,
    private readonly posted: () => number,
  ) {}

  /** Reads one message and applies it; false when there was none. */
  readonly receiveNext = (): boolean => {
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) return false;
    this.read++;
    const message = received.message as BufferMessage;
    if ('share' in message) {
      for (const [id, buffer] of message.share) sharedBuffers.remember(id, buffer);
    } else {
      sharedBuffers.forget(message.forget);
    }
    return true;
  };

  /** Whether the main thread posted messages not read yet. Wraps with the word: a difference. */
  behind(): boolean {
    return ((this.posted() - this.read) | 0) > 0;
  }

  /** Posts buffers created on this worker, by serial, to the main thread. */
  readonly postCreatedHere = (entries: [number, SharedArrayBuffer][]): void => {
    this.port.postMessage({ share: entries } satisfies BufferMessage);
  };

  /** Reads every message there is. */
  catchUp(): void {
    while (this.receiveNext());
  }
}
