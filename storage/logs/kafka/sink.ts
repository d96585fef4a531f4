/**
 * `KafkaLogSink`: the collector's way onto the log topic. A `write` resolves once Kafka
 * acknowledged every message of the batch with `acks: -1` (all in-sync replicas), so the tailer
 * may advance its checkpoints then and not before.
 *
 * The producer is idempotent with one request in flight: retries inside kafkajs neither duplicate
 * nor reorder messages of a partition. Retries are bounded, though: a broker down for longer fails
 * the write with `LogUnavailableError`, the tailer backs off and writes the same batch again, and
 * whatever reached Kafka twice gets the same record ids and is dropped by the store.
 */
import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer, type RetryOptions } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { LogRecord } from '../../../model/logs.js';
import type { Logger } from '../../../util/logging.js';
import { LogUnavailableError, type LogSink } from '../interface.js';
import { LogSinkClosedError } from '../store-sink.js';
import { createKafka, isKafkaError, kafkaRefusal, type KafkaClientOptions } from './client.js';
import { encodeLogMessages, MAX_MESSAGE_BYTES } from './codec.js';
import { messageKey, topicFor, validateTopic } from './topics.js';

export interface KafkaLogSinkOptions {
  readonly client: KafkaClientOptions;
  /** `kafka.topic`. */
  readonly topic: string;
  /** One topic per namespace (`<topic>.<namespace>`); default one per cluster. */
  readonly topicPerNamespace?: boolean;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Largest message value; default 1 MB (see `MAX_MESSAGE_BYTES`). */
  readonly maxMessageBytes?: number;
  /** How long the broker may take to get the acknowledgements of all replicas; default 30 s. */
  readonly ackTimeoutMs?: number;
  /**
   * Producer retries before a write fails; default 5 (about 10 s of kafkajs backoff). kafkajs's
   * idempotent default is unbounded, which would hold a write for as long as Kafka is down,
   * without a word to the tailer.
   */
  readonly retry?: RetryOptions;
  /** Replaces the client built from `client`, e.g. to share one between producer and admin. */
  readonly kafka?: Kafka;
}

interface SinkMetrics {
  readonly records: Counter;
  readonly messages: Counter<'topic'>;
  readonly bytes: Counter<'topic'>;
  readonly oversized: Counter;
  readonly errors: Counter<'kind'>;
}

function createSinkMetrics(registry: Registry): SinkMetrics {
  return {
    records: new Counter({ name: 'vigil_kafka_sink_records_sent_total', help: 'Log records acknowledged by Kafka.', registers: [registry] }),
    messages: new Counter({ name: 'vigil_kafka_sink_messages_sent_total', help: 'Kafka messages acknowledged, by topic.', labelNames: ['topic'], registers: [registry] }),
    bytes: new Counter({
      name: 'vigil_kafka_sink_bytes_sent_total',
      help: 'Uncompressed bytes of the message values acknowledged by Kafka, by topic.',
      labelNames: ['topic'],
      registers: [registry],
    }),
    oversized: new Counter({
      name: 'vigil_kafka_sink_oversized_messages_total',
      help: 'Messages holding one record larger than the message size limit, sent anyway.',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'vigil_kafka_sink_errors_total',
      help: 'Failed writes: `unavailable` (retried by the tailer) or `refused` (the broker rejects the batch itself).',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

export class KafkaLogSink implements LogSink {
  readonly name = 'kafka';
  readonly #opts: KafkaLogSinkOptions;
  readonly #producer: Producer;
  readonly #metrics: SinkMetrics;
  readonly #log: Logger;
  readonly #pending = new Set<Promise<unknown>>();
  #connecting: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(opts: KafkaLogSinkOptions) {
    validateTopic(opts.topic);
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'kafka_sink' });
    const kafka = opts.kafka ?? createKafka(opts.client, opts.logger);
    this.#producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: opts.retry ?? { retries: 5 },
      // Explicit, which also silences kafkajs's warning about the v2 partitioner change.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#metrics = createSinkMetrics(opts.registry);
  }

  /** Connects now instead of on the first write; rejects with `LogUnavailableError`. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new LogSinkClosedError(this.name));
    return this.#connect();
  }

  #connect(): Promise<void> {
    this.#connecting ??= this.#producer.connect().catch((err: unknown) => {
      // The next write tries again.
      this.#connecting = undefined;
      throw new LogUnavailableError(`kafka: cannot connect to ${this.#opts.client.brokers.join(',')}: ${(err as Error).message}`, { cause: err });
    });
    return this.#connecting;
  }

  write(batch: readonly LogRecord[], signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(new LogSinkClosedError(this.name));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const sending = this.#send(batch);
    this.#pending.add(sending);
    const done = () => this.#pending.delete(sending);
    sending.then(done, done);
    if (signal === undefined) return sending;
    // Kafka cannot take a request back: an aborted write stops waiting, the send goes on, and
    // `flush`/`close` still wait for it.
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      sending.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      );
    });
  }

  async #send(batch: readonly LogRecord[]): Promise<void> {
    if (batch.length === 0) return;
    const encoded = encodeLogMessages(batch, this.#opts.maxMessageBytes ?? MAX_MESSAGE_BYTES);
    const byTopic = new Map<string, { messages: Message[]; bytes: number }>();
    let oversized = 0;
    for (const m of encoded) {
      const topic = topicFor(m.source, { topic: this.#opts.topic, perNamespace: this.#opts.topicPerNamespace ?? false });
      let t = byTopic.get(topic);
      if (t === undefined) {
        t = { messages: [], bytes: 0 };
        byTopic.set(topic, t);
      }
      t.messages.push({ key: messageKey(m.source), value: m.value });
      t.bytes += m.value.length;
      if (m.oversized) oversized++;
    }
    try {
      await this.#connect();
      await this.#producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, { messages }]) => ({ topic, messages })),
        acks: -1,
        timeout: this.#opts.ackTimeoutMs ?? 30_000,
        compression: CompressionTypes.GZIP,
      });
    } catch (err) {
      const refusal = kafkaRefusal(err);
      if (refusal !== undefined) {
        this.#metrics.errors.inc({ kind: 'refused' });
        throw new Error(`kafka refused ${encoded.length} message(s) of ${batch.length} record(s): ${refusal}`, { cause: err });
      }
      if (!(err instanceof LogUnavailableError) && !isKafkaError(err)) throw err;
      this.#metrics.errors.inc({ kind: 'unavailable' });
      this.#log.warn({ err }, 'kafka: write failed; the batch will be retried');
      throw err instanceof LogUnavailableError
        ? err
        : new LogUnavailableError(`kafka: write of ${batch.length} record(s) failed: ${(err as Error).message}`, { cause: err });
    }
    this.#metrics.records.inc(batch.length);
    this.#metrics.oversized.inc(oversized);
    for (const [topic, { messages, bytes }] of byTopic) {
      this.#metrics.messages.inc({ topic }, messages.length);
      this.#metrics.bytes.inc({ topic }, bytes);
    }
  }

  async flush(): Promise<void> {
    // Writes resolve on acknowledgement, so everything written is acknowledged once the writes
    // under way have settled; their failures belong to their own callers.
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.flush();
      await this.#producer.disconnect();
    })();
    return this.#closed;
  }
}
