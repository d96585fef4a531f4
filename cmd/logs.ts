/**
 * The log pipeline's parts per role, built from the configuration:
 *
 * - the log store (roles `all`, `indexer`, `api`): SQLite FTS5 day files under `<data_dir>/logs`,
 *   or Elasticsearch when `storage.logs.store` is `elasticsearch`; retention by node-cron;
 * - the collector (roles `all`, `collector`): tails container logs into a sink — Kafka when brokers
 *   are configured, otherwise straight into the store in-process — and counts acknowledged lines
 *   into the TSDB (`vigil_log_lines_total`);
 * - the indexer (role `indexer`, and `all` with Kafka): consumes Kafka into the store.
 */
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { parseDuration } from '../model/duration.js';
import type { Logger } from '../util/logging.js';
import type { Service } from '../util/lifecycle.js';
import type { HousekeepingJob } from '../util/housekeeping.js';
import type { LogSink, LogStore } from '../storage/logs/interface.js';
import { SqliteLogStore } from '../storage/logs/sqlite/index.js';
import { StoreLogSink } from '../storage/logs/store-sink.js';
import { logRetentionJob } from '../storage/logs/retention.js';
import type { KafkaLogSink, KafkaLogSinkOptions } from '../storage/logs/kafka/sink.js';
import type { Indexer, IndexerOptions } from '../storage/logs/kafka/indexer.js';
import type { KafkaClientOptions } from '../storage/logs/kafka/client.js';
import { validateTopic } from '../storage/logs/kafka/topics.js';
import type { Appendable } from '../storage/metrics/interface.js';
import { LogCollector, type LogCollectorOptions } from '../collector/logs/collector.js';
import { createKubeletPodMetadata, podMetadataOptionsFromConfig } from '../collector/logs/pod-metadata.js';
import { LogLineMetrics } from '../collector/logs/line-metrics.js';
import type { AssemblerOptions } from '../collector/logs/record-assembler.js';
import type { Role } from './args.js';

const HAS_STORE: ReadonlySet<Role> = new Set(['all', 'indexer', 'api']);
const COLLECTS: ReadonlySet<Role> = new Set(['all', 'collector']);

/** Opens the store at start and closes it at stop; `store()` is valid in between. */
export interface LogStoreService extends Service {
  /** `sqlite` or `elasticsearch`: known before the store opens. */
  readonly storeName: string;
  store(): LogStore;
}

export interface LogServices {
  readonly services: Service[];
  readonly jobs: HousekeepingJob[];
  readonly store?: LogStoreService;
  readonly collector?: LogCollector;
}

function kafkaClient(config: Config): KafkaClientOptions {
  const k = config.kafka;
  return {
    brokers: k.brokers,
    clientId: k.client_id,
    tls: k.tls,
    ...(k.sasl && { sasl: { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password ?? '' } }),
  };
}

function logStoreService(config: Config, registry: Registry): LogStoreService {
  let store: LogStore | undefined;
  const es = config.storage.logs.elasticsearch;
  return {
    name: 'log-store',
    storeName: config.storage.logs.store === 'elasticsearch' ? 'elasticsearch' : 'sqlite',
    start: async () => {
      if (config.storage.logs.store === 'elasticsearch') {
        if (es.url === undefined) throw new Error('storage.logs.store is elasticsearch but storage.logs.elasticsearch.url is not set');
        const auth =
          es.api_key !== undefined
            ? { apiKey: es.api_key }
            : es.username !== undefined
              ? { username: es.username, password: es.password ?? '' }
              : undefined;
        // Loaded only when configured: the Elasticsearch client alone is ~8 MiB of heap.
        const { ElasticsearchLogStore } = await import('../storage/logs/elasticsearch/index.js');
        store = await ElasticsearchLogStore.open({ node: es.url, indexPrefix: es.index_prefix, registry, ...(auth && { auth }) });
      } else {
        store = new SqliteLogStore({ dir: path.join(config.server.data_dir, 'logs') });
      }
    },
    stop: async () => {
      await store?.close();
      store = undefined;
    },
    store: () => {
      if (store === undefined) throw new Error('log store is not open');
      return store;
    },
  };
}

/** Maps the `log_collection` section to the record assembler's options. */
export function assemblerOptions(lc: Config['log_collection']): AssemblerOptions {
  const multiline: AssemblerOptions['multiline'] =
    lc.multiline === 'auto' ? 'auto' : lc.multiline === 'off' ? false : { firstLine: lc.multiline.first_line };
  return { multiline, multilineFlushMs: parseDuration(lc.multiline_flush), maxRecordBytes: lc.max_record_bytes };
}

export function buildLogServices(
  role: Role,
  config: Config,
  logger: Logger,
  registry: Registry,
  tsdb: (() => Appendable) | undefined,
): LogServices {
  const services: Service[] = [];
  const jobs: HousekeepingJob[] = [];
  const viaKafka = config.kafka.brokers.length > 0;
  if (role === 'indexer' && !viaKafka) throw new Error('the indexer role consumes Kafka: set kafka.brokers (VIGIL_KAFKA_BROKERS)');

  let store: LogStoreService | undefined;
  if (HAS_STORE.has(role)) {
    store = logStoreService(config, registry);
    services.push(store);
    jobs.push(
      logRetentionJob({
        store: lazyStore(store),
        retentionMs: parseDuration(config.storage.logs.retention),
        logger: logger.child({ component: 'log-retention' }),
      }),
    );
  }

  if ((role === 'indexer' || role === 'all') && viaKafka && store) {
    const s = store;
    services.push(
      lazyIndexer({
        client: kafkaClient(config),
        topic: config.kafka.topic,
        topicPerNamespace: config.log_collection.topic_per_namespace,
        store: () => s.store(),
        registry,
        logger: logger.child({ component: 'indexer' }),
      }),
    );
  }

  let collector: LogCollector | undefined;
  const lc = config.log_collection;
  if (COLLECTS.has(role) && lc.enabled) {
    let sink: LogSink;
    if (viaKafka) {
      const kafkaSink = lazyKafkaSink({
        client: kafkaClient(config),
        topic: config.kafka.topic,
        topicPerNamespace: lc.topic_per_namespace,
        registry,
        logger: logger.child({ component: 'kafka-sink' }),
      });
      // Before the collector, which writes to the sink once started.
      services.push(kafkaSink.service);
      sink = kafkaSink.sink;
    } else {
      if (!store) {
        // A lone collector without Kafka keeps its logs in its own embedded store.
        store = logStoreService(config, registry);
        services.push(store);
      }
      sink = new StoreLogSink({ store: lazyStore(store), registry, logger: logger.child({ component: 'log-sink' }) });
    }
    let lineMetrics: LogLineMetrics | undefined;
    const podMetadata = podMetadataOptionsFromConfig(lc.pod_metadata);
    const options: LogCollectorOptions = {
      sink,
      dataDir: config.server.data_dir,
      podsRoot: lc.pods_root,
      extraGlobs: lc.extra_globs,
      ...(lc.node_name !== undefined && { nodeName: lc.node_name }),
      assembler: assemblerOptions(lc),
      maxQueueBytes: lc.max_queue_bytes,
      ...(lc.rate_limit && { rateLimit: { linesPerSecond: lc.rate_limit.lines_per_second, burst: lc.rate_limit.burst } }),
      ...(podMetadata && {
        podMetadata: createKubeletPodMetadata({
          ...podMetadata,
          registry,
          onError: (err) => logger.debug({ err: err.message }, 'pod metadata lookup failed'),
        }),
      }),
      onAcknowledged: (batch) => lineMetrics?.observe(batch),
      registry,
      logger: logger.child({ component: 'log-collector' }),
    };
    const c = new LogCollector(options);
    collector = c;
    services.push(c);
    if (tsdb) {
      const appendable = tsdb;
      services.push({
        name: 'log-line-metrics',
        start: async () => {
          lineMetrics = new LogLineMetrics({
            appendable: { appender: () => appendable().appender() },
            node: c.node,
            lastReadMs: () => c.lastReadMs,
            onError: (err) => logger.warn({ err: (err as Error)?.message ?? String(err) }, 'writing log line metrics failed'),
          });
          lineMetrics.start();
        },
        stop: async () => {
          await lineMetrics?.stop();
        },
      });
    }
  }
  return { services, jobs, ...(store && { store }), ...(collector && { collector }) };
}

/**
 * A `LogStore` that forwards to the service's store once it is open: sinks and jobs are built
 * before services start.
 */
function lazyStore(s: LogStoreService): LogStore {
  return {
    name: s.storeName,
    append: (batch, signal) => s.store().append(batch, signal),
    search: (req, signal) => s.store().search(req, signal),
    context: (req, signal) => s.store().context(req, signal),
    volume: (sel, step, signal) => s.store().volume(sel, step, signal),
    streams: (sel, signal) => s.store().streams(sel, signal),
    applyRetention: (cutoff) => s.store().applyRetention(cutoff),
    close: async () => undefined,
  };
}

/*
 * kafkajs (~2 MiB of heap once loaded) is only needed when Kafka is configured: the sink and the
 * indexer are loaded by the services that start them instead of at start-up.
 */

/** The indexer, loaded and started by one service. */
function lazyIndexer(opts: IndexerOptions): Service {
  // Checked now, as the indexer's constructor would, so a bad topic still fails the build.
  validateTopic(opts.topic);
  let indexer: Indexer | undefined;
  return {
    name: 'indexer',
    start: async (ctx) => {
      const { Indexer } = await import('../storage/logs/kafka/indexer.js');
      indexer = new Indexer(opts);
      await indexer.start(ctx);
    },
    stop: async () => {
      await indexer?.stop();
    },
  };
}

/**
 * The Kafka sink, loaded by a service that starts before its writers; until then the forwarding
 * sink refuses writes, as the log store does before it opens.
 */
function lazyKafkaSink(opts: KafkaLogSinkOptions): { service: Service; sink: LogSink } {
  validateTopic(opts.topic);
  let sink: KafkaLogSink | undefined;
  const open = (): KafkaLogSink => {
    if (sink === undefined) throw new Error('kafka sink is not loaded');
    return sink;
  };
  return {
    service: {
      name: 'kafka-sink',
      start: async () => {
        const { KafkaLogSink } = await import('../storage/logs/kafka/sink.js');
        sink ??= new KafkaLogSink(opts);
      },
      // Stopped after the collector (services stop in reverse order), so nothing writes any more.
      stop: async () => {
        await sink?.close();
      },
    },
    sink: {
      name: 'kafka',
      write: (batch, signal) => open().write(batch, signal),
      flush: () => sink?.flush() ?? Promise.resolve(),
      close: () => sink?.close() ?? Promise.resolve(),
    },
  };
}
