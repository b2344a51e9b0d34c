/**
 * The check, after workers died, that a pool's slot table is whole again: once every call has
 * settled and every worker answers, nothing is queued or running anywhere, no scope is open, and
 * every slot of the workers' regions is free or holds a finished outcome.
 */
import { expect } from 'vitest';
import type { SlotCensus, SlotCounts, ThreadPool } from 'viscose';
import { waitFor } from './wait-for.js';

function idle(counts: SlotCounts): boolean {
  return counts.queued === 0 && counts.running === 0 && counts.openScopes === 0;
}

function whole({ main, nested }: SlotCensus): boolean {
  return idle(main) && main.free === main.capacity && idle(nested) && nested.free + nested.finished === nested.capacity;
}

export async function expectSlotTableWhole(pool: Pick<ThreadPool, 'pending' | 'ping' | 'statistics'>, threads: number): Promise<void> {
  await waitFor(() => pool.pending === 0);
  await waitFor(async () => (await pool.ping()).length === threads);
  // Not at once: crash recovery counts a dead worker's tasks out of a scope record on a later turn
  // of the event loop while a live worker's mark is on that record (pool/main-records.ts). That
  // worker can be descheduled holding the mark and answer the ping just after letting it go,
  // before that turn. A leaked slot stays leaked: the census below then shows it.
  await waitFor(() => whole(pool.statistics().slots)).catch(() => {});
  const { main, nested } = pool.statistics().slots;
  expect(main).toMatchObject({ free: main.capacity, queued: 0, running: 0, openScopes: 0 });
  expect(nested).toMatchObject({ queued: 0, running: 0, openScopes: 0 });
  expect(nested.free + nested.finished).toBe(nested.capacity);
}
