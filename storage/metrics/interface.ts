/**
 * The two sides of metric storage. Writers (scrape, remote_write receiver, rule recording) see only
 * `Appendable`; readers (the PromQL engine, the API) see only `Queryable`. Neither imports the
 * other or the embedded TSDB.
 */
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';

/** Opaque per-appender series handle that lets repeated appends skip the label lookup; 0 = none. */
export type SeriesRef = number;

/** Times are milliseconds since the Unix epoch, values float64. */
export interface Sample {
  readonly t: number;
  readonly v: number;
}

export interface AppendOptions {
  /** Metadata hints from the exposition; storage may ignore them. */
  readonly type?: string;
}

/**
 * Single use and not safe for concurrent use: append any number of samples, then call
 * `commit()` or `rollback()` exactly once. An appender must not be used after either.
 * `append` throws an `AppendError` for a sample that storage refuses (out of order, too old).
 */
export interface Appender {
  append(ref: SeriesRef, labels: Labels, t: number, v: number, opts?: AppendOptions): SeriesRef;
  /**
   * Optional: the label set storage keeps for a ref this appender returned (shared with the
   * index), so a caller remembering series can hold that instead of a copy of its own.
   */
  storedLabels?(ref: SeriesRef): Labels | undefined;
  /**
   * Optional bulk form of `append` for samples `from` to `to` of columns, all of one series: the
   * same checks, but a refused sample is passed to `onReject` instead of throwing. Saves the
   * per-call cost (a heap number per float argument) on bulk ingest paths.
   */
  appendRun?(
    ref: SeriesRef,
    labels: Labels,
    ts: Float64Array,
    vs: Float64Array,
    from: number,
    to: number,
    onReject: (err: AppendError) => void,
  ): SeriesRef;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface Appendable {
  appender(): Appender;
}

export type AppendErrorReason = 'out_of_order' | 'too_old' | 'duplicate' | 'invalid_labels' | 'limit';

export class AppendError extends Error {
  constructor(
    readonly reason: AppendErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'AppendError';
  }
}

export interface Series {
  readonly labels: Labels;
  /** Samples in ascending time order, within the querier's [mint, maxt]. */
  samples(): Iterable<Sample>;
  /**
   * Optional fast path for bulk readers such as the PromQL engine, implemented together with
   * `readInto`: an upper bound on the samples `readInto` may write.
   */
  sampleCapacity?(): number;
  /**
   * Writes the samples with `lo ≤ t ≤ hi` (and within the querier's range) to `ts`/`vs` from
   * index `k` (room for `sampleCapacity()` required) and returns the index after the last one:
   * no `Sample` object per sample, NaN payloads kept.
   */
  readInto?(lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number;
}

export interface SelectHints {
  /** Inclusive milliseconds range the caller will read; storage may return a wider range. */
  readonly start?: number;
  readonly end?: number;
  /** Query step, for storage that can downsample. */
  readonly step?: number;
  /** Aggregation or function name, a hint only. */
  readonly func?: string;
  /**
   * False: the caller needs the series in no particular order (Prometheus's `Select` with
   * `sortSeries` false, which its engine uses), so storage may skip sorting them by labels.
   * Default true.
   */
  readonly sortSeries?: boolean;
}

/** A read view over [mint, maxt] (inclusive, milliseconds). Callers must `close()` it. */
export interface Querier {
  /** True when `select` returns series sorted by labels (unless asked not to), so callers need not sort or check. */
  readonly sortedSelect?: boolean;
  select(matchers: readonly Matcher[], hints?: SelectHints, signal?: AbortSignal): Promise<Series[]>;
  labelNames(matchers?: readonly Matcher[]): Promise<string[]>;
  labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]>;
  close(): Promise<void>;
}

export interface Queryable {
  querier(mint: number, maxt: number): Promise<Querier>;
}
