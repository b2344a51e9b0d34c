/**
 * Loads the C++ addon from native-queue/: the native deque (`queue: 'native'`) and thread pinning
 * (`pinThreads`). Nothing loads it unless one of those is asked for, so the package works without
 * it. It is a Node-API build, so one binary serves every Node.js version; the package ships one per
 * platform it was packed on, in prebuilds/<platform>-<arch>/, found with no install script.
 */
import { existsSync } from 'node:fs';
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
  hasRoom(): boolean;
  size(): number;
  reset(start?: number): void;
  adoptOwnership(): number[];
}

/** `steal` results at or below this encode a withdrawn call's slot as `WITHDRAWN_BASE - slot`. */
export const WITHDRAWN_BASE = -3;

const ADDON_NAME = 'viscose_native.node';
const PLATFORM = `${process.platform}-${process.arch}`;

/**
 * Where the addon may be, relative to the package root, in order: a build in the checkout or the
 * installed package (`node-gyp rebuild`), then the prebuilt binary for this platform.
 */
const CANDIDATES = [join('native-queue', 'build', 'Release', ADDON_NAME), join('prebuilds', PLATFORM, ADDON_NAME)];

/** What builds the addon inside an installed copy of the package, run from the project's root. */
const BUILD_HINT =
  'build it from the project with ' +
  '`npm install --no-save node-addon-api node-gyp && npx node-gyp rebuild --directory node_modules/viscose/native-queue` ' +
  '(needs python3, make and a C++20 compiler); in a checkout of viscose, `npm run build:native`';

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
      `${purpose} needs the native addon: there is no prebuilt addon for ${PLATFORM} and none built; ${BUILD_HINT}`,
    );
  }
  try {
    // process.dlopen, not require: require goes through whatever loader hooks a preload
    // registered, and on Deno tsx's then compiled the .node file as JavaScript.
    const module = { exports: {} };
    process.dlopen(module, file);
    loaded = module.exports as NativeAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ThreadPoolError(`${purpose} needs the native addon, and ${file} failed to load: ${reason}; ${BUILD_HINT}`, {
      cause: error,
    });
  }
  return loaded;
}

/**
 * The addon, looked for in the package root above this module: one level up from the bundled
 * dist/, two from the sources in src/native/ (as tests run them).
 */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 2; up++) {
    dir = dirname(dir);
    for (const candidate of CANDIDATES) {
      const file = join(dir, candidate);
      if (existsSync(file)) return file;
    }
  }
  return undefined;
}
