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
  return {
    postMessage(message: unknown, transfer?: TransferListItem[]) {
      counts.sent++;
      port.postMessage(message, transfer);
    },
    addEventListener(_type: string, listener: Listener) {
      const adapter = (data: unknown) => {
        counts.received++;
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      adapters.set(listener, adapter);
      port.on('message', adapter);
    },
    removeEventListener(_type: string, listener: Listener) {
      const adapter = adapters.get(listener);
      if (adapter === undefined) return;
      adapters.delete(listener);
      port.off('message', adapter);
    },
  };
}
