/*
 * Scope records and their COUNT word (src/shm/scope-count.ts, src/worker/scope-records.ts,
 * src/worker/fork.ts `spawn`), with a worker that dies at any point and the main thread's recovery
 * (src/pool/crash-recovery.ts) plus its successor's re-queueing (src/worker/nested-slots.ts
 * `requeueLost`).
 *
 * The scope: its owner O opened it and queued task 1, then counts its body out and waits until
 * COUNT is 0 (no part, no mark). Task 1 spawns task 2 into the scope, then finishes. Worker W, which
 * a killer may stop between any two of its operations, and worker V, which lives, take tasks from
 * the queue (claim first, then remove the entry: models/deque.pml checks that part on its own).
 *
 * Checked: when the owner sees the scope complete, every task that was queued in it has finished
 * (DONE) — never a premature completion; the part count never goes below zero; and the scope
 * always completes (the owner blocked forever is an invalid end state, which spin reports).
 *
 * Correspondence: one Promela statement per Atomics operation, in the code's order. The COUNT word
 * is `parts` and `mark` (one word in the code, so each atomic block here that touches both is one
 * compare-exchange there). `changing` is W's CHANGING word. Task slot states: FREE, QUEUED,
 * RUNNING, COUNTING, DONE; `owner` is the claimer recorded in the state word.
 *
 * Seeded bugs (scripts/verify-models.mjs), each must be caught: `-DBUG_NO_MARK` counts parts out
 * with a plain subtraction and lets recovery count out every COUNTING task of the dead worker (it
 * cannot know whether the subtraction happened); `-DBUG_NO_CHANGING` has recovery ignore the
 * CHANGING word and take every marked change for a count-out, so a spawn the worker had counted in
 * but never queued is never taken back.
 */

#define FREE 0
#define QUEUED 1
#define RUNNING 2
#define COUNTING 3
#define DONE 4

#define O 1          /* marks: the owner, the workers, the main thread */
#define W 2
#define V 3
#define MAIN 4

byte parts = 1;      /* the body */
byte mark = 0;
byte state[3];       /* tasks 1 and 2 */
byte owner[3];
bool inQueue[3];
byte changing = 0;   /* W's CHANGING word: the task whose count it is changing, 0 for none */
bool kill = false;
bool wDead = false;
bool wDone = false;      /* W stopped by itself, the scope complete */
bool recovered = false;
bool completed = false;

/* beginChange(+1 or -1) with `who`'s mark: only while no other mark is there. */
inline beginAdd(who) {
  atomic { mark == 0 -> parts++; mark = who }
}
inline beginCountOut(who) {
  atomic { mark == 0 -> assert(parts > 0); parts--; mark = who }
}

/* Claims task `t` from the queue for `who` (claim first, then the entry is removed). */
inline claim(t, who) {
  atomic { state[t] == QUEUED && inQueue[t] -> state[t] = RUNNING; owner[t] = who };
  inQueue[t] = false
}

/* A finished task counts itself out of the scope (ScopeRecords.finishPart). */
inline finish(t, who) {
  state[t] = COUNTING;
#ifdef BUG_NO_MARK
  atomic { assert(parts > 0); parts-- };
  state[t] = DONE
#else
  if
  :: who == W -> changing = t                /* CHANGING names the part, before the mark */
  :: else -> skip
  fi;
  beginCountOut(who);
  state[t] = DONE;
  mark = 0;                                  /* endChange */
  if
  :: who == W -> changing = 0
  :: else -> skip
  fi
#endif
}

/* Task 1's body: spawn task 2 into the scope (ForkJoin.spawn / ScopeRecords.addSpawn). */
inline spawnTask2(who) {
  if
  :: who == W -> changing = 2
  :: else -> skip
  fi;
#ifdef BUG_NO_MARK
  atomic { parts++ };
  state[2] = QUEUED;
#else
  beginAdd(who);
  state[2] = QUEUED;                         /* enqueue: the slot becomes QUEUED */
  mark = 0;                                  /* endChange */
#endif
  if
  :: who == W -> changing = 0
  :: else -> skip
  fi;
  inQueue[2] = true                          /* push */
}

active proctype Owner() {
  /* opened with the body counted; task 1 added (the owner cannot die here: not modelled) */
  parts++;
  state[1] = QUEUED;
  inQueue[1] = true;
  /* the body returns: count it out */
  beginCountOut(O);
  mark = 0;
  /* wait for the scope to complete */
  (parts == 0 && mark == 0) ->
  assert(state[1] == DONE);
  assert(state[2] == DONE || state[2] == FREE);
  completed = true
}

active proctype Wk() {
  {
    do
    :: atomic { state[1] == QUEUED && inQueue[1] -> state[1] = RUNNING; owner[1] = W } ->
       inQueue[1] = false;
       spawnTask2(W);
       finish(1, W)
    :: atomic { state[2] == QUEUED && inQueue[2] -> state[2] = RUNNING; owner[2] = W } ->
       inQueue[2] = false;
       finish(2, W)
    :: completed -> break
    od;
    wDone = true
  } unless { kill -> wDead = true }
}

active proctype Killer() {
  kill = true
}

/* The main thread after W's exit, then W's successor before it takes work. */
active proctype Recovery() {
  (wDead || wDone);
  if
  :: wDone -> goto end
  :: else -> skip
  fi;
  /* 1. the change W had begun (its mark is on COUNT) */
  if
  :: mark == W ->
     if
     :: state[changing] == COUNTING || state[changing] == DONE ->
        /* counting a task out: the subtraction was made; its COUNTING slot becomes DONE */
        if
        :: state[changing] == COUNTING -> state[changing] = DONE
        :: else -> skip
        fi;
        mark = 0
     :: else ->
#ifdef BUG_NO_CHANGING
        mark = 0                             /* taken for a count-out: the added part stays */
#else
        /* adding task 2: kept if QUEUED, else taken back; never the last part */
        if
        :: state[changing] == QUEUED -> mark = 0
        :: else -> atomic { assert(parts > 0); parts--; mark = 0 }
        fi
#endif
     fi
  :: else -> skip
  fi;
  /* 2. and 3. tasks W finished but had not counted out, or was running: counted out now */
  byte t = 1;
  do
  :: t <= 2 ->
     if
     :: (state[t] == COUNTING || state[t] == RUNNING) && owner[t] == W ->
        beginCountOut(MAIN);
        state[t] = DONE;
        mark = 0
     :: else -> skip
     fi;
     t++
  :: else -> break
  od;
  /* the successor: a QUEUED task of W's region in no queue is pushed again */
  if
  :: state[2] == QUEUED && !inQueue[2] -> inQueue[2] = true
  :: else -> skip
  fi;
  recovered = true;
end:
  skip
}

active proctype Vk() {
  do
  :: claim(1, V); spawnTask2(V); finish(1, V)
  :: claim(2, V); finish(2, V)
  :: completed -> break
  od
}
