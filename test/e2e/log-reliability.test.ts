/**
 * The log pipeline's promise, end to end on the embedded path: a million runtime lines written by
 * 50 pods (partial lines, P/F fragments, stack traces, rotations with gzip) reach the store exactly
 * once, in order, with their metadata — although the collector is killed with SIGKILL five times
 * and the store refuses writes for 30 s once — and the process stays under a fixed memory bound.
 *
 * The store outage is real: the test holds an exclusive write transaction on the store's files, as
 * a stuck backup or a second writer would, so every append fails with SQLITE_BUSY until it ends.
 */
import Database from 'better-sqlite3';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Matcher } from '../../model/matcher.js';
import { SqliteLogStore } from '../../storage/logs/sqlite/index.js';
import type { LogStore, StoredLogRecord } from '../../storage/logs/interface.js';
import { generatedRecord, PodLogGenerator, type GeneratedPod } from '../support/pod-log-generator.js';
import { freePort, VigilProcess, waitForHttp } from '../support/vigil-process.js';

const TOTAL_LINES = Number(process.env.VIGIL_RELIABILITY_LINES ?? 1_000_000);
const WRITE_SECONDS = 40;
const KILLS = 5;
const OUTAGE_MS = 30_000;
const RSS_BOUND_BYTES = 512 * 1024 * 1024;
const NODE = 'node-reliability';
/** About three rotations per pod: lines average ~140 bytes and there are 50 pods. */
const ROTATE_BYTES = Math.max(64 * 1024, Math.round((TOTAL_LINES * 140) / 50 / 3));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Holds an exclusive write transaction on every log store file until released. */
async function lockStore(logDir: string): Promise<() => void> {
  const files = (await readdir(logDir)).filter((f) => f.endsWith('.db'));
  const handles = files.map((f) => {
    const db = new Database(path.join(logDir, f), { timeout: 10_000 });
    db.exec('BEGIN EXCLUSIVE');
    return db;
  });
  expect(handles.length).toBeGreaterThan(0);
  return () => {
    for (const db of handles) {
      db.exec('ROLLBACK');
      db.close();
    }
  };
}

async function readPod(store: LogStore, pod: GeneratedPod, endNs: bigint): Promise<StoredLogRecord[]> {
  const out: StoredLogRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.search({
      matchers: [new Matcher('=', 'namespace', pod.namespace), new Matcher('=', 'pod', pod.name)],
      lineFilters: [],
      startNs: 0n,
      endNs,
      direction: 'forward',
      limit: 5000,
      ...(cursor !== undefined && { cursor }),
    });
    out.push(...page.records);
    if (page.nextCursor === undefined) return out;
    cursor = page.nextCursor;
  }
}

async function storedCount(store: LogStore, endNs: bigint): Promise<number> {
  const buckets = await store.volume({ matchers: [], lineFilters: [], startNs: 0n, endNs }, endNs);
  return buckets.reduce((n, b) => n + b.count, 0);
}

describe('log pipeline reliability (embedded)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(
    `${TOTAL_LINES} lines, ${KILLS} SIGKILLs and a ${OUTAGE_MS / 1000} s store outage: every line stored once, in order`,
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'vigil-log-reliability-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const root = path.join(dir, 'pods');
      const dataDir = path.join(dir, 'data');
      const logDir = path.join(dataDir, 'logs');
      // One UTC day, so the whole run lands in one store file; 1 ms between a pod's records.
      const startNs = BigInt(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 1)) * 1_000_000n;
      const gen = new PodLogGenerator({ root, startNs, rotateBytes: ROTATE_BYTES, seed: 42 });
      const port = await freePort();
      const env = {
        VIGIL_LISTEN: `127.0.0.1:${port}`,
        VIGIL_DATA_DIR: dataDir,
        VIGIL_PODS_LOG_ROOT: root,
        VIGIL_NODE_NAME: NODE,
      };
      let vigil: VigilProcess | undefined;
      const start = async () => {
        vigil = new VigilProcess(['all'], env);
        try {
          await waitForHttp(`http://127.0.0.1:${port}/-/ready`, 200, 60_000);
        } catch (err) {
          throw new Error(`${(err as Error).message}\n${vigil.output()}`);
        }
      };
      cleanups.push(async () => {
        if (vigil && vigil.child.exitCode === null && vigil.child.signalCode === null) await vigil.signalAndWait('SIGKILL');
      });
      await start();

      let maxRss = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          if (vigil) maxRss = Math.max(maxRss, await rssOf(vigil.pid));
          await sleep(250);
        }
      })();

      // Kill moments spread over the write phase, at least 4 s apart; the outage starts mid-way.
      const killAt: number[] = [];
      let seed = 7;
      const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      while (killAt.length < KILLS) {
        const t = 3_000 + rnd() * (WRITE_SECONDS * 1000 - 2_000);
        if (killAt.every((k) => Math.abs(k - t) >= 4_000)) killAt.push(t);
      }
      killAt.sort((a, b) => a - b);
      const outageAt = (WRITE_SECONDS * 1000) / 2;
      let release: (() => void) | undefined;
      let outageDone = false;
      const kills: number[] = [];

      const began = Date.now();
      const stepLines = Math.ceil(TOTAL_LINES / (WRITE_SECONDS * 10));
      while (gen.linesWritten < TOTAL_LINES) {
        gen.step(Math.min(stepLines, TOTAL_LINES - gen.linesWritten));
        const elapsed = Date.now() - began;
        if (killAt.length > 0 && elapsed >= killAt[0]!) {
          killAt.shift();
          const exit = await vigil!.signalAndWait('SIGKILL');
          expect(exit.signal).toBe('SIGKILL');
          kills.push(elapsed);
          await start();
        }
        if (!outageDone && release === undefined && elapsed >= outageAt) release = await lockStore(logDir);
        if (release !== undefined && elapsed >= outageAt + OUTAGE_MS) {
          release();
          release = undefined;
          outageDone = true;
        }
        await sleep(100);
      }
      gen.finish();
      // Writing may finish before the outage has run its full length; keep it up until it has.
      if (!outageDone) {
        if (release === undefined) release = await lockStore(logDir);
        await sleep(Math.max(0, began + outageAt + OUTAGE_MS - Date.now()));
        release();
        outageDone = true;
      }
      while (killAt.length > 0) {
        killAt.shift();
        await vigil!.signalAndWait('SIGKILL');
        kills.push(Date.now() - began);
        await start();
      }
      expect(kills).toHaveLength(KILLS);
      expect(gen.rotations).toBeGreaterThan(0);
      expect(gen.gzipped).toBeGreaterThan(0);

      const expected = gen.pods.reduce((n, p) => n + p.records, 0);
      const endNs = startNs + 86_400_000_000_000n;
      const reader = new SqliteLogStore({ dir: logDir, readonly: true });
      cleanups.push(() => reader.close());
      let stored = 0;
      const deadline = Date.now() + 180_000;
      while (Date.now() < deadline) {
        stored = await storedCount(reader, endNs);
        if (stored >= expected) break;
        await sleep(1000);
      }
      sampling = false;
      await sampler;
      const stop = await vigil!.signalAndWait('SIGTERM');
      const tail = vigil!.lines.slice(-15).join('\n');
      expect(stop.code, tail).toBe(0);

      const problems: string[] = [];
      for (const pod of gen.pods) {
        const records = await readPod(reader, pod, endNs);
        if (records.length !== pod.records) problems.push(`${pod.name}: ${records.length} records stored, ${pod.records} written`);
        for (const [seq, r] of records.entries()) {
          if (problems.length > 20) break;
          const want = generatedRecord(pod.name, pod.index, seq);
          if (r.message !== want.message) {
            problems.push(`${pod.name} record ${seq} (offset ${r.offset}): got ${JSON.stringify(r.message.slice(0, 120))}, want ${JSON.stringify(want.message.slice(0, 120))}`);
          } else if (
            r.namespace !== pod.namespace ||
            r.podUid !== pod.uid ||
            r.container !== pod.container ||
            r.node !== NODE ||
            r.stream !== want.stream ||
            r.level !== want.level ||
            r.timeNs !== gen.timeNs(seq, 0)
          ) {
            problems.push(`${pod.name} record ${seq}: metadata ${JSON.stringify({ ...r, message: undefined, timeNs: String(r.timeNs) })}`);
          }
        }
      }
      expect(problems).toEqual([]);
      expect(stored, `records in the store; last output:\n${tail}`).toBe(expected);
      expect(maxRss).toBeGreaterThan(0);
      expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
      console.log(
        `log reliability: ${gen.linesWritten} lines, ${expected} records, ${gen.rotations} rotations (${gen.gzipped} gzipped), ` +
          `kills at ${kills.map((k) => (k / 1000).toFixed(1)).join(', ')} s, peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB`,
      );
    },
    15 * 60_000,
  );
});
