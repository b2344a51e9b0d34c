/**
 * What the processor hands back for a request: its response, or a ProcessingError saying in the
 * processor's terms why it failed.
 */
import {
  AbortError,
  ClusterClientClosedError,
  EncodeError,
  PayloadTooLargeError,
  PoolClosedError,
  ProcessingError,
  type ProcessingErrorKind,
  TaskError,
  TaskTimeoutError,
  ThreadPoolError,
  WorkerCrashedError,
  messageOf,
} from '../errors.js';

/** The outcome of one request of a batch or stream: its response, or why it failed. */
export type ProcessingResult<R> = { ok: true; value: R; index: number } | { ok: false; error: ProcessingError; index: number };

/** Stores the outcome of a handled request at `index` of `results`. */
export function settleInto<R>(results: ProcessingResult<R>[], index: number, handled: Promise<R>): Promise<void> {
  return handled.then(
    (value) => {
      results[index] = { ok: true, value, index };
    },
    (error: ProcessingError) => {
      results[index] = { ok: false, error, index };
    },
  );
}

/** Says why a request failed, in the processor's terms. */
export function toProcessingError(error: unknown, index: number | undefined): ProcessingError {
  if (error instanceof ProcessingError) {
    return error.index === index || index === undefined
      ? error
      : new ProcessingError(error.kind, error.message, { cause: error.cause, index });
  }
  const make = (kind: ProcessingErrorKind, message: string) => new ProcessingError(kind, message, { cause: error, index });
  if (error instanceof TaskError) return make('task-failed', error.message);
  if (error instanceof WorkerCrashedError) return make('worker-crashed', error.message);
  if (error instanceof TaskTimeoutError) return make('timed-out', error.message);
  if (error instanceof PoolClosedError || error instanceof AbortError || error instanceof ClusterClientClosedError)
    return make('cancelled', error.message);
  if (error instanceof EncodeError || error instanceof PayloadTooLargeError || error instanceof ThreadPoolError) {
    return make('thread-pool-error', error.message);
  }
  return make('thread-pool-error', messageOf(error));
}
