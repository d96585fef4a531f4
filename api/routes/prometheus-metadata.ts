/**
 * Series and label discovery of the Prometheus HTTP API: `/api/v1/series`, `/api/v1/labels`,
 * `/api/v1/label/<name>/values`, read through the `Queryable` seam. Grafana's query editor,
 * promtool and autoscaler adapters use these to find metrics.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { labelsCompare, labelsKey, labelsToRecord, type Labels } from '../../model/labels.js';
import type { Queryable } from '../../storage/metrics/interface.js';
import { prometheusError, statusForPrometheusError } from '../errors.js';
import { BadDataError } from '../prometheus/params.js';
import { acceptForms, limitParam, matcherSets, requestParams, timeBounds } from '../prometheus/request.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof BadDataError) return reply.code(statusForPrometheusError('bad_data')).send(prometheusError('bad_data', err.message));
  throw err;
}

function applyLimit<T>(items: T[], limit: number): { data: T[]; warnings?: string[] } {
  if (limit > 0 && items.length > limit) return { data: items.slice(0, limit), warnings: ['results truncated due to limit'] };
  return { data: items };
}

export async function prometheusMetadataRoutes(app: FastifyInstance, opts: { queryable: Queryable }): Promise<void> {
  acceptForms(app);
  const { queryable } = opts;

  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/series',
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const sets = matcherSets(p);
        if (sets.length === 0) throw new BadDataError('no match[] parameter provided');
        const { start, end } = timeBounds(p);
        const limit = limitParam(p);
        const q = await queryable.querier(start, end);
        try {
          const seen = new Map<string, Labels>();
          for (const ms of sets) {
            for (const s of await q.select(ms, { start, end, func: 'series' })) seen.set(labelsKey(s.labels), s.labels);
          }
          const sorted = [...seen.values()].sort(labelsCompare).map(labelsToRecord);
          return { status: 'success', ...applyLimit(sorted, limit) };
        } finally {
          await q.close();
        }
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  app.route({
    method: ['GET', 'POST'],
    url: '/api/v1/labels',
    handler: async (req, reply) => {
      try {
        const p = requestParams(req);
        const sets = matcherSets(p);
        const { start, end } = timeBounds(p);
        const limit = limitParam(p);
        const q = await queryable.querier(start, end);
        try {
          const names = new Set<string>();
          if (sets.length === 0) for (const n of await q.labelNames()) names.add(n);
          for (const ms of sets) for (const n of await q.labelNames(ms)) names.add(n);
          return { status: 'success', ...applyLimit([...names].sort(), limit) };
        } finally {
          await q.close();
        }
      } catch (err) {
        return fail(reply, err);
      }
    },
  });

  app.get<{ Params: { name: string } }>('/api/v1/label/:name/values', async (req, reply) => {
    try {
      const escaped = req.params.name.startsWith('U__');
      const name = escaped ? decodeUtf8LabelName(req.params.name) : req.params.name;
      if (!escaped && !LABEL_NAME.test(name)) throw new BadDataError(`invalid label name: "${name}"`);
      const p = requestParams(req);
      const sets = matcherSets(p);
      const { start, end } = timeBounds(p);
      const limit = limitParam(p);
      const q = await queryable.querier(start, end);
      try {
        const values = new Set<string>();
        if (sets.length === 0) for (const v of await q.labelValues(name)) values.add(v);
        for (const ms of sets) for (const v of await q.labelValues(name, ms)) values.add(v);
        return { status: 'success', ...applyLimit([...values].sort(), limit) };
      } finally {
        await q.close();
      }
    } catch (err) {
      return fail(reply, err);
    }
  });

  // Exemplars are not stored: answer as a Prometheus with none would.
  app.route({ method: ['GET', 'POST'], url: '/api/v1/query_exemplars', handler: async () => ({ status: 'success', data: [] }) });
}

/**
 * Prometheus 3 escapes UTF-8 label names in this path as `U__` + underscores-escaped text
 * (`U__my_2e_label` for `my.label`).
 */
function decodeUtf8LabelName(escaped: string): string {
  const body = escaped.slice(3);
  return body.replace(/_([0-9a-fA-F]+)_|__/g, (m, hex: string | undefined) => (hex ? String.fromCodePoint(parseInt(hex, 16)) : '_'));
}
