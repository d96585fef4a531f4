/**
 * One scrape loop per target, with the semantics of Prometheus's `scrapeLoop`:
 *
 * - the first scrape waits for the target's slot in the interval (`scrapeOffset`), later ones
 *   follow on the same phase; a scrape that overruns skips slots rather than overlapping;
 * - every scrape is written through one appender and committed once: the samples, stale markers
 *   for series that disappeared, and the report series (`up`, `scrape_duration_seconds`, …), all
 *   at the scrape timestamp;
 * - a failed scrape (fetch, parse, sample/label limits) rolls the samples back and writes stale
 *   markers for every series of the previous scrape plus `up 0`;
 * - samples storage refuses as out of order, duplicate or too old are skipped and counted, not
 *   fatal.
 *
 * Parsing and appending run synchronously after the fetch, and each loop owns its cache, so
 * loops never interfere with each other and a slow target only ever delays itself.
 */
import { labelsGet, labelsHas, labelsKey, LabelsBuilder, METRIC_NAME, type Label, type Labels } from '../../model/labels.js';
import { relabel, type RelabelRule } from '../../model/relabel.js';
import { AppendError, type Appendable, type Appender } from '../../storage/metrics/interface.js';
import type { Logger } from '../../util/logging.js';
import { ScrapeCache, type CacheEntry } from './cache.js';
import { ScrapeHttpError, type Scraper } from './http-client.js';
import type { RejectReason, ScrapeMetrics } from './metrics.js';
import { STALE_NAN } from '../../model/stale.js';
import { scrapeOffset, type Target } from './target.js';
import { createParser, resolveContentType, type ExpositionFormat, type MetricType } from './textparse/index.js';

/** Settings of a job that shape what a scrape appends. */
export interface LoopSettings {
  readonly jobName: string;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly metricRelabelRules: readonly RelabelRule[];
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  /** Format for a missing or unknown Content-Type; null fails such scrapes (Prometheus 3). */
  readonly fallbackFormat: ExpositionFormat | null;
}

export interface ScrapeLoopOptions {
  readonly target: Target;
  readonly scraper: Scraper;
  readonly appendable: Appendable;
  readonly settings: LoopSettings;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Per-server seed mixed into the offset so HA pairs do not scrape in lockstep. */
  readonly offsetSeed: bigint;
  readonly metrics: ScrapeMetrics;
  readonly logger: Logger;
  /** State carried over from the loop this one replaces. */
  readonly cache?: ScrapeCache;
  /** Wall clock in ms; injectable for tests. */
  readonly clock?: () => number;
}

/**
 * What happens to a stopped loop's series: nothing (state handed to a successor, or Prometheus's
 * shutdown behaviour), stale markers now, or stale markers after Prometheus's grace period of
 * just over two intervals, during which the target may come back (then nothing is written).
 */
export type StalenessMode = 'none' | 'immediate' | 'delayed';

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;

/** Samples more than this far in the future are refused, as Prometheus's `timeLimitAppender` does. */
const MAX_AHEAD_MS = 10 * 60_000;
const EXPORTED_PREFIX = 'exported_';

/** An error that fails the scrape, with the `reason` label it is counted under. */
export class ScrapeFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ScrapeFailure';
  }
}

export interface AppendResult {
  readonly total: number;
  readonly added: number;
  readonly seriesAdded: number;
  readonly err?: ScrapeFailure;
}

/**
 * Prometheus's `mutateSampleLabels`: attaches the target labels, then metric relabeling.
 * `honor_labels` keeps exposed labels that clash; otherwise the target wins and the exposed value
 * moves to `exported_<name>` (prefixed again while that name is taken, shortest names first).
 */
export function mutateSampleLabels(exposed: Labels, targetLabels: Labels, honorLabels: boolean, rules: readonly RelabelRule[]): Labels | undefined {
  const b = new LabelsBuilder(exposed);
  if (honorLabels) {
    for (const l of targetLabels) if (!labelsHas(exposed, l.name)) b.set(l.name, l.value);
  } else {
    const conflicts: Label[] = [];
    for (const l of targetLabels) {
      const existing = labelsGet(exposed, l.name);
      if (existing !== '') conflicts.push({ name: l.name, value: existing });
      b.set(l.name, l.value);
    }
    conflicts.sort((x, y) => x.name.length - y.name.length); // stable
    for (const c of conflicts) {
      let name = c.name;
      for (;;) {
        name = EXPORTED_PREFIX + name;
        if (b.get(name) === '') {
          b.set(name, c.value);
          break;
        }
      }
    }
  }
  const labels = b.labels();
  return rules.length === 0 ? labels : relabel(labels, rules);
}

function truncate(s: string, n: number): string {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, n).join('');
}

/** Prometheus's `verifyLabelLimits`, with its messages; lengths are in bytes as in Go. */
export function verifyLabelLimits(labels: Labels, s: Pick<LoopSettings, 'labelLimit' | 'labelNameLengthLimit' | 'labelValueLengthLimit'>): string | undefined {
  const met = truncate(labelsGet(labels, METRIC_NAME), 50);
  if (s.labelLimit > 0 && labels.length > s.labelLimit) {
    return `label_limit exceeded (metric: ${met}, number of labels: ${labels.length}, limit: ${s.labelLimit})`;
  }
  if (s.labelNameLengthLimit === 0 && s.labelValueLengthLimit === 0) return undefined;
  for (const l of labels) {
    const nameLen = Buffer.byteLength(l.name);
    if (s.labelNameLengthLimit > 0 && nameLen > s.labelNameLengthLimit) {
      return `label_name_length_limit exceeded (metric: ${met}, label name: ${truncate(l.name, 50)}, length: ${nameLen}, limit: ${s.labelNameLengthLimit})`;
    }
    const valueLen = Buffer.byteLength(l.value);
    if (s.labelValueLengthLimit > 0 && valueLen > s.labelValueLengthLimit) {
      return `label_value_length_limit exceeded (metric: ${met}, label name: ${truncate(l.name, 50)}, value: ${JSON.stringify(truncate(l.value, 50))}, length: ${valueLen}, limit: ${s.labelValueLengthLimit})`;
    }
  }
  return undefined;
}

const FAMILY_SUFFIXES = ['_total', '_bucket', '_sum', '_count', '_created', '_gsum', '_gcount', '_info'];

/** Whether a sample belongs to the family of the last TYPE line (Prometheus's `isSeriesPartOfFamily`, loosely). */
function inFamily(metric: string, family: string): boolean {
  if (family === '' || !metric.startsWith(family)) return false;
  const rest = metric.slice(family.length);
  return rest === '' || FAMILY_SUFFIXES.includes(rest);
}

function isSkippable(reason: string): reason is RejectReason {
  return reason === 'out_of_order' || reason === 'duplicate' || reason === 'too_old' || reason === 'limit';
}

export class ScrapeLoop {
  readonly target: Target;
  readonly cache: ScrapeCache;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly #o: ScrapeLoopOptions;
  readonly #clock: () => number;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #started = false;
  #stopped = false;
  #forced: ScrapeFailure | undefined;
  /** Wall-clock ms of the slot of the latest scrape. */
  #aligned = 0;
  /** Timestamp of the last scrape written, or undefined before the first. */
  #lastAppendTime: number | undefined;
  #pendingStale: { timer: NodeJS.Timeout; staleTime: number; done: Promise<void>; fire: () => void } | undefined;

  constructor(opts: ScrapeLoopOptions) {
    this.#o = opts;
    this.target = opts.target;
    this.cache = opts.cache ?? new ScrapeCache();
    this.intervalMs = opts.intervalMs;
    this.timeoutMs = opts.timeoutMs;
    this.#clock = opts.clock ?? Date.now;
    this.#log = opts.logger.child({ scrape_pool: opts.settings.jobName, target: opts.target.url });
  }

  /** Schedules the first scrape at the target's offset within the interval. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    const now = this.#clock();
    const delay = scrapeOffset(this.target.hash, this.#o.offsetSeed, this.intervalMs, now);
    this.#schedule(now + delay, now);
  }

  /** Fails every scrape with `err` without fetching (target_limit), or clears it. */
  setForcedError(err: ScrapeFailure | undefined): void {
    this.#forced = err;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  #schedule(slot: number, now: number): void {
    this.#timer = setTimeout(() => this.#tick(slot), Math.max(0, slot - now));
  }

  /** Runs the scrape of `slot` (wall-clock ms), then schedules the next free slot. */
  #tick(slot: number): void {
    if (this.#stopped) return;
    this.#aligned = slot;
    const now = this.#clock();
    // Prometheus uses the slot time when the timer fired close enough to it (1% of the interval,
    // at most 2 ms), so samples land on a regular grid and compress better.
    const tolerance = Math.min(this.intervalMs / 100, 2);
    const ts = Math.abs(now - slot) <= tolerance ? slot : now;
    const run = this.scrapeAndReport(ts).catch((err: unknown) => {
      this.#log.error({ err: (err as Error)?.message ?? String(err) }, 'scrape loop iteration failed');
    });
    this.#inFlight = run;
    void run.then(() => {
      if (this.#inFlight === run) this.#inFlight = undefined;
      if (this.#stopped) return;
      const after = this.#clock();
      // Never overlap: a scrape that overran its interval skips the slots it missed.
      let next = slot + this.intervalMs;
      while (next <= after) next += this.intervalMs;
      this.#schedule(next, after);
    });
  }

  /**
   * One scrape: fetch, append, report, commit. Failures end up in the target's health and the
   * report series; it rejects only if storage throws outside `append`. Public so tests can
   * drive a loop without timers.
   */
  async scrapeAndReport(appendTime: number): Promise<void> {
    const { settings, metrics, appendable } = this.#o;
    const job = settings.jobName;
    const t0 = performance.now();
    metrics.scrapes.inc({ job });
    let failure: ScrapeFailure | undefined;
    let result: AppendResult = { total: 0, added: 0, seriesAdded: 0 };
    let body: Buffer | undefined;
    let contentType: string | undefined;

    if (this.#forced !== undefined) {
      failure = this.#forced;
    } else {
      try {
        const res = await this.#o.scraper.scrape(this.target.url, this.timeoutMs, this.#abort.signal);
        body = res.body;
        contentType = res.contentType;
      } catch (err) {
        failure = err instanceof ScrapeHttpError ? new ScrapeFailure(err.reason, err.message) : new ScrapeFailure('network', String((err as Error)?.message ?? err));
        this.#log.debug({ err: failure.message }, 'scrape failed');
      }
    }

    // The appender is taken after the fetch: nothing is held open while waiting on the network.
    let app = appendable.appender();
    if (body === undefined || body.length === 0) {
      // A failed scrape is an empty scrape: stale markers for everything seen last time.
      this.#appendStaleMarkers(app, appendTime);
    } else {
      result = this.appendScrape(app, body, contentType, appendTime);
      if (result.err !== undefined) {
        failure = result.err;
        this.#log.debug({ err: failure.message }, 'append failed');
        await app.rollback();
        app = appendable.appender();
        this.#appendStaleMarkers(app, appendTime);
      }
    }

    const durationMs = performance.now() - t0;
    this.#appendReport(app, appendTime, [failure === undefined ? 1 : 0, durationMs / 1000, result.total, result.added, result.seriesAdded]);
    try {
      await app.commit();
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'scrape commit failed');
      failure ??= new ScrapeFailure('commit', (err as Error).message);
    }
    this.#lastAppendTime = appendTime;
    this.target.report(appendTime, durationMs, failure);
    metrics.duration.observe({ job }, durationMs / 1000);
    if (failure !== undefined) metrics.failures.inc({ job, reason: failure.reason });
  }

  /**
   * Parses a body and appends its samples (Prometheus's `scrapeLoop.append`). On error the caller
   * must roll back; nothing here is undone.
   */
  appendScrape(app: Appender, body: Uint8Array, contentType: string | undefined, defTime: number): AppendResult {
    const s = this.#o.settings;
    const cache = this.cache;
    let total = 0;
    let added = 0;
    let seriesAdded = 0;
    const resolved = resolveContentType(contentType, s.fallbackFormat);
    if (resolved.format === null) return { total, added, seriesAdded, err: new ScrapeFailure('content_type', resolved.problem ?? 'unsupported Content-Type') };
    if (resolved.problem !== undefined) this.#log.debug(resolved.problem);

    const targetLabels = this.target.publicLabels();
    const maxTime = this.#clock() + MAX_AHEAD_MS;
    const rejected: Record<RejectReason, number> = { out_of_order: 0, duplicate: 0, too_old: 0, limit: 0 };
    let err: ScrapeFailure | undefined;
    let sampleLimitHit = false;
    let counted = 0;
    let appended = 0;
    let family = '';
    let familyType: MetricType | undefined;
    cache.resetCurrent();
    try {
      const p = createParser(body, resolved.format);
      for (let kind = cache.next(p); kind !== 'eof'; kind = cache.next(p)) {
        if (kind === 'type') {
          family = p.metricName();
          familyType = p.type();
          cache.setMetadata(family, 'type', familyType ?? 'unknown');
          continue;
        }
        if (kind === 'help') {
          cache.setMetadata(p.metricName(), 'help', p.help());
          continue;
        }
        if (kind === 'unit') {
          cache.setMetadata(p.metricName(), 'unit', p.unit());
          continue;
        }
        if (kind !== 'series') continue;
        total++;
        const parsedTs = s.honorTimestamps ? p.timestamp() : undefined;
        const t = parsedTs ?? defTime;
        const hit = cache.lookup(p);
        if (hit !== undefined && hit.dropped) {
          cache.seen(hit);
          continue;
        }
        const alreadyScraped = hit !== undefined && cache.seen(hit);
        let labels: Labels;
        if (hit !== undefined) {
          labels = hit.labels;
        } else {
          const mutated = mutateSampleLabels(p.labels(), targetLabels, s.honorLabels, s.metricRelabelRules);
          if (mutated === undefined || mutated.length === 0) {
            cache.addDropped(p);
            continue;
          }
          if (!labelsHas(mutated, METRIC_NAME)) {
            err = new ScrapeFailure('invalid_series', `missing metric name (${METRIC_NAME} label)`);
            break;
          }
          const limitErr = verifyLabelLimits(mutated, s);
          if (limitErr !== undefined) {
            err = new ScrapeFailure('label_limit', limitErr);
            break;
          }
          labels = mutated;
        }
        // Counted even when the sample is refused: the number of series exposed after relabeling.
        added++;

        let reason: RejectReason | undefined;
        let entry: CacheEntry | undefined = hit;
        if (alreadyScraped && parsedTs === undefined) {
          reason = 'duplicate';
        } else if (s.sampleLimit > 0 && ++counted > s.sampleLimit) {
          // Keep parsing so the report says how many samples there were.
          sampleLimitHit = true;
          continue;
        } else if (t > maxTime) {
          reason = 'too_old';
        } else {
          try {
            // The type is a hint for new series only; cached ones are known to storage.
            const opts = entry === undefined && familyType !== undefined && inFamily(p.metricName(), family) ? { type: familyType } : undefined;
            const ref = app.append(entry?.ref ?? 0, labels, t, p.value(), opts);
            appended++;
            if (entry === undefined) {
              entry = cache.add(p, ref, labels, labelsKey(labels));
              if (!sampleLimitHit) seriesAdded++;
            } else {
              entry.ref = ref;
            }
            // Series with explicit timestamps are left out of staleness, as in Prometheus.
            if (parsedTs === undefined) cache.track(entry);
          } catch (e) {
            if (e instanceof AppendError && isSkippable(e.reason)) reason = e.reason;
            else {
              err = new ScrapeFailure('append', (e as Error).message);
              break;
            }
          }
        }
        if (reason !== undefined) rejected[reason]++;
      }
    } catch (e) {
      err = new ScrapeFailure('parse', (e as Error).message);
    }
    if (err === undefined && sampleLimitHit) err = new ScrapeFailure('sample_limit', 'sample limit exceeded');

    const nRejected = rejected.out_of_order + rejected.duplicate + rejected.too_old + rejected.limit;
    if (nRejected > 0) {
      this.#log.debug({ ...rejected }, 'samples refused by storage were skipped');
      for (const r of Object.keys(rejected) as RejectReason[]) if (rejected[r] > 0) this.#o.metrics.rejected.inc({ reason: r }, rejected[r]);
    }
    if (err !== undefined) return { total, added, seriesAdded, err };

    this.#writeStale(app, defTime);
    cache.iterDone(true);
    this.#o.metrics.appended.inc(appended);
    return { total, added, seriesAdded };
  }

  /** Stale markers for the previous scrape's series that this one did not write. */
  #writeStale(app: Appender, t: number): void {
    for (const e of this.cache.stale()) {
      try {
        e.ref = app.append(e.ref, e.labels, t, STALE_NAN);
      } catch (err) {
        // Out of order or duplicate is expected when a target came back under a new loop.
        if (!(err instanceof AppendError)) this.#log.warn({ err: (err as Error).message }, 'appending stale marker failed');
      }
    }
  }

  /** The empty-scrape path: every series of the last successful scrape goes stale. */
  #appendStaleMarkers(app: Appender, t: number): void {
    this.cache.resetCurrent();
    this.#writeStale(app, t);
    this.cache.iterDone(false);
  }

  #reportLabels(name: string): Labels {
    return new LabelsBuilder(this.target.publicLabels()).set(METRIC_NAME, name).labels();
  }

  #appendReport(app: Appender, t: number, values: readonly number[]): void {
    REPORT_NAMES.forEach((name, i) => {
      let entry = this.cache.report.get(name);
      if (entry === undefined) {
        entry = { ref: 0, labels: this.#reportLabels(name) };
        this.cache.report.set(name, entry);
      }
      try {
        entry.ref = app.append(entry.ref, entry.labels, t, values[i]!);
      } catch (err) {
        if (err instanceof AppendError && (err.reason === 'out_of_order' || err.reason === 'duplicate')) return;
        this.#log.warn({ err: (err as Error).message, series: name }, 'appending scrape report failed');
      }
    });
  }

  /** Stale markers for all series and the report series, in their own commit. */
  async #endOfRunStaleness(t: number): Promise<void> {
    const app = this.#o.appendable.appender();
    try {
      this.#appendStaleMarkers(app, t);
      this.#appendReport(app, t, REPORT_NAMES.map(() => STALE_NAN));
      await app.commit();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'writing end-of-run stale markers failed');
    }
  }

  /**
   * Stops scraping and waits for an in-flight scrape (bounded by its timeout; `abortInFlight`
   * cuts it short). With `delayed` staleness this returns before the markers are written; see
   * `flushStaleness`/`cancelStaleness`.
   */
  async stop(mode: StalenessMode): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#inFlight !== undefined) await this.#inFlight;
    const last = this.#lastAppendTime;
    if (last === undefined || mode === 'none') return;
    if (mode === 'immediate') {
      await this.#endOfRunStaleness(Math.max(this.#clock(), last + 1));
      return;
    }
    // Prometheus: the marker time is the next slot; it is written after one more slot and 10%
    // so a target that moved (to another pool or server) has had a chance to be scraped again.
    const now = this.#clock();
    let staleTime = this.#aligned + this.intervalMs;
    while (staleTime <= now) staleTime += this.intervalMs;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    const fire = (): void => {
      const pending = this.#pendingStale;
      if (pending === undefined) return;
      clearTimeout(pending.timer);
      this.#pendingStale = undefined;
      const t = Math.max(last + 1, Math.min(pending.staleTime, this.#clock()));
      void this.#endOfRunStaleness(t).then(resolveDone);
    };
    const wait = staleTime + this.intervalMs + this.intervalMs / 10 - now;
    this.#pendingStale = { timer: setTimeout(fire, wait), staleTime, done, fire };
  }

  /** Aborts a running fetch; used when a shutdown must not wait for slow targets. */
  abortInFlight(): void {
    this.#abort.abort();
  }

  get hasPendingStaleness(): boolean {
    return this.#pendingStale !== undefined;
  }

  /** Writes pending delayed stale markers now (at most at their planned time). */
  async flushStaleness(): Promise<void> {
    const p = this.#pendingStale;
    if (p === undefined) return;
    p.fire();
    await p.done;
  }

  /** Drops pending delayed stale markers: the target is back and a new loop owns its series. */
  cancelStaleness(): void {
    const p = this.#pendingStale;
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.#pendingStale = undefined;
  }

  /** Resolves when delayed stale markers have been written (immediately if none are pending). */
  async stalenessDone(): Promise<void> {
    await this.#pendingStale?.done;
  }
}
