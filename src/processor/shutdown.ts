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

  /** Has `wake` called when the processor stops, until `unwatch`. */
  watch(wake: () => void): void {
    this.watchers.add(wake);
  }

  unwatch(wake: () => void): void {
    this.watchers.delete(wake);
  }
}
