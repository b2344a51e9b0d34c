/*
 * The FIFO lanes of spawnFifo (src/worker/fifo-lanes.ts, docs/internals/scopes.md "FIFO scopes"):
 * the owner spawns ITEMS jobs, each pushed to its lane and then announced by a pointer pushed to
 * its deque. Whoever claims a pointer — the owner popping its deque, or a thief stealing from it —
 * follows it: it takes the lane's oldest job (a steal from the lane, the owner included). An owner
 * whose deque is empty takes from its lane directly. Two thieves; one may die between any two of
 * its operations (a worker terminated), holding whatever it had claimed.
 *
 * Checked: every job is claimed exactly once — none lost, even when the dead thief held a pointer
 * it never followed — and run by whoever claimed it unless that was the dead thief; the owner and
 * each thief take jobs in spawn order (their takes increase); and the owner's wait ends: once every
 * job is claimed it stops, and it never blocks while a job is unclaimed (a blocked owner with work
 * left is an invalid end state).
 *
 * Correspondence to the code: the deque and the lane are the Chase–Lev deque of models/deque.pml
 * (one Promela statement per Atomics operation, in the code's order; indices wrap modulo M from
 * START), the deque used by its owner with push and pop, the lane with push and, by everyone,
 * steal. A claim is one compare-exchange on the state word of the pointer's or the job's slot.
 * The pointer's DONE store, which only frees the slot, is left out. The owner's spawns interleave
 * freely with its takes (a scope body may wait for forked work between spawns); a spawn finds room
 * in both (the code checks before it spawns).
 *
 * Two jobs keep the check to about 15 million states (three: 135 million, 4 minutes, also hold).
 * Thieves and the owner park (block) when they find nothing, until something they watch changes:
 * with nobody spinning, an owner left waiting forever is an invalid end state, which spin reports.
 *
 * Seeded bugs (test/models/models.test.ts): `-DBUG_NO_LANE_DRAIN` (the owner never takes from its
 * lane directly: a pointer claimed by the dead thief strands its job, and the owner waits
 * forever), `-DBUG_NEWEST_FROM_LANE` (a pointer leads to the lane's newest job: out of order).
 */

#define M 8          /* index modulus: the code's Int32 wrap, scaled down */
#define CAP 4        /* ring capacity (a power of two), room for every entry */
#define ITEMS 2      /* jobs, numbered 1..ITEMS; pointer k is pushed after job k */
#define START 6      /* initial top = bottom, just below the wrap */

#define MOD(x) (((x) + M) % M)
#define DIFF(b, t) (MOD((b) - (t)) >= M / 2 -> MOD((b) - (t)) - M : MOD((b) - (t)))

#define EMPTY 255
#define OWNER 1

byte dTop = START;       /* the deque of pointers */
byte dBottom = START;
byte dRing[CAP];
byte lTop = START;       /* the lane of jobs */
byte lBottom = START;
byte lRing[CAP];
byte pointerClaim[ITEMS + 1];  /* 0, or who claimed pointer k (1 owner, 2 and 3 the thieves) */
byte jobClaim[ITEMS + 1];      /* 0, or who claimed job k */
byte ran[ITEMS + 1];
byte claimedJobs = 0;
bool ownerDone = false;
bool thiefDone[4];
bool kill = false;

inline claimJob(entry, who, won) {
  assert(entry >= 1 && entry <= ITEMS);
  atomic {
    if
    :: jobClaim[entry] == 0 -> jobClaim[entry] = who; claimedJobs++; won = true
    :: else -> won = false
    fi
  }
}

inline claimPointer(entry, who, won) {
  assert(entry >= 1 && entry <= ITEMS);
  atomic {
    if
    :: pointerClaim[entry] == 0 -> pointerClaim[entry] = who; won = true
    :: else -> won = false
    fi
  }
}

/* A job taken by `who`: its takes must increase (spawn order), and it runs once. */
inline execute(job, last) {
  assert(job > last);
  last = job;
  ran[job]++;
  assert(ran[job] == 1)
}

/*
 * FifoLanes.takeFront: steals the lane's oldest job until it claims one (`job`) or finds the lane
 * empty (`job` = 0). A lost race or a stale entry is passed over (RETRY), as in the code.
 */
inline takeFront(who, job) {
  job = 0;
  do
  :: t = lTop;                               /* Atomics.load(top) */
     tb = lBottom;                           /* Atomics.load(bottom) */
     if
     :: DIFF(tb, t) <= 0 -> break            /* EMPTY */
     :: else ->
        entry = lRing[t % CAP];              /* Atomics.load(ring[t]) */
        if
        :: lTop == t ->                      /* Atomics.load(top) === t */
           claimJob(entry, who, won);
           if
           :: atomic { lTop == t -> lTop = MOD(t + 1) }  /* compareExchange(top, t, t + 1) */
           :: atomic { lTop != t -> skip }
           fi;
           if
           :: won -> job = entry; break
           :: else -> skip                   /* stale: claimed by another taker */
           fi
        :: else -> skip                      /* RETRY */
        fi
     fi
  od
}

#ifdef BUG_NEWEST_FROM_LANE
/* The seeded bug: the owner's pointers lead to the newest job (a pop of the lane). */
inline ownerFront(job) {
  job = 0;
  nb = MOD(lb - 1);
  lBottom = nb;
  t = lTop;
  if
  :: DIFF(nb, t) < 0 -> lBottom = lb
  :: DIFF(nb, t) > 0 -> entry = lRing[nb % CAP]; lb = nb; claimJob(entry, OWNER, won); if :: won -> job = entry :: else -> skip fi
  :: DIFF(nb, t) == 0 ->
     entry = lRing[nb % CAP];
     if
     :: atomic { lTop == t -> lTop = MOD(t + 1) }; claimJob(entry, OWNER, won); if :: won -> job = entry :: else -> skip fi
     :: atomic { lTop != t -> skip }
     fi;
     lBottom = lb
  fi
}
#else
#define ownerFront(job) takeFront(OWNER, job)
#endif

active proctype Owner() {
  byte b = START;    /* the owner's copy of the deque's bottom */
  byte lb = START;   /* ... and of the lane's */
  byte nb, t, tb, entry, result, job;
  byte next = 1;
  byte last = 0;
  bool won;
  do
  :: next <= ITEMS ->
     /* spawnFifo: the job to the lane, then its pointer to the deque */
     lRing[lb % CAP] = next;
     lb = MOD(lb + 1);
     lBottom = lb;                           /* Atomics.store(lane bottom) */
     dRing[b % CAP] = next;
     b = MOD(b + 1);
     dBottom = b;                            /* Atomics.store(deque bottom) */
     next++
  :: claimedJobs == ITEMS && next > ITEMS -> break   /* the scope's count reached zero */
  :: claimedJobs < ITEMS ->
     /* WorkFinder.find: pop the deque (ChaseLevDeque.pop) */
     nb = MOD(b - 1);
     dBottom = nb;                           /* Atomics.store(bottom, b - 1) */
     t = dTop;                               /* Atomics.load(top) */
     if
     :: DIFF(nb, t) < 0 -> dBottom = b; result = EMPTY
     :: DIFF(nb, t) > 0 -> result = dRing[nb % CAP]; b = nb
     :: DIFF(nb, t) == 0 ->
        result = dRing[nb % CAP];
        if
        :: atomic { dTop == t -> dTop = MOD(t + 1) }
        :: atomic { dTop != t -> skip }; result = EMPTY
        fi;
        dBottom = b
     fi;
     if
     :: result != EMPTY ->
        claimPointer(result, OWNER, won);
        if
        :: won ->
           ownerFront(job);                  /* Executor.follow */
           if
           :: job != 0 -> execute(job, last)
           :: else -> skip
           fi
        :: else -> skip
        fi
     :: else ->
#ifndef BUG_NO_LANE_DRAIN
        takeFront(OWNER, job);               /* FifoLanes.takeOwn */
        if
        :: job != 0 -> execute(job, last)
        :: else -> skip
        fi;
#endif
        /* nothing found: park until there is work or the count reached zero (a wake) */
        (claimedJobs == ITEMS || DIFF(dBottom, dTop) > 0 || next <= ITEMS
#ifndef BUG_NO_LANE_DRAIN
         || DIFF(lBottom, lTop) > 0          /* its lanes count as its own work (ownWorkVisible) */
#endif
        )
     fi
  od;
  ownerDone = true
}

proctype Thief(byte who; bool mortal) {
  byte t, tb, b, entry, job;
  byte last = 0;
  bool won;
  do
  :: t = dTop;                               /* ChaseLevDeque.steal */
     b = dBottom;
     if
     :: DIFF(b, t) <= 0 ->
        if
        :: ownerDone -> thiefDone[who] = true; break
        :: else -> (ownerDone || DIFF(dBottom, dTop) > 0)   /* parked until a push or the end */
        fi
     :: else ->
        entry = dRing[t % CAP];
        if
        :: dTop == t ->
           claimPointer(entry, who, won);
           if
           :: atomic { dTop == t -> dTop = MOD(t + 1) }
           :: atomic { dTop != t -> skip }
           fi;
           if
           :: won ->
              takeFront(who, job);           /* Executor.follow */
              if
              :: job != 0 -> execute(job, last)
              :: else -> skip                /* the lane was empty: a pointer with nothing left */
              fi
           :: else -> skip
           fi
        :: else -> skip
        fi
     fi
  od unless { mortal && kill }
}

active proctype Killer() {
  kill = true
}

init {
  run Thief(2, false);
  run Thief(3, true);
  (ownerDone && thiefDone[2] && (thiefDone[3] || kill)) ->
  byte i = 1;
  do
  :: i <= ITEMS ->
     assert(jobClaim[i] != 0);               /* nothing lost */
     assert(ran[i] == 1 || (jobClaim[i] == 3 && kill));
     i++
  :: else -> break
  od
}
