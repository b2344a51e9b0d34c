/**
 * Running admitted requests where they run (a pool, a cluster): one request as one call, a chunk
 * of requests as one `runBatchSettled` (one pool chunk; on a cluster, as many jobs as the client
 * makes of it); counting each outcome and giving each permit back once its request is settled.
 */
import type { TaskArgs, TaskName, TaskResult } from '../pool/types.js';
import type { Admission } from './admission.js';
import type { ProcessorCalls } from './site.js';
import { type ProcessingResult, settleInto, toProcessingError } from './results.js';
import type { ProcessorRecorder } from './statistics.js';

export class RequestHandler<M, K extends TaskName<M>> {
  constructor(
    /** The task that handles a request. */
    private readonly task: K,
    private readonly admission: Admission,
    private readonly recorder: ProcessorRecorder,
  ) {}

  /** Runs one admitted request through `calls` (its permit is held) and gives the permit back. */
  async handle(request: unknown, calls: ProcessorCalls<M>, index: number | undefined, waitMs: number): Promise<TaskResult<M, K>> {
    const started = this.recorder.detailed ? performance.now() : 0;
    try {
      const value = await calls.run(this.task, ...([request] as TaskArgs<M, K>));
      this.recorder.succeeded();
      return value;
    } catch (error) {
      const failure = toProcessingError(error, index);
      this.recorder.failedWith(failure.kind);
      throw failure;
    } finally {
      this.admission.release(1);
      if (started !== 0) this.recorder.timed(performance.now() - started + waitMs, waitMs);
    }
  }

  /**
   * Runs an admitted chunk (its permits are held) as one pool chunk, filling `results` from
   * `start`. A chunk the pool refuses as a whole (a request that cannot be encoded) runs one request
   * at a time, so that only the bad request fails; so does a chunk whose requests have a time limit,
   * which is counted per request from its own start.
   */
  async handleChunk(
    chunk: unknown[],
    calls: ProcessorCalls<M>,
    timeLimited: boolean,
    start: number,
    results: ProcessingResult<TaskResult<M, K>>[],
  ): Promise<void> {
    const oneByOne = () =>
      Promise.all(chunk.map((request, i) => settleInto(results, start + i, this.handle(request, calls, start + i, 0))));
    if (timeLimited) {
      await oneByOne();
      return;
    }
    let outcomes: PromiseSettledResult<TaskResult<M, K>>[];
    try {
      outcomes = await calls.runBatchSettled(
        this.task,
        chunk.map((request) => [request] as TaskArgs<M, K>),
      );
    } catch {
      await oneByOne();
      return;
    }
    this.admission.release(chunk.length);
    outcomes.forEach((outcome, i) => {
      const index = start + i;
      if (outcome.status === 'fulfilled') {
        this.recorder.succeeded();
        results[index] = { ok: true, value: outcome.value, index };
      } else {
        const error = toProcessingError(outcome.reason, index);
        this.recorder.failedWith(error.kind);
        results[index] = { ok: false, error, index };
      }
    });
  }
}
