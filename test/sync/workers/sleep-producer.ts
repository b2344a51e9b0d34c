/**
 * Posts jobs 0..n-1 into the injector the way the pool's dispatcher does (push, then
 * `sleep.newJobs(injector)`), in bursts of random size separated by pauses much longer than
 * the workers' spin time, so that they park between bursts and must be woken by the next one.
 *
 * At about half of the pauses it waits until every job posted so far has run. A lost wake-up
 * (jobs queued, every worker parked) would otherwise be rescued by the next burst's wake and go
 * unnoticed; with no new post coming, it shows up as jobs that never run, reported here by name.
 */
import { Sleep } from '../../../src/sync/sleep.js';
import { injectorLevels } from '../../../src/queue/open.js';
import { itemClaimTable } from '../../support/claims.js';
import { Backoff } from '../../support/backoff.js';
import { Random } from '../../support/random.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type ProducerData, type ProducerStats } from './protocol.js';

threadMain((data: ProducerData): ProducerStats => {
  const words = new Int32Array(data.buffer);
  const control = new Int32Array(data.control);
  // The producer only pushes: its claim table is never read.
  const injector = injectorLevels(words, data.layout, { backend: 'js', claims: itemClaimTable(data.claims) })[0];
  const sleep = new Sleep(words, data.layout, data.spinMicros);
  const random = new Random(data.seed);
  const stats: ProducerStats = { bursts: 0, quiescePoints: 0, fullPushes: 0 };
  const backoff = new Backoff();
  const nap = new Int32Array(new SharedArrayBuffer(4)); // Atomics.wait on it is a plain sleep

  const waitUntilAllRan = (posted: number): void => {
    stats.quiescePoints++;
    const deadline = performance.now() + data.quiesceTimeoutMs;
    for (let ran = Atomics.load(control, Control.EXECUTED); ran < posted; ran = Atomics.load(control, Control.EXECUTED)) {
      if (performance.now() > deadline) {
        throw new Error(
          `lost wake-up: ${posted - ran} of ${posted} posted jobs still not run ${data.quiesceTimeoutMs} ms after ` +
            `the last post (queued: ${injector.size()}, sleeping: ${sleep.sleepingCount()})`,
        );
      }
      Atomics.wait(nap, 0, 0, 1);
    }
  };

  let posted = 0;
  while (posted < data.jobs) {
    // Single jobs are the hardest case (exactly one wake must reach a worker), so they are common.
    const burst = Math.min(data.jobs - posted, random.below(3) === 0 ? 1 : 1 + random.below(data.maxBurst));
    for (let i = 0; i < burst; i++) {
      while (!injector.push(posted)) {
        stats.fullPushes++;
        backoff.wait();
      }
      posted++;
      sleep.newJobs(injector);
    }
    stats.bursts++;
    if (random.below(2) === 0 || posted === data.jobs) waitUntilAllRan(posted);
    Atomics.wait(nap, 0, 0, random.below(data.maxPauseMicros) / 1000);
  }
  return stats;
});
