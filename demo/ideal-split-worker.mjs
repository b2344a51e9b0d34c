// A thread of the ideal split (ideal-split.mjs): runs each share of requests it is sent with the
// demo's handler, and answers with the responses (undefined for a request whose tool broke) and
// how long the handlers ran.
import { parentPort } from 'node:worker_threads';
import { handleToolCall } from './rpc.mjs';

parentPort.on('message', (requests) => {
  let handlerMs = 0;
  const responses = new Array(requests.length);
  for (const [i, raw] of requests.entries()) {
    try {
      const envelope = handleToolCall(raw);
      responses[i] = envelope.response;
      handlerMs += envelope.ranMs;
    } catch {
      // A tool that breaks: the engines count it as a failed request, and so does the reference.
    }
  }
  parentPort.postMessage({ handlerMs, responses });
});
parentPort.postMessage('ready');
