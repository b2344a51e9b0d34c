/**
 * The check, after workers died, that a pool's slot table is whole again: once every call has
 * settled and every worker answers, nothing is queued or running anywhere, no scope is open, and
 * every slot of the workers' regions is free or holds a finished outcome.
 */
import { expect, vi } from 'vitest';
import type { ThreadPool } from 'viscose';
import { waitFor } from './wait-for.js';

export async function expectSlotTableWhole(pool: Pick<ThreadPool, 'pending' | 'ping' | 'statistics'>, threads: number): Promise<void> {
  await waitFor(() => pool.pending === 0);
  await waitFor(async () => (await pool.ping()).length === threads);
  // Retried for a while, not asserted at once: crash recovery counts a dead worker's tasks out of a
  // scope record on a later turn of the event loop while a live worker's mark is on that record
  // (pool/main-records.ts). That worker can be descheduled holding the mark and answer the ping
  // just after letting it go, before that turn. A leaked slot stays leaked, and fails the last try.
  await vi.waitFor(
    () => {
      const { main, nested } = pool.statistics().slots;
      expect(main).toMatchObject({ free: main.capacity, queued: 0, running: 0, openScopes: 0 });
      expect(nested).toMatchObject({ queued: 0, running: 0, openScopes: 0 });
      expect(nested.free + nested.finished).toBe(nested.capacity);
    },
    { timeout: 10_000, interval: 10 },
  );
}
