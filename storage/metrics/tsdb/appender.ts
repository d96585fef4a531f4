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

const THROW = (err: AppendError): never => {
  throw err;
};

/**
 * The batch is kept columnar in growable typed arrays: cheaper than an object per sample, and
 * `Float64Array` keeps NaN payloads (staleness markers) that a `number[]` would canonicalise.
 */
export class HeadAppender implements Appender {
  readonly #head: Head;
  readonly #minValid: number;
  /**
   * The batch's samples as runs of one series: run r is `#runSeries[r]` with samples up to
   * `#runEnds[r]` (the last run ends at `#n`). Callers append a series' samples in a row, so this
   * is one entry per series rather than per sample.
   */
  #runSeries: MemSeries[] = [];
  #runEnds: number[] = [];
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
  /** One-sample columns through which `append` reaches `appendRun`. */
  readonly #oneT = new Float64Array(1);
  readonly #oneV = new Float64Array(1);

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
    this.#oneT[0] = t;
    this.#oneV[0] = v;
    return this.appendRun(ref, labels, this.#oneT, this.#oneV, 0, 1, THROW);
  }

  /**
   * `append` for samples `from` to `to` of columns, all of one series, with the same checks;
   * refused samples go to `onReject` (which may throw) instead of throwing. The columns are read
   * here rather than a sample per call: float arguments would each allocate a heap number.
   */
  appendRun(ref: SeriesRef, labels: Labels, ts: Float64Array, vs: Float64Array, from: number, to: number, onReject: (err: AppendError) => void): SeriesRef {
    if (this.#done) throw new Error('tsdb: appender used after commit or rollback');
    const head = this.#head;
    const minValid = this.#minValid;
    let s: MemSeries | undefined;
    for (let j = from; j < to; j++) {
      let t = ts[j]!;
      const v = vs[j]!;
      if (!Number.isSafeInteger(t)) {
        if (!Number.isFinite(t)) throw new RangeError(`tsdb: invalid timestamp ${t}`);
        t = Math.floor(t);
      }
      // Checked before the lookup so refused samples never create (garbage) series.
      if (t < minValid) {
        onReject(new AppendError('too_old', `sample at ${t} is older than ${minValid}`));
        continue;
      }
      if (s === undefined) {
        // The memo series is pinned by its `pending` count, so it cannot have been collected.
        const memo = this.#lastSeries;
        s = ref === 0 ? undefined : memo !== undefined && memo.ref === ref ? memo : head.byRef(ref);
        if (s === undefined) {
          try {
            s = head.getOrCreate(labels);
          } catch (err) {
            if (!(err instanceof AppendError)) throw err;
            onReject(err);
            continue;
          }
        }
        ref = s.ref;
      }
      const li = s === this.#lastSeries ? this.#lastIndex : this.#last.get(s);
      const lt = li === undefined ? s.lastT : this.#ts[li]!;
      if (t <= lt) {
        if (t < lt) {
          onReject(new AppendError('out_of_order', `sample at ${t} is older than the series' last sample at ${lt}`));
          continue;
        }
        const lv = li === undefined ? s.lastV : this.#vs[li]!;
        if (float64BitsEqual(v, lv)) continue; // an identical re-send is accepted and ignored
        onReject(new AppendError('duplicate', `sample at ${t} has a different value than the one already stored`));
        continue;
      }
      if (li === undefined) s.pending++;
      const n = this.#n;
      if (n === this.#ts.length) this.#grow();
      const runs = this.#runSeries;
      if (runs.length === 0 || runs[runs.length - 1] !== s) {
        if (runs.length > 0) this.#runEnds.push(n);
        runs.push(s);
      }
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
    }
    return ref;
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
    if (this.#n > 0) {
      this.#runEnds.push(this.#n);
      this.#head.commitBatch(this.#runSeries, this.#runEnds, this.#ts, this.#vs, this.#n);
    }
    this.#runSeries = [];
    this.#runEnds = [];
    this.#head.recycleColumns(this.#ts, this.#vs);
  }

  async commit(): Promise<void> {
    this.commitSync();
    const wait = this.#head.log?.afterCommit?.();
    if (wait !== undefined) await wait;
  }

  async rollback(): Promise<void> {
    this.#finish();
    this.#runSeries = [];
    this.#runEnds = [];
    this.#head.recycleColumns(this.#ts, this.#vs);
  }
}

