import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadConfig, parseConfig } from './load.js';
import { ConfigError } from './errors.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/config');
const fixture = (name: string) => path.join(FIXTURES, name);

/** Expected message (file-relative) for every bad fixture; a new fixture must be listed here. */
const BAD: Record<string, string[]> = {
  'unknown-key.bad.yml': ['unknown-key.bad.yml:3:3: server.lisen: unknown key'],
  'unknown-receiver.bad.yml': ['unknown-receiver.bad.yml:8:9: alerting.route.routes[1].receiver: unknown receiver "pager"'],
  'bad-duration.bad.yml': ['bad-duration.bad.yml:3:5: storage.metrics.retention: not a valid duration "2 weeks" (use e.g. 30s, 5m, 1h30m, 7d)'],
  'bad-size.bad.yml': ['bad-size.bad.yml:4:5: storage.metrics.retention_size: not a valid size "1.5GB" (use e.g. 512MB, 2GB; 0 for no limit)'],
  'bad-level.bad.yml': ['bad-level.bad.yml:2:3: logging.level: must be one of "debug", "info", "warn", "error", got "verbose"'],
  'bad-yaml.bad.yml': ['bad-yaml.bad.yml:4:1: YAML: Missing closing "quote'],
  'duplicate-key.bad.yml': ['duplicate-key.bad.yml:3:3: YAML: Map keys must be unique'],
  'bad-sql-url.bad.yml': ['bad-sql-url.bad.yml:3:5: storage.sql.url: unsupported database "postgres" (use sqlite:PATH or mysql://user:pass@host:port/db)'],
  'es-without-url.bad.yml': ['es-without-url.bad.yml:2:3: storage.logs.elasticsearch.url: required when storage.logs.store is "elasticsearch"'],
  'duplicate-receiver.bad.yml': ['duplicate-receiver.bad.yml:4:7: alerting.receivers[1].name: duplicate receiver "team"'],
  'bad-matcher.bad.yml': ['bad-matcher.bad.yml:8:20: alerting.route.routes[0].matchers[0]: bad regex: Invalid regular expression: /(crit/: Unterminated group'],
  'wrong-type.bad.yml': ['wrong-type.bad.yml:2:3: kafka.brokers: must be array'],
  'secret-conflict.bad.yml': ['secret-conflict.bad.yml:6:7: storage.logs.elasticsearch.password_file: at most one of password and password_file may be set'],
  'not-a-mapping.bad.yml': ['not-a-mapping.bad.yml: the top level must be a mapping of sections'],
  'bad-cron.bad.yml': ['bad-cron.bad.yml:3:5: storage.sql.maintenance_schedule: invalid cron schedule: minute:'],
  'duplicate-job.bad.yml': ['duplicate-job.bad.yml:5:5: scrape_configs[1].job_name: found multiple scrape configs with job name "node"'],
  'scrape-timeout.bad.yml': ['scrape-timeout.bad.yml:4:5: scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name "slow"'],
  'bad-relabel.bad.yml': [
    'bad-relabel.bad.yml:8:9: scrape_configs[0].relabel_configs[1]: ',
    'scrape_configs[0].metric_relabel_configs[0]: relabel configuration for hashmod requires non-zero modulus',
  ],
  'missing-secret-file.bad.yml': ['missing-secret-file.bad.yml:6:5: kafka.sasl.password_file: cannot read secret: ENOENT'],
};

describe('config fixtures', () => {
  const files = readdirSync(FIXTURES);

  it('lists every bad fixture', () => {
    expect(files.filter((f) => f.endsWith('.bad.yml')).sort()).toEqual(Object.keys(BAD).sort());
  });

  it.each(files.filter((f) => f.endsWith('.good.yml')))('accepts %s', async (name) => {
    await expect(loadConfig({ file: fixture(name), env: {} })).resolves.toBeDefined();
  });

  it.each(Object.entries(BAD))('rejects %s naming file, line and key', async (name, messages) => {
    const err = await loadConfig({ file: fixture(name), env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).message.replaceAll(`${FIXTURES}/`, '');
    for (const m of messages) expect(text).toContain(m);
  });
});

describe('loadConfig', () => {
  it('fills every default for an empty config', async () => {
    const { config } = await loadConfig({ file: fixture('empty.good.yml'), env: {} });
    expect(config.server).toEqual({ listen: '127.0.0.1:9580', data_dir: './data', shutdown_timeout: '8s', max_request_body_bytes: 16 * 1024 * 1024 });
    expect(config.storage.sql.url).toBe('sqlite:data/vigil.db');
    expect(config.storage.logs.store).toBe('embedded');
    expect(config.storage.metrics.retention).toBe('24h');
    expect(config.storage.metrics.retention_size).toBe('0');
    expect(config.kafka.brokers).toEqual([]);
    expect(config.alerting.receivers).toEqual([]);
  });

  it('keeps the values of a full config', async () => {
    const { config } = await loadConfig({ file: fixture('full.good.yml'), env: {} });
    expect(config.kafka.brokers).toEqual(['kafka-0:9092', 'kafka-1:9092']);
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'vigil', password: 's3cret' });
    expect(config.alerting.route?.routes?.[1]?.group_wait).toBe('0s');
    expect(config.storage.logs.elasticsearch.index_prefix).toBe('logs');
    expect(config.storage.metrics).toEqual({ retention: '15d', retention_size: '2GB' });
  });

  it('lets environment variables override the file, and flags override both', async () => {
    const env = {
      VIGIL_LISTEN: '0.0.0.0:19580',
      VIGIL_DATA_DIR: '/srv/vigil',
      VIGIL_SQL_URL: 'mysql://u:p@db:3306/vigil',
      VIGIL_KAFKA_BROKERS: 'k1:9092, k2:9092',
      VIGIL_ELASTICSEARCH_URL: 'http://es:9200',
    };
    const { config } = await loadConfig({ file: fixture('empty.good.yml'), env });
    expect(config.server.listen).toBe('0.0.0.0:19580');
    expect(config.server.data_dir).toBe('/srv/vigil');
    expect(config.storage.sql.url).toBe('mysql://u:p@db:3306/vigil');
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.storage.logs).toMatchObject({ store: 'elasticsearch', elasticsearch: { url: 'http://es:9200' } });
    const flagged = await loadConfig({ env, flags: { listen: '127.0.0.1:1', dataDir: '/tmp/x' } });
    expect(flagged.config.server.listen).toBe('127.0.0.1:1');
    expect(flagged.config.storage.sql.url).toBe('mysql://u:p@db:3306/vigil');
  });

  it('derives the SQLite path from the data directory', async () => {
    const { config } = await loadConfig({ env: { VIGIL_DATA_DIR: '/var/lib/vigil' } });
    expect(config.storage.sql.url).toBe('sqlite:/var/lib/vigil/vigil.db');
  });

  it('names the environment variable when its value is invalid', async () => {
    const err = await loadConfig({ env: { VIGIL_LISTEN: 'nowhere' } }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('<defaults>: server.listen: "nowhere" is not host:port');
  });

  it('reads secrets from files relative to the config file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-cfg-'));
    writeFileSync(path.join(dir, 'es-password'), 'from-file\n');
    writeFileSync(path.join(dir, 'db-password'), 'p@ss/word\n');
    writeFileSync(
      path.join(dir, 'vigil.yml'),
      'storage:\n  sql:\n    url: mysql://vigil@db:3306/vigil\n    password_file: db-password\n  logs:\n    elasticsearch:\n      url: http://es:9200\n      password_file: es-password\n',
    );
    const { config } = await loadConfig({ file: path.join(dir, 'vigil.yml'), env: {} });
    expect(config.storage.logs.elasticsearch.password).toBe('from-file');
    expect(new URL(config.storage.sql.url!).password).toBe(encodeURIComponent('p@ss/word'));
  });

  it('reports every problem of a file at once', async () => {
    const text = 'server:\n  listen: x\nlogging:\n  level: loud\nkafka:\n  topic: ""\n';
    const err = (await parseConfig(text, { file: 'v.yml', env: {} }).catch((e: unknown) => e)) as ConfigError;
    expect(err.problems.map((p) => p.path)).toEqual(['logging.level', 'kafka.topic']);
  });

  it('never throws anything but ConfigError on arbitrary input', async () => {
    const yamlish = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[a-z_:\s\-[\]{}"'#0-9.,|>&*!%@`]{0,80}$/),
      fc.constantFrom('server:\n  listen: [', 'a: &x\nb: *y', 'storage: !!binary x', '\t- x', ':', '---\n---', '? a\n: b'),
    );
    await fc.assert(
      fc.asyncProperty(yamlish, async (text) => {
        try {
          await parseConfig(text, { file: 'fuzz.yml', env: {} });
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          expect(err.message.startsWith('fuzz.yml')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});
