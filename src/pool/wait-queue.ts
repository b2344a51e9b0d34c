/**
 * Calls waiting for a free slot, one FIFO per priority level, served by the starvation-bounded
 * rule of queue/priority.ts.
 */
import { LevelPicker } from '../queue/priority.js';
import { PRIORITY_LEVELS } from '../shm/layout.js';
import { Fifo } from './fifo.js';

export class WaitQueue<T> {
  private readonly levels = Array.from({ length: PRIORITY_LEVELS }, () => new Fifo<T>());
  private readonly picker = new LevelPicker();
  private readonly hasWork = (level: number): boolean => this.levels[level].length > 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  /** Waiters of `level`. */
  lengthAt(level: number): number {
    return this.levels[level].length;
  }

  push(item: T, level: number): void {
    this.levels[level].push(item);
    this.count++;
  }

  shift(): T | undefined {
    const level = this.picker.first(this.hasWork);
    if (level < 0) return undefined;
    const item = this.levels[level].shift();
    this.count--;
    this.picker.served(level, this.hasWork);
    return item;
  }

  /** The item `shift` would return, left in place. */
  peek(): T | undefined {
    const level = this.picker.first(this.hasWork);
    return level < 0 ? undefined : this.levels[level].peek();
  }

  /** Removes the item `peek` returned without counting it as served (a waiter that gave up). */
  discard(): void {
    const level = this.picker.first(this.hasWork);
    if (level < 0) return;
    this.levels[level].shift();
    this.count--;
  }

  /** Removes and returns every waiter, most urgent level first. */
  drain(): T[] {
    this.count = 0;
    return this.levels.flatMap((fifo) => fifo.drain());
  }
}
