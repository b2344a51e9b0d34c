/**
 * A fluent builder over the pool options, shaped like Rayon's `ThreadPoolBuilder`: one method per
 * option of the pool's options table, named as the option, then `build()`.
 *
 * ```ts
 * const pool = await new ThreadPoolBuilder<typeof import('./tasks.js')>()
 *   .module(new URL('./tasks.js', import.meta.url))
 *   .threads(4)
 *   .threadName((i) => `resizer-${i}`)
 *   .startHandler('warmUp')
 *   .build();
 * ```
 */
import { warnDeprecated } from '../options/table.js';
import { POOL_OPTIONS, type ThreadPoolOptions } from './options.js';
import { ThreadPool } from './thread-pool.js';
import type { TaskModule, TaskName, UntypedModule } from './types.js';

/** The options set by name, each documented on ThreadPoolOptions. */
type OptionSetters<B, M> = {
  [K in keyof ThreadPoolOptions]-?: (value: K extends 'startHandler' | 'exitHandler' ? TaskName<M> : ThreadPoolOptions[K]) => B;
};

// The interface merges the setters, installed below from the options table, into the class.
export interface ThreadPoolBuilder<M extends TaskModule = UntypedModule> extends OptionSetters<ThreadPoolBuilder<M>, M> {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above.
export class ThreadPoolBuilder<M extends TaskModule = UntypedModule> {
  private readonly options: Record<string, unknown> = {};

  /** @deprecated Rayon's name for {@link ThreadPoolOptions.threads}: use `threads(count)`. */
  numThreads(threads: number): ThreadPoolBuilder<M> {
    warnDeprecated('numThreads', 'threads');
    return this.threads(threads);
  }

  /** @deprecated The earlier name of {@link ThreadPoolOptions.onError}: use `onError(handler)`. */
  errorHandler(handler: (error: Error) => void): ThreadPoolBuilder<M> {
    warnDeprecated('errorHandler', 'onError');
    return this.onError(handler);
  }

  /** Starts the pool; see `ThreadPool.create`. Every option is checked then. */
  build(): Promise<ThreadPool<M>> {
    return ThreadPool.create<M>(this.options as unknown as ThreadPoolOptions);
  }
}

for (const name of Object.keys(POOL_OPTIONS)) {
  Object.defineProperty(ThreadPoolBuilder.prototype, name, {
    value(this: { options: Record<string, unknown> }, value: unknown) {
      this.options[name] = value;
      return this;
    },
    writable: true,
    configurable: true,
  });
}
