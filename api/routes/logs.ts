/**
 * The Vigil log API under `/api/vigil/v1/logs`: search with cursors, volume, context, live tail
 * (Server-Sent Events), export, label and stream discovery. Every endpoint plans its store work
 * within the request's log scope (`plugins/log-scope.ts`); see docs/logs-api.md.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { formatTimeNs } from '../../model/logs.js';
import type { LogSelection, LogStore, LogVolumeBucket } from '../../storage/logs/interface.js';
import { planLogQuery, restrictPlan, restrictToNamespaces, storeReader, type LogQueryPlan } from '../../storage/logs/logql/index.js';
import { LogRequestError, nowNs, parseCountParam, parseDirectionParam, parseDurationParamNs, parseLogTimeParam } from '../logs/params.js';
import {
  classifyLogQueryError,
  LOG_LIMITS,
  parseLogQueryParam,
  planScoped,
  querySignal,
  searchThroughPipeline,
  type LogHit,
} from '../logs/query.js';
import { LogTail } from '../logs/tail.js';
import {
  ContextResponse,
  labelTree,
  LabelsResponse,
  recordJson,
  SearchResponse,
  streamJson,
  StreamsResponse,
  VolumeResponse,
} from '../logs/wire.js';

export interface LogRoutesOptions {
  readonly store: () => LogStore;
  /** The query timeout (`query.timeout`), read per request so a reload applies. */
  readonly timeoutMs: () => number;
  /** How often a live tail asks the store for new records. Default 500 ms. */
  readonly tailPollMs?: number;
  /** How often a live tail sends a comment to keep proxies from closing an idle stream. Default 15 s. */
  readonly tailHeartbeatMs?: number;
}

const HOUR_NS = 3_600_000_000_000n;
const SECOND_NS = 1_000_000_000n;
const MAX_VOLUME_BUCKETS = 11_000;
const DEFAULT_VOLUME_BUCKETS = 100n;

const opt = (description: string) => Type.Optional(Type.String({ description }));
const QUERY = Type.String({ description: 'LogQL log query, e.g. {namespace="payments"} |= "timeout".' });
const START = opt('RFC 3339, Unix seconds or nanoseconds; default end − 1h.');
const END = opt('RFC 3339, Unix seconds or nanoseconds, exclusive; default now.');

const SearchQuery = Type.Object({
  query: QUERY,
  start: START,
  end: END,
  limit: opt(`Lines per page, default 100, at most ${LOG_LIMITS.maxLines}.`),
  direction: opt('backward (newest first, default) or forward.'),
  cursor: opt('nextCursor of the previous page.'),
});
const VolumeQuery = Type.Object({ query: QUERY, start: START, end: END, step: opt('Bucket width (15s, 1m, or seconds); default range / 100.') });
const ContextQuery = Type.Object({
  id: Type.String({ description: 'The anchor record id.' }),
  before: opt(`Lines before, default 10, at most ${LOG_LIMITS.maxContextLines}.`),
  after: opt(`Lines after, default 10, at most ${LOG_LIMITS.maxContextLines}.`),
});
const TailQuery = Type.Object({
  query: QUERY,
  start: opt('Send matching lines from this time first (at most `limit`, newest); default now.'),
  limit: opt(`Most lines of history sent before the live ones, default 100, at most ${LOG_LIMITS.maxLines}.`),
});
const ExportQuery = Type.Object({ query: QUERY, start: START, end: END, format: opt('ndjson (default) or text.') });
const LabelsQuery = Type.Object({ start: opt('Default: the oldest record kept.'), end: END });
const StreamsQuery = Type.Object({ query: QUERY, start: START, end: END });
const ErrorBody = Type.Object({ error: Type.String(), code: Type.String() });

/** `start`/`end`; without `start`, `defaultSpanNs` before the end, or (null) the oldest record kept. */
function timeRange(q: { start?: string | undefined; end?: string | undefined }, defaultSpanNs: bigint | null = HOUR_NS) {
  const endNs = parseLogTimeParam(q.end, 'end', nowNs());
  const startNs = parseLogTimeParam(q.start, 'start', defaultSpanNs === null ? 0n : endNs - defaultSpanNs);
  if (endNs < startNs) throw new LogRequestError('invalid parameter "end": end must not be before start');
  return { startNs, endNs };
}

function hitJson(h: LogHit) {
  return recordJson(h.record, h.line, h.labels);
}

export async function logRoutes(parent: FastifyInstance, opts: LogRoutesOptions): Promise<void> {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const prefix = '/api/vigil/v1/logs';

  function fail(reply: FastifyReply, err: unknown): FastifyReply {
    const f = classifyLogQueryError(err, opts.timeoutMs());
    if (f === undefined) throw err;
    return reply.code(f.status).send({ error: f.message, code: f.code });
  }
  const signalFor = (reply: FastifyReply) => querySignal(reply.raw, opts.timeoutMs());

  app.get(
    `${prefix}/search`,
    { schema: { querystring: SearchQuery, response: { 200: SearchResponse, '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        const q = req.query;
        const query = parseLogQueryParam(q.query);
        const plan = planScoped(query, timeRange(q), req.logScope);
        const res = await searchThroughPipeline(opts.store(), plan, {
          direction: parseDirectionParam(q.direction),
          limit: parseCountParam(q.limit, 'limit', 100, LOG_LIMITS.maxLines),
          ...(q.cursor !== undefined && q.cursor !== '' && { cursor: q.cursor }),
          signal: signalFor(reply),
        });
        return { records: res.hits.map(hitJson), ...(res.nextCursor !== undefined && { nextCursor: res.nextCursor }) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get(
    `${prefix}/volume`,
    { schema: { querystring: VolumeQuery, response: { 200: VolumeResponse, '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        const q = req.query;
        const range = timeRange(q);
        const span = range.endNs - range.startNs;
        let stepNs: bigint;
        if (q.step !== undefined && q.step !== '') stepNs = parseDurationParamNs(q.step, 'step');
        else {
          // About a hundred bars, in whole seconds.
          const s = (span + DEFAULT_VOLUME_BUCKETS - 1n) / DEFAULT_VOLUME_BUCKETS;
          stepNs = s <= SECOND_NS ? SECOND_NS : ((s + SECOND_NS - 1n) / SECOND_NS) * SECOND_NS;
        }
        if (span / stepNs > BigInt(MAX_VOLUME_BUCKETS)) {
          throw new LogRequestError(`invalid parameter "step": more than ${MAX_VOLUME_BUCKETS} buckets; increase the step`);
        }
        const plan = planScoped(parseLogQueryParam(q.query), range, req.logScope);
        const buckets = await volume(opts.store(), plan, stepNs, signalFor(reply));
        return {
          stepNs: stepNs.toString(),
          buckets: buckets.map((b) => ({ start: formatTimeNs(b.startNs), startNs: b.startNs.toString(), count: b.count })),
        };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get(
    `${prefix}/context`,
    { schema: { querystring: ContextQuery, response: { 200: ContextResponse, '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        const q = req.query;
        const before = parseCountParam(q.before, 'before', 10, LOG_LIMITS.maxContextLines);
        const after = parseCountParam(q.after, 'after', 10, LOG_LIMITS.maxContextLines);
        const signal = signalFor(reply);
        const store = opts.store();
        // The anchor alone first: its namespace decides whether the caller may see any of it, so
        // nothing around an anchor outside the scope is read.
        const { anchor } = await store.context({ id: q.id, before: 0, after: 0 }, signal);
        const scope = req.logScope;
        if (anchor === undefined || (scope !== 'all' && !scope.includes(anchor.namespace))) {
          return reply.code(404).send({ error: `no log record with id ${JSON.stringify(q.id.slice(0, 64))}`, code: 'VIGIL_ERR_NOT_FOUND' });
        }
        const res = before + after === 0 ? { anchor, before: [], after: [] } : await store.context({ id: q.id, before, after }, signal);
        if (res.anchor === undefined) {
          return reply.code(404).send({ error: `no log record with id ${JSON.stringify(q.id.slice(0, 64))}`, code: 'VIGIL_ERR_NOT_FOUND' });
        }
        return { anchor: recordJson(res.anchor), before: res.before.map((r) => recordJson(r)), after: res.after.map((r) => recordJson(r)) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get(`${prefix}/tail`, { schema: { querystring: TailQuery } }, async (req, reply) => {
    let tail: LogTail;
    try {
      const q = req.query;
      const query = parseLogQueryParam(q.query);
      const now = nowNs();
      const startNs = parseLogTimeParam(q.start, 'start', now);
      if (startNs > now) throw new LogRequestError('invalid parameter "start": must not be in the future');
      const plan = planScoped(query, { startNs, endNs: now }, req.logScope);
      tail = new LogTail({
        store: opts.store(),
        plan,
        startNs,
        historyLimit: parseCountParam(q.limit, 'limit', 100, LOG_LIMITS.maxLines),
        pollMs: opts.tailPollMs ?? 500,
        heartbeatMs: opts.tailHeartbeatMs ?? 15_000,
        logger: req.log,
      });
    } catch (err) {
      return fail(reply, err);
    }
    reply.hijack();
    await tail.run(reply.raw);
  });

  app.get(`${prefix}/export`, { schema: { querystring: ExportQuery } }, async (req, reply) => {
    try {
      const q = req.query;
      const format = q.format === undefined || q.format === '' ? 'ndjson' : q.format;
      if (format !== 'ndjson' && format !== 'text') throw new LogRequestError(`invalid parameter "format": ${JSON.stringify(format.slice(0, 32))}, expected ndjson or text`);
      const range = timeRange(q);
      const plan = planScoped(parseLogQueryParam(q.query), range, req.logScope);
      const signal = signalFor(reply);
      const store = opts.store();
      // The first page before any byte is sent, so store errors still answer with a status.
      const first = await searchThroughPipeline(store, plan, { direction: 'forward', limit: LOG_LIMITS.maxLines, signal });
      const encode =
        format === 'ndjson'
          ? (h: LogHit) => `${JSON.stringify(hitJson(h))}\n`
          : (h: LogHit) => `${formatTimeNs(h.record.timeNs)} ${h.record.namespace}/${h.record.pod}/${h.record.container} ${h.line}\n`;
      async function* lines(): AsyncGenerator<string> {
        let page = first;
        for (;;) {
          if (page.hits.length > 0) yield page.hits.map(encode).join('');
          if (page.nextCursor === undefined) return;
          page = await searchThroughPipeline(store, plan, { direction: 'forward', limit: LOG_LIMITS.maxLines, cursor: page.nextCursor, signal });
        }
      }
      const name = `vigil-logs-${formatTimeNs(range.startNs).slice(0, 19).replace(/:/g, '')}.${format === 'ndjson' ? 'ndjson' : 'log'}`;
      return reply
        .header('content-type', format === 'ndjson' ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(Readable.from(lines()));
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get(
    `${prefix}/labels`,
    { schema: { querystring: LabelsQuery, response: { 200: LabelsResponse, '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        const { startNs, endNs } = timeRange(req.query, null);
        const selection = restrictToNamespaces({ matchers: [], lineFilters: [], startNs, endNs }, req.logScope);
        if (selection === undefined) return { namespaces: [] };
        return labelTree(await opts.store().streams(selection, signalFor(reply)));
      } catch (err) {
        return fail(reply, err);
      }
    },
  );

  app.get(
    `${prefix}/streams`,
    { schema: { querystring: StreamsQuery, response: { 200: StreamsResponse, '4xx': ErrorBody } } },
    async (req, reply) => {
      try {
        const q = req.query;
        // Streams read no lines: the selector and label filters narrow, line filters do not apply.
        const plan = restrictPlan(planLogQuery(parseLogQueryParam(q.query), timeRange(q)), req.logScope);
        if (plan.selection === undefined) return { streams: [] };
        const streams = await opts.store().streams(plan.selection, signalFor(reply));
        return { streams: streams.map(streamJson) };
      } catch (err) {
        return fail(reply, err);
      }
    },
  );
}

/**
 * Counts per step. Without a residual pipeline the store counts (from its indexes); with one,
 * every record goes through it, as a `count_over_time` would.
 */
async function volume(store: LogStore, plan: LogQueryPlan, stepNs: bigint, signal: AbortSignal): Promise<LogVolumeBucket[]> {
  const selection: LogSelection | undefined = plan.selection;
  if (selection === undefined) return [];
  if (plan.pipeline.isEmpty) return store.volume(selection, stepNs, signal);
  const counts = new Map<bigint, number>();
  for await (const batch of storeReader(store)(selection, signal)) {
    for (const r of batch) {
      if (plan.pipeline.process(r) === undefined) continue;
      const q = r.timeNs / stepNs;
      const start = (r.timeNs % stepNs < 0n ? q - 1n : q) * stepNs;
      counts.set(start, (counts.get(start) ?? 0) + 1);
    }
  }
  return [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([startNs, count]) => ({ startNs, count }));
}
