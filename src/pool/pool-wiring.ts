/**
 * What a pool is made of once its workers started, and how the parts are wired to each other:
 * the lifecycle, the submitter and call watch, the runners of calls, fork-join and sorts, the
 * statistics, the events (drain edge, worker events, failures nobody awaits), and what the worker
 * set asks of the pool. ThreadPool is the facade over these.
 */
import type { EventEmitter } from 'node:events';
import type { StartReport } from '../control/protocol.js';
import { PoolClosedError, UnknownTaskError } from '../errors.js';
import { MainSort } from '../sort/main-sort.js';
import { AbortListeners } from './abort-listeners.js';
import { type CallGate, CallRunner } from './call-runner.js';
import { CallWatch } from './call-watch.js';
import type { DataPlane } from './data-plane.js';
import { DrainEdge } from './drain-edge.js';
import { Lifecycle } from './lifecycle.js';
import { MainForkJoin } from './main-fork-join.js';
import type { ThreadPoolSettings } from './options.js';
import { type PoolEvents, reportFailure } from './pool-events.js';
import { StatisticsReader } from './statistics.js';
import { Submitter } from './submitter.js';
import type { TaskModule } from './types.js';
import type { WorkerSet } from './worker-set.js';

/** The parts of a running pool. */
export interface PoolParts<M extends TaskModule> {
  life: Lifecycle;
  runner: CallRunner<M>;
  forks: MainForkJoin<M>;
  sorts: MainSort;
  statisticsReader: StatisticsReader;
  drainEdge: DrainEdge;
  /** Tells the user of a failure nobody awaits (`error` listeners, `onError`, else a warning). */
  report: (error: unknown) => void;
}

/** Builds and wires the parts of a pool over `plane` and its started `workers`, for `events`. */
export function wirePool<M extends TaskModule>(
  settings: Readonly<ThreadPoolSettings>,
  plane: DataPlane,
  workers: WorkerSet,
  started: StartReport,
  events: EventEmitter<PoolEvents>,
): PoolParts<M> {
  const { dispatcher } = plane;
  const pending = () => dispatcher.outstanding;
  const report = (error: unknown): void => reportFailure(events, settings.onError, error);
  const submitter = new Submitter(dispatcher, () => workers.all);
  const life: Lifecycle = new Lifecycle({
    pending,
    stopWorkers: () => workers.stopAll(),
    abandonAll: (error) => dispatcher.abandonAll(error),
    terminateWorkers: () => workers.terminateAll(),
    releaseBuffers: () => {
      submitter.stop();
      workers.closeBufferPorts();
    },
    dispose: () => plane.dispose(),
    report,
  });
  // Withdraws calls whose signal aborts.
  const abortListeners = new AbortListeners(() => life.settled());
  const calls = new CallWatch(dispatcher, submitter, abortListeners, (worker) => workers.retire(worker));
  const taskIds = new Map(started.tasks.map((name, id) => [name, id]));
  const gate: CallGate = {
    accept: (name) => {
      life.assertAccepting();
      const task = typeof name === 'string' ? taskIds.get(name) : undefined;
      if (task === undefined) throw new UnknownTaskError(name, started.tasks);
      return task;
    },
    open: () => life.open,
    refusesLateQueueing: () =>
      life.failure ?? (life.stopped ? new PoolClosedError('the pool was terminated before the task could be queued') : undefined),
    report,
  };
  const tasks = started.tasks.length;
  const runner = new CallRunner<M>(gate, plane.codec, submitter, calls, settings.names, tasks, settings.coalesce);
  const forks = new MainForkJoin<M>(gate, plane, submitter, calls, { tasks: started.tasks, threadNames: settings.names });
  const sorts = new MainSort(gate, plane.codec, submitter, forks, { tasks, threads: settings.threads });
  const statisticsReader = new StatisticsReader({ ...plane.statisticsSources(), inFlight: pending });
  const drainEdge = new DrainEdge(
    () => dispatcher.free.full,
    (needsDrain) => events.emit(needsDrain ? 'needsDrain' : 'drain'),
  );
  dispatcher.free.onCapacity = () => drainEdge.changed();
  dispatcher.waiters.limit = settings.maxQueue;
  plane.onIdle = () => life.settled();
  plane.events.report = report;
  // Worker events are emitted in a microtask, outside the recovery that found them, so that a
  // throwing listener cannot leave a worker unreplaced; the first workers on a later turn, once
  // create() has handed the pool out.
  let handedOut = false;
  workers.watch({
    recovers: () => !(life.stopped || (life.phase === 'closing' && plane.stopping)),
    report,
    settled: () => life.settled(),
    allGone: (failure) => life.fail(failure),
    knownBuffers: () => submitter.knownBuffers(),
    workerStarted: (worker) => {
      if (handedOut) queueMicrotask(() => events.emit('workerCreate', worker));
      else setImmediate(() => events.emit('workerCreate', worker));
    },
    workerExited: (worker) => queueMicrotask(() => events.emit('workerExit', worker)),
  });
  handedOut = true;
  return { life, runner, forks, sorts, statisticsReader, drainEdge, report };
}
