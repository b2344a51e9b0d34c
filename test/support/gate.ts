/**
 * A gate in shared memory at which tasks wait until the test opens it: word 0 is 0 while it is
 * shut; words 1 to 3 are free for the tasks to say where they ran.
 */
export function shutGate(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(16));
}

/** Opens `gate` and wakes whoever waits at it. */
export function openGate(gate: Int32Array): void {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
}
