/**
 * What watches a call after it is queued: its caller's AbortSignal, which withdraws it (and with
 * `terminateOnAbort`, terminates the worker running it), and its run-time limit (`timeout`,
 * `terminateAfter`), measured from when a worker started it. Both terminate through `retire`: the
 * worker is then recovered and replaced as after a crash (worker-set.ts).
 */
import { AbortError, TaskTimeoutError } from '../errors.js';
import { ownerOf } from '../shm/slot.js';
import { sharedNow } from '../sync/clock.js';
import { type Timer, startTimer } from '../time/timer.js';
import type { AbortListeners } from './abort-listeners.js';
import type { Dispatcher } from './dispatcher.js';
import type { PendingWork } from './work.js';
import type { Submitter } from './submitter.js';

/** A call's run-time limit (CallOptions `timeout` and `terminateAfter`). */
export interface RunLimit {
  timeoutMs: number;
  terminateAfterMs: number;
}

export class CallWatch {
  /** `retire(worker)` terminates a worker whose task outlived its `terminateAfter` or was aborted. */
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly submitter: Submitter,
    private readonly abortListeners: AbortListeners,
    private readonly retire: (worker: number) => void,
  ) {}

  /**
   * Gives a submitted call its signal and run-time limit, if any. Returns what stops watching,
   * for once the call settles.
   */
  watch(
    name: string,
    call: PendingWork,
    signal: AbortSignal | undefined,
    limit: RunLimit | undefined,
    reject: (reason: unknown) => void,
    terminateOnAbort = false,
  ): (() => void) | undefined {
    const stopSignal = signal === undefined ? undefined : this.withdrawOnAbort(signal, () => [call], reject, terminateOnAbort);
    if (limit === undefined) return stopSignal;
    const stopTimer = this.limitRunTime(name, call, limit, reject);
    return () => {
      stopTimer();
      stopSignal?.();
    };
  }

  /**
   * Makes an abort of `signal` withdraw the call's pending works from the dispatcher and reject it
   * with AbortError; with `terminate`, the workers running some of them are terminated too (the
   * call's promise rejects first, so the abort is its outcome, not the crash). Returns what
   * forgets the call, to be called once it settles.
   */
  withdrawOnAbort(signal: AbortSignal, works: () => PendingWork[], reject: (reason: unknown) => void, terminate = false): () => void {
    return this.abortListeners.add(signal, () => {
      const running: number[] = [];
      const onRunning = terminate ? (stateWord: number) => running.push(ownerOf(stateWord)) : undefined;
      for (const work of works()) this.submitter.cancel(work, onRunning);
      reject(new AbortError(signal.reason));
      for (const worker of new Set(running)) this.retire(worker);
    });
  }

  /**
   * Watches a call's run time: once a worker has run it for `timeoutMs`, raises its cancel flag,
   * drops its outcome and rejects it with TaskTimeoutError; if it still runs `terminateAfterMs`
   * later, terminates its worker (which is then replaced). The start is read from the slot, where
   * the worker stamps it. Returns what stops the watch, for when the call settles first.
   */
  private limitRunTime(task: string, call: PendingWork, limit: RunLimit, reject: (reason: unknown) => void): () => void {
    const { dispatcher } = this;
    let timer: Timer | undefined;
    const check = (): void => {
      timer = undefined;
      const running = dispatcher.running(this.submitter.dispatched(call));
      let left: number;
      // Not started yet: it cannot time out within the next timeout (and a start in between is
      // seen then, with its exact time left).
      if (running === undefined) left = limit.timeoutMs;
      // Claimed a moment ago: the worker has not stamped its start yet.
      else if (running.startedAt === 0) left = 1;
      else left = running.startedAt + limit.timeoutMs - sharedNow();
      if (running === undefined || left > 0) {
        watch(left);
        return;
      }
      this.submitter.cancel(call);
      reject(new TaskTimeoutError(task, limit.timeoutMs));
      // Not `timer`: the call has settled now, and settling stops only the watch above.
      const terminate = (): void => {
        if (dispatcher.stillRunning(running.slot, running.stateWord)) this.retire(ownerOf(running.stateWord));
      };
      startTimer(limit.terminateAfterMs, terminate, { keepsProcessAlive: false });
    };
    const watch = (ms: number): void => {
      timer = startTimer(ms, check, { keepsProcessAlive: false });
    };
    watch(limit.timeoutMs);
    return () => timer?.cancel();
  }
}
