/**
 * Runs again a call whose worker died under it, when its caller said the task is idempotent
 * (CallOptions `retries`). The same pending work is queued again, so that an abort of the call or
 * its run-time limit still finds it wherever it is.
 */
import { WorkerCrashedError } from '../errors.js';
import type { PendingWork } from './work.js';

export function retryingOnCrash(work: PendingWork, retries: number, resubmit: (again: PendingWork) => void): PendingWork {
  let left = retries;
  const retrying: PendingWork = {
    settle: (state, outcome, worker, runMs, outcomeBytes) => work.settle(state, outcome, worker, runMs, outcomeBytes),
    abandon: (error) => {
      if (!(error instanceof WorkerCrashedError) || left === 0) {
        work.abandon(error);
        return;
      }
      left--;
      resubmit(retrying);
    },
  };
  return retrying;
}
