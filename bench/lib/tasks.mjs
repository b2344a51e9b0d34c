// The task bodies every contender runs. Worker entry files in ../workers/ only wrap these in each
// library's worker API, so that a difference in the numbers is a difference in the pools.

/** The trivial task: `{id, msg}` → `{id, len}`. Its cost is negligible next to any hand-off. */
export function trivial(request) {
  return { id: request.id, len: request.msg.length };
}
