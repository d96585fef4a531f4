/**
 * A live tail as Server-Sent Events: first the newest `historyLimit` matching lines since
 * `startNs` (oldest first), then every new matching line as the store receives it, polling
 * forward.
 *
 * Records reach the store a little after their timestamps (the collector batches, the indexer
 * commits), and not in timestamp order across nodes. A cursor that only moved forward would skip
 * a record stored after a newer one had been sent, so each poll reads again the last `LOOKBACK`
 * and skips the ids already sent. A record stored more than `LOOKBACK` after its timestamp is
 * not delivered live (search finds it).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { LogStore, StoredLogRecord } from '../../storage/logs/interface.js';
import { compareLogRecordKeys, type LogRecordKey } from '../../storage/logs/record-order.js';
import type { LogQueryPlan } from '../../storage/logs/logql/index.js';
import { recordJson } from './wire.js';
import { classifyLogQueryError } from './query.js';
import { nowNs } from './params.js';

const LOOKBACK_NS = 10_000_000_000n;
/** Records may carry timestamps a little ahead of this host's clock (node clock skew). */
const FUTURE_TOLERANCE_NS = 60_000_000_000n;
/** Most store rows one poll reads; a faster stream is followed over several polls. */
const MAX_ROWS_PER_POLL = 5000;
const PAGE = 1000;

export interface LogTailOptions {
  readonly store: LogStore;
  readonly plan: LogQueryPlan;
  readonly startNs: bigint;
  readonly historyLimit: number;
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly logger: FastifyBaseLogger;
}

export class LogTail {
  /** Ids sent (or dropped by the pipeline) within the lookback, with their times for pruning. */
  readonly #seen = new Map<string, bigint>();
  /** Records at or before this key were covered by the history; live ones must come after. */
  #floor: LogRecordKey | undefined;
  /** Where the next poll resumes when the last one hit its row cap. */
  #resume: string | undefined;

  constructor(private readonly opts: LogTailOptions) {}

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
      // An empty plan (nothing in scope) never touches the store: the stream only beats.
      if (this.opts.plan.selection !== undefined) {
        await this.#history(res, stop.signal);
        while (!stop.signal.aborted) {
          await sleep(this.opts.pollMs, stop.signal);
          if (stop.signal.aborted) break;
          await this.#poll(res, stop.signal);
        }
      } else {
        await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
      }
    } catch (err) {
      if (!stop.signal.aborted) {
        const f = classifyLogQueryError(err, 0);
        if (f === undefined) this.opts.logger.error({ err }, 'log tail failed');
        res.write(`event: error\ndata: ${JSON.stringify({ error: f?.message ?? 'internal error', code: f?.code ?? 'VIGIL_ERR_INTERNAL' })}\n\n`);
      }
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  }

  async #history(res: ServerResponse, signal: AbortSignal): Promise<void> {
    const sel = this.opts.plan.selection!;
    const endNs = nowNs() + FUTURE_TOLERANCE_NS;
    const found: StoredLogRecord[] = [];
    let cursor: string | undefined;
    if (this.opts.historyLimit > 0) {
      do {
        const page = await this.opts.store.search(
          { ...sel, startNs: this.opts.startNs, endNs, direction: 'backward', limit: PAGE, ...(cursor !== undefined && { cursor }) },
          signal,
        );
        for (const r of page.records) {
          this.#seen.set(r.id, r.timeNs);
          const out = this.opts.plan.pipeline.process(r);
          if (out === undefined) continue;
          found.push(r);
          if (found.length === this.opts.historyLimit) break;
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined && found.length < this.opts.historyLimit);
    }
    for (const r of found.reverse()) this.#send(res, r);
    // The history may have stopped at its limit: older lines must not come back as "live" ones.
    if (this.opts.historyLimit === 0) this.#floor = { timeNs: nowNs(), offset: 0, id: '' };
    else if (found.length === this.opts.historyLimit) this.#floor = found[0];
  }

  async #poll(res: ServerResponse, signal: AbortSignal): Promise<void> {
    const sel = this.opts.plan.selection!;
    const now = nowNs();
    const fromNs = now - LOOKBACK_NS > this.opts.startNs ? now - LOOKBACK_NS : this.opts.startNs;
    let cursor = this.#resume;
    this.#resume = undefined;
    let rows = 0;
    for (;;) {
      const page = await this.opts.store.search(
        { ...sel, startNs: fromNs, endNs: now + FUTURE_TOLERANCE_NS, direction: 'forward', limit: PAGE, ...(cursor !== undefined && { cursor }) },
        signal,
      );
      for (const r of page.records) {
        if (this.#seen.has(r.id) || (this.#floor !== undefined && compareLogRecordKeys(r, this.#floor) <= 0)) continue;
        this.#seen.set(r.id, r.timeNs);
        this.#send(res, r);
      }
      rows += page.records.length;
      if (page.nextCursor === undefined) break;
      cursor = page.nextCursor;
      if (rows >= MAX_ROWS_PER_POLL) {
        this.#resume = cursor;
        break;
      }
    }
    for (const [id, t] of this.#seen) if (t < fromNs) this.#seen.delete(id);
  }

  #send(res: ServerResponse, r: StoredLogRecord): void {
    const out = this.opts.plan.pipeline.process(r);
    if (out === undefined) return;
    res.write(`event: record\nid: ${r.id}\ndata: ${JSON.stringify(recordJson(r, out.line, out.labels))}\n\n`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
