/**
 * The indexed adapters, `skip`, `take`, `stepBy` and `rev`, as views of the source: each one maps
 * an index of the sequence it makes to an index of the sequence it was given by `in = a * out + b`,
 * and such maps compose into one, so a pipeline only carries the final count and the map from its
 * loop index to a source unit (the loop reads `items[a * i + b]`). An `enumerate` before a view
 * keeps numbering the sequence it saw: it carries the composition of the views after it.
 */

/** A sequence of `count` items, whose item `i` is item `a * i + b` of what it was made from. */
export interface View {
  readonly count: number;
  readonly a: number;
  readonly b: number;
}

/** The source as it is: `count` units, unit i is unit i. */
export function wholeSource(count: number): View {
  return { count, a: 1, b: 0 };
}

/** The view an adapter makes of a sequence of `count` items. */
export function adapterView(adapter: 'skip' | 'take' | 'stepBy' | 'rev', count: number, n = 0): View {
  switch (adapter) {
    case 'skip':
      return { count: Math.max(0, count - n), a: 1, b: Math.min(n, count) };
    case 'take':
      return { count: Math.min(count, n), a: 1, b: 0 };
    case 'stepBy':
      return { count: Math.ceil(count / n), a: n, b: 0 };
    case 'rev':
      return { count, a: -1, b: count - 1 };
  }
}

/** `outer` seen through `inner` (made from what `outer` indexes): one map from inner's indices. */
export function compose(outer: View, inner: View): View {
  return { count: inner.count, a: outer.a * inner.a, b: outer.a * inner.b + outer.b };
}
