/**
 * One 'abort' listener per signal, however many calls share it: Node warns past ten listeners on
 * one signal, and a caller may well pass the same signal to thousands of calls.
 */
export class AbortListeners {
  private readonly bySignal = new WeakMap<AbortSignal, { actions: Set<() => void>; onAbort: () => void }>();

  /** @param afterAbort runs once the actions of an aborted signal have run. */
  constructor(private readonly afterAbort: () => void = () => {}) {}

  /** Runs `action` when `signal` aborts. Returns what forgets it, to be called once its call settles. */
  add(signal: AbortSignal, action: () => void): () => void {
    let group = this.bySignal.get(signal);
    if (group === undefined) {
      const actions = new Set<() => void>();
      const onAbort = () => {
        this.bySignal.delete(signal);
        for (const run of actions) run();
        this.afterAbort();
      };
      group = { actions, onAbort };
      this.bySignal.set(signal, group);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    const { actions, onAbort } = group;
    actions.add(action);
    return () => {
      actions.delete(action);
      if (actions.size > 0 || this.bySignal.get(signal)?.actions !== actions) return;
      this.bySignal.delete(signal);
      signal.removeEventListener('abort', onAbort);
    };
  }
}
