/**
 * PromQL endpoints of the Prometheus HTTP API: `/api/v1/query`, `/api/v1/query_range` (GET and
 * POST form), and the parser-only `/api/v1/format_query` and `/api/v1/parse_query`.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ParseError, parseExpr, prettyExpr, type Expr } from '../../promql/parser/index.js';
import {
  QueryCanceledError,
  QueryExecutionError,
  QueryTimeoutError,
  QueryTypeError,
  StorageError,
  TooManySamplesError,
  type QueryOptions,
  type QueryResult,
} from '../../promql/engine/index.js';
import { prometheusError, statusForPrometheusError, type PrometheusErrorType } from '../errors.js';
import { BadDataError, checkRange, parseDurationParam, parseTimeParam } from '../prometheus/params.js';
import { querySuccessJson } from '../prometheus/result-json.js';
import { acceptForms, param, requestParams, type Params } from '../prometheus/request.js';
import { astToJson } from '../prometheus/ast-json.js';

function queryParam(p: Params): string {
  const q = param(p, 'query');
  if (q === undefined || q === '') throw new BadDataError('invalid parameter "query": unknown position: parse error: no expression found in input');
  return q;
}

function parseQuery(q: string) {
  try {
    return parseExpr(q);
  } catch (err) {
    if (err instanceof ParseError) throw new BadDataError(`invalid parameter "query": ${err.message}`);
    throw err;
  }
}

export function badData(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof BadDataError) return reply.code(400).send(prometheusError('bad_data', err.message));
  throw err;
}

export async function prometheusParserRoutes(app: FastifyInstance): Promise<void> {
  acceptForms(app);
  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/format_query',
    handler: async (req, reply) => {
      try {
        return { status: 'success', data: prettyExpr(parseQuery(queryParam(requestParams(req)))) };
      } catch (err) {
        return badData(reply, err);
      }
    },
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/parse_query',
    handler: async (req, reply) => {
      try {
        return { status: 'success', data: astToJson(parseQuery(queryParam(requestParams(req)))) };
      } catch (err) {
        return badData(reply, err);
      }
    },
  });
}

/** What the query endpoints need: the local engine over the TSDB, or a remote delegate. */
export interface PromQLBackend {
  instant(expr: Expr, tsMs: number, opts: QueryOptions): Promise<QueryResult>;
  range(expr: Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions): Promise<QueryResult>;
}

/** Maps engine errors to Prometheus's `errorType`s, once, as `returnAPIError` does. */
function queryError(reply: FastifyReply, err: unknown): FastifyReply {
  let type: PrometheusErrorType;
  if (err instanceof BadDataError || err instanceof QueryTypeError) type = 'bad_data';
  else if (err instanceof QueryTimeoutError) type = 'timeout';
  else if (err instanceof QueryCanceledError) type = 'canceled';
  else if (err instanceof TooManySamplesError || err instanceof QueryExecutionError) type = 'execution';
  else if (err instanceof StorageError) type = 'internal';
  else throw err;
  return reply.code(statusForPrometheusError(type)).send(prometheusError(type, (err as Error).message));
}

/** The JSON text of a successful query (see result-json.ts for why it is not built as objects). */
function success(reply: FastifyReply, result: QueryResult): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(querySuccessJson(result));
}

/**
 * Cancels the query when the client goes away before the answer is written, as Prometheus does
 * with the request context. (The request's own 'close' fires once its body is read, so the
 * response is what tells.)
 */
function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

function queryOptions(reply: FastifyReply, p: Params): QueryOptions {
  const t = param(p, 'timeout');
  return { signal: clientSignal(reply), ...(t !== undefined && t !== '' ? { timeoutMs: parseDurationParam(t, 'timeout') } : {}) };
}

export async function prometheusQueryRoutes(app: FastifyInstance, opts: { backend: PromQLBackend; now?: () => number }): Promise<void> {
  acceptForms(app);
  const now = opts.now ?? Date.now;
  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/query',
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const expr = parseQuery(queryParam(p));
        const t = param(p, 'time');
        const ts = t === undefined || t === '' ? now() : parseTimeParam(t, 'time');
        return success(reply, await opts.backend.instant(expr, ts, queryOptions(reply, p)));
      } catch (err) {
        return queryError(reply, err);
      }
    },
  });
  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/query_range',
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const start = parseTimeParam(param(p, 'start') ?? '', 'start');
        const end = parseTimeParam(param(p, 'end') ?? '', 'end');
        const step = parseDurationParam(param(p, 'step') ?? '', 'step');
        checkRange(start, end, step);
        const expr = parseQuery(queryParam(p));
        return success(reply, await opts.backend.range(expr, start, end, step, queryOptions(reply, p)));
      } catch (err) {
        return queryError(reply, err);
      }
    },
  });
}
