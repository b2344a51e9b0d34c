/**
 * The processor's admission: the capacity (one permit per request in flight, `maxPendingTasks`)
 * and the batch turns (one per batch running, `maxConcurrentBatches`), both waited for by priority
 * or refused at once in `backpressure: 'reject'` mode; every refusal is counted for each request
 * it covers.
 */
import { ProcessingError, QueueFullError } from '../errors.js';
import { PRIORITY_LEVEL, type Priority } from '../queue/priority.js';
import { Capacity } from './capacity.js';
import type { BackpressureMode } from './options.js';
import { toProcessingError } from './results.js';
import type { ProcessorRecorder } from './statistics.js';

/** What a request or batch waits with: its priority and its caller's signal. */
export interface Waiting {
  priority: Priority;
  signal: AbortSignal | undefined;
}

export interface AdmissionLimits {
  maxPendingTasks: number;
  maxConcurrentBatches: number;
  backpressure: BackpressureMode;
  queueTimeout: number;
  /** Requests (or chunks) that may wait for capacity; one more is refused. */
  maxQueue: number;
}

export class Admission {
  private readonly capacity: Capacity;
  private readonly batchTurns: Capacity;

  /** `announce` hears the capacity's `needsDrain` turn true or false. */
  constructor(
    private readonly limits: AdmissionLimits,
    private readonly recorder: ProcessorRecorder,
    announce?: (needsDrain: boolean) => void,
  ) {
    this.capacity = new Capacity(limits.maxPendingTasks, announce);
    this.batchTurns = new Capacity(limits.maxConcurrentBatches);
  }

  get needsDrain(): boolean {
    return this.capacity.needsDrain;
  }

  drain(): Promise<void> {
    return this.capacity.drain();
  }

  /** Requests in flight and waiting, batches running and waiting. */
  get occupancy() {
    return {
      inFlight: this.limits.maxPendingTasks - this.capacity.free,
      waiting: this.capacity.queued,
      batches: { running: this.limits.maxConcurrentBatches - this.batchTurns.free, waiting: this.batchTurns.queued },
    };
  }

  /** Takes one permit if it is free now, never waiting. */
  tryAdmitOne(): boolean {
    return this.capacity.tryAcquire(1);
  }

  /**
   * Takes `permits`, counted as submitted, if they are free now; false, with nothing counted,
   * otherwise. A loop that admits this way makes its calls in one turn, where they can share slots.
   */
  admitAtOnce(permits: number): boolean {
    if (!this.capacity.tryAcquire(permits)) return false;
    this.recorder.submitted(permits);
    return true;
  }

  /**
   * Takes `permits` for the request (or chunk) at `index`: resolves with the milliseconds it
   * waited for them, or with the ProcessingError of the refusal (counted for every request it
   * covers).
   */
  async admit(permits: number, waiting: Waiting, mode: BackpressureMode, index: number | undefined): Promise<number | ProcessingError> {
    if (this.admitAtOnce(permits)) return 0;
    this.recorder.submitted(permits);
    let failure: ProcessingError;
    if (mode === 'reject') {
      failure = this.noCapacity(index);
    } else if (this.capacity.queued >= this.limits.maxQueue) {
      const { maxQueue } = this.limits;
      const cause = new QueueFullError(maxQueue, 'requests');
      failure = new ProcessingError('backpressure-exceeded', `no capacity, and ${cause.message}`, { cause, index });
    } else {
      const started = performance.now();
      try {
        await this.capacity.acquire(permits, PRIORITY_LEVEL[waiting.priority], this.limits.queueTimeout, index, waiting.signal);
        return performance.now() - started;
      } catch (error) {
        failure = toProcessingError(error, index);
      }
    }
    for (let i = 0; i < permits; i++) this.recorder.failedWith(failure.kind);
    return failure;
  }

  /** Gives back the permits of finished requests. */
  release(permits: number): void {
    this.capacity.release(permits);
  }

  /**
   * Waits for a batch of `size` requests to have its turn; rejects with the ProcessingError of a
   * refusal, counted for every request of the batch. `endTurn()` once the batch is done.
   */
  async takeTurn(size: number, waiting: Waiting): Promise<void> {
    const reject = this.limits.backpressure === 'reject';
    if (!this.batchTurns.tryAcquire(1)) {
      if (reject) {
        throw this.refuse(
          size,
          new ProcessingError('backpressure-exceeded', `${this.limits.maxConcurrentBatches} batches are running already`),
        );
      }
      try {
        await this.batchTurns.acquire(1, PRIORITY_LEVEL[waiting.priority], Infinity, undefined, waiting.signal);
      } catch (error) {
        throw this.refuse(size, toProcessingError(error, undefined));
      }
    }
    if (reject && this.capacity.needsDrain) {
      this.endTurn();
      throw this.refuse(size, this.noCapacity(undefined));
    }
  }

  endTurn(): void {
    this.batchTurns.release(1);
  }

  /** Fails every waiter, and every later request and batch, with `error`. */
  close(error: ProcessingError): void {
    this.capacity.close(error);
    this.batchTurns.close(error);
  }

  private noCapacity(index: number | undefined): ProcessingError {
    return new ProcessingError('backpressure-exceeded', `no capacity: ${this.limits.maxPendingTasks} requests in flight`, { index });
  }

  /** Counts every request of a batch that never started as refused, and returns the reason. */
  private refuse(size: number, error: ProcessingError): ProcessingError {
    this.recorder.submitted(size);
    for (let i = 0; i < size; i++) this.recorder.failedWith(error.kind);
    return error;
  }
}
