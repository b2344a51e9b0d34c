// Run profiles: how many rounds, and how long the runner waits for an idle machine and for a child.
// Workload sizes per profile live with each workload (workloads.mjs).

export const profiles = {
  full: {
    // Three rounds keep the whole `npm run bench` (this, fork-join, Rayon) under ten minutes on 2
    // cores with seven contenders; the min–max table shows how far the rounds spread.
    rounds: 3,
    /** Attempts per contender and round: a child whose measurement was contaminated is re-run. */
    attempts: 3,
    idleTimeoutMs: 10_000,
    childTimeoutMs: 120_000,
    /** Minimum warm-up per workload, the same for every contender (see one.mjs). */
    warmupMs: 2_000,
  },
  // A smoke check that must finish in under a minute, build included: it gives a busy machine
  // little patience and only flags contamination instead of re-running.
  quick: {
    rounds: 2,
    attempts: 1,
    idleTimeoutMs: 2_000,
    childTimeoutMs: 30_000,
    warmupMs: 300,
  },
};

/** Worker threads per pool, for every contender. */
export const THREADS = 2;
