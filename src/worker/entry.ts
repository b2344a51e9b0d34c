/**
 * Entry point of every worker thread. It serves the control plane (Comlink over the parent port)
 * and, once `init` handed over the shared memory, runs the scheduling loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { type MessageCounts, countingEndpoint } from '../control/endpoint.js';
import { installErrorTransfer } from '../control/error-transfer.js';
import { loopsCompiled } from '../iter/loop.js';
import type { StartReport, WorkerBootData, WorkerConfig, WorkerControl, WorkerSnapshot } from '../control/protocol.js';
import { ThreadPoolError, messageOf } from '../errors.js';
import { Arena, ArenaAllocator } from '../shm/arena.js';
import { WorkerBlock, nestedSlotBase, workerWord } from '../shm/layout.js';
import { WorkerCounter, WorkerCounters } from '../shm/worker-counters.js';
import { SlotTable } from '../shm/slot.js';
import { sharedViews } from '../shm/views.js';
import { completionRing, injectorLevels, workerDeque, workerFifoLanes, workerMailbox } from '../queue/open.js';
import { nativeAddon } from '../native/addon.js';
import { Sleep } from '../sync/sleep.js';
import { BufferInbox } from './buffer-inbox.js';
import { Cancellation } from './cancellation.js';
import { setCancellation, setForkJoin, setTaskEvents, setWorkerIdentity } from './context.js';
import { forkJoinOperations } from './fork-join.js';
import { ForkedTasks } from './forked-tasks.js';
import { MainCompletions } from './main-completions.js';
import { NestedSlots } from './nested-slots.js';
import { RunningTasks } from './running-tasks.js';
import { ScopeRecords } from './scope-records.js';
import { TaskEvents } from './task-events.js';
import { VisibleScopes } from './scope.js';
import type { TaskFunction } from './task-table.js';
import { WorkFinder } from './work-finder.js';
import { WorkerThread } from './worker-thread.js';
import { setWorkerData } from './worker-data.js';

const boot = workerData as WorkerBootData;
setWorkerData(boot.data);
let thread: WorkerThread | undefined;
let taskModule: Record<string, unknown> = {};
let exitHandler: string | undefined;
let buffers: BufferInbox;
/** Settled when the loop has seen the pool stop (Promise.withResolvers is missing in Node 20). */
const stopped = resolvers<void>();

async function importModule(what: string, url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const reason = messageOf(error);
    throw new ThreadPoolError(`${what} ${url} failed to load on ${boot.name}: ${reason}`, { cause: error });
  }
}

async function runHandler(kind: string, name: string): Promise<void> {
  const handler = taskModule[name];
  if (typeof handler !== 'function') {
    throw new ThreadPoolError(`${kind} "${name}" is not a function exported by the task module`);
  }
  try {
    await handler(boot.index);
  } catch (error) {
    const reason = messageOf(error);
    throw new ThreadPoolError(`${kind} "${name}" failed on ${boot.name}: ${reason}`, { cause: error });
  }
}

/**
 * Builds the worker over the shared memory, each part after what it needs: the shared views, the
 * queues, what runs and forks tasks, then the worker that owns them and the thread.
 */
function buildWorker(config: WorkerConfig, names: string[]): WorkerThread {
  const { layout, index } = config;
  const views = sharedViews(config.shared);
  const words = views.words;
  const slots = new SlotTable(words, layout);
  const arenas = config.arenas.map((buffer) => new Arena(buffer));
  const ownArena = 1 + index;
  const codec = new PayloadCodec(views, slots, arenas, new ArenaAllocator(arenas[ownArena]), ownArena, config.maxPayloadBytes);
  const sleep = new Sleep(words, layout, config.spinMicros);
  const counters = new WorkerCounters(words, layout, index);
  const queues = { backend: config.queue, claims: slots };
  const deques = [];
  const mailboxes = [];
  const lanes = [];
  for (let i = 0; i < layout.threads; i++) {
    deques.push(workerDeque(words, layout, i, queues));
    mailboxes.push(workerMailbox(words, layout, i));
    lanes.push(workerFifoLanes(words, layout, i, queues));
  }
  const completions = new MainCompletions(words, completionRing(words, layout, index, 'producer'));
  const finder = new WorkFinder(
    index,
    slots,
    deques,
    mailboxes,
    lanes,
    injectorLevels(words, layout, queues),
    counters,
    completions.publish,
  );
  const nested = new NestedSlots(slots, codec, nestedSlotBase(layout, index), layout.nestedSlots);
  nested.requeueLost(deques[index], mailboxes, finder.fifo);
  const running = new RunningTasks();
  const cancellation = new Cancellation(words, slots, running);
  const scopes = new ScopeRecords(slots, layout, codec, index, (other) => sleep.wake(other), completions.publish);
  const undelivered = workerWord(layout, index, WorkerBlock.EVENTS_UNDELIVERED);
  const events = new TaskEvents(words, slots, codec, running, config.eventPort, undelivered, completions.wakeMain);
  const worker = new WorkerThread({
    config,
    execution: { index, layout, slots, codec, sleep, running, cancellation, scopes, completions, counters, events },
    finder,
    visible: new VisibleScopes(running, slots),
    forked: new ForkedTasks(slots, codec, nested, deques[index], mailboxes, sleep, running, events.rootOutsideTasks),
    exported: names.map((name) => taskModule[name] as TaskFunction),
    names,
    controlMessages,
    buffers,
    onStopped: () => stopped.resolve(),
    onRetired: () => void retire(),
  });
  setForkJoin(forkJoinOperations(worker));
  setCancellation(cancellation);
  setTaskEvents(events.emit);
  worker.start();
  return worker;
}

/**
 * The loop retired (an elastic pool's idle worker): the exit handler runs, then the thread ends.
 * The main thread reads the mark the worker left on its mailbox and takes the exit as a retirement;
 * an exit handler that throws ends the thread with that error, which it reports.
 */
async function retire(): Promise<void> {
  if (exitHandler !== undefined) await runHandler('exitHandler', exitHandler);
  process.exit(0);
}

/** What the control port carried: the loop keeps its event loop free while messages are on the way. */
const controlMessages: MessageCounts = { sent: 0, received: 0 };

const control: WorkerControl = {
  async init(config: WorkerConfig): Promise<StartReport> {
    setWorkerIdentity({ index: config.index, name: config.name, numThreads: config.layout.threads });
    buffers = receiveSharedBuffers(config);
    for (const preload of config.preload) await importModule('the preload module', preload);
    taskModule = await importModule('the task module', config.moduleUrl);
    const names = Object.keys(taskModule)
      .filter((name) => typeof taskModule[name] === 'function')
      .sort();
    exitHandler = config.exitHandler;
    if (config.startHandler !== undefined) await runHandler('startHandler', config.startHandler);
    if (config.pinCpu !== undefined) nativeAddon('thread pinning').pinThread(config.pinCpu);
    thread = buildWorker(config, names);
    return { tasks: names };
  },

  ping(): number {
    return boot.index;
  },

  snapshot(): WorkerSnapshot {
    return {
      index: boot.index,
      name: boot.name,
      tasksRun: thread?.counters.read(WorkerCounter.TASKS_RUN) ?? 0,
      steals: thread?.counters.read(WorkerCounter.STEALS) ?? 0,
      injectorTakes: thread?.counters.read(WorkerCounter.INJECTOR_TAKES) ?? 0,
      parks: thread?.counters.read(WorkerCounter.PARKS) ?? 0,
      deepestWait: thread?.deepestWait ?? 0,
      asyncInFlight: thread?.asyncTasksInFlight ?? 0,
      loopsCompiled: loopsCompiled(),
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  },

  async shutdown(): Promise<void> {
    if (thread !== undefined) await stopped.promise;
    if (exitHandler !== undefined) await runHandler('exitHandler', exitHandler);
  },
};

/**
 * Knows the buffers the pool announced so far and the workers started before this one, and reads
 * the rest off the buffer ports.
 */
function receiveSharedBuffers(config: WorkerConfig): BufferInbox {
  const words = new Int32Array(config.shared);
  const wordOf = (index: number): number => workerWord(config.layout, index, WorkerBlock.BUFFER_MESSAGES);
  const inbox = new BufferInbox(config.bufferPort, words, wordOf, config.index, config.peers);
  for (const [id, buffer] of config.sharedBuffers) sharedBuffers.remember(id, buffer);
  sharedBuffers.useAnnouncedIdsOnly(inbox.receiveNext);
  sharedBuffers.passed.becomeWorker(config.index, config.bufferOrigin, inbox, inbox.readMainThread);
  // Workers started in the same turn as this one were introduced on its port already.
  inbox.catchUp();
  return inbox;
}

function resolvers<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

installErrorTransfer();
expose(control, countingEndpoint(parentPort!, controlMessages));
