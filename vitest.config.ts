import { defineConfig } from 'vitest/config';

/** The suites that run a whole pool: they run a second time with the native deque (queue: 'native'). */
const POOL_SUITES = [
  'test/pool/**/*.test.ts',
  'test/forkjoin/**/*.test.ts',
  'test/iter/**/*.test.ts',
  'test/sort/**/*.test.ts',
  'test/processor/**/*.test.ts',
  'test/transfer/**/*.test.ts',
  'test/events/**/*.test.ts',
];

export default defineConfig({
  test: {
    // Thread-heavy suites share two cores: running files one at a time keeps them from starving
    // each other into timeouts.
    fileParallelism: false,
    // Every slot state change is checked against the protocol's table (src/shm/slot-protocol.ts),
    // in the test processes and in the pools' workers, which inherit the environment.
    env: { VISCOSE_CHECK_SLOTS: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Looks for redis-server and spin once: their tests skip without them, or fail the run when
    // VISCOSE_REQUIRE_SERVICES=1 (test/support/services.ts).
    globalSetup: ['test/support/services.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'js queue',
          include: ['test/**/*.test.ts'],
          typecheck: {
            enabled: true,
            include: ['test/**/*.test-d.ts'],
            tsconfig: './tsconfig.test.json',
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'native queue',
          include: POOL_SUITES,
          // The pools' default backend (src/pool/options.ts); the addon is built by `npm test`.
          env: { VISCOSE_QUEUE: 'native', VISCOSE_CHECK_SLOTS: '1' },
        },
      },
    ],
  },
});
