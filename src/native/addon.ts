/**
 * Loads the optional C++ addon built from native-queue/ (`npm run build:native`): the native deque
 * (`queue: 'native'`) and thread pinning (`pinThreads`). Nothing loads it unless one of those is
 * asked for, so the package works without a compiler.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadPoolError } from '../errors.js';

/** The addon's exports (native-queue/src/addon.cc). */
export interface NativeAddon {
  NativeDeque: new (
    words: Int32Array,
    top: number,
    bottom: number,
    ring: number,
    capacity: number,
    claimWords: Int32Array,
    claimBase: number,
    claimStride: number,
    slotBits: number,
    encoding: Int32Array,
  ) => NativeDequeHandle;
  /** Whether `pinThread` works on this platform (Linux). */
  canPinThreads: boolean;
  /** The CPUs the calling thread may run on. */
  allowedCpus(): number[];
  /** Pins the calling thread to one CPU; throws with the reason when it cannot. */
  pinThread(cpu: number): void;
}

/** The C++ object behind a NativeDeque (src/queue/native-deque.ts), which documents each method. */
export interface NativeDequeHandle {
  push(entry: number): boolean;
  pop(): number;
  /** A claimed slot, EMPTY, RETRY, or `WITHDRAWN_BASE - slot` for a withdrawn call taken back. */
  steal(worker: number, takeWithdrawn: boolean): number;
  stealBatch(into: NativeDequeHandle, limit: number): number;
  hasRoom(): boolean;
  size(): number;
  reset(start?: number): void;
  adoptOwnership(): number[];
}

/** `steal` results at or below this encode a withdrawn call's slot as `WITHDRAWN_BASE - slot`. */
export const WITHDRAWN_BASE = -3;

const ADDON_FILE = join('native-queue', 'build', 'Release', 'viscose_native.node');

let loaded: NativeAddon | undefined;

/**
 * The addon, loaded once per thread. Throws a ThreadPoolError that says how to build it when it is
 * missing or does not load; `purpose` names what needed it.
 */
export function nativeAddon(purpose: string): NativeAddon {
  if (loaded !== undefined) return loaded;
  const file = findAddon();
  if (file === undefined) {
    throw new ThreadPoolError(
      `${purpose} needs the native addon, which is not built: run \`npm run build:native\` in the viscose package ` +
        '(it needs python3, make, a C++20 compiler and Node.js headers for node-gyp)',
    );
  }
  try {
    loaded = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ThreadPoolError(`${purpose} needs the native addon, and ${file} failed to load: ${reason}; rebuild it with \`npm run build:native\``, {
      cause: error,
    });
  }
  return loaded;
}

/** Whether the addon has been built (without loading it). */
export function nativeAddonBuilt(): boolean {
  return findAddon() !== undefined;
}

/**
 * The built addon, looked for in the package root above this module: one level up from the bundled
 * dist/, two from the sources in src/native/ (as tests run them).
 */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 2; up++) {
    dir = dirname(dir);
    const candidate = join(dir, ADDON_FILE);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}
