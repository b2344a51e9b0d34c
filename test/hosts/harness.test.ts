// The simulated hosts harness (test/support/hosts): each host really has its own address and
// namespace, a cut-off really partitions, the quota really limits, the proxy really delays, and
// nothing outlives the harness.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CLUSTER_TASKS } from '../support/cluster-node.js';
import { createHosts, type Hosts, withHosts } from '../support/hosts/index.mjs';
import { waitFor } from '../support/wait-for.js';

/** Without root, iproute2 or a cgroup cpu controller these tests skip (test/support/services.ts says so once). */
const hasHosts = inject('services').hosts && inject('services').redis;

const PROBE = fileURLToPath(new URL('../fixtures/host-probe.mjs', import.meta.url));
const INDEX = new URL('../support/hosts/index.mjs', import.meta.url).href;

/** What `ip` lists of namespaces and links, to look for a harness's names in. */
function networkListing(): string {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }) + execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
}

/** Whether anything of the harness whose names these are is left. */
function leftovers(names: { bridge: string; cgroup: string; netns: string[]; links: string[] }): string[] {
  const listing = networkListing();
  return [
    ...[names.bridge, ...names.links].filter((link) => listing.includes(`${link}:`) || listing.includes(`${link}@`)),
    ...names.netns.filter((netns) => listing.includes(netns)),
    ...(existsSync(names.cgroup) ? [names.cgroup] : []),
  ];
}

function namesOf(hosts: Hosts) {
  return {
    bridge: hosts.bridge,
    cgroup: hosts.cgroup,
    netns: hosts.hosts.flatMap((host) => host.netns ?? []),
    links: hosts.hosts.flatMap((host) => host.link ?? []),
  };
}

describe.skipIf(!hasHosts)('simulated hosts', () => {
  let hosts: Hosts;
  beforeAll(async () => {
    hosts = createHosts();
    await hosts.startRedis();
  });
  afterAll(() => hosts?.dispose());

  it('gives each host its own address and name, from which its node reaches Redis, and no way out', async () => {
    const [a, b] = [await hosts.addHost('reach-a'), await hosts.addHost('reach-b')];
    expect(a.address).not.toBe(b.address);
    const nodes = await Promise.all([a, b].map((host) => hosts.startNode(host, { queue: 'reach', module: CLUSTER_TASKS })));
    expect(nodes.map((node) => node.name.split(':')[0])).toEqual([a.name, b.name]);
    const redis = new Redis(hosts.redisUrl(a));
    try {
      const clients = String(await redis.client('LIST'));
      for (const host of [a, b]) expect(clients).toContain(`addr=${host.address}:`);
    } finally {
      redis.disconnect();
    }
    // No route beyond the harness's /27: not to this machine's own network, not anywhere.
    const outside = hosts.runNode(a, [PROBE, 'connect', 'redis://203.0.113.1:6379', '1000']);
    await outside.exited;
    expect(outside.output()).toContain('error ENETUNREACH');
  });

  it('stalls a cut-off host (no reset, no new connection) and lets it resume after reconnect', async () => {
    const host = await hosts.addHost('cut');
    const pings = hosts.runNode(host, [PROBE, 'pings', hosts.redisUrl(host)]);
    await pings.waitForOutput('pong 2');
    hosts.cutOff(host);
    await new Promise((resolve) => setTimeout(resolve, 200)); // replies already under way arrive
    const pongsWhenCut = pings.output().length;
    const attempt = hosts.runNode(host, [PROBE, 'connect', hosts.redisUrl(host), '1500']);
    await attempt.exited;
    expect(attempt.output().trim()).toBe('pending');
    expect(pings.output().length).toBe(pongsWhenCut);
    expect(pings.output()).not.toMatch(/error|closed/);

    hosts.reconnect(host);
    await waitFor(() => pings.output().length > pongsWhenCut, 15_000);
    expect(pings.output()).not.toMatch(/error|closed/);
    const again = hosts.runNode(host, [PROBE, 'connect', hosts.redisUrl(host), '5000']);
    await again.exited;
    expect(again.output().trim()).toBe(`connected ${host.address}`);
  });

  it('holds a host and a local host to their CPU quota', async () => {
    const quota = 0.5;
    const shares = await Promise.all(
      [await hosts.addHost('busy', { cpus: quota }), hosts.addLocalHost('busy-local', { cpus: quota })].map(async (host) => {
        const busy = hosts.runNode(host, [PROBE, 'busy', '1500']);
        await busy.exited;
        return Number(/cpu-share (\S+)/.exec(busy.output())?.[1]);
      }),
    );
    // Unlimited, a busy loop gets a whole core (share ~1); the margin above 0.5 is for the
    // quota's granularity, not for speed.
    for (const share of shares) expect(share).toBeGreaterThan(0);
    for (const share of shares) expect(share).toBeLessThan(0.75);
  });

  it('delays each direction through the proxy by the host latency, changeable', async () => {
    const host = await hosts.addHost('far', { latencyMs: 25 });
    const fastestRoundTrip = async () => {
      const probe = hosts.runNode(host, [PROBE, 'round-trips', hosts.redisUrl(host), '5']);
      await probe.exited;
      return Number(/fastest (\S+)/.exec(probe.output())?.[1]);
    };
    expect(await fastestRoundTrip()).toBeGreaterThanOrEqual(50);
    await hosts.setLatency(host, 60);
    expect(await fastestRoundTrip()).toBeGreaterThanOrEqual(120);
    // What the proxy reports it did: two probes of five round trips, a chunk each way per trip.
    const delays = await hosts.delaysOf(host);
    expect(delays.chunks).toBeGreaterThanOrEqual(20);
    expect(delays.medianMs).toBeGreaterThanOrEqual(25);
    expect(delays.maxMs).toBeGreaterThanOrEqual(60);
    expect(delays.meanMs).toBeLessThanOrEqual(delays.maxMs);
  });
});

describe.skipIf(!hasHosts)('simulated hosts cleanup', () => {
  it('leaves nothing behind when the body throws', async () => {
    let names: ReturnType<typeof namesOf> | undefined;
    let nodeExited: Promise<{ signal: NodeJS.Signals | null }> | undefined;
    const failing = withHosts(async (hosts) => {
      await hosts.startRedis({ appendonly: true });
      const host = await hosts.addHost('doomed', { cpus: 0.5, latencyMs: 1 });
      hosts.addLocalHost('doomed-local', { cpus: 0.5 });
      nodeExited = (await hosts.startNode(host, { queue: 'doomed', module: CLUSTER_TASKS })).exited;
      names = namesOf(hosts);
      throw new Error('the body failed');
    });
    await expect(failing).rejects.toThrow('the body failed');
    expect(names!.links).toHaveLength(1);
    expect(leftovers(names!)).toEqual([]);
    await expect(nodeExited).resolves.toMatchObject({ signal: 'SIGKILL' });
  });

  it('sweeps what a harness of a killed process left', async () => {
    const script = `
      const { createHosts } = await import(${JSON.stringify(INDEX)});
      const hosts = createHosts();
      await hosts.startRedis();
      const host = await hosts.addHost('orphan', { cpus: 0.5 });
      hosts.runNode(host, ['-e', 'setInterval(() => {}, 1000)']);
      console.log(JSON.stringify({ bridge: hosts.bridge, cgroup: hosts.cgroup, netns: [host.netns], links: [host.link] }));`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    owner.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await waitFor(() => output.includes('\n'), 20_000);
    const names = JSON.parse(output);
    const exited = new Promise((resolve) => owner.once('exit', resolve));
    owner.kill('SIGKILL'); // no exit handler runs
    await exited;
    expect(leftovers(names)).not.toEqual([]);

    createHosts().disposeSync();
    expect(leftovers(names)).toEqual([]);
  });
});
