/** Self-metrics of the log collector, registered on the injected registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

export type RotationKind = 'rename' | 'truncate' | 'gzip';

export class LogCollectorMetrics {
  readonly filesWatched: Gauge;
  readonly bytesRead: Counter;
  readonly linesRead: Counter;
  readonly recordsShipped: Counter;
  readonly sinkErrors: Counter;
  readonly queueBytes: Gauge;
  readonly paused: Gauge;
  readonly decodeErrors: Counter;
  readonly rotations: Counter<'kind'>;
  readonly lastRead: Gauge<'node'>;

  /** `filesWatched` is read on each collection: files open for reading right now. */
  constructor(registry: Registry | undefined, filesWatched: () => number) {
    const registers = registry === undefined ? [] : [registry];
    this.filesWatched = new Gauge({
      name: 'vigil_log_collector_files_watched',
      help: 'Log files open for reading.',
      registers,
      collect() {
        this.set(filesWatched());
      },
    });
    this.bytesRead = new Counter({
      name: 'vigil_log_collector_bytes_read_total',
      help: 'Bytes read from log files (uncompressed for gzipped rotations).',
      registers,
    });
    this.linesRead = new Counter({
      name: 'vigil_log_collector_lines_read_total',
      help: 'Runtime lines read from log files and handed to record assembly.',
      registers,
    });
    this.recordsShipped = new Counter({
      name: 'vigil_log_collector_records_shipped_total',
      help: 'Log records the sink acknowledged.',
      registers,
    });
    this.sinkErrors = new Counter({
      name: 'vigil_log_collector_sink_errors_total',
      help: 'Failed sink writes (each is retried with backoff).',
      registers,
    });
    this.queueBytes = new Gauge({
      name: 'vigil_log_collector_queue_bytes',
      help: 'Bytes of records read but not yet acknowledged by the sink.',
      registers,
    });
    this.paused = new Gauge({
      name: 'vigil_log_collector_paused',
      help: '1 while reading is paused because the queue to the sink is full.',
      registers,
    });
    this.decodeErrors = new Counter({
      name: 'vigil_log_collector_decode_errors_total',
      help: 'Runtime lines that were neither CRI nor docker json-file (kept as plain records).',
      registers,
    });
    this.rotations = new Counter({
      name: 'vigil_log_collector_rotations_total',
      help: 'File rotations followed: rename (kubelet/logrotate create), truncate (copytruncate or truncation), gzip (catch-up read from a gzipped rotation).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['rename', 'truncate', 'gzip'] as const) this.rotations.inc({ kind }, 0);
    this.lastRead = new Gauge({
      name: 'vigil_log_collector_last_read_timestamp_seconds',
      help: 'When the collector last completed a read pass over its files (found data or nothing new); stale means collection stopped.',
      labelNames: ['node'],
      registers,
    });
    this.paused.set(0);
    this.queueBytes.set(0);
  }
}
