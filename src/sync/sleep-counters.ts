/**
 * The packed sleep counter word (Rayon's design, reduced to what survives a worker dying between
 * two operations):
 *
 *   bits  0..11  sleeping: workers registered as parked (an upper bound, see below)
 *   bits 12..31  jobs event counter (JEC): odd = "work was posted since a worker got sleepy"
 *
 * A worker that runs out of work records the JEC when it gets sleepy; it may only register as
 * sleeping if the JEC still has that value, in the same compare-exchange. A producer makes an even
 * JEC odd when it posts work, so a worker that got sleepy before the post cannot register after it.
 *
 * `sleeping` is incremented before the worker marks its own word BLOCKED and decremented only by
 * whoever moves that word back to AWAKE, so it never counts fewer sleepers than there are. A worker
 * that dies between its increment and its BLOCKED store leaves it one too high, which only costs
 * producers a look at the workers' words; nothing waits on it being exact.
 */

export const SLEEPING_ONE = 1;
export const JEC_ONE = 1 << 12;
const SLEEPING_MASK = 0xfff;

export function sleepingOf(counters: number): number {
  return counters & SLEEPING_MASK;
}

export function jecOf(counters: number): number {
  return counters >>> 12;
}

export function isSleepy(jec: number): boolean {
  return (jec & 1) === 0;
}

/**
 * Increments the JEC when it is in the requested phase and returns the counters it left behind.
 * `whenSleepy` = true is what a producer does; false is what a worker getting sleepy does.
 */
export function bumpJecIf(words: Int32Array, index: number, whenSleepy: boolean): number {
  for (;;) {
    const old = Atomics.load(words, index);
    if (isSleepy(jecOf(old)) !== whenSleepy) return old;
    const next = (old + JEC_ONE) | 0;
    if (Atomics.compareExchange(words, index, old, next) === old) return next;
  }
}
