// Tasks for bench/passed-buffers.mjs: `rounds` joins inside one call, each over a buffer the main
// thread sent, or over one the task allocates (forking over the sent one, or over the new one).
import { currentThreadIndex, join } from 'viscose/worker';

function spin(us) {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

export function half(view, us) {
  spin(us);
  view[0]++;
  return currentThreadIndex();
}

/** Returns how many second halves were stolen. */
export function joins(sent, rounds, bytes, variant, us) {
  let stolen = 0;
  const self = currentThreadIndex();
  for (let r = 0; r < rounds; r++) {
    const fresh = variant === 'sent' ? undefined : new Uint8Array(new SharedArrayBuffer(bytes));
    const view = variant === 'passed' ? fresh : sent;
    const [, by] = join([half, view, us], [half, view, us]);
    if (by !== self) stolen++;
  }
  return stolen;
}
