/**
 * Log retention as a housekeeping job: every run drops what is older than the retention period,
 * whichever store holds it (whole day files and the old rows of the boundary day for SQLite,
 * indices for Elasticsearch).
 */
import { formatTimeNs } from '../../model/logs.js';
import type { HousekeepingJob } from '../../util/housekeeping.js';
import type { Logger } from '../../util/logging.js';
import type { LogStore } from './interface.js';

export interface LogRetentionJobOptions {
  readonly store: LogStore;
  /** How long records are kept (`storage.logs.retention`). */
  readonly retentionMs: number;
  /** Cron schedule; default every hour at minute 7, off the hour when other jobs tend to run. */
  readonly schedule?: string;
  readonly logger?: Logger;
  /** Millisecond clock; injectable for tests. */
  readonly now?: () => number;
}

export const LOG_RETENTION_JOB = 'log-retention';

export function logRetentionJob(opts: LogRetentionJobOptions): HousekeepingJob {
  if (!Number.isFinite(opts.retentionMs) || opts.retentionMs <= 0) {
    throw new RangeError(`log retention must be a positive duration, got ${opts.retentionMs} ms`);
  }
  const now = opts.now ?? Date.now;
  return {
    name: LOG_RETENTION_JOB,
    schedule: opts.schedule ?? '7 * * * *',
    run: async (signal) => {
      signal.throwIfAborted();
      const cutoffNs = BigInt(Math.floor(now() - opts.retentionMs)) * 1_000_000n;
      const removed = await opts.store.applyRetention(cutoffNs);
      opts.logger?.info({ store: opts.store.name, cutoff: formatTimeNs(cutoffNs), removed }, 'log retention applied');
    },
  };
}
