/**
 * The behaviour every `LogStore` shares, as one vitest suite to run against each implementation
 * (SQLite, Elasticsearch, and the search API over either). It uses nothing but the interface, the
 * model and the shared cursor and order definitions, so a store passes it or differs from the
 * others in a way a user would notice.
 *
 * Stores that make writes searchable a moment later (Elasticsearch) pass `refresh`; the suite
 * calls it after writing and before every read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logRecordId, parseTimeNs, type LogLevel, type LogRecord, type LogStreamName } from '../../model/logs.js';
import { Matcher, RegexSyntaxError, type MatchType } from '../../model/matcher.js';
import { LogCursorError } from './cursor.js';
import type { LineFilter, LogDirection, LogSearchRequest, LogStore, StoredLogRecord } from './interface.js';
import { compareLogRecordKeys, type LogRecordKey } from './record-order.js';

export interface LogStoreUnderTest {
  readonly store: LogStore;
  /** Makes everything appended so far visible to reads. */
  refresh?(): Promise<void>;
  /** Closes the store and removes what it wrote. */
  cleanup(): Promise<void>;
}

export interface TestRecordSpec {
  readonly t: bigint;
  readonly offset: number;
  readonly message: string;
  readonly ns?: string;
  readonly pod?: string;
  readonly uid?: string;
  readonly container?: string;
  readonly restart?: number;
  readonly node?: string;
  readonly fileKey?: string;
  readonly stream?: LogStreamName;
  readonly level?: LogLevel;
  readonly fields?: Readonly<Record<string, string>>;
}

/** A record as the tailer would produce it; the file key defaults to one per container restart. */
export function testLogRecord(spec: TestRecordSpec): LogRecord {
  const node = spec.node ?? 'node-a';
  const uid = spec.uid ?? `uid-${spec.pod ?? 'pod'}`;
  const container = spec.container ?? 'app';
  const restart = spec.restart ?? 0;
  const fileKey = spec.fileKey ?? `${uid}/${container}/${restart}`;
  return {
    id: logRecordId(node, fileKey, spec.offset),
    timeNs: spec.t,
    stream: spec.stream ?? 'stdout',
    level: spec.level ?? 'info',
    message: spec.message,
    ...(spec.fields !== undefined && { fields: spec.fields }),
    source: {
      node,
      namespace: spec.ns ?? 'default',
      pod: spec.pod ?? 'pod',
      podUid: uid,
      container,
      restart,
      path: `/var/log/pods/${spec.ns ?? 'default'}_${spec.pod ?? 'pod'}_${uid}/${container}/${restart}.log`,
      fileKey,
    },
    offset: spec.offset,
    endOffset: spec.offset + Buffer.byteLength(spec.message, 'utf8') + 40,
  };
}

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;
const DAY = 24n * HOUR;
/** A UTC midnight; the fixtures live around it. */
const T0 = parseTimeNs('2025-03-10T00:00:00Z');
const WHOLE_RANGE = { startNs: T0 - 60n * DAY, endNs: T0 + 60n * DAY };

/**
 * Ten records in four pods of three namespaces, one per second from 10:00:01, each message
 * unique so results can be named by their position here (1-based).
 */
function clusterRecords(): LogRecord[] {
  const at = (n: number) => T0 + 10n * HOUR + BigInt(n) * SECOND;
  const cart = { ns: 'shop', pod: 'cart-7d9f', uid: 'uid-cart', node: 'node-a' };
  const web = { ns: 'shop', pod: 'web-1', uid: 'uid-web', node: 'node-b', container: 'nginx' };
  const invoice = { ns: 'billing', pod: 'invoice-0', uid: 'uid-invoice', node: 'node-a', container: 'worker' };
  const dns = { ns: 'kube-system', pod: 'coredns-5d', uid: 'uid-dns', node: 'node-b', container: 'coredns' };
  return [
    testLogRecord({ ...cart, container: 'app', t: at(1), offset: 0, message: 'GET /api/cart 200 12ms user=alice' }),
    testLogRecord({ ...cart, container: 'app', t: at(2), offset: 100, stream: 'stderr', level: 'error', message: 'ERROR payment declined for order 991' }),
    testLogRecord({ ...cart, container: 'sidecar', t: at(3), offset: 0, message: 'envoy: upstream connect ok' }),
    testLogRecord({ ...web, t: at(4), offset: 0, message: '10.0.0.7 - - GET /index.html HTTP/1.1 200' }),
    testLogRecord({ ...web, t: at(5), offset: 100, stream: 'stderr', level: 'warn', message: 'upstream timed out (110: Connection timed out) while reading' }),
    testLogRecord({
      ...invoice,
      t: at(6),
      offset: 0,
      message: '{"level":"info","msg":"invoice sent","invoice":"INV-17"}',
      fields: { level: 'info', msg: 'invoice sent', invoice: 'INV-17' },
    }),
    testLogRecord({
      ...invoice,
      t: at(7),
      offset: 100,
      stream: 'stderr',
      level: 'error',
      message: 'Error: request timeout after 30s\n    at fetch (client.js:10)\n    at main (index.js:3)',
    }),
    testLogRecord({ ...dns, t: at(8), offset: 0, message: '[INFO] 10.0.0.9:53 - A IN example.org. udp' }),
    testLogRecord({ ...cart, container: 'app', t: at(9), offset: 200, level: 'debug', message: 'cache warm: 128 keys' }),
    testLogRecord({ ...invoice, t: at(10), offset: 200, level: 'unknown', message: 'plain line without level' }),
  ];
}

const m = (name: string, type: MatchType, value: string) => new Matcher(type, name, value);

export function describeLogStoreContract(name: string, open: () => Promise<LogStoreUnderTest>): void {
  describe(`LogStore contract: ${name}`, () => {
    let h: LogStoreUnderTest;
    let store: LogStore;

    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    async function put(records: readonly LogRecord[]) {
      const res = await store.append(records);
      expect(res.rejected).toEqual([]);
      await h.refresh?.();
      return res;
    }

    function request(over: Partial<LogSearchRequest> = {}): LogSearchRequest {
      return { matchers: [], lineFilters: [], ...WHOLE_RANGE, direction: 'forward', limit: 1000, ...over };
    }

    async function searchAll(over: Partial<LogSearchRequest> = {}): Promise<StoredLogRecord[]> {
      const res = await store.search(request(over));
      expect(res.nextCursor).toBeUndefined();
      return [...res.records];
    }

    /** Every page of a search, following cursors. */
    async function pages(over: Partial<LogSearchRequest>, between?: (page: number) => Promise<void>): Promise<StoredLogRecord[][]> {
      const out: StoredLogRecord[][] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const res = await store.search(request({ ...over, ...(cursor !== undefined && { cursor }) }));
        out.push([...res.records]);
        if (res.nextCursor === undefined) return out;
        expect(res.records).toHaveLength(over.limit ?? 1000);
        cursor = res.nextCursor;
        await between?.(page);
      }
      throw new Error('pagination did not end');
    }

    const sorted = <T extends LogRecordKey>(records: readonly T[], direction: LogDirection = 'forward'): T[] => {
      const s = [...records].sort(compareLogRecordKeys);
      return direction === 'forward' ? s : s.reverse();
    };
    const ids = (records: readonly { id: string }[]) => records.map((r) => r.id);

    describe('append', () => {
      it('stores a batch and counts a replay of it as duplicates, storing nothing twice', async () => {
        const batch = clusterRecords();
        expect(await put(batch)).toEqual({ stored: 10, duplicates: 0, rejected: [] });
        expect(await put(batch)).toEqual({ stored: 0, duplicates: 10, rejected: [] });
        // A retry that overlaps what was stored: only the new records count as stored.
        const more = [4, 5, 6].map((i) =>
          testLogRecord({ ns: 'shop', pod: 'cart-7d9f', uid: 'uid-cart', t: T0 + 11n * HOUR + BigInt(i), offset: 1000 + i, message: `more ${i}` }),
        );
        expect(await put([...batch.slice(7), ...more])).toEqual({ stored: 3, duplicates: 3, rejected: [] });
        const all = await searchAll();
        expect(ids(all)).toEqual(ids(sorted([...batch, ...more])));
        expect(new Set(ids(all)).size).toBe(13);
      });

      it('counts a record repeated within one batch once', async () => {
        const r = testLogRecord({ t: T0 + HOUR, offset: 0, message: 'once' });
        expect(await put([r, r, r])).toEqual({ stored: 1, duplicates: 2, rejected: [] });
        expect(await searchAll()).toHaveLength(1);
      });

      it('stores nothing when the signal is already aborted', async () => {
        const ac = new AbortController();
        ac.abort();
        await expect(store.append(clusterRecords(), ac.signal)).rejects.toThrow();
        await h.refresh?.();
        expect(await searchAll()).toEqual([]);
      });

      it('round-trips every field of a record, fields only where the record had them', async () => {
        const batch = clusterRecords();
        await put(batch);
        const all = await searchAll();
        expect(all).toHaveLength(batch.length);
        for (const [i, r] of batch.entries()) {
          const got = all[i]!;
          expect(got).toEqual({
            id: r.id,
            timeNs: r.timeNs,
            stream: r.stream,
            level: r.level,
            message: r.message,
            ...(r.fields !== undefined && { fields: r.fields }),
            namespace: r.source.namespace,
            pod: r.source.pod,
            podUid: r.source.podUid,
            container: r.source.container,
            restart: r.source.restart,
            node: r.source.node,
            fileKey: r.source.fileKey,
            offset: r.offset,
          });
        }
        expect(all[5]!.fields).toEqual({ level: 'info', msg: 'invoice sent', invoice: 'INV-17' });
        expect(all[0]!.fields).toBeUndefined();
      });

      it('keeps unicode text exactly and finds it', async () => {
        const texts = [
          '日本語のログ: 処理が完了しました',
          'emoji 🙂🚀 in a line, and a flag 🇩🇪',
          'accents: café naïve señor Ångström',
          'combining: e\u0301 vs é, and RTL: שלום עולם مرحبا',
          'zero width\u200bjoiner and tab\tand nbsp\u00a0here',
        ];
        const batch = texts.map((message, i) => testLogRecord({ t: T0 + HOUR + BigInt(i), offset: i * 100, message }));
        await put(batch);
        expect((await searchAll()).map((r) => r.message)).toEqual(texts);
        const find = async (f: LineFilter) => (await searchAll({ lineFilters: [f] })).map((r) => texts.indexOf(r.message));
        expect(await find({ op: '|=', value: '処理' })).toEqual([0]);
        expect(await find({ op: '|=', value: '🚀' })).toEqual([1]);
        expect(await find({ op: '|=', value: 'Ångström' })).toEqual([2]);
        expect(await find({ op: '|=', value: 'ångström' })).toEqual([]);
        expect(await find({ op: '|=', value: 'שלום' })).toEqual([3]);
        expect(await find({ op: '|~', value: 'se.or' })).toEqual([2]);
        expect(await find({ op: '|~', value: '🙂.🚀' })).toEqual([]);
        expect(await find({ op: '|~', value: '🙂🚀' })).toEqual([1]);
        expect(await find({ op: '!=', value: 'é' })).toEqual([0, 1, 4]);
      });

      it('keeps very long lines whole and finds words at their end', async () => {
        const long = (n: number, tail: string) => 'x'.repeat(n - tail.length - 1) + ' ' + tail;
        const messages = [long(100 * 1024, 'needle-one'), long(300 * 1024, 'needle-two'), 'short needle-three'];
        await put(messages.map((message, i) => testLogRecord({ t: T0 + HOUR + BigInt(i), offset: i * 400_000, message })));
        const all = await searchAll();
        expect(all.map((r) => r.message.length)).toEqual(messages.map((s) => s.length));
        expect(all.map((r) => r.message)).toEqual(messages);
        const hits = await searchAll({ lineFilters: [{ op: '|=', value: 'needle-two' }] });
        expect(hits.map((r) => r.message.length)).toEqual([300 * 1024]);
        const regexHits = await searchAll({ lineFilters: [{ op: '|~', value: 'x needle-(one|three)$' }] });
        expect(regexHits.map((r) => r.message.length)).toEqual([100 * 1024]);
      });
    });

    describe('search: stream selection', () => {
      const cases: Array<[string, Matcher[], number[]]> = [
        ['namespace=', [m('namespace', '=', 'shop')], [1, 2, 3, 4, 5, 9]],
        ['namespace!=', [m('namespace', '!=', 'shop')], [6, 7, 8, 10]],
        ['pod=', [m('pod', '=', 'web-1')], [4, 5]],
        ['container=', [m('container', '=', 'worker')], [6, 7, 10]],
        ['node=', [m('node', '=', 'node-b')], [4, 5, 8]],
        ['stream=', [m('stream', '=', 'stderr')], [2, 5, 7]],
        ['level=', [m('level', '=', 'error')], [2, 7]],
        ['level!=', [m('level', '!=', 'info')], [2, 5, 7, 9, 10]],
        ['namespace=~ alternatives', [m('namespace', '=~', 'shop|billing')], [1, 2, 3, 4, 5, 6, 7, 9, 10]],
        ['namespace=~ is anchored at both ends', [m('namespace', '=~', 'sho')], []],
        ['namespace=~ is anchored at the start', [m('namespace', '=~', 'hop')], []],
        ['pod=~ prefix', [m('pod', '=~', 'cart-.*')], [1, 2, 3, 9]],
        ['namespace!~', [m('namespace', '!~', 'kube-.*')], [1, 2, 3, 4, 5, 6, 7, 9, 10]],
        ['container!~', [m('container', '!~', 'app|sidecar')], [4, 5, 6, 7, 8, 10]],
        ['level=~', [m('level', '=~', 'warn|error')], [2, 5, 7]],
        ['level!~', [m('level', '!~', 'info|debug')], [2, 5, 7, 10]],
        ['node=~ with a class', [m('node', '=~', 'node-[a]')], [1, 2, 3, 6, 7, 9, 10]],
        ['stream=~ case-sensitive', [m('stream', '=~', 'STDERR')], []],
        ['stream=~ (?i)', [m('stream', '=~', '(?i)STDERR')], [2, 5, 7]],
        ['matchers combine with AND', [m('namespace', '=', 'shop'), m('stream', '=', 'stdout'), m('level', '=', 'info')], [1, 3, 4]],
        ['contradicting matchers', [m('pod', '=', 'web-1'), m('pod', '=', 'invoice-0')], []],
        ['a label no record has equals the empty string', [m('app', '=', '')], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
        ['a label no record has never equals a value', [m('app', '=', 'cart')], []],
        ['a label no record has differs from any value', [m('app', '!=', 'cart')], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
        ['a label no record has does not match .+', [m('app', '=~', '.+')], []],
      ];
      it.each(cases)('%s', async (_label, matchers, expected) => {
        const batch = clusterRecords();
        await put(batch);
        const got = await searchAll({ matchers });
        expect(got.map((r) => batch.findIndex((b) => b.id === r.id) + 1)).toEqual(expected);
      });
    });

    describe('search: line filters', () => {
      const cases: Array<[string, LineFilter[], number[]]> = [
        ['|= substring', [{ op: '|=', value: 'timed out' }], [5]],
        ['|= inside words', [{ op: '|=', value: 'time' }], [5, 7]],
        ['|= is case-sensitive', [{ op: '|=', value: 'Error' }], [7]],
        ['|= part of a word', [{ op: '|=', value: 'rror' }], [7]],
        ['|= across punctuation', [{ op: '|=', value: '"invoice":"INV-17"' }], [6]],
        ['|= across a newline', [{ op: '|=', value: '30s\n    at fetch' }], [7]],
        ['|= empty matches all', [{ op: '|=', value: '' }], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
        ['|= absent word', [{ op: '|=', value: 'kubernetes' }], []],
        ['!= substring', [{ op: '!=', value: 'GET' }], [2, 3, 5, 6, 7, 8, 9, 10]],
        ['|~ unanchored', [{ op: '|~', value: 'cart' }], [1]],
        ['|~ pattern', [{ op: '|~', value: 'time.*out' }], [5, 7]],
        ['|~ with ^', [{ op: '|~', value: '^GET' }], [1]],
        ['|~ is case-sensitive', [{ op: '|~', value: 'error' }], []],
        ['|~ (?i)', [{ op: '|~', value: '(?i)error' }], [2, 7]],
        ['|~ . does not cross a newline', [{ op: '|~', value: 'fetch.*main' }], []],
        ['|~ (?s) lets . cross a newline', [{ op: '|~', value: '(?s)fetch.*main' }], [7]],
        ['|~ RE2 class syntax', [{ op: '|~', value: '[[:digit:]]{3} keys' }], [9]],
        ['!~ pattern', [{ op: '!~', value: '\\d+ms' }], [2, 3, 4, 5, 6, 7, 8, 9, 10]],
        ['filters chain with AND', [{ op: '|=', value: 'upstream' }, { op: '!=', value: 'timed' }], [3]],
        ['regex and substring', [{ op: '|~', value: '(?i)error' }, { op: '|=', value: 'payment' }], [2]],
        ['two substrings', [{ op: '|=', value: 'GET' }, { op: '|=', value: '200' }], [1, 4]],
      ];
      it.each(cases)('%s', async (_label, lineFilters, expected) => {
        const batch = clusterRecords();
        await put(batch);
        const got = await searchAll({ lineFilters });
        expect(got.map((r) => batch.findIndex((b) => b.id === r.id) + 1)).toEqual(expected);
      });

      it('line filters and matchers combine', async () => {
        const batch = clusterRecords();
        await put(batch);
        const got = await searchAll({ matchers: [m('namespace', '=', 'shop')], lineFilters: [{ op: '|~', value: 'time.*out' }] });
        expect(got.map((r) => r.id)).toEqual([batch[4]!.id]);
      });

      it('rejects an invalid regular expression with a RegexSyntaxError', async () => {
        await put(clusterRecords());
        await expect(store.search(request({ lineFilters: [{ op: '|~', value: 'a(b' }] }))).rejects.toBeInstanceOf(RegexSyntaxError);
        await expect(store.search(request({ lineFilters: [{ op: '!~', value: '(?<=x)y' }] }))).rejects.toBeInstanceOf(RegexSyntaxError);
      });
    });

    describe('search: time range, order, limit', () => {
      it('includes the start and excludes the end, to the nanosecond', async () => {
        const t = T0 + 3n * HOUR;
        const batch = [0n, 1n, 2n, 3n].map((d, i) => testLogRecord({ t: t + d, offset: i * 10, message: `at +${d}ns` }));
        await put(batch);
        const msgs = async (startNs: bigint, endNs: bigint) => (await searchAll({ startNs, endNs })).map((r) => r.message);
        expect(await msgs(t + 1n, t + 3n)).toEqual(['at +1ns', 'at +2ns']);
        expect(await msgs(t + 1n, t + 2n)).toEqual(['at +1ns']);
        expect(await msgs(t + 1n, t + 1n)).toEqual([]);
        expect(await msgs(t + 3n, t + 1n)).toEqual([]);
        expect(await msgs(t, t + 4n)).toEqual(['at +0ns', 'at +1ns', 'at +2ns', 'at +3ns']);
      });

      it('returns the newest first backward and the oldest first forward, limit taking from that end', async () => {
        const batch = clusterRecords();
        await put(batch);
        const forward = await store.search(request({ direction: 'forward', limit: 3 }));
        expect(ids(forward.records)).toEqual(ids(batch.slice(0, 3)));
        expect(forward.nextCursor).toBeDefined();
        const backward = await store.search(request({ direction: 'backward', limit: 3 }));
        expect(ids(backward.records)).toEqual(ids(batch.slice(7).reverse()));
        expect(backward.nextCursor).toBeDefined();
      });

      it('orders records with equal times by offset within a container, and by id across containers', async () => {
        const t = T0 + 5n * HOUR;
        const sameFile = [300, 100, 200].map((offset) => testLogRecord({ pod: 'p', container: 'app', t, offset, message: `app at ${offset}` }));
        const otherContainers = ['c1', 'c2', 'c3', 'c4'].map((container) => testLogRecord({ pod: 'p', container, t, offset: 100, message: `${container} at 100` }));
        const all = [...sameFile, ...otherContainers];
        await put(all);
        for (const direction of ['forward', 'backward'] as const) {
          const got = await searchAll({ direction });
          expect(ids(got)).toEqual(ids(sorted(all, direction)));
          const app = got.filter((r) => r.container === 'app').map((r) => r.offset);
          expect(app).toEqual(direction === 'forward' ? [100, 200, 300] : [300, 200, 100]);
          // Deterministic: the same query gives the same order.
          expect(ids(await searchAll({ direction }))).toEqual(ids(got));
        }
      });

      it('returns nothing, and no cursor, from an empty store', async () => {
        await h.refresh?.();
        for (const direction of ['forward', 'backward'] as const) {
          expect(await store.search(request({ direction }))).toEqual({ records: [] });
        }
        expect(await store.search(request({ matchers: [m('pod', '=', 'x')], lineFilters: [{ op: '|=', value: 'y' }] }))).toEqual({ records: [] });
      });

      it('rejects a search whose signal is aborted', async () => {
        await put(clusterRecords());
        const ac = new AbortController();
        ac.abort();
        await expect(store.search(request(), ac.signal)).rejects.toThrow();
      });
    });

    describe('search: cursors', () => {
      /** 57 records in three pods, with ties in time, spread over two days. */
      function paged(): LogRecord[] {
        const out: LogRecord[] = [];
        for (let i = 0; i < 57; i++) {
          const pod = ['a', 'b', 'c'][i % 3]!;
          // Every fourth record shares its time with the previous one.
          const t = T0 + 23n * HOUR + BigInt(i - (i % 4 === 3 ? 1 : 0)) * 2n * MINUTE;
          out.push(testLogRecord({ pod, t, offset: i * 50, message: `record ${i} of ${pod}` }));
        }
        return out;
      }

      it.each(['forward', 'backward'] as const)('pages %s through every record once, in order', async (direction) => {
        const batch = paged();
        await put(batch);
        const got = await pages({ direction, limit: 10 });
        expect(got.map((p) => p.length)).toEqual([10, 10, 10, 10, 10, 7]);
        expect(ids(got.flat())).toEqual(ids(sorted(batch, direction)));
      });

      it('gives no cursor when the last page is exactly full', async () => {
        await put(paged().slice(0, 20));
        const got = await pages({ limit: 10 });
        expect(got.map((p) => p.length)).toEqual([10, 10]);
      });

      it('pages through records that tie in time one at a time', async () => {
        const t = T0 + 2n * HOUR;
        const batch = [5, 3, 1, 4, 2].flatMap((o) => ['x', 'y'].map((container) => testLogRecord({ container, t, offset: o, message: `${container}${o}` })));
        await put(batch);
        for (const direction of ['forward', 'backward'] as const) {
          const got = await pages({ direction, limit: 1 });
          expect(ids(got.flat())).toEqual(ids(sorted(batch, direction)));
        }
      });

      it.each(['forward', 'backward'] as const)(
        'pages %s stably while records are appended between pages',
        async (direction) => {
          const batch = paged();
          await put(batch);
          let n = 0;
          const late: LogRecord[] = [];
          const got = await pages({ direction, limit: 10 }, async () => {
            // Newer than everything, older than everything, and in between (paged and not).
            const times = [T0 + 40n * HOUR, T0 + 20n * HOUR, ...batch.filter((_, i) => i % 9 === n % 9).map((r) => r.timeNs)];
            const more = times.map((t) => testLogRecord({ pod: 'late', t, offset: 100_000 + n++ * 10, message: `late ${n}` }));
            late.push(...more);
            await put(more);
          });
          const seen = ids(got.flat());
          expect(new Set(seen).size).toBe(seen.length);
          const original = new Set(ids(batch));
          expect(seen.filter((id) => original.has(id))).toEqual(ids(sorted(batch, direction)));
          // Whatever late records appeared did so in order.
          expect(seen).toEqual(ids(sorted(got.flat(), direction)));
          expect(late.length).toBeGreaterThan(0);
        },
      );

      it('rejects a cursor that is not one with LogCursorError', async () => {
        await put(clusterRecords());
        for (const cursor of ['', 'garbage!', 'AAAA', Buffer.from('1|f|x|0|id').toString('base64url'), 'x'.repeat(5000)]) {
          await expect(store.search(request({ cursor }))).rejects.toBeInstanceOf(LogCursorError);
        }
        const page = await store.search(request({ direction: 'forward', limit: 2 }));
        await expect(store.search(request({ direction: 'backward', cursor: page.nextCursor! }))).rejects.toBeInstanceOf(LogCursorError);
      });
    });

    describe('context', () => {
      /**
       * Container `app` of pod uid-1, restart 1, and its neighbours that context must leave out:
       * its other container, its restart 0, and a pod of the same name with another uid.
       */
      function contextFixture() {
        const base = { ns: 'shop', pod: 'api-0', uid: 'uid-1', container: 'app', restart: 1 };
        const t = (s: number) => T0 + 12n * HOUR + BigInt(s) * SECOND;
        const own = [
          testLogRecord({ ...base, t: t(1), offset: 0, message: 'own 0' }),
          testLogRecord({ ...base, t: t(2), offset: 100, message: 'own 1', stream: 'stderr', level: 'error' }),
          testLogRecord({ ...base, t: t(3), offset: 200, message: 'own 2' }),
          testLogRecord({ ...base, t: t(4), offset: 300, message: 'own 3' }),
          // Two records in the same tick: offset decides.
          testLogRecord({ ...base, t: t(5), offset: 500, message: 'own 5' }),
          testLogRecord({ ...base, t: t(5), offset: 400, message: 'own 4' }),
          testLogRecord({ ...base, t: t(6), offset: 600, message: 'own 6', level: 'debug' }),
          testLogRecord({ ...base, t: t(7), offset: 700, message: 'own 7' }),
        ];
        const others = [
          testLogRecord({ ...base, container: 'sidecar', t: t(4), offset: 0, message: 'sidecar' }),
          testLogRecord({ ...base, restart: 0, t: t(3), offset: 0, message: 'restart 0' }),
          testLogRecord({ ...base, uid: 'uid-2', t: t(5), offset: 450, message: 'same name, other pod' }),
        ];
        return { own, others };
      }

      it('returns the records around the anchor in its container stream, oldest first', async () => {
        const { own, others } = contextFixture();
        await put([...own, ...others]);
        const anchor = own.find((r) => r.message === 'own 4')!;
        const res = await store.context({ id: anchor.id, before: 3, after: 2 });
        expect(res.anchor?.id).toBe(anchor.id);
        expect(res.anchor?.message).toBe('own 4');
        expect(res.before.map((r) => r.message)).toEqual(['own 1', 'own 2', 'own 3']);
        expect(res.after.map((r) => r.message)).toEqual(['own 5', 'own 6']);
      });

      it('returns what there is at the edges of the stream', async () => {
        const { own, others } = contextFixture();
        await put([...own, ...others]);
        const first = await store.context({ id: own[0]!.id, before: 5, after: 3 });
        expect(first.before).toEqual([]);
        expect(first.after.map((r) => r.message)).toEqual(['own 1', 'own 2', 'own 3']);
        const last = await store.context({ id: own[7]!.id, before: 2, after: 10 });
        expect(last.before.map((r) => r.message)).toEqual(['own 5', 'own 6']);
        expect(last.after).toEqual([]);
        const none = await store.context({ id: own[3]!.id, before: 0, after: 0 });
        expect(none.anchor?.message).toBe('own 3');
        expect(none.before).toEqual([]);
        expect(none.after).toEqual([]);
      });

      it('crosses midnight', async () => {
        const base = { pod: 'night', container: 'app' };
        const batch = [-2n, -1n, 1n, 2n].map((s, i) => testLogRecord({ ...base, t: T0 + s * 100_000_000n, offset: i * 10, message: `n${i}` }));
        await put(batch);
        const res = await store.context({ id: batch[2]!.id, before: 5, after: 5 });
        expect(res.before.map((r) => r.message)).toEqual(['n0', 'n1']);
        expect(res.after.map((r) => r.message)).toEqual(['n3']);
      });

      it('returns no anchor for an unknown id', async () => {
        await put(clusterRecords());
        expect(await store.context({ id: 'no-such-record-id-00', before: 5, after: 5 })).toEqual({ before: [], after: [] });
      });
    });

    describe('volume', () => {
      /** Three records a minute for an hour from 10:00, alternating between two pods; a gap at 10:30–10:40. */
      function volumeFixture(): LogRecord[] {
        const out: LogRecord[] = [];
        for (let k = 0; k < 180; k++) {
          const minute = Math.floor(k / 3);
          if (minute >= 30 && minute < 40) continue;
          const pod = k % 2 === 0 ? 'even' : 'odd';
          out.push(testLogRecord({ pod, t: T0 + 10n * HOUR + BigInt(k) * 20n * SECOND, offset: k * 100, message: `tick ${k} from ${pod}` }));
        }
        return out;
      }

      it('counts matching records per step, epoch-aligned, only for non-empty buckets', async () => {
        const batch = volumeFixture();
        await put(batch);
        const startNs = T0 + 10n * HOUR;
        const buckets = await store.volume({ matchers: [], lineFilters: [], startNs, endNs: startNs + HOUR }, MINUTE);
        expect(buckets).toHaveLength(50);
        expect(buckets.every((b) => b.count === 3)).toBe(true);
        expect(buckets[0]!.startNs).toBe(startNs);
        expect(buckets.map((b) => b.startNs)).toEqual(
          Array.from({ length: 60 }, (_, i) => startNs + BigInt(i) * MINUTE).filter((_, i) => i < 30 || i >= 40),
        );
      });

      it('applies matchers, line filters and the time range', async () => {
        await put(volumeFixture());
        const startNs = T0 + 10n * HOUR + 10n * SECOND; // not on a bucket boundary
        const endNs = T0 + 10n * HOUR + 5n * MINUTE;
        const all = await store.volume({ matchers: [], lineFilters: [], startNs, endNs }, MINUTE);
        // The first bucket still starts on the minute, but counts only records from startNs on.
        expect(all).toEqual([
          { startNs: T0 + 10n * HOUR, count: 2 },
          ...[1n, 2n, 3n, 4n].map((i) => ({ startNs: T0 + 10n * HOUR + i * MINUTE, count: 3 })),
        ]);
        const even = await store.volume({ matchers: [m('pod', '=', 'even')], lineFilters: [], startNs, endNs }, MINUTE);
        expect(even.map((b) => b.count)).toEqual([1, 1, 2, 1, 2]);
        const filtered = await store.volume({ matchers: [], lineFilters: [{ op: '|=', value: 'tick 1' }], startNs, endNs }, MINUTE);
        // `tick 1` is in ticks 1, 10–19 and 100–179; of these, 1 and 10–14 fall in the range.
        expect(filtered).toEqual([
          { startNs: T0 + 10n * HOUR, count: 1 },
          { startNs: T0 + 10n * HOUR + 3n * MINUTE, count: 2 },
          { startNs: T0 + 10n * HOUR + 4n * MINUTE, count: 3 },
        ]);
      });

      it('puts everything into one bucket when the step spans the range, across days', async () => {
        const batch = [...volumeFixture(), testLogRecord({ pod: 'next-day', t: T0 + DAY + HOUR, offset: 0, message: 'tomorrow' })];
        await put(batch);
        const step = 100n * DAY;
        expect(await store.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + 2n * DAY }, step)).toEqual([
          { startNs: (T0 / step) * step, count: batch.length },
        ]);
        const daily = await store.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + 2n * DAY }, DAY);
        expect(daily).toEqual([
          { startNs: T0, count: batch.length - 1 },
          { startNs: T0 + DAY, count: 1 },
        ]);
      });

      it('is empty for an empty store or selection', async () => {
        await h.refresh?.();
        expect(await store.volume({ matchers: [], lineFilters: [], ...WHOLE_RANGE }, HOUR)).toEqual([]);
        await put(volumeFixture());
        expect(await store.volume({ matchers: [m('pod', '=', 'none')], lineFilters: [], ...WHOLE_RANGE }, HOUR)).toEqual([]);
        expect(await store.volume({ matchers: [], lineFilters: [{ op: '|=', value: 'absent' }], ...WHOLE_RANGE }, HOUR)).toEqual([]);
      });
    });

    describe('streams', () => {
      function streamsFixture() {
        const now = T0 + 10n * HOUR;
        const old = [0, 1, 2].map((i) =>
          testLogRecord({ ns: 'batch', pod: 'nightly-job-x1', uid: 'uid-job', container: 'job', t: T0 - 20n * DAY + BigInt(i) * MINUTE, offset: i * 10, message: `job step ${i}` }),
        );
        const api = { ns: 'shop', pod: 'api-0', uid: 'uid-api', node: 'node-a' };
        const current = [
          testLogRecord({ ...api, container: 'app', restart: 0, t: now, offset: 0, message: 'boot' }),
          testLogRecord({ ...api, container: 'app', restart: 0, t: now + MINUTE, offset: 10, message: 'crash', stream: 'stderr', level: 'error' }),
          testLogRecord({ ...api, container: 'app', restart: 1, t: now + 2n * MINUTE, offset: 0, message: 'boot again' }),
          testLogRecord({ ...api, container: 'app', restart: 1, t: now + 3n * MINUTE, offset: 10, message: 'serving' }),
          testLogRecord({ ...api, container: 'proxy', t: now + 30n * SECOND, offset: 0, message: 'proxy up' }),
        ];
        return { old, current, now };
      }

      it('lists each container of each pod with when it was first and last seen in the range', async () => {
        const { old, current, now } = streamsFixture();
        await put([...old, ...current]);
        const got = await store.streams({ matchers: [], lineFilters: [], startNs: T0 - 30n * DAY, endNs: T0 + DAY });
        const key = (s: { namespace: string; pod: string; container: string }) => `${s.namespace}/${s.pod}/${s.container}`;
        const byKey = new Map(got.map((s) => [key(s), s]));
        expect([...byKey.keys()].sort()).toEqual(['batch/nightly-job-x1/job', 'shop/api-0/app', 'shop/api-0/proxy']);
        expect(got).toHaveLength(3);
        // A pod whose logs stopped twenty days ago.
        expect(byKey.get('batch/nightly-job-x1/job')).toEqual({
          namespace: 'batch',
          pod: 'nightly-job-x1',
          podUid: 'uid-job',
          container: 'job',
          node: 'node-a',
          firstSeenNs: T0 - 20n * DAY,
          lastSeenNs: T0 - 20n * DAY + 2n * MINUTE,
        });
        // Restarts of a container are one stream here, seen from the first restart's first line.
        expect(byKey.get('shop/api-0/app')).toMatchObject({ podUid: 'uid-api', firstSeenNs: now, lastSeenNs: now + 3n * MINUTE });
        expect(byKey.get('shop/api-0/proxy')).toMatchObject({ firstSeenNs: now + 30n * SECOND, lastSeenNs: now + 30n * SECOND });
      });

      it('lists only streams with records in the range, seen within it', async () => {
        const { old, current, now } = streamsFixture();
        await put([...old, ...current]);
        const recent = await store.streams({ matchers: [], lineFilters: [], startNs: T0 - DAY, endNs: T0 + DAY });
        expect(recent.map((s) => s.container).sort()).toEqual(['app', 'proxy']);
        const clipped = await store.streams({ matchers: [], lineFilters: [], startNs: now + 10n * SECOND, endNs: now + 150n * SECOND });
        expect(clipped.map((s) => [s.container, s.firstSeenNs, s.lastSeenNs])).toEqual(
          expect.arrayContaining([
            ['app', now + MINUTE, now + 2n * MINUTE],
            ['proxy', now + 30n * SECOND, now + 30n * SECOND],
          ]),
        );
        expect(clipped).toHaveLength(2);
        const oldOnly = await store.streams({ matchers: [], lineFilters: [], startNs: T0 - 20n * DAY + MINUTE, endNs: T0 - 19n * DAY });
        expect(oldOnly.map((s) => [s.pod, s.firstSeenNs, s.lastSeenNs])).toEqual([['nightly-job-x1', T0 - 20n * DAY + MINUTE, T0 - 20n * DAY + 2n * MINUTE]]);
      });

      it('applies matchers, level included, and ignores line filters', async () => {
        const { old, current, now } = streamsFixture();
        await put([...old, ...current]);
        const range = { startNs: T0 - 30n * DAY, endNs: T0 + DAY };
        const batchNs = await store.streams({ matchers: [m('namespace', '=', 'batch')], lineFilters: [], ...range });
        expect(batchNs.map((s) => s.pod)).toEqual(['nightly-job-x1']);
        const errors = await store.streams({ matchers: [m('level', '=', 'error')], lineFilters: [], ...range });
        expect(errors.map((s) => [s.container, s.firstSeenNs, s.lastSeenNs])).toEqual([['app', now + MINUTE, now + MINUTE]]);
        const ignored = await store.streams({ matchers: [m('container', '=~', 'app|proxy')], lineFilters: [{ op: '|=', value: 'matches no line' }], ...range });
        expect(ignored.map((s) => s.container).sort()).toEqual(['app', 'proxy']);
      });

      it('is empty for an empty store', async () => {
        await h.refresh?.();
        expect(await store.streams({ matchers: [], lineFilters: [], ...WHOLE_RANGE })).toEqual([]);
      });
    });

    describe('retention', () => {
      it('drops records older than the cutoff and keeps the rest, the record at the cutoff included', async () => {
        const cutoff = T0 + DAY + 12n * HOUR;
        const spec = [
          ['gone-1', T0 + 10n * HOUR],
          ['gone-2', T0 + DAY + 6n * HOUR],
          ['gone-3', cutoff - 1n],
          ['kept-1', cutoff],
          ['kept-2', T0 + DAY + 18n * HOUR],
          ['kept-3', T0 + 2n * DAY + 10n * HOUR],
        ] as const;
        const batch = spec.map(([message, t], i) => testLogRecord({ pod: message.startsWith('gone-1') ? 'only-old' : 'p', t, offset: i * 10, message }));
        await put(batch);
        const removed = await store.applyRetention(cutoff);
        expect(Number.isInteger(removed) && removed >= 0).toBe(true);
        await h.refresh?.();
        expect((await searchAll()).map((r) => r.message)).toEqual(['kept-1', 'kept-2', 'kept-3']);
        expect((await store.volume({ matchers: [], lineFilters: [], ...WHOLE_RANGE }, 100n * DAY)).reduce((n, b) => n + b.count, 0)).toBe(3);
        expect((await store.streams({ matchers: [], lineFilters: [], ...WHOLE_RANGE })).map((s) => [s.pod, s.firstSeenNs])).toEqual([['p', cutoff]]);
        expect((await store.context({ id: batch[1]!.id, before: 1, after: 1 })).anchor).toBeUndefined();
        const kept = await store.context({ id: batch[3]!.id, before: 5, after: 5 });
        expect(kept.before).toEqual([]);
        expect(kept.after.map((r) => r.message)).toEqual(['kept-2', 'kept-3']);
        // Still writable, and idempotent for what it kept.
        expect(await put(batch.slice(3))).toEqual({ stored: 0, duplicates: 3, rejected: [] });
      });

      it('is harmless on an empty store and when nothing is old enough', async () => {
        expect(await store.applyRetention(T0)).toBeGreaterThanOrEqual(0);
        await put(clusterRecords());
        await store.applyRetention(T0);
        await h.refresh?.();
        expect(await searchAll()).toHaveLength(10);
      });
    });
  });
}
