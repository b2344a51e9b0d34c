/**
 * The tasks a worker runs, by task id: the task module's exported functions (sorted by name, the
 * order the main thread knows them in), then the built-in tasks.
 */
import { NotATaskError } from '../errors.js';

export type TaskFunction = (...args: unknown[]) => unknown;

export class TaskTable {
  private readonly functions: TaskFunction[];
  private readonly names: string[];
  /** Task id of each exported function: only those may be named by work that leaves the thread. */
  private readonly exportedIds: Map<unknown, number>;

  constructor(exported: readonly TaskFunction[], names: readonly string[], builtIns: readonly [name: string, task: TaskFunction][]) {
    this.exportedIds = new Map(exported.map((task, id) => [task, id]));
    this.functions = [...exported, ...builtIns.map(([, task]) => task)];
    this.names = [...names, ...builtIns.map(([name]) => name)];
  }

  task(id: number): TaskFunction {
    return this.functions[id];
  }

  /** A task's name, for messages. */
  name(id: number): string {
    return this.names[id];
  }

  /** The id of an exported task; `where` names the operation for the NotATaskError otherwise. */
  idOf(fn: unknown, where: string): number {
    const id = this.exportedId(fn);
    if (id === undefined) throw new NotATaskError(where, fn);
    return id;
  }

  /** The id of `fn` if the task module exports it. */
  exportedId(fn: unknown): number | undefined {
    return this.exportedIds.get(fn);
  }
}
