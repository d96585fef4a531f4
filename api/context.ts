/** What the HTTP layer needs from the running process, as narrow functions. */
import type { Registry } from 'prom-client';
import type { Logger } from '../util/logging.js';
import type { ReloadOutcome } from '../config/reload.js';
import type { LoadedConfig } from '../config/load.js';
import type { Appendable, Queryable } from '../storage/metrics/interface.js';
import type { TargetMetadata, TargetsView } from '../collector/scrape/index.js';
import type { PromQLBackend } from './routes/prometheus-query.js';
import type { LogStore } from '../storage/logs/interface.js';

export interface Readiness {
  readonly ready: boolean;
  readonly services: ReadonlyArray<{ readonly name: string; readonly state: string }>;
}

export interface AppContext {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Roles this process runs, e.g. `['all']`. */
  readonly roles: readonly string[];
  readonly startedAt: Date;
  readonly readiness: () => Readiness;
  readonly reload: () => Promise<ReloadOutcome>;
  readonly config: () => LoadedConfig;
  readonly lastReloadError: () => string | undefined;
  /** Command-line flags as given, for `/api/v1/status/flags`. */
  readonly flags: Readonly<Record<string, string>>;
  /** Whether to serve the web UI at `/`. */
  readonly serveUi: boolean;
  /** Metric storage of this process, when it has one (role `all`): enables ingest and queries. */
  readonly metrics?: {
    readonly appendable: Appendable;
    readonly queryable: Queryable;
    /** Makes every commit so far durable; pushed samples are acknowledged only after it. */
    readonly flush: () => Promise<void>;
  };
  /** The PromQL engine behind `/api/v1/query` and `/api/v1/query_range`, when this process serves queries. */
  readonly promql?: PromQLBackend;
  /** Scrape targets of this process, when it scrapes. */
  readonly targets?: () => TargetsView;
  /** Metric metadata from this process's scrapes. */
  readonly metadata?: () => TargetMetadata[];
  /** The log store this process searches, when it runs one: enables the Vigil log API and the Loki API. */
  readonly logs?: { readonly store: () => LogStore };
}
