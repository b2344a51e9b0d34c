// Inputs for the trivial task and the check of its outputs. Every result is checked, so that a pool
// which drops, duplicates, reorders or corrupts results fails the run instead of posting a number.

/** `{ id: i, msg: 'test-message-' + i }` for i in [0, count). */
export function trivialRequests(count) {
  const requests = new Array(count);
  for (let i = 0; i < count; i++) requests[i] = { id: i, msg: `test-message-${i}` };
  return requests;
}

/**
 * Throws unless `results[i]` is the trivial task's answer to `requests[i]` for every i. Checking
 * each id and len is stricter than checking the total len, which it implies.
 */
export function checkTrivialResults(requests, results) {
  if (!Array.isArray(results) || results.length !== requests.length) {
    const got = Array.isArray(results) ? results.length : typeof results;
    throw new Error(`expected ${requests.length} results, got ${got}`);
  }
  for (let i = 0; i < requests.length; i++) checkTrivialResult(requests[i], results[i], i);
}

/** Throws unless `result` is the trivial task's answer to `request`. */
export function checkTrivialResult(request, result, index) {
  if (result?.id !== request.id || result.len !== request.msg.length) {
    const expected = JSON.stringify({ id: request.id, len: request.msg.length });
    throw new Error(`result ${index} is ${JSON.stringify(result)}, expected ${expected}`);
  }
}
