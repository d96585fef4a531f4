import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { LogCollector } from '../collector/logs/collector.js';
import { logRecordId, type LogRecord } from '../model/logs.js';
import type { LogSink } from '../storage/logs/interface.js';
import { RARE_TERM, RARE_TERM_HITS, RARE_TERM_NAMESPACE, writeDataset } from './logsearch-dataset.js';

const T0 = BigInt(Date.UTC(2025, 2, 10)) * 1_000_000n;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function dataset(lines: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-logsearch-ds-'));
  dirs.push(dir);
  const root = path.join(dir, 'pods');
  const records: LogRecord[] = [];
  const ds = await writeDataset({ root, lines, startNs: T0, onBatch: async (b) => void records.push(...b) });
  return { dir, root, records, ds };
}

/** What identifies a record's content, apart from the node (the collector names one node). */
function content(r: LogRecord): string {
  const s = r.source;
  return JSON.stringify([s.namespace, s.pod, s.podUid, s.container, s.restart, s.fileKey, r.offset, r.endOffset, String(r.timeNs), r.stream, r.level, r.message, r.fields ?? null]);
}

describe('bench:logsearch dataset', () => {
  it('hands the store exactly the records the collector reads from the files it wrote', async () => {
    const { dir, root, records, ds } = await dataset(30_000);
    expect(ds.records).toBe(records.length);
    expect(ds.lines).toBeGreaterThanOrEqual(30_000);
    expect(ds.pods.length).toBe(200);
    // Ids as the collector derives them, on the node the pod runs on.
    const nodeOf = new Map(ds.pods.map((p) => [p.name, p.node]));
    for (const r of records) expect(r.id).toBe(logRecordId(nodeOf.get(r.source.pod)!, r.source.fileKey, r.offset));

    const read: LogRecord[] = [];
    const sink: LogSink = {
      name: 'recording',
      write: async (batch) => void read.push(...batch),
      flush: async () => {},
      close: async () => {},
    };
    const collector = new LogCollector({
      sink,
      dataDir: path.join(dir, 'data'),
      podsRoot: root,
      nodeName: 'node-x',
      registry: new Registry(),
      scanIntervalMs: 50,
      batchMaxWaitMs: 5,
      assembler: { multilineFlushMs: 50 },
    });
    await collector.start();
    try {
      const deadline = Date.now() + 20_000;
      while (read.length < records.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await collector.stop();
    }
    expect(read.map(content).sort()).toEqual(records.map(content).sort());
    // The files hold exactly the lines counted, and every record's bytes.
    const bytes = ds.pods.reduce((n, p) => n + readFileSync(path.join(root, p.file)).length, 0);
    expect(bytes).toBe(ds.rawBytes);
  });

  it('plants the rare term in the documented number of records of its namespace, and elsewhere too', async () => {
    const { records } = await dataset(20_000);
    const hits = records.filter((r) => r.message.includes(RARE_TERM));
    expect(hits.filter((r) => r.source.namespace === RARE_TERM_NAMESPACE)).toHaveLength(RARE_TERM_HITS);
    expect(hits.length).toBeGreaterThan(RARE_TERM_HITS);
    // One hit sits inside a joined stack trace, not on its first line.
    expect(hits.some((r) => r.message.indexOf(RARE_TERM) > r.message.indexOf('\n') && r.message.includes('\n\tat '))).toBe(true);
  });

  it('mixes levels, JSON and plain lines, stack traces over 8 namespaces, the same each run', async () => {
    const a = await dataset(20_000);
    const b = await dataset(20_000);
    expect(a.records.map(content)).toEqual(b.records.map(content));
    const levels = new Set(a.records.map((r) => r.level));
    for (const l of ['info', 'warn', 'error', 'debug', 'unknown']) expect(levels).toContain(l);
    expect(a.records.filter((r) => r.fields?.latency_ms !== undefined).length).toBeGreaterThan(1000);
    expect(a.records.filter((r) => r.message.includes('\n\tat ')).length).toBeGreaterThan(10);
    expect(new Set(a.records.map((r) => r.source.namespace)).size).toBe(8);
    const times = a.records.map((r) => r.timeNs);
    expect(times.every((t) => t >= T0 && t < T0 + 86_400_000_000_000n)).toBe(true);
  });
});
