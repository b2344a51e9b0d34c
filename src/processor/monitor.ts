/**
 * What the processor tells observers: a report for every batch, and periodic statistics. Both go
 * to the caller's PerformanceMonitor, if any, and to the diagnostics channels
 * `viscose:processor:batch` and `viscose:processor:statistics`, when someone subscribes.
 */
import { channel } from 'node:diagnostics_channel';
import type { PoolStatistics } from '../pool/statistics.js';
import type { ProcessorStatistics } from './statistics.js';
import { type Timer, startTimer } from '../time/timer.js';
import { messageOf } from '../errors.js';

/** One finished batch (`executeParallelBatch` or `executeChunkedParallel`). */
export interface BatchReport {
  kind: 'parallel' | 'chunked';
  requests: number;
  failed: number;
  /** From the batch's start to its last result, in milliseconds. */
  wallMs: number;
  /** Time the batch's handlers ran on the workers, summed, in milliseconds; 0 on a cluster, whose nodes do not report it. */
  runMs: number;
  /** The pool's threads; on a cluster, the processor's capacity (`maxPendingTasks`). */
  threads: number;
  /**
   * Ideal time over actual time: (runMs / threads) / wallMs, at most 1. A batch that shared the
   * pool with other batches shows its share only (see `EfficiencySummary.overall`).
   */
  efficiency: number;
}

/** The report of a batch whose `results` are in, which took `wallMs` and whose handlers ran `runMs` in all. */
export function batchReport(
  kind: BatchReport['kind'],
  results: readonly { ok: boolean }[],
  wallMs: number,
  runMs: number,
  threads: number,
): BatchReport {
  return {
    kind,
    requests: results.length,
    failed: results.reduce((count, result) => count + (result.ok ? 0 : 1), 0),
    wallMs,
    runMs,
    threads,
    efficiency: wallMs <= 0 ? 1 : Math.min(1, runMs / threads / wallMs),
  };
}

/**
 * Implemented by the caller to watch a processor. Every method is optional. `Pool` is the type of
 * the statistics' `pool`: `undefined` for a processor on a cluster.
 */
export interface PerformanceMonitor<Pool extends PoolStatistics | undefined = PoolStatistics> {
  batchCompleted?(report: BatchReport): void;
  /** Called every `monitorInterval` while the processor is open. */
  statistics?(statistics: ProcessorStatistics<Pool>): void;
}

export const batchChannel = channel('viscose:processor:batch');
export const statisticsChannel = channel('viscose:processor:statistics');

export class MonitorHub {
  private timer: Timer | undefined;

  constructor(
    private readonly monitor: PerformanceMonitor<PoolStatistics | undefined> | undefined,
    intervalMs: number,
    read: () => ProcessorStatistics<PoolStatistics | undefined>,
  ) {
    if (monitor?.statistics === undefined && !statisticsChannel.hasSubscribers) return;
    const report = (): void => {
      const wanted = monitor?.statistics !== undefined || statisticsChannel.hasSubscribers;
      if (!wanted) return;
      const statistics = read();
      this.call(() => monitor?.statistics?.(statistics));
      if (statisticsChannel.hasSubscribers) statisticsChannel.publish(statistics);
    };
    // Observing a processor must not keep the process alive.
    this.timer = startTimer(intervalMs, report, { repeat: true, keepsProcessAlive: false });
  }

  batchCompleted(report: BatchReport): void {
    this.call(() => this.monitor?.batchCompleted?.(report));
    if (batchChannel.hasSubscribers) batchChannel.publish(report);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** A monitor that throws must not break the processing it watches. */
  private call(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      process.emitWarning(`viscose: a PerformanceMonitor callback threw: ${messageOf(error)}`);
    }
  }
}
