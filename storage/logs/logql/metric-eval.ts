/**
 * Evaluating LogQL metric queries (`count_over_time`, `rate`, `bytes_over_time`, `bytes_rate`,
 * `absent_over_time`, under `sum`/`count`/`avg`/`min`/`max`/`topk`/`bottomk` with `by`/`without`)
 * over the records a reader returns, into Prometheus-style series.
 *
 * As in Loki: a step at time t counts the log lines with timestamps in (t - offset - range,
 * t - offset]; a series is the label set a line has after the pipeline, and a step where a series
 * has no line has no point. One difference: the record's level is added as a `level` label when
 * the pipeline did not extract one, as Loki 3 adds `detected_level`, so Grafana's logs volume
 * (`sum by (level) (count_over_time(…))`) splits by level. Lines marked `__error__` are counted
 * under that label rather than failing the query.
 *
 * Memory is bounded by series × steps, not by lines: each line adds its contribution to the run
 * of steps whose window holds it, in a difference array per series.
 */
import type { LogSelection, LogSearchRequest, LogStore, StoredLogRecord } from '../interface.js';
import type { Grouping, LogqlExpr, MetricExpr, RangeAggregation } from './ast.js';
import { planLogQuery, restrictPlan } from './plan.js';

/** Reads every record of a selection, in batches. */
export type RecordReader = (
  selection: LogSelection,
  signal?: AbortSignal,
) => AsyncIterable<readonly StoredLogRecord[]>;

/** A reader that pages through `LogStore.search`, oldest first. */
export function storeReader(store: LogStore, pageSize = 5000): RecordReader {
  return async function* (selection, signal) {
    let cursor: string | undefined;
    do {
      const req: LogSearchRequest = {
        ...selection,
        direction: 'forward',
        limit: pageSize,
        ...(cursor !== undefined ? { cursor } : {}),
      };
      const page = await store.search(req, signal);
      if (page.records.length > 0) yield page.records;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  };
}

export interface MetricPoint {
  readonly timeNs: bigint;
  readonly value: number;
}

export interface MetricSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly MetricPoint[];
}

export interface MetricQueryOptions {
  /** First evaluation time, nanoseconds. */
  readonly startNs: bigint;
  /** Last evaluation time (inclusive when on a step), nanoseconds; equal to `startNs` for an instant query. */
  readonly endNs: bigint;
  /** Distance between evaluation times; ignored for an instant query. */
  readonly stepNs: bigint;
  /** Namespaces the caller may read. */
  readonly namespaces: readonly string[] | 'all';
  readonly signal?: AbortSignal;
  /** Default 500, Loki's `max_query_series`. */
  readonly maxSeries?: number;
  /** Default 11,000, Loki's (and Prometheus's) resolution limit. */
  readonly maxSteps?: number;
}

export class MetricQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricQueryError';
  }
}

/** Per-step values of one series; NaN where the series has no point. */
interface StepSeries {
  readonly labels: Record<string, string>;
  readonly values: Float64Array;
}

/** Evaluates a metric query at each step from `startNs` to `endNs`; series sorted by labels. */
export async function evaluateMetricQuery(
  expr: LogqlExpr,
  opts: MetricQueryOptions,
  read: RecordReader,
): Promise<MetricSeries[]> {
  if (expr.kind === 'LogQuery') throw new MetricQueryError('a log query has no metric value; wrap it in count_over_time or rate');
  if (opts.endNs < opts.startNs) throw new MetricQueryError('end timestamp must not be before start time');
  const instant = opts.endNs === opts.startNs;
  if (!instant && opts.stepNs <= 0n) {
    throw new MetricQueryError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  }
  const step = instant ? 1n : opts.stepNs;
  const steps = Number((opts.endNs - opts.startNs) / step) + 1;
  const maxSteps = opts.maxSteps ?? 11_000;
  if (steps > maxSteps) {
    throw new MetricQueryError(
      `exceeded maximum resolution of ${maxSteps} points per timeseries. Try increasing the value of the step parameter`,
    );
  }
  const grid: Grid = { startNs: opts.startNs, stepNs: step, steps };
  const series = await evaluate(expr, grid, opts, read);
  return series
    .map((s) => ({ labels: s.labels, points: pointsOf(s.values, grid) }))
    .filter((s) => s.points.length > 0)
    .sort((a, b) => compareKeys(labelsKey(a.labels), labelsKey(b.labels)));
}

interface Grid {
  readonly startNs: bigint;
  readonly stepNs: bigint;
  readonly steps: number;
}

function pointsOf(values: Float64Array, grid: Grid): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let i = 0; i < values.length; i++) {
    if (!Number.isNaN(values[i]!)) out.push({ timeNs: grid.startNs + BigInt(i) * grid.stepNs, value: values[i]! });
  }
  return out;
}

async function evaluate(e: MetricExpr, grid: Grid, opts: MetricQueryOptions, read: RecordReader): Promise<StepSeries[]> {
  if (e.kind === 'RangeAggregation') return rangeAggregate(e, grid, opts, read);
  const inner = await evaluate(e.expr, grid, opts, read);
  if (e.op === 'topk' || e.op === 'bottomk') return selectK(inner, e.op, e.param!, e.grouping, grid);
  return aggregate(inner, e.op, e.grouping, grid);
}

const SEPARATOR = '\xff';

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}${SEPARATOR}${labels[k]}`)
    .join(SEPARATOR);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Index of the first step whose time is >= t (may be outside the grid). */
function firstStepAtOrAfter(t: bigint, grid: Grid): number {
  const d = t - grid.startNs;
  if (d <= 0n) return Number(d / grid.stepNs); // truncates towards zero: the ceiling for d <= 0
  return Number((d + grid.stepNs - 1n) / grid.stepNs);
}

async function rangeAggregate(
  e: RangeAggregation,
  grid: Grid,
  opts: MetricQueryOptions,
  read: RecordReader,
): Promise<StepSeries[]> {
  const lastNs = grid.startNs + BigInt(grid.steps - 1) * grid.stepNs;
  // Windows (t - offset - range, t - offset] for every step t, as one selection: start inclusive.
  const plan = restrictPlan(
    planLogQuery(e.query, { startNs: grid.startNs - e.offsetNs - e.rangeNs + 1n, endNs: lastNs - e.offsetNs + 1n }),
    opts.namespaces,
  );
  const maxSeries = opts.maxSeries ?? 500;
  // Per series: difference arrays over the steps, of line counts and (for bytes_*) line sizes.
  const diffs = new Map<string, { labels: Record<string, string>; lines: Float64Array; bytes: Float64Array | undefined }>();
  const bytes = e.op === 'bytes_over_time' || e.op === 'bytes_rate';
  const encoder = new TextEncoder();
  if (plan.selection !== undefined) {
    for await (const batch of read(plan.selection, opts.signal)) {
      opts.signal?.throwIfAborted();
      for (const r of batch) {
        const res = plan.pipeline.process(r);
        if (res === undefined) continue;
        // The line counts at the steps t with ts + offset <= t < ts + offset + range.
        const from = Math.max(0, firstStepAtOrAfter(r.timeNs + e.offsetNs, grid));
        const to = Math.min(grid.steps, firstStepAtOrAfter(r.timeNs + e.offsetNs + e.rangeNs, grid));
        if (from >= to) continue;
        const labels = seriesLabels(res.labels, res.level);
        const key = labelsKey(labels);
        let s = diffs.get(key);
        if (s === undefined) {
          if (diffs.size >= maxSeries) throw new MetricQueryError(`maximum of series (${maxSeries}) reached for a single query`);
          s = { labels, lines: new Float64Array(grid.steps + 1), bytes: bytes ? new Float64Array(grid.steps + 1) : undefined };
          diffs.set(key, s);
        }
        s.lines[from]! += 1;
        s.lines[to]! -= 1;
        if (s.bytes) {
          const size = encoder.encode(res.line).length;
          s.bytes[from]! += size;
          s.bytes[to]! -= size;
        }
      }
    }
  }
  const seconds = Number(e.rangeNs) / 1e9;
  const out: StepSeries[] = [];
  const anyLine = new Uint8Array(grid.steps);
  for (const s of diffs.values()) {
    const values = new Float64Array(grid.steps).fill(NaN);
    // Integer sums below 2^53: exact.
    let lines = 0;
    let size = 0;
    for (let i = 0; i < grid.steps; i++) {
      lines += s.lines[i]!;
      if (s.bytes) size += s.bytes[i]!;
      if (lines === 0) continue;
      anyLine[i] = 1;
      const v = s.bytes ? size : lines;
      values[i] = e.op === 'rate' || e.op === 'bytes_rate' ? v / seconds : v;
    }
    out.push({ labels: s.labels, values });
  }
  if (e.op !== 'absent_over_time') return out;
  // 1 where no line at all, labelled by the selector's equality matchers.
  const labels: Record<string, string> = {};
  for (const m of e.query.selector.matchers) if (m.matcher.type === '=') labels[m.matcher.name] = m.matcher.value;
  const values = new Float64Array(grid.steps).fill(NaN);
  for (let i = 0; i < grid.steps; i++) if (anyLine[i] === 0) values[i] = 1;
  return [{ labels, values }];
}

/** A line's series: its labels with the record's level added, empty values left out as in Prometheus. */
function seriesLabels(labels: Readonly<Record<string, string>>, level: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== '') out[k] = v;
  if (out.level === undefined && level !== undefined && level !== '') out.level = level;
  return out;
}

function groupLabels(labels: Readonly<Record<string, string>>, g: Grouping | undefined): Record<string, string> {
  if (g === undefined) return {};
  const out: Record<string, string> = {};
  if (g.without) {
    for (const [k, v] of Object.entries(labels)) if (!g.labels.includes(k)) out[k] = v;
  } else {
    for (const k of g.labels) if (labels[k] !== undefined && labels[k] !== '') out[k] = labels[k]!;
  }
  return out;
}

function aggregate(
  inner: readonly StepSeries[],
  op: 'sum' | 'count' | 'avg' | 'min' | 'max',
  g: Grouping | undefined,
  grid: Grid,
): StepSeries[] {
  const groups = new Map<string, { labels: Record<string, string>; acc: Float64Array; n: Float64Array }>();
  for (const s of inner) {
    const labels = groupLabels(s.labels, g);
    const key = labelsKey(labels);
    let group = groups.get(key);
    if (group === undefined) {
      group = { labels, acc: new Float64Array(grid.steps), n: new Float64Array(grid.steps) };
      groups.set(key, group);
    }
    for (let i = 0; i < grid.steps; i++) {
      const v = s.values[i]!;
      if (Number.isNaN(v)) continue;
      const first = group.n[i] === 0;
      group.n[i]!++;
      switch (op) {
        case 'sum':
        case 'avg':
          group.acc[i]! += v;
          break;
        case 'count':
          group.acc[i]! += 1;
          break;
        case 'min':
          group.acc[i] = first ? v : Math.min(group.acc[i]!, v);
          break;
        case 'max':
          group.acc[i] = first ? v : Math.max(group.acc[i]!, v);
          break;
      }
    }
  }
  return [...groups.values()].map(({ labels, acc, n }) => {
    const values = new Float64Array(grid.steps).fill(NaN);
    for (let i = 0; i < grid.steps; i++) if (n[i]! > 0) values[i] = op === 'avg' ? acc[i]! / n[i]! : acc[i]!;
    return { labels, values };
  });
}

/** topk/bottomk: per step and group, the k largest (smallest) series keep their point. */
function selectK(
  inner: readonly StepSeries[],
  op: 'topk' | 'bottomk',
  k: number,
  g: Grouping | undefined,
  grid: Grid,
): StepSeries[] {
  const groups = new Map<string, number[]>();
  inner.forEach((s, idx) => {
    const key = labelsKey(groupLabels(s.labels, g));
    groups.set(key, [...(groups.get(key) ?? []), idx]);
  });
  const out = inner.map((s) => ({ labels: s.labels, values: new Float64Array(grid.steps).fill(NaN) }));
  for (const members of groups.values()) {
    for (let i = 0; i < grid.steps; i++) {
      const present = members.filter((m) => !Number.isNaN(inner[m]!.values[i]!));
      // Ties are broken by labels, so the choice does not depend on the order records arrived in.
      present.sort((a, b) => {
        const d = inner[b]!.values[i]! - inner[a]!.values[i]!;
        return (op === 'topk' ? d : -d) || compareKeys(labelsKey(inner[a]!.labels), labelsKey(inner[b]!.labels));
      });
      for (const m of present.slice(0, k)) out[m]!.values[i] = inner[m]!.values[i]!;
    }
  }
  return out;
}
