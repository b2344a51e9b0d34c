// A gRPC server whose streaming tool calls are processed by viscose's ParallelProcessor (or, for
// comparison, inline on the event loop). Run it: `node examples/grpc-stream/server.mjs
// [--port 50051] [--mode viscose|inline] [--threads N]`; it prints `listening on HOST:PORT` and
// shuts down gracefully on SIGTERM or SIGINT. README.md beside it explains the design.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import grpc from '@grpc/grpc-js';
import { ParallelProcessor } from 'viscose';
import { handleToolCall } from './tools.mjs';
import { loadToolCalls } from './proto.mjs';

/**
 * Starts a server on `host:port` (port 0 picks a free one). `mode` `'viscose'` hands each request to
 * a ParallelProcessor of `threads` workers that admits at most `maxPendingTasks` requests at once
 * across all streams; `'inline'` runs each stream's requests one after another on the event loop.
 * Resolves with `{ port, processor, counters, shutdown(graceMs) }`.
 *
 * @param {{ host?: string, port?: number, mode?: 'viscose' | 'inline', threads?: number, maxPendingTasks?: number }} [options]
 */
export async function startServer({ host = '127.0.0.1', port = 0, mode = 'viscose', threads, maxPendingTasks = 256 } = {}) {
  const processor =
    mode === 'viscose'
      ? await ParallelProcessor.create({
          module: new URL('./tools.mjs', import.meta.url),
          handler: 'handleToolCall',
          threads,
          maxPendingTasks,
        })
      : undefined;
  // What the server has read and answered so far, over all streams (for monitoring, and for the
  // tests that check the server stops reading when it is at capacity).
  const counters = { read: 0, answered: 0 };
  const server = new grpc.Server();
  server.addService(loadToolCalls().service, {
    Stream: processor === undefined ? (call) => serveInline(call, counters) : (call) => serveWithProcessor(call, processor, counters),
  });
  const bound = await new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return {
    port: bound,
    processor,
    counters,
    /**
     * Stops accepting calls, lets the streams in flight finish (their clients end them) for up to
     * `graceMs`, then cancels what is left, and closes the processor and its pool.
     */
    async shutdown(graceMs = 10_000) {
      const drained = new Promise((resolve) => server.tryShutdown(resolve));
      const timer = setTimeout(() => server.forceShutdown(), graceMs);
      await drained;
      clearTimeout(timer);
      await processor?.close();
    },
  };
}

/**
 * One call's stream through the processor. The processor pulls requests from the call only while
 * it has capacity (its `stream` reads the source lazily), so when every worker is busy the call's
 * buffer fills, grpc-js stops reading the socket, and HTTP/2 flow control holds the client back:
 * nothing is buffered without bound. Responses go out as requests finish, each carrying its
 * request's id; a failing request gets an error response and the stream goes on. A cancelled call
 * aborts the stream: requests still queued are withdrawn and never run.
 */
async function serveWithProcessor(call, processor, counters) {
  const cancelled = new AbortController();
  call.on('cancelled', () => cancelled.abort());
  // Ids of the requests read and not yet answered, by their position in the stream: at most the
  // processor's capacity of them.
  const ids = new Map();
  async function* requests() {
    let position = 0;
    // Not `for await (… of call)`: that destroys the call when the requests end, and the responses
    // still to come could no longer be written.
    for await (const message of call.iterator({ destroyOnReturn: false })) {
      counters.read++;
      ids.set(position++, message.requestId);
      yield toolCallOf(message);
    }
  }
  try {
    for await (const result of processor.stream(requests(), { signal: cancelled.signal, order: 'completion' })) {
      const requestId = ids.get(result.index);
      ids.delete(result.index);
      if (cancelled.signal.aborted) continue; // nobody is listening any more
      await send(call, result.ok ? { requestId, result: { contentJson: result.value } } : { requestId, error: toolError(result.error) });
      counters.answered++;
    }
    if (!cancelled.signal.aborted) call.end();
  } catch (error) {
    // Not a failed request (those are responses): the stream itself broke, e.g. the pool closed.
    // grpc-js turns an 'error' event on a server stream into the call's status.
    if (!cancelled.signal.aborted) call.emit('error', grpcError(error));
  }
}

/** The comparison: the same handler, each stream's requests one after another on the event loop. */
async function serveInline(call, counters) {
  let cancelled = false;
  call.on('cancelled', () => (cancelled = true));
  try {
    for await (const message of call.iterator({ destroyOnReturn: false })) {
      if (cancelled) break;
      counters.read++;
      let response;
      try {
        response = { requestId: message.requestId, result: { contentJson: handleToolCall(toolCallOf(message)) } };
      } catch (error) {
        response = {
          requestId: message.requestId,
          error: { kind: 'tool-failed', message: error instanceof Error ? error.message : String(error) },
        };
      }
      await send(call, response);
      counters.answered++;
    }
    if (!cancelled) call.end();
  } catch (error) {
    if (!cancelled) call.emit('error', grpcError(error));
  }
}

/** The handler's request: what `handleToolCall` takes, from a StreamRequest. */
function toolCallOf(message) {
  return { tool: message.call?.tool ?? '', argumentsJson: message.call?.argumentsJson ?? '' };
}

/**
 * Writes one response; while the client reads slower than the server answers (write() said so), waits
 * for the buffer to drain, or for the call to end.
 */
function send(call, response) {
  if (call.write(response)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'cancelled']) call.off(event, done);
      resolve();
    };
    for (const event of ['drain', 'close', 'cancelled']) call.on(event, done);
  });
}

/** A failed request's error response: the kind says what the client may do about it. */
function toolError(error) {
  switch (error.kind) {
    case 'task-failed':
      // ProcessingError → TaskError → what the tool threw.
      return { kind: 'tool-failed', message: error.cause?.cause?.message ?? error.message };
    case 'timed-out':
      return { kind: 'timed-out', message: error.message };
    case 'cancelled':
      return { kind: 'cancelled', message: error.message };
    case 'backpressure-exceeded':
      return { kind: 'overloaded', message: error.message };
    default:
      return { kind: 'internal', message: error.message };
  }
}

function grpcError(error) {
  return Object.assign(new Error(error instanceof Error ? error.message : String(error)), { code: grpc.status.INTERNAL });
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '50051' },
      host: { type: 'string', default: '127.0.0.1' },
      mode: { type: 'string', default: 'viscose' },
      threads: { type: 'string' },
    },
  });
  if (values.mode !== 'viscose' && values.mode !== 'inline') throw new Error('--mode must be viscose or inline');
  const server = await startServer({
    host: values.host,
    port: Number(values.port),
    mode: values.mode,
    threads: values.threads === undefined ? undefined : Number(values.threads),
  });
  console.log(`listening on ${values.host}:${server.port} (${values.mode})`);
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, async () => {
      console.log(`${signal}: finishing the streams in flight`);
      await server.shutdown();
      console.log('stopped');
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
