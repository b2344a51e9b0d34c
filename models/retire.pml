/*
 * An elastic pool's idle worker retiring (docs/internals/elastic-size.md, "Retirement";
 * src/worker/retirement.ts, WorkerThread.retire, Mailbox.post/retire): two idle workers R0 and R1
 * try to retire while a third, W2, is parked; the main thread posts a broadcast part to R0's
 * mailbox and queues a job for any worker, waking W2 only if no awake worker is searching (the
 * producer's rule of sleep.md).
 *
 * Checked, once nothing can move any more and the workers still there have looked for work:
 * - no broadcast part is left in the mailbox of a worker that retired (a post either makes the
 *   retirement fail or sees the absent mark and queues the part for anyone);
 * - no job is left queued: a producer that left its job to a searching worker about to retire is
 *   covered by that worker's final look;
 * - PRESENT_WORKERS counts exactly the workers that did not retire, and never drops below MIN.
 *
 * Correspondence, one Promela step per Atomics operation:
 *   count          R0's mailbox COUNT (ABSENT below 0); cells: its filled cells
 *   present        Header.PRESENT_WORKERS
 *   searching[i]   worker i's SEARCHING word; the retirees' state words are AWAKE throughout (their
 *                  park timed out and cancelSleep won), W2's is BLOCKED until woken
 *   queue          the injector (every queue a worker looks at besides its mailbox)
 *
 * Variants that must fail (test/models/models.test.ts): `-DBUG_CHECK_THEN_POST` (a poster reads
 * the count, fills a cell, then adds: the old order), `-DBUG_NO_FINAL_LOOK` (a retiree skips the
 * look at the queues after leaving), `-DBUG_PRESENT_LOAD_STORE` (the count of present workers is
 * read, then stored, rather than exchanged).
 */

#define MIN 1
#define ABSENT (-64)

int count = 0;
byte cells = 0;
byte present = 3;
bool searching[2];
byte queue = 0;
bool retired[2];
bool w2woken = false;
byte finished = 0;

/* The producer's rule: no wake while an awake worker searches (it is left the job). */
inline queue_for_anyone() {
  queue++;
  if
  :: searching[0] || searching[1] -> skip
  :: else -> w2woken = true
  fi
}

proctype Retiree(byte me) {
  byte n;
  /* The park timed out: the worker cancelled its registration and stops searching. */
  searching[me] = false;
  /* Step 1, owns nothing: R0's own mailbox looks empty. */
  if
  :: me == 0 && count > 0 -> goto stay
  :: else -> skip
  fi;
  /* Step 2: leave the count while above MIN. */
#ifdef BUG_PRESENT_LOAD_STORE
  n = present;
  if
  :: n <= MIN -> goto stay
  :: else -> present = n - 1
  fi;
#else
  do
  :: n = present;
     if
     :: n <= MIN -> goto stay
     :: else ->
        if
        :: atomic { present == n -> present = n - 1 }; break
        :: atomic { present != n -> skip }
        fi
     fi
  od;
#endif
  /* Step 3: mark the mailbox absent unless something is posted or being posted. */
  if
  :: me == 0 ->
     if
     :: atomic { count == 0 -> count = ABSENT }
     :: atomic { count != 0 -> skip }; present++; goto stay
     fi
  :: else -> skip
  fi;
  /* Step 4: the final look. */
#ifndef BUG_NO_FINAL_LOOK
  if
  :: queue > 0 ->
     if
     :: me == 0 -> count = count - ABSENT
     :: else -> skip
     fi;
     present++;
     goto stay
  :: else -> skip
  fi;
#endif
  retired[me] = true;
  finished++;
  goto end;
stay:
  /* Back to its loop: it searches again, and takes what it finds once the others are done. */
  searching[me] = true;
  finished++;
end:
  skip
}

/* The main thread's broadcast part for R0 (MailboxPosts.post). */
proctype Poster() {
  int old;
#ifdef BUG_CHECK_THEN_POST
  if
  :: count >= 0 -> cells++; count++
  :: else -> queue_for_anyone()
  fi;
#else
  atomic { old = count; count++ };
  if
  :: old < 0 -> count--; queue_for_anyone()
  :: else -> cells++
  fi;
#endif
  finished++
}

/* The main thread's job for any worker (Dispatcher.inject, Sleep.newJobs). */
proctype Producer() {
  queue_for_anyone();
  finished++
}

init {
  searching[0] = true;
  searching[1] = true;
  atomic {
    run Retiree(0);
    run Retiree(1);
    run Poster();
    run Producer()
  }
  finished == 4;
  /* The workers still there look for work: R0 empties its mailbox, and anyone awake takes jobs. */
  if
  :: !retired[0] -> cells = 0; queue = 0
  :: else -> skip
  fi;
  if
  :: !retired[1] || w2woken -> queue = 0
  :: else -> skip
  fi;
  assert(cells == 0);
  assert(queue == 0);
  assert(present == 3 - retired[0] - retired[1]);
  assert(present >= MIN)
}
