/**
 * FIFO lanes: where `spawnFifo` keeps its jobs in spawn order (docs/internals/scopes.md).
 *
 * Each worker has FIFO_LANES lanes, queues it alone pushes to and from which every worker takes the
 * oldest entry. A lane serves one FIFO scope at a time for its worker (Rayon's per-thread FIFO of a
 * `scope_fifo`). A `spawnFifo` puts its job in the lane and a *pointer* on the worker's deque: a
 * slot flagged FIFO_FRONT that names the lane. Whoever claims a pointer — the owner popping its
 * newest entry, or a thief taking the oldest — runs the lane's oldest job, so the jobs a worker
 * spawned into a FIFO scope start in spawn order while the pointers keep their place among the
 * deque's other entries. A worker whose deque is empty also takes from its own lanes directly: a
 * pointer claimed by a worker that died before following it leaves its job there.
 */
import { FIFO_LANES } from '../shm/layout.js';
import type { SlotClaim } from '../queue/claim.js';
import { EMPTY, type WorkQueue } from '../queue/work-queue.js';

export class FifoLanes {
  /** The scope record each of this worker's lanes serves, -1 for none (known to this worker only). */
  private readonly records = new Int32Array(FIFO_LANES).fill(-1);
  /**
   * Bit l set: lane l may hold entries. Set by a push, cleared when the lane is seen empty; all set
   * at first, for what a dead predecessor left.
   */
  private maybeBusy = (1 << FIFO_LANES) - 1;
  private readonly own: readonly WorkQueue[];

  constructor(
    /** Every worker's lanes, this worker's own at `self`. */
    private readonly lanes: readonly (readonly WorkQueue[])[],
    private readonly self: number,
    private readonly claims: SlotClaim,
  ) {
    this.own = lanes[self];
  }

  /**
   * Owner only. The lane for a FIFO spawn into `record`: the one serving it, else an empty one,
   * now serving it; -1 when every lane serves another scope or is full.
   */
  laneFor(record: number): number {
    let chosen = this.records.indexOf(record);
    if (chosen < 0) {
      for (let lane = 0; lane < FIFO_LANES && chosen < 0; lane++) if (this.own[lane].isEmpty()) chosen = lane;
      if (chosen < 0) return -1;
      this.records[chosen] = record;
    }
    return this.own[chosen].hasRoom() ? chosen : -1;
  }

  /** Owner only. Appends a queued job's entry to one of its lanes (which has room: laneFor). */
  push(lane: number, entry: number): void {
    this.own[lane].push(entry);
    this.maybeBusy |= 1 << lane;
  }

  /** Any worker. Claims the oldest job of `owner`'s lane `lane`: its slot, or -1 if there is none. */
  takeFront(owner: number, lane: number): number {
    const queue = this.lanes[owner][lane];
    for (;;) {
      const slot = queue.steal(this.claims);
      if (slot >= 0) return slot;
      if (slot === EMPTY) return -1;
    }
  }

  /** Owner only. Claims the oldest job of any of its lanes that holds one: its slot, or -1. */
  takeOwn(): number {
    if (this.maybeBusy === 0) return -1;
    for (let lane = 0; lane < FIFO_LANES; lane++) {
      if ((this.maybeBusy & (1 << lane)) === 0) continue;
      const slot = this.takeFront(this.self, lane);
      if (slot >= 0) return slot;
      // Only this worker pushes to it: empty now, it stays empty until this worker pushes again.
      this.maybeBusy &= ~(1 << lane);
    }
    return -1;
  }

  /** Any thread. Whether any of this worker's lanes may hold a job (a snapshot). */
  ownWorkVisible(): boolean {
    if (this.maybeBusy === 0) return false;
    for (let lane = 0; lane < FIFO_LANES; lane++) if (!this.own[lane].isEmpty()) return true;
    return false;
  }

  /** Owner only, before it takes work: the entries its lanes hold (WorkQueue.adoptOwnership). */
  adoptOwnership(): Set<number> {
    const entries = new Set<number>();
    for (const lane of this.own) for (const entry of lane.adoptOwnership()) entries.add(entry);
    return entries;
  }
}
