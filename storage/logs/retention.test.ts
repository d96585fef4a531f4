import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Housekeeping } from '../../util/housekeeping.js';
import { silentLogger } from '../../util/logging.js';
import { logRetentionJob } from './retention.js';
import { SqliteLogStore } from './sqlite/index.js';
import { testLogRecord } from './store-contract.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2025, 2, 20, 12, 0, 0);
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('log retention job', () => {
  it('drops records older than the retention period when housekeeping runs it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-log-retention-'));
    const store = new SqliteLogStore({ dir });
    cleanups.push(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    const ages = [10 * DAY_MS, 8 * DAY_MS, 7 * DAY_MS + 1, 7 * DAY_MS - 1, DAY_MS, 0];
    await store.append(ages.map((age, i) => testLogRecord({ t: ns(NOW - age), offset: i, message: `aged ${age}` })));
    const registry = new Registry();
    const housekeeping = new Housekeeping({
      logger: silentLogger(),
      registry,
      jobs: [logRetentionJob({ store, retentionMs: 7 * DAY_MS, now: () => NOW })],
    });
    await housekeeping.runNow('log-retention');
    await housekeeping.stop();
    const left = await store.search({ matchers: [], lineFilters: [], startNs: 0n, endNs: ns(NOW + DAY_MS), direction: 'forward', limit: 100 });
    expect(left.records.map((r) => r.message)).toEqual([`aged ${7 * DAY_MS - 1}`, `aged ${DAY_MS}`, 'aged 0']);
    const runs = (await registry.getMetricsAsJSON()).find((m) => m.name === 'vigil_housekeeping_runs_total')!;
    expect(runs.values.find((v) => v.labels.job === 'log-retention' && v.labels.outcome === 'success')?.value).toBe(1);
    // Whole days older than the cutoff are gone from disk, not just emptied.
    expect(store.days()[0]).toBe('2025-03-13');
  });

  it('refuses a retention that is not a positive duration', () => {
    const store = new SqliteLogStore({ dir: path.join(tmpdir(), 'never-created'), readonly: true });
    expect(() => logRetentionJob({ store, retentionMs: 0 })).toThrow(RangeError);
    expect(() => logRetentionJob({ store, retentionMs: Number.NaN })).toThrow(RangeError);
    expect(logRetentionJob({ store, retentionMs: 1000 }).schedule).toBe('7 * * * *');
  });
});
