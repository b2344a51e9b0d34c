/**
 * A worker's scheduling loop reduced to the sleep protocol, modelled on src/worker/worker-thread.ts:
 * take a job from the injector; when there is none, startLooking, then noWorkFound until it says
 * PARK, then parkSync; workFound when a job turns up; taskStarted/taskFinished around each job.
 *
 * Shutdown: the main thread sets STOP and then calls wakeAll(). wakeAll only wakes workers that
 * are already BLOCKED, so a worker that checked STOP just before it was set and blocks just after
 * the wakeAll would sleep forever; putting STOP in the final check (`workVisible`, made after the
 * BLOCKED store) closes that window, the same way the check closes it for posted jobs.
 */
import { EMPTY, RETRY } from '../../../src/queue/work-queue.js';
import { sharedNow } from '../../../src/sync/clock.js';
import { IdleState, PARK, Sleep } from '../../../src/sync/sleep.js';
import { injectorLevels } from '../../../src/queue/open.js';
import { itemClaim, itemClaimTable } from '../../support/claims.js';
import { busyWait } from '../../support/busy-wait.js';
import { Random } from '../../support/random.js';
import { recordTake } from '../../support/tally.js';
import { threadMain } from '../../support/thread-main.js';
import { Control, type WorkerData, type WorkerStats } from './protocol.js';

threadMain((data: WorkerData): WorkerStats => {
  const words = new Int32Array(data.buffer);
  const control = new Int32Array(data.control);
  const executed = new Int32Array(data.executed);
  const table = itemClaimTable(data.claims);
  const claim = itemClaim(table, data.index);
  const injector = injectorLevels(words, data.layout, { backend: 'js', claims: table })[0];
  const sleep = new Sleep(words, data.layout, data.spinMicros);
  const random = new Random(data.seed);
  const self = data.index;
  const stats: WorkerStats = { executed: 0, parks: 0 };

  const stopping = (): boolean => Atomics.load(control, Control.STOP) === 1;
  const queuedJobs = (): number => injector.size();
  const workVisible = (): boolean => !injector.isEmpty() || stopping();

  const takeJob = (): number => {
    for (;;) {
      const entry = injector.steal(claim);
      if (entry !== RETRY) return entry;
    }
  };
  const run = (job: number): void => {
    // Report the job's duration as the runtime does: producers skip wakes that busy workers with
    // short jobs would make pointless, and this keeps that rule under test too.
    const started = sharedNow();
    sleep.taskStarted(self, started);
    recordTake(executed, job);
    busyWait(random.below(data.maxJobCost));
    sleep.taskFinished(self, (sharedNow() - started) * 1e6);
    stats.executed++;
    Atomics.add(control, Control.EXECUTED, 1);
  };

  const idle = new IdleState();
  let searching = false;
  const stopSearching = (): void => {
    if (!searching) return;
    searching = false;
    sleep.workFound(self, queuedJobs);
  };

  for (;;) {
    const job = takeJob();
    if (job !== EMPTY) {
      stopSearching();
      run(job);
      continue;
    }
    if (stopping()) {
      stopSearching();
      return stats;
    }
    if (!searching) {
      sleep.startLooking(self, idle);
      searching = true;
      continue;
    }
    if (sleep.noWorkFound(idle, self, performance.now(), workVisible) === PARK) {
      stats.parks++;
      // No timeout, unlike the runtime's periodic event-loop turn: a timed-out park would rescue a
      // lost wake-up and hide it from this test.
      sleep.parkSync(self, Number.POSITIVE_INFINITY);
      sleep.restartSpin(idle);
    }
  }
});
