/**
 * The main thread's side of held transfers (codec/held-transfers.ts): each worker gets a pull port,
 * posted first on its buffer port, on which it asks for the values held under a token when it
 * decodes a call that names them. The answer goes back on the buffer port, the values in its
 * transfer list, so they move to that worker without a copy; a token let go of already (the call
 * was aborted, timed out or abandoned) is answered as lost.
 *
 * The requests are read as port events: the worker waits for the answer, and the main thread
 * answers at its next turn of the event loop. The port is unref'd: a call waiting for its pull
 * keeps the process alive already.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { heldTransfers, type PullAnswer } from '../codec/held-transfers.js';
import type { Movable } from '../codec/passed-buffers.js';

/**
 * Opens the pull port of the worker whose buffer port's main-thread end is `bufferPort`, posting
 * its other end there; `answer` posts an answer on the buffer port. Returns the end to close when
 * the worker is gone.
 */
export function openPullPort(bufferPort: MessagePort, answer: (message: PullAnswer, transfer: Movable[]) => void): MessagePort {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (message: { pull: number }) => {
    const token = message.pull;
    const values = heldTransfers.take(token);
    if (values === undefined) answer({ moved: token, lost: true }, []);
    else answer({ moved: token, values }, values);
  });
  port1.unref();
  bufferPort.postMessage({ pullPort: port2 }, [port2]);
  return port1;
}
