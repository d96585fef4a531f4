/**
 * Running LogQL for the log APIs: parse, plan within the caller's scope, check the limits, and
 * page the store through the residual pipeline. Shared by the Vigil and Loki endpoints so both
 * enforce the same scope and limits in the same place: at planning time.
 */
import type { LogDirection, LogSelection, LogStore, StoredLogRecord } from '../../storage/logs/interface.js';
import { encodeLogCursor, LogCursorError } from '../../storage/logs/cursor.js';
import { LogUnavailableError } from '../../storage/logs/interface.js';
import {
  LogqlParseError,
  MetricQueryError,
  parseLogql,
  planLogQuery,
  restrictPlan,
  type LogQuery,
  type LogQueryPlan,
  type LogqlExpr,
  type TimeRange,
} from '../../storage/logs/logql/index.js';
import { logQueriesOf } from '../../storage/logs/logql/index.js';
import type { LogScope } from '../plugins/log-scope.js';
import { LogRequestError } from './params.js';

const HOUR_NS = 3_600_000_000_000n;

/**
 * Limits of the log endpoints. They are constants rather than configuration until someone needs
 * to tune them; the query timeout is `query.timeout`, shared with PromQL.
 */
export const LOG_LIMITS = {
  /** Most lines one response may carry (`limit` above it is refused). */
  maxLines: 5000,
  /**
   * Most store rows one search request pushes through the residual pipeline. A selective
   * parsed-field filter could otherwise read the whole range to fill one page; past this the
   * request answers what it found with a cursor to continue.
   */
  maxScannedRows: 100_000,
  /**
   * Longest time range of a query that filters lines but names no namespace or pod: a full-text
   * scan over every stream. Narrowed queries (and callers whose scope narrows them) may span more.
   */
  maxUnscopedFilterRangeNs: 24n * HOUR_NS,
  /** Most lines of context on each side of an anchor. */
  maxContextLines: 1000,
} as const;

/** Parses a query parameter; an empty one is an error as in Loki. */
export function parseQueryParam(text: string | undefined): LogqlExpr {
  if (text === undefined || text.trim() === '') throw new LogRequestError('invalid parameter "query": a LogQL query is required');
  return parseLogql(text);
}

/** A log query (not a metric one) from a query parameter. */
export function parseLogQueryParam(text: string | undefined): LogQuery {
  const e = parseQueryParam(text);
  if (e.kind !== 'LogQuery') {
    throw new LogqlParseError(text!, e.span.start, 'expected a log query, found a metric query; this endpoint returns log lines');
  }
  return e;
}

/** Plans a log query within the caller's scope; `selection` is undefined when nothing can match. */
export function planScoped(query: LogQuery, range: TimeRange, scope: LogScope): LogQueryPlan {
  const plan = restrictPlan(planLogQuery(query, range), scope);
  if (plan.selection !== undefined) checkScanRange(query, plan.selection);
  return plan;
}

/** The same check for every log query inside a metric query, over the range it reads. */
export function checkMetricScanRange(expr: LogqlExpr, range: TimeRange, scope: LogScope): void {
  for (const q of logQueriesOf(expr)) {
    const widened = expr.kind === 'LogQuery' ? range : { startNs: range.startNs - rangeOf(expr), endNs: range.endNs };
    const plan = restrictPlan(planLogQuery(q, widened), scope);
    if (plan.selection !== undefined) checkScanRange(q, plan.selection);
  }
}

function rangeOf(e: LogqlExpr): bigint {
  if (e.kind === 'RangeAggregation') return e.rangeNs + e.offsetNs;
  if (e.kind === 'VectorAggregation') return rangeOf(e.expr);
  return 0n;
}

/**
 * Refuses a query that filters lines over every stream for longer than the limit. A `namespace`
 * or `pod` matcher narrows when it names streams: `=`, or `=~` over a list of literal names (what
 * a scope adds); `=~".+"` does not.
 */
function checkScanRange(query: LogQuery, sel: LogSelection): void {
  const filters = query.stages.some((s) => s.kind === 'LineFilter' || s.kind === 'LabelFilter');
  if (!filters || sel.endNs - sel.startNs <= LOG_LIMITS.maxUnscopedFilterRangeNs) return;
  const narrowed = sel.matchers.some(
    (m) => (m.name === 'namespace' || m.name === 'pod') && (m.type === '=' || (m.type === '=~' && /^([A-Za-z0-9_-]|\\\.)+(\|([A-Za-z0-9_-]|\\\.)+)*$/.test(m.value))),
  );
  if (narrowed) return;
  const hours = Number(LOG_LIMITS.maxUnscopedFilterRangeNs / HOUR_NS);
  throw new LogRequestError(
    `the time range of a query that filters lines without a namespace or pod matcher may be at most ${hours}h ` +
      `(limit max_unscoped_filter_range); add a namespace or pod matcher or shorten the range`,
  );
}

/** One line that passed the pipeline. */
export interface LogHit {
  readonly record: StoredLogRecord;
  /** The line after the pipeline (`line_format` may change it). */
  readonly line: string;
  /** Stream labels and extracted labels. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface PipelineSearchOptions {
  readonly direction: LogDirection;
  readonly limit: number;
  readonly cursor?: string;
  readonly maxScannedRows?: number;
  readonly signal?: AbortSignal;
}

export interface PipelineSearchResult {
  readonly hits: LogHit[];
  /** Continues after the last record looked at; absent when the store has nothing more. */
  readonly nextCursor?: string;
}

/**
 * Pages the store until `limit` lines passed the pipeline or the store is exhausted. Cursors are
 * keyset positions (`storage/logs/cursor.ts`), so one can continue after any record looked at,
 * including one the pipeline dropped.
 */
export async function searchThroughPipeline(store: LogStore, plan: LogQueryPlan, opts: PipelineSearchOptions): Promise<PipelineSearchResult> {
  const hits: LogHit[] = [];
  if (plan.selection === undefined || opts.limit === 0) return { hits };
  const maxScan = opts.maxScannedRows ?? LOG_LIMITS.maxScannedRows;
  let cursor = opts.cursor;
  let scanned = 0;
  for (;;) {
    const wanted = opts.limit - hits.length;
    const pageSize = plan.pipeline.isEmpty ? wanted : Math.min(maxScan - scanned, Math.max(2 * wanted, 1000));
    const page = await store.search(
      { ...plan.selection, direction: opts.direction, limit: Math.max(1, pageSize), ...(cursor !== undefined && { cursor }) },
      opts.signal,
    );
    for (let i = 0; i < page.records.length; i++) {
      const record = page.records[i]!;
      scanned++;
      const res = plan.pipeline.process(record);
      if (res !== undefined) hits.push({ record, line: res.line, labels: res.labels });
      const lastOfStore = i === page.records.length - 1 && page.nextCursor === undefined;
      if (lastOfStore) return { hits };
      if (hits.length === opts.limit || scanned >= maxScan) return { hits, nextCursor: encodeLogCursor(opts.direction, record) };
    }
    if (page.nextCursor === undefined) return { hits };
    cursor = page.nextCursor;
  }
}

/** What a failed log query answers: status, message and a stable code. */
export interface LogQueryFailure {
  readonly status: number;
  readonly message: string;
  readonly code: string;
}

/** Maps the errors a log query can raise; undefined for anything unexpected (a 500). */
export function classifyLogQueryError(err: unknown, timeoutMs: number): LogQueryFailure | undefined {
  if (err instanceof LogqlParseError) return { status: 400, message: err.message, code: 'VIGIL_ERR_LOGQL_PARSE' };
  if (err instanceof LogRequestError) return { status: 400, message: err.message, code: 'VIGIL_ERR_BAD_REQUEST' };
  if (err instanceof LogCursorError) return { status: 400, message: err.message, code: 'VIGIL_ERR_BAD_CURSOR' };
  if (err instanceof MetricQueryError) return { status: 400, message: err.message, code: 'VIGIL_ERR_BAD_REQUEST' };
  if (err instanceof LogUnavailableError) return { status: 503, message: `log store unavailable: ${err.message}`, code: 'VIGIL_ERR_UNAVAILABLE' };
  if (err instanceof Error && err.name === 'TimeoutError') {
    return { status: 503, message: `query timed out after ${timeoutMs / 1000}s (limit query.timeout)`, code: 'VIGIL_ERR_QUERY_TIMEOUT' };
  }
  if (err instanceof Error && err.name === 'AbortError') return { status: 499, message: 'query canceled: the client went away', code: 'VIGIL_ERR_CANCELED' };
  return undefined;
}

/**
 * A signal that aborts the store work when the client goes away before the answer is written or
 * when the query timeout passes. (The request's own 'close' fires once its body is read, so the
 * response is what tells.)
 */
export function querySignal(response: NodeJS.EventEmitter & { writableFinished: boolean }, timeoutMs: number): AbortSignal {
  const client = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) client.abort();
  });
  return AbortSignal.any([client.signal, AbortSignal.timeout(timeoutMs)]);
}
