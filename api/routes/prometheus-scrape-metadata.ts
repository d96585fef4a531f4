/**
 * Metric metadata as scraped (`# TYPE`, `# HELP`, `# UNIT`), in the shapes of Prometheus's
 * `/api/v1/metadata` (deduplicated per metric name) and `/api/v1/targets/metadata` (per target).
 * Grafana's metric browser shows these help texts and types. A process that does not scrape
 * answers as a Prometheus without targets does.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { labelsToRecord } from '../../model/labels.js';
import { matchLabels } from '../../model/matcher.js';
import type { TargetMetadata } from '../../collector/scrape/index.js';
import { prometheusError, statusForPrometheusError } from '../errors.js';
import { BadDataError } from '../prometheus/params.js';
import { limitParam, matcherSets, param, requestParams, type Params } from '../prometheus/request.js';

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof BadDataError) return reply.code(statusForPrometheusError('bad_data')).send(prometheusError('bad_data', err.message));
  throw err;
}

/** `limit_per_metric`: like `limit`, 0 or absent means none; negative values are rejected. */
function limitPerMetric(p: Params): number {
  const raw = param(p, 'limit_per_metric');
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new BadDataError(`invalid parameter "limit_per_metric": cannot parse "${raw}" to a valid limit`);
  return n;
}

export async function prometheusScrapeMetadataRoutes(app: FastifyInstance, opts: { metadata?: () => TargetMetadata[] }): Promise<void> {
  const all = opts.metadata ?? (() => []);

  app.get('/api/v1/metadata', async (req, reply) => {
    try {
      const p = requestParams(req);
      const limit = limitParam(p);
      const perMetric = limitPerMetric(p);
      const metric = param(p, 'metric');
      const byMetric = new Map<string, Map<string, { type: string; help: string; unit: string }>>();
      for (const m of all()) {
        if (metric !== undefined && metric !== '' && m.metric !== metric) continue;
        let entries = byMetric.get(m.metric);
        if (entries === undefined) {
          if (limit > 0 && byMetric.size >= limit) continue;
          entries = new Map();
          byMetric.set(m.metric, entries);
        }
        if (perMetric > 0 && entries.size >= perMetric) continue;
        // Identical metadata from several targets is listed once.
        entries.set(`${m.type}\u0000${m.help}\u0000${m.unit}`, { type: m.type, help: m.help, unit: m.unit });
      }
      const data: Record<string, Array<{ type: string; help: string; unit: string }>> = {};
      for (const name of [...byMetric.keys()].sort()) data[name] = [...byMetric.get(name)!.values()];
      return { status: 'success', data };
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get('/api/v1/targets/metadata', async (req, reply) => {
    try {
      const p = requestParams(req);
      const limit = limitParam(p);
      const metric = param(p, 'metric');
      const rawTarget = param(p, 'match_target');
      const targetMatchers =
        rawTarget === undefined || rawTarget === ''
          ? []
          : matcherSets(new Map([['match[]', [rawTarget]]]))[0]!;
      const data: Array<Record<string, unknown>> = [];
      for (const m of all()) {
        if (limit > 0 && data.length >= limit) break;
        if (!matchLabels(targetMatchers, m.target)) continue;
        if (metric !== undefined && metric !== '') {
          if (m.metric !== metric) continue;
          data.push({ target: labelsToRecord(m.target), type: m.type, help: m.help, unit: m.unit });
        } else {
          data.push({ target: labelsToRecord(m.target), metric: m.metric, type: m.type, help: m.help, unit: m.unit });
        }
      }
      return { status: 'success', data };
    } catch (err) {
      if (err instanceof BadDataError && err.message.startsWith('invalid parameter "match[]"')) {
        return fail(reply, new BadDataError(err.message.replace('"match[]"', '"match_target"')));
      }
      return fail(reply, err);
    }
  });
}
