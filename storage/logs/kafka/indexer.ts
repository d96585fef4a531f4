/**
 * The `indexer` role: a Kafka consumer group that moves log records from the log topic(s) into
 * the log store, at least once, never skipping a message.
 *
 * - Offsets are resolved and committed by hand (`eachBatchAutoResolve: false`, `autoCommit:
 *   false`), after the records are stored and the failures dead-lettered (`indexMessages`).
 * - A store that is unavailable (Elasticsearch 429, a locked SQLite file) pauses the partition
 *   with exponential backoff. kafkajs fetches a partition from its last resolved offset, so the
 *   unresolved messages come again after the pause: not resolving them is the seek back.
 * - Shutdown: `stop()` disconnects the consumer, which waits for the batch in hand; the batch
 *   checks `isRunning()`/`isStale()` between chunks and ends at a chunk boundary.
 * - With a topic per namespace, topics appear as namespaces start logging; kafkajs resolves its
 *   subscription once, so the indexer lists topics periodically and re-subscribes on a change.
 */
import { CompressionTypes, Partitioners, type Consumer, type EachBatchPayload, type Kafka, type Producer } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Service, ServiceContext } from '../../../util/lifecycle.js';
import type { Logger } from '../../../util/logging.js';
import { LogUnavailableError, type LogStore } from '../interface.js';
import { createKafka, type KafkaClientOptions } from './client.js';
import { indexMessages, type DeadLetterWriter } from './index-batch.js';
import { deadLetterTopic, isLogTopic, validateTopic, type TopicOptions } from './topics.js';

export const DEFAULT_GROUP_ID = 'vigil-indexer';

export interface IndexerOptions {
  readonly client: KafkaClientOptions;
  /** `kafka.topic`. */
  readonly topic: string;
  /** Consume `<topic>.<namespace>` topics as well (`log_collection.topic_per_namespace`). */
  readonly topicPerNamespace?: boolean;
  /** Consumer group; default `vigil-indexer`. */
  readonly groupId?: string;
  /** The store, or a function giving it at start (when another service opens it). */
  readonly store: LogStore | (() => LogStore);
  readonly registry: Registry;
  readonly logger: Logger;
  /** Partitions processed at once by this process; default 1. Order holds within a partition. */
  readonly partitionsConsumedConcurrently?: number;
  /** Records per store append (a bulk request); default 2000. */
  readonly maxRecordsPerAppend?: number;
  /**
   * Bytes fetched per partition; default 2 MiB. It must exceed the largest message, or kafkajs
   * may stall on it; the sink keeps messages under 1 MB.
   */
  readonly maxBytesPerPartition?: number;
  /** Default 30 s, as kafkajs. */
  readonly sessionTimeoutMs?: number;
  /**
   * Where a new group starts: true (default) reads the topics from their beginning, so records
   * shipped before the first indexer ran are not lost.
   */
  readonly fromBeginning?: boolean;
  /** Pause after the store refused, doubling per failure; defaults 500 ms and 30 s. */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** How often per-namespace topics are listed; default 60 s. */
  readonly topicRefreshIntervalMs?: number;
  /** Replaces the client built from `client`. */
  readonly kafka?: Kafka;
}

interface IndexerMetrics {
  readonly indexed: Counter;
  readonly duplicates: Counter;
  readonly rejected: Counter;
  readonly corrupt: Counter;
  readonly unavailable: Counter;
  readonly batchSeconds: Histogram;
  readonly lag: Gauge<'topic' | 'partition'>;
}

function createIndexerMetrics(registry: Registry): IndexerMetrics {
  return {
    indexed: new Counter({ name: 'vigil_indexer_records_indexed_total', help: 'Log records newly stored.', registers: [registry] }),
    duplicates: new Counter({
      name: 'vigil_indexer_records_duplicate_total',
      help: 'Log records the store already had (replays after a retry or a rebalance).',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'vigil_indexer_records_dead_lettered_total',
      help: 'Log records the store refused permanently, sent to the dead-letter topic.',
      registers: [registry],
    }),
    corrupt: new Counter({
      name: 'vigil_indexer_messages_dead_lettered_total',
      help: 'Kafka messages that could not be decoded, sent to the dead-letter topic as they were.',
      registers: [registry],
    }),
    unavailable: new Counter({
      name: 'vigil_indexer_store_unavailable_total',
      help: 'Batches paused because the log store or the dead-letter topic was unavailable.',
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'vigil_indexer_batch_duration_seconds',
      help: 'Time to index one fetched batch of one partition.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'vigil_indexer_partition_lag_messages',
      help: 'Messages between the last one indexed and the partition high watermark, as of the last batch.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
  };
}

export class Indexer implements Service {
  readonly name = 'indexer';
  readonly #opts: IndexerOptions;
  readonly #topics: TopicOptions;
  readonly #log: Logger;
  readonly #metrics: IndexerMetrics;
  readonly #failures = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #store: LogStore | undefined;
  #kafka: Kafka | undefined;
  #consumer: Consumer | undefined;
  #producer: Producer | undefined;
  #deadLetters: DeadLetterWriter | undefined;
  #subscribed = new Set<string>();
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #stopping = false;

  constructor(opts: IndexerOptions) {
    validateTopic(opts.topic);
    this.#opts = opts;
    this.#topics = { topic: opts.topic, perNamespace: opts.topicPerNamespace ?? false };
    this.#log = opts.logger.child({ component: 'indexer' });
    this.#metrics = createIndexerMetrics(opts.registry);
  }

  async start(ctx: ServiceContext): Promise<void> {
    const opts = this.#opts;
    this.#store = typeof opts.store === 'function' ? opts.store() : opts.store;
    const kafka = (this.#kafka = opts.kafka ?? createKafka(opts.client, opts.logger));
    this.#producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.#deadLetters = kafkaDeadLetterWriter(this.#producer, deadLetterTopic(opts.topic));
    const consumer = (this.#consumer = kafka.consumer({
      groupId: opts.groupId ?? DEFAULT_GROUP_ID,
      maxBytesPerPartition: opts.maxBytesPerPartition ?? 2 * 1024 * 1024,
      sessionTimeout: opts.sessionTimeoutMs ?? 30_000,
    }));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs restarts itself after retriable failures; anything else ends the role.
      if (!payload.restart && !this.#stopping) ctx.fatal(payload.error);
    });
    await this.#producer.connect();
    await consumer.connect();
    await this.#subscribeAndRun(await this.#currentTopics());
    if (this.#topics.perNamespace) this.#scheduleRefresh(ctx);
    this.#log.info({ topics: [...this.#subscribed], groupId: opts.groupId ?? DEFAULT_GROUP_ID }, 'indexer: consuming');
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#refreshTimer);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#refreshing?.catch(() => undefined);
    // Disconnecting waits for the batch in hand, which ends at its next chunk boundary.
    await this.#consumer?.disconnect();
    await this.#producer?.disconnect();
  }

  /** The log topics that exist now; just the base topic unless there is one per namespace. */
  async #currentTopics(): Promise<string[]> {
    if (!this.#topics.perNamespace) return [this.#topics.topic];
    const admin = this.#kafka!.admin();
    await admin.connect();
    try {
      const names = await admin.listTopics();
      return [this.#topics.topic, ...names.filter((n) => n !== this.#topics.topic && isLogTopic(n, this.#topics))].sort();
    } finally {
      await admin.disconnect();
    }
  }

  async #subscribeAndRun(topics: readonly string[]): Promise<void> {
    const consumer = this.#consumer!;
    await consumer.subscribe({ topics: [...topics], fromBeginning: this.#opts.fromBeginning ?? true });
    this.#subscribed = new Set(topics);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.#opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
  }

  #scheduleRefresh(ctx: ServiceContext): void {
    this.#refreshTimer = setTimeout(() => {
      this.#refreshing = this.#refreshTopics()
        .catch((err: unknown) => this.#log.warn({ err }, 'indexer: listing topics failed; trying again later'))
        .finally(() => {
          this.#refreshing = undefined;
          if (!this.#stopping) this.#scheduleRefresh(ctx);
        });
    }, this.#opts.topicRefreshIntervalMs ?? 60_000);
    this.#refreshTimer.unref();
  }

  async #refreshTopics(): Promise<void> {
    const topics = await this.#currentTopics();
    if (this.#stopping || topics.every((t) => this.#subscribed.has(t))) return;
    this.#log.info({ added: topics.filter((t) => !this.#subscribed.has(t)) }, 'indexer: new log topics; re-subscribing');
    // kafkajs subscribes only while stopped; the stop waits for batches in hand, and the group
    // rebalances once with the new topics.
    await this.#consumer!.stop();
    if (this.#stopping) return;
    await this.#subscribeAndRun(topics);
  }

  async #eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const started = performance.now();
    const result = await indexMessages(batch.messages, {
      topic: batch.topic,
      partition: batch.partition,
      store: this.#store!,
      deadLetters: this.#deadLetters!,
      maxRecordsPerAppend: this.#opts.maxRecordsPerAppend,
      heartbeat: p.heartbeat,
      shouldContinue: () => p.isRunning() && !p.isStale(),
      resolve: async (offset) => {
        p.resolveOffset(offset);
        // With autoCommit off, kafkajs commits only the offsets it is given.
        await p.commitOffsetsIfNecessary(p.uncommittedOffsets());
      },
    });
    this.#metrics.batchSeconds.observe((performance.now() - started) / 1000);
    this.#metrics.indexed.inc(result.stored);
    this.#metrics.duplicates.inc(result.duplicates);
    this.#metrics.rejected.inc(result.rejected);
    this.#metrics.corrupt.inc(result.corrupt);
    const next = result.lastHandledOffset !== undefined ? BigInt(result.lastHandledOffset) + 1n : BigInt(batch.firstOffset() ?? batch.highWatermark);
    this.#metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - next)));
    if (result.corrupt > 0 || result.rejected > 0) {
      this.#log.warn({ topic: batch.topic, partition: batch.partition, corrupt: result.corrupt, rejected: result.rejected }, 'indexer: dead-lettered');
    }

    const key = `${batch.topic}/${batch.partition}`;
    if (result.unavailable) {
      this.#metrics.unavailable.inc();
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delay = backoffMs(failures, this.#opts.backoff);
      this.#log.warn(
        { topic: batch.topic, partition: batch.partition, err: result.unavailable, retryInMs: delay, resumeAt: result.lastHandledOffset },
        'indexer: store unavailable; pausing the partition',
      );
      const resume = p.pause();
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resume();
      }, delay);
      this.#timers.add(timer);
    } else if (!result.stopped) {
      this.#failures.delete(key);
    }
  }
}

/** Exponential with jitter (50–100 % of the step), so paused partitions do not return in step. */
export function backoffMs(failures: number, opts: IndexerOptions['backoff'] = {}): number {
  const initial = opts.initialMs ?? 500;
  const max = opts.maxMs ?? 30_000;
  const step = Math.min(max, initial * 2 ** Math.min(failures - 1, 30));
  return Math.round(step * (0.5 + Math.random() * 0.5));
}

/** Dead letters onto `<topic>.dlq`, with the same durability as the log topic. */
export function kafkaDeadLetterWriter(producer: Producer, topic: string): DeadLetterWriter {
  return {
    async write(letters) {
      try {
        await producer.send({
          topic,
          messages: letters.map((l) => ({ key: l.key, value: l.value, headers: { ...l.headers } })),
          acks: -1,
          compression: CompressionTypes.GZIP,
        });
      } catch (err) {
        throw new LogUnavailableError(`kafka: dead-letter write to ${topic} failed: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
