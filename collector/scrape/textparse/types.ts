/**
 * Shared types of the exposition-format parsers.
 *
 * The parser is a pull parser in the shape of Prometheus's `textparse.Parser`: the scrape loop
 * calls `next()` and reads the current entry through getters, so nothing is materialised that
 * the caller does not ask for (labels are built lazily, which lets a scrape cache keyed by
 * `seriesText()` skip label construction for series it has already seen).
 */

import type { Labels } from '../../../model/labels.js';

/** The kind of entry `next()` advanced to; `eof` is sticky once reached. */
export type EntryKind = 'series' | 'type' | 'help' | 'unit' | 'comment' | 'eof';

/**
 * Metric family types. Text 0.0.4 `untyped` is reported as `unknown`, the name Prometheus
 * uses internally for both formats.
 */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown';

/** The two text formats this package understands. */
export type ExpositionFormat = 'prometheus-text' | 'openmetrics';

export interface Exemplar {
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds since the epoch; absent when the exemplar carried no timestamp. */
  readonly timestamp?: number;
}

export interface ParserOptions {
  /**
   * OpenMetrics only. When true, `_created` series of counters, summaries and histograms are
   * not returned as samples and `startTimestamp()` looks them up instead; this is what
   * Prometheus does with created-timestamp ingestion enabled. Default false: they are ordinary
   * series, as in Prometheus's default configuration.
   */
  readonly skipCreatedSeries?: boolean;
}

/** Input accepted by the parsers: a decoded string or the raw response body. */
export type TextInput = string | Uint8Array;

export interface TextParser {
  readonly format: ExpositionFormat;
  /** Advances to the next entry. Throws `TextParseError`; after an error it throws it again. */
  next(): EntryKind;
  /** Series: the metric name. type/help/unit: the metric family name. */
  metricName(): string;
  /** Series only: sorted labels including `__name__`. Built on first call per entry. */
  labels(): Labels;
  /**
   * Series only: the raw text of the series (name and label block) as exposed. Equal text means
   * equal labels, so callers can use it as a cheap cache key before calling `labels()`.
   */
  seriesText(): string;
  /**
   * Series only: a hash of `seriesText()`, the same for the same text wherever it lies in a body,
   * computed without cutting the text out. With the key methods below it lets a cache keyed by
   * series text find an entry without a string per sample (see `serieskey.ts` for the key form).
   */
  seriesHash(): number;
  /** Series only: the length code of `seriesText()`'s key (`keyWords` gives its size in words). */
  seriesKeyCode(): number;
  /** Series only: whether `seriesText()` is the key stored at words[at] with length code `code`. */
  seriesMatches(words: Int32Array, at: number, code: number): boolean;
  /** Series only: stores `seriesText()` as a key at words[at] (room: `keyWords(seriesKeyCode())`); returns its code. */
  writeSeriesKey(words: Int32Array, at: number): number;
  /**
   * Names the series (a key written by `writeSeriesKey` of a parser of the same format) that
   * the caller expects on the next sample line; until replaced, a sample line with exactly
   * that series may be confirmed by comparison instead of being scanned, and `seriesMatches`
   * with the same key then answers at once. Results never differ; parsers may ignore it.
   */
  expectSeries(words: Int32Array, at: number, code: number): void;
  /** Series only: the sample value (NaN, ±Inf possible). */
  value(): number;
  /** Series only: the sample timestamp in milliseconds, if the exposition carried one. */
  timestamp(): number | undefined;
  /** Series only (OpenMetrics): the exemplar attached to the sample. */
  exemplar(): Exemplar | undefined;
  /** Type entries: the declared type. Otherwise the type of the last TYPE line seen. */
  type(): MetricType | undefined;
  /** Help entries: the unescaped help text. */
  help(): string;
  /** Unit entries (OpenMetrics). */
  unit(): string;
  /** Comment entries (text 0.0.4): the whole comment line including the leading `#`. */
  comment(): string;
  /**
   * Series only: the created timestamp in ms from a matching `_created` line, or 0 when unknown.
   * Meaningful for OpenMetrics counters, summaries and histograms; it peeks ahead, so use it with
   * `skipCreatedSeries` as Prometheus does.
   */
  startTimestamp(): number;
}

/** One entry as returned by `parseAll`. */
export type ParsedEntry =
  | {
      readonly kind: 'series';
      readonly name: string;
      readonly labels: Labels;
      readonly value: number;
      readonly timestamp?: number;
      readonly exemplar?: Exemplar;
    }
  | { readonly kind: 'type'; readonly name: string; readonly type: MetricType }
  | { readonly kind: 'help'; readonly name: string; readonly help: string }
  | { readonly kind: 'unit'; readonly name: string; readonly unit: string }
  | { readonly kind: 'comment'; readonly text: string };
