// A client of the ToolCalls service: `openToolStream` wraps one bidirectional call. Run it for a
// short demonstration against a running server: `node examples/grpc-stream/client.mjs [--port 50051]`.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import grpc from '@grpc/grpc-js';
import { loadToolCalls } from './proto.mjs';

/** A client of the server at `address` (`host:port`), over plain-text HTTP/2 (loopback). */
export function connect(address) {
  const ToolCalls = loadToolCalls();
  return new ToolCalls(address, grpc.credentials.createInsecure());
}

/**
 * Opens one stream. `send(requestId, tool, args)` writes a request and resolves once the stream
 * accepts more (HTTP/2 flow control: when the server stops reading, so does this); `responses` is
 * the async iterable of responses, in the order they finish; `end()` says no more requests come;
 * `cancel()` abandons the call.
 */
export function openToolStream(client) {
  const call = client.Stream();
  return {
    send(requestId, tool, args) {
      const ok = call.write({ requestId, call: { tool, argumentsJson: JSON.stringify(args) } });
      return ok ? Promise.resolve() : new Promise((resolve) => call.once('drain', resolve));
    },
    responses: call,
    end: () => call.end(),
    cancel: () => call.cancel(),
    call,
  };
}

async function main() {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '50051' }, host: { type: 'string', default: '127.0.0.1' } } });
  const client = connect(`${values.host}:${values.port}`);
  const stream = openToolStream(client);
  await stream.send('a', 'echo', { hello: 'world' });
  await stream.send('b', 'hash', { text: 'viscose', rounds: 1_000_000 });
  await stream.send('c', 'fail', { message: 'broken on purpose' });
  await stream.send('d', 'nope', {});
  stream.end();
  for await (const response of stream.responses) {
    const outcome =
      response.outcome === 'result' ? `result ${response.result.contentJson}` : `error ${response.error.kind}: ${response.error.message}`;
    console.log(`${response.requestId}: ${outcome}`);
  }
  client.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
