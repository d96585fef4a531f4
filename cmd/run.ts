/**
 * Runs a role: load config, build services, serve HTTP, handle signals. SIGTERM/SIGINT drain and
 * stop within `server.shutdown_timeout`; SIGHUP reloads the config; the first fatal error stops
 * everything and exits 1.
 */
import path from 'node:path';
import { Gauge } from 'prom-client';
import { loadConfig, type LoadOptions } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { ConfigReloader } from '../config/reload.js';
import { parseDuration } from '../model/duration.js';
import { createLogger, type Logger } from '../util/logging.js';
import { createRegistry } from '../util/metrics.js';
import { ServiceGroup, StartAbortedError } from '../util/lifecycle.js';
import { BUILD_INFO } from '../util/build-info.js';
import { buildApp } from '../api/app.js';
import { httpService } from '../api/server.js';
import { buildRoleServices } from './roles.js';
import { localPromQL, remotePromQL } from './promql.js';
import type { Config } from '../config/schema.js';
import type { Queryable } from '../storage/metrics/interface.js';
import type { Registry } from 'prom-client';
import type { PromQLBackend } from '../api/routes/prometheus-query.js';

/** Remote delegation when configured, else the local engine over the embedded TSDB. */
function promqlFor(servesApi: boolean, config: Config, local: Queryable | undefined, registry: Registry): { promql?: PromQLBackend } {
  if (!servesApi) return {};
  const remote = remotePromQL(config);
  if (remote) return { promql: remote };
  return local ? { promql: localPromQL(config, local, registry) } : {};
}
import type { Role, RunFlags } from './args.js';

export interface ProcessSignals {
  on(signal: NodeJS.Signals, handler: () => void): void;
}

export interface RunOptions {
  readonly role: Role;
  readonly flags: RunFlags;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signals: ProcessSignals;
  /** Signals that arrived before handlers could be installed, replayed in order. */
  readonly earlySignals?: readonly NodeJS.Signals[];
  readonly stderr: (line: string) => void;
  readonly logger?: Logger;
}

/** Runs until shutdown; resolves with the process exit code. */
export async function runRole(opts: RunOptions): Promise<number> {
  const logger = opts.logger ?? createLogger({ level: 'info' });
  // Handlers go in before the first await so that no signal finds the process without one.
  let group: ServiceGroup | undefined;
  let reloader: ConfigReloader | undefined;
  let phase: 'loading' | 'starting' | 'running' | 'stopping' = 'loading';
  let terminated = false;
  const onTerminate = (signal: NodeJS.Signals) => {
    if (terminated) return;
    terminated = true;
    logger.info({ signal, phase }, 'received termination signal, shutting down');
    group?.requestShutdown();
  };
  const onHangup = () => {
    if (!reloader) return;
    logger.info({ signal: 'SIGHUP' }, 'reloading configuration');
    void reloader.reload();
  };
  opts.signals.on('SIGTERM', () => onTerminate('SIGTERM'));
  opts.signals.on('SIGINT', () => onTerminate('SIGINT'));
  opts.signals.on('SIGHUP', onHangup);
  for (const s of opts.earlySignals ?? []) if (s !== 'SIGHUP') onTerminate(s);

  const loadOpts: LoadOptions = {
    ...(opts.flags.config !== undefined ? { file: opts.flags.config } : {}),
    env: opts.env,
    flags: {
      ...(opts.flags.listen !== undefined ? { listen: opts.flags.listen } : {}),
      ...(opts.flags.dataDir !== undefined ? { dataDir: opts.flags.dataDir } : {}),
    },
  };
  let initial;
  try {
    initial = await loadConfig(loadOpts);
  } catch (err) {
    if (err instanceof ConfigError) {
      opts.stderr(`vigil: invalid configuration:\n${err.message}`);
      return 1;
    }
    throw err;
  }
  const config = initial.config;
  logger.level = config.logging.level;
  const registry = createRegistry();
  const startedAt = new Date();
  logger.info(
    { role: opts.role, version: BUILD_INFO.version, revision: BUILD_INFO.revision, config: initial.file || '(defaults)' },
    'starting Vigil',
  );

  const serviceUp = new Gauge({
    name: 'vigil_lifecycle_service_up',
    help: 'Whether each service of this process is running (1) or not (0).',
    labelNames: ['service'],
    registers: [registry],
  });
  group = new ServiceGroup({
    logger,
    onStateChange: (service, state) => serviceUp.set({ service }, state === 'running' ? 1 : 0),
  });
  if (terminated) group.requestShutdown();
  reloader = new ConfigReloader({ load: loadOpts, initial, logger, registry });
  const reloads = reloader;
  phase = 'starting';

  const services = group;
  const configDir = initial.file === '' ? process.cwd() : path.dirname(path.resolve(initial.file));
  const role = buildRoleServices(opts.role, config, logger, registry, configDir);
  // Scraping follows the config on reload: unchanged jobs keep their targets and state.
  if (role.scrape && role.discovery) {
    const scrape = role.scrape;
    const discovery = role.discovery;
    reloads.register('scrape', async (c) => {
      await scrape.applyConfig(c.scrape_configs, c.global);
      discovery.applyConfig(c.scrape_configs);
    });
  }
  for (const s of role.services) services.add(s);
  const app = await buildApp(
    {
      logger,
      registry,
      roles: [opts.role],
      startedAt,
      readiness: () => ({
        ready: services.ready,
        services: [...services.states()].map(([name, state]) => ({ name, state })),
      }),
      reload: () => reloads.reload(),
      config: () => reloads.current,
      lastReloadError: () => reloads.lastError,
      flags: {
        config: opts.flags.config ?? '',
        listen: config.server.listen,
        'data-dir': config.server.data_dir,
      },
      serveUi: role.servesApi,
      ...(role.scrape ? { targets: () => role.scrape!.targets(), metadata: () => role.scrape!.metadata() } : {}),
      ...promqlFor(role.servesApi, config, role.tsdb?.queryable(), registry),
      ...(role.tsdb
        ? { metrics: { appendable: role.tsdb.appendable(), queryable: role.tsdb.queryable(), flush: () => role.tsdb!.db().flushWAL() } }
        : {}),
      ...(role.logStore ? { logs: { store: () => role.logStore!.store() } } : {}),
    },
    { bodyLimit: config.server.max_request_body_bytes },
  );
  const http = httpService(app, config.server.listen);
  services.add(http);

  const shutdownTimeoutMs = parseDuration(config.server.shutdown_timeout);
  let exitCode = 0;
  try {
    await services.start();
    phase = 'running';
    logger.info({ listen: http.address(), role: opts.role }, 'Vigil is ready');
    const fatal = await services.shutdownRequested;
    if (fatal) {
      logger.error({ err: fatal.message }, 'fatal error, shutting down');
      opts.stderr(`vigil: fatal: ${fatal.message}`);
      exitCode = 1;
    }
  } catch (err) {
    if (!(err instanceof StartAbortedError)) {
      logger.error({ err: (err as Error).message }, 'start-up failed');
      opts.stderr(`vigil: start-up failed: ${(err as Error).message}`);
      exitCode = 1;
    }
  }
  phase = 'stopping';
  // Last resort if something outside the services keeps the process alive.
  const hardStop = setTimeout(() => {
    opts.stderr('vigil: shutdown deadline passed, exiting');
    process.exit(1);
  }, shutdownTimeoutMs + 1000);
  hardStop.unref();
  const report = await services.stop(shutdownTimeoutMs);
  clearTimeout(hardStop);
  for (const e of report.errors) logger.error({ err: e.message }, 'error while stopping');
  if (report.timedOut.length > 0) {
    opts.stderr(`vigil: services did not stop in ${config.server.shutdown_timeout}: ${report.timedOut.join(', ')}`);
    exitCode = 1;
  }
  logger.info({ exitCode }, 'Vigil stopped');
  return exitCode;
}
