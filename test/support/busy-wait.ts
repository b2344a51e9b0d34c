/** Burns roughly `iterations` loop turns: a stand-in for a job's (or a slow consumer's) work. */
export function busyWait(iterations: number): void {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x + i) | 0;
  if (x === 0.5) console.log(x); // never true; keeps the loop from being optimized away
}
