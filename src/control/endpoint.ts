/**
 * Comlink endpoints over Node's worker ports, with a count of every message in each direction.
 *
 * Comlink expects DOM-style `{ data }` events; Node's ports emit the data itself. The counters are
 * how the pool proves that the task path sends no message at all (see `ThreadPool.controlMessages`).
 */
import type { TransferListItem } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

/** The part of `Worker` and `MessagePort` that the endpoint needs. */
export interface NodePort {
  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  off(event: 'message', listener: (data: unknown) => void): unknown;
}

export interface MessageCounts {
  sent: number;
  received: number;
}

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function countingEndpoint(port: NodePort, counts: MessageCounts): Endpoint {
  const adapters = new WeakMap<object, (data: unknown) => void>();
  // Held weakly: Comlink keeps the endpoint as the held value of a FinalizationRegistry whose
  // targets are its proxies, and a worker's listeners reach its proxy (through the WorkerHost). A
  // strong reference would close that loop, and on Bun and Deno nothing of a closed pool would ever
  // be collected. Whoever uses the endpoint holds the port anyway (the host its Worker, the worker
  // thread its parentPort).
  const weakPort = new WeakRef(port);
  return {
    postMessage(message: unknown, transfer?: TransferListItem[]) {
      counts.sent++;
      weakPort.deref()?.postMessage(message, transfer);
    },
    addEventListener(_type: string, listener: Listener) {
      const adapter = (data: unknown) => {
        counts.received++;
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      adapters.set(listener, adapter);
      weakPort.deref()?.on('message', adapter);
    },
    removeEventListener(_type: string, listener: Listener) {
      const adapter = adapters.get(listener);
      if (adapter === undefined) return;
      adapters.delete(listener);
      weakPort.deref()?.off('message', adapter);
    },
  };
}
