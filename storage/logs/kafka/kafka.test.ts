/**
 * The Kafka path against a real broker: `KafkaLogSink` → topic → `Indexer` → SQLite store.
 * Runs only when `KAFKA_BROKERS` names brokers (e.g. `localhost:9094` after
 * `docker compose up -d kafka`). Without them every test here is reported skipped, never passed
 * (vitest fails a file that registers no test at all).
 *
 * Every pipeline gets its own topics and consumer group, so runs never see each other's records.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Partitioners, type Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { logRecordId, type LogRecord, type LogSource } from '../../../model/logs.js';
import { silentLogger } from '../../../util/logging.js';
import { describeLogSinkContract, storeReadBack, type LogSinkUnderTest } from '../sink-contract.js';
import { SqliteLogStore } from '../sqlite/index.js';
import { createKafka, type KafkaClientOptions } from './client.js';
import { DEAD_LETTER_HEADERS } from './index-batch.js';
import { Indexer } from './indexer.js';
import { KafkaLogSink } from './sink.js';
import { deadLetterTopic } from './topics.js';

const BROKERS = (process.env.KAFKA_BROKERS ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter((b) => b !== '');

const CLIENT: KafkaClientOptions = { brokers: BROKERS, clientId: 'vigil-test' };
const STORE_MAX_MESSAGE_BYTES = 64 * 1024;

interface Pipeline extends LogSinkUnderTest {
  readonly topic: string;
  readonly kafka: Kafka;
  readonly store: SqliteLogStore;
  readonly sink: KafkaLogSink;
  readonly indexerRegistry: Registry;
  /** Starts another indexer in the same group, e.g. after stopping the first. */
  startIndexer(): Promise<{ indexer: Indexer; registry: Registry }>;
  stopIndexer(): Promise<void>;
}

async function openPipeline(opts: { perNamespace?: boolean } = {}): Promise<Pipeline> {
  const id = randomUUID().slice(0, 8);
  const topic = `vigil-test-${id}`;
  const kafka = createKafka(CLIENT, silentLogger());
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 3 },
      { topic: deadLetterTopic(topic), numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-kafka-'));
  const store = new SqliteLogStore({ dir, maxMessageBytes: STORE_MAX_MESSAGE_BYTES });
  const fatal: unknown[] = [];
  let indexer: Indexer | undefined;
  const startIndexer = async () => {
    const registry = new Registry();
    const next = new Indexer({
      client: CLIENT,
      topic,
      topicPerNamespace: opts.perNamespace ?? false,
      groupId: `vigil-test-${id}`,
      store,
      registry,
      logger: silentLogger(),
      backoff: { initialMs: 100, maxMs: 1000 },
      topicRefreshIntervalMs: 500,
    });
    await next.start({ signal: new AbortController().signal, fatal: (err) => void fatal.push(err) });
    indexer = next;
    return { indexer: next, registry };
  };
  const first = await startIndexer();
  const sink = new KafkaLogSink({ client: CLIENT, topic, topicPerNamespace: opts.perNamespace ?? false, registry: new Registry(), logger: silentLogger() });
  return {
    topic,
    kafka,
    store,
    sink,
    indexerRegistry: first.registry,
    startIndexer,
    async stopIndexer() {
      await indexer?.stop();
      indexer = undefined;
    },
    readBack: storeReadBack(store, 100),
    async cleanup() {
      await sink.close().catch(() => undefined);
      await indexer?.stop();
      await store.close();
      const topics = (await admin.listTopics()).filter((t) => t === topic || t.startsWith(`${topic}.`));
      await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
      await rm(dir, { recursive: true, force: true });
      expect(fatal, 'the indexer reported fatal errors').toEqual([]);
    },
  };
}

function source(i: number, namespace = 'kafka-test'): LogSource {
  return { node: 'node-k', namespace, pod: `pod-${i}`, podUid: `uid-${i}`, container: 'app', restart: 0, path: `/p/${i}`, fileKey: `fk-${i}` };
}

function records(src: LogSource, count: number, from = 0, message = (i: number) => `line ${from + i}`): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    id: logRecordId(src.node, src.fileKey, (from + i) * 100),
    timeNs: 1_750_000_000_000_000_000n + BigInt(from + i),
    stream: 'stdout' as const,
    level: 'info' as const,
    message: message(i),
    source: src,
    offset: (from + i) * 100,
    endOffset: (from + i) * 100 + 100,
  }));
}

async function counter(registry: Registry, name: string): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((n, v) => n + v.value, 0) ?? 0;
}

/** Reads the dead-letter topic from its beginning until `count` letters arrived. */
async function readDeadLetters(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: `vigil-test-dlq-${randomUUID().slice(0, 8)}` });
  const letters: { key: string | undefined; value: string | undefined; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let done!: () => void;
    const enough = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        letters.push({ key: message.key?.toString(), value: message.value?.toString(), headers });
        if (letters.length >= count) done();
      },
    });
    await Promise.race([enough, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

describe.skipIf(BROKERS.length === 0)('Kafka (KAFKA_BROKERS)', () => {
  describeLogSinkContract('Kafka → indexer → SQLite', () => openPipeline(), { readBackTimeoutMs: 30_000 });

  describe('Kafka indexer against a real broker', () => {
    let current: Pipeline | undefined;
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });

    it('dead-letters a corrupt message and a refused record with their origin, and indexes the rest', async () => {
      const p = (current = await openPipeline());
      const producer = p.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const [sent] = await producer.send({ topic: p.topic, messages: [{ key: 'uid-1/app', value: 'not json' }], acks: -1 });
      await producer.disconnect();
      const src = source(1);
      const batch = records(src, 3, 0, (i) => (i === 1 ? 'x'.repeat(STORE_MAX_MESSAGE_BYTES + 1) : `ok ${i}`));
      await p.sink.write(batch);

      const stored = await p.readBack(2, 30_000);
      expect(stored.map((r) => r.message).sort()).toEqual(['ok 0', 'ok 2']);
      const letters = await readDeadLetters(p.kafka, deadLetterTopic(p.topic), 2);
      expect(letters).toHaveLength(2);
      const corrupt = letters.find((l) => l.headers[DEAD_LETTER_HEADERS.errorType] === 'corrupt')!;
      expect(corrupt).toMatchObject({ key: 'uid-1/app', value: 'not json' });
      expect(corrupt.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.srcTopic]: p.topic,
        [DEAD_LETTER_HEADERS.srcPartition]: String(sent!.partition),
        [DEAD_LETTER_HEADERS.srcOffset]: sent!.baseOffset,
      });
      expect(corrupt.headers[DEAD_LETTER_HEADERS.error]).toMatch(/not JSON/);
      const refused = letters.find((l) => l.headers[DEAD_LETTER_HEADERS.errorType] === 'rejected')!;
      expect(refused.key).toBe('uid-1/app');
      expect(refused.headers[DEAD_LETTER_HEADERS.error]).toMatch(/exceeds the limit/);
      expect(await counter(p.indexerRegistry, 'vigil_indexer_messages_dead_lettered_total')).toBe(1);
      expect(await counter(p.indexerRegistry, 'vigil_indexer_records_dead_lettered_total')).toBe(1);
    });

    it('commits what it indexed: a restarted indexer resumes after it instead of replaying', async () => {
      const p = (current = await openPipeline());
      const src = source(1);
      await p.sink.write(records(src, 20));
      expect(await p.readBack(20, 30_000)).toHaveLength(20);
      await p.stopIndexer();
      const { registry } = await p.startIndexer();
      await p.sink.write(records(src, 5, 20));
      expect(await p.readBack(25, 30_000)).toHaveLength(25);
      expect(await counter(registry, 'vigil_indexer_records_indexed_total')).toBe(5);
      expect(await counter(registry, 'vigil_indexer_records_duplicate_total')).toBe(0);
    });

    it('indexes topics per namespace, including ones created after it started', async () => {
      const p = (current = await openPipeline({ perNamespace: true }));
      const batch = [...records(source(1, 'team-a'), 10), ...records(source(2, 'team-b'), 10)];
      await p.sink.write(batch);
      const admin = p.kafka.admin();
      await admin.connect();
      const topics = await admin.listTopics().finally(() => admin.disconnect());
      expect(topics).toEqual(expect.arrayContaining([`${p.topic}.team-a`, `${p.topic}.team-b`]));
      const stored = await p.readBack(20, 60_000);
      expect(stored.map((r) => r.id).sort()).toEqual(batch.map((r) => r.id).sort());
    });
  });
});
