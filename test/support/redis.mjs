/**
 * A throw-away Redis server for the cluster tests and benchmark: Debian's `redis-server` on a
 * random port, on loopback by default, without persistence unless asked. `.ci/run` installs it;
 * without it the cluster tests skip (test/support/services.ts). The simulated hosts harness
 * (test/support/hosts) starts it on its own address, with AOF, inside its cgroup.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';

/**
 * @typedef {object} RedisOptions
 * @property {string} [bind] The address to listen on (default 127.0.0.1).
 * @property {string} [appendonlyDir] Persist every write to an append-only file in this directory
 *   (`--appendfsync always`), so that a restart replays everything acknowledged.
 * @property {(command: string, args: string[]) => import('node:child_process').ChildProcess} [launch]
 *   Starts the server (default: a plain spawn); the harness uses it to start it in a cgroup.
 */

/**
 * @typedef {object} RedisServer
 * @property {string} url
 * @property {string} address
 * @property {number} port
 * @property {() => Promise<void>} stop Stops the server (SIGTERM).
 * @property {() => Promise<void>} restart SIGKILLs the server (a crash, not a shutdown: nothing
 *   is saved on the way out) and starts it again on the same address, port and directory.
 */

/**
 * @param {RedisOptions} [options]
 * @returns {Promise<RedisServer>}
 */
export async function startRedis({ bind = '127.0.0.1', appendonlyDir, launch = defaultLaunch } = {}) {
  const persistence =
    appendonlyDir === undefined ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', appendonlyDir];
  const start = (/** @type {number} */ port) =>
    // Not in protected mode: on a non-loopback address it would refuse every client.
    launch('redis-server', ['--port', String(port), '--bind', bind, '--protected-mode', 'no', '--save', '', ...persistence]);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    let server = start(port);
    const ready = await untilListening(server, bind, port);
    if (ready === true) {
      return {
        url: `redis://${bind}:${port}`,
        address: bind,
        port,
        stop: () => stop(server, 'SIGTERM'),
        restart: async () => {
          await stop(server, 'SIGKILL');
          server = start(port);
          const restarted = await untilListening(server, bind, port);
          if (restarted !== true) throw new Error(`redis-server did not restart on ${bind}:${port}: ${restarted.message}`);
        },
      };
    }
    if (/** @type {NodeJS.ErrnoException} */ (ready).code === 'ENOENT')
      throw new Error('redis-server is not installed (apt-get install redis-server)');
  }
  throw new Error('could not start redis-server on a free port');
}

/** @type {NonNullable<RedisOptions['launch']>} */
const defaultLaunch = (command, args) => spawn(command, args, { stdio: 'ignore' });

/**
 * Resolves true once the server listens, or the error it failed with.
 * @param {import('node:child_process').ChildProcess} server
 * @param {string} address
 * @param {number} port
 * @returns {Promise<true | Error>}
 */
function untilListening(server, address, port) {
  const failed = new Promise((resolve) => {
    server.once('error', resolve); // ENOENT: not installed
    server.once('exit', (code) => resolve(new Error(`redis-server exited with code ${code}`)));
  });
  return Promise.race([listening(address, port), failed]);
}

/** Resolves true once something accepts connections on the port (polling for up to 5 s). */
async function listening(/** @type {string} */ address, /** @type {number} */ port) {
  for (let i = 0; ; i++) {
    const accepted = await new Promise((resolve) => {
      const socket = connect(port, address, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return true;
    if (i > 100) throw new Error(`redis-server did not listen on ${address}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(/** @type {import('node:child_process').ChildProcess} */ server, /** @type {NodeJS.Signals} */ signal) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill(signal);
  await exited;
}
