/**
 * The worker's scheduling loop: find work, run it (executor.ts), and when there is none, spin,
 * then sleep. Also the wait of code that forked work (`join`, `scope`, `broadcast`): it runs other
 * work while it waits, like Rayon's `wait_until`.
 *
 * Where work is looked for, in Rayon's order: the worker's own deque (newest first), its mailbox
 * (jobs addressed to it: broadcasts), one steal per other worker starting from a random victim
 * (repeated while any steal lost a race), and the injector last, highest priority first.
 *
 * Synchronous tasks run back to back inside one call of `pump`. An asynchronous task (one that
 * returns a promise) cannot settle while the worker sits in `Atomics.wait`, so while any is in
 * flight the worker returns to its event loop between tasks and parks with `Atomics.waitAsync`
 * instead; at most `asyncTasksPerWorker` are in flight, after which it takes no new work from the
 * injector until one settles.
 */
import type { BufferInbox } from './buffer-inbox.js';
import type { MessageCounts } from '../control/endpoint.js';
import type { WorkerConfig } from '../control/protocol.js';
import { SlotClaim } from '../queue/claim.js';
import { EMPTY, RETRY, type WorkQueue } from '../queue/work-queue.js';
import type { Mailbox } from '../queue/mailbox.js';
import { Header, PoolState, WorkerBlock, workerWord } from '../shm/layout.js';
import { WorkerCounter, WorkerCounters } from '../shm/worker-counters.js';
import type { SlotTable } from '../shm/slot.js';
import { BLOCKED, IdleState, PARK, type Sleep } from '../sync/sleep.js';
import type { Executor } from './executor.js';
import { stackHasRoom } from './stack-room.js';
import { LevelPicker } from '../queue/priority.js';

/** Longest synchronous park before the worker gives its event loop a turn anyway. */
const IDLE_TURN_MS = 100;
/** A park inside a wait re-checks its condition at least this often. */
const WAIT_PARK_MS = 100;

/**
 * Whether `process.getActiveResourcesInfo()` lists the timers that task code starts. Bun's (1.4)
 * returns an empty list whatever is pending: there the worker cannot tell whether its event loop
 * holds anything, so it always parks without blocking it (hasBackgroundWork), rather than freeze a
 * task's timers and sockets for up to IDLE_TURN_MS at a time.
 */
const RESOURCES_REPORTED = (() => {
  const probe = setTimeout(() => {}, 60_000);
  try {
    return process.getActiveResourcesInfo().includes('Timeout');
  } finally {
    clearTimeout(probe);
  }
})();

/** Everything the loop works with, built by the worker entry from the start-up config. */
export interface RuntimeParts {
  config: WorkerConfig;
  words: Int32Array;
  slots: SlotTable;
  sleep: Sleep;
  /** Every worker's deque, this worker's own at `config.index`. */
  deques: WorkQueue[];
  /** Every worker's mailbox, this worker's own at `config.index`. */
  mailboxes: Mailbox[];
  injectors: WorkQueue[];
  /** The control port's message counts (the `received` side is read). */
  controlMessages: MessageCounts;
  /** Shared-buffer announcements and releases from the main thread. */
  buffers: BufferInbox;
}

export class WorkerRuntime {
  readonly index: number;
  private readonly words: Int32Array;
  private readonly sleep: Sleep;
  readonly own: WorkQueue;
  /** This worker's claims on queue entries. */
  readonly claims: SlotClaim;
  /**
   * Its claims on injector entries, which may also be withdrawn calls (only the main thread's
   * calls sit in the injector, and only they can be withdrawn): their slots go back to the main
   * thread, which frees them.
   */
  private readonly injectedClaims: SlotClaim;
  private readonly mailbox: Mailbox;
  private readonly deques: WorkQueue[];
  private readonly injectors: WorkQueue[];
  /** Chooses the injector level to take from (priorities with a starvation bound). */
  private readonly levels = new LevelPicker();
  private readonly injectorHasWork = (level: number): boolean => !this.injectors[level].isEmpty();
  private readonly asyncLimit: number;
  /**
   * Work-while-waiting nests a task's frames inside the waiting one's; beyond this depth a waiting
   * worker stops taking work from others (it still runs what only it can run: its own deque and
   * mailbox), so that recursion through steals cannot overflow its stack.
   */
  private readonly maxWaitDepth: number;
  /** CONTROL_POSTED: how many control messages the main thread has posted to this worker. */
  private readonly controlWord: number;
  /** CONTROL_POSTED when the loop last returned to the event loop for a control message. */
  private controlSeen = 0;
  private readonly controlMessages: MessageCounts;
  private readonly buffers: BufferInbox;
  /** This worker's event counters (tasks run, steals, parks, ...). */
  readonly counters: WorkerCounters;
  private readonly loopStartedWord: number;
  /** Set once the executor exists (it needs the runtime's async hooks). */
  private executor!: Executor;
  private beforePark!: () => void;

  private readonly idle = new IdleState();
  /** The idle bookkeeping of each level of nested waits. */
  private readonly waitIdle: IdleState[] = [];
  /** Flagged SEARCHING in shared memory (looking for work, or parked). */
  private searching = false;
  /** Parked with waitAsync; the worker is registered as sleeping until woken or it cancels. */
  private parkedAsync = false;
  /** A waitAsync on the state word is outstanding (at most one at a time). */
  private waitAsyncPending = false;
  private pumping = false;
  private stopped = false;
  private asyncInFlight = 0;
  /** How many waits (join, scope, broadcast) are nested on this thread's stack. */
  private depth = 0;
  /** The deepest nesting of waits reached so far. */
  deepestWait = 0;
  private onStopped: (() => void) | undefined;

  constructor(parts: RuntimeParts) {
    const { config } = parts;
    this.index = config.index;
    this.words = parts.words;
    this.sleep = parts.sleep;
    this.deques = parts.deques;
    this.own = parts.deques[config.index];
    this.claims = new SlotClaim(parts.slots, config.index);
    this.injectedClaims = new SlotClaim(parts.slots, config.index, (slot) => this.executor.publishToMain(slot));
    this.mailbox = parts.mailboxes[config.index];
    this.injectors = parts.injectors;
    this.asyncLimit = config.asyncTasksPerWorker;
    this.maxWaitDepth = config.maxNestedWaits;
    this.controlWord = workerWord(config.layout, config.index, WorkerBlock.CONTROL_POSTED);
    this.controlMessages = parts.controlMessages;
    this.buffers = parts.buffers;
    this.controlSeen = Atomics.load(this.words, this.controlWord);
    this.counters = new WorkerCounters(parts.words, config.layout, config.index);
    this.loopStartedWord = workerWord(config.layout, config.index, WorkerBlock.LOOP_STARTED);
  }

  /** Starts taking work; `stopped` is called once the pool is stopping and the loop has ended. */
  /** `beforePark` runs each time the loop finds no work and is about to park. */
  start(executor: Executor, beforePark: () => void, stopped: () => void): void {
    this.executor = executor;
    this.beforePark = beforePark;
    this.onStopped = stopped;
    Atomics.store(this.words, this.loopStartedWord, 1);
    setImmediate(this.pump);
  }

  get asyncTasksInFlight(): number {
    return this.asyncInFlight;
  }

  /** For the executor: an asynchronous task started. */
  readonly asyncStarted = (): void => {
    this.asyncInFlight++;
  };

  /** For the executor: an asynchronous task settled; resume the loop if it was waiting for that. */
  readonly asyncSettled = (): void => {
    this.asyncInFlight--;
    this.pump();
  };

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
      const posted = Atomics.load(words, this.controlWord);
      if (posted !== this.controlSeen) {
        // A control message was posted: let the event loop deliver it, then resume. Node delivers
        // it in that turn; where it takes longer (Deno), the loop only parks without blocking the
        // event loop until it arrives (controlOutstanding).
        this.controlSeen = posted;
        this.stopSearching();
        setImmediate(this.pump);
        return;
      }
      // Releases and drops of shared buffers, and workers started since: read here, so that a busy
      // worker lets go of buffers too, and a new one gets what this one lends.
      if (this.buffers.behind()) this.buffers.catchUp();
      if (this.asyncInFlight >= this.asyncLimit) {
        // Busy with asynchronous tasks: resumed by the settlement of one of them.
        this.stopSearching();
        return;
      }
      const slot = this.findWork(true);
      if (slot >= 0) {
        this.stopSearching();
        this.executor.run(slot);
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
        this.beforePark();
        if (this.asyncInFlight > 0 || this.controlOutstanding() || this.hasBackgroundWork()) {
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
   * Waits until `done()` holds, running other work meanwhile (Rayon's "work while waiting"), from
   * synchronous task code that forked work. Parks like an idle worker when there is none; whoever
   * makes `done()` true wakes this worker after doing so.
   */
  waitUntil(done: () => boolean): void {
    if (done()) return;
    const depth = ++this.depth;
    if (depth > this.deepestWait) this.deepestWait = depth;
    this.waitIdle[depth] ??= new IdleState();
    const idle = this.waitIdle[depth];
    // Stolen work runs on top of the waiting task's frames. Past the bound, or when tasks that
    // recurse deeply left little stack (probed from the second nested wait on, where waits pile
    // up; the first is a task started from the loop), only this worker's own forks run here.
    const stealing = depth < this.maxWaitDepth && (depth < 2 || stackHasRoom());
    const attention = stealing ? () => done() || this.workVisible() : () => done() || this.ownWorkVisible();
    let searching = false;
    try {
      for (;;) {
        if (done()) return;
        // A worker started meanwhile may be waiting for what this one lends (buffer-inbox.ts).
        if (this.buffers.behind()) this.buffers.catchUp();
        const slot = this.findWork(stealing);
        if (slot >= 0) {
          if (searching) {
            searching = false;
            this.sleep.workFound(this.index, this.queuedJobs);
          }
          this.executor.run(slot);
          continue;
        }
        if (!searching) {
          this.sleep.startLooking(this.index, idle);
          searching = true;
          continue;
        }
        if (this.sleep.noWorkFound(idle, this.index, performance.now(), attention) === PARK) {
          this.countParked();
          this.sleep.parking(idle);
          const woken = this.sleep.parkSync(this.index, WAIT_PARK_MS) || !this.sleep.cancelSleep(this.index);
          this.sleep.wokeUp(idle, woken);
        }
      }
    } finally {
      if (searching) this.sleep.workFound(this.index, this.queuedJobs);
      this.depth--;
    }
  }

  /** Takes one job and runs it (yieldNow); returns whether there was one. */
  runOne(): boolean {
    const slot = this.findWork(this.depth < this.maxWaitDepth);
    if (slot < 0) return false;
    this.executor.run(slot);
    return true;
  }

  /**
   * Whether the event loop holds something that task code started: a timer, an immediate, a socket,
   * a file operation. Blocking in Atomics.wait would freeze it, so the worker parks with waitAsync
   * instead while there is. Message ports (the control channel, stdio) do not count: their messages
   * wait for the next event-loop turn, which a synchronous park gives every IDLE_TURN_MS anyway.
   */
  private hasBackgroundWork(): boolean {
    if (!RESOURCES_REPORTED) return true;
    const resources = process.getActiveResourcesInfo();
    for (let i = 0; i < resources.length; i++) if (resources[i] !== 'MessagePort') return true;
    return false;
  }

  /**
   * Whether control messages were posted that the port has not delivered yet. Deno delivered one
   * only after several event-loop turns: a synchronous park in between froze it for IDLE_TURN_MS
   * each time, so that a shared buffer took seconds to announce.
   */
  private controlOutstanding(): boolean {
    // Wraps with the word: a difference, not a comparison. Negative while the main thread has posted
    // but not yet stored the count.
    return ((Atomics.load(this.words, this.controlWord) - this.controlMessages.received) | 0) > 0;
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
    this.counters.increment(WorkerCounter.PARKS);
  }

  // ---- finding work --------------------------------------------------------------------------

  /**
   * Returns a slot this worker has claimed, or -1. Without `stealing` (a wait nested too deep) it
   * only looks at what no other worker can run for it: its own deque and mailbox.
   */
  private findWork(stealing: boolean): number {
    for (;;) {
      const entry = this.own.pop();
      if (entry === EMPTY) break;
      const slot = this.claims.claim(entry);
      if (slot >= 0) return slot;
    }
    const posted = this.mailbox.take(this.claims);
    if (posted >= 0) return posted;
    if (!stealing) return -1;
    const stolen = this.stealFromOthers();
    if (stolen >= 0) return stolen;
    // Work from outside may be asynchronous; past the limit it waits for an async task to settle.
    return this.asyncInFlight < this.asyncLimit ? this.takeInjected() : -1;
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
        this.counters.increment(WorkerCounter.STEAL_ATTEMPTS);
        const slot = this.deques[victim].steal(this.claims);
        if (slot >= 0) {
          this.counters.increment(WorkerCounter.STEALS);
          return slot;
        }
        // A lost race or a stale entry: the victim may hold live ones behind it.
        if (slot === RETRY) retry = true;
      }
      if (!retry) return -1;
    }
  }

  /** Takes work from the injector: the most urgent level first, within the starvation bound. */
  private takeInjected(): number {
    const first = this.levels.first(this.injectorHasWork);
    if (first < 0) return -1;
    let slot = this.takeFromLevel(first);
    // The chosen level may have been emptied by other workers meanwhile: any other will do.
    for (let level = 0; slot < 0 && level < this.injectors.length; level++) {
      if (level !== first) slot = this.takeFromLevel(level);
    }
    return slot;
  }

  private takeFromLevel(level: number): number {
    const injector = this.injectors[level];
    for (;;) {
      const slot = injector.steal(this.injectedClaims);
      if (slot === EMPTY) return -1;
      if (slot === RETRY) continue;
      this.counters.increment(WorkerCounter.INJECTOR_TAKES);
      this.levels.served(level, this.injectorHasWork);
      return slot;
    }
  }

  /**
   * The final check before sleeping. Besides queued work it covers every other reason the main
   * thread wakes a worker for — the pool stopping, a control message — because a wake only reaches
   * a worker whose state word is already BLOCKED: a reason set just before that would be lost.
   */
  private readonly needsAttention = (): boolean =>
    Atomics.load(this.words, this.controlWord) !== this.controlSeen ||
    this.buffers.behind() ||
    Atomics.load(this.words, Header.POOL_STATE) !== PoolState.RUNNING ||
    this.workVisible();

  /** How many jobs wait in the injector and the deques (a snapshot). */
  private readonly queuedJobs = (): number => {
    let queued = 0;
    for (let i = 0; i < this.injectors.length; i++) queued += this.injectors[i].size();
    for (let i = 0; i < this.deques.length; i++) queued += this.deques[i].size();
    return queued;
  };

  /** Is anything queued anywhere this worker may take it from? */
  private readonly workVisible = (): boolean => {
    if (this.ownWorkVisible()) return true;
    for (let i = 0; i < this.injectors.length; i++) if (!this.injectors[i].isEmpty()) return true;
    for (let i = 0; i < this.deques.length; i++) if (!this.deques[i].isEmpty()) return true;
    return false;
  };

  private ownWorkVisible(): boolean {
    return !this.own.isEmpty() || this.mailbox.hasEntries();
  }
}
