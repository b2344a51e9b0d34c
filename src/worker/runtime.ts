/**
 * The worker's scheduling loop: find work, run it, publish the outcome; spin when there is none,
 * then sleep.
 *
 * Where work is looked for, in Rayon's order: the worker's own deque (newest first), one steal per
 * other worker starting from a random victim (repeated while any steal lost a race), and the
 * injector last, highest priority first.
 *
 * Synchronous tasks run back to back inside one call of `pump`. An asynchronous task (one that
 * returns a promise) cannot settle while the worker sits in `Atomics.wait`, so while any is in
 * flight the worker returns to its event loop between tasks and parks with `Atomics.waitAsync`
 * instead; at most `asyncTasksPerWorker` are in flight, after which it takes no new work until one
 * settles.
 */
import type { WorkerConfig } from '../control/protocol.js';
import type { PayloadCodec } from '../codec/payload.js';
import { EMPTY, RETRY, type ChaseLevDeque } from '../queue/deque.js';
import type { CompletionRing } from '../queue/completion-ring.js';
import { Header, PoolState, WorkerBlock, WorkerCounter, workerWord } from '../shm/layout.js';
import { SlotField, SlotState, type SlotTable, SlotTime, withState } from '../shm/slot.js';
import { sharedNow } from '../sync/clock.js';
import { BLOCKED, IdleState, PARK, type Sleep } from '../sync/sleep.js';

export type TaskFunction = (...args: unknown[]) => unknown;

/** Longest synchronous park before the worker gives its event loop a turn anyway. */
const IDLE_TURN_MS = 100;

/** Everything the loop works with, built by the worker entry from the start-up config. */
export interface RuntimeParts {
  config: WorkerConfig;
  words: Int32Array;
  slots: SlotTable;
  codec: PayloadCodec;
  sleep: Sleep;
  /** Every worker's deque, this worker's own at `config.index`. */
  deques: ChaseLevDeque[];
  injectors: ChaseLevDeque[];
  ring: CompletionRing;
  tasks: TaskFunction[];
}

export class WorkerRuntime {
  private readonly index: number;
  private readonly words: Int32Array;
  private readonly slots: SlotTable;
  private readonly codec: PayloadCodec;
  private readonly sleep: Sleep;
  private readonly own: ChaseLevDeque;
  private readonly deques: ChaseLevDeque[];
  private readonly injectors: ChaseLevDeque[];
  private readonly ring: CompletionRing;
  private readonly tasks: TaskFunction[];
  private readonly asyncLimit: number;
  private readonly controlWord: number;
  private readonly countersBase: number;
  private readonly f64: Float64Array;

  private readonly idle = new IdleState();
  /** Flagged SEARCHING in shared memory (looking for work, or parked). */
  private searching = false;
  /** Parked with waitAsync; the worker is registered as sleeping until woken or it cancels. */
  private parkedAsync = false;
  /** A waitAsync on the state word is outstanding (at most one at a time). */
  private waitAsyncPending = false;
  private pumping = false;
  private stopped = false;
  private asyncInFlight = 0;
  private onStopped: (() => void) | undefined;

  constructor(parts: RuntimeParts) {
    const { config } = parts;
    this.index = config.index;
    this.words = parts.words;
    this.slots = parts.slots;
    this.codec = parts.codec;
    this.sleep = parts.sleep;
    this.deques = parts.deques;
    this.own = parts.deques[config.index];
    this.injectors = parts.injectors;
    this.ring = parts.ring;
    this.tasks = parts.tasks;
    this.asyncLimit = config.asyncTasksPerWorker;
    this.controlWord = workerWord(config.layout, config.index, WorkerBlock.CONTROL_PENDING);
    this.countersBase = workerWord(config.layout, config.index, WorkerBlock.COUNTERS);
    this.f64 = new Float64Array(this.words.buffer as SharedArrayBuffer);
  }

  /** Starts taking work; `stopped` is called once the pool is stopping and the loop has ended. */
  start(stopped: () => void): void {
    this.onStopped = stopped;
    setImmediate(this.pump);
  }

  /** This worker's counters (tasks run, steals, injector takes, parks). */
  counter(which: number): number {
    return Atomics.load(this.words, this.countersBase + which);
  }

  get asyncTasksInFlight(): number {
    return this.asyncInFlight;
  }

  /** Runs the loop until it must return to the event loop. Never re-entered. */
  readonly pump = (): void => {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      if (this.parkedAsync) {
        this.parkedAsync = false;
        const woken = !this.sleep.cancelSleep(this.index);
        this.sleep.wokeUp(this.idle, woken);
      }
      this.loop();
    } finally {
      this.pumping = false;
    }
  };

  private loop(): void {
    const words = this.words;
    for (;;) {
      // The main thread sets this word and the worker clears it: read and clear in one exchange,
      // so that a flag set between a load and a store could not be lost.
      if (Atomics.load(words, this.controlWord) !== 0 && Atomics.exchange(words, this.controlWord, 0) !== 0) {
        // A control message waits in the port: let the event loop deliver it, then resume.
        this.stopSearching();
        setImmediate(this.pump);
        return;
      }
      if (this.asyncInFlight >= this.asyncLimit) {
        // Busy with asynchronous tasks: resumed by the settlement of one of them.
        this.stopSearching();
        return;
      }
      const slot = this.findWork();
      if (slot >= 0) {
        this.stopSearching();
        this.execute(slot);
        if (this.asyncInFlight > 0) {
          // Let the asynchronous tasks' continuations run between tasks.
          setImmediate(this.pump);
          return;
        }
        continue;
      }
      if (Atomics.load(words, Header.POOL_STATE) === PoolState.STOPPING) {
        this.stopSearching();
        this.stop();
        return;
      }
      if (!this.searching) {
        this.sleep.startLooking(this.index, this.idle);
        this.searching = true;
        continue;
      }
      if (this.sleep.noWorkFound(this.idle, this.index, performance.now(), this.needsAttention) === PARK) {
        if (this.asyncInFlight > 0 || this.hasBackgroundWork()) {
          this.parkAsync();
          return;
        }
        this.countParked();
        this.sleep.parking(this.idle);
        const woken = this.sleep.parkSync(this.index, IDLE_TURN_MS) || !this.sleep.cancelSleep(this.index);
        this.sleep.wokeUp(this.idle, woken);
        if (!woken) {
          // Nobody needed us for a while: give the event loop a turn (unref'd timers and anything
          // else it holds), then look for work again.
          this.stopSearching();
          setImmediate(this.pump);
          return;
        }
      }
    }
  }

  /**
   * Whether the event loop holds something that task code started: a timer, an immediate, a socket,
   * a file operation. Blocking in Atomics.wait would freeze it, so the worker parks with waitAsync
   * instead while there is. Message ports (the control channel, stdio) do not count: their messages
   * wait for the next event-loop turn, which a synchronous park gives every IDLE_TURN_MS anyway.
   */
  private hasBackgroundWork(): boolean {
    const resources = process.getActiveResourcesInfo();
    for (let i = 0; i < resources.length; i++) if (resources[i] !== 'MessagePort') return true;
    return false;
  }

  private stopSearching(): void {
    if (!this.searching) return;
    this.searching = false;
    this.sleep.workFound(this.index, this.queuedJobs);
  }

  private stop(): void {
    this.stopped = true;
    this.onStopped?.();
  }

  /** Parks without blocking the event loop, so that in-flight async tasks can settle. */
  private parkAsync(): void {
    this.parkedAsync = true;
    this.countParked();
    this.sleep.parking(this.idle);
    if (this.waitAsyncPending) return; // the outstanding waiter is woken by the same notify
    const result = Atomics.waitAsync(this.words, this.sleep.stateWord(this.index), BLOCKED);
    if (!result.async) {
      setImmediate(this.pump);
      return;
    }
    this.waitAsyncPending = true;
    void result.value.then(() => {
      this.waitAsyncPending = false;
      this.pump();
    });
  }

  private countParked(): void {
    this.words[this.countersBase + WorkerCounter.PARKS]++;
  }

  // ---- finding work --------------------------------------------------------------------------

  /** Returns a slot this worker has claimed, or -1. */
  private findWork(): number {
    for (;;) {
      const entry = this.own.pop();
      if (entry === EMPTY) break;
      const slot = this.slots.claim(entry, this.index);
      if (slot >= 0) return slot;
    }
    const stolen = this.stealFromOthers();
    if (stolen >= 0) return stolen;
    return this.takeInjected();
  }

  private stealFromOthers(): number {
    const n = this.deques.length;
    if (n < 2) return -1;
    for (;;) {
      let retry = false;
      const start = (Math.random() * n) | 0;
      for (let k = 0; k < n; k++) {
        const victim = start + k < n ? start + k : start + k - n;
        if (victim === this.index) continue;
        const entry = this.deques[victim].steal();
        if (entry === RETRY) {
          retry = true;
        } else if (entry !== EMPTY) {
          const slot = this.slots.claim(entry, this.index);
          if (slot >= 0) {
            this.words[this.countersBase + WorkerCounter.STEALS]++;
            return slot;
          }
          retry = true; // a stale entry: the victim may hold live ones behind it
        }
      }
      if (!retry) return -1;
    }
  }

  private takeInjected(): number {
    for (let level = 0; level < this.injectors.length; level++) {
      const injector = this.injectors[level];
      for (;;) {
        const entry = injector.steal();
        if (entry === EMPTY) break;
        if (entry === RETRY) continue;
        const slot = this.slots.claim(entry, this.index);
        if (slot >= 0) {
          this.words[this.countersBase + WorkerCounter.INJECTOR_TAKES]++;
          return slot;
        }
      }
    }
    return -1;
  }

  /**
   * The final check before sleeping. Besides queued work it covers every other reason the main
   * thread wakes a worker for — the pool stopping, a control message — because a wake only reaches
   * a worker whose state word is already BLOCKED: a reason set just before that would be lost.
   */
  private readonly needsAttention = (): boolean =>
    Atomics.load(this.words, this.controlWord) !== 0 ||
    Atomics.load(this.words, Header.POOL_STATE) !== PoolState.RUNNING ||
    this.workVisible();

  /** How many jobs wait in the injector and the deques (a snapshot). */
  private readonly queuedJobs = (): number => {
    let queued = 0;
    for (let i = 0; i < this.injectors.length; i++) queued += this.injectors[i].size();
    for (let i = 0; i < this.deques.length; i++) queued += this.deques[i].size();
    return queued;
  };

  /** Is anything queued anywhere? */
  private readonly workVisible = (): boolean => {
    for (let i = 0; i < this.injectors.length; i++) if (!this.injectors[i].isEmpty()) return true;
    for (let i = 0; i < this.deques.length; i++) if (!this.deques[i].isEmpty()) return true;
    return false;
  };

  // ---- running tasks -------------------------------------------------------------------------

  private execute(slot: number): void {
    const words = this.words;
    const started = sharedNow();
    this.sleep.taskStarted(this.index, started);
    this.f64[this.slots.timeIndex(slot, SlotTime.STARTED)] = started;
    const task = this.tasks[words[this.slots.word(slot, SlotField.TASK)]];
    const batch = words[this.slots.word(slot, SlotField.BATCH)];
    let args: unknown[];
    try {
      args = this.codec.loadList(slot);
    } catch (error) {
      this.codec.release(slot);
      this.finish(slot, SlotState.FAILED, batch === 0 ? error : [-1, error]);
      return;
    }
    this.codec.release(slot);
    if (batch === 0) this.runSingle(slot, task, args);
    else this.runBatch(slot, task, args as unknown[][]);
  }

  private runSingle(slot: number, task: TaskFunction, args: unknown[]): void {
    let result: unknown;
    try {
      result = task(...args);
    } catch (error) {
      this.finish(slot, SlotState.FAILED, error);
      return;
    }
    if (!isThenable(result)) {
      this.finish(slot, SlotState.DONE, result);
      return;
    }
    this.asyncInFlight++;
    result.then(
      (value) => this.finishAsync(slot, SlotState.DONE, value),
      (error: unknown) => this.finishAsync(slot, SlotState.FAILED, error),
    );
  }

  /** Runs the calls of a batch slot in order; the first failure ends the batch. */
  private runBatch(slot: number, task: TaskFunction, calls: unknown[][]): void {
    const results = new Array<unknown>(calls.length);
    for (let i = 0; i < calls.length; i++) {
      let result: unknown;
      try {
        result = task(...calls[i]);
      } catch (error) {
        this.finish(slot, SlotState.FAILED, [i, error]);
        return;
      }
      if (isThenable(result)) {
        this.asyncInFlight++;
        this.continueBatchAsync(task, calls, results, i, result).then(
          () => this.finishAsync(slot, SlotState.DONE, results),
          (failure: unknown) => this.finishAsync(slot, SlotState.FAILED, failure),
        );
        return;
      }
      results[i] = result;
    }
    this.finish(slot, SlotState.DONE, results);
  }

  /** The rest of a batch once one of its calls returned a promise: awaited one at a time. */
  private async continueBatchAsync(
    task: TaskFunction,
    calls: unknown[][],
    results: unknown[],
    first: number,
    pending: PromiseLike<unknown>,
  ): Promise<void> {
    for (let i = first; i < calls.length; i++) {
      try {
        results[i] = await (i === first ? pending : task(...calls[i]));
      } catch (error) {
        throw [i, error];
      }
    }
  }

  private finishAsync(slot: number, state: number, outcome: unknown): void {
    this.asyncInFlight--;
    this.finish(slot, state, outcome);
    this.pump();
  }

  /**
   * Stores the outcome in the slot, marks it DONE or FAILED and tells the main thread. A failed
   * batch stores `[index, error]`.
   */
  private finish(slot: number, state: number, outcome: unknown): void {
    // A batch's results are an array of similar values: the RECORDS encoding decodes them fastest.
    const batch = this.words[this.slots.word(slot, SlotField.BATCH)] !== 0;
    try {
      this.codec.store(slot, this.codec.encodeValue(outcome, state === SlotState.DONE ? 'result' : 'error', batch));
    } catch (encodeError) {
      this.storeUnencodable(slot, state, outcome, encodeError);
      state = SlotState.FAILED;
    }
    this.recordTimes(slot);
    const stateIndex = this.slots.word(slot, SlotField.STATE);
    const claimed = Atomics.load(this.words, stateIndex);
    Atomics.store(this.words, stateIndex, withState(claimed, this.index, state));
    this.words[this.countersBase + WorkerCounter.TASKS_RUN]++;
    this.ring.push(slot);
    this.ringMainThread();
  }

  /**
   * The outcome could not be encoded. A result that cannot cross threads fails the task with the
   * encoding error; an error that cannot (it holds a function, say) is reduced to its name, message,
   * stack and code.
   */
  private storeUnencodable(slot: number, state: number, outcome: unknown, encodeError: unknown): void {
    const batch = this.words[this.slots.word(slot, SlotField.BATCH)] !== 0;
    let index = -1;
    let failure = encodeError;
    if (state === SlotState.FAILED) {
      if (batch) [index, failure] = outcome as [number, unknown];
      else failure = outcome;
    }
    const error = plainError(failure);
    this.codec.store(slot, this.codec.encodeValue(batch ? [index, error] : error, 'error'));
  }

  /**
   * Stamps the slot with its finishing time (the main thread sizes its completion polling from it)
   * and folds the task's duration, any await included, into this worker's running average, which
   * producers use to decide whether a wake is worth it.
   */
  private recordTimes(slot: number): void {
    const finished = sharedNow();
    this.f64[this.slots.timeIndex(slot, SlotTime.FINISHED)] = finished;
    this.sleep.taskFinished(this.index, (finished - this.f64[this.slots.timeIndex(slot, SlotTime.STARTED)]) * 1e6);
  }

  /** Wakes the main thread if it waits for completions. */
  private ringMainThread(): void {
    const words = this.words;
    if (Atomics.load(words, Header.MAIN_PARKED) === 0) return;
    if (Atomics.exchange(words, Header.MAIN_PARKED, 0) === 0) return;
    Atomics.add(words, Header.MAIN_DOORBELL, 1);
    Atomics.notify(words, Header.MAIN_DOORBELL);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** An Error that certainly encodes: the name, message, stack and string code of the original. */
function plainError(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(safeString(error));
  const plain = new Error(String(error.message)) as Error & { code?: string };
  plain.name = String(error.name);
  plain.stack = String(error.stack);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') plain.code = code;
  return plain;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
