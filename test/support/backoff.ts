/**
 * Waiting for another thread inside a spin loop. The tests run more threads than cores, so the
 * thread being waited for is often descheduled; spinning through a whole time slice then only
 * delays it (and made single runs ten times slower than usual). After a burst of fruitless spins
 * the waiter therefore sleeps for a few microseconds, which hands the core over. Short waits stay
 * pure spins, so the tight races the tests are after still happen.
 */
const SPINS_BEFORE_SLEEP = 2048;
const SLEEP_MS = 0.02;

export class Backoff {
  private spins = 0;
  private readonly nap = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

  /** One more fruitless attempt. */
  wait(): void {
    if (++this.spins < SPINS_BEFORE_SLEEP) return;
    this.spins = 0;
    Atomics.wait(this.nap, 0, 0, SLEEP_MS);
  }

  /** The awaited thing happened. */
  reset(): void {
    this.spins = 0;
  }
}
