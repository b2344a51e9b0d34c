/*
 * The Chase–Lev deque of src/queue/deque.ts with the claims of src/shm/slot.ts: one owner that
 * pushes and pops at the bottom, two thieves that steal from the top, one of which may die at any
 * point (a worker terminated between two Atomics operations). An entry names a task; taking it
 * means winning the task's claim (one compare-exchange on the slot's state word, here `claimed`).
 * A thief claims before it moves `top` past the entry; the owner pops, then claims.
 *
 * Checked: every task is claimed exactly once — none is lost, even to the thief that died, whose
 * claimed task the pool then fails as crashed (crash-recovery.ts) — and run by whoever claimed it
 * unless that was the dead thief; no take returns a ring position that holds no live entry; and
 * each thief takes tasks in the order they were pushed (its takes are increasing).
 *
 * Correspondence to the code (docs/internals/deque.md, "The deque"): one Promela statement per Atomics
 * operation of the code, in the code's order, so spin interleaves the threads at exactly the
 * points where JavaScript can, and the killer can stop the mortal thief at any of them. JavaScript
 * Atomics are sequentially consistent and a plain ring write is published by the SC store of
 * `bottom` that follows it, which is what Promela's interleaving semantics model.
 *
 * Indices are Int32 that wrap in the code; here they wrap modulo M (8) and start at 6, so that
 * `bottom` and `top` cross the wrap point during every run. DIFF is the code's `(b - t) | 0`: the
 * signed difference of two wrapping counters, valid while it stays within ±M/2.
 *
 * `spin -a models/deque.pml` checks the real algorithm. Seeded bugs, each of which must be caught
 * (scripts/verify-models.mjs): `-DBUG_ADVANCE_BEFORE_CLAIM` moves `top` first and claims after (a
 * thief dying in between loses the task), `-DBUG_NO_TOP_RECHECK` claims without checking that
 * `top` still names the position read (a thief takes a newer task out of order),
 * `-DBUG_POP_NO_CAS` takes the last entry in `pop` without claiming it through `top` (the deque's
 * indices cross, and a later push is lost).
 */

#define M 8          /* index modulus: the code's Int32 wrap, scaled down */
#define CAP 2        /* ring capacity (a power of two) */
#define ITEMS 3      /* entries the owner pushes, numbered 1..ITEMS; 0 is "no entry" */
#define START 6      /* initial top = bottom, just below the wrap */

#define MOD(x) (((x) + M) % M)
#define DIFF(b, t) (MOD((b) - (t)) >= M / 2 -> MOD((b) - (t)) - M : MOD((b) - (t)))

#define EMPTY 255
#define RETRY 254

byte top = START;
byte bottom = START;
byte ring[CAP];
byte claimed[ITEMS + 1]; /* the task's claim: 0, or who won it (1 owner, 2 and 3 the thieves) */
byte ran[ITEMS + 1];     /* how many times each task was run */
bool ownerDone = false;
bool thiefDone[4];       /* by thief (2 and 3): it stopped by itself */
bool kill = false;       /* set once, at any moment, by the killer: the mortal thief stops there */

/* SlotTable.claim: one compare-exchange on the task's state word; `won` says whether it was ours. */
inline claim(entry, who, won) {
  assert(entry >= 1 && entry <= ITEMS);
  atomic {
    if
    :: claimed[entry] == 0 -> claimed[entry] = who; won = true
    :: else -> won = false
    fi
  }
}

inline execute(entry) {
  ran[entry]++;
  assert(ran[entry] == 1)
}

/* push(entry): returns through `pushed` whether the entry went in (false: the deque was full). */
inline push(entry, pushed) {
  t = top;                                   /* Atomics.load(top) */
  if
  :: DIFF(b, t) >= CAP -> pushed = false
  :: else ->
     ring[b % CAP] = entry;                  /* plain write */
     b = MOD(b + 1);
     bottom = b;                             /* Atomics.store(bottom, b + 1) */
     pushed = true
  fi
}

/* pop(): the most recently pushed entry, or EMPTY. `b` is the owner's private copy of bottom. */
inline pop(result) {
  nb = MOD(b - 1);
  bottom = nb;                               /* Atomics.store(bottom, b - 1) */
  t = top;                                   /* Atomics.load(top) */
  if
  :: DIFF(nb, t) < 0 ->
     bottom = b;                             /* restore: empty */
     result = EMPTY
  :: DIFF(nb, t) > 0 ->
     result = ring[nb % CAP];
     b = nb
  :: DIFF(nb, t) == 0 ->
     result = ring[nb % CAP];
#ifdef BUG_POP_NO_CAS
     b = nb; bottom = b
#else
     /* the last entry: claim it through top like a thief would */
     if
     :: atomic { top == t -> top = MOD(t + 1) }   /* Atomics.compareExchange(top, t, t + 1) won */
     :: atomic { top != t -> skip }; result = EMPTY
     fi;
     bottom = b                              /* Atomics.store(bottom, original b): now empty */
#endif
  fi
}

active proctype Owner() {
  byte b = START;    /* the owner's copy of bottom */
  byte nb, t, result;
  byte next = 1;
  bool pushed, won;
  do
  :: next <= ITEMS ->
     push(next, pushed);
     if
     :: pushed -> next++
     :: else -> skip
     fi
  :: true ->
     pop(result);
     if
     :: result != EMPTY ->
        claim(result, 1, won);
        if
        :: won -> execute(result)
        :: else -> skip                      /* a thief claimed it before it left the deque */
        fi
     :: else -> skip
     fi
  :: next > ITEMS ->
     /* drain what is left, then stop */
     do
     :: pop(result);
        if
        :: result != EMPTY ->
           claim(result, 1, won);
           if
           :: won -> execute(result)
           :: else -> skip
           fi
        :: else -> break
        fi
     od;
     break
  od;
  ownerDone = true
}

proctype Thief(byte who; bool mortal) {
  byte t, b, entry;
  byte last = 0;     /* the last task this thief took: takes must increase */
  bool won;
  do
  :: t = top;                                /* Atomics.load(top) */
     b = bottom;                             /* Atomics.load(bottom) */
     if
     :: DIFF(b, t) <= 0 ->
        if
        :: ownerDone -> thiefDone[who] = true; break
        :: else -> skip
        fi
     :: else ->
        entry = ring[t % CAP];               /* Atomics.load(ring[t]) */
#ifdef BUG_ADVANCE_BEFORE_CLAIM
        if
        :: atomic { top == t -> top = MOD(t + 1) } ->
           claim(entry, who, won);
           if
           :: won -> assert(entry > last); last = entry; execute(entry)
           :: else -> skip
           fi
        :: atomic { top != t -> skip }
        fi
#else
        if
#ifdef BUG_NO_TOP_RECHECK
        :: true ->
#else
        :: top == t ->                        /* Atomics.load(top) === t: the entry is the t-th */
#endif
           claim(entry, who, won);
           if
           :: atomic { top == t -> top = MOD(t + 1) }   /* compareExchange(top, t, t + 1): removed */
           :: atomic { top != t -> skip }              /* someone else moved past it */
           fi;
           if
           :: won -> assert(entry > last); last = entry; execute(entry)
           :: else -> skip                   /* stale (claimed by another taker): skipped */
           fi
        :: else -> skip                      /* RETRY */
        fi
#endif
     fi
  od unless { mortal && kill }
}

active proctype Killer() {
  kill = true
}

init {
  run Thief(2, false);
  run Thief(3, true);
  /* once the owner and the immortal thief have stopped, and the mortal one has stopped or died
     (once `kill` is set, its next step is the escape: it does nothing more) */
  (ownerDone && thiefDone[2] && (thiefDone[3] || kill)) ->
  byte i = 1;
  do
  :: i <= ITEMS ->
     assert(claimed[i] != 0);                /* nothing lost */
     assert(ran[i] == 1 || (claimed[i] == 3 && kill));   /* run, unless the dead thief claimed it */
     i++
  :: else -> break
  od
}
