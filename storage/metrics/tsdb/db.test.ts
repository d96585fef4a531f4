import { appendFile, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../util/logging.js';
import { openTSDB, type TSDB, type TSDBOptions } from './db.js';
import type { TSDBLogger } from './logger.js';
import { STALE_NAN, isStaleNaN } from '../../../model/stale.js';
import { dump, fakeClock, L, M } from './testutil.js';
import { segmentName } from './wal.js';

const HOUR = 3600_000;
const T0 = 1_700_000_000_000;

const dirs: string[] = [];
const open: TSDB[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vigil-tsdb-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

function logs() {
  const warn: string[] = [];
  const info: string[] = [];
  return { warn, info, logger: { warn: (m: string) => void warn.push(m), info: (m: string) => void info.push(m) } };
}

async function openDB(opts: TSDBOptions): Promise<TSDB> {
  const db = await openTSDB({ walFlushIntervalMs: 0, maintenanceIntervalMs: 0, ...opts });
  open.push(db);
  return db;
}

async function closeDB(db: TSDB): Promise<void> {
  open.splice(open.indexOf(db), 1);
  await db.close();
}

/** 20 series × n samples, 15 s apart, counter-like values. */
async function fill(db: TSDB, from: number, n: number, start = T0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const app = db.appender();
    for (let s = 0; s < 20; s++) app.append(0, L({ __name__: 'c', s: String(s), job: s % 2 ? 'odd' : 'even' }), start + i * 15_000, i * (s + 1));
    await app.commit();
  }
}

const all = [M('=', '__name__', 'c')];

describe('openTSDB', () => {
  it('recovers everything after a clean close', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + HOUR);
    const db = await openDB({ dir, clock: clock.now });
    await fill(db, 0, 200);
    const app = db.appender();
    app.append(0, L({ __name__: 'c', s: 'stale' }), T0, STALE_NAN);
    await app.commit();
    const before = await dump(db, all);
    await closeDB(db);
    const db2 = await openDB({ dir, clock: clock.now });
    expect(await dump(db2, all)).toEqual(before);
    expect(db2.stats()).toMatchObject({ numSeries: 21, numSamples: 20 * 200 + 1 });
    const [s] = await (await db2.querier(0, Infinity)).select([M('=', 's', 'stale')]);
    expect(isStaleNaN([...s!.samples()][0]!.v)).toBe(true);
    // Appends continue where the replay left off, and refs stay stable.
    const app2 = db2.appender();
    expect(() => app2.append(0, L({ __name__: 'c', s: '0', job: 'even' }), T0, 1)).toThrow(expect.objectContaining({ reason: 'out_of_order' }));
    app2.append(0, L({ __name__: 'c', s: '0', job: 'even' }), T0 + 200 * 15_000, 1);
    await app2.commit();
  });

  it('keeps sealed chunks in chunks_head segments, which a restart rebuilds from the WAL', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + HOUR);
    const db = await openDB({ dir, clock: clock.now });
    await fill(db, 0, 300); // 300 samples a series: two sealed chunks each
    expect(db.stats().headChunksMapped).toBe(true);
    expect(await readdir(join(dir, 'chunks_head'))).toEqual(['000001']);
    const before = await dump(db, all);
    await db.flushWAL();
    // A crash leaves segment files behind; they are scratch, never read back.
    const crashed = await tmp();
    await cp(dir, crashed, { recursive: true });
    await appendFile(join(crashed, 'chunks_head', '000001'), Buffer.from('garbage'));
    await appendFile(join(crashed, 'chunks_head', '000009'), Buffer.from('garbage'));
    const db2 = await openDB({ dir: crashed, clock: clock.now });
    expect(await dump(db2, all)).toEqual(before);
    expect(await readdir(join(crashed, 'chunks_head'))).toEqual(['000001']);
    // A clean stop leaves no scratch behind.
    await closeDB(db2);
    expect(await readdir(join(crashed, 'chunks_head'))).toEqual([]);

    const heapDir = await tmp();
    const onHeap = await openDB({ dir: heapDir, clock: clock.now, headChunks: 'heap' });
    await fill(onHeap, 0, 300);
    expect(onHeap.stats().headChunksMapped).toBe(false);
    expect(await dump(onHeap, all)).toEqual(before);
    expect(await readdir(heapDir)).not.toContain('chunks_head');
  });

  it('recovers flushed commits after a crash and truncates a torn tail', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + HOUR);
    const db = await openDB({ dir, clock: clock.now });
    await fill(db, 0, 100);
    await db.flushWAL();
    const flushed = await dump(db, all);
    await fill(db, 100, 10); // committed but never flushed: lost in the crash
    // "kill -9": copy the directory as it is on disk, never closing the first instance.
    const crashed = await tmp();
    await cp(dir, crashed, { recursive: true });
    const segs = (await readdir(join(crashed, 'wal'))).sort();
    const torn = Buffer.alloc(20);
    torn.writeUInt32LE(4096, 0);
    await appendFile(join(crashed, 'wal', segs[segs.length - 1]!), torn);
    const l = logs();
    const db2 = await openDB({ dir: crashed, clock: clock.now, logger: l.logger });
    expect(await dump(db2, all)).toEqual(flushed);
    expect(l.warn.join('\n')).toMatch(/torn or corrupt/);
    // The recovered DB keeps working and survives its own restart.
    await fill(db2, 100, 5);
    const after = await dump(db2, all);
    await closeDB(db2);
    const db3 = await openDB({ dir: crashed, clock: clock.now });
    expect(await dump(db3, all)).toEqual(after);
  });

  it('checkpoints, deletes covered segments and replays to the same state', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + 10 * HOUR);
    const db = await openDB({ dir, clock: clock.now, walSegmentSize: 4096 });
    await fill(db, 0, 300);
    await db.flushWAL();
    const segsBefore = (await readdir(join(dir, 'wal'))).filter((f) => /^\d+$/.test(f));
    expect(segsBefore.length).toBeGreaterThan(5);
    const st = await db.checkpoint();
    expect(st.series).toBe(20);
    expect(st.chunks).toBe(20 * 3); // 300 samples = 120 + 120 + 60 (open)
    await fill(db, 300, 50); // after the checkpoint: lands in new segments
    const files = (await readdir(join(dir, 'wal'))).sort();
    expect(files).toContain(`checkpoint.${segmentName(st.segment)}`);
    expect(files.filter((f) => /^\d+$/.test(f)).every((f) => Number(f) > st.segment)).toBe(true);
    const before = await dump(db, all);
    const statsBefore = db.stats();
    await closeDB(db);
    const db2 = await openDB({ dir, clock: clock.now });
    expect(await dump(db2, all)).toEqual(before);
    expect(db2.stats()).toMatchObject({ numSeries: statsBefore.numSeries, numSamples: statsBefore.numSamples, chunks: statsBefore.chunks });
    // A second checkpoint replaces the first.
    const st2 = await db2.checkpoint();
    const files2 = (await readdir(join(dir, 'wal'))).sort();
    expect(files2.filter((f) => f.startsWith('checkpoint.'))).toEqual([`checkpoint.${segmentName(st2.segment)}`]);
    await closeDB(db2);
    const db3 = await openDB({ dir, clock: clock.now });
    expect(await dump(db3, all)).toEqual(before);
  });

  it('applies time retention in memory, in checkpoints and on replay', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0);
    const db = await openDB({ dir, clock: clock.now, retentionMs: HOUR });
    await fill(db, 0, 480); // 2 hours of data from T0
    clock.set(T0 + 2 * HOUR);
    const r = await db.truncate();
    expect(r.mint).toBe(T0 + HOUR);
    expect(r.samples).toBeGreaterThan(0);
    const data = await dump(db, all);
    // Whole chunks are dropped, but queries clamp to the cutoff.
    for (const s of Object.values(data)) expect(s[0]![0]).toBe(T0 + HOUR);
    expect(db.stats().numSamples).toBeGreaterThanOrEqual(20 * 240);
    await closeDB(db);
    // On replay the WAL still holds the old samples; they are dropped as too old.
    const db2 = await openDB({ dir, clock: clock.now, retentionMs: HOUR });
    for (const s of Object.values(await dump(db2, all))) expect(s[0]![0]).toBeGreaterThanOrEqual(T0 + HOUR);
    // Series whose samples all aged out are garbage-collected.
    clock.set(T0 + 10 * HOUR);
    expect((await db2.truncate()).series).toBe(20);
    expect(db2.stats()).toMatchObject({ numSeries: 0, numSamples: 0, chunks: 0, bytes: 0 });
    expect(await (await db2.querier(0, Infinity)).labelNames()).toEqual([]);
  });

  it('applies size retention by dropping the oldest chunks', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + HOUR);
    const db = await openDB({ dir, clock: clock.now, retentionMs: 100 * HOUR, maxBytes: 10_000 });
    await fill(db, 0, 1200);
    const big = db.stats().bytes;
    expect(big).toBeGreaterThan(10_000);
    await db.truncate();
    expect(db.stats().bytes).toBeLessThanOrEqual(10_000);
    const first = Object.values(await dump(db, all))[0]![0]![0];
    expect(first).toBeGreaterThan(T0);
  });

  it('maps a series re-created under a new ref back onto one series on replay', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0);
    const db = await openDB({ dir, clock: clock.now, retentionMs: HOUR });
    const ls = L({ __name__: 'c', s: 'x' });
    let app = db.appender();
    const ref1 = app.append(0, ls, T0, 1);
    await app.commit();
    clock.set(T0 + 2 * HOUR);
    await db.truncate(); // collects the series
    app = db.appender();
    const ref2 = app.append(ref1, ls, T0 + 2 * HOUR, 2); // stale ref falls back to labels
    await app.commit();
    expect(ref2).not.toBe(ref1);
    await closeDB(db);
    const db2 = await openDB({ dir, clock: clock.now, retentionMs: HOUR });
    expect(await dump(db2, all)).toEqual({ 'c{s="x"}': [[T0 + 2 * HOUR, 2]] });
  });

  it('accepts the project pino logger', async () => {
    const logger: TSDBLogger = silentLogger(); // compile-time check as much as a runtime one
    const db = await openDB({ dir: await tmp(), logger });
    expect(db.stats().numSeries).toBe(0);
  });

  it('rejects use after close', async () => {
    const dir = await tmp();
    const db = await openDB({ dir });
    await closeDB(db);
    expect(() => db.appender()).toThrow(/closed/);
    await expect(db.querier(0, 1)).rejects.toThrow(/closed/);
  });

  it('runs retention and checkpoints in the background', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0);
    const l = logs();
    const db = await openDB({ dir, clock: clock.now, retentionMs: HOUR, maintenanceIntervalMs: 20, checkpointIntervalMs: HOUR, logger: l.logger });
    await fill(db, 0, 10);
    clock.set(T0 + 3 * HOUR);
    for (let i = 0; i < 250 && db.stats().lastCheckpoint === null; i++) await new Promise((r) => setTimeout(r, 20));
    expect(db.stats()).toMatchObject({ numSeries: 0 });
    expect(db.stats().lastCheckpoint).not.toBeNull();
    expect(l.info.join('\n')).toMatch(/checkpoint/);
  });

  it('interleaved appenders commit concurrently and replay to the same state', async () => {
    const dir = await tmp();
    const clock = fakeClock(T0 + HOUR);
    const db = await openDB({ dir, clock: clock.now, walSegmentSize: 8192 });
    const workers = Array.from({ length: 8 }, async (_, w) => {
      for (let round = 0; round < 50; round++) {
        const app = db.appender();
        for (let s = 0; s < 10; s++) app.append(0, L({ __name__: 'c', w: String(w), s: String(s) }), T0 + round * 1000, round);
        // Everyone also writes one shared series; some of these commits lose the race.
        try {
          app.append(0, L({ __name__: 'c', shared: 'y' }), T0 + round * 1000 + w, w);
        } catch {
          // refused as out of order at append time: skip it, as a scraper would
        }
        await new Promise((r) => setImmediate(r));
        if (round % 7 === w % 7) await app.rollback();
        else await app.commit();
      }
    });
    await Promise.all(workers);
    await db.checkpoint();
    await fill(db, 0, 3);
    const before = await dump(db, all);
    expect(Object.keys(before)).toHaveLength(8 * 10 + 1 + 20);
    const shared = before['c{shared="y"}']!;
    for (let i = 1; i < shared.length; i++) expect(shared[i]![0]).toBeGreaterThan(shared[i - 1]![0]);
    await closeDB(db);
    const db2 = await openDB({ dir, clock: clock.now });
    expect(await dump(db2, all)).toEqual(before);
  });
});
