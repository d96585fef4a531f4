/**
 * Log-derived metrics written into the metrics TSDB, so that rules can alert on logs:
 *
 * - `vigil_log_lines_total{namespace,pod,container,level,node}`: a counter of shipped lines (a joined
 *   multi-line record counts once), as `sum by (pod) (rate(vigil_log_lines_total{level="error"}[1m]))`
 *   expects;
 * - `vigil_log_collector_last_read_timestamp_seconds{node}`: when this collector last completed a
 *   read pass, so `time() - vigil_log_collector_last_read_timestamp_seconds > 120` or `absent(...)`
 *   alerts when collection stops.
 *
 * Counts are taken when the sink acknowledged a batch, so the metric tracks what reached the store.
 * Every `intervalMs` all live series are appended with the current time, like a scrape of the
 * collector; a series not incremented for `idleMs` gets a staleness marker and is forgotten, so pod
 * churn does not grow memory and a gone pod's series ends the way a scraped one would. A new series
 * starts with a zero at its creation time, so the burst that created it shows in `rate()`.
 */
import { labelsFromRecord, type Labels } from '../../model/labels.js';
import type { LogRecord } from '../../model/logs.js';
import { STALE_NAN } from '../../model/stale.js';
import type { Appendable } from '../../storage/metrics/interface.js';

export const LOG_LINES_METRIC = 'vigil_log_lines_total';
export const LAST_READ_METRIC = 'vigil_log_collector_last_read_timestamp_seconds';

interface CounterSeries {
  readonly labels: Labels;
  count: number;
  lastIncrementMs: number;
  /** When the series was created; its zero is written there first (see `#writeOnce`). */
  readonly createdMs: number;
  written: boolean;
}

export interface LogLineMetricsOptions {
  readonly appendable: Appendable;
  readonly node: string;
  /** When the collector last read (ms since epoch), or undefined before the first read. */
  readonly lastReadMs: () => number | undefined;
  readonly intervalMs?: number;
  readonly idleMs?: number;
  readonly now?: () => number;
  readonly onError?: (err: unknown) => void;
}

export class LogLineMetrics {
  readonly #series = new Map<string, CounterSeries>();
  readonly #opts: LogLineMetricsOptions;
  readonly #intervalMs: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #lastReadLabels: Labels;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(opts: LogLineMetricsOptions) {
    this.#opts = opts;
    this.#intervalMs = opts.intervalMs ?? 10_000;
    this.#idleMs = opts.idleMs ?? 5 * 60_000;
    this.#now = opts.now ?? Date.now;
    this.#lastReadLabels = labelsFromRecord({ __name__: LAST_READ_METRIC, node: opts.node });
  }

  /** Counts the lines of an acknowledged batch. */
  observe(batch: readonly LogRecord[]): void {
    const now = this.#now();
    for (const r of batch) {
      const s = r.source;
      const key = `${s.namespace}\u0000${s.pod}\u0000${s.container}\u0000${r.level}`;
      let series = this.#series.get(key);
      if (series === undefined) {
        series = {
          labels: labelsFromRecord({
            __name__: LOG_LINES_METRIC,
            namespace: s.namespace,
            pod: s.pod,
            container: s.container,
            level: r.level,
            node: this.#opts.node,
          }),
          count: 0,
          lastIncrementMs: now,
          createdMs: now,
          written: false,
        };
        this.#series.set(key, series);
      }
      series.count++;
      series.lastIncrementMs = now;
    }
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.write(), this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.write();
  }

  /** Appends every live series at the current time; writes are serialised. */
  write(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#writeOnce()).catch((err: unknown) => this.#opts.onError?.(err));
    return this.#writing;
  }

  async #writeOnce(): Promise<void> {
    const now = this.#now();
    const app = this.#opts.appendable.appender();
    for (const [key, s] of this.#series) {
      if (now - s.lastIncrementMs > this.#idleMs) {
        app.append(0, s.labels, now, STALE_NAN);
        this.#series.delete(key);
      } else {
        // A counter born with a burst would show no increase to rate() if its first sample were
        // already the burst's count; start it at zero where it was created, as Prometheus's
        // created-timestamp zero injection does.
        if (!s.written) app.append(0, s.labels, Math.min(s.createdMs, now - 1), 0);
        s.written = true;
        app.append(0, s.labels, now, s.count);
      }
    }
    const lastRead = this.#opts.lastReadMs();
    if (lastRead !== undefined) app.append(0, this.#lastReadLabels, now, lastRead / 1000);
    await app.commit();
  }
}
