/**
 * The slots whose tasks run on this thread's stack right now, innermost last: a task started by
 * the loop, and above it whatever that task's waits ran (work while waiting) or ran inline. The
 * executor pushes and pops; cancellation, scopes and forked work read which call the running code
 * belongs to.
 */
export class RunningTasks {
  private readonly slots: number[] = [];

  /** The slot whose task the current synchronous code belongs to, or -1. */
  get current(): number {
    return this.slots.length === 0 ? -1 : this.slots[this.slots.length - 1];
  }

  /** How many slots' tasks are running on this thread's stack. */
  get depth(): number {
    return this.slots.length;
  }

  /** Whether `test` holds for the slot of any task on the stack, innermost first. */
  some(test: (slot: number) => boolean): boolean {
    for (let i = this.slots.length - 1; i >= 0; i--) if (test(this.slots[i])) return true;
    return false;
  }

  /** The task of `slot` starts running on top of the stack. */
  enter(slot: number): void {
    this.slots.push(slot);
  }

  /** The innermost task returned (its outcome may still be pending). */
  leave(): void {
    this.slots.pop();
  }
}
