/**
 * Samples of selected series, decoded when a node consumes them rather than all at load time.
 *
 * A selector's series are evaluated one after the other (step values, range windows), so each
 * consumer decodes a series into one reused pair of typed arrays, uses it, and moves on: memory is
 * one series' worth instead of every selected sample of the query at once. Materializing all of
 * them (tens of MB for a few hours of a thousand series) made allocation and the garbage collector
 * a good part of query time, and decoding into a buffer that stays in cache is faster too.
 */
import type { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/stale.js';
import type { Series } from '../../storage/metrics/interface.js';

/** One selected series and the time range its selector needs. */
export interface LoadedSeries {
  readonly labels: Labels;
  /** Read with `readInto` on demand; absent when `ts`/`vs` were read at load time. */
  readonly source: Series | undefined;
  readonly lo: number;
  readonly hi: number;
  /** Samples of sources without `readInto`, read once when selected. */
  readonly ts: Float64Array | undefined;
  readonly vs: Float64Array | undefined;
}

/** A selected series: lazy when storage offers `readInto`, else its samples read now. */
export function loadedSeries(s: Series, lo: number, hi: number): LoadedSeries {
  if (s.readInto !== undefined && s.sampleCapacity !== undefined) return { labels: s.labels, source: s, lo, hi, ts: undefined, vs: undefined };
  const ts: number[] = [];
  const vs: number[] = [];
  for (const smp of s.samples()) {
    const t = smp.t;
    if (t < lo) continue;
    if (t > hi) break;
    ts.push(t);
    vs.push(smp.v);
  }
  return { labels: s.labels, source: undefined, lo, hi, ts: Float64Array.from(ts), vs: Float64Array.from(vs) };
}

/**
 * A reusable pair of sample arrays: `read` fills `ts`/`vs[0, n)` with one series' samples, valid
 * until the next `read`. One per consuming loop, so no two consumers share it.
 */
export class SampleBuffer {
  ts = new Float64Array(256);
  vs = new Float64Array(256);
  n = 0;

  /** The samples of `s` in its range, stale markers included. */
  read(s: LoadedSeries): void {
    const src = s.source;
    if (src === undefined) {
      const n = s.ts!.length;
      this.#reserve(n);
      this.ts.set(s.ts!);
      this.vs.set(s.vs!);
      this.n = n;
      return;
    }
    this.#reserve(src.sampleCapacity!());
    this.n = src.readInto!(s.lo, s.hi, this.ts, this.vs, 0);
  }

  /** As {@link read}, without stale markers (what range selectors see). */
  readClean(s: LoadedSeries): void {
    this.read(s);
    const ts = this.ts;
    const vs = this.vs;
    const n = this.n;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = vs[i]!;
      // NaN is rare; only a NaN can be a marker.
      if (v !== v && isStaleNaN(v)) continue;
      if (k !== i) {
        ts[k] = ts[i]!;
        vs[k] = v;
      }
      k++;
    }
    this.n = k;
  }

  #reserve(n: number): void {
    if (n <= this.ts.length) return;
    const size = Math.max(n, this.ts.length * 2);
    this.ts = new Float64Array(size);
    this.vs = new Float64Array(size);
  }
}
