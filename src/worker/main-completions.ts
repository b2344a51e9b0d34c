/**
 * How a worker hands a finished slot of the main thread back (a `run`, a batch chunk, a part of a
 * main-thread broadcast or scope): into this worker's completion ring, and a ring of the doorbell
 * if the main thread parked waiting for completions. Task events ring it too (task-events.ts).
 */
import type { CompletionRing } from '../queue/completion-ring.js';
import { Header } from '../shm/layout.js';

export class MainCompletions {
  constructor(
    private readonly words: Int32Array,
    /** This worker's completion ring, producer side. */
    private readonly ring: CompletionRing,
  ) {}

  /** Publishes a finished main-thread slot and wakes the main thread if it waits. */
  readonly publish = (slot: number): void => {
    this.ring.push(slot);
    this.wakeMain();
  };

  /** Rings the main thread's doorbell if it parked: it then reads what was published or posted. */
  readonly wakeMain = (): void => {
    const words = this.words;
    if (Atomics.load(words, Header.MAIN_PARKED) === 0) return;
    if (Atomics.exchange(words, Header.MAIN_PARKED, 0) === 0) return;
    Atomics.add(words, Header.MAIN_DOORBELL, 1);
    Atomics.notify(words, Header.MAIN_DOORBELL);
  };
}
