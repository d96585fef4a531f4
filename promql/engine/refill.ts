/**
 * Refilling arrays that are reused for every series or every step.
 *
 * `a.length = 0` followed by pushes looks like reuse but is not: V8 drops the backing store of an
 * array emptied that way, so the pushes allocate it again and regrow it step by step (16, 40, 76,
 * 130, … elements). For a buffer refilled per series or per step that is most of what the query
 * allocates. Overwriting in place and cutting the length to the count at the end keeps the store.
 */

/** Writes `v` at index `k` of an array being refilled (`k` is at most its length). */
export function refillAt<T>(a: T[], k: number, v: T): void {
  if (k < a.length) a[k] = v;
  else a.push(v);
}

/** Ends a refill after `k` elements. */
export function refillEnd(a: unknown[], k: number): void {
  if (a.length !== k) a.length = k;
}
