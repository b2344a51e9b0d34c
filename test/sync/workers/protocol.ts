/** What the sleep stress test and its worker threads agree on. */
import type { PoolMemory } from '../../support/shared.js';

/** Words of the test's control buffer. */
export const Control = {
  /** Jobs executed so far, incremented by the workers. */
  EXECUTED: 0,
  /** Set by the main thread once every job ran: the workers then leave their loop. */
  STOP: 1,
  WORDS: 2,
} as const;

export interface SleepTestData extends PoolMemory {
  control: SharedArrayBuffer;
  /** One counter per job (support/tally.ts), incremented when the job runs. */
  executed: SharedArrayBuffer;
  /** One state word per job (support/claims.ts): a worker claims a job before removing it from the injector. */
  claims: SharedArrayBuffer;
  spinMicros: number;
  seed: number;
}

export interface ProducerData extends SleepTestData {
  jobs: number;
  maxBurst: number;
  /** Pauses between bursts last up to this long: many times the spin time, so workers park. */
  maxPauseMicros: number;
  /** How long posted jobs may stay unexecuted while the producer waits before that is a hang. */
  quiesceTimeoutMs: number;
}

export interface ProducerStats {
  bursts: number;
  quiescePoints: number;
  fullPushes: number;
}

export interface WorkerData extends SleepTestData {
  index: number;
  /** Each job busy-waits up to this many loop iterations, so that queues build up in bursts. */
  maxJobCost: number;
}

export interface WorkerStats {
  executed: number;
  parks: number;
}
