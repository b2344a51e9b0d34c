/**
 * The parallel sorts from the main thread (`pool.parSort`, `parSortUnstable`, `parSortBy`): the
 * arguments are checked here, a sort large enough to share is sent to a worker as one call of the
 * built-in task SORT_TASK, which splits it from there (runner.ts), and the result is written to
 * what the caller passed, in place.
 */
import type { PayloadCodec } from '../codec/payload.js';
import { sharedBuffers } from '../codec/shared-buffers.js';
import { PoolClosedError } from '../errors.js';
import { MAIN_CREATOR, pipelineId } from '../iter/runner.js';
import { NORMAL_LEVEL } from '../queue/priority.js';
import type { CallGate } from '../pool/call-runner.js';
import type { BuiltInCall, MainForkJoin } from '../pool/main-fork-join.js';
import type { Submitter } from '../pool/submitter.js';
import type { TaskModule } from '../pool/types.js';
import { INDEX_KIND, applyOrder, comparableItems, numberIndices } from './arrays.js';
import { SEQUENTIAL_BELOW, SORT_TASK_OFFSET, SortOp, type SortHeader, sortHeader } from './runner.js';
import { ScratchBuffers } from './scratch.js';
import { type AnyNumericArray, anyKind, checkNumericArray, isNumericArray, isShared } from './sortable.js';

/** What the pool's module and threads count: SORT_TASK's id follows the module's tasks. */
export interface SortCounts {
  tasks: number;
  threads: number;
}

export class MainSort {
  /** Plain-array sorts started from this thread, for the keys of their items. */
  private arraySorts = 0;
  /** Buffers kept for the next sort; those let go of are forgotten by the workers at once. */
  private readonly scratch = new ScratchBuffers((buffer) => sharedBuffers.release(buffer));

  constructor(
    private readonly gate: CallGate,
    private readonly codec: PayloadCodec,
    private readonly submitter: Submitter,
    private readonly forks: Pick<MainForkJoin<TaskModule>, 'runBuiltIn'>,
    private readonly counts: SortCounts,
  ) {}

  /** ThreadPool.parSort and parSortUnstable (`where` names which, for errors). */
  parSort<T>(view: T, where: string): Promise<T> {
    try {
      if (!this.gate.open()) throw new PoolClosedError();
      checkNumericArray(view, where);
      const numbers = anyKind(view);
      // A round trip to a worker costs more than sorting this few here.
      if (numbers.length < SEQUENTIAL_BELOW || this.counts.threads === 1) {
        numbers.sort();
        return Promise.resolve(view);
      }
      return this.sortView(numbers, -1, where).then(() => view);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** ThreadPool.parSortBy. */
  parSortBy<T>(target: T, compareTask: string): Promise<T> {
    try {
      const compare = this.gate.accept(compareTask);
      if (isNumericArray(target)) {
        checkNumericArray(target, 'parSortBy');
        return this.sortView(anyKind(target), compare, 'parSortBy').then(() => target);
      }
      if (Array.isArray(target)) return this.sortArray(target, compare).then(() => target);
      throw new TypeError(`parSortBy sorts a typed array or an array; got ${target === null ? 'null' : typeof target}`);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A typed array, sorted by a worker in shared memory: its own buffer, or a copy that is written
   * back into it once sorted.
   */
  private async sortView(view: AnyNumericArray, compare: number, where: string): Promise<void> {
    const data = isShared(view) ? view : this.scratch.copyOf(view);
    const scratch = this.scratch.take(view);
    const borrowed = data === view ? [scratch] : [scratch, data];
    await this.sent(borrowed, () => this.send(where, sortHeader(data, scratch, compare)));
    if (data !== view) view.set(data);
    this.scratch.give(borrowed);
  }

  /**
   * A plain array: a copy of its items goes to shared memory, the workers sort their indices, and
   * the array is reordered here, keeping its own objects.
   */
  private async sortArray(array: unknown[], compare: number): Promise<void> {
    const { items, undefineds } = comparableItems(array);
    const { codec, submitter } = this;
    const ref = codec.storeBlock(items, 'parSortBy');
    const heldByItems = submitter.holdReferenced() ?? [];
    const indices = this.scratch.take(INDEX_KIND, items.length);
    numberIndices(indices);
    const key = pipelineId(++this.arraySorts, MAIN_CREATOR);
    const scratch = this.scratch.take(indices);
    await this.sent([scratch, indices], () => this.send('parSortBy', sortHeader(indices, scratch, compare, key, ref), ref, heldByItems));
    applyOrder(array, items, indices, undefineds);
    this.scratch.give([scratch, indices]);
  }

  /** Runs `send`; if the sort fails, its buffers are let go of, so the workers forget them too. */
  private async sent(borrowed: AnyNumericArray[], send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      this.scratch.letGo(borrowed);
      throw error;
    }
  }

  /**
   * Sends the root call of a sort. `ref` is the block of a plain array's items, and `heldByItems`
   * the shared buffers they name: both are let go of if the call cannot be sent.
   */
  private send(where: string, header: SortHeader, ref?: BuiltInCall['ref'], heldByItems: number[] = []): Promise<unknown> {
    const { codec, submitter } = this;
    let held: number[];
    let payload: BuiltInCall['payload'];
    try {
      payload = codec.encodeList([SortOp.ROOT, ...header], 'args');
      held = [...heldByItems, ...(submitter.holdReferenced() ?? [])];
    } catch (error) {
      if (ref !== undefined) codec.releaseBlock(ref);
      submitter.letGo(heldByItems);
      throw error;
    }
    return this.forks.runBuiltIn({
      name: where,
      task: this.counts.tasks + SORT_TASK_OFFSET,
      payload,
      ref,
      held: held.length > 0 ? held : undefined,
      level: NORMAL_LEVEL,
    });
  }
}
