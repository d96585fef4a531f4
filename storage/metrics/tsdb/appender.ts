/**
 * The head's `Appender`: collects a batch, refusing bad samples as they arrive (so a scraper can
 * count and skip them), and hands the batch to `Head.commitBatch`, which logs it to the WAL and
 * then applies it.
 */
import type { Labels } from '../../../model/labels.js';
import { AppendError, type Appender, type AppendOptions, type SeriesRef } from '../interface.js';
import type { Head } from './head.js';
import type { MemSeries } from './series.js';
import { float64BitsEqual } from '../../../model/stale.js';

/**
 * The batch is kept columnar in growable typed arrays: cheaper than an object per sample, and
 * `Float64Array` keeps NaN payloads (staleness markers) that a `number[]` would canonicalise.
 */
export class HeadAppender implements Appender {
  readonly #head: Head;
  readonly #minValid: number;
  #series: MemSeries[] = [];
  #ts: Float64Array;
  #vs: Float64Array;
  #n = 0;
  /** Batch index of each touched series' latest sample: in-batch order checks and pending marks. */
  readonly #last = new Map<MemSeries, number>();
  /**
   * `#last`'s entry for the series appended most recently, kept aside: callers append a series'
   * samples in a row, and a Map lookup plus update per sample was a measurable share of ingest.
   */
  #lastSeries: MemSeries | undefined;
  #lastIndex = -1;
  #done = false;

  constructor(head: Head) {
    this.#head = head;
    this.#minValid = head.minValidTime();
    const spare = head.takeColumns();
    this.#ts = spare?.[0] ?? new Float64Array(64);
    this.#vs = spare?.[1] ?? new Float64Array(64);
  }

  /**
   * A non-zero `ref` from an earlier append skips the label lookup and is trusted (the labels are
   * not compared); an unknown ref, e.g. of a series garbage-collected since, falls back to the
   * labels. Refs are never reused within a process. Timestamps are integer milliseconds (fractions
   * are floored); a non-finite timestamp is a caller bug and throws a RangeError.
   */
  append(ref: SeriesRef, labels: Labels, t: number, v: number, _opts?: AppendOptions): SeriesRef {
    if (this.#done) throw new Error('tsdb: appender used after commit or rollback');
    if (!Number.isSafeInteger(t)) {
      if (!Number.isFinite(t)) throw new RangeError(`tsdb: invalid timestamp ${t}`);
      t = Math.floor(t);
    }
    // Checked before the lookup so refused samples never create (garbage) series.
    if (t < this.#minValid) throw new AppendError('too_old', `sample at ${t} is older than ${this.#minValid}`);
    const head = this.#head;
    // The memo series is pinned by its `pending` count, so it cannot have been collected.
    const memo = this.#lastSeries;
    let s = ref === 0 ? undefined : memo !== undefined && memo.ref === ref ? memo : head.byRef(ref);
    if (s === undefined) s = head.getOrCreate(labels);
    const li = s === this.#lastSeries ? this.#lastIndex : this.#last.get(s);
    const lt = li === undefined ? s.lastT : this.#ts[li]!;
    if (t <= lt) {
      if (t < lt) throw new AppendError('out_of_order', `sample at ${t} is older than the series' last sample at ${lt}`);
      const lv = li === undefined ? s.lastV : this.#vs[li]!;
      if (float64BitsEqual(v, lv)) return s.ref; // an identical re-send is accepted and ignored
      throw new AppendError('duplicate', `sample at ${t} has a different value than the one already stored`);
    }
    if (li === undefined) s.pending++;
    const n = this.#n;
    if (n === this.#ts.length) this.#grow();
    this.#series.push(s);
    this.#ts[n] = t;
    this.#vs[n] = v;
    if (s !== this.#lastSeries) {
      // The memo is authoritative for its series; write it back before it moves on. Every series
      // with a sample stays a key of `#last` (`#finish` walks the keys).
      if (this.#lastSeries !== undefined) this.#last.set(this.#lastSeries, this.#lastIndex);
      if (li === undefined) this.#last.set(s, n);
      this.#lastSeries = s;
    }
    this.#lastIndex = n;
    this.#n = n + 1;
    return s.ref;
  }

  storedLabels(ref: SeriesRef): Labels | undefined {
    return this.#head.byRef(ref)?.labels;
  }

  #grow(): void {
    const ts = new Float64Array(this.#ts.length * 2);
    ts.set(this.#ts);
    this.#ts = ts;
    const vs = new Float64Array(this.#vs.length * 2);
    vs.set(this.#vs);
    this.#vs = vs;
  }

  #finish(): void {
    if (this.#done) throw new Error('tsdb: appender already committed or rolled back');
    this.#done = true;
    for (const s of this.#last.keys()) s.pending--;
  }

  /** Synchronous core of `commit`, for callers (the DB) that add their own async steps. */
  commitSync(): void {
    this.#finish();
    if (this.#n > 0) this.#head.commitBatch(this.#series, this.#ts, this.#vs, this.#n);
    this.#series = [];
    this.#head.recycleColumns(this.#ts, this.#vs);
  }

  async commit(): Promise<void> {
    this.commitSync();
    const wait = this.#head.log?.afterCommit?.();
    if (wait !== undefined) await wait;
  }

  async rollback(): Promise<void> {
    this.#finish();
    this.#series = [];
    this.#head.recycleColumns(this.#ts, this.#vs);
  }
}

