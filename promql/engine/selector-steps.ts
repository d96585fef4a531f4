/**
 * The step loop of an instant vector selector over one series: at each step the newest sample
 * within the lookback window `(t - lookback, t]`, unless it is a stale marker.
 *
 * A small synchronous function apart from the async `evalVectorSelector` that drives it, and
 * without `(at ?? stepT) - offset` in the loop: V8 kept that choice as a tagged value and boxed
 * the step time at every step and series (most of what a range query over a selector allocated).
 * Here the loop's numbers stay unboxed.
 */
import { isStaleNaN } from '../../model/stale.js';

export class SelectorStepper {
  readonly #n: number;
  readonly #start: number;
  readonly #interval: number;
  readonly #hasAt: boolean;
  /** With `@`: the fixed reference time, offset applied. */
  readonly #atRef: number;
  readonly #offset: number;
  readonly #lookback: number;
  readonly #timestampValues: boolean;
  readonly #allSteps: number[];
  /** Step times of the last series' values; undefined when they are all the steps. */
  ts: number[] | undefined;

  constructor(n: number, start: number, interval: number, at: number | undefined, offset: number, lookback: number, timestampValues: boolean, allSteps: number[]) {
    this.#n = n;
    this.#start = start;
    this.#interval = interval;
    this.#hasAt = at !== undefined;
    this.#atRef = (at ?? 0) - offset;
    this.#offset = offset;
    this.#lookback = lookback;
    this.#timestampValues = timestampValues;
    this.#allSteps = allSteps;
  }

  /**
   * Refills `vals` from index 0 (see `refill.ts`) with the step values of the samples
   * `st`/`sv[0, len)` and returns their count, leaving `vals` longer if it was; `ts` then holds
   * their step times unless they are every step. With `timestampValues` a value is its sample's
   * timestamp in seconds (for `timestamp(selector)`).
   */
  run(st: Float64Array, sv: Float64Array, len: number, vals: number[]): number {
    if (this.#hasAt) return this.#runAt(st, sv, len, vals);
    const n = this.#n;
    const start = this.#start;
    const interval = this.#interval;
    const offset = this.#offset;
    const lookback = this.#lookback;
    const timestampValues = this.#timestampValues;
    const allSteps = this.#allSteps;
    // Step times stay implicit (`allSteps`) until the first step without a point.
    let ts: number[] | undefined;
    let k = 0;
    let cur = -1; // Index of the last sample with t <= refTime.
    for (let i = 0; i < n; i++) {
      const stepT = start + i * interval;
      const ref = stepT - offset;
      while (cur + 1 < len && st[cur + 1]! <= ref) cur++;
      const t = cur < 0 ? 0 : st[cur]!;
      if (cur < 0 || t <= ref - lookback || isStaleNaN(sv[cur]!)) {
        ts ??= allSteps.slice(0, k);
        continue;
      }
      const v = timestampValues ? t / 1000 : sv[cur]!;
      if (ts !== undefined) ts.push(stepT);
      if (k < vals.length) vals[k] = v;
      else vals.push(v);
      k++;
    }
    this.ts = ts;
    return k;
  }

  /**
   * `run` where `@` fixes the reference time: the same sample, or none, at every step. Kept apart
   * so the other loop needs no choice between a fixed and a stepping time, which made V8 box the
   * step time at every step.
   */
  #runAt(st: Float64Array, sv: Float64Array, len: number, vals: number[]): number {
    const ref = this.#atRef;
    let cur = -1;
    while (cur + 1 < len && st[cur + 1]! <= ref) cur++;
    this.ts = undefined;
    if (cur < 0 || st[cur]! <= ref - this.#lookback || isStaleNaN(sv[cur]!)) return 0;
    const v = this.#timestampValues ? st[cur]! / 1000 : sv[cur]!;
    const n = this.#n;
    for (let k = 0; k < n; k++) {
      if (k < vals.length) vals[k] = v;
      else vals.push(v);
    }
    return n;
  }
}
