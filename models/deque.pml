/*
 * The Chase–Lev deque of src/queue/deque.ts: one owner that pushes and pops at the bottom, two
 * thieves that steal from the top. Checked: every entry pushed is taken exactly once, by a pop or a
 * steal, and a take never returns a ring position that holds no live entry.
 *
 * Correspondence to the code (ARCHITECTURE.md, "The deque"): one Promela statement per Atomics
 * operation of the code, in the code's order, so spin interleaves the threads at exactly the
 * points where JavaScript can. JavaScript Atomics are sequentially consistent and a plain ring
 * write is published by the SC store of `bottom` that follows it, which is what Promela's
 * interleaving semantics model.
 *
 * Indices are Int32 that wrap in the code; here they wrap modulo M (8) and start at 6, so that
 * `bottom` and `top` cross the wrap point during every run. DIFF is the code's `(b - t) | 0`: the
 * signed difference of two wrapping counters, valid while it stays within ±M/2.
 *
 * `spin -a models/deque.pml` checks the real algorithm; `-DBUG_STEAL_AFTER_CLAIM` reads the entry
 * after the compare-exchange instead of before it, and `-DBUG_POP_NO_CAS` takes the last entry in
 * `pop` without claiming it through `top`: both must fail (scripts/verify-models.sh).
 */

#define M 8          /* index modulus: the code's Int32 wrap, scaled down */
#define CAP 2        /* ring capacity (a power of two) */
#define ITEMS 4      /* entries the owner pushes, numbered 1..ITEMS; 0 is "no entry" */
#define START 6      /* initial top = bottom, just below the wrap */

#define MOD(x) (((x) + M) % M)
#define DIFF(b, t) (MOD((b) - (t)) >= M / 2 -> MOD((b) - (t)) - M : MOD((b) - (t)))

#define EMPTY 255
#define RETRY 254

byte top = START;
byte bottom = START;
byte ring[CAP];
byte taken[ITEMS + 1];   /* how many times each entry was taken */
bool ownerDone = false;
byte thievesDone = 0;

inline take(entry) {
  assert(entry >= 1 && entry <= ITEMS);
  taken[entry]++;
  assert(taken[entry] == 1)
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
  bool pushed;
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
     :: result != EMPTY -> take(result)
     :: else -> skip
     fi
  :: next > ITEMS ->
     /* drain what is left, then stop */
     do
     :: pop(result);
        if
        :: result != EMPTY -> take(result)
        :: else -> break
        fi
     od;
     break
  od;
  ownerDone = true
}

proctype Thief() {
  byte t, b, entry;
  do
  :: t = top;                                /* Atomics.load(top) */
     b = bottom;                             /* Atomics.load(bottom) */
     if
     :: DIFF(b, t) <= 0 ->
        if
        :: ownerDone -> thievesDone++; break
        :: else -> skip
        fi
     :: else ->
#ifndef BUG_STEAL_AFTER_CLAIM
        entry = ring[t % CAP];               /* Atomics.load(ring[t]): read before claiming */
#endif
        if
        :: atomic { top == t -> top = MOD(t + 1) } ->    /* compareExchange won */
#ifdef BUG_STEAL_AFTER_CLAIM
           entry = ring[t % CAP];
#endif
           take(entry)
        :: atomic { top != t -> skip }       /* RETRY */
        fi
     fi
  od
}

init {
  run Thief();
  run Thief();
  /* once everyone has stopped, every entry was taken exactly once */
  (ownerDone && thievesDone == 2) ->
  byte i = 1;
  do
  :: i <= ITEMS -> assert(taken[i] == 1); i++
  :: else -> break
  od
}
