/**
 * The Vigil live tail as Server-Sent Events: an `event: record` for every line the poller
 * (`tail-poller.ts`) delivers, a comment now and then so proxies keep the stream open, and
 * `event: error` when the store fails.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { recordJson } from './wire.js';
import { classifyLogQueryError } from './query.js';
import { LogTailPoller, type LogTailPollerOptions } from './tail-poller.js';

export interface LogTailOptions extends LogTailPollerOptions {
  readonly heartbeatMs: number;
  readonly logger: FastifyBaseLogger;
}

export class LogTail {
  readonly #poller: LogTailPoller;

  constructor(private readonly opts: LogTailOptions) {
    this.#poller = new LogTailPoller(opts);
  }

  /** Writes the stream to `res` until the client goes away. */
  async run(res: ServerResponse): Promise<void> {
    const stop = new AbortController();
    res.once('close', () => stop.abort());
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // nginx buffers responses unless told otherwise.
      'x-accel-buffering': 'no',
    });
    res.write(': tail started\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), this.opts.heartbeatMs);
    try {
      await this.#poller.run((hits) => {
        for (const h of hits) res.write(`event: record\nid: ${h.record.id}\ndata: ${JSON.stringify(recordJson(h.record, h.line, h.labels))}\n\n`);
      }, stop.signal);
    } catch (err) {
      const f = classifyLogQueryError(err, 0);
      if (f === undefined) this.opts.logger.error({ err }, 'log tail failed');
      res.write(`event: error\ndata: ${JSON.stringify({ error: f?.message ?? 'internal error', code: f?.code ?? 'VIGIL_ERR_INTERNAL' })}\n\n`);
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  }
}
