/**
 * How task code learns that its caller aborted it, or that it ran past its timeout: the main
 * thread raises CANCEL_REQUESTED in the FLAGS word of the call's slot, which every task forked for
 * that call names as its ROOT, wherever it runs. `isCancelled()` reads it (for every task on this
 * thread's stack: a join half run inline belongs to its caller's call).
 * `signal()` gives the running task an AbortSignal that this worker aborts when it sees the flag,
 * which an asynchronous task (one whose awaits let this thread's event loop run) can hand to
 * fetch, timers or streams. The executor also watches every asynchronous task in flight, to let go
 * of one whose caller gave up (`watch`). The flags are looked at every POLL_MS while anything is
 * watched.
 */
import { AbortError, ThreadPoolError } from '../errors.js';
import { SlotField, SlotFlag, type SlotTable } from '../shm/slot.js';
import type { RunningTasks } from './running-tasks.js';

/** How often the flags of tasks holding a signal are looked at. */
const POLL_MS = 2;

/** What a cancelled task is told: an AbortError, the name Node's own APIs use too. */
export function abortedError(): AbortError {
  return new AbortError(undefined, 'the task was aborted by its caller');
}

export class Cancellation {
  /** Signals handed out, by the slot of their task; removed when the task finishes. */
  private readonly signals = new Map<number, AbortController>();
  /** Asynchronous tasks in flight, by slot: what to do once their caller gives up. */
  private readonly watched = new Map<number, () => void>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    private readonly words: Int32Array,
    private readonly slots: SlotTable,
    private readonly running: RunningTasks,
  ) {}

  readonly isCancelled = (): boolean => this.running.some(this.requested);

  /** The running task's signal; from its synchronous part only (after an await it is not "running" here). */
  readonly signal = (): AbortSignal => {
    const slot = this.running.current;
    if (slot < 0) throw new ThreadPoolError('taskSignal() must be called from a running task, before its first await');
    let controller = this.signals.get(slot);
    if (controller === undefined) {
      controller = new AbortController();
      if (this.requested(slot)) {
        controller.abort(abortedError());
      } else {
        this.signals.set(slot, controller);
        this.poller ??= setInterval(this.poll, POLL_MS);
      }
    }
    return controller.signal;
  };

  /** Calls `cancelled` once the caller of the (asynchronous) task of `slot` gives up on it. */
  watch(slot: number, cancelled: () => void): void {
    this.watched.set(slot, cancelled);
    this.poller ??= setInterval(this.poll, POLL_MS);
  }

  /** The task of `slot` finished: its signal and watch, if any, end. */
  finished(slot: number): void {
    if (this.signals.size === 0 && this.watched.size === 0) return; // the common case: a synchronous task
    this.signals.delete(slot);
    this.watched.delete(slot);
    if (this.signals.size === 0 && this.watched.size === 0) this.stopPolling();
  }

  private readonly poll = (): void => {
    for (const [slot, controller] of this.signals) {
      if (!this.requested(slot)) continue;
      this.signals.delete(slot);
      controller.abort(abortedError());
    }
    for (const [slot, cancelled] of this.watched) {
      if (!this.requested(slot)) continue;
      this.watched.delete(slot);
      cancelled();
    }
    if (this.signals.size === 0 && this.watched.size === 0) this.stopPolling();
  };

  private stopPolling(): void {
    clearInterval(this.poller);
    this.poller = undefined;
  }

  /** Whether the caller of the task of `slot` gave up on it: the flag of its root call (ROOT). */
  readonly requested = (slot: number): boolean => {
    const root = this.words[this.slots.word(slot, SlotField.ROOT)];
    return (Atomics.load(this.words, this.slots.word(root, SlotField.FLAGS)) & SlotFlag.CANCEL_REQUESTED) !== 0;
  };
}
