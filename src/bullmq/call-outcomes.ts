/**
 * The outcomes of the calls of one submission — a batch, or the `run` calls of one task gathered
 * in a turn — kept in two arrays rather than as a promise per call: a batch of 100,000 trivial
 * calls spent more time making and settling its promises than its nodes spent running it. Each
 * call is settled once, by its job's outcome or earlier by an abort or the client's close.
 */

const PENDING = 0;
const FULFILLED = 1;
const FAILED = 2;

/** Told of each call's outcome as it comes (the gathered `run` calls, each with its own promise). */
export type OutcomeListener = (index: number, fulfilled: boolean, result: unknown) => void;

export class CallOutcomes {
  private readonly states: Uint8Array;
  /** A fulfilled call's value, a failed call's error. */
  private readonly results: unknown[];
  private unsettled: number;
  /** The lowest index whose call has not been fulfilled (for {@link whenAll}). */
  private firstNotFulfilled = 0;
  private allWaiter: { resolve(values: unknown[]): void; reject(error: unknown): void } | undefined;
  private settledWaiters: ((results: PromiseSettledResult<unknown>[]) => void)[] = [];

  /**
   * @param indexed the calls are a batch's: a failure names its index.
   * @param listener told of each outcome as it comes.
   */
  constructor(
    readonly count: number,
    readonly indexed: boolean,
    private readonly listener?: OutcomeListener,
  ) {
    this.states = new Uint8Array(count);
    this.results = new Array(count);
    this.unsettled = count;
  }

  /** Fulfils call `index` with `value`; false if it had settled already. */
  fulfil(index: number, value: unknown): boolean {
    return this.settle(index, FULFILLED, value);
  }

  /** Fails call `index` with `error`; false if it had settled already. */
  fail(index: number, error: unknown): boolean {
    return this.settle(index, FAILED, error);
  }

  /** Whether some call from `start`, of `count`, has not settled. */
  pendingIn(start: number, count: number): boolean {
    for (let index = start; index < start + count; index++) if (this.states[index] === PENDING) return true;
    return false;
  }

  /**
   * Resolves with every call's value in order; rejects with the failure of the lowest index as
   * soon as every call before it has been fulfilled (the calls after it still run).
   */
  whenAll(): Promise<unknown[]> {
    const all = new Promise<unknown[]>((resolve, reject) => {
      this.allWaiter = { resolve, reject };
    });
    this.checkAll();
    return all;
  }

  /** Resolves with every call's outcome, as `Promise.allSettled` does, once all have settled. */
  whenSettled(): Promise<PromiseSettledResult<unknown>[]> {
    const settled = new Promise<PromiseSettledResult<unknown>[]>((resolve) => this.settledWaiters.push(resolve));
    this.checkSettled();
    return settled;
  }

  private settle(index: number, state: number, result: unknown): boolean {
    if (this.states[index] !== PENDING) return false;
    this.states[index] = state;
    this.results[index] = result;
    this.unsettled--;
    this.listener?.(index, state === FULFILLED, result);
    if (this.allWaiter !== undefined) this.checkAll();
    if (this.unsettled === 0) this.checkSettled();
    return true;
  }

  private checkAll(): void {
    const waiter = this.allWaiter!;
    while (this.firstNotFulfilled < this.count && this.states[this.firstNotFulfilled] === FULFILLED) this.firstNotFulfilled++;
    if (this.firstNotFulfilled === this.count) waiter.resolve(this.results);
    else if (this.states[this.firstNotFulfilled] === FAILED) waiter.reject(this.results[this.firstNotFulfilled]);
    else return;
    this.allWaiter = undefined;
  }

  private checkSettled(): void {
    if (this.unsettled > 0 || this.settledWaiters.length === 0) return;
    const outcomes = Array.from(
      this.results,
      (result, index): PromiseSettledResult<unknown> =>
        this.states[index] === FULFILLED ? { status: 'fulfilled', value: result } : { status: 'rejected', reason: result },
    );
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve(outcomes);
  }
}
