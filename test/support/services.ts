/**
 * What some tests need besides Node.js, looked for once per run (vitest `globalSetup`):
 * `redis-server` for the cluster tests, `spin` (with gcc) for the protocol models, a C compiler for
 * the delaying proxy (test/support/hosts/delay-proxy.c), and simulated hosts (root, iproute2, a
 * cgroup cpu controller, the proxy: test/support/hosts) for the host tests. On a
 * machine without one, its tests are skipped and one line says so; with
 * `VISCOSE_REQUIRE_SERVICES=1` (as `.ci/run` sets) a missing one fails the run instead, so that CI
 * never skips silently.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { delayProxyMissing } from './hosts/delay-proxy.mjs';
import { hostsAvailable } from './hosts/index.mjs';

/** Why a command cannot run here, or undefined when it can. */
function missingCommand(command: string, args: readonly string[]): string | undefined {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return undefined;
  } catch {
    return `${command} is not on the PATH`;
  }
}

/** What each service is for, how to get it, and why it is missing (undefined: present). */
const SERVICES = {
  redis: {
    missing: () => missingCommand('redis-server', ['--version']),
    tests: 'the cluster tests (test/bullmq)',
    install: 'apt-get install redis-server',
  },
  spin: {
    missing: () => missingCommand('spin', ['-V']),
    tests: 'the protocol model checks (test/models)',
    install: 'apt-get install spin gcc',
  },
  delayProxy: {
    missing: delayProxyMissing,
    tests: 'the cluster tests far from Redis (test/bullmq/auto-concurrency.test.ts)',
    install: 'apt-get install gcc',
  },
  hosts: {
    missing: () => {
      const available = hostsAvailable();
      return available.ok ? undefined : available.why;
    },
    tests: 'the simulated hosts tests (test/hosts)',
    install: 'run as root with iproute2, gcc and the cgroup cpu controller',
  },
} as const;

export type Service = keyof typeof SERVICES;
export type ServicesFound = Record<Service, boolean>;

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesFound;
  }
}

export default function setup(project: TestProject): void {
  const required = process.env.VISCOSE_REQUIRE_SERVICES === '1';
  const services = {} as ServicesFound;
  for (const [name, service] of Object.entries(SERVICES) as [Service, (typeof SERVICES)[Service]][]) {
    const why = service.missing();
    services[name] = why === undefined;
    if (why === undefined) continue;
    if (required) throw new Error(`${why}, and VISCOSE_REQUIRE_SERVICES=1 requires ${service.tests} (${service.install})`);
    // Once per run, not once per project.
    if (project.name === project.vitest.projects[0]!.name) {
      console.log(`skipped: ${service.tests}: ${why} (${service.install} to run them)`);
    }
  }
  project.provide('services', services);
}
