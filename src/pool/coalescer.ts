/**
 * Calls made in the same turn of the event loop travel together. The first call of a turn goes at
 * once, alone, so a lone call never waits for company. Later calls of the same turn, of a task
 * that is short (task-costs.ts), join a group per task and priority, which goes as one slot of up
 * to `sharedCalls` calls when it is full and at the end of the turn (a microtask): what the
 * `Promise.all(items.map((x) => pool.run('f', x)))` burst costs comes close to a `runBatch`.
 *
 * Each call keeps its own promise, its own result or error, and its priority. Its arguments are
 * encoded when it is made, as a lone call's are (a caller may change them right after), and its
 * observer is told its share of the slot's run time. Calls with a signal, a run-time limit or
 * retries always go alone, as do calls whose arguments hold a `Map` or are large. A worker that dies while it runs a shared slot fails
 * every call of that slot with WorkerCrashedError (their results died with it), and the task's
 * calls never share a slot again.
 */
import { MAX_CHUNK_HEADER_BYTES } from '../codec/chunk-buffer.js';
import type { PayloadCodec } from '../codec/payload.js';
import { TaskError, WorkerCrashedError } from '../errors.js';
import { PRIORITY_LEVELS } from '../shm/layout.js';
import { SlotFlag, SlotState } from '../shm/slot.js';
import type { PendingWork } from './work.js';
import type { CoalesceMode } from './options.js';
import type { Submitter } from './submitter.js';
import type { TaskCosts } from './task-costs.js';
import type { CallObserver } from './types.js';

/** Arguments that encode to more than this travel alone. */
export const MAX_SHARED_ARGUMENT_BYTES = 1024;
/** A group goes once its arguments reach this many bytes, whatever its count. */
const MAX_GROUP_BYTES = 64 * 1024;

type Resolve = (value: unknown) => void;
type Reject = (reason: unknown) => void;

/** Calls of one task and priority waiting for the end of the turn. */
interface Group {
  task: number;
  level: number;
  name: string;
  /** Calls the group holds before it goes. */
  capacity: number;
  parts: Uint8Array[];
  bytes: number;
  held: number[];
  resolves: Resolve[];
  rejects: Reject[];
  /** Each call's run-time hook (`observer.ran`), if any call has one. */
  observers: (CallObserver['ran'] | undefined)[] | undefined;
}

export class Coalescer {
  /** A call went out in this turn already. */
  private turnStarted = false;
  private readonly groups = new Map<number, Group>();
  private readonly endTurn = (): void => {
    this.turnStarted = false;
    // Taken out first: sending settles what completed meanwhile, whose hooks may make new calls.
    const groups = [...this.groups.values()];
    this.groups.clear();
    for (const group of groups) this.send(group);
  };

  constructor(
    private readonly codec: PayloadCodec,
    private readonly submitter: Submitter,
    private readonly costs: TaskCosts,
    private readonly workerNames: readonly string[],
    private readonly mode: CoalesceMode,
    /** Why nothing more can be queued (the pool was terminated or failed), if so. */
    private readonly refuses: () => Error | undefined,
    /** Reports what a caller's observer threw to the pool's `onError`. */
    private readonly report: (error: unknown) => void,
  ) {}

  /**
   * Whether a call of `task` made now should wait for company: not if it is the turn's first
   * (which it then marks), nor if the task's calls do not share slots.
   */
  shares(task: number): boolean {
    if (this.mode === 'never') return false;
    if (!this.turnStarted) {
      this.turnStarted = true;
      queueMicrotask(this.endTurn);
      return false;
    }
    return this.costs.sharedCalls(task, this.mode === 'always') > 1;
  }

  /**
   * Adds a call whose arguments are encoded as `part` (`held`: the shared buffers they name) to
   * its group, which goes when full or at the end of the turn; `ran` is told the call's share of
   * the slot's run time before it settles.
   */
  add(
    task: number,
    level: number,
    name: string,
    part: Uint8Array,
    held: readonly number[] | undefined,
    resolve: Resolve,
    reject: Reject,
    ran: CallObserver['ran'],
  ): void {
    const key = task * PRIORITY_LEVELS + level;
    let group = this.groups.get(key);
    // The chunk (its header and parts) must fit maxPayloadBytes like any payload.
    if (group !== undefined && group.bytes + part.length + MAX_CHUNK_HEADER_BYTES > this.codec.maxPayloadBytes) {
      this.groups.delete(key);
      this.send(group);
      group = undefined;
    }
    if (group === undefined) {
      const capacity = this.costs.sharedCalls(task, this.mode === 'always');
      group = { task, level, name, capacity, parts: [], bytes: 0, held: [], resolves: [], rejects: [], observers: undefined };
      this.groups.set(key, group);
    }
    group.parts.push(part);
    group.bytes += part.length;
    if (held !== undefined) group.held.push(...held);
    if (ran !== undefined) group.observers ??= new Array(group.resolves.length).fill(undefined);
    group.observers?.push(ran);
    group.resolves.push(resolve);
    group.rejects.push(reject);
    if (group.parts.length >= group.capacity || group.bytes >= MAX_GROUP_BYTES) {
      this.groups.delete(key);
      this.send(group);
    }
  }

  private send(group: Group): void {
    const refused = this.refuses();
    if (refused !== undefined) {
      this.submitter.letGo(group.held);
      for (const reject of group.rejects) reject(refused);
      return;
    }
    const calls = new SharedSlotCalls(group, this.workerNames, this.costs, this.report);
    const submission = {
      task: group.task,
      batch: group.parts.length,
      flags: SlotFlag.SETTLE_EACH,
      scope: -1,
      target: -1,
      level: group.level,
      shared: true,
    };
    this.submitter.submit(
      submission,
      this.codec.chunkOf(group.parts, group.bytes),
      calls,
      group.held.length === 0 ? undefined : group.held,
    );
  }
}

/** The calls of one shared slot, each settled on its own. */
class SharedSlotCalls implements PendingWork {
  private readonly task: number;
  private readonly name: string;
  private readonly resolves: Resolve[];
  private readonly rejects: Reject[];
  private readonly observers: (CallObserver['ran'] | undefined)[] | undefined;

  constructor(
    group: Group,
    private readonly workerNames: readonly string[],
    private readonly costs: TaskCosts,
    private readonly report: (error: unknown) => void,
  ) {
    this.task = group.task;
    this.name = group.name;
    this.resolves = group.resolves;
    this.rejects = group.rejects;
    this.observers = group.observers;
  }

  settle(state: number, outcome: unknown, worker: number, runMs: number, outcomeBytes: number): void {
    const count = this.resolves.length;
    this.costs.ran(this.task, runMs, count, outcomeBytes);
    if (this.observers !== undefined) this.tellObservers(runMs / count);
    const workerName = this.workerNames[worker];
    if (state !== SlotState.DONE) {
      // The slot failed as a whole (its results were too large together): every call with it.
      const [, error] = outcome as [number, unknown];
      for (const reject of this.rejects) reject(new TaskError(this.name, workerName, error));
      return;
    }
    const [results, failures] = outcome as [unknown[], [number, unknown][]];
    const failed = new Uint8Array(count);
    for (const [index, error] of failures) {
      failed[index] = 1;
      this.rejects[index](new TaskError(this.name, workerName, error));
    }
    for (let i = 0; i < count; i++) if (failed[i] === 0) this.resolves[i](results[i]);
  }

  /**
   * Tells each observer the run time of its calls, `perCallMs` each: once for a run of consecutive
   * calls with the same hook (the calls of one processor batch come together), as a lone chunk's
   * observer is told once for the chunk.
   */
  private tellObservers(perCallMs: number): void {
    const observers = this.observers!;
    for (let start = 0; start < observers.length; ) {
      const ran = observers[start];
      let end = start + 1;
      while (end < observers.length && observers[end] === ran) end++;
      try {
        ran?.(perCallMs * (end - start), end - start);
      } catch (error) {
        this.report(error);
      }
      start = end;
    }
  }

  abandon(error: unknown): void {
    if (error instanceof WorkerCrashedError) this.costs.crashedOn(this.task);
    for (const reject of this.rejects) reject(error);
  }
}
