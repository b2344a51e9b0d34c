/**
 * How many calls a client puts in one job. A job costs a few Redis round trips whatever it holds
 * (about 0.65 ms with Redis on the same machine, `npm run bench:bullmq`); a call costs what its task
 * takes. So chunks are made large enough that the job's cost is a small share of the chunk's run
 * time, learnt per task from what the nodes report, and small enough that a batch still spreads over
 * every node seen lately, with several chunks each so that the last ones end close together, and
 * small enough that a job's arguments do not cost the node more than they save.
 */
import type { ChunkResult } from './jobs.js';
import { bytesInJob } from './packing.js';

/** What one job costs besides its calls, rounded up from the measured 0.65 ms for a network between hosts. */
const JOB_COST_MS = 1;
/** The share of a chunk's run time its job's cost may take. */
const JOB_COST_SHARE = 0.05;
/** The most calls in one job: its arguments are read whole by the node. */
export const LARGEST_CHUNK = 4096;
/**
 * The most bytes of a job's arguments, as far as a sample of the calls tells. Measured on one
 * half-core host with 100,000 trivial calls of 38 bytes packed: chunks of 4,096 calls (155 KB) cost
 * the node 116 ms of CPU a batch, chunks of 3,233 (this bound) 98 ms. When the arguments travelled
 * in the job's data as JSON strings, the bound kept that data under V8's largest regular heap
 * object (128 KiB): chunks of 4,096 calls then cost the node 38–43 ms of kernel time a batch,
 * chunks of 3,000 7–17 ms.
 */
const LARGEST_CHUNK_BYTES = 120 * 1024;
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
    const fitting = Math.floor(LARGEST_CHUNK_BYTES / sampledBytesPerCall(argsList));
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
 * The most that the first, middle and last call's arguments add to a job's data: a sample, so that
 * sizing costs no pass over the batch.
 */
function sampledBytesPerCall(argsList: readonly unknown[][]): number {
  if (argsList.length === 0) return 1;
  const sample = [argsList[0], argsList[argsList.length >> 1], argsList[argsList.length - 1]];
  return Math.max(1, ...sample.map(bytesInJob));
}
