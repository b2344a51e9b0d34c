/*
 * The sleep protocol of src/sync/sleep-protocol.ts and src/sync/sleep-counters.ts, as the Sleep
 * class of src/sync/sleep.ts drives it (docs/internals/sleep.md, "Sleep and wake"): idle workers
 * get sleepy, register as sleeping and park; the main thread posts jobs, workers fork more while
 * they run one, and whoever posts wakes sleepers by the code's rules.
 * Checked: no lost wake-up. Once nothing can move any more, no job is left queued: a job is never
 * stranded while every worker sleeps. Parked workers here wait only for a wake, never for the
 * code's 100 ms timeout, so the property holds without relying on timeouts.
 *
 * Correspondence to the code, statement by statement (one Promela step per Atomics operation):
 *
 *   counters word          jec + sleeping, read together and changed by compare-exchange together
 *   bumpJecIf(sleepy?)     inline bump_jec
 *   newJobs / forkedJob    the main thread's post and a worker's fork (Sleep; workPosted)
 *   wakeForBacklog         inline wake_for_backlog (in SleepHeuristics); the code's "awake
 *                          workers keep up" estimate depends on timing, so here it may answer
 *                          yes whenever some worker is not parked (the code answers yes in fewer
 *                          cases: fewer skipped wakes)
 *   awakeSearching, wakeAny, wake, cancelSleep     inlines of the same names
 *   noWorkFound (Sleep) / tryRegisterSleep / parkSync      the idle part of Worker
 *   workVisible            `queue > 0`: every queue a producer can fill, as one count
 *
 * The JEC wraps after 2^20 values in the code; here after JEC_MOD (4), so that an ABA on it can
 * happen too.
 *
 * Variants that must fail (scripts/verify-models.mjs): `-DBUG_NOTIFY_BEFORE_PUSH` (the main thread
 * reads the counters before queueing the job), `-DBUG_NO_RECHECK` (registering ignores the JEC and
 * skips the look at the queues after registering), `-DBUG_NO_FINAL_CHECK` (only skips that look).
 * The last one fails even with a JEC that never wraps: a worker that has registered as sleeping
 * but not yet stored BLOCKED still counts as awake, so a producer may leave the job to it (it is
 * searching, or "keeps up"), and only the look after the BLOCKED store makes it see the job.
 */

#define W 2           /* workers */
#define JOBS 2        /* posted by the main thread */
#define FORKS 1       /* forked by workers while they run a job */
#define JEC_MOD 4
#define NONE 255      /* idle.jec = -1: still spinning */

#define AWAKE 0
#define BLOCKED 1

byte jec = 0;         /* the counters word: JEC (even: some worker got sleepy since the last post)... */
byte sleeping = 0;    /* ...and the workers registered as sleeping */
byte state[W];        /* each worker's SLEEP_STATE word */
bool searching[W];    /* each worker's SEARCHING word */
byte queue = 0;       /* jobs queued anywhere a worker looks */
byte forked = 0;
byte ran = 0;
byte wakeCursor = 0;

#define SLEEPY(j) ((j) % 2 == 0)

/* bumpJecIf: increments the JEC when it is in the requested phase; leaves the counters read in c_jec/c_sleeping. */
inline bump_jec(whenSleepy, c_jec, c_sleeping) {
  do
  :: atomic { c_jec = jec; c_sleeping = sleeping };              /* Atomics.load(counters) */
     if
     :: SLEEPY(c_jec) != whenSleepy -> break
     :: else ->
        if
        :: atomic { jec == c_jec && sleeping == c_sleeping ->    /* compareExchange won */
             jec = (c_jec + 1) % JEC_MOD; c_jec = jec };
           break
        :: atomic { !(jec == c_jec && sleeping == c_sleeping) -> skip }   /* lost: retry */
        fi
     fi
  od
}

/* awakeSearching(limit): workers that are searching and not parked, one word at a time. */
inline awake_searching(found) {
  found = 0;
  i = 0;
  do
  :: i < W ->
     if
     :: searching[i] && state[i] != BLOCKED -> found++
     :: else -> skip
     fi;
     i++
  :: else -> break
  od
}

/* wake(i): only the thread whose compare-exchange moves the word out of BLOCKED decrements `sleeping`. */
inline wake(k, woke) {
  if
  :: atomic { state[k] == BLOCKED -> state[k] = AWAKE };
     atomic { sleeping = sleeping - 1 };
     woke = true
  :: atomic { state[k] != BLOCKED -> woke = false }
  fi
}

/* wakeAny(count): from a rotating start, wake up to `count` parked workers. */
inline wake_any(count) {
  woken = 0;
  i = 0;
  do
  :: i < W && woken < count ->
     wake((wakeCursor + i) % W, woke);
     if
     :: woke -> woken++
     :: else -> skip
     fi;
     i++
  :: else -> break
  od;
  wakeCursor = (wakeCursor + 1) % W
}

/* awakeWorkersKeepUp: may say yes only while some worker is not parked (see the header). */
inline keep_up(answer) {
  answer = false;
  i = 0;
  do
  :: i < W ->
     if
     :: state[i] != BLOCKED -> if :: answer = true :: skip fi
     :: else -> skip
     fi;
     i++
  :: else -> break
  od
}

/* wakeForBacklog(queued, sleepers) */
inline wake_for_backlog(sleepers) {
  queued = queue;                                                /* the queue's size() */
  awake_searching(found);
  if
  :: queued > found ->
     keep_up(answer);
     if
     :: !answer ->
        if
        :: queued - found < sleepers -> wake_any(queued - found)
        :: else -> wake_any(sleepers)
        fi
     :: else -> skip
     fi
  :: else -> skip
  fi;
  atomic { queued = 0; found = 0; woken = 0; i = 0; answer = false; woke = false }
}

active proctype Main() {
  byte c_jec, c_sleeping, queued, found, woken, i;
  bool answer, woke;
  byte posted = 0;
  do
  :: posted < JOBS ->
#ifdef BUG_NOTIFY_BEFORE_PUSH
     bump_jec(true, c_jec, c_sleeping);
     atomic { queue++ };
#else
     atomic { queue++ };                                         /* injector.push */
     bump_jec(true, c_jec, c_sleeping);                          /* newJobs */
#endif
     if
     :: c_sleeping > 0 -> wake_for_backlog(c_sleeping)
     :: else -> skip
     fi;
     atomic { posted++; c_jec = 0; c_sleeping = 0 }
  :: else -> break
  od
}

proctype Worker(byte me) {
  byte idleJec = NONE;
  byte c_jec, c_sleeping, queued, found, woken, i, o_jec, o_sleeping;
  bool answer, woke;
search:
  /* findWork */
  if
  :: atomic { queue > 0 -> queue-- } ->
     if
     :: searching[me] ->
        /* workFound: the searchers that held producers back may be gone: look at the backlog */
        searching[me] = false;
        atomic { c_sleeping = sleeping };
        if
        :: c_sleeping > 0 && queue > 0 -> wake_for_backlog(c_sleeping)
        :: else -> skip
        fi;
        c_sleeping = 0
     :: else -> skip
     fi;
     ran++;
     /* the job may fork one: pushed to this worker's deque, then forkedJob */
     if
     :: forked < FORKS ->
        atomic { queue++; forked++ };
        bump_jec(true, c_jec, c_sleeping);
        if
        :: c_sleeping > 0 ->
           awake_searching(found);
           if
           :: queue > 1 || found == 0 -> wake_any(1)
           :: else -> skip
           fi
        :: else -> skip
        fi;
        atomic { c_jec = 0; c_sleeping = 0; found = 0; woken = 0; i = 0; woke = false }
     :: true -> skip
     fi;
     goto search
  :: else -> skip
  fi;
  if
  :: !searching[me] ->
     searching[me] = true;                                       /* startLooking */
     idleJec = NONE;
     goto search
  :: else -> skip
  fi;
  /* noWorkFound */
  if
  :: idleJec == NONE ->
     if
     :: goto search                                              /* still spinning */
     :: bump_jec(false, c_jec, c_sleeping);                      /* gets sleepy */
        atomic { idleJec = c_jec; c_jec = 0; c_sleeping = 0 };
        goto search
     fi
  :: else -> skip
  fi;
  /* tryRegisterSleep */
  do
  :: atomic { o_jec = jec; o_sleeping = sleeping };
#ifndef BUG_NO_RECHECK
     if
     :: o_jec != idleJec -> atomic { idleJec = NONE; o_jec = 0; o_sleeping = 0 }; goto search   /* work was posted */
     :: else -> skip
     fi;
#endif
     if
     :: atomic { jec == o_jec && sleeping == o_sleeping -> sleeping = o_sleeping + 1; o_jec = 0; o_sleeping = 0 }; break
     :: atomic { !(jec == o_jec && sleeping == o_sleeping) -> skip }
     fi
  od;
  state[me] = BLOCKED;                                           /* Atomics.store(state, BLOCKED) */
#if !defined(BUG_NO_RECHECK) && !defined(BUG_NO_FINAL_CHECK)
  if
  :: queue > 0 ->                                                /* workVisible */
     /* cancelSleep */
     if
     :: atomic { state[me] == BLOCKED -> state[me] = AWAKE };
        atomic { sleeping = sleeping - 1 }
     :: atomic { state[me] != BLOCKED -> skip }
     fi;
     idleJec = NONE;
     goto search
  :: else -> skip
  fi;
#endif
end_parked:
  (state[me] != BLOCKED);                                        /* parkSync until woken */
  idleJec = NONE;                                                /* wokeUp: a fresh spin */
  goto search
}

init {
  byte k = 0;
  do
  :: k < W -> run Worker(k); k++
  :: else -> break
  od;
  /* When nothing can move any more, no job may be left: it would wait for ever. */
end_check:
  timeout -> assert(queue == 0 && ran == JOBS + forked)
}
