/**
 * The log collector against real files in a temporary pods root, a real checkpoint database and
 * a recording sink (an in-memory `LogSink` that keeps the batches it acknowledged and can hold
 * or refuse writes, like a slow or failing store).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { logRecordId, type LogRecord } from '../../model/logs.js';
import { LogUnavailableError, type LogSink } from '../../storage/logs/interface.js';
import { LogCollector, type LogCollectorOptions } from './collector.js';
import type { PodMetadata, PodMetadataProvider } from './pod-metadata.js';

const NODE = 'node-a';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(10);
  }
}

/** A CRI line with a distinct nanosecond timestamp per sequence number. */
function cri(seq: number, message: string, stream: 'stdout' | 'stderr' = 'stdout', tag = 'F'): string {
  const s = Math.floor(seq / 1e6);
  const ns = String(seq % 1e6).padStart(6, '0');
  return `2024-05-01T10:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000${ns}Z ${stream} ${tag} ${message}\n`;
}
const lines = (from: number, to: number, base = 0) => Array.from({ length: to - from }, (_, i) => cri(base + from + i, `line ${from + i}`)).join('');
const fileKeyOfFirstLine = (line: string) => createHash('sha1').update(line).digest('hex').slice(0, 16);

/** Acknowledges batches (keeping them), refuses them while `failing`, holds them while held. */
class RecordingSink implements LogSink {
  readonly name = 'recording';
  readonly batches: LogRecord[][] = [];
  readonly attempted: LogRecord[][] = [];
  failing = false;
  /** Each write takes this long: a slow store. */
  delayMs = 0;
  #held: { promise: Promise<void>; open: () => void } | undefined;

  get records(): LogRecord[] {
    return this.batches.flat();
  }
  get messages(): string[] {
    return this.records.map((r) => r.message);
  }
  hold(): void {
    if (this.#held !== undefined) return;
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    this.#held = { promise, open };
  }
  release(): void {
    this.#held?.open();
    this.#held = undefined;
  }
  async write(batch: readonly LogRecord[], signal?: AbortSignal): Promise<void> {
    this.attempted.push([...batch]);
    while (this.#held !== undefined) {
      const held = this.#held.promise;
      await new Promise<void>((resolve, reject) => {
        held.then(resolve, reject);
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
    if (this.delayMs > 0) await sleep(this.delayMs);
    if (this.failing) throw new LogUnavailableError('store unavailable');
    this.batches.push([...batch]);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

interface Env {
  readonly dir: string;
  readonly root: string;
  readonly dataDir: string;
  /** Creates `<root>/<ns>_<pod>_<uid>/<container>/` and returns it. */
  containerDir(ns: string, pod: string, uid: string, container?: string): string;
  collector(sink: LogSink, opts?: Partial<LogCollectorOptions>): { collector: LogCollector; registry: Registry };
  /** Checkpoint offsets in the database, by fileKey. */
  checkpoints(): Map<string, number>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function env(): Promise<Env> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-logcol-'));
  const root = path.join(dir, 'pods');
  const dataDir = path.join(dir, 'data');
  mkdirSync(root, { recursive: true });
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return {
    dir,
    root,
    dataDir,
    containerDir(ns, pod, uid, container = 'app') {
      const d = path.join(root, `${ns}_${pod}_${uid}`, container);
      mkdirSync(d, { recursive: true });
      return d;
    },
    collector(sink, opts = {}) {
      const registry = new Registry();
      const collector = new LogCollector({
        sink,
        dataDir,
        podsRoot: root,
        nodeName: NODE,
        registry,
        scanIntervalMs: 50,
        checkpointIntervalMs: 20,
        batchMaxWaitMs: 5,
        retryInitialMs: 20,
        retryMaxMs: 100,
        stopTimeoutMs: 2000,
        ...opts,
      });
      cleanups.push(() => collector.stop());
      return { collector, registry };
    },
    checkpoints() {
      const file = path.join(dataDir, 'log-checkpoints.db');
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT file_key, "offset" FROM log_checkpoints').all() as Array<{ file_key: string; offset: number }>;
        return new Map(rows.map((r) => [r.file_key, r.offset]));
      } finally {
        db.close();
      }
    },
  };
}

describe('LogCollector', () => {
  it('reads a new file from its start, with ids, offsets and metadata from the path, then follows it', async () => {
    const e = await env();
    const d = e.containerDir('shop', 'cart-7d9f', '0b6e2f3c-uid', 'app');
    const file = path.join(d, '0.log');
    writeFileSync(file, lines(0, 3));
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink);
    await collector.start();
    await until('3 records', () => sink.records.length === 3);
    const key = fileKeyOfFirstLine(cri(0, 'line 0'));
    const offsets = [0, cri(0, 'line 0').length, cri(0, 'line 0').length + cri(1, 'line 1').length];
    expect(sink.records.map((r) => [r.message, r.offset, r.id, r.stream])).toEqual(
      [0, 1, 2].map((i) => [`line ${i}`, offsets[i], logRecordId(NODE, key, offsets[i]!), 'stdout']),
    );
    expect(sink.records[0]!.source).toEqual({ node: NODE, namespace: 'shop', pod: 'cart-7d9f', podUid: '0b6e2f3c-uid', container: 'app', restart: 0, path: file, fileKey: key });
    appendFileSync(file, lines(3, 5));
    await until('5 records', () => sink.records.length === 5);
    expect(sink.messages).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(await metric(registry, 'vigil_log_collector_files_watched')).toBe(1);
    expect(await metric(registry, 'vigil_log_collector_lines_read_total')).toBe(5);
    expect(await metric(registry, 'vigil_log_collector_bytes_read_total')).toBe(readFileSync(file).length);
    expect(await metric(registry, 'vigil_log_collector_records_shipped_total')).toBe(5);
    // The liveness timestamp keeps moving while nothing new arrives.
    const t1 = (await metric(registry, 'vigil_log_collector_last_read_timestamp_seconds', { node: NODE }))!;
    await sleep(200);
    const t2 = (await metric(registry, 'vigil_log_collector_last_read_timestamp_seconds', { node: NODE }))!;
    expect(t2).toBeGreaterThan(t1);
    expect(t2).toBeGreaterThan(Date.now() / 1000 - 5);
    expect(collector.lastReadMs).toBeGreaterThan(Date.now() - 5000);
    await collector.stop();
    expect(e.checkpoints().get(key)).toBe(readFileSync(file).length);
  });

  it('takes the pods root and node name from the environment when not given, and follows files by polling alone without fs.watch', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'poll', 'u0'), '0.log');
    writeFileSync(file, lines(0, 1));
    const saved = { root: process.env.VIGIL_PODS_LOG_ROOT, node: process.env.VIGIL_NODE_NAME };
    process.env.VIGIL_PODS_LOG_ROOT = e.root;
    process.env.VIGIL_NODE_NAME = 'node-from-env';
    const sink = new RecordingSink();
    let collector: LogCollector;
    try {
      collector = new LogCollector({ sink, dataDir: e.dataDir, watch: false, scanIntervalMs: 50, assembler: { multiline: false } });
      cleanups.push(() => collector.stop());
    } finally {
      if (saved.root === undefined) delete process.env.VIGIL_PODS_LOG_ROOT;
      else process.env.VIGIL_PODS_LOG_ROOT = saved.root;
      if (saved.node === undefined) delete process.env.VIGIL_NODE_NAME;
      else process.env.VIGIL_NODE_NAME = saved.node;
    }
    expect(collector.podsRoot).toBe(e.root);
    expect(collector.node).toBe('node-from-env');
    await collector.start();
    await until('first record', () => sink.records.length === 1);
    appendFileSync(file, lines(1, 3));
    await until('appended records', () => sink.records.length === 3);
    expect(sink.records.map((r) => [r.message, r.source.node])).toEqual([0, 1, 2].map((i) => [`line ${i}`, 'node-from-env']));
  });

  it('stops cleanly when stopped while still starting: nothing open, nothing read afterwards', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'early', 'u14'), '0.log');
    writeFileSync(file, lines(0, 3));
    const sink = new RecordingSink();
    const { collector } = e.collector(sink);
    const started = collector.start();
    await collector.stop();
    await started;
    expect(collector.filesOpen).toBe(0);
    const before = sink.records.length;
    appendFileSync(file, lines(3, 6));
    await sleep(300);
    expect(sink.records.length).toBe(before);
    // The checkpoint database is closed: another collector can take over.
    const sink2 = new RecordingSink();
    const { collector: next } = e.collector(sink2);
    await next.start();
    await until('the rest read by the next collector', () => sink2.messages.includes('line 5'));
  });

  it('does not emit or checkpoint a partial trailing line until it is completed', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'p', 'u1'), '0.log');
    const whole = cri(0, 'complete');
    const half = cri(1, 'finished later');
    writeFileSync(file, whole + half.slice(0, 30));
    const sink = new RecordingSink();
    const { collector } = e.collector(sink);
    await collector.start();
    await until('first record', () => sink.records.length === 1);
    await sleep(300); // several scans and polls
    expect(sink.messages).toEqual(['complete']);
    const key = fileKeyOfFirstLine(whole);
    await until('checkpoint at the end of the complete line', () => e.checkpoints().get(key) === whole.length);
    appendFileSync(file, half.slice(30));
    await until('second record', () => sink.records.length === 2);
    expect(sink.records[1]).toMatchObject({ message: 'finished later', offset: whole.length, endOffset: whole.length + half.length });
  });

  it('reads a rotation ending in a never-finished line once, not at every scan', async () => {
    const e = await env();
    const d = e.containerDir('ns', 'cut', 'u13');
    const live = path.join(d, '0.log');
    writeFileSync(live, lines(0, 2) + cri(2, 'never finished').slice(0, 20));
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink, { assembler: { multiline: false } });
    await collector.start();
    await until('2 records', () => sink.records.length === 2);
    renameSync(live, path.join(d, '0.log.20240101-000000'));
    writeFileSync(live, '');
    await until('rotated file closed', () => collector.filesOpen === 1);
    const read = await metric(registry, 'vigil_log_collector_bytes_read_total');
    await sleep(500); // ten scans
    expect(await metric(registry, 'vigil_log_collector_bytes_read_total')).toBe(read);
    expect(sink.records.length).toBe(2);
  });

  it.each([
    ['a fast sink', 0],
    ['a slow sink that makes reading lag behind several rotations', 15],
  ])('follows rename rotations (with gzip of older rotations) under continuous writing, with %s: nothing lost, nothing doubled', async (_, delayMs) => {
    const e = await env();
    const d = e.containerDir('ns', 'writer', 'u2');
    const live = path.join(d, '0.log');
    writeFileSync(live, '');
    const sink = new RecordingSink();
    sink.delayMs = delayMs;
    const { collector, registry } = e.collector(sink, { scanIntervalMs: 20, maxQueueBytes: 64 * 1024, chunkBytes: 8 * 1024, batchMaxRecords: 100 });
    await collector.start();
    const total = 6000;
    let rotations = 0;
    for (let i = 0; i < total; i++) {
      appendFileSync(live, cri(i, `msg ${i}`, i % 5 === 0 ? 'stderr' : 'stdout'));
      if (i % 1000 === 999) {
        rotations++;
        renameSync(live, path.join(d, `0.log.20240101-0000${String(rotations).padStart(2, '0')}`));
        writeFileSync(live, '');
        // kubelet: every rotation but the newest is gzipped (via .tmp) and the plain file removed.
        const rotated = readdirSync(d).filter((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)).sort();
        for (const f of rotated.slice(0, -1)) {
          const src = path.join(d, f);
          writeFileSync(`${src}.tmp`, gzipSync(readFileSync(src)));
          renameSync(`${src}.tmp`, `${src}.gz`);
          unlinkSync(src);
        }
      }
      if (i % 40 === 0) await sleep(1);
    }
    await until(`${total} records`, () => sink.records.length >= total, 30_000);
    await sleep(300);
    const messages = sink.messages;
    expect(messages.length).toBe(total);
    expect(new Set(messages).size).toBe(total);
    expect(new Set(sink.records.map((r) => r.id)).size).toBe(total);
    // Within a file's stream, records arrive in file order.
    const byStream = new Map<string, number[]>();
    for (const r of sink.records) byStream.set(`${r.source.fileKey} ${r.stream}`, [...(byStream.get(`${r.source.fileKey} ${r.stream}`) ?? []), r.offset]);
    expect(new Set(sink.records.map((r) => r.source.fileKey)).size).toBe(rotations); // the last rotation left an empty live file
    for (const offs of byStream.values()) expect(offs).toEqual([...offs].sort((a, b) => a - b));
    expect(await metric(registry, 'vigil_log_collector_rotations_total', { kind: 'rename' })).toBeGreaterThan(0);
  });

  it('copytruncate: reads the unread tail from the copy and the rewritten file from 0 under a new key, even when it regrew past the old position', async () => {
    const e = await env();
    const d = e.containerDir('ns', 'ct', 'u3');
    const file = path.join(d, '0.log');
    writeFileSync(file, lines(0, 10));
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink);
    await collector.start();
    await until('10 records', () => sink.records.length === 10);
    // All at once, so the collector cannot look in between: 3 more lines, copy, truncate, and
    // more new content than the old file had.
    appendFileSync(file, lines(10, 13));
    copyFileSync(file, path.join(d, '0.log.20240101-000000'));
    truncateSync(file, 0);
    appendFileSync(file, lines(100, 140, 1000));
    await until('53 records', () => sink.records.length >= 53);
    await sleep(300);
    const want = [...Array.from({ length: 13 }, (_, i) => `line ${i}`), ...Array.from({ length: 40 }, (_, i) => `line ${100 + i}`)];
    expect(sink.messages.sort()).toEqual([...want].sort());
    const oldKey = fileKeyOfFirstLine(cri(0, 'line 0'));
    const newKey = fileKeyOfFirstLine(cri(1100, 'line 100'));
    const fresh = sink.records.filter((r) => r.source.fileKey === newKey);
    expect(fresh.map((r) => r.message)).toEqual(want.slice(13));
    expect(fresh[0]!.offset).toBe(0);
    expect(sink.records.filter((r) => r.source.fileKey === oldKey).map((r) => r.message)).toEqual(want.slice(0, 13));
    expect(await metric(registry, 'vigil_log_collector_decode_errors_total')).toBe(0);
    expect(await metric(registry, 'vigil_log_collector_rotations_total', { kind: 'truncate' })).toBeGreaterThanOrEqual(1);
  });

  it('truncation: restarts at 0 with a new fileKey', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'tr', 'u4'), '0.log');
    writeFileSync(file, lines(0, 20));
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink);
    await collector.start();
    await until('20 records', () => sink.records.length === 20);
    truncateSync(file, 0);
    await sleep(150);
    appendFileSync(file, lines(50, 52, 5000));
    await until('22 records', () => sink.records.length === 22);
    await sleep(200);
    expect(sink.records.length).toBe(22);
    const tail = sink.records.slice(20);
    expect(tail.map((r) => [r.message, r.offset])).toEqual([
      ['line 50', 0],
      ['line 51', cri(5050, 'line 50').length],
    ]);
    expect(tail[0]!.source.fileKey).toBe(fileKeyOfFirstLine(cri(5050, 'line 50')));
    expect(tail[0]!.source.fileKey).not.toBe(sink.records[0]!.source.fileKey);
    expect(await metric(registry, 'vigil_log_collector_rotations_total', { kind: 'truncate' })).toBe(1);
  });

  it('reads the rest of a rotation from its .gz after a restart, from the checkpointed uncompressed offset, with the same ids', async () => {
    const e = await env();
    const d = e.containerDir('ns', 'gz', 'u5');
    const file = path.join(d, '0.log');
    writeFileSync(file, lines(0, 10));
    const sink1 = new RecordingSink();
    const first = e.collector(sink1).collector;
    await first.start();
    await until('10 records', () => sink1.records.length === 10);
    await first.stop();
    const key = fileKeyOfFirstLine(cri(0, 'line 0'));
    const checkpoint = readFileSync(file).length;
    expect(e.checkpoints().get(key)).toBe(checkpoint);

    // While the collector is down: more lines, rotation, and the next rotation gzips it.
    appendFileSync(file, lines(10, 20));
    const all = readFileSync(file);
    const rotated = path.join(d, '0.log.20240101-000000');
    renameSync(file, rotated);
    writeFileSync(file, lines(100, 102, 9000));
    writeFileSync(`${rotated}.tmp`, gzipSync(all));
    renameSync(`${rotated}.tmp`, `${rotated}.gz`);
    unlinkSync(rotated);

    const sink2 = new RecordingSink();
    const { collector: second, registry } = e.collector(sink2);
    await second.start();
    await until('12 records', () => sink2.records.length === 12);
    await sleep(200);
    const fromGz = sink2.records.filter((r) => r.source.fileKey === key);
    expect(fromGz.map((r) => r.message)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${10 + i}`));
    expect(fromGz[0]!.offset).toBe(checkpoint);
    // The same ids a read of the plain file would have given.
    let at = checkpoint;
    for (const r of fromGz) {
      expect(r.id).toBe(logRecordId(NODE, key, at));
      at = r.endOffset;
    }
    expect(at).toBe(all.length);
    expect(sink2.messages.filter((m) => m.startsWith('line 10') && m.length > 7)).toEqual(['line 100', 'line 101']);
    expect(await metric(registry, 'vigil_log_collector_rotations_total', { kind: 'gzip' })).toBe(1);
    // Read to its end, the .gz is not opened again.
    await sleep(300);
    expect(sink2.records.length).toBe(12);
    expect(await metric(registry, 'vigil_log_collector_rotations_total', { kind: 'gzip' })).toBe(1);
  });

  it('drains a deleted file (pod removed) to its end before forgetting it, then forgets its checkpoint', async () => {
    const e = await env();
    const d = e.containerDir('ns', 'gone', 'u6');
    const file = path.join(d, '0.log');
    const total = 20_000;
    writeFileSync(file, lines(0, total));
    const sink = new RecordingSink();
    sink.hold();
    const { collector } = e.collector(sink, { maxQueueBytes: 64 * 1024, chunkBytes: 16 * 1024 });
    await collector.start();
    await until('first write attempted', () => sink.attempted.length > 0);
    await sleep(100);
    await rm(path.dirname(d), { recursive: true, force: true });
    await sleep(300); // scans see it gone
    expect(sink.records.length).toBe(0);
    sink.release();
    await until(`${total} records`, () => sink.records.length === total, 30_000);
    expect(new Set(sink.records.map((r) => r.id)).size).toBe(total);
    const key = fileKeyOfFirstLine(cri(0, 'line 0'));
    await until('checkpoint forgotten', () => !e.checkpoints().has(key));
    expect(collector.filesOpen).toBe(0);
  });

  it('advances checkpoints only after acknowledgement; after a crash the unacknowledged records come again with the same ids', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'ack', 'u7'), '0.log');
    writeFileSync(file, lines(0, 5));
    const key = fileKeyOfFirstLine(cri(0, 'line 0'));
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink, { stopTimeoutMs: 100 });
    await collector.start();
    await until('5 acknowledged', () => sink.records.length === 5);
    const acked = readFileSync(file).length;
    await until('checkpoint after the ack', () => e.checkpoints().get(key) === acked);

    sink.hold();
    appendFileSync(file, lines(5, 10));
    await until('all lines read', async () => (await metric(registry, 'vigil_log_collector_lines_read_total')) === 10);
    await until('a held batch was written', () => sink.attempted.length > sink.batches.length);
    await sleep(1300); // many checkpoint intervals, and the multiline flush of the last line
    expect(e.checkpoints().get(key)).toBe(acked);
    expect(sink.records.length).toBe(5);
    const offsets = [5, 6, 7, 8, 9].map((i) => lines(0, i).length);
    const ids = offsets.map((o) => logRecordId(NODE, key, o));
    const held = sink.attempted.flat().filter((r) => !sink.records.some((a) => a.id === r.id));
    expect(held.length).toBeGreaterThan(0);
    for (const r of held) expect(ids).toContain(r.id);
    await collector.stop(); // the sink never answers: as good as a crash for the checkpoint
    expect(e.checkpoints().get(key)).toBe(acked);

    const sink2 = new RecordingSink();
    const { collector: again } = e.collector(sink2);
    await again.start();
    await until('5 replayed', () => sink2.records.length === 5);
    await sleep(200);
    expect(sink2.records.map((r) => [r.id, r.message, r.offset])).toEqual([5, 6, 7, 8, 9].map((i, k) => [ids[k], `line ${i}`, offsets[k]]));
  });

  it('checkpoints a piece of an over-long line at the line start, so a restart never begins mid-line', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'long', 'u8'), '0.log');
    const long = cri(0, 'x'.repeat(3000));
    writeFileSync(file, long + cri(1, 'after'));
    const key = fileKeyOfFirstLine(long);
    const sink = new RecordingSink();
    let acks = 0;
    const { collector, registry } = e.collector(sink, {
      assembler: { maxRecordBytes: 1024 },
      batchMaxRecords: 1,
      stopTimeoutMs: 100,
      onAcknowledged: () => {
        if (++acks === 1) sink.hold(); // the first piece is acknowledged, the rest held
      },
    });
    await collector.start();
    await until('second piece attempted', () => sink.attempted.length >= 2);
    await sleep(200);
    expect(sink.records.length).toBe(1);
    expect(sink.attempted[1]![0]!.offset).toBeGreaterThan(0); // a piece starting inside the line
    expect(e.checkpoints().get(key)).toBe(0);
    await collector.stop();
    expect(e.checkpoints().get(key)).toBe(0);

    const sink2 = new RecordingSink();
    const { collector: again, registry: r2 } = e.collector(sink2, { assembler: { maxRecordBytes: 1024 } });
    await again.start();
    await until('all pieces and the next line', () => sink2.messages.includes('after'));
    expect(sink2.records.map((r) => r.id).slice(0, 2)).toEqual([sink.records[0]!.id, sink.attempted[1]![0]!.id]);
    expect(await metric(r2, 'vigil_log_collector_decode_errors_total')).toBe(0);
    expect(await metric(registry, 'vigil_log_collector_decode_errors_total')).toBe(0);
  });

  it('pauses reading while the sink fails (bounded queue, paused=1), retries, and loses nothing', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'outage', 'u9'), '0.log');
    const total = 5000;
    writeFileSync(file, lines(0, total));
    const sink = new RecordingSink();
    sink.failing = true;
    const maxQueueBytes = 256 * 1024;
    const { collector, registry } = e.collector(sink, { maxQueueBytes, chunkBytes: 16 * 1024, batchMaxRecords: 500 });
    await collector.start();
    await until('paused', async () => (await metric(registry, 'vigil_log_collector_paused')) === 1);
    const q1 = collector.queuedBytes;
    const read1 = (await metric(registry, 'vigil_log_collector_lines_read_total'))!;
    await sleep(500);
    expect(collector.queuedBytes).toBe(q1); // no growth
    expect(await metric(registry, 'vigil_log_collector_lines_read_total')).toBe(read1);
    expect(q1).toBeGreaterThanOrEqual(maxQueueBytes);
    expect(q1).toBeLessThan(2 * maxQueueBytes);
    expect(await metric(registry, 'vigil_log_collector_queue_bytes')).toBe(q1);
    expect(read1).toBeLessThan(total);
    expect(await metric(registry, 'vigil_log_collector_paused')).toBe(1);
    // Collection is stalled: the liveness timestamp stops.
    const stale = (await metric(registry, 'vigil_log_collector_last_read_timestamp_seconds', { node: NODE }))!;
    await sleep(200);
    expect(await metric(registry, 'vigil_log_collector_last_read_timestamp_seconds', { node: NODE })).toBe(stale);
    expect(await metric(registry, 'vigil_log_collector_sink_errors_total')).toBeGreaterThan(2);
    expect(sink.records.length).toBe(0);

    sink.failing = false;
    await until(`${total} records`, () => sink.records.length === total, 30_000);
    expect(sink.messages).toEqual(Array.from({ length: total }, (_, i) => `line ${i}`));
    await until('unpaused', async () => (await metric(registry, 'vigil_log_collector_paused')) === 0);
    expect(collector.queuedBytes).toBe(0);
  });

  it('never cuts a stack trace whose rest is already in the file, however long reading was paused', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'traces', 'u10'), '0.log');
    const trace = (n: number) =>
      [`ERROR request ${n} failed: java.lang.IllegalStateException: boom`, '\tat a.B.c(B.java:1)', '\tat a.B.d(B.java:2)', 'Caused by: java.io.IOException: x', '\t... 3 more'];
    const traces = 400;
    let text = '';
    let seq = 0;
    for (let n = 0; n < traces; n++) for (const l of trace(n)) text += cri(seq++, l);
    writeFileSync(file, text);
    const sink = new RecordingSink();
    sink.failing = true;
    // A small queue and small chunks: reading stops many times in the middle of a trace.
    const { collector } = e.collector(sink, { maxQueueBytes: 64 * 1024, chunkBytes: 700, batchMaxRecords: 50, assembler: { multilineFlushMs: 100 } });
    await collector.start();
    await sleep(1500); // well past the flush timeout, with reading paused by the failing sink
    sink.failing = false;
    await until(`${traces} records`, () => sink.records.length >= traces, 30_000);
    await sleep(300);
    expect(sink.messages).toEqual(Array.from({ length: traces }, (_, n) => trace(n).join('\n')));
  });

  it('flushes a trace the writer left unfinished at the end of the file once the timeout passed', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'stalled', 'u11'), '0.log');
    writeFileSync(file, cri(0, 'ERROR failed: java.lang.IllegalStateException: boom') + cri(1, '\tat a.B.c(B.java:1)'));
    const sink = new RecordingSink();
    const { collector } = e.collector(sink, { assembler: { multilineFlushMs: 300 } });
    await collector.start();
    await until('the pending trace is flushed', () => sink.records.length === 1, 5000);
    expect(sink.messages).toEqual(['ERROR failed: java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)']);
  });

  it('does not read excluded pods (checkpointed at their end) and enriches the others with labels', async () => {
    const e = await env();
    const noisy = path.join(e.containerDir('ns', 'noisy', 'u10'), '0.log');
    const quiet = path.join(e.containerDir('ns', 'quiet', 'u11'), '0.log');
    const sidecar = path.join(e.containerDir('ns', 'quiet', 'u11', 'istio-proxy'), '0.log');
    writeFileSync(noisy, lines(0, 50));
    writeFileSync(quiet, lines(0, 3, 500));
    writeFileSync(sidecar, lines(0, 3, 700));
    const metadata: Record<string, PodMetadata> = {
      u10: { labels: {}, annotations: { 'vigil.io/exclude': 'true' } },
      u11: { labels: { app: 'quiet' }, annotations: { 'vigil.io/exclude-containers': 'istio-proxy' } },
    };
    const provider: PodMetadataProvider = { get: async (_ns, _pod, uid) => metadata[uid] };
    const sink = new RecordingSink();
    const { collector, registry } = e.collector(sink, { podMetadata: provider });
    await collector.start();
    await until('3 records', () => sink.records.length === 3);
    const noisyKey = fileKeyOfFirstLine(cri(0, 'line 0'));
    await until('excluded file checkpointed at its end', () => e.checkpoints().get(noisyKey) === readFileSync(noisy).length);
    appendFileSync(noisy, lines(50, 60) + 'half a li');
    await until('checkpoint follows the excluded file to its last complete line', () => e.checkpoints().get(noisyKey) === readFileSync(noisy).length - 9);
    await sleep(200);
    expect(sink.records.map((r) => [r.source.pod, r.source.container, r.message])).toEqual([0, 1, 2].map((i) => ['quiet', 'app', `line ${i}`]));
    expect(sink.records[0]!.source.podLabels).toEqual({ app: 'quiet' });
    expect(await metric(registry, 'vigil_log_collector_lines_read_total')).toBe(3);
  });

  it('never lets a hung pod metadata provider stall reading: known pods go on, a new pod waits metadataWaitMs at most', async () => {
    const e = await env();
    const known = path.join(e.containerDir('ns', 'known', 'k1'), '0.log');
    const fresh = path.join(e.containerDir('ns', 'fresh', 'f1'), '0.log');
    writeFileSync(known, lines(0, 1));
    let hung = false;
    const provider: PodMetadataProvider = {
      get: (_ns, _pod, uid) => (hung || uid === 'f1' ? new Promise(() => undefined) : Promise.resolve({ labels: { pod: uid }, annotations: {} })),
    };
    const sink = new RecordingSink();
    const { collector } = e.collector(sink, { podMetadata: provider, metadataWaitMs: 800, assembler: { multiline: false } });
    await collector.start();
    await until('the known pod is read', () => sink.records.length === 1);
    hung = true; // from now on the kubelet answers nothing
    const t0 = Date.now();
    writeFileSync(fresh, lines(0, 1, 100));
    appendFileSync(known, lines(1, 2));
    await until('the known pod goes on', () => sink.records.length === 2);
    expect(sink.records[1]!.source.pod).toBe('known');
    expect(sink.records[1]!.source.podLabels).toEqual({ pod: 'k1' });
    await until('the new pod, without metadata, after the wait', () => sink.records.length === 3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    expect(sink.records[2]!.source).toMatchObject({ pod: 'fresh' });
    expect(sink.records[2]!.source.podLabels).toBeUndefined();
  });

  it('holds a container over its rate limit in its file instead of dropping lines', async () => {
    const e = await env();
    const file = path.join(e.containerDir('ns', 'chatty', 'u12'), '0.log');
    writeFileSync(file, lines(0, 25));
    const sink = new RecordingSink();
    const started = Date.now();
    const { collector } = e.collector(sink, { rateLimit: { linesPerSecond: 20, burst: 5 } });
    await collector.start();
    await sleep(400);
    const early = sink.records.length;
    expect(early).toBeGreaterThanOrEqual(5);
    expect(early).toBeLessThanOrEqual(5 + 20 * 0.6);
    await until('all 25', () => sink.records.length === 25);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // (25 - 5) lines at 20/s
    expect(sink.messages).toEqual(Array.from({ length: 25 }, (_, i) => `line ${i}`));
  });

  it('tails files from extra globs with metadata from their directories, telling same-first-line files apart', async () => {
    const e = await env();
    const a = path.join(e.dir, 'volumes', 'billing', 'api-7f', 'server.log');
    const b = path.join(e.dir, 'volumes', 'billing', 'api-8g', 'server.log');
    mkdirSync(path.dirname(a), { recursive: true });
    mkdirSync(path.dirname(b), { recursive: true });
    writeFileSync(a, 'starting\nERROR boom\n');
    writeFileSync(b, 'starting\n');
    const sink = new RecordingSink();
    const { collector } = e.collector(sink, { extraGlobs: [`${e.dir}/volumes/*/*/*.log`] });
    await collector.start();
    await until('3 records', () => sink.records.length === 3);
    const got = sink.records.map((r) => [r.source.namespace, r.source.pod, r.source.container, r.message, r.level]).sort();
    expect(got).toEqual([
      ['billing', 'api-7f', 'server', 'ERROR boom', 'error'],
      ['billing', 'api-7f', 'server', 'starting', 'unknown'],
      ['billing', 'api-8g', 'server', 'starting', 'unknown'],
    ]);
    expect(new Set(sink.records.map((r) => r.source.fileKey)).size).toBe(2);
  });
});
