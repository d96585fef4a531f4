/**
 * The contract every `LogSink` keeps, as one vitest suite to run against each implementation
 * (in-process into a store, Kafka with the indexer behind it):
 *
 * - once `write` resolves, every record of the batch is readable downstream, exactly once;
 * - writing the same batch again (the tailer's retry) does not double anything;
 * - records of one container stream read back in the order they were written (with equal
 *   timestamps only the offset orders them);
 * - empty batches, batches over 1 MB and any Unicode are fine;
 * - `flush` resolves after every write under way was acknowledged; `close` lets writes under way
 *   finish, and later writes reject.
 *
 * "Downstream" is what `readBack` sees: the store behind the sink. With Kafka that is
 * eventually, so `readBack` waits for the records it expects; a replay shows as extra records,
 * which a sentinel written after it (same stream, so same partition, so indexed after it) lets
 * the suite wait for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { logRecordId, type LogRecord, type LogSource } from '../../model/logs.js';
import type { LogSink, LogStore, StoredLogRecord } from './interface.js';

export interface LogSinkUnderTest {
  readonly sink: LogSink;
  /**
   * Every record downstream, in store order (oldest first), once at least `expectedCount` are
   * there or `timeoutMs` passed, whichever comes first.
   */
  readBack(expectedCount: number, timeoutMs: number): Promise<readonly (StoredLogRecord | LogRecord)[]>;
  /** Closes whatever `open` opened; called after every test, also after the sink was closed. */
  cleanup(): Promise<void>;
}

export interface LogSinkContractOptions {
  /** How long downstream may take to show acknowledged records; default 10 s. */
  readonly readBackTimeoutMs?: number;
}

/** A record as both shapes expose it, for comparison. */
interface Seen {
  readonly id: string;
  readonly timeNs: bigint;
  readonly stream: string;
  readonly level: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, string>> | undefined;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly restart: number;
  readonly node: string;
  readonly fileKey: string;
  readonly offset: number;
}

function seen(r: StoredLogRecord | LogRecord): Seen {
  const s = 'source' in r ? r.source : r;
  const fields = r.fields !== undefined && Object.keys(r.fields).length > 0 ? { ...r.fields } : undefined;
  return {
    id: r.id,
    timeNs: r.timeNs,
    stream: r.stream,
    level: r.level,
    message: r.message,
    fields,
    namespace: s.namespace,
    pod: s.pod,
    podUid: s.podUid,
    container: s.container,
    restart: s.restart,
    node: s.node,
    fileKey: s.fileKey,
    offset: r.offset,
  };
}

const BASE_NS = 1_750_000_000_000_000_000n;

function source(i: number, over: Partial<LogSource> = {}): LogSource {
  const podUid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    node: 'node-contract',
    namespace: 'contract',
    pod: `pod-${i}`,
    podUid,
    container: 'app',
    restart: 0,
    path: `/var/log/pods/contract_pod-${i}_${podUid}/app/0.log`,
    fileKey: `fk-${i}`,
    ...over,
  };
}

/**
 * `count` consecutive records of one file, starting at byte `from`. Timestamps advance by
 * `stepNs` (0: all equal, as in a burst within one clock tick, so only offsets order them).
 */
function records(src: LogSource, count: number, opts: { from?: number; stepNs?: bigint; message?: (i: number) => string } = {}): LogRecord[] {
  const out: LogRecord[] = [];
  let offset = opts.from ?? 0;
  for (let i = 0; i < count; i++) {
    const message = opts.message?.(i) ?? `${src.pod} line ${i}`;
    const end = offset + Buffer.byteLength(message) + 45; // the CRI framing of one line
    out.push({
      id: logRecordId(src.node, src.fileKey, offset),
      timeNs: BASE_NS + BigInt(i) * (opts.stepNs ?? 1_000n),
      stream: i % 5 === 4 ? 'stderr' : 'stdout',
      level: i % 5 === 4 ? 'error' : 'info',
      message,
      source: src,
      offset,
      endOffset: end,
    });
    offset = end;
  }
  return out;
}

function expectExactlyOnce(got: readonly (StoredLogRecord | LogRecord)[], written: readonly LogRecord[]): void {
  const ids = got.map((r) => r.id);
  expect(new Set(ids).size, 'a record is stored twice').toBe(ids.length);
  const byId = new Map(got.map((r) => [r.id, seen(r)]));
  const missing = written.filter((r) => !byId.has(r.id));
  expect(missing.map((r) => `${r.source.pod}@${r.offset}`), 'acknowledged records missing downstream').toEqual([]);
  expect(got.length, 'records downstream that were never written').toBe(written.length);
  for (const r of written) expect(byId.get(r.id)).toEqual(seen(r));
}

export function describeLogSinkContract(name: string, open: () => Promise<LogSinkUnderTest>, opts: LogSinkContractOptions = {}): void {
  const timeout = opts.readBackTimeoutMs ?? 10_000;

  describe(`LogSink contract: ${name}`, () => {
    let current: LogSinkUnderTest | undefined;
    const setup = async (): Promise<LogSinkUnderTest> => {
      current = await open();
      return current;
    };
    afterEach(async () => {
      const c = current;
      current = undefined;
      await c?.cleanup();
    });

    it('makes every acknowledged record readable downstream, exactly once, as written', async () => {
      const { sink, readBack } = await setup();
      const batch = [
        ...records(source(1), 40),
        ...records(source(2, { namespace: 'other', container: 'sidecar', restart: 3 }), 30),
        ...records(source(3), 30).map((r, i) => (i % 2 === 0 ? { ...r, fields: { status: String(200 + i), path: `/api/${i}` } } : r)),
      ];
      await sink.write(batch);
      expectExactlyOnce(await readBack(batch.length, timeout), batch);
    });

    it('stores a replayed batch once (the tailer retries after an unacknowledged write)', async () => {
      const { sink, readBack } = await setup();
      const src = source(1);
      const batch = records(src, 50);
      await sink.write(batch);
      await sink.write(batch);
      await sink.write(batch.slice(10, 30));
      // Same stream, so it travels behind the replays and is stored after them.
      const sentinel = records(src, 1, { from: batch[batch.length - 1]!.endOffset });
      await sink.write(sentinel);
      expectExactlyOnce(await readBack(batch.length + 1, timeout), [...batch, ...sentinel]);
    });

    it('keeps the order of each container stream across batches', async () => {
      const { sink, readBack } = await setup();
      const a = records(source(1), 120, { stepNs: 0n });
      const b = records(source(2), 120, { stepNs: 0n });
      // Interleaved streams, several batches, timestamps all equal: only offsets order a stream.
      for (let i = 0; i < 120; i += 30) await sink.write([...a.slice(i, i + 30), ...b.slice(i, i + 30)]);
      const got = await readBack(240, timeout);
      expectExactlyOnce(got, [...a, ...b]);
      for (const stream of [a, b]) {
        const pod = stream[0]!.source.pod;
        const mine = got.filter((r) => ('source' in r ? r.source.pod : r.pod) === pod);
        expect(mine.map((r) => r.offset)).toEqual(stream.map((r) => r.offset));
      }
    });

    it('acknowledges an empty batch and stores nothing', async () => {
      const { sink, readBack } = await setup();
      await sink.write([]);
      const marker = records(source(9), 1);
      await sink.write(marker);
      expectExactlyOnce(await readBack(1, timeout), marker);
    });

    it('takes a batch of more than 1 MB', async () => {
      const { sink, readBack } = await setup();
      const batch = records(source(1), 2500, { message: (i) => `${i} ${'lorem ipsum dolor sit amet '.repeat(20)}` });
      expect(batch.reduce((n, r) => n + Buffer.byteLength(r.message), 0)).toBeGreaterThan(1_250_000);
      await sink.write(batch);
      expectExactlyOnce(await readBack(batch.length, timeout * 2), batch);
    });

    it('keeps any Unicode intact in messages, fields and metadata', async () => {
      const { sink, readBack } = await setup();
      const texts = [
        'émoji 🚀🔥 and a ZWJ family 👩‍👩‍👧',
        '中文日志 错误：连接超时',
        'עברית RTL ‏mixed‎ العربية',
        'combining e\u0301 vs é, \u00a0nbsp, \u2028line separator',
        'tab\there, NUL\u0000inside, DEL\u007f, BOM\ufeff',
        '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral plane 𐍈',
        '"quotes" \\backslash\\ {json-ish: [1,2]}',
      ];
      const src = source(1, { pod: 'pöd-ünïcode', podLabels: { 'app.kubernetes.io/name': 'café', team: '数据' } });
      const batch = records(src, texts.length, { message: (i) => texts[i]! }).map((r, i) => ({ ...r, fields: { msg: texts[i]!, 'ключ': 'значение' } }));
      await sink.write(batch);
      expectExactlyOnce(await readBack(batch.length, timeout), batch);
    });

    it('resolves flush only after every write under way was acknowledged', async () => {
      const { sink, readBack } = await setup();
      const acked: boolean[] = [];
      const all: LogRecord[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 5; i++) {
        const batch = records(source(i), 20);
        all.push(...batch);
        const at = acked.push(false) - 1;
        writes.push(sink.write(batch).then(() => void (acked[at] = true)));
      }
      await sink.flush();
      expect(acked).toEqual([true, true, true, true, true]);
      await Promise.all(writes);
      expectExactlyOnce(await readBack(all.length, timeout), all);
    });

    it('lets writes under way finish on close, then rejects writes', async () => {
      const { sink, readBack } = await setup();
      const batch = records(source(1), 25);
      const pending = sink.write(batch);
      await sink.close();
      await expect(pending).resolves.toBeUndefined();
      expectExactlyOnce(await readBack(batch.length, timeout), batch);
      await expect(sink.write(records(source(2), 1))).rejects.toThrow();
      await expect(sink.flush()).resolves.toBeUndefined();
      await expect(sink.close()).resolves.toBeUndefined();
    });
  });
}

/** Every record in a store, in store order, page by page. */
export async function readAllStored(store: LogStore): Promise<StoredLogRecord[]> {
  const out: StoredLogRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await store.search({
      matchers: [],
      lineFilters: [],
      startNs: 0n,
      endNs: 2n ** 63n - 1n,
      direction: 'forward',
      limit: 5000,
      ...(cursor !== undefined && { cursor }),
    });
    out.push(...page.records);
    if (page.nextCursor === undefined) return out;
    cursor = page.nextCursor;
  }
}

/** A `readBack` over a store that records reach asynchronously: polls until enough are there. */
export function storeReadBack(store: LogStore, pollMs = 50): LogSinkUnderTest['readBack'] {
  return async (expectedCount, timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await readAllStored(store);
      if (all.length >= expectedCount || Date.now() >= deadline) return all;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
}
