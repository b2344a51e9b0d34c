/**
 * Call priorities, and the rule that keeps lower ones from starving.
 *
 * Queued work is taken in priority order at two places: the main thread hands free slots to the
 * calls waiting for one, and each worker takes work from the injector's three levels. Both choose
 * with a {@link LevelPicker}: the most urgent level that has work, unless a level has been passed
 * over {@link STARVATION_BOUND} times in a row while it had work waiting; then the level passed
 * over most goes first (the less urgent on a tie). A level with waiting work is thus passed over
 * at most STARVATION_BOUND + 1 times in a row (once more than the bound when two levels starve at
 * the same time), whatever arrives meanwhile, and gets at least 1 / (STARVATION_BOUND + 2) of the
 * choices.
 */
import { InvalidOptionError } from '../errors.js';
import { PRIORITY_LEVELS } from '../shm/layout.js';

export type Priority = 'high' | 'normal' | 'low';

/** Injector level of each priority; level 0 is served first. */
export const PRIORITY_LEVEL: Readonly<Record<Priority, number>> = { high: 0, normal: 1, low: 2 };
export const NORMAL_LEVEL = PRIORITY_LEVEL.normal;

/** How many times in a row a level with waiting work may be passed over by more urgent levels. */
export const STARVATION_BOUND = 8;

export function priorityLevel(priority: Priority | undefined): number {
  if (priority === undefined) return NORMAL_LEVEL;
  if (!Object.hasOwn(PRIORITY_LEVEL, priority)) {
    throw new InvalidOptionError('priority', `expected 'high', 'normal' or 'low', got ${JSON.stringify(priority)}`);
  }
  return PRIORITY_LEVEL[priority];
}

export class LevelPicker {
  /** Times in a row each level was passed over while it had work. */
  private readonly passedOver = new Int32Array(PRIORITY_LEVELS);

  /**
   * The level to serve: among the levels passed over STARVATION_BOUND times or more, the one
   * passed over most (the less urgent on a tie); else the most urgent level with work.
   */
  first(hasWork: (level: number) => boolean): number {
    let starved = -1;
    for (let level = PRIORITY_LEVELS - 1; level >= 0; level--) {
      const count = this.passedOver[level];
      if (count >= STARVATION_BOUND && (starved < 0 || count > this.passedOver[starved]) && hasWork(level)) starved = level;
    }
    if (starved >= 0) return starved;
    for (let level = 0; level < PRIORITY_LEVELS; level++) if (hasWork(level)) return level;
    return -1;
  }

  /** Work of `level` was served: every other level that had work was passed over once more. */
  served(level: number, hasWork: (level: number) => boolean): void {
    this.passedOver[level] = 0;
    for (let other = 0; other < PRIORITY_LEVELS; other++) if (other !== level && hasWork(other)) this.passedOver[other]++;
  }
}
