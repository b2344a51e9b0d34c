/**
 * Keeps the process alive while the pool has something in flight, and only then. A pending
 * `Atomics.waitAsync` does not hold Node's event loop open, and the workers are unref'd so that an
 * idle pool never keeps a process from exiting; this ref'd timer handle fills the gap.
 */
export class KeepAlive {
  private holders = 0;
  private readonly handle: NodeJS.Timeout;

  constructor() {
    this.handle = setInterval(() => {}, 2 ** 31 - 1);
    this.handle.unref();
  }

  acquire(): void {
    if (this.holders++ === 0) this.handle.ref();
  }

  release(): void {
    if (--this.holders === 0) this.handle.unref();
  }

  /** Holds the process open until `promise` settles. */
  async during<T>(promise: Promise<T>): Promise<T> {
    this.acquire();
    try {
      return await promise;
    } finally {
      this.release();
    }
  }

  dispose(): void {
    clearInterval(this.handle);
  }
}
