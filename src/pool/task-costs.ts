/**
 * What the main thread has learned of each task from the calls it made: how long one call runs on
 * a worker (a moving average), how large one call's outcome is (the largest seen lately), and
 * whether a worker ever died running it. The coalescer asks it whether calls of a task may share a
 * slot, and how many: their outcomes travel back together and must fit maxPayloadBytes.
 */

/** Calls seen before a task's cost is trusted. */
const SAMPLES_NEEDED = 8;
/**
 * The typical cost follows a cheaper call at once (weight 1/2) and a dearer one slowly (1/16), and
 * a sample counts for at most MAX_SAMPLE_MICROS: a worker preempted in the middle of a call (this
 * machine is shared) must not make a short task look long. A task whose calls really grew long is
 * seen as such within a few tens of calls.
 */
const WEIGHT_DOWN = 1 / 2;
const WEIGHT_UP = 1 / 16;
/**
 * Tasks at most this long per call (µs) share slots. A slot costs the main thread about 2 µs and a
 * hand-off to a parked worker 5–50 µs; past a few tens of µs of work, keeping the calls apart for
 * balance is worth more than what sharing saves.
 */
const SHORT_CALL_MICROS = 25;
/** What one sample may weigh, in µs: far above SHORT_CALL_MICROS, far below a preemption. */
const MAX_SAMPLE_MICROS = 200;
/** A shared slot holds calls for about this long (µs), so that chunks stay small next to a burst. */
const CHUNK_MICROS = 200;
/** Calls one shared slot holds at most. */
export const MAX_SHARED_CALLS = 128;
/** What a call's outcome is taken to weigh before one was seen, in bytes. */
const UNSEEN_OUTCOME_BYTES = 1024;
/** How fast the largest outcome seen is forgotten, per call. */
const OUTCOME_DECAY = 0.98;

export class TaskCosts {
  private readonly micros: Float64Array;
  private readonly samples: Uint32Array;
  private readonly crashed: Uint8Array;
  /** Bytes of one call's outcome: the largest seen, slowly forgotten; 0 before any. */
  private readonly outcomeBytes: Float64Array;

  constructor(
    tasks: number,
    /** The pool's maxPayloadBytes, which a shared slot's outcomes must fit together. */
    private readonly maxPayloadBytes: number,
  ) {
    this.micros = new Float64Array(tasks);
    this.samples = new Uint32Array(tasks);
    this.crashed = new Uint8Array(tasks);
    this.outcomeBytes = new Float64Array(tasks);
  }

  /** `calls` calls of `task` ran in `runMs` on a worker (one slot), their outcome `bytes` long. */
  ran(task: number, runMs: number, calls: number, bytes: number): void {
    this.outcomeBytes[task] = Math.max(bytes / calls, this.outcomeBytes[task] * OUTCOME_DECAY);
    const perCall = (runMs * 1000) / calls;
    const seen = this.samples[task];
    const typical = this.micros[task];
    if (seen === 0) this.micros[task] = perCall;
    else if (perCall < typical) this.micros[task] = typical + (perCall - typical) * WEIGHT_DOWN;
    else this.micros[task] = typical + (Math.min(perCall, MAX_SAMPLE_MICROS) - typical) * WEIGHT_UP;
    if (seen < SAMPLES_NEEDED) this.samples[task] = seen + 1;
  }

  /** A worker died while it ran `task`: its calls never share a slot again. */
  crashedOn(task: number): void {
    this.crashed[task] = 1;
  }

  /**
   * How many calls of `task` may share a slot: 1 if they may not. `always`: whatever the task
   * costs, unless a worker died running it.
   */
  sharedCalls(task: number, always: boolean): number {
    if (this.crashed[task] === 1) return 1;
    // Outcomes of up to twice the size seen must fit together (a few bytes of framing each).
    const perCall = 2 * (this.outcomeBytes[task] || UNSEEN_OUTCOME_BYTES) + 16;
    const fit = Math.min(MAX_SHARED_CALLS, Math.floor(this.maxPayloadBytes / perCall));
    if (fit < 2) return 1;
    if (always) return fit;
    if (this.samples[task] < SAMPLES_NEEDED) return 1;
    const micros = this.micros[task];
    if (micros > SHORT_CALL_MICROS) return 1;
    return Math.max(2, Math.min(fit, Math.floor(CHUNK_MICROS / Math.max(micros, 1))));
  }
}
