/**
 * Simulated hosts: each cluster node runs as if on a machine of its own, on this one Linux
 * machine. A host is a network namespace wired to a bridge (addresses from 198.51.100.0/24, which
 * is routed nowhere: no traffic leaves the machine) plus a cgroup with a CPU quota; a "local" host
 * is the cgroup alone, to run a baseline within the same CPU budget. Redis listens on the bridge's
 * address in the root namespace, so that the caller (a test, the benchmark's client) reaches it
 * directly while every host reaches it over its own link, which `cutOff` can take down.
 *
 * Faults: `cutOff`/`reconnect` (a partition: connections stall, no reset), `kill` (SIGKILL of every
 * process of the host), and added latency through a delaying TCP proxy per host, as this kernel has
 * no `tc netem`. Packet loss is not offered: a userland proxy cannot lose TCP segments faithfully
 * (TCP would retransmit them; a proxy could only stall or cut the byte stream).
 *
 * Everything a harness creates (namespaces, links, bridge, cgroups, processes, directories) goes on
 * `dispose()`, on process exit, SIGINT and SIGTERM; leftovers of processes that died without
 * cleaning up (SIGKILL) are swept when the next harness starts. See docs/internals/simulated-hosts.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../redis.mjs';
import { hostsAvailable } from './available.mjs';
import { createGroup, createLeaf, findCpuController, killAllIn, removeGroup } from './cgroups.mjs';
import { address, checkHostName, HOSTS_PER_SLICE, harnessNames } from './names.mjs';
import { DelayProxy, delayProxyCommand } from './delay-proxy.mjs';
import { createBridge, createHostNetwork, removeBridge, removeHostNetwork, setLinkUp } from './network.mjs';
import { spawnInHost } from './processes.mjs';
import { claimSlice, releaseSlice } from './slices.mjs';
import { sweepLeftovers } from './sweep.mjs';

export { hostsAvailable } from './available.mjs';

const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

/**
 * @typedef {import('./processes.mjs').HostProcess} HostProcess
 * @typedef {import('../redis.mjs').RedisServer} RedisServer
 */

/**
 * @typedef {object} Host A simulated host.
 * @property {string} name
 * @property {number | undefined} cpus Its CPU quota in cores (undefined: unlimited).
 * @property {string} cgroup Path of its cgroup directory.
 * @property {string | undefined} address Its 198.51.100.x address; undefined for a local host.
 * @property {string | undefined} netns Its network namespace; undefined for a local host.
 * @property {string | undefined} link Its bridge port in the root namespace (what `cutOff` takes down).
 */

/**
 * @typedef {object} NodeSettings How to start `viscose worker` on a host.
 * @property {string} queue
 * @property {string} module The task module (`--module`).
 * @property {number} [threads] `--threads` (default 1).
 * @property {number} [concurrency] `--concurrency` (the command's default when absent).
 * @property {string[]} [extraArgs] More options of the command.
 * @property {NodeJS.ProcessEnv} [env]
 */

/** @typedef {HostProcess & { name: string }} HostNode A node serving its queue; `name` is `<host>:<pid>` (`<machine>:<pid>` on a local host). */

/** @type {Set<Hosts>} */
const live = new Set();
let serials = 0;

/** A harness: its hosts, its Redis, its fault controls. Create with {@link createHosts}. */
export class Hosts {
  /** @type {import('./cgroups.mjs').CpuController} */
  #controller;
  #names;
  #slice;
  /** The bridge's address, where Redis and the delaying proxies listen. */
  gateway;
  /** The bridge's name. */
  bridge;
  /** Path of the harness's cgroup (hosts' cgroups and `services` are its children). */
  cgroup;
  /** @type {string} */
  #services;
  /** @type {Host[]} */
  #hosts = [];
  /** @type {Map<Host, DelayProxy>} */
  #proxies = new Map();
  /** @type {RedisServer | undefined} */
  #redis;
  /** @type {string[]} */
  #directories = [];
  #disposed = false;

  /** @param {import('./cgroups.mjs').CpuController} controller */
  constructor(controller) {
    this.#controller = controller;
    this.#names = harnessNames(process.pid, ++serials);
    this.bridge = this.#names.bridge;
    this.cgroup = join(controller.root, this.#names.cgroup);
    this.#slice = claimSlice(process.pid);
    this.gateway = address(this.#slice, 1);
    hook(this);
    try {
      createBridge(this.bridge, this.gateway);
      createGroup(controller, this.#names.cgroup);
      this.#services = createLeaf(controller, this.cgroup, 'services', undefined);
    } catch (error) {
      this.disposeSync();
      throw error;
    }
  }

  /** The hosts added so far. */
  get hosts() {
    return [...this.#hosts];
  }

  /**
   * Adds a host with a network of its own. With `latencyMs` (0 included), it reaches Redis
   * through a delaying proxy, whose delay {@link Hosts.setLatency} changes; Redis must be started
   * first then.
   * @param {string} name
   * @param {{ cpus?: number, latencyMs?: number }} [options]
   * @returns {Promise<Host>}
   */
  async addHost(name, { cpus, latencyMs } = {}) {
    const index = this.#hosts.length;
    if (index >= HOSTS_PER_SLICE) throw new Error(`a harness has addresses for ${HOSTS_PER_SLICE} hosts`);
    const host = this.#newHost(name, cpus, {
      address: address(this.#slice, 2 + index),
      netns: this.#names.netns(name),
      link: this.#names.link(index),
    });
    createHostNetwork({ bridge: this.bridge, gateway: this.gateway, netns: host.netns, link: host.link, hostAddress: host.address });
    if (latencyMs !== undefined) await this.#startProxy(host, latencyMs);
    return host;
  }

  /**
   * Adds a host without a network of its own (the root namespace's): a CPU budget for a
   * baseline that runs beside the simulated cluster.
   * @param {string} name
   * @param {{ cpus?: number }} [options]
   * @returns {Host}
   */
  addLocalHost(name, { cpus } = {}) {
    return this.#newHost(name, cpus, { address: undefined, netns: undefined, link: undefined });
  }

  /**
   * @template {{ address: string | undefined, netns: string | undefined, link: string | undefined }} N
   * @param {string} name
   * @param {number | undefined} cpus
   * @param {N} network
   * @returns {Host & N}
   */
  #newHost(name, cpus, network) {
    this.#check();
    checkHostName(name);
    if (name === 'services' || this.#hosts.some((host) => host.name === name)) throw new Error(`host name ${name} is taken`);
    const host = { name, cpus, cgroup: createLeaf(this.#controller, this.cgroup, name, cpus), ...network };
    this.#hosts.push(host);
    return host;
  }

  /**
   * Starts the harness's Redis on the gateway address (one per harness).
   * @param {{ appendonly?: boolean }} [options] `appendonly`: persist every write (AOF, fsync
   *   always) in a directory of the harness, so that `restart()` replays it.
   * @returns {Promise<RedisServer>}
   */
  async startRedis({ appendonly = false } = {}) {
    this.#check();
    if (this.#redis) throw new Error('this harness already runs Redis');
    const appendonlyDir = appendonly ? this.#directory('redis') : undefined;
    this.#redis = await startRedis({
      bind: this.gateway,
      appendonlyDir,
      launch: (command, args) => spawnInHost({ cgroup: this.#services, command, args }).child,
    });
    return this.#redis;
  }

  /**
   * The Redis URL as `host` reaches it: through its proxy when it has one.
   * @param {Host} host
   */
  redisUrl(host) {
    const redis = this.#requireRedis();
    const proxy = this.#proxies.get(host);
    return proxy ? `redis://${this.gateway}:${proxy.port}` : redis.url;
  }

  /**
   * Starts `viscose worker` (dist/cli.js, on the caller's Node binary) on `host`, resolving once
   * it serves its queue.
   * @param {Host} host
   * @param {NodeSettings} settings
   * @returns {Promise<HostNode>}
   */
  async startNode(host, { queue, module, threads = 1, concurrency, extraArgs = [], env }) {
    const jobsAtOnce = concurrency === undefined ? [] : ['--concurrency', String(concurrency)];
    const args = [
      CLI,
      'worker',
      '--module',
      module,
      '--queue',
      queue,
      '--redis',
      this.redisUrl(host),
      '--threads',
      String(threads),
      ...jobsAtOnce,
      ...extraArgs,
    ];
    const node = this.runNode(host, args, { env });
    await node.waitForOutput('serving queue');
    const name = /viscose worker (\S+): serving/.exec(node.output())?.[1] ?? '';
    return { ...node, name };
  }

  /**
   * Runs `node args…` (the caller's Node binary) on `host`.
   * @param {Host} host
   * @param {readonly string[]} args
   * @param {{ env?: NodeJS.ProcessEnv }} [options]
   * @returns {HostProcess}
   */
  runNode(host, args, { env } = {}) {
    this.#check();
    return spawnInHost({ cgroup: host.cgroup, netns: host.netns, hostname: host.name, command: process.execPath, args, env });
  }

  /**
   * Partitions `host` from everything: its link goes down, its connections stall.
   * @param {Host} host
   */
  cutOff(host) {
    setLinkUp(this.#linkOf(host), false);
  }

  /**
   * Ends the partition of `host`: stalled connections resume (TCP retransmits).
   * @param {Host} host
   */
  reconnect(host) {
    setLinkUp(this.#linkOf(host), true);
  }

  /**
   * SIGKILLs every process running on `host` (a crashed machine), returning once they are gone.
   * @param {Host} host
   */
  kill(host) {
    killAllIn(host.cgroup);
  }

  /**
   * Sets the delay, in each direction, of `host`'s proxy to Redis (chunks read from now on).
   * @param {Host} host
   * @param {number} latencyMs
   * @returns {Promise<void>}
   */
  async setLatency(host, latencyMs) {
    await this.#proxyOf(host).setDelay(latencyMs);
  }

  /**
   * How late `host`'s proxy has delivered the chunks it forwarded so far, against when it read
   * them: the latency set plus what the machine added.
   * @param {Host} host
   * @returns {Promise<import('./delay-proxy.mjs').Delays>}
   */
  delaysOf(host) {
    return this.#proxyOf(host).delays();
  }

  /** Removes everything the harness created. */
  async dispose() {
    this.disposeSync();
  }

  async [Symbol.asyncDispose]() {
    this.disposeSync();
  }

  /** {@link Hosts.dispose}, synchronous (for exit and signal handlers). Idempotent. */
  disposeSync() {
    if (this.#disposed) return;
    this.#disposed = true;
    // Processes first: a namespace with processes in it outlives `ip netns del`.
    removeGroup(this.cgroup);
    for (const host of this.#hosts) if (host.link && host.netns) removeHostNetwork(host.link, host.netns);
    removeBridge(this.bridge);
    releaseSlice(this.#slice);
    for (const directory of this.#directories) rmSync(directory, { recursive: true, force: true });
    unhook(this);
  }

  /** @param {Host} host */
  async #startProxy(host, latencyMs) {
    const redis = this.#requireRedis();
    const { command, args } = delayProxyCommand({
      listenAddress: this.gateway,
      targetAddress: redis.address,
      targetPort: redis.port,
      delayMs: latencyMs,
    });
    const { child } = spawnInHost({ cgroup: this.#services, command, args, stdin: true });
    this.#proxies.set(host, await DelayProxy.started(child));
  }

  /** @param {Host} host */
  #proxyOf(host) {
    const proxy = this.#proxies.get(host);
    if (!proxy) throw new Error(`host ${host.name} was added without latencyMs, so it has no proxy`);
    return proxy;
  }

  /** A temporary directory, named so that a sweep finds it when this process dies unclean. */
  #directory(/** @type {string} */ purpose) {
    const directory = mkdtempSync(join(tmpdir(), `${this.#names.cgroup}-${purpose}-`));
    this.#directories.push(directory);
    return directory;
  }

  #requireRedis() {
    if (!this.#redis) throw new Error('start Redis first (hosts.startRedis())');
    return this.#redis;
  }

  /** @param {Host} host */
  #linkOf(host) {
    if (!host.link) throw new Error(`host ${host.name} is local: it has no network to cut`);
    return host.link;
  }

  #check() {
    if (this.#disposed) throw new Error('this harness is disposed');
  }
}

/**
 * Creates a harness, after sweeping leftovers of dead ones. Throws with the reason when
 * {@link hostsAvailable} says no.
 * @returns {Hosts}
 */
export function createHosts() {
  const available = hostsAvailable();
  if (!available.ok) throw new Error(`simulated hosts are not available: ${available.why}`);
  const controller = findCpuController();
  if ('why' in controller) throw new Error(controller.why);
  sweepLeftovers(controller);
  return new Hosts(controller);
}

/**
 * Runs `body` with a harness, disposed afterwards whether the body returns or throws.
 * @template T
 * @param {(hosts: Hosts) => Promise<T>} body
 * @returns {Promise<T>}
 */
export async function withHosts(body) {
  const hosts = createHosts();
  try {
    return await body(hosts);
  } finally {
    hosts.disposeSync();
  }
}

const SIGNALS = /** @type {const} */ (['SIGINT', 'SIGTERM']);

function disposeAll() {
  for (const hosts of live) hosts.disposeSync();
}

/** Cleans up, then lets the signal do what it would have done had no one listened. */
function onSignal(/** @type {NodeJS.Signals} */ signal) {
  disposeAll();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/** @param {Hosts} hosts */
function hook(hosts) {
  if (live.size === 0) {
    process.on('exit', disposeAll);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  live.add(hosts);
}

/** @param {Hosts} hosts */
function unhook(hosts) {
  live.delete(hosts);
  if (live.size > 0) return;
  process.off('exit', disposeAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
