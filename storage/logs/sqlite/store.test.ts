import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_LEVELS, parseTimeNs, type LogRecord } from '../../../model/logs.js';
import { Matcher } from '../../../model/matcher.js';
import { PACKAGE_ROOT } from '../../../util/build-info.js';
import { LogUnavailableError, type LineFilter, type LogSearchRequest, type StoredLogRecord } from '../interface.js';
import { lineFilterPredicate } from '../line-filter.js';
import { compareLogRecordKeys } from '../record-order.js';
import { describeLogStoreContract, testLogRecord } from '../store-contract.js';
import { DayFile } from './day-file.js';
import { ReadOnlyLogStoreError, SqliteLogStore, type SqliteLogStoreOptions, type SqliteQueryPlan } from './store.js';

const SECOND = 1_000_000_000n;
const HOUR = 3600n * SECOND;
const DAY = 24n * HOUR;
const T0 = parseTimeNs('2025-03-10T00:00:00Z');

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'vigil-sqlite-logs-'));
}

async function openTemp(opts: Partial<SqliteLogStoreOptions> = {}) {
  const dir = await tempDir();
  const store = new SqliteLogStore({ dir: path.join(dir, 'logs'), ...opts });
  return {
    store,
    dir,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describeLogStoreContract('SqliteLogStore', () => openTemp());
// The same behaviour whichever way rows are read: each plan on its own passes the contract.
for (const plan of ['text-index', 'stream-scan', 'table-scan'] as const) {
  describeLogStoreContract(`SqliteLogStore, plan ${plan}`, () => openTemp({ forcePlan: plan }));
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function scratch(opts: Partial<SqliteLogStoreOptions> = {}) {
  const t = await openTemp(opts);
  cleanups.push(t.cleanup);
  return t;
}

const all = (over: Partial<LogSearchRequest> = {}): LogSearchRequest => ({
  matchers: [],
  lineFilters: [],
  startNs: 0n,
  endNs: T0 + 365n * DAY,
  direction: 'forward',
  limit: 100_000,
  ...over,
});

describe('SqliteLogStore day files', () => {
  it('writes a file per UTC day of the records, and retention deletes whole days', async () => {
    const { store } = await scratch();
    const days = [T0 - DAY + 5n, T0 + 10n * HOUR, T0 + DAY - 1n, T0 + DAY, T0 + 2n * DAY + HOUR];
    // One batch across midnights: each record lands in its own day's file.
    await store.append(days.map((t, i) => testLogRecord({ t, offset: i, message: `m${i}` })));
    expect(store.days()).toEqual(['2025-03-09', '2025-03-10', '2025-03-11', '2025-03-12']);
    expect(readdirSync(store.dir).filter((f) => f.endsWith('.db')).sort()).toEqual([
      '2025-03-09.db',
      '2025-03-10.db',
      '2025-03-11.db',
      '2025-03-12.db',
    ]);
    // The cutoff falls inside 03-11: two whole files go, 03-11 loses its older rows only.
    expect(await store.applyRetention(T0 + DAY + 1n)).toBe(2);
    expect(store.days()).toEqual(['2025-03-11', '2025-03-12']);
    const left = readdirSync(store.dir);
    expect(left.some((f) => f.startsWith('2025-03-09') || f.startsWith('2025-03-10'))).toBe(false);
    expect((await store.search(all())).records.map((r) => r.message)).toEqual(['m4']);
    expect(await store.applyRetention(T0 + 10n * DAY)).toBe(2);
    expect(store.days()).toEqual([]);
    expect((await store.search(all())).records).toEqual([]);
  });

  it('reopens a directory with existing day files, idempotent across the restart', async () => {
    const { store, dir } = await scratch();
    const batch = Array.from({ length: 50 }, (_, i) => testLogRecord({ pod: `p${i % 5}`, t: T0 + BigInt(i) * HOUR, offset: i, message: `line ${i}` }));
    await store.append(batch);
    await store.close();
    const again = new SqliteLogStore({ dir: path.join(dir, 'logs') });
    cleanups.push(() => again.close());
    expect(again.days()).toEqual(['2025-03-10', '2025-03-11', '2025-03-12']);
    expect(await again.append(batch)).toEqual({ stored: 0, duplicates: 50, rejected: [] });
    const got = await again.search(all());
    expect(got.records.map((r) => r.message)).toEqual(batch.map((r) => r.message));
    await again.append([testLogRecord({ pod: 'p0', t: T0 + 3n * HOUR + 1n, offset: 999, message: 'after reopen' })]);
    expect((await again.search(all({ matchers: [new Matcher('=', 'pod', 'p0')] }))).records).toHaveLength(11);
  });

  it('ignores files that are not day files', async () => {
    const { store } = await scratch();
    await store.append([testLogRecord({ t: T0, offset: 0, message: 'x' })]);
    await store.close();
    const dir = store.dir;
    for (const name of ['notes.db', '2025-13-01.db', '2025-02-30.db', '2025-03-10.db.bak']) new Database(path.join(dir, name)).close();
    const again = new SqliteLogStore({ dir });
    cleanups.push(() => again.close());
    expect(again.days()).toEqual(['2025-03-10']);
  });

  it('refuses a file written by a newer schema, naming it', async () => {
    const { store } = await scratch();
    await store.append([testLogRecord({ t: T0, offset: 0, message: 'x' })]);
    await store.close();
    const file = path.join(store.dir, '2025-03-10.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    const again = new SqliteLogStore({ dir: store.dir });
    cleanups.push(() => again.close());
    await expect(again.search(all())).rejects.toThrow(/2025-03-10\.db: schema version 99 is newer/);
  });
});

describe('SqliteLogStore appends', () => {
  it('rejects records it can never store, by index and reason, and stores the rest', async () => {
    const { store } = await scratch({ maxMessageBytes: 1000 });
    const good = testLogRecord({ t: T0, offset: 0, message: 'fine' });
    const batch: LogRecord[] = [
      good,
      { ...testLogRecord({ t: T0, offset: 1, message: 'x' }), timeNs: -1n },
      testLogRecord({ t: T0, offset: 2, message: 'é'.repeat(501) }),
      { ...testLogRecord({ t: T0, offset: 3, message: 'x' }), level: 'loud' as never },
      { ...testLogRecord({ t: T0, offset: 4, message: 'x' }), id: '' },
      testLogRecord({ t: T0, offset: 5, message: 'é'.repeat(500) }),
    ];
    const res = await store.append(batch);
    expect(res.stored).toBe(2);
    expect(res.duplicates).toBe(0);
    expect(res.rejected).toEqual([
      { index: 1, reason: 'timestamp outside 1970-01-01 to 9999-12-31' },
      { index: 2, reason: 'message of 1002 bytes exceeds the limit of 1000' },
      { index: 3, reason: 'unknown level "loud"' },
      { index: 4, reason: 'id must be 1 to 256 bytes' },
    ]);
  });

  it('fails with LogUnavailableError while another connection holds the write lock, and recovers', async () => {
    const { store } = await scratch({ busyTimeoutMs: 50 });
    await store.append([testLogRecord({ t: T0, offset: 0, message: 'first' })]);
    const other = new Database(path.join(store.dir, '2025-03-10.db'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = performance.now();
      await expect(store.append([testLogRecord({ t: T0 + 1n, offset: 1, message: 'second' })])).rejects.toBeInstanceOf(LogUnavailableError);
      expect(performance.now() - started).toBeLessThan(2000);
      // Reading goes on meanwhile (WAL).
      expect((await store.search(all())).records.map((r) => r.message)).toEqual(['first']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await store.append([testLogRecord({ t: T0 + 1n, offset: 1, message: 'second' })]);
    expect((await store.search(all())).records.map((r) => r.message)).toEqual(['first', 'second']);
  });

  it('a read-only store reads what a writer commits, new streams included, and refuses to write', async () => {
    const { store } = await scratch();
    await store.append([testLogRecord({ pod: 'a', t: T0, offset: 0, message: 'one' })]);
    const reader = new SqliteLogStore({ dir: store.dir, readonly: true });
    cleanups.push(() => reader.close());
    expect((await reader.search(all())).records.map((r) => r.message)).toEqual(['one']);
    await store.append([
      testLogRecord({ pod: 'b', t: T0 + 1n, offset: 0, message: 'two' }),
      testLogRecord({ pod: 'c', t: T0 + DAY, offset: 0, message: 'three, next day' }),
    ]);
    expect((await reader.search(all())).records.map((r) => r.message)).toEqual(['one', 'two', 'three, next day']);
    expect((await reader.streams({ matchers: [], lineFilters: [], startNs: 0n, endNs: T0 + 9n * DAY })).map((s) => s.pod)).toEqual(['a', 'b', 'c']);
    await store.applyRetention(T0 + DAY);
    expect((await reader.search(all())).records.map((r) => r.message)).toEqual(['three, next day']);
    await expect(reader.append([testLogRecord({ t: T0, offset: 9, message: 'no' })])).rejects.toBeInstanceOf(ReadOnlyLogStoreError);
    await expect(reader.applyRetention(T0)).rejects.toBeInstanceOf(ReadOnlyLogStoreError);
  });

  it('finds context anchors by any id, not only base64url ones', async () => {
    const { store } = await scratch();
    const ids = ['kPzeUCzUnHs-z06jqcQd', 'a_b-c', 'ÄÖü-x', 'two words', '|||', 'KPZEUCZUNHS-Z06JQCQD'];
    const batch = ids.map((id, i) => ({ ...testLogRecord({ t: T0 + BigInt(i), offset: i, message: `m${i}` }), id }));
    expect((await store.append(batch)).stored).toBe(ids.length);
    for (const [i, id] of ids.entries()) {
      const res = await store.context({ id, before: 1, after: 1 });
      expect(res.anchor?.message, id).toBe(`m${i}`);
    }
    expect((await store.context({ id: 'kpzeuczunhs-z06jqcqd', before: 1, after: 1 })).anchor).toBeUndefined();
  });

  it('a read-only store of a missing directory is empty', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const reader = new SqliteLogStore({ dir: path.join(dir, 'nothing-here'), readonly: true });
    cleanups.push(() => reader.close());
    expect(await reader.search(all())).toEqual({ records: [] });
  });
});

/** The compiled store, run by child processes that the tests kill. */
const DIST_STORE = path.join(PACKAGE_ROOT, 'dist/storage/logs/sqlite/index.js');
const DIST_LOGS = path.join(PACKAGE_ROOT, 'dist/model/logs.js');
/** Large enough (~5 MB) that SQLite spills pages into the WAL before the commit. */
const BATCH = 20_000;

/**
 * A writer process: appends batch after batch of BATCH records (pod `b<n>` for batch n) and
 * prints `begin <n>` before and `acked <n>` after each append resolved.
 */
const WRITER = `
import { SqliteLogStore } from ${JSON.stringify(pathToFileURL(DIST_STORE).href)};
import { logRecordId } from ${JSON.stringify(pathToFileURL(DIST_LOGS).href)};
const [dir, first, t0] = process.argv.slice(1);
const store = new SqliteLogStore({ dir });
const pad = 'x'.repeat(100);
for (let b = Number(first); ; b++) {
  const source = { node: 'n', namespace: 'crash', pod: 'b' + b, podUid: 'u' + b, container: 'c', restart: 0, path: '/p', fileKey: 'f' + b };
  const batch = [];
  for (let i = 0; i < ${BATCH}; i++) {
    batch.push({ id: logRecordId('n', source.fileKey, i * 150), timeNs: BigInt(t0) + BigInt(b * ${BATCH} + i) * 1000n, stream: 'stdout',
      level: 'info', message: 'batch ' + b + ' record ' + i + ' ' + pad, source, offset: i * 150, endOffset: i * 150 + 150 });
  }
  process.stdout.write('begin ' + b + '\\n');
  await store.append(batch);
  process.stdout.write('acked ' + b + '\\n');
}
`;

class Writer {
  readonly child: ChildProcess;
  readonly acked: number[] = [];
  begun = -1;
  readonly #waiters: Array<() => void> = [];
  readonly exited: Promise<void>;

  constructor(dir: string, first: number) {
    if (!existsSync(DIST_STORE)) throw new Error(`${DIST_STORE} is missing: run npm run build first`);
    this.child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, dir, String(first), String(T0 + HOUR)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const [what, n] = line.split(' ');
      if (what === 'acked') this.acked.push(Number(n));
      if (what === 'begin') this.begun = Number(n);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Resolves once `pred` holds after some line of output. */
  async until(pred: () => boolean, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error('writer made no progress');
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Records per crash-test batch, read straight from the files. */
function batchCounts(dir: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.db'))) {
    const db = new Database(path.join(dir, f), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const rows = db.prepare('SELECT s.pod AS pod, count(*) AS n FROM records r JOIN streams s ON s.sid = r.sid GROUP BY s.pod').all() as Array<{ pod: string; n: number }>;
      for (const r of rows) counts.set(Number(r.pod.slice(1)), r.n);
      const streamCounts = db.prepare('SELECT pod, count FROM streams').all() as Array<{ pod: string; count: number }>;
      for (const s of streamCounts) expect(s.count).toBe(counts.get(Number(s.pod.slice(1))));
    } finally {
      db.close();
    }
  }
  return counts;
}

/** FTS5's own check that the full-text index agrees with the rows it indexes; throws if not. */
function ftsIntegrity(dir: string): void {
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.db'))) {
    const db = new Database(path.join(dir, f));
    try {
      db.exec("INSERT INTO records_fts (records_fts, rank) VALUES ('integrity-check', 1)");
    } finally {
      db.close();
    }
  }
}

describe('SqliteLogStore crash safety', () => {
  it('SIGKILL during appends leaves an intact file with every acknowledged batch whole and no partial batch', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const logs = path.join(dir, 'logs');
    const acked = new Set<number>();
    const inFlight: number[] = [];
    let next = 0;
    for (let round = 0; round < 4; round++) {
      const w = new Writer(logs, next);
      cleanups.push(() => w.kill());
      // Let a few batches through, then kill a few milliseconds into the next append.
      await w.until(() => w.acked.length >= 2 + round);
      const target = w.begun + 1;
      await w.until(() => w.begun >= target);
      await new Promise((r) => setTimeout(r, 10 + round * 20));
      await w.kill();
      for (const b of w.acked) acked.add(b);
      if (!w.acked.includes(w.begun)) inFlight.push(w.begun);
      next = w.begun + 1;
    }
    expect(acked.size).toBeGreaterThanOrEqual(14);
    const counts = batchCounts(logs);
    // At least one kill must have cut an append short for the test to mean anything.
    expect(inFlight.filter((b) => !counts.has(b)).length).toBeGreaterThan(0);
    for (const b of acked) expect(counts.get(b), `acknowledged batch ${b}`).toBe(BATCH);
    for (const [b, n] of counts) expect(n, `batch ${b}`).toBe(BATCH);
    ftsIntegrity(logs);
    // The store opens the directory again and goes on writing.
    const store = new SqliteLogStore({ dir: logs });
    cleanups.push(() => store.close());
    const text = await store.search(all({ lineFilters: [{ op: '|=', value: `batch ${[...acked][0]} record 1999 ` }] }));
    expect(text.records).toHaveLength(1);
    expect((await store.append([testLogRecord({ t: T0 + HOUR, offset: 0, message: 'after crash' })])).stored).toBe(1);
  }, 60_000);

  it('a reader in another process never blocks the writer and sees only whole batches', async () => {
    const dir = await tempDir();
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const logs = path.join(dir, 'logs');
    const w = new Writer(logs, 0);
    cleanups.push(() => w.kill());
    await w.until(() => w.acked.length >= 1);
    const reader = new SqliteLogStore({ dir: logs, readonly: true });
    cleanups.push(() => reader.close());
    const ackedAtStart = w.acked.length;
    const seen: number[] = [];
    const deadline = Date.now() + 3000;
    let slowest = 0;
    while (Date.now() < deadline) {
      const started = performance.now();
      const buckets = await reader.volume({ matchers: [], lineFilters: [], startNs: 0n, endNs: T0 + DAY }, DAY);
      // A long read transaction too: a full scan of everything, ordered.
      const page = await reader.search(all({ direction: 'backward', limit: 500, lineFilters: [{ op: '|=', value: `record ${BATCH - 1} ` }] }));
      slowest = Math.max(slowest, performance.now() - started);
      const n = buckets.reduce((s, b) => s + b.count, 0);
      expect(n % BATCH).toBe(0);
      // One line per batch matches; the search ran after the count, so it may see more batches.
      expect(page.records.length).toBeGreaterThanOrEqual(n / BATCH);
      seen.push(n);
    }
    await w.kill();
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    // The writer kept acknowledging while being read.
    expect(w.acked.length).toBeGreaterThan(ackedAtStart + 5);
    expect(seen[seen.length - 1]!).toBeGreaterThan(seen[0]!);
    expect(slowest).toBeLessThan(2000);
  }, 30_000);
});

describe('SqliteLogStore query plans', () => {
  const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  const NAMESPACES = ['shop', 'billing', 'kube-system', 'batch'];

  /** 3000 records: 24 pods with two containers each, over two days, with rare words and ties. */
  function fixture(): LogRecord[] {
    const out: LogRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      const podIndex = (i * 7) % 24;
      const ns = NAMESPACES[podIndex % 4]!;
      const pod = `${ns}-pod-${podIndex}`;
      const container = i % 3 === 0 ? 'sidecar' : 'app';
      const level = LOG_LEVELS[(i * 13) % LOG_LEVELS.length]!;
      const w1 = WORDS[i % 8]!;
      const w2 = WORDS[(i * 5) % 8]!;
      const rare = i % 211 === 0 ? ` needle-${i}` : '';
      const t = T0 + 20n * HOUR + BigInt(Math.floor(i / 2)) * 60n * SECOND; // pairs share a time
      out.push(
        testLogRecord({
          ns,
          pod,
          uid: `uid-${podIndex}`,
          container,
          node: `node-${podIndex % 3}`,
          t,
          offset: i * 100,
          stream: i % 4 === 0 ? 'stderr' : 'stdout',
          level,
          message: `${level.toUpperCase()} ${w1} ${w2}=${i % 50} took ${i % 997}ms${rare}${i % 5 === 0 ? ' Ünïcode ✓' : ''}`,
        }),
      );
    }
    return out;
  }

  const matcherArb = fc.oneof(
    fc.constantFrom(...NAMESPACES).map((v) => new Matcher('=', 'namespace', v)),
    fc.constantFrom(...NAMESPACES).map((v) => new Matcher('!=', 'namespace', v)),
    fc.constantFrom('shop|billing', 'kube-.*', '.*a.*').map((v) => new Matcher('=~', 'namespace', v)),
    fc.integer({ min: 0, max: 23 }).map((i) => new Matcher('=~', 'pod', `.*-pod-${i}`)),
    fc.constantFrom('app', 'sidecar').map((v) => new Matcher('=', 'container', v)),
    fc.constantFrom(...LOG_LEVELS).map((v) => new Matcher('=', 'level', v)),
    fc.constantFrom('error|warn', 'info').map((v) => new Matcher('!~', 'level', v)),
    fc.constantFrom('stdout', 'stderr').map((v) => new Matcher('=', 'stream', v)),
    fc.constantFrom('node-0', 'node-1').map((v) => new Matcher('=', 'node', v)),
  );
  const filterArb: fc.Arbitrary<LineFilter> = fc.oneof(
    fc.constantFrom(...WORDS, 'needle', 'needle-633', 'needle-2', 'ERROR', 'rror', 'lta ech', ' golf=', '=4', 'took 9', 'Ünï', '✓', 'nomatch').map(
      (value) => ({ op: '|=' as const, value }),
    ),
    fc.constantFrom(...WORDS, 'ms', 'INFO').map((value) => ({ op: '!=' as const, value })),
    fc.constantFrom('needle-\\d+$', '^(WARN|ERROR) ', 'took \\d{3}ms', '(?i)unknown').map((value) => ({ op: '|~' as const, value })),
    fc.constantFrom('alpha|bravo', '\\d{3}ms').map((value) => ({ op: '!~' as const, value })),
  );
  const span = { from: T0 + 19n * HOUR, to: T0 + 46n * HOUR };
  const queryArb = fc.record({
    matchers: fc.array(matcherArb, { maxLength: 3 }),
    lineFilters: fc.array(filterArb, { maxLength: 2 }),
    start: fc.bigInt({ min: span.from, max: span.to }),
    length: fc.bigInt({ min: 0n, max: span.to - span.from }),
    direction: fc.constantFrom('forward' as const, 'backward' as const),
    limit: fc.integer({ min: 1, max: 400 }),
  });

  function expected(records: readonly LogRecord[], q: Pick<LogSearchRequest, "matchers" | "lineFilters" | "startNs" | "endNs">) {
    const keep = lineFilterPredicate(q.lineFilters);
    const label = (r: LogRecord, name: string) =>
      ({ namespace: r.source.namespace, pod: r.source.pod, container: r.source.container, node: r.source.node, stream: r.stream, level: r.level })[name] ?? '';
    return records
      .filter((r) => r.timeNs >= q.startNs && r.timeNs < q.endNs && q.matchers.every((m) => m.matches(label(r, m.name))) && keep(r.message))
      .sort(compareLogRecordKeys);
  }

  async function pagesOf(store: SqliteLogStore, req: LogSearchRequest): Promise<StoredLogRecord[]> {
    const out: StoredLogRecord[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await store.search({ ...req, ...(cursor !== undefined && { cursor }) });
      out.push(...page.records);
      if (page.nextCursor === undefined) return out;
      cursor = page.nextCursor;
    }
  }

  it('every plan returns what the definition says, page by page', async () => {
    const records = fixture();
    const stores = new Map<SqliteQueryPlan | 'auto', SqliteLogStore>();
    const { store: writer, dir } = await scratch();
    await writer.append(records);
    stores.set('auto', writer);
    for (const plan of ['text-index', 'stream-scan', 'table-scan'] as const) {
      const s = new SqliteLogStore({ dir: path.join(dir, 'logs'), readonly: true, forcePlan: plan });
      cleanups.push(() => s.close());
      stores.set(plan, s);
    }
    await fc.assert(
      fc.asyncProperty(queryArb, async (q) => {
        const req: LogSearchRequest = {
          matchers: q.matchers,
          lineFilters: q.lineFilters,
          startNs: q.start,
          endNs: q.start + q.length,
          direction: q.direction,
          limit: q.limit,
        };
        const want = expected(records, req).map((r) => r.id);
        if (q.direction === 'backward') want.reverse();
        for (const [plan, store] of stores) {
          const got = await pagesOf(store, req);
          expect(got.map((r) => r.id), plan).toEqual(want);
        }
        const step = BigInt(1 + (q.limit % 7)) * 17n * 60n * SECOND;
        const wantVolume = new Map<bigint, number>();
        for (const r of expected(records, req)) wantVolume.set((r.timeNs / step) * step, (wantVolume.get((r.timeNs / step) * step) ?? 0) + 1);
        for (const [plan, store] of stores) {
          const buckets = await store.volume(req, step);
          expect(buckets.map((b) => [b.startNs, b.count]), plan).toEqual([...wantVolume]);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('a filtered stream scan reads its range in time slices without losing or repeating rows at their edges', async () => {
    // A record at every nanosecond (two per nanosecond in the busy stream), so every slice
    // boundary falls on records; matches only in the sparse stream, so the busy stream must be
    // sliced through to fill a page.
    const records: LogRecord[] = [];
    for (let i = 0; i < 4000; i++) {
      records.push(testLogRecord({ ns: 'shop', pod: 'busy', uid: 'u1', t: T0 + 5n * HOUR + BigInt(i >> 1), offset: i * 10, level: 'info', message: `busy ${i}` }));
    }
    for (let i = 0; i < 300; i++) {
      const t = T0 + 5n * HOUR + BigInt(i * 13);
      records.push(testLogRecord({ ns: 'shop', pod: 'sparse', uid: 'u2', t, offset: i * 10, level: 'error', message: `status=${i % 3 === 0 ? 503 : 200} ${i}` }));
    }
    const { store: writer, dir } = await scratch();
    await writer.append(records);
    const store = new SqliteLogStore({ dir: path.join(dir, 'logs'), readonly: true, forcePlan: 'stream-scan' });
    cleanups.push(() => store.close());
    for (const lineFilters of [[{ op: '|~', value: 'status=5\\d\\d' }], [{ op: '!=', value: 'status=200' }]] as LineFilter[][]) {
      for (const direction of ['forward', 'backward'] as const) {
        for (const limit of [1, 7, 100, 5000]) {
          const req: LogSearchRequest = { matchers: [new Matcher('=', 'namespace', 'shop')], lineFilters, startNs: T0, endNs: T0 + DAY, direction, limit };
          const want = expected(records, req).map((r) => r.id);
          if (direction === 'backward') want.reverse();
          expect((await pagesOf(store, req)).map((r) => r.id), `${JSON.stringify(lineFilters)} ${direction} ${limit}`).toEqual(want);
        }
      }
    }
  });
});

describe('SqliteLogStore word frequencies for planning', () => {
  it('counts a word exactly up to the sample size and extrapolates a common one within a small factor', async () => {
    const { store: writer, dir } = await scratch();
    const records: LogRecord[] = [];
    for (let i = 0; i < 30_000; i++) {
      const words = [i % 3 === 0 ? 'common' : 'other', i % 20 === 0 ? 'sometimes' : 'never', i === 12_345 ? 'unique' : 'plain'];
      records.push(testLogRecord({ ns: 'shop', pod: 'p', uid: 'u', t: T0 + BigInt(i) * SECOND, offset: i * 10, message: words.join(' ') }));
    }
    await writer.append(records);
    await writer.close();
    const file = DayFile.open('2025-03-10', path.join(dir, 'logs', '2025-03-10.db'), T0, { readonly: true, busyTimeoutMs: 100 });
    try {
      expect(file.termFrequency('unique', false, 256)).toBe(1);
      expect(file.termFrequency('sometimes', false, 256)).toBe(1500);
      expect(file.termFrequency('absent', false, 256)).toBe(0);
      const common = file.termFrequency('common', false, 256);
      expect(common).toBeGreaterThan(10_000 / 1.2);
      expect(common).toBeLessThan(10_000 * 1.2);
    } finally {
      file.close();
    }
  });
});
