// Task module of bench/probes/async-bound.mjs.
export async function waitThenWork(waitMs, workMs) {
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const end = performance.now() + workMs;
  while (performance.now() < end);
  return workMs;
}

export function add(a, b) {
  return a + b;
}
