import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { labelsToString } from '../../model/labels.js';
import { logRecordId, type LogLevel, type LogRecord, type LogSource } from '../../model/logs.js';
import { Matcher } from '../../model/matcher.js';
import { isStaleNaN } from '../../model/stale.js';
import { openTSDB, type TSDB } from '../../storage/metrics/tsdb/index.js';
import { LAST_READ_METRIC, LOG_LINES_METRIC, LogLineMetrics } from './line-metrics.js';

const T0 = Date.UTC(2026, 10, 22, 3, 12);

function source(pod: string): LogSource {
  return { node: 'n1', namespace: 'payments', pod, podUid: `uid-${pod}`, container: 'app', restart: 0, path: `/p/${pod}`, fileKey: `k-${pod}` };
}

function records(src: LogSource, levels: LogLevel[]): LogRecord[] {
  return levels.map((level, i) => ({
    id: logRecordId(src.node, src.fileKey, i * 100),
    timeNs: BigInt(T0) * 1_000_000n,
    stream: 'stdout',
    level,
    message: `${level} line ${i}`,
    source: src,
    offset: i * 100,
    endOffset: i * 100 + 100,
  }));
}

async function dump(db: TSDB, name: string): Promise<Record<string, Array<[number, number]>>> {
  const q = await db.querier(-Infinity, Infinity);
  try {
    const out: Record<string, Array<[number, number]>> = {};
    for (const s of await q.select([new Matcher('=', '__name__', name)])) out[labelsToString(s.labels)] = [...s.samples()].map((x) => [x.t, x.v]);
    return out;
  } finally {
    await q.close();
  }
}

describe('LogLineMetrics', () => {
  let dir: string;
  let db: TSDB;
  let now = T0;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-line-metrics-'));
    now = T0;
    db = await openTSDB({ dir, clock: () => now, walFlushIntervalMs: 0 });
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts acknowledged lines per namespace, pod, container and level into the TSDB', async () => {
    let lastRead: number | undefined;
    const m = new LogLineMetrics({ appendable: db, node: 'n1', lastReadMs: () => lastRead, now: () => now });
    m.observe(records(source('api-1'), ['error', 'error', 'info']));
    m.observe(records(source('api-2'), ['warn']));
    now += 2_000;
    await m.write();
    now += 10_000;
    lastRead = now - 500;
    m.observe(records(source('api-1'), ['error']));
    await m.write();

    const lines = await dump(db, LOG_LINES_METRIC);
    expect(lines).toEqual({
      'vigil_log_lines_total{container="app", level="error", namespace="payments", node="n1", pod="api-1"}': [
        [T0, 0],
        [T0 + 2_000, 2],
        [T0 + 12_000, 3],
      ],
      'vigil_log_lines_total{container="app", level="info", namespace="payments", node="n1", pod="api-1"}': [
        [T0, 0],
        [T0 + 2_000, 1],
        [T0 + 12_000, 1],
      ],
      'vigil_log_lines_total{container="app", level="warn", namespace="payments", node="n1", pod="api-2"}': [
        [T0, 0],
        [T0 + 2_000, 1],
        [T0 + 12_000, 1],
      ],
    });
    // No read yet at the first write: the series starts once the collector has read.
    expect(await dump(db, LAST_READ_METRIC)).toEqual({
      'vigil_log_collector_last_read_timestamp_seconds{node="n1"}': [[T0 + 12_000, (T0 + 11_500) / 1000]],
    });
  });

  it('ends an idle series with a staleness marker and forgets it', async () => {
    const m = new LogLineMetrics({ appendable: db, node: 'n1', lastReadMs: () => undefined, now: () => now, idleMs: 60_000 });
    m.observe(records(source('gone'), ['info']));
    await m.write();
    now += 61_000;
    await m.write();
    now += 10_000;
    await m.write();
    const series = Object.values(await dump(db, LOG_LINES_METRIC));
    expect(series).toHaveLength(1);
    const samples = series[0]!;
    expect(samples).toHaveLength(3);
    expect(samples[0]).toEqual([T0 - 1, 0]);
    expect(samples[1]).toEqual([T0, 1]);
    expect(samples[2]![0]).toBe(T0 + 61_000);
    expect(isStaleNaN(samples[2]![1])).toBe(true);
  });
});
