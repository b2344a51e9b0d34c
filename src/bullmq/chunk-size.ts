/**
 * How many calls a client puts in one job. A job costs a few Redis round trips whatever it holds
 * (about 0.65 ms with Redis on the same machine, `npm run bench:bullmq`); a call costs what its task
 * takes. So chunks are made large enough that the job's cost is a small share of the chunk's run
 * time, learnt per task from what the nodes report, and small enough that a batch still spreads over
 * every node seen lately, with several chunks each so that the last ones end close together, and
 * small enough that a job's arguments do not cost the node more than they save.
 */
import type { ChunkResult } from './jobs.js';
import { argumentBytes } from './packing.js';

/** What one job costs besides its calls, rounded up from the measured 0.65 ms for a network between hosts. */
const JOB_COST_MS = 1;
/** The share of a chunk's run time its job's cost may take. */
const JOB_COST_SHARE = 0.05;
/** The most calls in one job: its arguments are read whole by the node. */
export const LARGEST_CHUNK = 4096;
/**
 * The most bytes of a job's arguments in JSON, in its data: under V8's largest regular heap object
 * (128 KiB). Larger job data arrives and is parsed as strings of V8's large-object space, each in
 * pages of its own that the system maps and zeroes anew, on the node and the client alike.
 * Measured (1 host × ½ core, 100,000 trivial calls of 42 bytes): chunks of 4,096 calls cost the
 * node 38–43 ms of kernel time a batch, chunks of 3,000 7–17 ms, and the node's CPU in all fell by
 * a fifth; with calls of 2 KB, jobs of 120 KB instead of 1 MB took the same time.
 */
const LARGEST_JSON_CHUNK_BYTES = 120 * 1024;
/**
 * The most bytes of a job's packed arguments, which travel as bytes beside the job (job-args.ts)
 * and reach the node as one buffer outside V8's heap. Measured (100,000 trivial calls of 38 bytes
 * packed, 2–3 rounds of 8 batches): chunks of 4,096 calls (155 KB) against 3,233 (the JSON bound)
 * took 198 against 213 ms a batch on one half-core host; on two, 99 against 110, and 127 against
 * 152 with 1 ms added between hosts and Redis (fewer jobs, fewer round trips). This bound only
 * keeps one job's arguments to a size a node reads and copies to its pool at once.
 */
const LARGEST_PACKED_CHUNK_BYTES = 1024 * 1024;
/** The fewest chunks a batch is cut into, whatever the nodes seen. */
const FEWEST_CHUNKS = 16;
/** Chunks per node seen, so that nodes finishing early find more to take. */
const CHUNKS_PER_NODE = 8;
/** How long a node counts as present after its last chunk result. */
const NODE_PRESENT_MS = 60_000;
/** Weight of the newest measurement in a task's per-call estimate. */
const NEWEST_WEIGHT = 0.3;

export class ChunkSizer {
  /** Per task: the estimated time a node's pool thread spends on a call, in milliseconds. */
  private readonly perCallMs = new Map<string, number>();
  /** The nodes that reported a chunk, with when they last did. */
  private readonly nodes = new Map<string, number>();

  /** @param fixed the client's `chunkSize` when it is a number: then every chunk has that size. */
  constructor(private readonly fixed: number | undefined) {}

  /** The size of the chunks the calls of `task` with these arguments are cut into. */
  sizeFor(task: string, argsList: readonly unknown[][]): number {
    if (this.fixed !== undefined) return this.fixed;
    const chunks = Math.max(FEWEST_CHUNKS, CHUNKS_PER_NODE * this.nodesPresent());
    const spread = Math.ceil(argsList.length / chunks);
    const perCall = this.perCallMs.get(task);
    const worthAJob = perCall === undefined ? LARGEST_CHUNK : Math.ceil(JOB_COST_MS / (JOB_COST_SHARE * perCall));
    const { bytes, packed } = sampledArguments(argsList);
    const fitting = Math.floor((packed ? LARGEST_PACKED_CHUNK_BYTES : LARGEST_JSON_CHUNK_BYTES) / bytes);
    return Math.max(1, Math.min(spread, worthAJob, fitting, LARGEST_CHUNK));
  }

  /** Learns from a chunk's result: its task's cost per call, and that its node is present. */
  learn(task: string, result: ChunkResult): void {
    this.nodes.set(result.node, Date.now());
    if (result.ran === 0 || !(result.runMs >= 0)) return;
    const measured = result.runMs / result.ran;
    const estimate = this.perCallMs.get(task);
    this.perCallMs.set(task, estimate === undefined ? measured : estimate + NEWEST_WEIGHT * (measured - estimate));
  }

  private nodesPresent(): number {
    const since = Date.now() - NODE_PRESENT_MS;
    for (const [node, seen] of this.nodes) if (seen < since) this.nodes.delete(node);
    return this.nodes.size;
  }
}

/**
 * The most that the first, middle and last call's arguments add to a job, and whether all three
 * pack: a sample, so that sizing costs no pass over the batch.
 */
function sampledArguments(argsList: readonly unknown[][]): { bytes: number; packed: boolean } {
  if (argsList.length === 0) return { bytes: 1, packed: true };
  const sample = [argsList[0], argsList[argsList.length >> 1], argsList[argsList.length - 1]].map(argumentBytes);
  return { bytes: Math.max(1, ...sample.map(({ bytes }) => bytes)), packed: sample.every(({ packed }) => packed) };
}
