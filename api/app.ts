/**
 * The HTTP application: one fastify instance serving every API family on one port. `buildApp`
 * only assembles routes; `server.ts` binds it to a socket, so tests use `app.inject()`.
 */
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { AppContext } from './context.js';
import { httpMetrics } from './plugins/http-metrics.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { prometheusStatusRoutes } from './routes/prometheus-status.js';
import { vigilStatusRoutes } from './routes/vigil-status.js';
import { uiRoutes } from './routes/ui.js';
import { ingestCounters, ingestRoutes } from './routes/ingest.js';
import { prometheusMetadataRoutes } from './routes/prometheus-metadata.js';
import { prometheusParserRoutes, prometheusQueryRoutes } from './routes/prometheus-query.js';
import { prometheusTargetsRoutes } from './routes/prometheus-targets.js';
import { prometheusScrapeMetadataRoutes } from './routes/prometheus-scrape-metadata.js';
import { prometheusError, prometheusErrorTypeForStatus } from './errors.js';
import { logScope, type LogScopeResolver } from './plugins/log-scope.js';
import { logRoutes } from './routes/logs.js';
import { lokiRoutes } from './routes/loki.js';
import { lokiTailRoutes } from './routes/loki-tail.js';
import { parseDuration } from '../model/duration.js';

export interface AppOptions {
  readonly bodyLimit: number;
  /**
   * The namespaces a request may read logs of. Until API tokens exist every request reads
   * everything; tests inject a resolver to act as a scoped caller.
   */
  readonly resolveLogScope?: LogScopeResolver;
}

export async function buildApp(ctx: AppContext, opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'api' }) as FastifyBaseLogger,
    // Per-request lines would drown the log; request counts and latency are metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimit,
    // Keep-alive sockets must not hold shutdown hostage.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });
  await app.register(httpMetrics, { registry: ctx.registry });
  await app.register(logScope, opts.resolveLogScope ? { resolve: opts.resolveLogScope } : {});
  if (ctx.logs) {
    // With a WebSocket endpoint the server takes every upgrade request off the HTTP parser; one
    // for another route is answered as plain HTTP on a socket no parser reads any more, which
    // would linger (and hold shutdown) unless closed once answered.
    app.addHook('onResponse', async (req) => {
      // Node's parser sets `upgrade` on such requests (@types/node does not declare it).
      if ((req.raw as { upgrade?: boolean }).upgrade === true) req.raw.socket.destroy();
    });
  }

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const message = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body larger than ${opts.bodyLimit} bytes` : err.message;
    if (req.url.startsWith('/api/v1/')) {
      return reply.code(status).send(prometheusError(prometheusErrorTypeForStatus(status), message));
    }
    return reply.code(status).send({ error: message, code: err.code ?? 'VIGIL_ERR_INTERNAL' });
  });
  app.setNotFoundHandler((req, reply) => {
    const message = `no such endpoint: ${req.method} ${req.url.split('?')[0]}`;
    if (req.url.startsWith('/api/v1/')) return reply.code(404).send(prometheusError('not_found', message));
    return reply.code(404).send({ error: message, code: 'VIGIL_ERR_NOT_FOUND' });
  });

  await app.register(healthRoutes, ctx);
  await app.register(metricsRoutes, ctx);
  await app.register(prometheusStatusRoutes, ctx);
  await app.register(vigilStatusRoutes, ctx);
  if (ctx.serveUi) await app.register(uiRoutes);
  await app.register(prometheusParserRoutes);
  if (ctx.promql) await app.register(prometheusQueryRoutes, { backend: ctx.promql });
  if (ctx.targets) await app.register(prometheusTargetsRoutes, { targets: ctx.targets });
  await app.register(prometheusScrapeMetadataRoutes, { ...(ctx.metadata && { metadata: ctx.metadata }) });
  if (ctx.metrics) {
    await app.register(ingestRoutes, { appendable: ctx.metrics.appendable, flush: ctx.metrics.flush, counters: ingestCounters(ctx) });
    await app.register(prometheusMetadataRoutes, { queryable: ctx.metrics.queryable });
  }
  if (ctx.logs) {
    const logs = { store: ctx.logs.store, timeoutMs: () => parseDuration(ctx.config().config.query.timeout) };
    await app.register(logRoutes, logs);
    await app.register(lokiRoutes, logs);
    // WebSocket support only in the context of the one WebSocket endpoint, Loki's tail: the
    // plugin would otherwise upgrade requests to every route of its context only to close them.
    await app.register(async (tail) => {
      await tail.register(websocket, {
        options: { maxPayload: 64 * 1024 },
        // A client that vanishes mid-stream is routine for a tail, not an application error.
        errorHandler: (err, socket, req) => {
          req.log.debug({ err }, 'WebSocket error');
          socket.terminate();
        },
      });
      await tail.register(lokiTailRoutes, logs);
    });
  }
  return app;
}
