/**
 * Quantiles and fractions over classic histograms (`le` buckets), as Prometheus's
 * `BucketQuantile`/`BucketFraction`: buckets are sorted, same-bound buckets merged, counts forced
 * monotonic (reported so the caller can annotate) with tiny floating-point deltas ignored.
 */
import { almostEqual } from './mathutil.js';

export interface Bucket {
  upperBound: number;
  count: number;
}

const SMALL_DELTA_TOLERANCE = 1e-12;

/**
 * Sorts `buckets` by bound and merges same-bound ones, in place: callers hand over buckets they
 * built for this one call (one set per group and step), so copying them first is not needed.
 */
function sortAndCoalesce(buckets: Bucket[]): Bucket[] {
  if (!insertionSorted(buckets)) buckets.sort((a, b) => (a.upperBound < b.upperBound ? -1 : a.upperBound > b.upperBound ? 1 : 0));
  let k = 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const last = k > 0 ? buckets[k - 1]! : undefined;
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets[k++] = b;
  }
  buckets.length = k;
  return buckets;
}

/** Histograms have a dozen or so buckets, which arrive nearly in order. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts a short bucket list by bound with a stable insertion sort, which needs no scratch array
 * (`Array.prototype.sort` allocates one per call, and this runs per group and step). Returns
 * false, leaving the list as it was, where that sort must decide: a long list, or a NaN bound
 * (which compares equal to every bound, so the result depends on the algorithm).
 */
function insertionSorted(buckets: Bucket[]): boolean {
  const n = buckets.length;
  if (n > INSERTION_SORT_MAX) return false;
  for (let i = 0; i < n; i++) if (buckets[i]!.upperBound !== buckets[i]!.upperBound) return false;
  for (let i = 1; i < n; i++) {
    const b = buckets[i]!;
    const ub = b.upperBound;
    let j = i - 1;
    while (j >= 0 && buckets[j]!.upperBound > ub) {
      buckets[j + 1] = buckets[j]!;
      j--;
    }
    buckets[j + 1] = b;
  }
  return true;
}

/** The bound `input` sorted by `a.upperBound - b.upperBound` would end with. */
function lastSortedBound(input: readonly Bucket[]): number {
  let max = -Infinity;
  for (const b of input) {
    const ub = b.upperBound;
    // A NaN bound makes that comparator inconsistent; only the sort itself says where it ends up.
    if (ub !== ub) return [...input].sort((x, y) => x.upperBound - y.upperBound)[input.length - 1]!.upperBound;
    if (ub > max) max = ub;
  }
  return max;
}

export interface QuantileResult {
  quantile: number;
  forcedMonotonic: boolean;
  minBucket: number;
  maxBucket: number;
  maxDiff: number;
}

function ensureMonotonic(buckets: Bucket[]): Omit<QuantileResult, 'quantile'> {
  let forcedMonotonic = false;
  let minBucket = Infinity;
  let maxBucket = -Infinity;
  let maxDiff = 0;
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i]!;
    const curr = b.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE)) {
      b.count = prev;
      continue;
    }
    if (curr < prev) {
      b.count = prev;
      forcedMonotonic = true;
      if (b.upperBound < minBucket) minBucket = b.upperBound;
      if (b.upperBound > maxBucket) maxBucket = b.upperBound;
      if (prev - curr > maxDiff) maxDiff = prev - curr;
      continue;
    }
    prev = curr;
  }
  return { forcedMonotonic, minBucket, maxBucket, maxDiff };
}

/** The `q` quantile of the buckets in `input`, which it sorts, merges and adjusts in place. */
export function bucketQuantile(q: number, input: Bucket[]): QuantileResult {
  const none = { forcedMonotonic: false, minBucket: 0, maxBucket: 0, maxDiff: 0 };
  if (Number.isNaN(q)) return { quantile: NaN, ...none };
  if (q < 0) return { quantile: -Infinity, ...none };
  if (q > 1) return { quantile: Infinity, ...none };
  if (input.length === 0) return { quantile: NaN, ...none };
  if (lastSortedBound(input) !== Infinity) return { quantile: NaN, ...none };
  const buckets = sortAndCoalesce(input);
  const mono = ensureMonotonic(buckets);
  if (buckets.length < 2) return { quantile: NaN, ...mono };
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return { quantile: NaN, ...mono };
  let rank = q * observations;
  // First bucket (among all but the last) whose count reaches the rank.
  let b = 0;
  const n = buckets.length - 1;
  {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buckets[mid]!.count >= rank) hi = mid;
      else lo = mid + 1;
    }
    b = lo;
  }
  let quantile: number;
  if (b === buckets.length - 1) quantile = buckets[buckets.length - 2]!.upperBound;
  else if (b === 0 && buckets[0]!.upperBound <= 0) quantile = buckets[0]!.upperBound;
  else {
    let bucketStart = 0;
    const bucketEnd = buckets[b]!.upperBound;
    let count = buckets[b]!.count;
    if (b > 0) {
      bucketStart = buckets[b - 1]!.upperBound;
      count -= buckets[b - 1]!.count;
      rank -= buckets[b - 1]!.count;
    }
    quantile = bucketStart + (bucketEnd - bucketStart) * (rank / count);
  }
  return { quantile, ...mono };
}

/** The fraction of observations between `lower` and `upper`; sorts and merges `input` in place. */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  if (input.length === 0) return NaN;
  const buckets = sortAndCoalesce(input);
  if (buckets[buckets.length - 1]!.upperBound !== Infinity) return NaN;
  const count = buckets[buckets.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  let lowerBound = buckets[0]!.upperBound <= 0 ? -Infinity : 0;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (i > 0) lowerBound = buckets[i - 1]!.upperBound;
    const upperBound = b.upperBound;
    const interpolate = (v: number): number => {
      if (lowerBound === -Infinity) return b.count;
      return rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound);
    };
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}
