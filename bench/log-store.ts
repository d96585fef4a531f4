/**
 * The embedded log store on its own (`npm run build && node dist/bench/log-store.js`):
 *
 * 1. text-index alternatives on the store's table layout: no index, FTS5 word tokens (`ascii`,
 *    `unicode61`) and trigrams, appending 150-byte lines in batches of 2000;
 * 2. `SqliteLogStore.append` of BENCH_LINES (default 2M) such lines over one day, 400 container
 *    streams in 20 namespaces: lines/s (append time only, records built outside the clock) and
 *    bytes on disk per million lines;
 * 3. query latency on that day: median of 5 runs (and the first run) per query, each plan forced
 *    too, so the planner's choice can be checked against the alternatives.
 *
 * Run it pinned to one core for the one-core figure: `taskset -c 0 node dist/bench/log-store.js`.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { logRecordId, parseTimeNs, type LogLevel, type LogRecord, type LogSource } from '../model/logs.js';
import { Matcher } from '../model/matcher.js';
import type { LineFilter, LogSearchRequest } from '../storage/logs/interface.js';
import { SqliteLogStore, type SqliteQueryPlan } from '../storage/logs/sqlite/index.js';
import { formatBytes, printTable } from './proc.js';

const LINES = Number(process.env.BENCH_LINES ?? 2_000_000);
const BATCH = 2000;
const LINE_BYTES = 150;
const NAMESPACES = 20;
const PODS_PER_NAMESPACE = 10;
const T0 = parseTimeNs('2025-03-10T00:00:00Z');
const DAY_NS = 86_400_000_000_000n;
const MINUTE_NS = 60_000_000_000n;

const WORDS = ['order', 'payment', 'cart', 'user', 'session', 'cache', 'upstream', 'timeout', 'retry', 'inventory', 'shipment', 'invoice'];
const PATHS = ['/api/v1/orders', '/api/v1/cart', '/api/v1/users', '/healthz', '/api/v1/payments', '/metrics'];

/** A small fast generator, so runs are repeatable. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function line(r: () => number, i: number): { message: string; level: LogLevel } {
  const roll = r();
  const level: LogLevel = roll < 0.02 ? 'error' : roll < 0.08 ? 'warn' : roll < 0.1 ? 'debug' : 'info';
  const trace = Math.floor(r() * 2 ** 52).toString(16).padStart(13, '0');
  const w = WORDS[Math.floor(r() * WORDS.length)]!;
  // One line in 100k carries a word found nowhere else.
  const rare = i % 100_000 === 50_000 ? ` needle-${i}` : '';
  let message =
    level === 'error'
      ? `level=error msg="${w} failed: connection reset by peer" path=${PATHS[i % PATHS.length]} trace=${trace}${rare}`
      : `level=${level} msg="handled ${w}" method=GET path=${PATHS[i % PATHS.length]}/${Math.floor(r() * 100000)} status=200 dur=${Math.floor(r() * 900)}ms trace=${trace}${rare}`;
  while (message.length < LINE_BYTES) message += ` ${WORDS[Math.floor(r() * WORDS.length)]}`;
  return { message: message.slice(0, LINE_BYTES), level };
}

interface Stream {
  readonly source: LogSource;
  offset: number;
}

function streams(): Stream[] {
  const out: Stream[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    for (let p = 0; p < PODS_PER_NAMESPACE; p++) {
      for (const container of ['app', 'proxy']) {
        const uid = `uid-${n}-${p}`;
        out.push({
          source: {
            node: `node-${(n * PODS_PER_NAMESPACE + p) % 8}`,
            namespace: `ns-${n}`,
            pod: `svc-${n}-${p}`,
            podUid: uid,
            container,
            restart: 0,
            path: `/var/log/pods/ns-${n}_svc-${n}-${p}_${uid}/${container}/0.log`,
            fileKey: `${uid}-${container}`,
          },
          offset: 0,
        });
      }
    }
  }
  return out;
}

/** The namespace each rare word was written in. */
const needleNamespaces = new Map<string, string>();

/** Batches of the dataset: lines evenly over the day, streams round-robin with some skew. */
function* batches(): Generator<LogRecord[]> {
  const r = rng(42);
  const all = streams();
  const stepNs = DAY_NS / BigInt(LINES);
  for (let start = 0; start < LINES; start += BATCH) {
    const batch: LogRecord[] = [];
    for (let i = start; i < Math.min(LINES, start + BATCH); i++) {
      // Squared: a few streams write much more than the rest, as real pods do.
      const s = all[Math.floor(r() ** 2 * all.length)]!;
      const { message, level } = line(r, i);
      if (i % 100_000 === 50_000) needleNamespaces.set(`needle-${i}`, s.source.namespace);
      batch.push({
        id: logRecordId(s.source.node, s.source.fileKey, s.offset),
        timeNs: T0 + BigInt(i) * stepNs,
        stream: level === 'error' ? 'stderr' : 'stdout',
        level,
        message,
        source: s.source,
        offset: s.offset,
        endOffset: s.offset + LINE_BYTES + 40,
      });
      s.offset += LINE_BYTES + 40;
    }
    yield batch;
  }
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}

/** Part 1: the store's row layout with each text index, raw SQL, no store code around it. */
function indexAlternatives(): void {
  const lines = 300_000;
  const r = rng(7);
  const texts = Array.from({ length: 50_000 }, (_, i) => line(r, i).message);
  const ids = Array.from({ length: lines }, (_, i) => logRecordId('n', 'f', i));
  const variants: Array<[string, string | undefined]> = [
    ['none', undefined],
    ['ascii words, detail=none', "tokenize='ascii', detail=none, columnsize=0"],
    ['ascii words, detail=full', "tokenize='ascii'"],
    ['unicode61 words, detail=none', "tokenize='unicode61', detail=none, columnsize=0"],
    ['trigram, detail=none', "tokenize='trigram case_sensitive 1', detail=none, columnsize=0"],
    ['trigram, detail=full', "tokenize='trigram case_sensitive 1'"],
  ];
  const rows: string[][] = [];
  for (const [name, fts] of variants) {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-fts-'));
    const db = new Database(path.join(dir, 'x.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 4000');
    db.exec(`CREATE TABLE records (rowid INTEGER PRIMARY KEY, sid INTEGER NOT NULL, t INTEGER NOT NULL, off INTEGER NOT NULL,
             id TEXT NOT NULL, msg TEXT NOT NULL, fields TEXT);
             CREATE UNIQUE INDEX records_stream_order ON records (sid, t, off, id);`);
    if (fts) {
      db.exec(`CREATE VIRTUAL TABLE records_fts USING fts5 (msg, content='records', content_rowid='rowid', ${fts})`);
      db.exec("INSERT INTO records_fts (records_fts, rank) VALUES ('automerge', 16)");
    }
    const insert = db.prepare('INSERT OR IGNORE INTO records (sid, t, off, id, msg, fields) VALUES (?, ?, ?, ?, ?, NULL)');
    const index = fts ? db.prepare('INSERT INTO records_fts (rowid, msg) SELECT rowid, msg FROM records WHERE rowid > ?') : undefined;
    const maxRowid = db.prepare('SELECT coalesce(max(rowid), 0) FROM records').pluck();
    const write = db.transaction((from: number) => {
      const before = maxRowid.get() as number;
      for (let i = from; i < from + BATCH; i++) insert.run(i % 400, i * 1000, i * 190, ids[i % ids.length]!, texts[i % texts.length]);
      index?.run(before);
    });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < lines; i += BATCH) write(i);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    db.close();
    rows.push([
      name,
      Math.round(lines / seconds).toLocaleString('en'),
      Math.round(lines / ((c.user + c.system) / 1e6)).toLocaleString('en'),
      formatBytes((dirBytes(dir) / lines) * 1e6),
    ]);
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(['text index (300k lines, 400 streams)', 'lines/s', 'lines/CPU-s', 'bytes per 1M lines'], rows);
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await f();
  return { ms: performance.now() - t0, result };
}

async function main(): Promise<void> {
  indexAlternatives();

  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-logstore-'));
  try {
    const store = new SqliteLogStore({ dir });
    let appendMs = 0;
    let appendCpu = 0;
    let stored = 0;
    for (const batch of batches()) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      stored += (await store.append(batch)).stored;
      const c = process.cpuUsage(c0);
      appendCpu += (c.user + c.system) / 1e6;
      appendMs += performance.now() - t0;
    }
    await store.close(); // checkpoints the WAL into the file
    const bytes = dirBytes(dir);
    printTable(
      ['append', 'lines', 'seconds', 'lines/s', 'lines/CPU-s', 'MiB/s', 'bytes per 1M lines'],
      [[
        `SqliteLogStore, batches of ${BATCH}`,
        stored.toLocaleString('en'),
        (appendMs / 1000).toFixed(1),
        Math.round(stored / (appendMs / 1000)).toLocaleString('en'),
        Math.round(stored / appendCpu).toLocaleString('en'),
        ((stored * LINE_BYTES) / 2 ** 20 / (appendMs / 1000)).toFixed(1),
        formatBytes((bytes / stored) * 1e6),
      ]],
    );

    const ns = (n: number) => new Matcher('=', 'namespace', `ns-${n}`);
    const pod = (n: number, p: number) => new Matcher('=', 'pod', `svc-${n}-${p}`);
    const window = (fromMinute: number, minutes: number) => ({
      startNs: T0 + BigInt(fromMinute) * MINUTE_NS,
      endNs: T0 + BigInt(fromMinute + minutes) * MINUTE_NS,
    });
    const day = { startNs: T0, endNs: T0 + DAY_NS };
    const needle = `needle-${Math.floor(LINES / 100_000 / 2) * 100_000 + 50_000}`;
    const filter = (op: LineFilter['op'], value: string): LineFilter => ({ op, value });
    const queries: Array<[string, LogSearchRequest]> = [
      ['a pod, 15 min, newest 1000', { matchers: [ns(3), pod(3, 1)], lineFilters: [], ...window(600, 15), direction: 'backward', limit: 1000 }],
      [
        'a rare word in its namespace, 24 h',
        { matchers: [new Matcher('=', 'namespace', needleNamespaces.get(needle)!)], lineFilters: [filter('|=', needle)], ...day, direction: 'backward', limit: 100 },
      ],
      ['a rare word everywhere, 24 h', { matchers: [], lineFilters: [filter('|=', needle)], ...day, direction: 'backward', limit: 100 }],
      ['errors in a namespace, 24 h, newest 100', { matchers: [ns(0), new Matcher('=', 'level', 'error')], lineFilters: [], ...day, direction: 'backward', limit: 100 }],
      ['a common word in a namespace, 24 h, newest 100', { matchers: [ns(5)], lineFilters: [filter('|=', 'payment failed')], ...day, direction: 'backward', limit: 100 }],
      ['everything, 24 h, newest 100', { matchers: [], lineFilters: [], ...day, direction: 'backward', limit: 100 }],
      ['regex on a pod, 1 h', { matchers: [pod(7, 2)], lineFilters: [filter('|~', 'dur=9\\d\\dms')], ...window(720, 60), direction: 'forward', limit: 1000 }],
      ['a word fragment in a namespace, 24 h', { matchers: [ns(9)], lineFilters: [filter('|=', 'nnection rese')], ...day, direction: 'backward', limit: 100 }],
      ['one whole word everywhere, 24 h', { matchers: [], lineFilters: [filter('|=', needle.slice(7))], ...day, direction: 'backward', limit: 100 }],
      ['a pod, 24 h, oldest 5000', { matchers: [ns(1), pod(1, 3)], lineFilters: [], ...day, direction: 'forward', limit: 5000 }],
    ];
    const plans: Array<SqliteQueryPlan | undefined> = [undefined, 'text-index', 'stream-scan', 'table-scan'];
    const rows: string[][] = [];
    for (const [name, req] of queries) {
      const row = [name];
      let hits = 0;
      for (const plan of plans) {
        const reader = new SqliteLogStore({ dir, readonly: true, ...(plan && { forcePlan: plan }) });
        const runs: number[] = [];
        for (let i = 0; i < 5; i++) {
          const { ms, result } = await timed(() => reader.search(req));
          runs.push(ms);
          hits = result.records.length;
        }
        await reader.close();
        const first = runs[0]!;
        const median = [...runs].sort((a, b) => a - b)[2]!;
        row.push(`${median.toFixed(1)} (${first.toFixed(1)})`);
      }
      row.splice(1, 0, String(hits));
      rows.push(row);
    }
    printTable(['query on ' + LINES.toLocaleString('en') + ' lines', 'hits', 'planned ms', 'text-index', 'stream-scan', 'table-scan'], rows);

    const reader = new SqliteLogStore({ dir, readonly: true });
    const { ms } = await timed(() => reader.volume({ matchers: [ns(2)], lineFilters: [], ...day }, 5n * MINUTE_NS));
    const { ms: msAll } = await timed(() => reader.volume({ matchers: [], lineFilters: [], ...day }, 5n * MINUTE_NS));
    const { ms: msStreams } = await timed(() => reader.streams({ matchers: [], lineFilters: [], ...day }));
    await reader.close();
    printTable(['other reads', 'ms'], [
      ['volume of a namespace, 24 h by 5 min', ms.toFixed(1)],
      ['volume of everything, 24 h by 5 min', msAll.toFixed(1)],
      ['streams, 24 h', msStreams.toFixed(1)],
    ]);
    console.log('median of 5 runs, first run in parentheses');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
