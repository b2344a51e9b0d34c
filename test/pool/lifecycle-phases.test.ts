/**
 * The pool's lifecycle (src/pool/lifecycle.ts) with the pool's steps replaced by records of what
 * was asked: which phase follows which call, what a call in each phase meets, and the order of the
 * shutdown steps when close and terminate race.
 */
import { describe, expect, it } from 'vitest';
import { PoolClosedError, ThreadPoolError } from '../../src/errors.js';
import { Lifecycle, type LifecycleSteps } from '../../src/pool/lifecycle.js';

function rig(pending = 0) {
  const done: string[] = [];
  let stopWorkers!: (failures: unknown[]) => void;
  let terminateWorkers!: () => void;
  const state = { pending };
  const steps: LifecycleSteps = {
    pending: () => state.pending,
    stopWorkers: () => {
      done.push('stopWorkers');
      return new Promise((resolve) => (stopWorkers = resolve));
    },
    abandonAll: (error) => done.push(`abandonAll ${error.name}`),
    terminateWorkers: () => {
      done.push('terminateWorkers');
      return new Promise<void>((resolve) => (terminateWorkers = resolve));
    },
    releaseBuffers: () => done.push('releaseBuffers'),
    dispose: () => done.push('dispose'),
    report: (error) => done.push(`report ${(error as Error).message}`),
  };
  const life = new Lifecycle(steps);
  return { life, done, state, stopWorkers: (f: unknown[] = []) => stopWorkers(f), terminateWorkers: () => terminateWorkers() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the lifecycle of a pool', () => {
  it('running takes calls; close waits for the calls to settle, then stops the workers', async () => {
    const { life, done, state, stopWorkers } = rig(2);
    expect(life.phase).toBe('running');
    expect(() => life.assertAccepting()).not.toThrow();
    const closed = life.close(Infinity);
    expect(life.phase).toBe('closing');
    expect(life.open).toBe(false);
    expect(() => life.assertAccepting()).toThrow(PoolClosedError);
    await turn();
    expect(done).toEqual([]);
    state.pending = 0;
    life.settled();
    await turn();
    expect(done).toEqual(['stopWorkers']);
    stopWorkers([new Error('exit handler failed')]);
    await closed;
    expect(life.phase).toBe('closed');
    expect(done).toEqual(['stopWorkers', 'releaseBuffers', 'dispose', 'report exit handler failed']);
    // Closing again or terminating a closed pool does nothing more.
    await life.close(Infinity);
    await life.terminate();
    expect(done).toHaveLength(4);
  });

  it('terminate abandons what is pending and ends the threads, once, and a close waiting for it ends with it', async () => {
    const { life, done, terminateWorkers } = rig(3);
    const closed = life.close(Infinity);
    const terminated = life.terminate();
    expect(life.terminate()).toBe(terminated);
    expect(life.phase).toBe('terminating');
    expect(life.stopped).toBe(true);
    expect(done).toEqual(['abandonAll PoolClosedError', 'releaseBuffers', 'terminateWorkers']);
    terminateWorkers();
    await terminated;
    await closed;
    expect(life.phase).toBe('closed');
    // The graceful close never reached the workers' shutdown.
    expect(done).toEqual(['abandonAll PoolClosedError', 'releaseBuffers', 'terminateWorkers', 'dispose']);
  });

  it('a terminate while the workers shut down wins: nothing of the close is reported after it', async () => {
    const { life, done, stopWorkers, terminateWorkers } = rig(0);
    const closed = life.close(Infinity);
    await turn();
    expect(done).toEqual(['stopWorkers']);
    const terminated = life.terminate();
    terminateWorkers();
    stopWorkers([new Error('worker crashed under its shutdown')]);
    await terminated;
    await closed;
    expect(done).toEqual(['stopWorkers', 'abandonAll PoolClosedError', 'releaseBuffers', 'terminateWorkers', 'dispose']);
  });

  it('a close past its timeout turns into a terminate', async () => {
    const { life, done, terminateWorkers } = rig(1);
    const closed = life.close(5);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(life.phase).toBe('terminating');
    terminateWorkers();
    await closed;
    expect(life.phase).toBe('closed');
    expect(done).toEqual(['abandonAll PoolClosedError', 'releaseBuffers', 'terminateWorkers', 'dispose']);
  });

  it('failed: every call meets the failure, in every later phase, and close still ends the pool', async () => {
    const { life, done, state, stopWorkers } = rig(1);
    const failure = new ThreadPoolError('every worker of the pool has died');
    life.fail(failure);
    expect(life.phase).toBe('failed');
    expect(life.open).toBe(true);
    expect(done).toEqual(['abandonAll ThreadPoolError']);
    expect(() => life.assertAccepting()).toThrow(failure);
    const closed = life.close(Infinity);
    expect(() => life.assertAccepting()).toThrow(failure);
    // The abandoned call settled.
    state.pending = 0;
    life.settled();
    await turn();
    stopWorkers();
    await closed;
    expect(life.phase).toBe('closed');
    expect(() => life.assertAccepting()).toThrow(failure);
  });
});
