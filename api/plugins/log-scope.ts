/**
 * The log scope of a request: the namespaces it may read, or `'all'`. One `onRequest` hook sets
 * it on every request, so a log endpoint never runs without one; each endpoint adds it to its
 * query plan (`restrictToNamespaces`), never filtering results afterwards.
 *
 * Until API tokens exist every request may read everything. The authentication work replaces the
 * resolver with one that reads the token's scope; tests inject one to act as a scoped caller.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export type LogScope = readonly string[] | 'all';

export type LogScopeResolver = (req: FastifyRequest) => LogScope | Promise<LogScope>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Namespaces this request may read logs of; set by the log-scope hook before any handler. */
    logScope: LogScope;
  }
}

export const logScope = fp(
  async (app: FastifyInstance, opts: { resolve?: LogScopeResolver }) => {
    const resolve: LogScopeResolver = opts.resolve ?? (() => 'all');
    // No default scope: a handler reached without the hook fails instead of reading everything.
    app.decorateRequest('logScope', null as never);
    app.addHook('onRequest', async (req) => {
      const scope = await resolve(req);
      req.logScope = scope === 'all' ? 'all' : Object.freeze([...scope]);
    });
  },
  { name: 'vigil-log-scope', fastify: '5.x' },
);
