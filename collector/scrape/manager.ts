/**
 * The scrape manager, after Prometheus's `scrape.Manager`: one pool per job, fed by the
 * discovery manager (`updateTargets`) and the configuration loader (`applyConfig`).
 *
 * `applyConfig` leaves a job whose resolved configuration is unchanged completely alone (its
 * loops keep running, phase and caches intact), reloads changed jobs, stops removed ones and
 * creates new ones. Target sets that arrive before the job's configuration are kept and used
 * when it does.
 *
 * Deviation from Prometheus, on purpose: stopping the manager (and removing a job) writes stale
 * markers for every series it scraped, so dashboards show targets ending at shutdown instead of
 * lingering for five minutes; Prometheus writes none on shutdown. `staleMarkersOnShutdown: false`
 * restores Prometheus's behaviour.
 */
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { resolveScrapeConfig, type GlobalConfig, type ScrapeConfig } from '../../config/scrape.js';
import { formatDuration } from '../../model/duration.js';
import { labelsFromRecord, labelsToString, type Labels } from '../../model/labels.js';
import type { Appendable } from '../../storage/metrics/interface.js';
import { BUILD_INFO } from '../../util/build-info.js';
import type { Service, ServiceContext } from '../../util/lifecycle.js';
import { silentLogger, type Logger } from '../../util/logging.js';
import type { TargetGroup } from '../discovery/types.js';
import type { HttpClientSettings } from './http-client.js';
import { ScrapeMetrics } from './metrics.js';
import { canonicalJSON, compileJob, ScrapePool, type ClosableScraper } from './pool.js';
import { fnv64a, RESERVED_LABEL_PREFIX, type DroppedTarget, type Target, type TargetHealth } from './target.js';

export interface ScrapeManagerOptions {
  readonly appendable: Appendable;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** How long `stop` waits for in-flight scrapes before aborting them; default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Write stale markers for all series on `stop` (default true; Prometheus: false). */
  readonly staleMarkersOnShutdown?: boolean;
  /** Seed for scrape offsets; default derived from the host name and external labels. */
  readonly offsetSeed?: bigint;
  /** Replaces the HTTP client (tests). */
  readonly scraperFactory?: (settings: HttpClientSettings) => ClosableScraper;
  readonly userAgent?: string;
  readonly clock?: () => number;
}

/** An active target as `/api/v1/targets` shows it. */
export interface ActiveTargetView {
  readonly scrapePool: string;
  readonly discoveredLabels: Labels;
  /** Public labels (no `__` ones). */
  readonly labels: Labels;
  readonly scrapeUrl: string;
  readonly health: TargetHealth;
  readonly lastError: string;
  /** Wall-clock ms of the last scrape; 0 if none yet. */
  readonly lastScrape: number;
  readonly lastScrapeDurationSeconds: number;
  readonly scrapeInterval: string;
  readonly scrapeTimeout: string;
}

export interface TargetsView {
  readonly active: ActiveTargetView[];
  readonly dropped: DroppedTarget[];
}

/** One metric family's metadata as one target exposes it. */
export interface TargetMetadata {
  readonly target: Labels;
  readonly metric: string;
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

function viewOf(t: Target): ActiveTargetView {
  const { intervalMs, timeoutMs } = t.intervalAndTimeout();
  return {
    scrapePool: t.scrapePool,
    discoveredLabels: t.discoveredLabels,
    labels: t.labels.filter((l) => !l.name.startsWith(RESERVED_LABEL_PREFIX)),
    scrapeUrl: t.url,
    health: t.health,
    lastError: t.lastError ?? '',
    lastScrape: t.lastScrape,
    lastScrapeDurationSeconds: t.lastScrapeDurationMs / 1000,
    scrapeInterval: formatDuration(intervalMs),
    scrapeTimeout: formatDuration(timeoutMs),
  };
}

export class ScrapeManager implements Service {
  readonly name = 'scrape';
  readonly metrics: ScrapeMetrics;
  readonly #o: ScrapeManagerOptions;
  readonly #log: Logger;
  readonly #pools = new Map<string, ScrapePool>();
  readonly #groups = new Map<string, readonly TargetGroup[]>();
  /** Canonical JSON of each job's resolved configuration, to detect changes. */
  readonly #configJSON = new Map<string, string>();
  #offsetSeed: bigint;
  #stopped = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(opts: ScrapeManagerOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? silentLogger()).child({ component: 'scrape' });
    this.metrics = new ScrapeMetrics(opts.registry, () => this.#targetCounts());
    this.#offsetSeed = opts.offsetSeed ?? fnv64a(hostname());
  }

  async start(_ctx: ServiceContext): Promise<void> {
    // Pools start their loops as soon as they have targets; nothing to wait for.
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies the `scrape_configs`. Throws (leaving the previous configuration running) if a
   * relabel configuration does not compile.
   */
  applyConfig(scrapeConfigs: readonly ScrapeConfig[], global: GlobalConfig): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#stopped) return;
      const userAgent = this.#o.userAgent ?? `Vigil/${BUILD_INFO.version}`;
      // Compile everything first so a bad config changes nothing.
      const jobs = scrapeConfigs.map((sc) => compileJob(resolveScrapeConfig(sc, global), userAgent));
      if (this.#o.offsetSeed === undefined) {
        this.#offsetSeed = fnv64a(hostname() + labelsToString(labelsFromRecord(global.external_labels ?? {})));
      }
      const wanted = new Map(jobs.map((j) => [j.config.job_name, j]));
      const ops: Promise<void>[] = [];
      for (const [name, pool] of this.#pools) {
        if (wanted.has(name)) continue;
        this.#pools.delete(name);
        this.#configJSON.delete(name);
        this.metrics.removeJob(name);
        ops.push(pool.stop('immediate'));
      }
      for (const [name, job] of wanted) {
        const json = canonicalJSON(job.config);
        const pool = this.#pools.get(name);
        if (pool === undefined) {
          const created = new ScrapePool(job, {
            appendable: this.#o.appendable,
            metrics: this.metrics,
            logger: this.#log,
            offsetSeed: this.#offsetSeed,
            ...(this.#o.scraperFactory !== undefined && { scraperFactory: this.#o.scraperFactory }),
            ...(this.#o.clock !== undefined && { clock: this.#o.clock }),
          });
          this.#pools.set(name, created);
          this.#configJSON.set(name, json);
          const groups = this.#groups.get(name);
          if (groups !== undefined) ops.push(created.sync(groups));
        } else if (this.#configJSON.get(name) !== json) {
          this.#configJSON.set(name, json);
          ops.push(pool.reload(job));
        }
      }
      await Promise.all(ops);
    });
  }

  /**
   * The job's complete current set of target groups (the discovery manager's `onUpdate`). Never
   * rejects: the discovery manager calls it without awaiting, and a failed sync must not become
   * an unhandled rejection; it is logged and the next update retries.
   */
  updateTargets(job: string, groups: readonly TargetGroup[]): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#stopped) return;
      this.#groups.set(job, groups);
      const pool = this.#pools.get(job);
      if (pool === undefined) {
        this.#log.debug({ job }, 'target groups for a job without scrape config; kept until it appears');
        return;
      }
      await pool.sync(groups);
    }).catch((err: unknown) => this.#log.error({ job, err: (err as Error)?.message ?? String(err) }, 'syncing targets failed'));
  }

  /** Active and dropped targets of all jobs, for `/api/v1/targets`. */
  targets(): TargetsView {
    const active: ActiveTargetView[] = [];
    const dropped: DroppedTarget[] = [];
    for (const pool of this.#pools.values()) {
      for (const t of pool.activeTargets()) active.push(viewOf(t));
      dropped.push(...pool.droppedTargets());
    }
    return { active, dropped };
  }

  /** Metric metadata of every active target's last scrapes, for the metadata APIs. */
  metadata(): TargetMetadata[] {
    const out: TargetMetadata[] = [];
    for (const pool of this.#pools.values()) {
      for (const loop of pool.loops().values()) {
        const target = loop.target.labels.filter((l) => !l.name.startsWith(RESERVED_LABEL_PREFIX));
        for (const [metric, m] of loop.cache.metadata) out.push({ target, metric, type: m.type, help: m.help, unit: m.unit });
      }
    }
    return out;
  }

  /** The pool of a job (diagnostics and tests). */
  pool(job: string): ScrapePool | undefined {
    return this.#pools.get(job);
  }

  #targetCounts(): Array<{ job: string; state: string; count: number }> {
    const out: Array<{ job: string; state: string; count: number }> = [];
    for (const [job, pool] of this.#pools) {
      const counts: Record<string, number> = { up: 0, down: 0, unknown: 0, dropped: pool.droppedTargets().length };
      for (const t of pool.activeTargets()) counts[t.health]!++;
      for (const [state, count] of Object.entries(counts)) out.push({ job, state, count });
    }
    return out;
  }

  /**
   * Stops all loops, waits for in-flight scrapes (aborting them after `stopTimeoutMs`) and writes
   * final stale markers unless disabled.
   */
  stop(): Promise<void> {
    if (this.#stopped) return this.#queue;
    this.#stopped = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    const timer = setTimeout(() => {
      for (const p of pools) p.abortInFlight();
    }, this.#o.stopTimeoutMs ?? 10_000);
    const mode = this.#o.staleMarkersOnShutdown === false ? 'none' : 'immediate';
    // Not queued behind pending operations: a reload waiting for slow scrapes must not hold
    // shutdown; pools serialise their own operations.
    return Promise.all(pools.map((p) => p.stop(mode))).then(
      () => clearTimeout(timer),
      (err: unknown) => {
        clearTimeout(timer);
        throw err;
      },
    );
  }
}
