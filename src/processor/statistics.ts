/**
 * The ParallelProcessor's statistics: what happened to its requests, how efficient its batches
 * were, and how long requests waited and took, next to the statistics of the pool underneath.
 */
import { type RecordableHistogram, createHistogram } from 'node:perf_hooks';
import { type MetricFamily, summarySamples } from '../metrics/prometheus.js';
import { type LatencySummary, type PoolStatistics, summary } from '../pool/statistics.js';
import type { ProcessingErrorKind } from '../errors.js';
import type { BatchReport } from './monitor.js';

export interface RequestCounts {
  /** Requests handed to the processor. */
  submitted: number;
  /** Handled, with a response. */
  completed: number;
  /** Handled, and the handler failed (or its worker crashed). */
  failed: number;
  /** Refused for lack of capacity (`backpressure: 'reject'`, `tryProcess`). */
  rejected: number;
  /** Dropped before they ran: the processor was terminated. */
  cancelled: number;
  /** Waited for capacity longer than `queueTimeout`. */
  timedOut: number;
  /** Runs again after their worker crashed (option `retries`); a request can count more than once. */
  retried: number;
  /** Taken a permit and not finished. */
  inFlight: number;
  /** Waiting for capacity. */
  waiting: number;
}

/**
 * Batch efficiency: ideal time (the handlers' run time spread over every thread) over actual time.
 * `mean`, `min`, `max` and `last` are per batch; a batch that shared the pool with others shows its
 * share only (two batches side by side, each 0.5), so `overall` is the one to watch when batches
 * overlap: the run time of all batches over the time during which at least one batch ran.
 */
export interface EfficiencySummary {
  count: number;
  mean: number;
  min: number;
  max: number;
  /** The most recent batch's, or 0. */
  last: number;
  /** All batches together (see above), or 0. */
  overall: number;
}

/**
 * The processor's statistics. `Pool` is the type of `pool`: the statistics of the processor's own
 * pool, or `undefined` for a processor on a cluster (whose nodes keep their own).
 */
export interface ProcessorStatistics<Pool extends PoolStatistics | undefined = PoolStatistics> {
  requests: RequestCounts;
  batches: { completed: number; running: number; waiting: number; efficiency: EfficiencySummary };
  /** Request handed to the processor to settled (empty with `statistics: false`). */
  latency: LatencySummary;
  /** Time requests waited for capacity (empty with `statistics: false`). */
  queueWait: LatencySummary;
  /** The processor's pool's statistics; `undefined` on a cluster. */
  pool: Pool;
}

type Outcome = 'completed' | 'failed' | 'rejected' | 'cancelled' | 'timedOut';

const OUTCOME_OF: Record<ProcessingErrorKind, Outcome> = {
  'task-failed': 'failed',
  'worker-crashed': 'failed',
  'thread-pool-error': 'failed',
  'backpressure-exceeded': 'rejected',
  cancelled: 'cancelled',
  'timed-out': 'timedOut',
};

const noCounts = () => ({ submitted: 0, completed: 0, failed: 0, rejected: 0, cancelled: 0, timedOut: 0, retried: 0 });
const noEfficiency = () => ({ count: 0, sum: 0, min: Infinity, max: 0, last: 0, runMs: 0, busyMs: 0, threads: 1 });

export class ProcessorRecorder {
  counts = noCounts();
  private readonly latency: RecordableHistogram | undefined;
  private readonly queueWait: RecordableHistogram | undefined;
  private efficiency = noEfficiency();
  /** Batches running now, and since when (performance.now()) at least one has been. */
  private running = 0;
  private runningSince = 0;

  constructor(detailed: boolean) {
    if (detailed) {
      this.latency = createHistogram();
      this.queueWait = createHistogram();
    }
  }

  /**
   * Starts from zero. A request under way is counted when it ends, though it was submitted before:
   * reset while nothing is under way for counts that add up.
   */
  reset(): void {
    this.counts = noCounts();
    this.efficiency = noEfficiency();
    this.runningSince = performance.now();
    this.latency?.reset();
    this.queueWait?.reset();
  }

  /** Whether latencies are recorded (the callers skip their clock reads otherwise). */
  get detailed(): boolean {
    return this.latency !== undefined;
  }

  submitted(count = 1): void {
    this.counts.submitted += count;
  }

  succeeded(): void {
    this.counts.completed++;
  }

  retried(requests: number): void {
    this.counts.retried += requests;
  }

  failedWith(kind: ProcessingErrorKind): void {
    this.counts[OUTCOME_OF[kind]]++;
  }

  /** A request settled `totalMs` after it was handed over, having waited `waitMs` for capacity. */
  timed(totalMs: number, waitMs: number): void {
    this.latency?.record(nanos(totalMs));
    this.queueWait?.record(nanos(waitMs));
  }

  batchStarted(now: number): void {
    if (this.running++ === 0) this.runningSince = now;
  }

  /** A batch ended (reported or not): closes the time during which batches ran, if it was the last. */
  batchEnded(now: number): void {
    if (--this.running === 0) this.efficiency.busyMs += now - this.runningSince;
  }

  batch(report: BatchReport): void {
    const e = this.efficiency;
    e.runMs += report.runMs;
    e.threads = report.threads;
    e.count++;
    e.sum += report.efficiency;
    e.min = Math.min(e.min, report.efficiency);
    e.max = Math.max(e.max, report.efficiency);
    e.last = report.efficiency;
  }

  /** The statistics, with the admission's occupancy now and the pool's own. */
  read<Pool extends PoolStatistics | undefined>(
    { inFlight, waiting, batches }: { inFlight: number; waiting: number; batches: { running: number; waiting: number } },
    pool: Pool,
  ): ProcessorStatistics<Pool> {
    const e = this.efficiency;
    const none = summary(createHistogram());
    const busyMs = e.busyMs + (this.running > 0 ? performance.now() - this.runningSince : 0);
    return {
      requests: { ...this.counts, inFlight, waiting },
      batches: {
        completed: e.count,
        ...batches,
        efficiency: {
          count: e.count,
          mean: e.count === 0 ? 0 : e.sum / e.count,
          min: e.count === 0 ? 0 : e.min,
          max: e.max,
          last: e.last,
          overall: busyMs <= 0 ? 0 : Math.min(1, e.runMs / e.threads / busyMs),
        },
      },
      latency: this.latency === undefined ? none : summary(this.latency),
      queueWait: this.queueWait === undefined ? none : summary(this.queueWait),
      pool,
    };
  }
}

function nanos(ms: number): number {
  return Math.max(1, Math.round(ms * 1e6));
}

/** The processor's own metric families (the pool's come from poolMetricFamilies). */
export function processorMetricFamilies(
  stats: ProcessorStatistics<PoolStatistics | undefined>,
  prefix = 'viscose_processor',
): MetricFamily[] {
  const { requests, batches } = stats;
  const outcomes = ['completed', 'failed', 'rejected', 'cancelled', 'timedOut'] as const;
  const latency = (name: string, help: string, value: LatencySummary): MetricFamily => ({
    name: `${prefix}_${name}`,
    help,
    type: 'summary',
    samples: summarySamples(
      [
        [0.5, value.p50Us / 1e6],
        [0.9, value.p90Us / 1e6],
        [0.99, value.p99Us / 1e6],
        [0.999, value.p999Us / 1e6],
      ],
      (value.meanUs * value.count) / 1e6,
      value.count,
    ),
  });
  return [
    {
      name: `${prefix}_requests_submitted_total`,
      help: 'Requests handed to the processor.',
      type: 'counter',
      samples: [{ value: requests.submitted }],
    },
    {
      name: `${prefix}_requests_total`,
      help: 'Requests that ended, by outcome.',
      type: 'counter',
      samples: outcomes.map((outcome) => ({ labels: { outcome }, value: requests[outcome] })),
    },
    {
      name: `${prefix}_retries_total`,
      help: 'Requests run again after their worker crashed.',
      type: 'counter',
      samples: [{ value: requests.retried }],
    },
    { name: `${prefix}_requests_in_flight`, help: 'Requests holding capacity.', type: 'gauge', samples: [{ value: requests.inFlight }] },
    { name: `${prefix}_requests_waiting`, help: 'Requests waiting for capacity.', type: 'gauge', samples: [{ value: requests.waiting }] },
    { name: `${prefix}_batches_completed_total`, help: 'Batches finished.', type: 'counter', samples: [{ value: batches.completed }] },
    { name: `${prefix}_batches_running`, help: 'Batches running.', type: 'gauge', samples: [{ value: batches.running }] },
    { name: `${prefix}_batches_waiting`, help: 'Batches waiting for their turn.', type: 'gauge', samples: [{ value: batches.waiting }] },
    {
      name: `${prefix}_batch_efficiency`,
      help: 'Ideal time over actual time: of the most recent batch, and of all batches together.',
      type: 'gauge',
      samples: [
        { labels: { batches: 'last' }, value: batches.efficiency.last },
        { labels: { batches: 'all' }, value: batches.efficiency.overall },
      ],
    },
    latency('request_latency_seconds', 'From a request handed over to settled.', stats.latency),
    latency('queue_wait_seconds', 'Time a request waited for capacity.', stats.queueWait),
  ];
}
