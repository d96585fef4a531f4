import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTimeNs, type LogRecord } from '../../model/logs.js';
import { createLogger } from '../../util/logging.js';
import { LogUnavailableError, type LogSearchRequest } from './interface.js';
import { SqliteLogStore } from './sqlite/index.js';
import { testLogRecord } from './store-contract.js';
import { LogSinkClosedError, StoreLogSink } from './store-sink.js';

const T0 = parseTimeNs('2025-03-10T08:00:00Z');
const everything: LogSearchRequest = { matchers: [], lineFilters: [], startNs: 0n, endNs: T0 * 2n, direction: 'forward', limit: 10_000 };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { maxMessageBytes?: number; busyTimeoutMs?: number } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-store-sink-'));
  const store = new SqliteLogStore({ dir, ...opts });
  cleanups.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const registry = new Registry();
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  const sink = new StoreLogSink({ store, registry, logger, rejectionsLoggedPerBatch: 2 });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value;
  };
  return { dir, store, sink, lines, metric };
}

const batchOf = (n: number, from = 0): LogRecord[] =>
  Array.from({ length: n }, (_, i) => testLogRecord({ t: T0 + BigInt(from + i), offset: (from + i) * 100, message: `line ${from + i}` }));

describe('StoreLogSink', () => {
  it('resolves a write once its records are committed and searchable', async () => {
    const { store, sink, metric } = await setup();
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'stored' })).toBe(0);
    await sink.write(batchOf(100));
    const found = await store.search(everything);
    expect(found.records).toHaveLength(100);
    // Committed means in the file: a second connection sees it too.
    const reader = new SqliteLogStore({ dir: store.dir, readonly: true });
    cleanups.push(() => reader.close());
    expect((await reader.search(everything)).records).toHaveLength(100);
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'stored' })).toBe(100);
  });

  it('counts a replayed batch as duplicates', async () => {
    const { store, sink, metric } = await setup();
    await sink.write(batchOf(10));
    await sink.write(batchOf(15));
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'stored' })).toBe(15);
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'duplicate' })).toBe(10);
    expect((await store.search(everything)).records).toHaveLength(15);
  });

  it('drops records the store rejects, counting and logging them, and stores the rest', async () => {
    const { store, sink, metric, lines } = await setup({ maxMessageBytes: 64 });
    const big = (i: number) => testLogRecord({ pod: 'chatty', t: T0 + BigInt(i), offset: 10_000 + i, message: 'x'.repeat(100) });
    await sink.write([...batchOf(3), big(1), big(2), big(3)]);
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'rejected' })).toBe(3);
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'stored' })).toBe(3);
    expect((await store.search(everything)).records.map((r) => r.message)).toEqual(['line 0', 'line 1', 'line 2']);
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatchObject({
      component: 'log_store_sink',
      pod: 'chatty',
      offset: 10_001,
      reason: 'message of 100 bytes exceeds the limit of 64',
      msg: 'log record rejected by the store, dropped',
    });
    expect(warnings[2]).toMatchObject({ count: 1 });
    // The file goes on: the next batch is written as usual.
    await sink.write(batchOf(2, 3));
    expect((await store.search(everything)).records).toHaveLength(5);
  });

  it('fails a write with LogUnavailableError while the store is locked, and takes the retry', async () => {
    const { store, sink, metric } = await setup({ busyTimeoutMs: 20 });
    await sink.write(batchOf(1));
    const lock = new Database(path.join(store.dir, '2025-03-10.db'));
    lock.exec('BEGIN EXCLUSIVE');
    const batch = batchOf(5, 1);
    try {
      await expect(sink.write(batch)).rejects.toBeInstanceOf(LogUnavailableError);
      expect(await metric('vigil_log_store_sink_write_failures_total', { reason: 'unavailable' })).toBe(1);
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    await sink.write(batch);
    expect((await store.search(everything)).records).toHaveLength(6);
    expect(await metric('vigil_log_store_sink_records_total', { outcome: 'stored' })).toBe(6);
  });

  it('writes nothing for an aborted signal', async () => {
    const { store, sink } = await setup();
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    await expect(sink.write(batchOf(3), ac.signal)).rejects.toThrow('shutting down');
    expect((await store.search(everything)).records).toEqual([]);
  });

  it('flush awaits writes in flight; after close writes fail and the store stays open', async () => {
    const { store, sink } = await setup();
    const pending = [sink.write(batchOf(500)), sink.write(batchOf(500, 500))];
    await sink.flush();
    expect((await store.search(everything)).records).toHaveLength(1000);
    await Promise.all(pending);
    await sink.close();
    await expect(sink.write(batchOf(1, 2000))).rejects.toBeInstanceOf(LogSinkClosedError);
    expect((await store.search(everything)).records).toHaveLength(1000);
  });
});
