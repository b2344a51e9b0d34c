/**
 * The main thread's half of the data plane: the shared buffer and arenas, the views and queues over
 * them, the dispatcher and the completion watcher; and spawning and starting workers over them.
 */
import { MessageChannel } from 'node:worker_threads';
import { transfer } from 'comlink';
import { PayloadCodec } from '../codec/payload.js';
import type { PeerPort, StartReport, WorkerConfig } from '../control/protocol.js';
import { StartTimeoutError, type WorkerCrashedError } from '../errors.js';
import { Arena, ArenaAllocator, MAX_ARENA_BYTES, createArenaBuffer } from '../shm/arena.js';
import { Header, type Layout, MAGIC, PoolState, WorkerBlock, computeLayout, nextPowerOfTwo, workerWord } from '../shm/layout.js';
import { SlotTable } from '../shm/slot.js';
import type { WorkQueue } from '../queue/work-queue.js';
import { type SharedViews, sharedViews } from '../shm/views.js';
import type { Mailbox } from '../queue/mailbox.js';
import { type QueueChoice, completionRing, injectorLevels, workerDeque, workerMailbox } from '../queue/open.js';
import { Sleep } from '../sync/sleep.js';
import { startTimer } from '../time/timer.js';
import { WorkerCounter, WorkerCounters } from '../shm/worker-counters.js';
import { CompletionWatcher } from './completion-watcher.js';
import { Dispatcher } from './dispatcher.js';
import type { WorkLook } from './growth.js';
import { KeepAlive } from './keep-alive.js';
import { TaskEvents } from './task-events.js';
import type { ThreadPoolSettings } from './options.js';
import { CallRecorder, type StatisticsSources } from './statistics.js';
import { WorkerHost } from './worker-host.js';

const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url);
/** Jobs addressed to one worker at once (broadcasts in flight). */
const MAILBOX_CAPACITY = 64;

/** Owns everything the main thread shares with the workers; ThreadPool is its public face. */
export class DataPlane {
  readonly layout: Layout;
  readonly shared: SharedArrayBuffer;
  readonly arenaBuffers: SharedArrayBuffer[];
  readonly views: SharedViews;
  readonly codec: PayloadCodec;
  readonly sleep: Sleep;
  readonly dispatcher: Dispatcher;
  /** The workers' event ports: what tasks emit, for the listeners of their calls. */
  readonly events: TaskEvents;
  private readonly injectors: WorkQueue[];
  /** Every index's mailbox; its count also says whether a worker is at that index (elastic pools). */
  private readonly mailboxes: Mailbox[] = [];
  private readonly queues: QueueChoice;
  readonly keepAlive = new KeepAlive();
  private readonly watcher: CompletionWatcher;
  /** Whether the keep-alive is held for calls in flight. */
  private holdingProcess = false;
  /** The main thread's view of each worker's deque and counters, for the growth of an elastic pool. */
  private readonly deques: WorkQueue[];
  private readonly counters: WorkerCounters[];
  onIdle: () => void = () => {};
  /** After every submission: an elastic pool checks whether it must grow (growth.ts). */
  onSubmitted: (() => void) | undefined;

  constructor(private readonly options: ThreadPoolSettings) {
    this.layout = computeLayout({
      threads: options.threads,
      slots: options.maxPendingTasks,
      nestedSlots: options.nestedTasksPerWorker,
      inlinePayloadBytes: options.inlinePayloadBytes,
      // Room for every task of the region plus one stale entry per worker that could die between
      // claiming a task and removing its entry: a successor re-queuing lost tasks always fits.
      dequeCapacity: nextPowerOfTwo(options.nestedTasksPerWorker + options.threads),
      mailboxCapacity: MAILBOX_CAPACITY,
    });
    this.shared = new SharedArrayBuffer(this.layout.totalBytes);
    this.views = sharedViews(this.shared);
    const words = this.views.words;
    words[Header.MAGIC] = MAGIC;
    words[Header.THREADS] = options.threads;
    words[Header.SLOTS] = options.maxPendingTasks;
    words[Header.PRESENT_WORKERS] = options.minThreads;
    this.arenaBuffers = [];
    for (let i = 0; i <= options.threads; i++) this.arenaBuffers.push(createArenaBuffer(MAX_ARENA_BYTES));
    const arenas = this.arenaBuffers.map((buffer) => new Arena(buffer));
    const slots = new SlotTable(words, this.layout);
    this.codec = new PayloadCodec(this.views, slots, arenas, new ArenaAllocator(arenas[0]), 0, options.maxPayloadBytes);
    this.sleep = new Sleep(words, this.layout, options.spinMicros);
    const rings = [];
    const mailboxes = this.mailboxes;
    for (let i = 0; i < options.threads; i++) {
      rings.push(completionRing(words, this.layout, i, 'consumer'));
      mailboxes.push(workerMailbox(words, this.layout, i));
    }
    // An elastic pool starts fewer workers than it has room for; broadcasts skip the others.
    for (let i = options.minThreads; i < options.threads; i++) this.vacate(i);
    this.queues = { backend: options.queue, claims: slots };
    this.injectors = injectorLevels(words, this.layout, this.queues);
    this.events = new TaskEvents(words, this.layout);
    this.deques = Array.from({ length: this.layout.threads }, (_, i) => workerDeque(words, this.layout, i, this.queues));
    this.counters = Array.from({ length: this.layout.threads }, (_, i) => new WorkerCounters(words, this.layout, i));
    this.dispatcher = new Dispatcher(
      slots,
      this.layout,
      this.codec,
      this.injectors,
      mailboxes,
      rings,
      this.sleep,
      () => this.submitted(),
      options.statistics ? new CallRecorder() : undefined,
      this.events,
    );
    this.watcher = new CompletionWatcher(
      words,
      () => {
        this.events.deliverPosted();
        this.dispatcher.drain();
      },
      () => this.dispatcher.hasCompletions(),
      () => this.dispatcher.completed,
      () => this.dispatcher.lastFinishedAt,
      () => this.stillBusy(),
      () => this.sleep.wakesIssued,
    );
  }

  get stopping(): boolean {
    return Atomics.load(this.views.words, Header.POOL_STATE) === PoolState.STOPPING;
  }

  /** What `ThreadPool.statistics()` reads, all but the calls in flight, which the pool counts. */
  statisticsSources(): Omit<StatisticsSources, 'inFlight'> {
    return {
      words: this.views.words,
      layout: this.layout,
      sleep: this.sleep,
      injectors: this.injectors,
      deques: this.deques,
      slots: new SlotTable(this.views.words, this.layout),
      waitingAt: (level) => this.dispatcher.waitingAt(level),
      recorder: this.dispatcher.recorder,
      present: (index) => this.present(index),
    };
  }

  /** Whether a worker is at `index`: started, or being started (an elastic pool's may vary). */
  present(index: number): boolean {
    return this.mailboxes[index].present();
  }

  /** What the growth of an elastic pool looks at: queued work and idle workers. */
  look(): WorkLook {
    let injected = 0;
    for (const injector of this.injectors) injected += injector.size();
    let taken = 0;
    let forked = 0;
    let idle = false;
    for (let i = 0; i < this.deques.length; i++) {
      // Counters of workers gone stay in their block: the sum never goes back.
      taken += this.counters[i].read(WorkerCounter.INJECTOR_TAKES);
      if (!this.present(i)) continue;
      forked += this.deques[i].size();
      // One still starting (a replacement, say) takes work soon, as an idle one would.
      if (this.sleep.isSearching(i) || !this.loopStarted(i)) idle = true;
    }
    return { injected, taken, forked, idle, at: performance.now() };
  }

  /** A worker is about to start at `index`, where none was: broadcasts reach it from now on. */
  markPresent(index: number): void {
    Atomics.add(this.views.words, Header.PRESENT_WORKERS, 1);
    this.mailboxes[index].markPresent();
    this.sleep.occupied(index);
  }

  /**
   * A worker died before its loop started and is not replaced: it leaves the count of present
   * workers that retirements keep at `minThreads` or above. Its index stays taken.
   */
  diedAtBirth(): void {
    Atomics.sub(this.views.words, Header.PRESENT_WORKERS, 1);
  }

  /**
   * No worker is at `index`: the pool has not started one there (the mailbox is marked absent
   * here), or its worker retired (it marked the mailbox itself). Its absence counts as idle time.
   */
  vacate(index: number): void {
    if (this.mailboxes[index].present()) this.mailboxes[index].markAbsent();
    this.sleep.vacated(index);
  }

  spawn(index: number): WorkerHost {
    const { options } = this;
    // A new thread's port has delivered nothing yet: the count starts again with its host's. And
    // its loop has not started.
    Atomics.store(this.views.words, workerWord(this.layout, index, WorkerBlock.CONTROL_POSTED), 0);
    Atomics.store(this.views.words, workerWord(this.layout, index, WorkerBlock.LOOP_STARTED), 0);
    return new WorkerHost({
      entry: WORKER_ENTRY,
      index,
      name: options.names[index],
      resourceLimits: options.resourceLimits,
      execArgv: options.execArgv,
      env: options.env,
      workerData: options.workerData,
      keepAlive: this.keepAlive,
      nudge: (worker, posted) => this.nudge(worker, posted),
      bufferPosted: (worker, wake) => {
        const word = workerWord(this.layout, worker, WorkerBlock.BUFFER_MESSAGES);
        Atomics.add(this.views.words, word, 1);
        // A worker waiting for the answer to a pull (codec/held-transfers.ts) waits on this word.
        Atomics.notify(this.views.words, word);
        if (wake) this.sleep.wake(worker);
      },
    });
  }

  /**
   * Starts `host`'s worker, which knows `sharedBuffers` from the start and gets a port to each of
   * `others` that reads buffers (they get the other end on their buffer port).
   */
  start(host: WorkerHost, sharedBuffers: [number, SharedArrayBuffer][], others: readonly WorkerHost[]): Promise<StartReport> {
    const { options } = this;
    const bufferPort = host.openBufferPort();
    const peers = introduce(host, others);
    const eventPort = this.events.open(host.index);
    const config: WorkerConfig = {
      index: host.index,
      name: host.name,
      layout: this.layout,
      shared: this.shared,
      arenas: this.arenaBuffers,
      preload: options.preload,
      moduleUrl: options.moduleUrl,
      startHandler: options.startHandler,
      exitHandler: options.exitHandler,
      spinMicros: options.spinMicros,
      queue: options.queue,
      pinCpu: options.pinCpus?.[host.index],
      maxPayloadBytes: options.maxPayloadBytes,
      asyncTasksPerWorker: options.asyncTasksPerWorker,
      maxNestedWaits: options.maxNestedWaits,
      minThreads: options.minThreads,
      idleTimeoutMs: options.idleTimeoutMs,
      sharedBuffers,
      bufferPort,
      bufferOrigin: host.bufferOrigin,
      peers,
      eventPort,
    };
    const started = host.call((control) => control.init(transfer(config, [bufferPort, eventPort, ...peers.map((peer) => peer.port)])));
    if (options.startTimeoutMs === Infinity) return started;
    return new Promise((resolve, reject) => {
      // The init call holds the process open meanwhile (WorkerHost.call); the timer need not.
      const timer = startTimer(
        options.startTimeoutMs,
        () => {
          reject(new StartTimeoutError(options.moduleUrl, host.name, options.startTimeoutMs));
          void host.terminate();
        },
        { keepsProcessAlive: false },
      );
      started.then(resolve, reject).finally(() => timer.cancel());
    });
  }

  /** Settles what a dead worker finished or was running; returns how many calls it failed. */
  recoverFrom(worker: number, crash: WorkerCrashedError): number {
    this.sleep.forgetWorker(worker);
    const abandoned = this.dispatcher.recoverFrom(worker, crash);
    // The dead worker may have taken the main thread's doorbell (cleared MAIN_PARKED) and died
    // before ringing it: no other worker rings a doorbell nobody seems to wait on, so the watcher
    // would stay parked while completions pile up. Bun's terminate() lands there often.
    if (this.stillBusy()) this.watcher.release();
    return abandoned;
  }

  /**
   * Whether worker `index`'s loop started (it loaded the task module and may have taken work), as
   * the worker itself recorded it: its report over the control plane may not have arrived yet.
   */
  loopStarted(index: number): boolean {
    return Atomics.load(this.views.words, workerWord(this.layout, index, WorkerBlock.LOOP_STARTED)) === 1;
  }

  private nudge(worker: number, posted: number): void {
    Atomics.store(this.views.words, workerWord(this.layout, worker, WorkerBlock.CONTROL_POSTED), posted);
    this.sleep.wake(worker);
  }

  private submitted(): void {
    if (!this.holdingProcess) {
      this.holdingProcess = true;
      this.keepAlive.acquire();
    }
    this.watcher.wake();
    this.onSubmitted?.();
  }

  /** Whether calls are outstanding; lets go of the process when none are. */
  private stillBusy(): boolean {
    if (this.dispatcher.outstanding > 0) return true;
    if (this.holdingProcess) {
      this.holdingProcess = false;
      this.keepAlive.release();
    }
    this.onIdle();
    return false;
  }

  dispose(): void {
    this.events.closeAll();
    this.watcher.release();
    this.keepAlive.dispose();
  }
}

/** A channel between `host` and each of `others` that reads buffers: `host`'s ends are returned. */
function introduce(host: WorkerHost, others: readonly WorkerHost[]): PeerPort[] {
  const peers: PeerPort[] = [];
  for (const other of others) {
    if (other === host || !other.readsBuffers) continue;
    const { port1, port2 } = new MessageChannel();
    other.postBuffers({ peer: { origin: host.bufferOrigin, index: host.index, name: host.name, port: port2 } }, [port2]);
    peers.push({ origin: other.bufferOrigin, index: other.index, name: other.name, port: port1 });
  }
  return peers;
}
