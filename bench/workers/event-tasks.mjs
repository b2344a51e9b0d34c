// Tasks of bench/probes/task-events.mjs: events emitted as fast as the channel takes them, spaced
// ones stamped for latency, and emit's cost when nobody listens.
import { emit } from 'viscose/worker';

const now = () => performance.timeOrigin + performance.now();

/** Emits `count` events, each retried while the bound drops it: the rate the channel sustains. */
export function sustained(count) {
  let retries = 0;
  const start = now();
  for (let i = 0; i < count; i++) while (!emit('n', i)) retries++;
  return { ms: now() - start, retries };
}

/** Emits `count` events as fast as it can, none retried: how many the bound drops. */
export function flood(count) {
  let dropped = 0;
  const start = now();
  for (let i = 0; i < count; i++) if (!emit('n', i)) dropped++;
  return { ms: now() - start, dropped };
}

/** Emits `count` events `gapMs` apart, each stamped with when it was emitted (ms since the epoch). */
export function spaced(count, gapMs) {
  for (let i = 0; i < count; i++) {
    const until = now() + gapMs;
    while (now() < until);
    emit('t', now());
  }
  return count;
}

/** `count` emits without a listener: what each costs (ns). */
export function unheard(count) {
  const start = now();
  for (let i = 0; i < count; i++) emit('n', i);
  return ((now() - start) * 1e6) / count;
}
