/**
 * A throw-away Redis server for the cluster tests and benchmark: Debian's `redis-server` on a
 * loopback port, without persistence. `.ci/run` installs it; without it the cluster tests skip
 * (test/support/services.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';

/** @returns {Promise<{ url: string, stop(): Promise<void> }>} */
export async function startRedis() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const failed = new Promise((resolve) => {
      server.once('error', resolve); // ENOENT: not installed
      server.once('exit', (code) => resolve(new Error(`redis-server exited with code ${code}`)));
    });
    const ready = await Promise.race([listening(port), failed]);
    if (ready === true) return { url: `redis://127.0.0.1:${port}`, stop: () => stop(server) };
    if (ready.code === 'ENOENT') throw new Error('redis-server is not installed (apt-get install redis-server)');
  }
  throw new Error('could not start redis-server on a free port');
}

/** Resolves true once something accepts connections on the port (polling for up to 5 s). */
async function listening(port) {
  for (let i = 0; ; i++) {
    const accepted = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (accepted) return true;
    if (i > 100) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stop(server) {
  if (server.exitCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}
