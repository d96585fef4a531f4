/**
 * The step loop of a range function over one series: slides the window `(t - range, t]` across
 * the evaluation steps and collects the function's values.
 *
 * It is a small synchronous method keeping its state in fields, apart from the async
 * `evalRangeCall` that drives it (and yields to the event loop between calls). With the loop
 * inside that large async function, which V8 optimizes less reliably, a range query allocated
 * about 90 bytes per window in boxed numbers; here only the function's result is boxed (it is
 * returned from a call V8 cannot inline, the function differing between queries).
 */
import { SmoothingFactorError, type RangeFn, type RangeWindow, type SampleArray } from './functions-range.js';
import { refillAt, refillEnd } from './refill.js';

/** A function that raises a query error (the evaluator's `error`). */
type Fail = (msg: string) => never;

export class RangeStepper {
  readonly #fn: RangeFn;
  readonly #params: readonly Float64Array[];
  readonly #stepParams: number[];
  readonly #w: RangeWindow;
  readonly #allSteps: number[];
  readonly #fail: Fail;
  readonly #hasAt: boolean;
  readonly #at: number;
  readonly #offset: number;
  readonly #rangeMs: number;
  readonly #start: number;
  readonly #interval: number;
  readonly #countResets: boolean;
  #resets = new Int32Array(0);

  // The current series.
  #sts: SampleArray = [];
  #len = 0;
  #lo = 0;
  #hi = 0;
  #tbuf: number[] | undefined;
  /** Values so far, `vals[0, k)`. */
  vals: number[] = [];
  k = 0;
  /** Step times of `vals`; undefined while they are a prefix of `allSteps`. */
  ts: number[] | undefined;
  /** The largest window seen, for the sample limit. */
  windowSamples = 0;

  constructor(
    fn: RangeFn,
    params: readonly Float64Array[],
    allSteps: number[],
    fail: Fail,
    at: number | undefined,
    offset: number,
    rangeMs: number,
    start: number,
    interval: number,
    /** Count each series' counter resets up front (`RangeWindow.resets`). */
    countResets: boolean,
  ) {
    this.#fn = fn;
    this.#params = params;
    this.#stepParams = new Array<number>(params.length).fill(0);
    this.#w = { ts: [], vs: [], lo: 0, hi: 0, rangeStart: 0, rangeEnd: 0, rangeMs, evalT: 0, resets: undefined };
    this.#countResets = countResets;
    this.#allSteps = allSteps;
    this.#fail = fail;
    this.#hasAt = at !== undefined;
    this.#at = at ?? 0;
    this.#offset = offset;
    this.#rangeMs = rangeMs;
    this.#start = start;
    this.#interval = interval;
  }

  /**
   * Starts a series of `n` samples. `vals`/`tbuf` are arrays to refill (a consumer that is done
   * with each series before the next), or fresh ones.
   */
  begin(ts: SampleArray, vs: SampleArray, n: number, vals: number[], tbuf: number[] | undefined): void {
    this.#sts = ts;
    this.#len = n;
    this.#lo = 0;
    this.#hi = 0;
    this.#tbuf = tbuf;
    this.#w.ts = ts;
    this.#w.vs = vs;
    if (this.#countResets) this.#w.resets = this.#countResetsOf(vs, n);
    this.vals = vals;
    this.k = 0;
    this.ts = undefined;
  }

  /** Evaluates steps `[from, to)` of the current series, in order. */
  run(from: number, to: number): void {
    const sts = this.#sts;
    const len = this.#len;
    const w = this.#w;
    const fn = this.#fn;
    const params = this.#params;
    const nParams = params.length;
    const stepParams = this.#stepParams;
    const vals = this.vals;
    const hasAt = this.#hasAt;
    const at = this.#at;
    const offset = this.#offset;
    const rangeMs = this.#rangeMs;
    const start = this.#start;
    const interval = this.#interval;
    // Where `@` fixes the window, its end is computed once. Not `(hasAt ? at : stepT) - offset`:
    // V8 then keeps the choice as a tagged value and boxes `stepT` at every step.
    const atRef = at - offset;
    let lo = this.#lo;
    let hi = this.#hi;
    let k = this.k;
    let ts = this.ts;
    let windowSamples = this.windowSamples;
    for (let step = from; step < to; step++) {
      const stepT = start + step * interval;
      const ref = hasAt ? atRef : stepT - offset;
      const rangeStart = ref - rangeMs;
      while (hi < len && sts[hi]! <= ref) hi++;
      while (lo < hi && sts[lo]! <= rangeStart) lo++;
      if (hi <= lo) continue;
      w.lo = lo;
      w.hi = hi;
      w.rangeStart = rangeStart;
      w.rangeEnd = ref;
      w.evalT = stepT;
      for (let i = 0; i < nParams; i++) stepParams[i] = params[i]![step]!;
      if (hi - lo > windowSamples) windowSamples = hi - lo;
      let r: number | undefined;
      try {
        r = fn(w, stepParams);
      } catch (err) {
        if (err instanceof SmoothingFactorError) this.#fail(err.message);
        throw err;
      }
      if (r === undefined) continue;
      if (ts === undefined && k !== step) ts = this.prefix(k);
      if (ts !== undefined) ts.push(stepT);
      refillAt(vals, k++, r);
    }
    this.#lo = lo;
    this.#hi = hi;
    this.k = k;
    this.ts = ts;
    this.windowSamples = windowSamples;
  }

  /** Running count of the drops in `vs[0, n)` (see `RangeWindow.resets`), in a reused buffer. */
  #countResetsOf(vs: SampleArray, n: number): Int32Array {
    if (this.#resets.length < n) this.#resets = new Int32Array(Math.max(n, this.#resets.length * 2));
    const r = this.#resets;
    let count = 0;
    if (n > 0) r[0] = 0;
    for (let i = 1; i < n; i++) {
      if (vs[i]! < vs[i - 1]!) count++;
      r[i] = count;
    }
    return r;
  }

  /** The first `n` step times, in the refilled step buffer when there is one. */
  prefix(n: number): number[] {
    const steps = this.#allSteps;
    const into = this.#tbuf;
    if (into === undefined) return steps.slice(0, n);
    for (let i = 0; i < n; i++) refillAt(into, i, steps[i]!);
    refillEnd(into, n);
    return into;
  }
}
