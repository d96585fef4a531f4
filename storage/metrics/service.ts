/**
 * The embedded TSDB as a lifecycle service, with its figures exported as self-metrics. Writers and
 * readers get it through `appendable()` / `queryable()`, typed as the narrow interfaces.
 */
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../util/logging.js';
import { StartAbortedError, type Service } from '../../util/lifecycle.js';
import { openTSDB, type TSDB } from './tsdb/index.js';
import type { Appendable, Queryable } from './interface.js';

export interface TsdbServiceOptions {
  readonly dataDir: string;
  readonly retentionMs: number;
  /** Size retention on chunk memory; 0 = none. */
  readonly retentionBytes?: number;
  readonly logger: Logger;
  readonly registry: Registry;
}

export interface TsdbService extends Service {
  appendable(): Appendable;
  queryable(): Queryable;
  /** The database itself, for maintenance and benchmarks; throws before start. */
  db(): TSDB;
}

export function tsdbService(opts: TsdbServiceOptions): TsdbService {
  const log = opts.logger.child({ component: 'tsdb' });
  let tsdb: TSDB | undefined;
  const require = (): TSDB => {
    if (!tsdb) throw new Error('the TSDB is not open');
    return tsdb;
  };
  const stat = (name: string, help: string, pick: (db: TSDB) => number) =>
    new Gauge({
      name,
      help,
      registers: [opts.registry],
      collect() {
        if (tsdb) this.set(pick(tsdb));
      },
    });
  stat('vigil_tsdb_head_series', 'Series in the in-memory head.', (db) => db.stats().numSeries);
  stat('vigil_tsdb_head_samples', 'Samples held in the head.', (db) => db.stats().numSamples);
  stat('vigil_tsdb_head_chunks', 'Chunks in the head.', (db) => db.stats().chunks);
  stat('vigil_tsdb_head_chunk_bytes', 'Memory of the head chunks.', (db) => db.stats().bytes);
  stat('vigil_tsdb_head_chunks_mapped', 'Whether sealed head chunks are in file-backed memory (1) or on the heap (0).', (db) => (db.stats().headChunksMapped ? 1 : 0));
  stat('vigil_tsdb_wal_segment_current', 'Index of the WAL segment being written.', (db) => db.stats().walSegment);
  stat('vigil_tsdb_last_checkpoint_timestamp_seconds', 'When the last checkpoint was written (0 = never).', (db) => (db.stats().lastCheckpoint ?? 0) / 1000);

  return {
    name: 'tsdb',
    async start(ctx) {
      const started = Date.now();
      const db = await openTSDB({
        dir: path.join(opts.dataDir, 'tsdb'),
        retentionMs: opts.retentionMs,
        ...(opts.retentionBytes ? { maxBytes: opts.retentionBytes } : {}),
        logger: { warn: (m) => log.warn(m), info: (m) => log.info(m) },
      });
      if (ctx.signal.aborted) {
        await db.close();
        throw new StartAbortedError();
      }
      tsdb = db;
      const s = db.stats();
      log.info({ series: s.numSeries, samples: s.numSamples, ms: Date.now() - started }, 'TSDB open');
    },
    async stop() {
      const db = tsdb;
      tsdb = undefined;
      await db?.close();
    },
    appendable: () => ({ appender: () => require().appender() }),
    queryable: () => ({ querier: (mint, maxt) => require().querier(mint, maxt) }),
    db: require,
  };
}
