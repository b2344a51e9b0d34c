/**
 * A TCP proxy that delays every chunk by a set time in each direction, keeping order: added
 * latency where `tc netem` is missing. Run as its own process:
 *
 *   node delay-proxy.mjs <listen address> <target address> <target port> <delay ms>
 *
 * It prints `listening <port>` once it accepts connections, and takes `{ delayMs }` messages on
 * its IPC channel (answering `delay <ms>`) to change the delay of chunks read from then on.
 * It delays bytes, not packets: it cannot drop, reorder or duplicate what TCP would recover from.
 * Node's timers wait at least 1 ms, so no delay is below that: measured from inside a host, a
 * Redis round trip took 0.11 ms without the proxy, 2.44 ms through it set to 0 and 2.52 set to 1.
 */
import { createServer, connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const [listenAddress, targetAddress, targetPort, delay] = process.argv.slice(2);
let delayMs = Number(delay);
/** Bytes held back per direction before its source is paused. */
const HIGH_WATER = 1 << 20;

/**
 * Forwards `from` to `to`, each chunk `delayMs` after it arrived.
 * @param {import('node:net').Socket} from
 * @param {import('node:net').Socket} to
 */
function delayedPipe(from, to) {
  /** @type {{ due: number, chunk?: Buffer }[]} */
  const queue = [];
  let held = 0;
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const schedule = () => {
    if (timer !== undefined || queue.length === 0) return;
    timer = setTimeout(release, Math.max(0, Math.ceil(queue[0].due - performance.now())));
  };
  const release = () => {
    timer = undefined;
    // A timer may fire a little early by the clock; nothing leaves before its due time.
    while (queue.length > 0 && queue[0].due <= performance.now()) {
      const { chunk } = /** @type {{ due: number, chunk?: Buffer }} */ (queue.shift());
      if (chunk === undefined) {
        to.end();
        continue;
      }
      held -= chunk.length;
      to.write(chunk);
      if (held < HIGH_WATER && from.isPaused()) from.resume();
    }
    schedule();
  };
  from.on('data', (chunk) => {
    queue.push({ due: performance.now() + delayMs, chunk });
    held += chunk.length;
    if (held >= HIGH_WATER) from.pause();
    schedule();
  });
  from.on('end', () => {
    queue.push({ due: performance.now() + delayMs });
    schedule();
  });
}

const server = createServer((client) => {
  const upstream = connect(Number(targetPort), targetAddress);
  const destroyBoth = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', destroyBoth).on('close', (hadError) => hadError && upstream.destroy());
  upstream.on('error', destroyBoth).on('close', (hadError) => hadError && client.destroy());
  delayedPipe(client, upstream);
  delayedPipe(upstream, client);
});
server.listen(0, listenAddress, () => {
  const bound = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`listening ${bound.port}`);
});
process.on('message', (message) => {
  delayMs = /** @type {{ delayMs: number }} */ (message).delayMs;
  process.send?.(`delay ${delayMs}`);
});
