/**
 * The processor's end, as its streams see it: once the processor is closed, terminated, or found
 * with its pool closed under it, it stays stopped, and every stream watching it is woken to stop
 * reading its source.
 */
export class Shutdown {
  private why: string | undefined;
  private readonly watchers = new Set<() => void>();

  /** Why the processor stopped, once it has; the first reason stays. */
  get reason(): string | undefined {
    return this.why;
  }

  begin(reason: string): void {
    if (this.why !== undefined) return;
    this.why = reason;
    for (const wake of this.watchers) wake();
  }

  /** Calls `wake` when the processor stops; returns a function that forgets it. */
  watch(wake: () => void): () => void {
    this.watchers.add(wake);
    return () => void this.watchers.delete(wake);
  }
}
