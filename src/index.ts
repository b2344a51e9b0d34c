/**
 * viscose: Rayon's work-stealing model for Node.js.
 *
 * @packageDocumentation
 */
export { ThreadPool } from './pool/thread-pool.js';
export type { CloseOptions } from './pool/thread-pool.js';
export type { PoolEvents, WorkerCreated, WorkerExited, WorkerExitReason } from './pool/pool-events.js';
export { ThreadPoolBuilder } from './pool/builder.js';
export type { CoalesceMode, ThreadPoolOptions, ThreadPoolSettings } from './pool/options.js';
export type {
  CallObserver,
  CallOptions,
  PoolCall,
  PoolCalls,
  PoolScope,
  PoolScopeFifo,
  AnyFunction,
  TaskArgs,
  TaskModule,
  TaskName,
  TaskResult,
  UntypedModule,
} from './pool/types.js';
export type { Priority } from './queue/priority.js';
export type { LatencySummary, PoolStatistics, QueueDepths, WorkerStatistics } from './pool/statistics.js';
export type { SlotCensus, SlotCounts } from './pool/slot-census.js';
export type { WorkerSnapshot } from './control/protocol.js';
export type {
  ChunkOf,
  CompareTaskName,
  ElementOf,
  ExtraArgs,
  InitExtraParameters,
  InitStepFunction,
  ItemOf,
  IterSource,
  PairTaskName,
  PoolParIter,
  Range,
  Unchecked,
} from './iter/par-iter.js';
export type { NumericArray, SortItem } from './sort/sortable.js';
export type { QueueBackend } from './queue/work-queue.js';
export { range } from './iter/par-iter.js';
export { transfer } from './codec/transfer.js';
export type { Transferable } from './codec/transfer.js';
export type { MessageCounts } from './control/endpoint.js';
export { ParallelProcessor } from './processor/parallel-processor.js';
export type { PoolStatisticsOf, ProcessingResult, ProcessorEvents, RequestOf, RequestOptions } from './processor/parallel-processor.js';
export type { BackpressureMode, ClusterProcessorOptions, DeprecatedProcessorOptions, ProcessorOptions } from './processor/options.js';
export type { ProcessorCalls, ProcessorCluster } from './processor/site.js';
export type { BatchReport, PerformanceMonitor } from './processor/monitor.js';
export type { EfficiencySummary, ProcessorStatistics, RequestCounts } from './processor/statistics.js';
export type { StreamOptions } from './processor/stream.js';
export type { MetricsRegistry, RegisteredFamily } from './metrics/prom-client.js';
export type { ProcessingErrorKind } from './errors.js';
export {
  AbortError,
  ClusterClientClosedError,
  EncodeError,
  InlineStepError,
  InvalidOptionError,
  MetricNameTakenError,
  NotATaskError,
  PayloadTooLargeError,
  PoolClosedError,
  ProcessingError,
  QueueFullError,
  StartTimeoutError,
  TaskError,
  TaskTimeoutError,
  ThreadPoolError,
  TransferError,
  UnknownTaskError,
  ViscoseError,
  WorkerCrashedError,
} from './errors.js';
