/**
 * The embedded path's sink: the tailer's batches go straight into a `LogStore`, and `write`
 * resolves once the store has committed them, so the tailer's checkpoint never runs ahead of
 * what is durable.
 *
 * Records the store refuses for good (too large, a timestamp it cannot file) are counted and
 * logged, then dropped: there is no dead-letter topic in embedded mode, and holding the batch
 * would stop the file behind them forever. A store that is only unavailable for now
 * (`LogUnavailableError`) fails the write, and the caller retries the same batch; appends are
 * idempotent, so whatever part of it was stored counts as duplicates then.
 *
 * The sink does not own the store: the search API reads the same one, and whoever made it
 * closes it.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { LogRecord } from '../../model/logs.js';
import type { Logger } from '../../util/logging.js';
import { LogUnavailableError, type LogSink, type LogStore } from './interface.js';

export interface StoreLogSinkOptions {
  readonly store: LogStore;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Rejected records logged one by one per batch; beyond that only their number. Default 10. */
  readonly rejectionsLoggedPerBatch?: number;
}

export class LogSinkClosedError extends Error {
  constructor(name: string) {
    super(`log sink ${name} is closed`);
    this.name = 'LogSinkClosedError';
  }
}

export class StoreLogSink implements LogSink {
  readonly name: string;
  readonly #store: LogStore;
  readonly #logger: Logger;
  readonly #rejectionsLogged: number;
  readonly #records: Counter<'outcome'>;
  readonly #failures: Counter<'reason'>;
  readonly #duration: Histogram;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: StoreLogSinkOptions) {
    this.#store = opts.store;
    this.name = `store:${opts.store.name}`;
    this.#logger = opts.logger.child({ component: 'log_store_sink' });
    this.#rejectionsLogged = opts.rejectionsLoggedPerBatch ?? 10;
    this.#records = new Counter({
      name: 'vigil_log_store_sink_records_total',
      help: 'Log records written to the log store, by outcome: stored, duplicate (already stored) or rejected (dropped).',
      labelNames: ['outcome'],
      registers: [opts.registry],
    });
    this.#failures = new Counter({
      name: 'vigil_log_store_sink_write_failures_total',
      help: 'Batches the log store did not take, by reason: unavailable (retried by the caller) or error.',
      labelNames: ['reason'],
      registers: [opts.registry],
    });
    this.#duration = new Histogram({
      name: 'vigil_log_store_sink_write_duration_seconds',
      help: 'Time from a batch handed to the log store to its commit.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [opts.registry],
    });
    for (const outcome of ['stored', 'duplicate', 'rejected']) this.#records.inc({ outcome }, 0);
    for (const reason of ['unavailable', 'error']) this.#failures.inc({ reason }, 0);
  }

  write(batch: readonly LogRecord[], signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new LogSinkClosedError(this.name));
    const done = this.#write(batch, signal);
    this.#inFlight.add(done);
    const forget = () => void this.#inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  async #write(batch: readonly LogRecord[], signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (batch.length === 0) return;
    const end = this.#duration.startTimer();
    let result;
    try {
      result = await this.#store.append(batch, signal);
    } catch (err) {
      this.#failures.inc({ reason: err instanceof LogUnavailableError ? 'unavailable' : 'error' });
      throw err;
    } finally {
      end();
    }
    this.#records.inc({ outcome: 'stored' }, result.stored);
    this.#records.inc({ outcome: 'duplicate' }, result.duplicates);
    if (result.rejected.length === 0) return;
    this.#records.inc({ outcome: 'rejected' }, result.rejected.length);
    for (const { index, reason } of result.rejected.slice(0, this.#rejectionsLogged)) {
      const r = batch[index];
      this.#logger.warn(
        { id: r?.id, namespace: r?.source?.namespace, pod: r?.source?.pod, container: r?.source?.container, offset: r?.offset, reason },
        'log record rejected by the store, dropped',
      );
    }
    const unlogged = result.rejected.length - this.#rejectionsLogged;
    if (unlogged > 0) this.#logger.warn({ count: unlogged }, 'more log records of the batch rejected by the store, dropped');
  }

  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
