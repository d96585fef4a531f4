/**
 * Which services each role runs. `all` runs every role's services in one process; a scale-out
 * deployment runs one role per process against the real engines.
 */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logging.js';
import type { Service } from '../util/lifecycle.js';
import { sqlService, type SqlService } from '../storage/sql/service.js';
import { sqliteMaintenance } from '../storage/sql/maintenance.js';
import { Housekeeping, type HousekeepingJob } from '../util/housekeeping.js';
import { tsdbService, type TsdbService } from '../storage/metrics/service.js';
import { parseDuration } from '../model/duration.js';
import { parseByteSize } from '../model/bytesize.js';
import { labelsFromRecord } from '../model/labels.js';
import { ScrapeManager } from '../collector/scrape/index.js';
import { DiscoveryManager } from '../collector/discovery/index.js';
import { remoteWriteService } from '../storage/metrics/remote/sender.js';
import { remoteWriteEndpoints } from './remote-write.js';
import type { Registry } from 'prom-client';
import type { Role } from './args.js';
import { buildLogServices, type LogStoreService } from './logs.js';
import type { LogCollector } from '../collector/logs/collector.js';

export interface RoleServices {
  readonly services: Service[];
  readonly sql?: SqlService;
  /** The embedded TSDB, in roles that keep metrics locally. */
  readonly tsdb?: TsdbService;
  /** Scraping and discovery, in roles that collect metrics. */
  readonly scrape?: ScrapeManager;
  readonly discovery?: DiscoveryManager;
  /** The log store, in roles that keep or read logs. */
  readonly logStore?: LogStoreService;
  /** The container log collector, in roles that tail logs. */
  readonly logCollector?: LogCollector;
  /** Whether this process serves the APIs and web UI (roles `all` and `api`). */
  readonly servesApi: boolean;
}

const USES_SQL: ReadonlySet<Role> = new Set(['all', 'alerter', 'api']);
const USES_DATA_DIR: ReadonlySet<Role> = new Set(['all', 'collector']);
// The collector keeps a local TSDB too: it is the buffer remote_write ships from, as in
// Prometheus's agent mode, so an outage of the remote end loses nothing within retention.
const USES_EMBEDDED_TSDB: ReadonlySet<Role> = new Set(['all', 'collector']);
const SCRAPES: ReadonlySet<Role> = new Set(['all', 'collector']);

/** `configDir` resolves relative paths in the config (secret files). */
export function buildRoleServices(role: Role, config: Config, logger: Logger, registry: Registry, configDir: string): RoleServices {
  const services: Service[] = [];
  if (USES_DATA_DIR.has(role)) {
    services.push({
      name: 'data-dir',
      start: async () => {
        await mkdir(config.server.data_dir, { recursive: true });
      },
      stop: async () => undefined,
    });
  }
  let tsdb: TsdbService | undefined;
  if (USES_EMBEDDED_TSDB.has(role)) {
    tsdb = tsdbService({
      dataDir: config.server.data_dir,
      retentionMs: parseDuration(config.storage.metrics.retention),
      retentionBytes: parseByteSize(config.storage.metrics.retention_size),
      logger,
      registry,
    });
    services.push(tsdb);
  }
  let scrape: ScrapeManager | undefined;
  let discovery: DiscoveryManager | undefined;
  if (SCRAPES.has(role) && tsdb) {
    const db = tsdb;
    const scraper = new ScrapeManager({ appendable: db.appendable(), registry, logger: logger.child({ component: 'scrape' }) });
    scrape = scraper;
    discovery = new DiscoveryManager({
      onUpdate: (job, groups) => scraper.updateTargets(job, groups),
      logger: logger.child({ component: 'discovery' }),
    });
    discovery.applyConfig(config.scrape_configs);
    services.push(
      {
        name: 'scrape',
        start: async (ctx) => {
          await scraper.start(ctx);
          await scraper.applyConfig(config.scrape_configs, config.global);
        },
        stop: () => scraper.stop(),
      },
      discovery,
    );
    if (config.remote_write.length > 0) {
      services.push(
        remoteWriteService({
          db: () => db.db(),
          dataDir: config.server.data_dir,
          endpoints: remoteWriteEndpoints(config, configDir),
          externalLabels: labelsFromRecord(config.global.external_labels),
          registry,
          logger: logger.child({ component: 'remote_write' }),
        }),
      );
    }
  }
  const jobs: HousekeepingJob[] = [];
  const db = tsdb;
  const logs = buildLogServices(role, config, logger, registry, db ? () => db.appendable() : undefined);
  services.push(...logs.services);
  jobs.push(...logs.jobs);
  let sql: SqlService | undefined;
  if (USES_SQL.has(role)) {
    const db = sqlService(config.storage.sql.url!, logger, { maxConnections: config.storage.sql.max_connections });
    sql = db;
    services.push(db);
    if (config.storage.sql.url!.startsWith('sqlite:')) {
      jobs.push({
        name: 'sqlite-maintenance',
        schedule: config.storage.sql.maintenance_schedule,
        run: async () => void (await sqliteMaintenance(db.database())),
      });
    }
  }
  // Last of the role's services: jobs may use everything started before.
  services.push(new Housekeeping({ logger, registry, jobs }));
  return {
    services,
    ...(sql ? { sql } : {}),
    ...(tsdb ? { tsdb } : {}),
    ...(scrape ? { scrape } : {}),
    ...(discovery ? { discovery } : {}),
    ...(logs.store ? { logStore: logs.store } : {}),
    ...(logs.collector ? { logCollector: logs.collector } : {}),
    servesApi: role === 'all' || role === 'api',
  };
}
