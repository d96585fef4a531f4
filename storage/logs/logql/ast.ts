/**
 * The LogQL syntax tree: log queries (a stream selector and a pipeline) and the metric queries
 * built over them (`count_over_time`, `rate`, … wrapped in `sum by (…)`, `topk`, …).
 *
 * Every node carries its `span` in the query text as UTF-16 offsets (what JavaScript strings
 * index), end exclusive, so an API can underline the part of a query a message is about.
 * Values are already decoded: strings unquoted, regexes compiled (as `Matcher`s or checked RE2),
 * durations in nanoseconds, byte sizes in bytes.
 */
import type { Matcher } from '../../../model/matcher.js';
import type { LineFilterOp } from '../interface.js';

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A label matcher as written: in a stream selector, a label filter, `drop` or `keep`. */
export interface LabelMatcherNode {
  readonly kind: 'LabelMatcher';
  /** Compiled with Prometheus semantics: regexes fully anchored, a missing label reads as "". */
  readonly matcher: Matcher;
  readonly span: Span;
}

export interface StreamSelector {
  readonly kind: 'StreamSelector';
  /** At least one, and at least one that does not match the empty string (checked by the parser). */
  readonly matchers: readonly LabelMatcherNode[];
  readonly span: Span;
}

/** `|= "x"`, `!= "x"`: substring tests; `|~ "re"`, `!~ "re"`: unanchored RE2, checked at parse time. */
export interface LineFilterStage {
  readonly kind: 'LineFilter';
  readonly op: LineFilterOp;
  readonly value: string;
  readonly span: Span;
}

/** `label="expression"` of `| json a="x.y"` / `| logfmt a="key"`; `| json a` means `a="a"`. */
export interface LabelExtraction {
  readonly label: string;
  /** The expression as written inside the quotes. */
  readonly expression: string;
  /** For json: the decoded path (`x.y[0]["z"]` → `['x', 'y', 0, 'z']`); for logfmt: `[key]`. */
  readonly path: readonly (string | number)[];
  readonly span: Span;
}

export interface JsonParserStage {
  readonly kind: 'JsonParser';
  /** Empty: extract every scalar, flattening nested objects with `_`. */
  readonly extractions: readonly LabelExtraction[];
  readonly span: Span;
}

export interface LogfmtParserStage {
  readonly kind: 'LogfmtParser';
  /** `--strict`: stop at the first malformed pair and set `__error__`. */
  readonly strict: boolean;
  /** `--keep-empty`: keep standalone keys (`debug`) and empty values as empty labels. */
  readonly keepEmpty: boolean;
  /** Empty: extract every key. */
  readonly extractions: readonly LabelExtraction[];
  readonly span: Span;
}

export interface RegexpParserStage {
  readonly kind: 'RegexpParser';
  /** RE2 source with at least one named group `(?P<name>…)`; unanchored. */
  readonly pattern: string;
  /** The named groups, in order, each a valid label name. */
  readonly names: readonly string[];
  readonly span: Span;
}

export type ComparisonOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type LabelFilterExpr =
  | LabelFilterAnd
  | LabelFilterOr
  | StringLabelFilter
  | NumberLabelFilter
  | DurationLabelFilter
  | BytesLabelFilter;

export interface LabelFilterAnd {
  readonly kind: 'And';
  readonly left: LabelFilterExpr;
  readonly right: LabelFilterExpr;
  readonly span: Span;
}

export interface LabelFilterOr {
  readonly kind: 'Or';
  readonly left: LabelFilterExpr;
  readonly right: LabelFilterExpr;
  readonly span: Span;
}

/** `name="v"`, `name=~"re"`, …: a missing label reads as "", and only these can read `__error__`. */
export interface StringLabelFilter {
  readonly kind: 'StringFilter';
  readonly matcher: Matcher;
  readonly span: Span;
}

/** `name > 5`: the label value is converted to a float first. */
export interface NumberLabelFilter {
  readonly kind: 'NumberFilter';
  readonly name: string;
  readonly op: ComparisonOp;
  readonly value: number;
  readonly span: Span;
}

/** `name > 250ms`: the label value is parsed as a Go duration (`1.5s`, `2h45m`) first. */
export interface DurationLabelFilter {
  readonly kind: 'DurationFilter';
  readonly name: string;
  readonly op: ComparisonOp;
  readonly valueNs: bigint;
  readonly span: Span;
}

/** `name > 10KB`: the label value is parsed as a byte size (`42MB`, `1.5KiB`) first. */
export interface BytesLabelFilter {
  readonly kind: 'BytesFilter';
  readonly name: string;
  readonly op: ComparisonOp;
  readonly value: number;
  readonly span: Span;
}

export interface LabelFilterStage {
  readonly kind: 'LabelFilter';
  readonly filter: LabelFilterExpr;
  readonly span: Span;
}

/** One piece of a `line_format` template: literal text, a label, or the current line. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'label'; readonly name: string }
  | { readonly kind: 'line' };

export interface LineFormatStage {
  readonly kind: 'LineFormat';
  /** The template as written (decoded). */
  readonly template: string;
  readonly parts: readonly TemplatePart[];
  readonly span: Span;
}

/** `drop a, b="x"` / `keep a, b="x"`: a bare name always, a matcher only when the value matches. */
export interface NamedLabel {
  readonly name: string;
  readonly matcher?: Matcher;
  readonly span: Span;
}

export interface DropStage {
  readonly kind: 'Drop';
  readonly labels: readonly NamedLabel[];
  readonly span: Span;
}

export interface KeepStage {
  readonly kind: 'Keep';
  readonly labels: readonly NamedLabel[];
  readonly span: Span;
}

/** `| decolorize`: removes ANSI colour sequences from the line. */
export interface DecolorizeStage {
  readonly kind: 'Decolorize';
  readonly span: Span;
}

export type PipelineStage =
  | LineFilterStage
  | JsonParserStage
  | LogfmtParserStage
  | RegexpParserStage
  | LabelFilterStage
  | LineFormatStage
  | DropStage
  | KeepStage
  | DecolorizeStage;

/** `{…} |= "x" | json | …`: what returns log lines. */
export interface LogQuery {
  readonly kind: 'LogQuery';
  readonly selector: StreamSelector;
  readonly stages: readonly PipelineStage[];
  readonly span: Span;
}

export type RangeAggregationOp = 'count_over_time' | 'rate' | 'bytes_over_time' | 'bytes_rate' | 'absent_over_time';

/** `count_over_time({…} |= "x" [5m] offset 1m)`. */
export interface RangeAggregation {
  readonly kind: 'RangeAggregation';
  readonly op: RangeAggregationOp;
  readonly query: LogQuery;
  readonly rangeNs: bigint;
  /** 0 without `offset`. */
  readonly offsetNs: bigint;
  readonly span: Span;
}

export type VectorAggregationOp = 'sum' | 'count' | 'avg' | 'min' | 'max' | 'topk' | 'bottomk';

export interface Grouping {
  /** `without (…)` rather than `by (…)`. */
  readonly without: boolean;
  readonly labels: readonly string[];
}

/** `sum by (level) (…)`, `topk(5, …)`. */
export interface VectorAggregation {
  readonly kind: 'VectorAggregation';
  readonly op: VectorAggregationOp;
  /** `k` of `topk`/`bottomk`. */
  readonly param?: number;
  /** Absent: aggregate everything into one series. */
  readonly grouping?: Grouping;
  readonly expr: MetricExpr;
  readonly span: Span;
}

export type MetricExpr = RangeAggregation | VectorAggregation;

export type LogqlExpr = LogQuery | MetricExpr;

/** The log queries inside an expression, left to right. */
export function logQueriesOf(e: LogqlExpr): LogQuery[] {
  switch (e.kind) {
    case 'LogQuery':
      return [e];
    case 'RangeAggregation':
      return [e.query];
    case 'VectorAggregation':
      return logQueriesOf(e.expr);
  }
}
