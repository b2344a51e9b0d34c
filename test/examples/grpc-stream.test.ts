// The gRPC streaming example (examples/grpc-stream/) end to end: a real server on a loopback port,
// real gRPC clients, the ParallelProcessor behind it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, openToolStream } from '../../examples/grpc-stream/client.mjs';
import { drive, expectedResponse, mixedRequest } from '../../examples/grpc-stream/load.mjs';
import { startServer } from '../../examples/grpc-stream/server.mjs';
import { waitFor } from '../support/wait-for.js';

const CAPACITY = 8;
/** A `hash` that keeps a worker busy for about `ms` here. */
const busyFor = (ms: number) => ({ text: 'slow', rounds: ms * 500_000 });

interface Response {
  requestId: string;
  outcome: 'result' | 'error';
  result?: { contentJson: string };
  error?: { kind: string; message: string };
}

describe('the gRPC streaming example', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let address: string;

  beforeAll(async () => {
    server = await startServer({ port: 0, mode: 'viscose', threads: 2, maxPendingTasks: CAPACITY });
    address = `127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.shutdown(5_000);
  });

  it('answers every request of several concurrent streams correctly, failures included', async () => {
    // Small hashes: this checks correctness, not speed. Every response is compared with the
    // request's expected result (the same tools module run here), errors with the tool's message.
    const run = await drive({
      address,
      streams: 6,
      requestsPerStream: 60,
      inFlight: 5,
      request: (stream: number, i: number) => mixedRequest(stream, i, 20_000),
      verifyEvery: 1,
    });
    expect(run.mismatches).toEqual([]);
    expect(run.requests).toBe(6 * 60);
  });

  it('answers a failing request with an error response and goes on with the stream', async () => {
    const client = connect(address);
    try {
      const stream = openToolStream(client);
      const calls: [string, string, unknown][] = [
        ['1', 'fail', { message: 'broken on purpose' }],
        ['2', 'no-such-tool', {}],
        ['3', 'echo', { after: 'failures' }],
        ['4', 'hash', { text: 'still here', rounds: 1000 }],
      ];
      for (const [id, tool, args] of calls) await stream.send(id, tool, args);
      stream.end();
      const status = once(stream.call, 'status');
      const responses: Response[] = [];
      for await (const response of stream.responses) responses.push(response as Response);
      expect((await status)[0].code).toBe(0); // the stream itself ended well
      const byId = new Map(responses.map((response) => [response.requestId, response]));
      expect(byId.size).toBe(4);
      expect(byId.get('1')).toMatchObject({ outcome: 'error', error: { kind: 'tool-failed', message: 'broken on purpose' } });
      expect(byId.get('2')).toMatchObject({ outcome: 'error', error: { kind: 'tool-failed', message: 'no tool named "no-such-tool"' } });
      expect(byId.get('3')).toMatchObject({ outcome: 'result', result: { contentJson: '{"after":"failures"}' } });
      const hash = expectedResponse({ tool: 'hash', args: { text: 'still here', rounds: 1000 } });
      expect(byId.get('4')).toMatchObject({ outcome: 'result', result: { contentJson: hash.contentJson } });
    } finally {
      client.close();
    }
  });

  it('stops reading a stream while the processor is at capacity, so the client is held back', async () => {
    const client = connect(address);
    try {
      const stream = openToolStream(client);
      const before = { ...server.counters };
      // Big requests (16 KiB each), sent as fast as the stream takes them: far more than HTTP/2's
      // flow-control window, so once the server stops reading, the client's writes must wait.
      const padding = 'x'.repeat(16 * 1024);
      const count = 120;
      let held = 0;
      let mostUnanswered = 0;
      const sample = setInterval(() => {
        mostUnanswered = Math.max(mostUnanswered, server.counters.read - before.read - (server.counters.answered - before.answered));
      }, 1);
      const receiving = (async () => {
        let n = 0;
        for await (const response of stream.responses) {
          expect((response as Response).outcome).toBe('result');
          n++;
        }
        return n;
      })();
      for (let i = 0; i < count; i++) {
        const ok = stream.call.write({
          requestId: String(i),
          call: { tool: 'hash', argumentsJson: JSON.stringify({ text: padding, rounds: 1_000_000 }) },
        });
        if (!ok) {
          held++;
          await once(stream.call, 'drain');
        }
      }
      stream.end();
      expect(await receiving).toBe(count);
      clearInterval(sample);
      // The server never held more requests than its capacity (plus the one being read)...
      expect(mostUnanswered).toBeGreaterThan(0);
      expect(mostUnanswered).toBeLessThanOrEqual(CAPACITY + 1);
      // ...and so the client's writes had to wait for it.
      expect(held).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it('withdraws the queued requests of a cancelled call: none runs, nothing is left behind', async () => {
    const client = connect(address);
    try {
      const before = server.processor!.statistics();
      const readBefore = server.counters.read;
      const stream = openToolStream(client);
      stream.call.on('error', () => {}); // the cancellation itself, reported to the client
      // 30 requests of ~40 ms: with 8 admitted at a time and 2 workers, most are still queued when
      // the first one is answered.
      for (let i = 0; i < 30; i++) await stream.send(String(i), 'hash', busyFor(40));
      await once(stream.call, 'data');
      stream.cancel();
      // Withdrawn calls keep their slot until a worker meets their queue entry and hands it back.
      await waitFor(() => {
        const statistics = server.processor!.statistics();
        return statistics.requests.inFlight === 0 && statistics.pool.slots.main.free === statistics.pool.slots.main.capacity;
      }, 10_000);
      const after = server.processor!.statistics();
      const cancelled = after.requests.cancelled - before.requests.cancelled;
      expect(cancelled).toBeGreaterThan(0);
      // Of the requests the server read, those still queued were withdrawn: fewer tasks ran on the
      // workers than requests were read (the read ones include those buffered when the call ended).
      const read = server.counters.read - readBefore;
      const tasksRun = (statistics: typeof after) => statistics.pool.workers.reduce((sum, worker) => sum + worker.tasksRun, 0);
      expect(tasksRun(after) - tasksRun(before)).toBeLessThan(read);
      const slots = after.pool.slots.main;
      expect(slots.free).toBe(slots.capacity);
      // The stream is still usable for everyone else.
      const run = await drive({
        address,
        streams: 1,
        requestsPerStream: 5,
        inFlight: 2,
        request: (s: number, i: number) => mixedRequest(s, i, 1000),
      });
      expect(run.mismatches).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('finishes the streams in flight when shut down, and takes no new call', async () => {
    const own = await startServer({ port: 0, mode: 'viscose', threads: 1, maxPendingTasks: 4 });
    const client = connect(`127.0.0.1:${own.port}`);
    try {
      const stream = openToolStream(client);
      // The call is under way (answered once) before the shutdown starts.
      await stream.send('first', 'echo', {});
      await once(stream.call, 'data');
      for (let i = 0; i < 6; i++) await stream.send(String(i), 'hash', busyFor(20));
      const shutdown = own.shutdown(10_000);
      stream.end();
      const responses: Response[] = [];
      for await (const response of stream.responses) responses.push(response as Response);
      await shutdown;
      expect(responses.map((response) => response.requestId).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
      expect(responses.map((response) => response.outcome)).toEqual(Array(6).fill('result'));
      const late = openToolStream(client);
      const failure = new Promise<{ code: number }>((resolve) => late.call.on('error', resolve));
      late.end();
      expect((await failure).code).toBe(14); // UNAVAILABLE: nobody listens any more
    } finally {
      client.close();
    }
  });
});

describe('the example server as a program', () => {
  // The SIGTERM path of server.mjs: a request in flight is still answered, then the process exits.
  it('shuts down gracefully on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../../examples/grpc-stream/server.mjs', import.meta.url)), '--port', '0', '--threads', '1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await waitFor(() => /listening on (\S+)/.test(output), 15_000);
    const client = connect(/listening on (\S+)/.exec(output)![1]);
    try {
      const stream = openToolStream(client);
      await stream.send('first', 'echo', {});
      await once(stream.call, 'data');
      await stream.send('slow', 'hash', busyFor(200));
      child.kill('SIGTERM');
      stream.end();
      const responses: Response[] = [];
      for await (const response of stream.responses) responses.push(response as Response);
      expect(responses).toHaveLength(1); // the first one was read before
      expect(responses[0]).toMatchObject({ requestId: 'slow', outcome: 'result' });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(output).toContain('SIGTERM: finishing the streams in flight');
      expect(output).toContain('stopped');
    } finally {
      client.close();
      child.kill('SIGKILL');
    }
  });
});
