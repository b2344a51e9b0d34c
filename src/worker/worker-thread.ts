/**
 * The worker: the one object that owns a worker thread. It runs the scheduling loop — find work
 * (work-finder.ts), run it (executor.ts), and when there is none, spin, then sleep — and is what
 * code that forked work waits in (`join`, `scope`, `broadcast`: join.ts, scope.ts): it runs other
 * work while it waits, like Rayon's `wait_until`. It also holds the thread's fork side, which those
 * functions work with.
 *
 * Synchronous tasks run back to back inside one call of `pump`. An asynchronous task (one that
 * returns a promise) cannot settle while the worker sits in `Atomics.wait`, so while any is in
 * flight the worker returns to its event loop between tasks and parks with `Atomics.waitAsync`
 * instead; at most `asyncTasksPerWorker` are in flight, after which it takes no new work from the
 * injector until one settles.
 */
import type { MessageCounts } from '../control/endpoint.js';
import type { WorkerConfig } from '../control/protocol.js';
import { PAR_ITER_TASK, ParIterRunner } from '../iter/runner.js';
import { SORT_TASK, SORT_TASK_OFFSET, SortRunner } from '../sort/runner.js';
import { EMPTY } from '../queue/work-queue.js';
import { Header, PoolState, WorkerBlock, workerWord } from '../shm/layout.js';
import { WorkerCounter, type WorkerCounters } from '../shm/worker-counters.js';
import { BLOCKED, IdleState, PARK, type Sleep } from '../sync/sleep.js';
import type { BufferInbox } from './buffer-inbox.js';
import { EventLoopWatch } from './event-loop-watch.js';
import type { Cancellation } from './cancellation.js';
import { Executor, type ExecutorParts } from './executor.js';
import type { FifoLanes } from './fifo-lanes.js';
import type { ForkedTasks } from './forked-tasks.js';
import type { RunningTasks } from './running-tasks.js';
import type { ScopeRecords } from './scope-records.js';
import type { VisibleScopes } from './scope.js';
import { stackHasRoom } from './stack-room.js';
import { type TaskFunction, TaskTable } from './task-table.js';
import type { WorkFinder } from './work-finder.js';
import { Retirement } from './retirement.js';

/** Longest synchronous park before the worker gives its event loop a turn anyway. */
const IDLE_TURN_MS = 100;
/** A park inside a wait re-checks its condition at least this often. */
const WAIT_PARK_MS = 100;

/** What the worker is built from, all built before it by the worker entry. */
export interface WorkerThreadParts {
  config: WorkerConfig;
  /**
   * What its executor needs besides the tasks and the worker's accounting of asynchronous ones;
   * the worker uses some of it too.
   */
  execution: Omit<ExecutorParts, 'tasks' | 'asyncTasks' | 'fifo'>;
  finder: WorkFinder;
  visible: VisibleScopes;
  forked: ForkedTasks;
  /** The task module's exported functions, and their names, by task id. */
  exported: TaskFunction[];
  names: string[];
  /** The control port's message counts (the `received` side is read). */
  controlMessages: MessageCounts;
  /** Shared-buffer announcements and releases from the main thread. */
  buffers: BufferInbox;
  /** Called once the pool is stopping and the loop has ended. */
  onStopped: () => void;
  /** Called once the worker retired (an elastic pool): the loop has ended for good. */
  onRetired: () => void;
}

export class WorkerThread {
  readonly index: number;
  /** The slots whose tasks run on this thread's stack. */
  readonly running: RunningTasks;
  readonly cancellation: Cancellation;
  /** The records of the scopes this worker opens and the scopes its tasks count into. */
  readonly scopes: ScopeRecords;
  /** Which scope the code running here is part of. */
  readonly visible: VisibleScopes;
  /** The work this worker forks. */
  readonly forked: ForkedTasks;
  /** Every worker's FIFO lanes: where this worker's `spawnFifo` jobs wait. */
  readonly fifo: FifoLanes;
  readonly tasks: TaskTable;
  /** Runs the parallel iterators of task code on this worker, and their pieces. */
  readonly pieces: ParIterRunner;
  /** Runs the parallel sorts of task code on this worker, and their pieces. */
  readonly sorts: SortRunner;
  /** This worker's event counters (tasks run, steals, parks, ...). */
  readonly counters: WorkerCounters;
  private readonly executor: Executor;
  private readonly finder: WorkFinder;
  private readonly words: Int32Array;
  private readonly sleep: Sleep;
  private readonly asyncLimit: number;
  /**
   * Work-while-waiting nests a task's frames inside the waiting one's; beyond this depth a waiting
   * worker stops taking work from others (it still runs what only it can run: its own deque and
   * mailbox), so that recursion through steals cannot overflow its stack.
   */
  private readonly maxWaitDepth: number;
  private readonly eventLoop: EventLoopWatch;
  private readonly buffers: BufferInbox;
  private readonly loopStartedWord: number;
  private readonly onStopped: () => void;
  private readonly onRetired: () => void;
  /** When an idle worker of an elastic pool may leave. */
  private readonly retirement: Retirement;

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

  constructor(parts: WorkerThreadParts) {
    const { config, execution } = parts;
    this.index = config.index;
    this.running = execution.running;
    this.cancellation = execution.cancellation;
    this.scopes = execution.scopes;
    this.visible = parts.visible;
    this.forked = parts.forked;
    this.fifo = parts.finder.fifo;
    this.counters = execution.counters;
    this.finder = parts.finder;
    this.words = execution.slots.words;
    this.sleep = execution.sleep;
    this.asyncLimit = config.asyncTasksPerWorker;
    this.maxWaitDepth = config.maxNestedWaits;
    this.eventLoop = new EventLoopWatch(this.words, config.layout, config.index, parts.controlMessages);
    this.buffers = parts.buffers;
    this.loopStartedWord = workerWord(config.layout, config.index, WorkerBlock.LOOP_STARTED);
    this.onStopped = parts.onStopped;
    this.onRetired = parts.onRetired;
    this.retirement = new Retirement(this.words, config);
    const { exported } = parts;
    // Pieces of parallel iterators split with this worker's join: the runner works over the worker.
    this.pieces = new ParIterRunner(this, { codec: execution.codec, exported, pieceTask: exported.length, threads: config.layout.threads });
    const sortTask = exported.length + SORT_TASK_OFFSET;
    this.sorts = new SortRunner(this, { codec: execution.codec, exported, sortTask, threads: config.layout.threads });
    // Built-in tasks follow the module's: their ids are known to the main thread the same way.
    this.tasks = new TaskTable(exported, parts.names, [
      [PAR_ITER_TASK, this.pieces.task],
      [SORT_TASK, this.sorts.task],
    ]);
    this.executor = new Executor({ ...execution, tasks: this.tasks, asyncTasks: this.asyncTasks, fifo: parts.finder.fifo });
  }

  /** Starts taking work. */
  start(): void {
    Atomics.store(this.words, this.loopStartedWord, 1);
    setImmediate(this.pump);
  }

  get asyncTasksInFlight(): number {
    return this.asyncInFlight;
  }

  /** For the executor: counts the asynchronous tasks in flight, and resumes the loop as one settles. */
  private readonly asyncTasks = {
    started: (): void => {
      this.asyncInFlight++;
    },
    settled: (): void => {
      this.asyncInFlight--;
      this.pump();
    },
  };

  /** Runs the loop until it must return to the event loop. Never re-entered. */
  private readonly pump = (): void => {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    try {
      if (this.parkedAsync) {
        this.parkedAsync = false;
        const woken = !this.sleep.cancelSleep(this.index);
        this.sleep.wokeUp(this.idle, woken);
        if (!woken && this.retirement.due(performance.now())) {
          this.stopSearching();
          if (this.retire()) return;
        }
      }
      this.loop();
    } finally {
      this.pumping = false;
    }
  };

  private loop(): void {
    const words = this.words;
    for (;;) {
      if (this.eventLoop.takeControlPosted()) {
        // A control message was posted: let the event loop deliver it, then resume. Node delivers
        // it in that turn; where it takes longer (Deno), the loop only parks without blocking the
        // event loop until it arrives (EventLoopWatch.mustNotBlock).
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
        this.retirement.busy();
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
        this.retirement.idle(performance.now());
        continue;
      }
      if (this.sleep.noWorkFound(this.idle, this.index, performance.now(), this.needsAttention) === PARK) {
        // An idle worker lets go of what its finished spawns lent to the others.
        this.forked.nested.returnLent();
        if (this.asyncInFlight > 0 || this.eventLoop.mustNotBlock()) {
          this.parkAsync();
          return;
        }
        this.countParked();
        this.sleep.parking(this.idle);
        const parkMs = this.retirement.parkMs(IDLE_TURN_MS, performance.now());
        const woken = this.sleep.parkSync(this.index, parkMs) || !this.sleep.cancelSleep(this.index);
        this.sleep.wokeUp(this.idle, woken);
        if (!woken) {
          // Nobody needed us for a while: retire (elastic pools), or give the event loop a turn
          // (unref'd timers and anything else it holds), then look for work again.
          this.stopSearching();
          if (this.retirement.due(performance.now()) && this.retire()) return;
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
    const { finder } = this;
    const attention = stealing ? () => done() || finder.workVisible() : () => done() || finder.ownWorkVisible();
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
            this.sleep.workFound(this.index, finder.queuedJobs);
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
      if (searching) this.sleep.workFound(this.index, finder.queuedJobs);
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
   * Pops this worker's deque back down to `entry`, running whatever else it finds above it. Returns
   * true if it got `entry` back (the caller runs that task itself), false if a thief took it.
   */
  takeBack(entry: number): boolean {
    const { own, claims } = this.finder;
    for (;;) {
      const popped = own.pop();
      if (popped === EMPTY) return false;
      // A thief claims before it removes the entry, so popping ours is not yet owning it: the claim
      // decides (a failed one means a thief has it).
      const slot = claims.claim(popped);
      if (popped === entry) return slot >= 0;
      if (slot >= 0) this.executor.run(slot);
    }
  }

  /** Work from outside may be asynchronous; past the limit it waits for an async task to settle. */
  private findWork(stealing: boolean): number {
    return this.finder.find(stealing, this.asyncInFlight < this.asyncLimit);
  }

  private stopSearching(): void {
    if (!this.searching) return;
    this.searching = false;
    this.sleep.workFound(this.index, this.finder.queuedJobs);
  }

  private stop(): void {
    this.stopped = true;
    this.onStopped();
  }

  /** Leaves the pool for good if Retirement lets it; called with no task or wait on the stack. */
  private retire(): boolean {
    if (!this.retirement.tryRetire(this.owns, this.needsAttention)) return false;
    this.stopped = true;
    this.onRetired();
    return true;
  }

  /** Work this worker holds (Retirement.tryRetire). */
  private readonly owns = (): boolean => this.asyncInFlight > 0 || this.finder.ownWorkVisible() || !this.forked.nested.ownsNothing();

  /** Parks without blocking the event loop, so that in-flight async tasks can settle. */
  private parkAsync(): void {
    this.parkedAsync = true;
    this.countParked();
    this.sleep.parking(this.idle);
    if (this.waitAsyncPending) return; // the outstanding waiter is woken by the same notify
    // With no task in flight, an elastic pool's worker wakes by itself when it may retire.
    const timeout = this.asyncInFlight > 0 ? Infinity : this.retirement.asyncParkMs(IDLE_TURN_MS, performance.now());
    const result = Atomics.waitAsync(this.words, this.sleep.stateWord(this.index), BLOCKED, timeout);
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

  /**
   * The final check before sleeping. Besides queued work it covers every other reason the main
   * thread wakes a worker for — the pool stopping, a control message — because a wake only reaches
   * a worker whose state word is already BLOCKED: a reason set just before that would be lost.
   */
  private readonly needsAttention = (): boolean =>
    this.eventLoop.controlPending() ||
    this.buffers.behind() ||
    Atomics.load(this.words, Header.POOL_STATE) !== PoolState.RUNNING ||
    this.finder.workVisible();
}
