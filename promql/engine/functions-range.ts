/**
 * Functions over range vectors (`rate`, `*_over_time`, …). Each works on one window of one
 * series given as index bounds into shared sample arrays, so sliding the window across steps
 * allocates nothing. `undefined` means "no output for this step".
 */
import { kahan, kahanStep, quantileSorted } from './mathutil.js';
import { refillAt, refillEnd } from './refill.js';

/** Samples of a range: a selector's typed arrays or a subquery's step values. */
export type SampleArray = Float64Array | number[];

export interface RangeWindow {
  ts: SampleArray;
  vs: SampleArray;
  /** Samples `lo … hi-1` are in the window. */
  lo: number;
  hi: number;
  /** Window bounds `(rangeStart, rangeEnd]` in ms. */
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
  /** The step's evaluation time (for `predict_linear`). */
  evalT: number;
  /**
   * When set, `resets[i]` counts the drops `vs[j] < vs[j-1]` for `0 < j ≤ i` (a counter's
   * resets), so that a window can tell it has none without comparing all its samples.
   */
  resets: Int32Array | undefined;
}

/** Params are the scalar arguments at this step, in argument order (the range vector excluded). */
export type RangeFn = (w: RangeWindow, params: readonly number[]) => number | undefined;

function extrapolatedRate(w: RangeWindow, isCounter: boolean, isRate: boolean): number | undefined {
  const { ts, vs, lo, hi } = w;
  const n = hi - lo;
  if (n < 2) return undefined;
  const firstT = ts[lo]!;
  const lastT = ts[hi - 1]!;
  let result = vs[hi - 1]! - vs[lo]!;
  if (isCounter) {
    const resets = w.resets;
    if (resets === undefined || resets[hi - 1] !== resets[lo]) {
      for (let i = lo + 1; i < hi; i++) if (vs[i]! < vs[i - 1]!) result += vs[i - 1]!;
    }
  }
  let durationToStart = (firstT - w.rangeStart) / 1000;
  let durationToEnd = (w.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avgBetween = sampledInterval / (n - 1);
  const threshold = avgBetween * 1.1;
  if (durationToStart >= threshold) durationToStart = avgBetween / 2;
  if (isCounter) {
    // A counter cannot go below zero: do not extrapolate past the point where it would be 0.
    let durationToZero = durationToStart;
    if (result > 0 && vs[lo]! >= 0) durationToZero = sampledInterval * (vs[lo]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avgBetween / 2;
  let factor = sampledInterval !== 0 ? (sampledInterval + durationToStart + durationToEnd) / sampledInterval : 1;
  if (isRate) factor /= w.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: RangeWindow, isRate: boolean): number | undefined {
  const { ts, vs, hi } = w;
  if (hi - w.lo < 2) return undefined;
  const t0 = ts[hi - 2]!;
  const t1 = ts[hi - 1]!;
  const v0 = vs[hi - 2]!;
  const v1 = vs[hi - 1]!;
  const dt = t1 - t0;
  if (dt === 0) return undefined;
  let r = v1;
  if (!isRate || !(v1 < v0)) r = v1 - v0;
  if (isRate) r /= dt / 1000;
  return r;
}

function linearRegression(ts: SampleArray, vs: SampleArray, lo: number, hi: number, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = vs[lo]!;
  let constY = true;
  for (let i = lo; i < hi; i++) {
    const v = vs[i]!;
    if (constY && i > lo && v !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1e3;
    sumX = kahanStep(x, sumX, cX);
    cX = kahan.c;
    sumY = kahanStep(v, sumY, cY);
    cY = kahan.c;
    sumXY = kahanStep(x * v, sumXY, cXY);
    cXY = kahan.c;
    sumX2 = kahanStep(x * x, sumX2, cX2);
    cX2 = kahan.c;
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

function variance(w: RangeWindow): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const f = w.vs[i]!;
    count++;
    const delta = f - (mean + cMean);
    mean = kahanStep(delta / count, mean, cMean);
    cMean = kahan.c;
    aux = kahanStep(delta * (f - (mean + cMean)), aux, cAux);
    cAux = kahan.c;
  }
  return (aux + cAux) / count;
}

function compareOverTime(w: RangeWindow, cmp: (cur: number, best: number) => boolean, returnTs: boolean): number | undefined {
  if (w.hi <= w.lo) return undefined;
  let best = w.vs[w.lo]!;
  let bestT = w.ts[w.lo]!;
  for (let i = w.lo; i < w.hi; i++) {
    const f = w.vs[i]!;
    if (cmp(f, best)) {
      best = f;
      bestT = w.ts[i]!;
    }
  }
  return returnTs ? bestT / 1000 : best;
}

/** Reused buffer for functions that must sort a window (quantile, mad), so steps do not allocate. */
const scratch: number[] = [];

function windowValues(w: RangeWindow): number[] {
  let k = 0;
  for (let i = w.lo; i < w.hi; i++) refillAt(scratch, k++, w.vs[i]!);
  refillEnd(scratch, k);
  return scratch;
}

export class SmoothingFactorError extends Error {}

export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFn>> = {
  rate: (w) => extrapolatedRate(w, true, true),
  increase: (w) => extrapolatedRate(w, true, false),
  delta: (w) => extrapolatedRate(w, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  count_over_time: (w) => (w.hi > w.lo ? w.hi - w.lo : undefined),
  present_over_time: (w) => (w.hi > w.lo ? 1 : undefined),
  last_over_time: (w) => (w.hi > w.lo ? w.vs[w.hi - 1] : undefined),
  first_over_time: (w) => (w.hi > w.lo ? w.vs[w.lo] : undefined),
  ts_of_last_over_time: (w) => (w.hi > w.lo ? w.ts[w.hi - 1]! / 1000 : undefined),
  ts_of_first_over_time: (w) => (w.hi > w.lo ? w.ts[w.lo]! / 1000 : undefined),
  max_over_time: (w) => compareOverTime(w, (c, b) => c > b || Number.isNaN(b), false),
  min_over_time: (w) => compareOverTime(w, (c, b) => c < b || Number.isNaN(b), false),
  ts_of_max_over_time: (w) => compareOverTime(w, (c, b) => c >= b || Number.isNaN(b), true),
  ts_of_min_over_time: (w) => compareOverTime(w, (c, b) => c <= b || Number.isNaN(b), true),
  sum_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    let sum = 0;
    let c = 0;
    for (let i = w.lo; i < w.hi; i++) {
      sum = kahanStep(w.vs[i]!, sum, c);
      c = kahan.c;
    }
    return Number.isFinite(sum) || Number.isNaN(sum) ? sum + c : sum;
  },
  avg_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    let sum = w.vs[w.lo]!;
    let count = 1;
    let mean = 0;
    let kahanC = 0;
    let incremental = false;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const f = w.vs[i]!;
      count = i - w.lo + 1;
      if (!incremental) {
        const ns = kahanStep(f, sum, kahanC);
        if (ns !== Infinity && ns !== -Infinity) {
          sum = ns;
          kahanC = kahan.c;
          continue;
        }
        incremental = true;
        mean = sum / (count - 1);
        kahanC /= count - 1;
      }
      const q = (count - 1) / count;
      mean = kahanStep(f / count, q * mean, q * kahanC);
      kahanC = kahan.c;
    }
    if (incremental) return mean + kahanC;
    return sum / count + kahanC / count;
  },
  stddev_over_time: (w) => (w.hi > w.lo ? Math.sqrt(variance(w)) : undefined),
  stdvar_over_time: (w) => (w.hi > w.lo ? variance(w) : undefined),
  quantile_over_time: (w, p) => {
    if (w.hi <= w.lo) return undefined;
    return quantileSorted(p[0]!, windowValues(w));
  },
  mad_over_time: (w) => {
    if (w.hi <= w.lo) return undefined;
    const values = windowValues(w);
    for (const v of values) if (Number.isNaN(v)) return NaN;
    const median = quantileSorted(0.5, values);
    for (let i = 0; i < values.length; i++) values[i] = Math.abs(values[i]! - median);
    return quantileSorted(0.5, values);
  },
  changes: (w) => {
    if (w.hi <= w.lo) return undefined;
    let changes = 0;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const prev = w.vs[i - 1]!;
      const cur = w.vs[i]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  },
  resets: (w) => {
    if (w.hi <= w.lo) return undefined;
    let resets = 0;
    for (let i = w.lo + 1; i < w.hi; i++) if (w.vs[i]! < w.vs[i - 1]!) resets++;
    return resets;
  },
  deriv: (w) => {
    if (w.hi - w.lo < 2) return undefined;
    return linearRegression(w.ts, w.vs, w.lo, w.hi, w.ts[w.lo]!)[0];
  },
  predict_linear: (w, p) => {
    if (w.hi - w.lo < 2) return undefined;
    const [slope, intercept] = linearRegression(w.ts, w.vs, w.lo, w.hi, w.evalT);
    return slope * p[0]! + intercept;
  },
  double_exponential_smoothing: (w, p) => {
    const sf = p[0]!;
    const tf = p[1]!;
    if (!(sf > 0 && sf < 1)) throw new SmoothingFactorError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
    if (!(tf > 0 && tf < 1)) throw new SmoothingFactorError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
    const l = w.hi - w.lo;
    if (l < 2) return undefined;
    let s0 = 0;
    let s1 = w.vs[w.lo]!;
    let b = w.vs[w.lo + 1]! - w.vs[w.lo]!;
    for (let i = 1; i < l; i++) {
      const x = sf * w.vs[w.lo + i]!;
      if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
};
