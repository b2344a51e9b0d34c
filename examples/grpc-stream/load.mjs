// A load generator for the ToolCalls service: many concurrent streams, each keeping a few requests
// outstanding (a closed loop), every response checked against its request.
import { handleToolCall } from './tools.mjs';
import { connect, openToolStream } from './client.mjs';

/**
 * The requests of the run, by stream and position: mostly CPU-bound `hash` calls, some `echo`, and
 * a few `fail` (which must come back as error responses without ending their stream).
 */
export function mixedRequest(stream, i, rounds = 1_500_000) {
  const k = (stream * 7919 + i * 104729) % 100;
  if (k < 5) return { tool: 'fail', args: { message: `request ${stream}/${i} fails on purpose` } };
  if (k < 15) return { tool: 'echo', args: { stream, i } };
  return { tool: 'hash', args: { text: `stream ${stream} request ${i}`, rounds } };
}

/** What the server must answer to `request` (computed here with the same tools module). */
export function expectedResponse({ tool, args }) {
  try {
    return { outcome: 'result', contentJson: handleToolCall({ tool, argumentsJson: JSON.stringify(args) }) };
  } catch (error) {
    return { outcome: 'error', kind: 'tool-failed', message: error.message };
  }
}

/**
 * Drives the server at `address`: `streams` streams at once, `requestsPerStream` requests each,
 * at most `inFlight` outstanding per stream. Resolves with the wall time, the per-request latencies
 * (ms, from write to response) and the mismatches found. `verifyEvery`: check the content of every
 * n-th response against `expectedResponse` (the kinds and ids of all of them are checked).
 */
export async function drive({ address, streams, requestsPerStream, inFlight, request = mixedRequest, verifyEvery = 1 }) {
  const client = connect(address);
  const latencies = [];
  const mismatches = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: streams }, (_, s) => driveStream(client, s)));
  const wallMs = performance.now() - started;
  client.close();
  return { wallMs, requests: latencies.length, latencies, mismatches };

  async function driveStream(client, s) {
    const stream = openToolStream(client);
    const outstanding = new Map();
    let slotFree = () => {};
    const receiving = (async () => {
      for await (const response of stream.responses) {
        const sent = outstanding.get(response.requestId);
        if (sent === undefined) {
          mismatches.push(`stream ${s}: response to unknown request ${response.requestId}`);
          continue;
        }
        outstanding.delete(response.requestId);
        latencies.push(performance.now() - sent.at);
        check(s, sent, response);
        slotFree();
      }
    })();
    for (let i = 0; i < requestsPerStream; i++) {
      while (outstanding.size >= inFlight) await new Promise((resolve) => (slotFree = resolve));
      const call = request(s, i);
      const id = `${s}-${i}`;
      outstanding.set(id, { at: performance.now(), call, i });
      await stream.send(id, call.tool, call.args);
    }
    stream.end();
    await receiving;
    if (outstanding.size > 0) mismatches.push(`stream ${s}: ${outstanding.size} requests never answered`);
  }

  function check(s, sent, response) {
    const { tool } = sent.call;
    const failedExpected = tool === 'fail';
    if ((response.outcome === 'error') !== failedExpected) {
      mismatches.push(
        `stream ${s} request ${sent.i} (${tool}): got ${response.outcome} ${JSON.stringify(response.error ?? response.result)}`,
      );
      return;
    }
    if (sent.i % verifyEvery !== 0) return;
    const expected = expectedResponse(sent.call);
    const got = response.outcome === 'result' ? response.result.contentJson : response.error.message;
    const want = expected.outcome === 'result' ? expected.contentJson : expected.message;
    if (got !== want) mismatches.push(`stream ${s} request ${sent.i} (${tool}): got ${got}, expected ${want}`);
  }
}
