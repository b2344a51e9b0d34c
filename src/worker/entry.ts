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
import type { StartReport, WorkerBootData, WorkerConfig, WorkerControl, WorkerSnapshot } from '../control/protocol.js';
import { ThreadPoolError, messageOf } from '../errors.js';
import { Arena, ArenaAllocator } from '../shm/arena.js';
import { WorkerBlock, nestedSlotBase, workerWord } from '../shm/layout.js';
import { WorkerCounter } from '../shm/worker-counters.js';
import { SlotTable } from '../shm/slot.js';
import { sharedViews } from '../shm/views.js';
import { completionRing, injectorLevels, workerDeque, workerMailbox } from '../queue/open.js';
import { nativeAddon } from '../native/addon.js';
import { Sleep } from '../sync/sleep.js';
import { setCancellation, setForkJoin, setWorkerIdentity } from './context.js';
import { Executor, type TaskFunction } from './executor.js';
import { ForkJoin } from './fork.js';
import { NestedSlots } from './nested-slots.js';
import { BufferInbox } from './buffer-inbox.js';
import { WorkerRuntime } from './runtime.js';
import { ScopeRecords } from './scope-records.js';
import { PAR_ITER_TASK, ParIterRunner } from '../iter/runner.js';

const boot = workerData as WorkerBootData;
let runtime: WorkerRuntime | undefined;
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

/** Builds the runtime, its executor and the fork-join operations over the shared memory. */
function buildRuntime(config: WorkerConfig, names: string[]): WorkerRuntime {
  const { layout, index } = config;
  const views = sharedViews(config.shared);
  const words = views.words;
  const slots = new SlotTable(words, layout);
  const arenas = config.arenas.map((buffer) => new Arena(buffer));
  const ownArena = 1 + index;
  const codec = new PayloadCodec(views, slots, arenas, new ArenaAllocator(arenas[ownArena]), ownArena, config.maxPayloadBytes);
  const sleep = new Sleep(words, layout, config.spinMicros);
  const queues = { backend: config.queue, claims: slots };
  const deques = [];
  const mailboxes = [];
  for (let i = 0; i < layout.threads; i++) {
    deques.push(workerDeque(words, layout, i, queues));
    mailboxes.push(workerMailbox(words, layout, i));
  }
  const tasks = names.map((name) => taskModule[name] as TaskFunction);
  // Built-in tasks follow the module's: their ids are known to the main thread the same way.
  const runner = new ParIterRunner({ codec, tasks, pieceTask: tasks.length, threads: layout.threads, self: index });
  tasks.push(runner.task);
  const runtime = new WorkerRuntime({
    config,
    words,
    slots,
    sleep,
    deques,
    mailboxes,
    injectors: injectorLevels(words, layout, queues),
    controlMessages,
    buffers,
  });
  const ring = completionRing(words, layout, index, 'producer');
  let executor: Executor | undefined;
  const scopes = new ScopeRecords(
    slots,
    layout,
    codec,
    index,
    (worker) => sleep.wake(worker),
    (slot) => executor!.publishToMain(slot),
  );
  executor = new Executor({
    index,
    layout,
    words,
    slots,
    codec,
    sleep,
    ring,
    scopes,
    tasks,
    taskNames: [...names, PAR_ITER_TASK],
    counters: runtime.counters,
    asyncStarted: runtime.asyncStarted,
    asyncSettled: runtime.asyncSettled,
  });
  const nested = new NestedSlots(slots, codec, nestedSlotBase(layout, index), layout.nestedSlots);
  nested.requeueLost(deques[index], mailboxes);
  const taskIds = new Map<unknown, number>(tasks.slice(0, names.length).map((task, id) => [task, id]));
  const forks = new ForkJoin({ layout, slots, codec, sleep, runtime, executor, nested, scopes, mailboxes, taskIds, runner });
  const cancellation = executor.cancellation;
  runner.attach(forks, {
    get currentSlot() {
      return executor.currentSlot;
    },
    requested: (slot) => cancellation.requested(slot),
  });
  setForkJoin(forks);
  setCancellation(executor.cancellation);
  // An idle worker lets go of what its finished spawns lent to the others.
  runtime.start(
    executor,
    () => nested.returnLent(),
    () => stopped.resolve(),
  );
  return runtime;
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
    runtime = buildRuntime(config, names);
    return { tasks: names };
  },

  ping(): number {
    return boot.index;
  },

  snapshot(): WorkerSnapshot {
    return {
      index: boot.index,
      name: boot.name,
      tasksRun: runtime?.counters.read(WorkerCounter.TASKS_RUN) ?? 0,
      steals: runtime?.counters.read(WorkerCounter.STEALS) ?? 0,
      injectorTakes: runtime?.counters.read(WorkerCounter.INJECTOR_TAKES) ?? 0,
      parks: runtime?.counters.read(WorkerCounter.PARKS) ?? 0,
      deepestWait: runtime?.deepestWait ?? 0,
      asyncInFlight: runtime?.asyncTasksInFlight ?? 0,
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  },

  async shutdown(): Promise<void> {
    if (runtime !== undefined) await stopped.promise;
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
