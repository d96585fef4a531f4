/**
 * The Loki HTTP API over Vigil's log store, for Grafana's Loki data source and logcli:
 * `/loki/api/v1/query_range`, `/query`, `/labels`, `/label/<name>/values`, `/series`, `/tail`.
 * Envelopes, parameter rules and error style (HTTP 400 with a plain-text message) are Loki's;
 * every query is planned within the request's log scope, as on the Vigil endpoints. The tail, a
 * WebSocket, is its own plugin (`loki-tail.ts`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Matcher } from '../../model/matcher.js';
import type { LogSelection, LogStore, LogStreamInfo } from '../../storage/logs/interface.js';
import {
  evaluateMetricQuery,
  parseLogQuery,
  planLogQuery,
  restrictPlan,
  restrictToNamespaces,
  storeReader,
  type LogqlExpr,
  type MetricSeries,
} from '../../storage/logs/logql/index.js';
import { acceptForms, param, requestParams, type Params } from '../prometheus/request.js';
import type { LogScope } from '../plugins/log-scope.js';
import { LogRequestError, nowNs, parseCountParam, parseDirectionParam, parseDurationParamNs, parseLogTimeParam } from '../logs/params.js';
import {
  checkMetricScanRange,
  classifyLogQueryError,
  LOG_LIMITS,
  parseQueryParam,
  planScoped,
  querySignal,
  searchThroughPipeline,
} from '../logs/query.js';

export interface LokiRoutesOptions {
  readonly store: () => LogStore;
  readonly timeoutMs: () => number;
}

const SECOND_NS = 1_000_000_000n;
const HOUR_NS = 3600n * SECOND_NS;
/** Loki's default for `/labels`, `/label/…/values` and `/series` without `start`. */
const LABELS_DEFAULT_SPAN_NS = 6n * HOUR_NS;
const STREAM_LABEL_NAMES = ['container', 'namespace', 'node', 'pod', 'stream'] as const;

function rangeParams(p: Params, defaultSpanNs: bigint): { startNs: bigint; endNs: bigint } {
  const endNs = parseLogTimeParam(param(p, 'end'), 'end', nowNs());
  const since = param(p, 'since');
  const span = since !== undefined && since !== '' ? parseDurationParamNs(since, 'since') : defaultSpanNs;
  const startNs = parseLogTimeParam(param(p, 'start'), 'start', endNs - span);
  if (endNs < startNs) throw new LogRequestError('end timestamp must not be before or equal to start time');
  return { startNs, endNs };
}

/** Loki's default step: the range over 250 points, at least a second. */
function stepParam(p: Params, startNs: bigint, endNs: bigint): bigint {
  const raw = param(p, 'step');
  if (raw !== undefined && raw !== '') return parseDurationParamNs(raw, 'step');
  const s = (endNs - startNs) / 250n / SECOND_NS;
  return (s < 1n ? 1n : s) * SECOND_NS;
}

/** Loki writes sample times as float seconds and values as strings. */
function sampleTime(ns: bigint): number {
  return Number(ns / 1_000_000n) / 1000;
}

function formatSample(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function success(data: unknown) {
  return { status: 'success', data };
}

export async function lokiRoutes(app: FastifyInstance, opts: LokiRoutesOptions): Promise<void> {
  acceptForms(app);
  const prefix = '/loki/api/v1';

  function fail(reply: FastifyReply, err: unknown): FastifyReply {
    const f = classifyLogQueryError(err, opts.timeoutMs());
    if (f === undefined) throw err;
    return reply.code(f.status).type('text/plain; charset=utf-8').send(f.message);
  }
  const signalFor = (reply: FastifyReply) => querySignal(reply.raw, opts.timeoutMs());

  async function logStreams(req: FastifyRequest, reply: FastifyReply, expr: LogqlExpr & { kind: 'LogQuery' }, p: Params, range: { startNs: bigint; endNs: bigint }) {
    const plan = planScoped(expr, range, req.logScope);
    const direction = parseDirectionParam(param(p, 'direction'));
    const res = await searchThroughPipeline(opts.store(), plan, {
      direction,
      limit: parseCountParam(param(p, 'limit'), 'limit', 100, LOG_LIMITS.maxLines),
      signal: signalFor(reply),
    });
    // One stream per label set, entries in the query's direction, as Loki answers.
    const streams = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
    for (const h of res.hits) {
      const key = JSON.stringify(Object.entries(h.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      let s = streams.get(key);
      if (s === undefined) streams.set(key, (s = { stream: { ...h.labels }, values: [] }));
      s.values.push([h.record.timeNs.toString(), h.line]);
    }
    return success({ resultType: 'streams', result: [...streams.values()], stats: {} });
  }

  app.route({
    method: ['GET', 'POST'],
    url: `${prefix}/query_range`,
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const expr = parseQueryParam(param(p, 'query'));
        const range = rangeParams(p, HOUR_NS);
        if (expr.kind === 'LogQuery') return await logStreams(req, reply, expr, p, range);
        const stepNs = stepParam(p, range.startNs, range.endNs);
        const series = await metric(expr, range.startNs, range.endNs, stepNs, req.logScope, signalFor(reply));
        const result = series.map((s) => ({ metric: s.labels, values: s.points.map((pt) => [sampleTime(pt.timeNs), formatSample(pt.value)]) }));
        return success({ resultType: 'matrix', result, stats: {} });
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  app.route({
    method: ['GET', 'POST'],
    url: `${prefix}/query`,
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const expr = parseQueryParam(param(p, 'query'));
        if (expr.kind === 'LogQuery') {
          throw new LogRequestError('log queries are not supported as an instant query type, please change your query to a range query type');
        }
        const t = parseLogTimeParam(param(p, 'time'), 'time', nowNs());
        const series = await metric(expr, t, t, 0n, req.logScope, signalFor(reply));
        const result = series.map((s) => ({ metric: s.labels, value: [sampleTime(t), formatSample(s.points[0]!.value)] }));
        return success({ resultType: 'vector', result, stats: {} });
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  async function metric(expr: LogqlExpr, startNs: bigint, endNs: bigint, stepNs: bigint, scope: LogScope, signal: AbortSignal): Promise<MetricSeries[]> {
    checkMetricScanRange(expr, { startNs, endNs }, scope);
    return evaluateMetricQuery(expr, { startNs, endNs, stepNs, namespaces: scope, signal }, storeReader(opts.store()));
  }

  /**
   * Streams of the selection per output stream (stdout, stderr): the store's stream list carries
   * the container stream, not which of its two outputs wrote.
   */
  async function streamsByOutput(sel: LogSelection, signal: AbortSignal): Promise<Array<LogStreamInfo & { stream: string }>> {
    const out: Array<LogStreamInfo & { stream: string }> = [];
    for (const stream of ['stderr', 'stdout']) {
      const streams = await opts.store().streams({ ...sel, matchers: [...sel.matchers, new Matcher('=', 'stream', stream)] }, signal);
      for (const s of streams) out.push({ ...s, stream });
    }
    return out;
  }

  /** The selection of an optional `query` selector (or everything), within the scope. */
  function scopedSelection(req: FastifyRequest, p: Params, range: { startNs: bigint; endNs: bigint }, selector: string | undefined): LogSelection | undefined {
    if (selector === undefined || selector === '') return restrictToNamespaces({ matchers: [], lineFilters: [], ...range }, req.logScope);
    return restrictPlan(planLogQuery(parseLogQuery(selector), range), req.logScope).selection;
  }

  app.route({
    method: ['GET', 'POST'],
    url: `${prefix}/labels`,
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const sel = scopedSelection(req, p, rangeParams(p, LABELS_DEFAULT_SPAN_NS), param(p, 'query'));
        if (sel === undefined) return success([]);
        const streams = await opts.store().streams(sel, signalFor(reply));
        if (streams.length === 0) return success([]);
        const names = STREAM_LABEL_NAMES.filter((n) => n === 'stream' || streams.some((s) => s[n] !== ''));
        return success(names);
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  app.route<{ Params: { name: string } }>({
    method: ['GET', 'POST'],
    url: `${prefix}/label/:name/values`,
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const sel = scopedSelection(req, p, rangeParams(p, LABELS_DEFAULT_SPAN_NS), param(p, 'query'));
        const name = req.params.name;
        if (sel === undefined || !(STREAM_LABEL_NAMES as readonly string[]).includes(name)) return success([]);
        const signal = signalFor(reply);
        const values = new Set<string>();
        if (name === 'stream') for (const s of await streamsByOutput(sel, signal)) values.add(s.stream);
        else for (const s of await opts.store().streams(sel, signal)) values.add(s[name as 'namespace' | 'pod' | 'container' | 'node']);
        values.delete('');
        return success([...values].sort());
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  app.route({
    method: ['GET', 'POST'],
    url: `${prefix}/series`,
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const matches = p.get('match[]') ?? p.get('match') ?? [];
        if (matches.length === 0) throw new LogRequestError('at least one match[] parameter is required');
        const range = rangeParams(p, LABELS_DEFAULT_SPAN_NS);
        const signal = signalFor(reply);
        const seen = new Map<string, Record<string, string>>();
        for (const m of matches) {
          const sel = scopedSelection(req, p, range, m);
          if (sel === undefined) continue;
          for (const s of await streamsByOutput(sel, signal)) {
            const labels = { container: s.container, namespace: s.namespace, node: s.node, pod: s.pod, stream: s.stream };
            seen.set(JSON.stringify(labels), labels);
          }
        }
        return success([...seen.keys()].sort().map((k) => seen.get(k)!));
      } catch (err) {
        return fail(reply, err);
      }
    },
  });
}
