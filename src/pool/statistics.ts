/**
 * A pool's statistics: counts of its calls, the depth of every queue, how busy each worker was,
 * and histograms of where a call's time went. Everything is read from memory the pool already
 * shares or keeps — no message to the workers — so a snapshot costs microseconds.
 *
 * Counts and histograms are per task slot: a `run` call, or a chunk of a `runBatch` (which holds
 * many calls). Recording them costs the main thread two clock reads and three histogram records
 * per call, about 0.4 µs here, so it is off unless the pool is created with `statistics: true`;
 * the queue depths and the workers' counters and busy time are always available.
 */
import { type RecordableHistogram, createHistogram } from 'node:perf_hooks';
import { type MetricFamily, summarySamples } from '../metrics/prometheus.js';
import type { WorkQueue } from '../queue/work-queue.js';
import { PRIORITY_LEVEL } from '../queue/priority.js';
import type { Layout } from '../shm/layout.js';
import { WorkerCounter, WorkerCounters } from '../shm/worker-counters.js';
import { sharedNow } from '../sync/clock.js';
import type { Sleep } from '../sync/sleep.js';
import type { SlotTable } from '../shm/slot.js';
import { type SlotCensus, takeSlotCensus } from './slot-census.js';

/** The distribution of one latency, in microseconds. */
export interface LatencySummary {
  count: number;
  minUs: number;
  meanUs: number;
  maxUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
}

export interface WorkerStatistics {
  index: number;
  name: string;
  tasksRun: number;
  /** Tasks taken from other workers' deques. */
  steals: number;
  /** Looks into other workers' deques, successful or not. */
  stealAttempts: number;
  injectorTakes: number;
  parks: number;
  /** Milliseconds spent running tasks (the interval minus time searching for work or parked). */
  busyMs: number;
  /** busyMs over the interval, between 0 and 1. */
  utilisation: number;
  /** Entries in the worker's own deque (forked work) right now. */
  dequeDepth: number;
}

export interface QueueDepths {
  /** Calls waiting on the main thread for a free slot, by priority. */
  waiting: { high: number; normal: number; low: number };
  /** Calls queued in the injector for any worker, by priority. */
  injector: { high: number; normal: number; low: number };
}

export interface PoolStatistics {
  /** Milliseconds covered: since the pool started, or since `resetStatistics()`. */
  intervalMs: number;
  /** Calls (or batch chunks) accepted. Counted only with `statistics: true`, as are the next four. */
  submitted: number;
  /** Finished with a result. */
  completed: number;
  /** Finished with an error, including a worker that crashed under it. */
  failed: number;
  /** Dropped by `terminate()` before they finished. */
  cancelled: number;
  /** Accepted, not yet finished: waiting for a slot, queued or running. */
  inFlight: number;
  /** Sum over the workers. */
  steals: number;
  stealAttempts: number;
  queues: QueueDepths;
  workers: WorkerStatistics[];
  /** Mean utilisation of the workers over the interval. */
  utilisation: number;
  /** Accepted by the pool (the `run` call) to started by a worker. Empty without `statistics: true`. */
  dispatchLatency: LatencySummary;
  /** Started to finished, on the worker. */
  runTime: LatencySummary;
  /** Accepted to settled on the main thread (its promise resolved or rejected). */
  endToEndLatency: LatencySummary;
  /** Where the task slots are right now, by state. */
  slots: SlotCensus;
}

/** The main thread's per-call record: counts and the three histograms (nanoseconds). */
export class CallRecorder {
  submitted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  private readonly dispatch: RecordableHistogram = createHistogram();
  private readonly run: RecordableHistogram = createHistogram();
  private readonly endToEnd: RecordableHistogram = createHistogram();

  /**
   * The times of one finished slot, in milliseconds of the shared clock, for each of its `calls`
   * (the calls of one turn that shared it had these times each).
   */
  finished(accepted: number, started: number, finished: number, settled: number, calls = 1): void {
    const dispatch = nanos(started - accepted);
    const run = nanos(finished - started);
    const endToEnd = nanos(settled - accepted);
    for (let i = 0; i < calls; i++) {
      this.dispatch.record(dispatch);
      this.run.record(run);
      this.endToEnd.record(endToEnd);
    }
  }

  reset(): void {
    this.submitted = this.completed = this.failed = this.cancelled = 0;
    this.dispatch.reset();
    this.run.reset();
    this.endToEnd.reset();
  }

  latencies(): Pick<PoolStatistics, 'dispatchLatency' | 'runTime' | 'endToEndLatency'> {
    return { dispatchLatency: summary(this.dispatch), runTime: summary(this.run), endToEndLatency: summary(this.endToEnd) };
  }
}

/** Histograms record integers of at least 1. */
function nanos(ms: number): number {
  return Math.max(1, Math.round(ms * 1e6));
}

export function summary(histogram: RecordableHistogram): LatencySummary {
  const count = histogram.count;
  if (count === 0) return { count: 0, minUs: 0, meanUs: 0, maxUs: 0, p50Us: 0, p90Us: 0, p99Us: 0, p999Us: 0 };
  const us = (ns: number) => ns / 1000;
  // Bun's histogram can report a percentile above the largest value recorded (p99 10,207 µs with a
  // maximum of 10,206): keep every percentile within what was recorded.
  const percentile = (p: number) => us(Math.min(Math.max(histogram.percentile(p), histogram.min), histogram.max));
  return {
    count,
    minUs: us(histogram.min),
    meanUs: us(histogram.mean),
    maxUs: us(histogram.max),
    p50Us: percentile(50),
    p90Us: percentile(90),
    p99Us: percentile(99),
    p999Us: percentile(99.9),
  };
}

/** What the reader looks at: the pool's shared memory and the main thread's own bookkeeping. */
export interface StatisticsSources {
  words: Int32Array;
  layout: Layout;
  sleep: Sleep;
  injectors: WorkQueue[];
  deques: WorkQueue[];
  slots: SlotTable;
  /** Calls waiting for a slot at a priority level. */
  waitingAt(level: number): number;
  inFlight(): number;
  recorder: CallRecorder | undefined;
  /** Whether a worker is at `index` (an elastic pool's workers come and go). */
  present(index: number): boolean;
}

/** Stands in for the recorder of a pool that keeps no per-call statistics: zeros, empty histograms. */
const NO_CALLS = new CallRecorder();

const COUNTERS = [
  WorkerCounter.TASKS_RUN,
  WorkerCounter.STEALS,
  WorkerCounter.STEAL_ATTEMPTS,
  WorkerCounter.INJECTOR_TAKES,
  WorkerCounter.PARKS,
];

/** Assembles PoolStatistics; `reset()` starts a new interval. */
export class StatisticsReader {
  private startedAt = sharedNow();
  /** Per worker: its counters (in COUNTERS order) and its idle milliseconds at the interval's start. */
  private baselines: number[][];
  private readonly counters: WorkerCounters[];

  constructor(private readonly sources: StatisticsSources) {
    const { words, layout } = sources;
    this.counters = Array.from({ length: layout.threads }, (_, index) => new WorkerCounters(words, layout, index));
    this.baselines = this.readWorkers(this.startedAt);
  }

  reset(): void {
    this.startedAt = sharedNow();
    this.baselines = this.readWorkers(this.startedAt);
    this.sources.recorder?.reset();
  }

  read(names: readonly string[]): PoolStatistics {
    const { recorder, injectors, deques } = this.sources;
    const now = sharedNow();
    const intervalMs = Math.max(now - this.startedAt, Number.EPSILON);
    const current = this.readWorkers(now);
    const workers = current.flatMap((values, index): WorkerStatistics[] => {
      if (!this.sources.present(index)) return [];
      const delta = values.map((value, k) => value - this.baselines[index][k]);
      const [tasksRun, steals, stealAttempts, injectorTakes, parks, idleMs] = delta;
      const busyMs = Math.min(intervalMs, Math.max(0, intervalMs - idleMs));
      const worker: WorkerStatistics = {
        index,
        name: names[index],
        tasksRun,
        steals,
        stealAttempts,
        injectorTakes,
        parks,
        busyMs,
        utilisation: busyMs / intervalMs,
        dequeDepth: deques[index].size(),
      };
      return [worker];
    });
    const byLevel = (depth: (level: number) => number) => ({
      high: depth(PRIORITY_LEVEL.high),
      normal: depth(PRIORITY_LEVEL.normal),
      low: depth(PRIORITY_LEVEL.low),
    });
    const calls = recorder ?? NO_CALLS;
    return {
      intervalMs,
      submitted: calls.submitted,
      completed: calls.completed,
      failed: calls.failed,
      cancelled: calls.cancelled,
      inFlight: this.sources.inFlight(),
      steals: workers.reduce((sum, worker) => sum + worker.steals, 0),
      stealAttempts: workers.reduce((sum, worker) => sum + worker.stealAttempts, 0),
      queues: {
        waiting: byLevel((level) => this.sources.waitingAt(level)),
        injector: byLevel((level) => injectors[level].size()),
      },
      workers,
      utilisation: workers.reduce((sum, worker) => sum + worker.utilisation, 0) / workers.length,
      ...calls.latencies(),
      slots: takeSlotCensus(this.sources.slots),
    };
  }

  private readWorkers(now: number): number[][] {
    const { sleep } = this.sources;
    return this.counters.map((counters, index) => [...COUNTERS.map((counter) => counters.read(counter)), sleep.idleMs(index, now)]);
  }
}

const QUANTILES: [number, keyof LatencySummary][] = [
  [0.5, 'p50Us'],
  [0.9, 'p90Us'],
  [0.99, 'p99Us'],
  [0.999, 'p999Us'],
];

function latencyFamily(name: string, help: string, latency: LatencySummary): MetricFamily {
  const seconds = (us: number) => us / 1e6;
  return {
    name,
    help,
    type: 'summary',
    samples: summarySamples(
      QUANTILES.map(([quantile, field]) => [quantile, seconds(latency[field])]),
      seconds(latency.meanUs * latency.count),
      latency.count,
    ),
  };
}

/** A pool's statistics as Prometheus metric families, named `<prefix>_...`. */
export function poolMetricFamilies(stats: PoolStatistics, prefix = 'viscose'): MetricFamily[] {
  const perWorker = (field: (worker: WorkerStatistics) => number) =>
    stats.workers.map((worker) => ({ labels: { worker: worker.name }, value: field(worker) }));
  const perLevel = (queue: 'waiting' | 'injector') =>
    (['high', 'normal', 'low'] as const).map((priority) => ({ labels: { queue, priority }, value: stats.queues[queue][priority] }));
  const counter = (name: string, help: string, value: number): MetricFamily => ({
    name: `${prefix}_${name}`,
    help,
    type: 'counter',
    samples: [{ value }],
  });
  return [
    counter('calls_submitted_total', 'Calls (or batch chunks) accepted.', stats.submitted),
    counter('calls_completed_total', 'Calls finished with a result.', stats.completed),
    counter('calls_failed_total', 'Calls finished with an error.', stats.failed),
    counter('calls_cancelled_total', 'Calls dropped before they finished.', stats.cancelled),
    { name: `${prefix}_calls_in_flight`, help: 'Calls accepted and not finished.', type: 'gauge', samples: [{ value: stats.inFlight }] },
    {
      name: `${prefix}_queue_depth`,
      help: 'Calls waiting for a slot on the main thread, and calls queued in the injector, by priority.',
      type: 'gauge',
      samples: [...perLevel('waiting'), ...perLevel('injector')],
    },
    {
      name: `${prefix}_worker_deque_depth`,
      help: "Entries in a worker's own deque.",
      type: 'gauge',
      samples: perWorker((w) => w.dequeDepth),
    },
    { name: `${prefix}_worker_tasks_total`, help: 'Tasks a worker ran.', type: 'counter', samples: perWorker((w) => w.tasksRun) },
    {
      name: `${prefix}_worker_steals_total`,
      help: "Tasks a worker took from another worker's deque.",
      type: 'counter',
      samples: perWorker((w) => w.steals),
    },
    {
      name: `${prefix}_worker_steal_attempts_total`,
      help: "Looks into another worker's deque.",
      type: 'counter',
      samples: perWorker((w) => w.stealAttempts),
    },
    {
      name: `${prefix}_worker_parks_total`,
      help: 'Times a worker parked for lack of work.',
      type: 'counter',
      samples: perWorker((w) => w.parks),
    },
    {
      name: `${prefix}_worker_busy_seconds_total`,
      help: 'Time a worker spent running tasks.',
      type: 'counter',
      samples: perWorker((w) => w.busyMs / 1000),
    },
    {
      name: `${prefix}_worker_utilisation`,
      help: 'Busy time over the interval, 0 to 1.',
      type: 'gauge',
      samples: perWorker((w) => w.utilisation),
    },
    latencyFamily(`${prefix}_dispatch_latency_seconds`, 'From a call accepted to its task started.', stats.dispatchLatency),
    latencyFamily(`${prefix}_run_time_seconds`, 'From a task started to finished.', stats.runTime),
    latencyFamily(`${prefix}_end_to_end_latency_seconds`, 'From a call accepted to its promise settled.', stats.endToEndLatency),
  ];
}
