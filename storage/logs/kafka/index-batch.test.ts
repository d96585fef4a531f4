/**
 * The indexer's per-batch logic against the real embedded store (SQLite day files in a temporary
 * directory). Messages are what kafkajs hands over (offset, key, value); the dead letters are
 * collected in memory, since no Kafka runs here (kafka.test.ts covers the real topic).
 *
 * The store is made unavailable for real: a second connection holds an exclusive transaction on
 * its day file, as a stuck backup or a second writer would, so appends fail with SQLITE_BUSY.
 */
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { logRecordId, type LogRecord, type LogSource } from '../../../model/logs.js';
import { LogUnavailableError } from '../interface.js';
import { readAllStored } from '../sink-contract.js';
import { SqliteLogStore } from '../sqlite/index.js';
import { decodeLogMessage, encodeLogMessages } from './codec.js';
import { DEAD_LETTER_HEADERS, indexMessages, type DeadLetter, type DeadLetterWriter, type SourceMessage } from './index-batch.js';

const BASE_NS = 1_750_000_000_000_000_000n; // 2025-06-15
const DAY_FILE = '2025-06-15.db';
const MAX_MESSAGE_BYTES = 2048;

const dirs: string[] = [];
const stores: SqliteLogStore[] = [];
const locks: Database.Database[] = [];

afterEach(async () => {
  for (const db of locks.splice(0)) {
    if (db.inTransaction) db.exec('ROLLBACK');
    db.close();
  }
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function newStore(): Promise<SqliteLogStore> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-index-batch-'));
  dirs.push(dir);
  const store = new SqliteLogStore({ dir, busyTimeoutMs: 20, maxMessageBytes: MAX_MESSAGE_BYTES });
  stores.push(store);
  return store;
}

/** Holds an exclusive write transaction on the store's day file until `release`. */
function lock(store: SqliteLogStore): { release(): void } {
  const db = new Database(path.join(store.dir, DAY_FILE), { timeout: 1000 });
  locks.push(db);
  db.exec('BEGIN EXCLUSIVE');
  return {
    release() {
      db.exec('ROLLBACK');
    },
  };
}

function source(i: number): LogSource {
  return { node: 'node-1', namespace: 'ns', pod: `pod-${i}`, podUid: `uid-${i}`, container: 'app', restart: 0, path: `/p/${i}`, fileKey: `fk-${i}` };
}

function records(src: LogSource, count: number, from = 0, message = (i: number) => `line ${from + i} of ${src.pod}`): LogRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const offset = (from + i) * 100;
    return {
      id: logRecordId(src.node, src.fileKey, offset),
      timeNs: BASE_NS + BigInt(from + i),
      stream: 'stdout' as const,
      level: 'info' as const,
      message: message(i),
      source: src,
      offset,
      endOffset: offset + 100,
    };
  });
}

/** Kafka messages at consecutive offsets from `first`, one per group of records. */
function messages(groups: readonly (readonly LogRecord[] | Buffer)[], first = 100): SourceMessage[] {
  return groups.map((g, i) => {
    const value = Buffer.isBuffer(g) ? g : encodeLogMessages(g)[0]!.value;
    return { offset: String(first + i), key: Buffer.from(`key-${i}`), value };
  });
}

class CollectedDeadLetters implements DeadLetterWriter {
  readonly letters: DeadLetter[] = [];
  failures = 0;
  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('dead-letter topic unreachable');
    }
    this.letters.push(...letters);
  }
}

const CORRUPT = Buffer.from('{"v":1,"src":{"node":"n"},"lines":[]}');

describe('indexMessages', () => {
  it('stores every record and resolves up to the last message, one chunk at a time', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const all = [records(source(1), 3), records(source(2), 4), records(source(1), 3, 3), records(source(3), 5)];
    const resolved: string[] = [];
    let heartbeats = 0;
    const res = await indexMessages(messages(all), {
      topic: 'logs',
      partition: 2,
      store,
      deadLetters: dlq,
      maxRecordsPerAppend: 6,
      heartbeat: async () => void heartbeats++,
      resolve: (o) => void resolved.push(o),
    });
    expect(res).toEqual({ lastHandledOffset: '103', handled: 4, stored: 15, duplicates: 0, rejected: 0, corrupt: 0, stopped: false });
    // Chunks of whole messages, closed once they hold 6 records: [3+4], [3+5].
    expect(resolved).toEqual(['101', '103']);
    expect(heartbeats).toBeGreaterThanOrEqual(2);
    expect(dlq.letters).toEqual([]);
    const stored = await readAllStored(store);
    expect(stored.map((r) => r.id).sort()).toEqual(all.flat().map((r) => r.id).sort());
  });

  it('dead-letters a corrupt message as it was, with Kafka Connect style headers, and goes on', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const good = [records(source(1), 2), records(source(2), 2)];
    const msgs = messages([good[0]!, CORRUPT, good[1]!], 40);
    const res = await indexMessages(msgs, { topic: 'vigil-logs', partition: 7, store, deadLetters: dlq });
    expect(res.lastHandledOffset).toBe('42');
    expect(res.corrupt).toBe(1);
    expect(res.stored).toBe(4);
    expect(dlq.letters).toHaveLength(1);
    const letter = dlq.letters[0]!;
    expect(letter.key).toEqual(Buffer.from('key-1'));
    expect(letter.value).toEqual(CORRUPT);
    expect(letter.headers).toEqual({
      [DEAD_LETTER_HEADERS.errorType]: 'corrupt',
      [DEAD_LETTER_HEADERS.error]: 'log message src.namespace: expected a string, got nothing',
      [DEAD_LETTER_HEADERS.srcTopic]: 'vigil-logs',
      [DEAD_LETTER_HEADERS.srcPartition]: '7',
      [DEAD_LETTER_HEADERS.srcOffset]: '41',
    });
    expect((await readAllStored(store)).length).toBe(4);
  });

  it('dead-letters a tombstone and random bytes without failing the batch', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const msgs: SourceMessage[] = [
      { offset: '0', key: null, value: null },
      { offset: '1', key: null, value: Buffer.from([0xff, 0xfe, 0x00]) },
      ...messages([records(source(1), 1)], 2),
    ];
    const res = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq });
    expect(res).toMatchObject({ lastHandledOffset: '2', corrupt: 2, stored: 1 });
    expect(dlq.letters.map((l) => [l.headers['x-src-offset'], l.headers['x-error']])).toEqual([
      ['0', 'log message: no value (a tombstone)'],
      ['1', 'log message: value is not valid UTF-8'],
    ]);
  });

  it('dead-letters the records the store refuses, re-encoded, and stores the rest of their message', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const src = source(1);
    const batch = records(src, 5, 0, (i) => (i === 1 || i === 3 ? 'x'.repeat(MAX_MESSAGE_BYTES + 1) : `ok ${i}`));
    const early = { ...records(src, 1, 5)[0]!, timeNs: -5n }; // before 1970: refused for another reason
    const msgs = messages([records(source(2), 1), [...batch, early]], 10);
    const res = await indexMessages(msgs, { topic: 'vigil-logs', partition: 3, store, deadLetters: dlq });
    expect(res).toMatchObject({ lastHandledOffset: '11', handled: 2, stored: 4, rejected: 3, corrupt: 0 });

    // One letter per (message, reason), keyed as the message was, decodable like any message.
    expect(dlq.letters).toHaveLength(2);
    const [tooLong, tooEarly] = dlq.letters;
    for (const l of dlq.letters) {
      expect(l.key).toEqual(Buffer.from('key-1'));
      expect(l.headers).toMatchObject({ 'x-error-type': 'rejected', 'x-src-topic': 'vigil-logs', 'x-src-partition': '3', 'x-src-offset': '11' });
    }
    expect(tooLong!.headers['x-error']).toMatch(/message of 2049 bytes exceeds the limit of 2048/);
    expect(decodeLogMessage(tooLong!.value).records).toEqual([batch[1], batch[3]]);
    expect(tooEarly!.headers['x-error']).toMatch(/timestamp outside/);
    expect(decodeLogMessage(tooEarly!.value).records).toEqual([early]);

    const stored = await readAllStored(store);
    expect(stored.map((r) => r.message).sort()).toEqual(['line 0 of pod-2', 'ok 0', 'ok 2', 'ok 4']);
  });

  it('resolves nothing and dead-letters nothing while the store is unavailable', async () => {
    const store = await newStore();
    await store.append(records(source(9), 1)); // creates the day file
    const dlq = new CollectedDeadLetters();
    const held = lock(store);
    const resolved: string[] = [];
    const msgs = messages([records(source(1), 2), CORRUPT, records(source(2), 2)]);
    const res = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq, resolve: (o) => void resolved.push(o) });
    expect(res.unavailable).toBeInstanceOf(LogUnavailableError);
    expect(res.unavailable!.message).toMatch(/SQLITE_BUSY/);
    expect(res).toMatchObject({ lastHandledOffset: undefined, handled: 0, stored: 0 });
    expect(resolved).toEqual([]);
    // The corrupt message's letter waits for its chunk: a replay must not send it twice.
    expect(dlq.letters).toEqual([]);

    held.release();
    const again = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq, resolve: (o) => void resolved.push(o) });
    expect(again).toMatchObject({ lastHandledOffset: '102', stored: 4, corrupt: 1 });
    expect(dlq.letters).toHaveLength(1);
  });

  it('stops at the chunk the store failed in; the replay stores the rest exactly once', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const all = Array.from({ length: 6 }, (_, i) => records(source(i), 3));
    const msgs = messages(all, 500);
    const resolved: string[] = [];
    let held: { release(): void } | undefined;
    let appends = 0;
    // Chunks are single messages here (3 records ≥ 2 per append), each taking two appends.
    // Heartbeats follow appends: the store goes away after the third, half-way through chunk two.
    const heartbeat = async () => {
      if (++appends === 3) held = lock(store);
    };
    const res = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq, maxRecordsPerAppend: 2, heartbeat, resolve: (o) => void resolved.push(o) });
    expect(res.unavailable).toBeInstanceOf(LogUnavailableError);
    expect(resolved).toEqual(['500']);
    expect(res.lastHandledOffset).toBe('500');
    expect(res.stored).toBe(5);

    held!.release();
    const rest = msgs.filter((m) => BigInt(m.offset) > BigInt(res.lastHandledOffset!));
    const again = await indexMessages(rest, { topic: 't', partition: 0, store, deadLetters: dlq, maxRecordsPerAppend: 2, resolve: (o) => void resolved.push(o) });
    expect(again.unavailable).toBeUndefined();
    expect(again.lastHandledOffset).toBe('505');
    expect(again.duplicates).toBe(2);
    const stored = await readAllStored(store);
    expect(stored.map((r) => r.id).sort()).toEqual(all.flat().map((r) => r.id).sort());
  });

  it('treats a dead-letter topic that cannot take the letter like an unavailable store', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    dlq.failures = 1;
    const msgs = messages([records(source(1), 1), CORRUPT, records(source(2), 1)]);
    const res = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq, maxRecordsPerAppend: 1 });
    // Chunks: [msg 100], [msg 101 (corrupt), msg 102]. The second cannot be resolved.
    expect(res.lastHandledOffset).toBe('100');
    expect(res.unavailable).toBeInstanceOf(LogUnavailableError);
    expect(res.unavailable!.message).toMatch(/dead-letter write failed: dead-letter topic unreachable/);
    const again = await indexMessages(msgs.slice(1), { topic: 't', partition: 0, store, deadLetters: dlq, maxRecordsPerAppend: 1 });
    expect(again).toMatchObject({ lastHandledOffset: '102', corrupt: 1, duplicates: 1, stored: 0 });
    expect(dlq.letters).toHaveLength(1);
  });

  it('ends early at a chunk boundary when told to stop', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    let checks = 0;
    const msgs = messages([records(source(1), 2), records(source(2), 2), records(source(3), 2)]);
    const res = await indexMessages(msgs, { topic: 't', partition: 0, store, deadLetters: dlq, maxRecordsPerAppend: 2, shouldContinue: () => ++checks <= 1 });
    expect(res).toMatchObject({ stopped: true, lastHandledOffset: '100', handled: 1, stored: 2 });
  });

  it('appends a message larger than one sub-batch in several appends, resolving it once', async () => {
    const store = await newStore();
    const dlq = new CollectedDeadLetters();
    const resolved: string[] = [];
    let heartbeats = 0;
    const res = await indexMessages(messages([records(source(1), 25)]), {
      topic: 't',
      partition: 0,
      store,
      deadLetters: dlq,
      maxRecordsPerAppend: 10,
      heartbeat: async () => void heartbeats++,
      resolve: (o) => void resolved.push(o),
    });
    expect(res).toMatchObject({ stored: 25, lastHandledOffset: '100' });
    expect(heartbeats).toBe(3);
    expect(resolved).toEqual(['100']);
  });

  it('never resolves past an unhandled message, whatever the mix and wherever the store fails', async () => {
    type Item = { kind: 'good'; count: number } | { kind: 'corrupt' } | { kind: 'refused' };
    const item: fc.Arbitrary<Item> = fc.oneof(
      fc.record({ kind: fc.constant('good' as const), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('corrupt' as const) }),
      fc.record({ kind: fc.constant('refused' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 5 }), fc.option(fc.integer({ min: 1, max: 12 })), async (items, max, failAfter) => {
        const store = await newStore();
        await store.append(records(source(99), 1));
        const dlq = new CollectedDeadLetters();
        const groups = items.map((it, i): LogRecord[] | Buffer => {
          if (it.kind === 'corrupt') return CORRUPT;
          if (it.kind === 'refused') return records(source(i), 1, 0, () => 'z'.repeat(MAX_MESSAGE_BYTES + 1));
          return records(source(i), it.count);
        });
        const msgs = messages(groups, 0);
        const resolved: string[] = [];
        let appends = 0;
        let held: { release(): void } | undefined;
        const res = await indexMessages(msgs, {
          topic: 't',
          partition: 0,
          store,
          deadLetters: dlq,
          maxRecordsPerAppend: max,
          heartbeat: async () => {
            if (failAfter !== null && ++appends === failAfter) held = lock(store);
          },
          resolve: (o) => void resolved.push(o),
        });
        held?.release();
        const last = res.lastHandledOffset === undefined ? -1 : Number(res.lastHandledOffset);
        // Resolved offsets only grow, and end where the result says.
        expect(resolved.map(Number)).toEqual([...resolved.map(Number)].sort((a, b) => a - b));
        expect(resolved.at(-1)).toBe(res.lastHandledOffset);
        if (res.unavailable === undefined) expect(last).toBe(msgs.length - 1);
        // Everything up to `last` is stored or dead-lettered; nothing after it is dead-lettered.
        const storedIds = new Set((await readAllStored(store)).map((r) => r.id));
        const lettered = new Set(dlq.letters.map((l) => Number(l.headers['x-src-offset'])));
        items.forEach((it, i) => {
          if (i > last) {
            expect(lettered.has(i)).toBe(false);
            return;
          }
          if (it.kind === 'good') for (const r of groups[i] as LogRecord[]) expect(storedIds.has(r.id)).toBe(true);
          else expect(lettered.has(i)).toBe(true);
        });
        expect(dlq.letters.length).toBe(items.filter((it, i) => it.kind !== 'good' && i <= last).length);
      }),
      { numRuns: 60 },
    );
  });
});
