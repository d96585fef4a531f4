/**
 * The configuration file's schema. It is the single source of truth for validation, defaults and
 * the generated reference in docs/configuration.md (a test keeps that file in step).
 *
 * Keys are snake_case like Prometheus and Alertmanager configs. Unknown keys are rejected, so a
 * typo fails loudly instead of silently falling back to a default.
 */
import { Type, type Static, type TString } from 'typebox';

import { DURATION_PATTERN } from './duration-pattern.js';
import { BYTE_SIZE_PATTERN } from '../model/bytesize.js';
import { GlobalSchema, ScrapeConfigSchema } from './scrape.js';
import { RemoteWriteSchema } from './remote-write.js';
import { LogCollectionSchema } from './log-collection.js';

export { DURATION_PATTERN };

function Duration(description: string, defaultValue?: string): TString {
  return Type.String({
    pattern: DURATION_PATTERN,
    minLength: 1,
    description,
    'x-vigil-kind': 'duration',
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  });
}

function ByteSize(description: string, defaultValue: string): TString {
  return Type.String({ pattern: BYTE_SIZE_PATTERN, description, default: defaultValue, 'x-vigil-kind': 'size' });
}

type Properties = Parameters<typeof Type.Object>[0];

/** A closed object: unknown keys are errors. */
function Strict<T extends Properties>(properties: T, description: string) {
  return Type.Object(properties, { additionalProperties: false, description });
}

/** A closed section that may be left out: it is then created empty so its own defaults apply. */
function Section<T extends Properties>(properties: T, description: string) {
  return Type.Object(properties, { additionalProperties: false, description, default: {} });
}

export const ServerSchema = Section(
  {
    listen: Type.String({
      default: '127.0.0.1:9580',
      description: 'Address the one HTTP port listens on (`host:port`). Env: `VIGIL_LISTEN`; flag: `--listen`.',
    }),
    data_dir: Type.String({
      default: './data',
      minLength: 1,
      description: 'Directory for embedded state (SQLite files, TSDB, log store, checkpoints). Env: `VIGIL_DATA_DIR`.',
    }),
    shutdown_timeout: Duration(
      'How long SIGTERM may take to drain and flush before the process exits anyway.',
      '8s',
    ),
    max_request_body_bytes: Type.Integer({
      default: 16 * 1024 * 1024,
      minimum: 1024,
      description: 'Largest accepted HTTP request body; larger bodies get 413.',
    }),
  },
  'The HTTP server and process settings.',
);

export const LoggingSchema = Section(
  {
    level: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], {
      default: 'info',
      description: 'Minimum level of Vigil’s own structured (JSON) log lines on stderr.',
    }),
  },
  'Vigil’s own logs.',
);

export const SqlSchema = Section(
  {
    url: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Where rules, silences, alert state and history live: `sqlite:PATH`, `sqlite::memory:` or `mysql://user:pass@host:3306/db`. ' +
          'Defaults to `sqlite:<data_dir>/vigil.db`. Env: `VIGIL_SQL_URL`.',
      }),
    ),
    password_file: Type.Optional(
      Type.String({ minLength: 1, description: 'File whose content (trimmed) replaces the password in `url`.' }),
    ),
    max_connections: Type.Integer({ default: 10, minimum: 1, description: 'MySQL connection pool size.' }),
    maintenance_schedule: Type.String({
      default: '17 * * * *',
      minLength: 1,
      description:
        'Cron schedule of SQLite upkeep (`PRAGMA optimize`, WAL checkpoint); five fields, or six with seconds first. Unused on MySQL.',
    }),
  },
  'The SQL database.',
);

export const ElasticsearchSchema = Section(
  {
    url: Type.Optional(
      Type.String({ minLength: 1, description: 'Elasticsearch base URL. Env: `VIGIL_ELASTICSEARCH_URL`.' }),
    ),
    username: Type.Optional(Type.String({ description: 'Basic-auth user.' })),
    password: Type.Optional(Type.String({ description: 'Basic-auth password.' })),
    password_file: Type.Optional(Type.String({ minLength: 1, description: 'File holding the basic-auth password.' })),
    api_key: Type.Optional(Type.String({ description: 'API key (the base64 `id:key` form).' })),
    api_key_file: Type.Optional(Type.String({ minLength: 1, description: 'File holding the API key.' })),
    index_prefix: Type.String({ default: 'vigil-logs', minLength: 1, description: 'Prefix of log indices.' }),
  },
  'Elasticsearch connection, used when `storage.logs.store` is `elasticsearch`.',
);

export const LogStorageSchema = Section(
  {
    store: Type.Union([Type.Literal('embedded'), Type.Literal('elasticsearch')], {
      default: 'embedded',
      description:
        'Log store: `embedded` (SQLite FTS5, one file per day under data_dir) or `elasticsearch`. ' +
        'Setting `VIGIL_ELASTICSEARCH_URL` selects `elasticsearch`.',
    }),
    retention: Duration('How long log lines are kept.', '7d'),
    elasticsearch: ElasticsearchSchema,
  },
  'Log storage.',
);

export const MetricStorageSchema = Section(
  {
    retention: Duration('How long the embedded TSDB keeps samples.', '24h'),
    retention_size: ByteSize(
      'Upper bound on the memory of the TSDB\'s sample chunks (`vigil_tsdb_head_chunk_bytes`); beyond it the oldest ' +
        'chunks are dropped first, as Prometheus drops its oldest block. Units as Prometheus\'s ' +
        '`--storage.tsdb.retention.size`, powers of two: `512MB`, `2GB`. `0` means no size limit.',
      '0',
    ),
  },
  'Metric storage.',
);

export const StorageSchema = Section(
  {
    sql: SqlSchema,
    metrics: MetricStorageSchema,
    logs: LogStorageSchema,
  },
  'Where Vigil keeps its state.',
);

export const KafkaSaslSchema = Strict(
  {
    mechanism: Type.Union([Type.Literal('plain'), Type.Literal('scram-sha-256'), Type.Literal('scram-sha-512')], {
      description: 'SASL mechanism.',
    }),
    username: Type.String({ description: 'SASL user.' }),
    password: Type.Optional(Type.String({ description: 'SASL password.' })),
    password_file: Type.Optional(Type.String({ minLength: 1, description: 'File holding the SASL password.' })),
  },
  'SASL authentication.',
);

export const KafkaSchema = Section(
  {
    brokers: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Bootstrap brokers (`host:port`). Empty means logs travel in-process. Env: `VIGIL_KAFKA_BROKERS` (comma-separated).',
    }),
    client_id: Type.String({ default: 'vigil', description: 'Kafka client id.' }),
    topic: Type.String({ default: 'vigil-logs', minLength: 1, description: 'Topic that carries log records.' }),
    tls: Type.Boolean({ default: false, description: 'Connect with TLS.' }),
    sasl: Type.Optional(KafkaSaslSchema),
  },
  'Kafka, the log transport between collectors and indexers at scale.',
);

/**
 * Alertmanager-style routing tree. Child routes inherit unset options from their parent, so the
 * schema gives no defaults below the root; `config/load.ts` fills the root's.
 */
export const RouteSchema = Type.Cyclic(
  {
    Route: Type.Object(
      {
        receiver: Type.Optional(Type.String({ minLength: 1, description: 'Receiver name; required on the root.' })),
        group_by: Type.Optional(Type.Array(Type.String(), { description: 'Labels to group by; `...` groups by all.' })),
        matchers: Type.Optional(
          Type.Array(Type.String(), { description: 'Matchers an alert must satisfy, e.g. `severity="critical"`.' }),
        ),
        continue: Type.Optional(Type.Boolean({ description: 'Keep matching sibling routes after this one matched.' })),
        group_wait: Type.Optional(Duration('Wait before the first notification of a new group (root default 30s).')),
        group_interval: Type.Optional(Duration('Wait before notifying about new alerts in a group (root default 5m).')),
        repeat_interval: Type.Optional(Duration('Wait before re-sending an unchanged notification (root default 4h).')),
        routes: Type.Optional(Type.Array(Type.Ref('Route'), { description: 'Child routes.' })),
      },
      { additionalProperties: false, description: 'A node of the routing tree; children inherit unset options from their parent.' },
    ),
  },
  'Route',
);

export const ReceiverSchema = Strict(
  {
    name: Type.String({ minLength: 1, description: 'Unique receiver name referenced by routes.' }),
  },
  'A notification receiver.',
);

export const AlertingSchema = Section(
  {
    route: Type.Optional(RouteSchema),
    receivers: Type.Array(ReceiverSchema, { default: [], description: 'Notification receivers.' }),
  },
  'Alert routing, as in Alertmanager.',
);

export const QuerySchema = Section(
  {
    timeout: Duration('Longest a query may run before it is aborted (Prometheus: --query.timeout).', '2m'),
    max_samples: Type.Integer({
      default: 50_000_000,
      minimum: 1,
      description: 'Most samples a query may load into memory (Prometheus: --query.max-samples).',
    }),
    max_concurrency: Type.Integer({
      default: 20,
      minimum: 1,
      description: 'Queries evaluated at once; others wait (Prometheus: --query.max-concurrency).',
    }),
    lookback_delta: Duration('How far back an instant selector looks for the latest sample.', '5m'),
    remote_url: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics) that whole expressions are delegated to, ' +
          'e.g. `http://thanos-query:9090`; the query source at scale. Absent: the embedded TSDB.',
      }),
    ),
    remote_headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'HTTP headers for `remote_url` (e.g. a tenant header).' })),
  },
  'The PromQL engine.',
);

export const ConfigSchema = Section(
  {
    global: GlobalSchema,
    server: ServerSchema,
    query: QuerySchema,
    logging: LoggingSchema,
    storage: StorageSchema,
    kafka: KafkaSchema,
    log_collection: LogCollectionSchema,
    alerting: AlertingSchema,
    scrape_configs: Type.Array(ScrapeConfigSchema, { default: [], description: 'Scrape jobs, as in Prometheus.' }),
    remote_write: Type.Array(RemoteWriteSchema, { default: [], description: 'Where metrics are sent for long-term storage, as in Prometheus.' }),
  },
  'Vigil configuration file.',
);

export type Config = Static<typeof ConfigSchema>;
export type RouteConfig = Static<typeof RouteSchema>;

/** Environment variables that override deployment settings, and the key each one sets. */
export const ENV_OVERRIDES = {
  VIGIL_LISTEN: 'server.listen',
  VIGIL_DATA_DIR: 'server.data_dir',
  VIGIL_SQL_URL: 'storage.sql.url',
  VIGIL_KAFKA_BROKERS: 'kafka.brokers',
  VIGIL_ELASTICSEARCH_URL: 'storage.logs.elasticsearch.url',
  VIGIL_PODS_LOG_ROOT: 'log_collection.pods_root',
  VIGIL_NODE_NAME: 'log_collection.node_name',
} as const;

export type EnvOverride = keyof typeof ENV_OVERRIDES;
