/**
 * What a worker's own event loop holds, which its scheduling loop must not freeze: control
 * messages from the main thread, and whatever task code started there (timers, sockets, file
 * operations). The loop returns to the event loop when a control message was posted, and parks
 * without blocking it (waitAsync) while a message is on the way or task code has something pending.
 */
import type { MessageCounts } from '../control/endpoint.js';
import { type Layout, WorkerBlock, workerWord } from '../shm/layout.js';

/**
 * Whether `process.getActiveResourcesInfo()` lists the timers that task code starts. Bun's (1.4)
 * returns an empty list whatever is pending: there the worker cannot tell whether its event loop
 * holds anything, so it always parks without blocking it (hasBackgroundWork), rather than freeze a
 * task's timers and sockets for up to a whole synchronous park at a time.
 */
const RESOURCES_REPORTED = (() => {
  const probe = setTimeout(() => {}, 60_000);
  try {
    return process.getActiveResourcesInfo().includes('Timeout');
  } finally {
    clearTimeout(probe);
  }
})();

export class EventLoopWatch {
  /** CONTROL_POSTED: how many control messages the main thread has posted to this worker. */
  private readonly controlWord: number;
  /** CONTROL_POSTED when the loop last returned to the event loop for a control message. */
  private controlSeen: number;

  constructor(
    private readonly words: Int32Array,
    layout: Layout,
    index: number,
    /** The control port's message counts (the `received` side is read). */
    private readonly controlMessages: MessageCounts,
  ) {
    this.controlWord = workerWord(layout, index, WorkerBlock.CONTROL_POSTED);
    this.controlSeen = Atomics.load(words, this.controlWord);
  }

  /**
   * Whether control messages were posted since the loop last returned to the event loop for them;
   * if so, the loop is about to, and they count as seen.
   */
  takeControlPosted(): boolean {
    const posted = Atomics.load(this.words, this.controlWord);
    if (posted === this.controlSeen) return false;
    this.controlSeen = posted;
    return true;
  }

  /** Whether control messages were posted that the loop has not returned to the event loop for. */
  controlPending(): boolean {
    return Atomics.load(this.words, this.controlWord) !== this.controlSeen;
  }

  /** Whether a park must leave the event loop running (waitAsync) rather than block it. */
  mustNotBlock(): boolean {
    return this.controlOutstanding() || this.hasBackgroundWork();
  }

  /**
   * Whether control messages were posted that the port has not delivered yet. Deno delivered one
   * only after several event-loop turns: a synchronous park in between froze it each time, so that
   * a shared buffer took seconds to announce.
   */
  private controlOutstanding(): boolean {
    // Wraps with the word: a difference, not a comparison. Negative while the main thread has posted
    // but not yet stored the count.
    return ((Atomics.load(this.words, this.controlWord) - this.controlMessages.received) | 0) > 0;
  }

  /**
   * Whether the event loop holds something that task code started: a timer, an immediate, a socket,
   * a file operation. Blocking in Atomics.wait would freeze it. Message ports (the control channel,
   * stdio) do not count: their messages wait for the next event-loop turn, which a synchronous park
   * gives at its end anyway.
   */
  private hasBackgroundWork(): boolean {
    if (!RESOURCES_REPORTED) return true;
    const resources = process.getActiveResourcesInfo();
    for (let i = 0; i < resources.length; i++) if (resources[i] !== 'MessagePort') return true;
    return false;
  }
}
