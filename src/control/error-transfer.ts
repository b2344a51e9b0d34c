/**
 * Errors thrown across the control plane keep their class name, stack, `code`, `cause` and own
 * properties: Comlink's default only keeps name, message and stack. They travel through the same
 * msgpack Error extension as task errors, so both paths report failures the same way.
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { type Packed, pack, unpack } from '../codec/msgpack.js';
import { PayloadKind } from '../shm/slot.js';

interface Thrown {
  value: unknown;
}

function encodeThrown(value: unknown): Uint8Array {
  let packed: Packed;
  try {
    packed = pack(value, PayloadKind.PLAIN);
  } catch {
    // The thrown value itself cannot be encoded (it holds a function, say): keep what can be.
    const error = value instanceof Error ? value : new Error(String(value));
    packed = pack({ name: error.name, message: error.message, stack: error.stack }, PayloadKind.PLAIN);
  }
  return packed.bytes.slice(packed.start, packed.end);
}

let installed = false;

/** Replaces Comlink's 'throw' handler in this thread; both ends of a channel must call it. */
export function installErrorTransfer(): void {
  if (installed) return;
  installed = true;
  const original = transferHandlers.get('throw')!;
  const handler: TransferHandler<Thrown, Uint8Array> = {
    canHandle: (value): value is Thrown => original.canHandle(value),
    serialize: ({ value }) => [encodeThrown(value), []],
    deserialize: (bytes) => {
      throw unpack(bytes, bytes.length, PayloadKind.PLAIN);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
}
