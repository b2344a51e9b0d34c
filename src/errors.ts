/**
 * Typed errors. Every error viscose raises is a `ViscoseError` with a stable `code`, so callers can
 * branch on `err.code` (or `instanceof`) instead of parsing messages.
 */

export class ViscoseError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/**
 * A task threw (or its promise rejected). `cause` is the original error as the worker raised it:
 * its class name, message, worker-side stack, `code`, `cause` and own properties.
 */
export class TaskError extends ViscoseError {
  /** Export name of the task that failed. */
  readonly task: string;
  /** Name of the worker thread that ran it. */
  readonly worker: string;
  /** For a `runBatch` call: the index of the call that failed. */
  readonly index: number | undefined;

  constructor(task: string, worker: string, cause: unknown, index?: number) {
    const where = index === undefined ? '' : ` (batch index ${index})`;
    super('VISCOSE_TASK_FAILED', `task "${task}"${where} failed on ${worker}: ${describe(cause)}`, { cause });
    this.task = task;
    this.worker = worker;
    this.index = index;
  }
}

/**
 * The name is not a function exported by the task module, or not a string at all. Nothing was
 * queued.
 */
export class UnknownTaskError extends ViscoseError {
  /** The name given; for one that is not a string, what it was (`an array`, `a number 3`, ...). */
  readonly task: string;

  constructor(task: unknown, known: readonly string[]) {
    const list = known.length === 0 ? 'the module exports no functions' : `known tasks: ${known.join(', ')}`;
    const what = typeof task === 'string' ? undefined : describeNonString(task);
    super(
      'VISCOSE_UNKNOWN_TASK',
      what === undefined ? `unknown task ${JSON.stringify(task)}: ${list}` : `a task name is a string, got ${what}: ${list}`,
    );
    this.task = what ?? (task as string);
  }
}

/** Names a value without calling anything of it (its toString may throw, or lie). */
function describeNonString(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return `a symbol ${JSON.stringify(value.description ?? '')}`;
  return `a ${typeof value} ${String(value)}`;
}

/**
 * A value cannot cross threads (a function, a symbol, a circular structure, ...). `path` names it,
 * for example `args[1].callback`. Raised before anything is queued.
 */
export class EncodeError extends ViscoseError {
  readonly path: string;

  constructor(path: string, reason: string, cause?: unknown) {
    super('VISCOSE_UNENCODABLE', `${path} cannot be sent to another thread: ${reason}`, { cause });
    this.path = path;
  }
}

/** A pool option is invalid. Raised when the pool is created. */
export class InvalidOptionError extends ViscoseError {
  readonly option: string;

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super('VISCOSE_INVALID_OPTION', `invalid option ${option}: ${message}`, options);
    this.option = option;
  }
}

/**
 * A function that is not an exported task of the task module was given where the work may run on
 * another thread (the second half of `join`, a `spawn`, a `broadcast`, a parallel iterator's step):
 * closures cannot cross threads.
 */
export class NotATaskError extends ViscoseError {
  constructor(where: string, fn: unknown) {
    const name =
      typeof fn === 'function' && fn.name !== '' ? `function ${fn.name}` : typeof fn === 'function' ? 'an anonymous function' : String(fn);
    super(
      'VISCOSE_NOT_A_TASK',
      `${where}: ${name} is not a task exported by the task module. Only exported tasks can run on ` +
        'another thread; closures and other functions cannot cross threads',
    );
  }
}

/**
 * A plain function given as an iterator step cannot run on another thread from its source alone:
 * it refers to variables it does not define, uses `this`, is async, native or bound. The message
 * names what it refers to and how to pass it instead. Nothing was run.
 */
export class InlineStepError extends ViscoseError {
  constructor(where: string, fn: string, why: string) {
    super('VISCOSE_INLINE_STEP', `${where}: ${fn} cannot run on a worker from its source: ${why}`);
  }
}

/** The pool was closed or terminated; the call was not run (or was abandoned by terminate). */
export class PoolClosedError extends ViscoseError {
  constructor(message = 'the pool is closed') {
    super('VISCOSE_POOL_CLOSED', message);
  }
}

/**
 * A cluster client (`viscose/bullmq`) was closed before the call's result arrived; its job still
 * runs. Defined here, not with the client, so that code without BullMQ (the processor) knows it.
 */
export class ClusterClientClosedError extends ViscoseError {
  constructor() {
    super('VISCOSE_CLIENT_CLOSED', 'the cluster client was closed before the result arrived (the job itself still runs)');
  }
}

/**
 * The call was refused at once: `maxQueue` calls (or requests, or cluster calls) already wait for
 * capacity, and it would have waited behind them. Nothing was queued. The processor reports it as
 * the `cause` of a `backpressure-exceeded` ProcessingError.
 */
export class QueueFullError extends ViscoseError {
  /** The limit that was reached. */
  readonly maxQueue: number;

  constructor(maxQueue: number, what = 'calls') {
    super('VISCOSE_QUEUE_FULL', `the queue is full: ${maxQueue} ${what} already wait (maxQueue)`);
    this.maxQueue = maxQueue;
  }
}

/**
 * The call was cancelled through its AbortSignal: a queued task was withdrawn before any worker
 * took it, or a running task's caller stopped waiting (the task saw `isCancelled()` turn true).
 * `cause` is the signal's reason. Inside a task (`throwIfCancelled()`, the reason of
 * `taskSignal()`, a stopped parallel iterator) it has no `cause`: the worker only sees that the
 * caller gave up.
 */
export class AbortError extends ViscoseError {
  /** `reason`: the signal's reason, when known; `message` says what was aborted. */
  constructor(reason?: unknown, message = 'the call was aborted') {
    super('VISCOSE_ABORTED', message, reason === undefined ? undefined : { cause: reason });
  }
}

/**
 * The task ran longer than the call's `timeout` (counted from when a worker started it). The
 * caller stopped waiting; the task saw `isCancelled()` turn true, and with `terminateAfter` its
 * worker was terminated and replaced if it ran on.
 */
export class TaskTimeoutError extends ViscoseError {
  readonly task: string;
  readonly timeoutMs: number;

  constructor(task: string, timeoutMs: number) {
    super('VISCOSE_TIMED_OUT', `task ${task} ran longer than its timeout of ${timeoutMs} ms`);
    this.task = task;
    this.timeoutMs = timeoutMs;
  }
}

/** The worker running the task exited before the task finished. */
export class WorkerCrashedError extends ViscoseError {
  readonly worker: string;
  readonly exitCode: number | undefined;

  constructor(worker: string, detail: string, options?: { cause?: unknown; exitCode?: number }) {
    super('VISCOSE_WORKER_CRASHED', `worker ${worker} crashed: ${detail}`, options);
    this.worker = worker;
    this.exitCode = options?.exitCode;
  }
}

/** The pool itself failed: workers could not start, the task module failed to load, ... */
export class ThreadPoolError extends ViscoseError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('VISCOSE_THREAD_POOL', message, options);
  }
}

/**
 * A worker had not loaded the task module and run its start handler within the pool's
 * `startTimeout` (a top-level `await` that never settles, an import that hangs). The worker was
 * terminated; at pool creation, so were the others.
 */
export class StartTimeoutError extends ViscoseError {
  /** The task module's URL. */
  readonly module: string;
  /** The worker that did not start in time. */
  readonly worker: string;
  readonly timeoutMs: number;

  constructor(module: string, worker: string, timeoutMs: number) {
    super(
      'VISCOSE_START_TIMEOUT',
      `worker ${worker} did not load ${module} and run its start handler within ${timeoutMs} ms (startTimeout)`,
    );
    this.module = module;
    this.worker = worker;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A value marked with `transfer()` cannot move as asked: the call uses `retries` (a moved buffer is
 * gone with a worker that dies under it, so the call could not run again with it), or the worker
 * that took the call found the values let go of (the call was aborted or timed out, or its pool
 * stopped, before the worker asked for them).
 */
export class TransferError extends ViscoseError {
  constructor(message: string) {
    super('VISCOSE_TRANSFER', message);
  }
}

/** A payload is larger than `maxPayloadBytes`, or the shared arena has no room left for it. */
export class PayloadTooLargeError extends ViscoseError {
  constructor(message: string) {
    super('VISCOSE_PAYLOAD_TOO_LARGE', message);
  }
}

/**
 * `registerMetrics(registry)` found one of its metric names taken in that registry already (the
 * same pool or processor registered twice, or another metric of that name). Nothing was registered.
 */
export class MetricNameTakenError extends ViscoseError {
  /** The name that is taken. */
  readonly metric: string;

  constructor(metric: string) {
    super('VISCOSE_METRIC_NAME_TAKEN', `a metric named ${metric} is registered already`);
    this.metric = metric;
  }
}

/** `Name: message` of a thrown value, or its text; never throws. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}

/** Why a request of a ParallelProcessor failed. */
export type ProcessingErrorKind =
  /** The handler threw or rejected; `cause` is its TaskError. */
  | 'task-failed'
  /** No capacity, and the processor (or the call) asked to be refused rather than wait. */
  | 'backpressure-exceeded'
  /** The pool could not take the request: it is closed, lost its workers, or refused the input. */
  | 'thread-pool-error'
  /** The worker running the request's handler died. */
  | 'worker-crashed'
  /** The processor was terminated, or the stream abandoned, before the request ran. */
  | 'cancelled'
  /** The request waited for capacity longer than `queueTimeout`. */
  | 'timed-out';

/**
 * A request of a ParallelProcessor failed. One failing request never fails the others: batches
 * and streams report it in that request's result.
 */
export class ProcessingError extends ViscoseError {
  readonly kind: ProcessingErrorKind;
  /** The request's position in its batch or stream, when it had one. */
  readonly index: number | undefined;

  constructor(kind: ProcessingErrorKind, message: string, options?: { cause?: unknown; index?: number }) {
    super('VISCOSE_PROCESSING_FAILED', message, options);
    this.kind = kind;
    this.index = options?.index;
  }
}

/** The message of a thrown value, whatever was thrown. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
