/**
 * Single `run` calls made in the same turn of the event loop, gathered to be added together: calls
 * of one task with the same options (priority, signal, job options) go to the queue as one bulk
 * add, cut into chunks like a batch. The group is added in a microtask after its first call, so a
 * call made alone waits for nothing; it then goes as a job of its own.
 */

import type { OutcomeListener } from './call-outcomes.js';

/** What adds a group: `listener` is told of each call's outcome; rejects if the calls could not be added. */
export type AddCalls = (task: string, argsList: unknown[][], listener: OutcomeListener) => Promise<void>;

interface Group {
  add: AddCalls;
  task: string;
  argsList: unknown[][];
  settlers: { resolve(value: unknown): void; reject(error: unknown): void }[];
}

export class CallCoalescer {
  private groups = new Map<string, Group>();
  private count = 0;

  /** Calls gathered and not yet handed to their group's `add`. */
  get gathered(): number {
    return this.count;
  }

  /**
   * Adds a call to the group `key` (calls with equal keys must be addable together by `add`) and
   * returns its promise.
   */
  gather(key: string, task: string, args: unknown[], add: AddCalls): Promise<unknown> {
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size === 0) queueMicrotask(() => this.flush());
      group = { add, task, argsList: [], settlers: [] };
      this.groups.set(key, group);
    }
    group.argsList.push(args);
    this.count++;
    return new Promise((resolve, reject) => group.settlers.push({ resolve, reject }));
  }

  private flush(): void {
    const groups = [...this.groups.values()];
    this.groups = new Map();
    this.count = 0;
    for (const { add, task, argsList, settlers } of groups) {
      const listener: OutcomeListener = (index, fulfilled, result) => {
        if (fulfilled) settlers[index].resolve(result);
        else settlers[index].reject(result);
      };
      add(task, argsList, listener).catch((error: unknown) => {
        for (const { reject } of settlers) reject(error);
      });
    }
  }
}
