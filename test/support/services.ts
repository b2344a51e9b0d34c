/**
 * The programs some tests need besides Node.js, looked for once per run (vitest `globalSetup`):
 * `redis-server` for the cluster tests, `spin` (with gcc) for the protocol models. On a machine
 * without one, its tests are skipped and one line says so; with `VISCOSE_REQUIRE_SERVICES=1` (as
 * `.ci/run` sets) a missing one fails the run instead, so that CI never skips silently.
 */
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';

/** What each service is for, and how to get it. */
const SERVICES = {
  redis: {
    command: 'redis-server',
    args: ['--version'],
    tests: 'the cluster tests (test/bullmq)',
    install: 'apt-get install redis-server',
  },
  spin: { command: 'spin', args: ['-V'], tests: 'the protocol model checks (test/models)', install: 'apt-get install spin gcc' },
} as const;

export type Service = keyof typeof SERVICES;
export type ServicesFound = Record<Service, boolean>;

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesFound;
  }
}

function found(command: string, args: readonly string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(project: TestProject): void {
  const required = process.env.VISCOSE_REQUIRE_SERVICES === '1';
  const services = {} as ServicesFound;
  for (const [name, service] of Object.entries(SERVICES) as [Service, (typeof SERVICES)[Service]][]) {
    services[name] = found(service.command, service.args);
    if (services[name]) continue;
    if (required)
      throw new Error(`${service.command} is not installed, and VISCOSE_REQUIRE_SERVICES=1 requires ${service.tests} (${service.install})`);
    // Once per run, not once per project.
    if (project.name === project.vitest.projects[0]!.name) {
      console.log(`skipped: ${service.tests}: ${service.command} is not on the PATH (${service.install} to run them)`);
    }
  }
  project.provide('services', services);
}
