/**
 * The polling behind every live tail (the Vigil Server-Sent Events tail and Loki's WebSocket
 * tail): first the newest `historyLimit` matching lines since `startNs` (oldest first), then
 * every new matching line as the store receives it, polling forward. Transports only frame what
 * it delivers; the query plan, already restricted to the caller's scope, is all it reads.
 *
 * Records reach the store a little after their timestamps (the collector batches, the indexer
 * commits), and not in timestamp order across nodes. A cursor that only moved forward would skip
 * a record stored after a newer one had been sent, so each poll reads again the last `LOOKBACK`
 * and skips the ids already sent. A record stored more than `LOOKBACK` after its timestamp is
 * not delivered live (search finds it).
 */
import type { LogStore } from '../../storage/logs/interface.js';
import { compareLogRecordKeys, type LogRecordKey } from '../../storage/logs/record-order.js';
import type { LogQueryPlan } from '../../storage/logs/logql/index.js';
import type { LogHit } from './query.js';
import { nowNs } from './params.js';

const LOOKBACK_NS = 10_000_000_000n;
/** Records may carry timestamps a little ahead of this host's clock (node clock skew). */
const FUTURE_TOLERANCE_NS = 60_000_000_000n;
/** Most store rows one poll reads; a faster stream is followed over several polls. */
const MAX_ROWS_PER_POLL = 5000;
const PAGE = 1000;

export interface LogTailPollerOptions {
  readonly store: LogStore;
  /** Planned within the caller's scope; no selection means nothing can match. */
  readonly plan: LogQueryPlan;
  readonly startNs: bigint;
  readonly historyLimit: number;
  readonly pollMs: number;
  /**
   * Live lines are held until their timestamp is this far in the past, so lines stored late
   * (other nodes, batching) still go out in time order; Loki's `delay_for`. With none, a poll
   * delivers everything up to now plus the clock-skew tolerance.
   */
  readonly delayNs?: bigint;
}

/** Receives one batch of lines, oldest first: the history, then each poll's new lines. */
export type LogTailDelivery = (hits: readonly LogHit[]) => void;

export class LogTailPoller {
  /** Ids sent (or dropped by the pipeline) within the lookback, with their times for pruning. */
  readonly #seen = new Map<string, bigint>();
  /** Records at or before this key were covered by the history; live ones must come after. */
  #floor: LogRecordKey | undefined;
  /** Where the next poll resumes when the last one hit its row cap. */
  #resume: string | undefined;

  constructor(private readonly opts: LogTailPollerOptions) {}

  /**
   * Delivers until `signal` aborts, then resolves. A store failure rejects (unless the signal
   * aborted meanwhile: then it resolves). No timer outlives the returned promise.
   */
  async run(deliver: LogTailDelivery, signal: AbortSignal): Promise<void> {
    // An empty plan (nothing in scope) never touches the store: the tail only waits.
    if (this.opts.plan.selection === undefined) {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return;
    }
    try {
      const history = await this.#history(signal);
      if (history.length > 0 && !signal.aborted) deliver(history);
      while (!signal.aborted) {
        await sleep(this.opts.pollMs, signal);
        if (signal.aborted) break;
        const fresh = await this.#poll(signal);
        if (fresh.length > 0 && !signal.aborted) deliver(fresh);
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }

  /** The newest end a read may reach now: the delay holds back lines not yet old enough. */
  #endNs(now: bigint): bigint {
    const delay = this.opts.delayNs ?? 0n;
    return delay > 0n ? now - delay : now + FUTURE_TOLERANCE_NS;
  }

  async #history(signal: AbortSignal): Promise<LogHit[]> {
    const sel = this.opts.plan.selection!;
    const now = nowNs();
    const found: LogHit[] = [];
    let cursor: string | undefined;
    if (this.opts.historyLimit > 0) {
      do {
        const page = await this.opts.store.search(
          { ...sel, startNs: this.opts.startNs, endNs: this.#endNs(now), direction: 'backward', limit: PAGE, ...(cursor !== undefined && { cursor }) },
          signal,
        );
        for (const r of page.records) {
          this.#seen.set(r.id, r.timeNs);
          const out = this.opts.plan.pipeline.process(r);
          if (out === undefined) continue;
          found.push({ record: r, line: out.line, labels: out.labels });
          if (found.length === this.opts.historyLimit) break;
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined && found.length < this.opts.historyLimit);
    }
    found.reverse();
    // The history may have stopped at its limit: older lines must not come back as "live" ones.
    if (this.opts.historyLimit === 0) this.#floor = { timeNs: now, offset: 0, id: '' };
    else if (found.length === this.opts.historyLimit) this.#floor = found[0]!.record;
    return found;
  }

  async #poll(signal: AbortSignal): Promise<LogHit[]> {
    const sel = this.opts.plan.selection!;
    const now = nowNs();
    const fromNs = now - LOOKBACK_NS > this.opts.startNs ? now - LOOKBACK_NS : this.opts.startNs;
    const endNs = this.#endNs(now);
    const out: LogHit[] = [];
    if (endNs <= fromNs) return out;
    let cursor = this.#resume;
    this.#resume = undefined;
    let rows = 0;
    for (;;) {
      const page = await this.opts.store.search(
        { ...sel, startNs: fromNs, endNs, direction: 'forward', limit: PAGE, ...(cursor !== undefined && { cursor }) },
        signal,
      );
      for (const r of page.records) {
        if (this.#seen.has(r.id) || (this.#floor !== undefined && compareLogRecordKeys(r, this.#floor) <= 0)) continue;
        this.#seen.set(r.id, r.timeNs);
        const res = this.opts.plan.pipeline.process(r);
        if (res !== undefined) out.push({ record: r, line: res.line, labels: res.labels });
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
    return out;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
