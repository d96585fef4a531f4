/**
 * Loki's live tail, `GET /loki/api/v1/tail` over a WebSocket, as Grafana's Loki data source and
 * `logcli --tail` use it. Parameters are Loki's: `query`, `delay_for` (whole seconds, 0–5),
 * `limit` (history lines, default 100), `start` (default an hour ago). Each text message is
 * `{"streams":[{"stream":{…},"values":[["<ns>","<line>"]]}]}` with at most 100 lines, oldest first:
 * first the history since `start`, then lines as the store receives them (`LogTailPoller`).
 *
 * Errors follow Loki: a bad request (unparsable LogQL, bad parameter, a query outside the limits)
 * is refused before the upgrade with HTTP 400 and the message as plain text; a failure after the
 * upgrade (the store) closes the socket with code 1011 and the message as the close reason.
 * The query is planned within the request's log scope before the upgrade, as on every endpoint.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LogStore } from '../../storage/logs/interface.js';
import { param, requestParams } from '../prometheus/request.js';
import { LogRequestError, nowNs, parseCountParam, parseLogTimeParam } from '../logs/params.js';
import { classifyLogQueryError, LOG_LIMITS, parseLogQueryParam, planScoped, type LogHit } from '../logs/query.js';
import { LogTailPoller } from '../logs/tail-poller.js';

export interface LokiTailOptions {
  readonly store: () => LogStore;
  readonly timeoutMs: () => number;
  /** How often the tail asks the store for new records. Default 500 ms. */
  readonly tailPollMs?: number;
  /**
   * How often the server pings the client; a client that has not answered the previous ping by
   * then is gone (a half-open TCP connection) and is dropped. Default 15 s.
   */
  readonly tailHeartbeatMs?: number;
}

const SECOND_NS = 1_000_000_000n;
const HOUR_NS = 3600n * SECOND_NS;
/** Loki's `maxDelayForInTailing`. */
const MAX_DELAY_FOR_S = 5;
/** Loki's `maxEntriesPerTailResponse`. */
const MAX_LINES_PER_MESSAGE = 100;
/** Loki's `maxDroppedEntriesPerTailResponse`: past it, drops are no longer itemised. */
const MAX_DROPPED_PER_MESSAGE = 1000;
/**
 * Bytes the socket may hold unsent before lines are dropped rather than queued: a client that
 * reads slower than its streams write must not grow this process's memory without bound. Loki
 * drops when its ten-message buffer is full; here it is bytes.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;
const WS_OPEN = 1;
/** RFC 6455 close codes. */
const CLOSE_INTERNAL_ERROR = 1011;

/** The part of a `ws` WebSocket the tail uses. */
export interface TailSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'close' | 'pong', listener: () => void): unknown;
}

export interface LokiTailStream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

export interface LokiDroppedEntry {
  labels: Record<string, string>;
  timestamp: string;
}

export interface LokiTailMessage {
  streams: LokiTailStream[];
  /** Present only when lines were dropped since the previous message, as Loki writes it. */
  dropped_entries?: LokiDroppedEntry[];
}

/**
 * Frames lines into Loki tail messages and remembers the lines a slow client could not be sent,
 * so the next message reports them in `dropped_entries` (the client knows what it missed).
 */
export class LokiTailFramer {
  #dropped: LokiDroppedEntry[] = [];

  /**
   * One message with `hits` in order. Consecutive lines with the same labels share one stream
   * entry; the order across streams is kept, so a client reading in order shows time order.
   */
  message(hits: readonly LogHit[]): LokiTailMessage {
    const streams: LokiTailStream[] = [];
    let lastKey: string | undefined;
    for (const h of hits) {
      const key = labelsKey(h.labels);
      if (key !== lastKey) {
        streams.push({ stream: { ...h.labels }, values: [] });
        lastKey = key;
      }
      streams[streams.length - 1]!.values.push([h.record.timeNs.toString(), h.line]);
    }
    const msg: LokiTailMessage = { streams };
    if (this.#dropped.length > 0) {
      msg.dropped_entries = this.#dropped;
      this.#dropped = [];
    }
    return msg;
  }

  /** Notes lines not sent; the next message lists them (up to Loki's 1000). */
  drop(hits: readonly LogHit[]): void {
    for (const h of hits) {
      if (this.#dropped.length >= MAX_DROPPED_PER_MESSAGE) return;
      this.#dropped.push({ labels: { ...h.labels }, timestamp: h.record.timeNs.toString() });
    }
  }
}

function labelsKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `delay_for` as Loki reads it: whole seconds, at most 5. */
export function parseDelayFor(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value)) throw new LogRequestError(`invalid parameter "delay_for": ${JSON.stringify(value.slice(0, 32))} is not a whole number of seconds`);
  const n = Number(value);
  if (n > MAX_DELAY_FOR_S) throw new LogRequestError(`delay_for can't be greater than ${MAX_DELAY_FOR_S}`);
  return n;
}

/** Cuts a close reason to what a close frame can carry, on a character boundary. */
export function closeReason(message: string): string {
  if (Buffer.byteLength(message) <= MAX_CLOSE_REASON_BYTES) return message;
  let out = '';
  let bytes = 0;
  for (const ch of message) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > MAX_CLOSE_REASON_BYTES - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}

/**
 * Runs one tail on an open socket until either side closes it. The poller stops (no timer, no
 * store read left) as soon as the socket closes.
 */
export async function runLokiTail(socket: TailSocket, poller: LogTailPoller, opts: { heartbeatMs: number; logger: FastifyBaseLogger }): Promise<void> {
  const stop = new AbortController();
  socket.on('close', () => stop.abort());
  if (socket.readyState !== WS_OPEN) return;
  let answered = true;
  socket.on('pong', () => (answered = true));
  const heartbeat = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, opts.heartbeatMs);
  const framer = new LokiTailFramer();
  const deliver = (hits: readonly LogHit[]) => {
    for (let i = 0; i < hits.length; i += MAX_LINES_PER_MESSAGE) {
      const chunk = hits.slice(i, i + MAX_LINES_PER_MESSAGE);
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) framer.drop(chunk);
      else socket.send(JSON.stringify(framer.message(chunk)));
    }
  };
  try {
    await poller.run(deliver, stop.signal);
  } catch (err) {
    const f = classifyLogQueryError(err, 0);
    if (f === undefined) opts.logger.error({ err }, 'Loki tail failed');
    if (socket.readyState === WS_OPEN) socket.close(CLOSE_INTERNAL_ERROR, closeReason(f?.message ?? 'internal error'));
  } finally {
    clearInterval(heartbeat);
    stop.abort();
  }
}

/** The tail route; the app registers `@fastify/websocket` in this plugin's context only. */
export async function lokiTailRoutes(app: FastifyInstance, opts: LokiTailOptions): Promise<void> {
  // What the pre-upgrade check planned, for the WebSocket handler of the same request.
  const prepared = new WeakMap<FastifyRequest, LogTailPoller>();

  function prepare(req: FastifyRequest): LogTailPoller {
    const p = requestParams(req);
    const query = parseLogQueryParam(param(p, 'query'));
    const delayFor = parseDelayFor(param(p, 'delay_for'));
    const historyLimit = parseCountParam(param(p, 'limit'), 'limit', 100, LOG_LIMITS.maxLines);
    const now = nowNs();
    const startNs = parseLogTimeParam(param(p, 'start'), 'start', now - HOUR_NS);
    const plan = planScoped(query, { startNs, endNs: now }, req.logScope);
    return new LogTailPoller({
      store: opts.store(),
      plan,
      startNs,
      historyLimit,
      pollMs: opts.tailPollMs ?? 500,
      delayNs: BigInt(delayFor) * SECOND_NS,
    });
  }

  app.route({
    method: 'GET',
    url: '/loki/api/v1/tail',
    // Before the upgrade, so a bad request is an HTTP 400 with the message, as Loki answers.
    preValidation: async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        prepared.set(req, prepare(req));
      } catch (err) {
        const f = classifyLogQueryError(err, opts.timeoutMs());
        if (f === undefined) throw err;
        return reply.code(f.status).type('text/plain; charset=utf-8').send(f.message);
      }
    },
    handler: async (_req, reply) =>
      reply
        .code(400)
        .type('text/plain; charset=utf-8')
        .send('the Loki tail is a WebSocket: connect with "Upgrade: websocket" (the Server-Sent Events tail is /api/vigil/v1/logs/tail)'),
    wsHandler: async (socket, req) => {
      const poller = prepared.get(req)!;
      prepared.delete(req);
      await runLokiTail(socket as TailSocket, poller, { heartbeatMs: opts.tailHeartbeatMs ?? 15_000, logger: req.log });
    },
  });
}
