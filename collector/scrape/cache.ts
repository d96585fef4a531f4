/**
 * Per-target scrape cache, after Prometheus's `scrapeCache`: maps the exposed text of a series
 * (`seriesText()`, looked up through the parser without cutting it out, see `SeriesTable`) to
 * its final labels and storage ref, so a repeated scrape neither builds labels nor relabels nor
 * looks series up; remembers series dropped by metric relabeling; and keeps the set of series of
 * the current and previous scrape for staleness.
 *
 * A cache outlives its loop when a reload keeps the target: the new loop continues with the
 * same entries and the same "previous scrape" set, so neither stale markers nor new-series
 * counts are disturbed by a configuration reload.
 */
import type { Labels } from '../../model/labels.js';
import type { SeriesRef } from '../../storage/metrics/interface.js';
import { SeriesTable, type SeriesSource } from './series-table.js';
import type { EntryKind, TextParser } from './textparse/index.js';

export interface CacheEntry {
  readonly dropped: false;
  ref: SeriesRef;
  readonly labels: Labels;
  /** `labelsKey(labels)`: two texts may yield the same series; staleness is per series. */
  readonly key: string;
  lastIter: number;
}

/** A series text that metric relabeling drops. */
export interface DroppedEntry {
  readonly dropped: true;
  lastIter: number;
}

/** A metric family's metadata as the target exposes it (`# TYPE`, `# HELP`, `# UNIT`). */
export interface MetricMetadata {
  type: string;
  help: string;
  unit: string;
  lastIter: number;
}

export interface ReportEntry {
  ref: SeriesRef;
  readonly labels: Labels;
}

export class ScrapeCache {
  /** Number of completed scrape iterations. */
  iter = 0;
  #successfulCount = 0;
  /** Series texts seen, kept or dropped (a text is never both). */
  readonly series = new SeriesTable<CacheEntry | DroppedEntry>();
  #cur = new Map<string, CacheEntry>();
  #prev = new Map<string, CacheEntry>();
  /** Metric family metadata by family name, for `/api/v1/metadata` and `/api/v1/targets/metadata`. */
  readonly metadata = new Map<string, MetricMetadata>();
  /** Report series (`up`, …) by metric name; kept apart so cache flushes never drop them. */
  readonly report = new Map<string, ReportEntry>();

  /** Advances `p` to its next entry, telling it which series this cache expects there. */
  next(p: TextParser): EntryKind {
    this.series.hint(p);
    return p.next();
  }

  /** What is known of the parser's current series; `seen` must be called on what it returns. */
  lookup(p: SeriesSource): CacheEntry | DroppedEntry | undefined {
    return this.series.get(p);
  }

  /** Marks an entry as present in this scrape; returns whether it already was. */
  seen(entry: CacheEntry | DroppedEntry): boolean {
    const already = entry.lastIter === this.iter;
    entry.lastIter = this.iter;
    return already;
  }

  /** Adds the parser's current series, which `lookup` did not find. */
  add(p: SeriesSource, ref: SeriesRef, labels: Labels, key: string): CacheEntry {
    const entry: CacheEntry = { dropped: false, ref, labels, key, lastIter: this.iter };
    this.series.add(p, entry);
    return entry;
  }

  /** Remembers that the parser's current series, which `lookup` did not find, is dropped. */
  addDropped(p: SeriesSource): void {
    this.series.add(p, { dropped: true, lastIter: this.iter });
  }

  /** Records one metadata line of this scrape; a family not seen again is dropped at the next flush. */
  setMetadata(family: string, kind: 'type' | 'help' | 'unit', value: string): void {
    let m = this.metadata.get(family);
    if (m === undefined) {
      m = { type: 'unknown', help: '', unit: '', lastIter: this.iter };
      this.metadata.set(family, m);
    } else if (m.lastIter !== this.iter) {
      // First mention in this scrape: start from scratch, so removed HELP or UNIT lines disappear.
      m.type = 'unknown';
      m.help = '';
      m.unit = '';
    }
    m.lastIter = this.iter;
    m[kind] = value;
  }

  /** Marks a series as present in this scrape. */
  track(entry: CacheEntry): void {
    this.#cur.set(entry.key, entry);
  }

  /** Forgets what the current (failed) attempt tracked, so a retry of staleness sees all of `prev`. */
  resetCurrent(): void {
    this.#cur.clear();
  }

  /** Series of the previous scrape that are absent from this one. */
  *stale(): Iterable<CacheEntry> {
    for (const [k, e] of this.#prev) if (!this.#cur.has(k)) yield e;
  }

  /** Number of series the last successful scrape tracked for staleness. */
  get previousSize(): number {
    return this.#prev.size;
  }

  /**
   * Ends an iteration: the current set becomes the previous one. `flush` (after a successful,
   * non-empty scrape) drops entries not seen in it, bounding the cache under series churn; a run
   * of failed scrapes forces a flush once the cache doubled, as Prometheus does.
   */
  iterDone(flush: boolean): void {
    const count = this.series.size;
    if (flush) this.#successfulCount = count;
    else if (count > this.#successfulCount * 2 + 1000) flush = true;
    if (flush) {
      const iter = this.iter;
      this.series.deleteWhere((e) => e.lastIter !== iter);
      for (const [f, m] of this.metadata) if (m.lastIter !== this.iter) this.metadata.delete(f);
    }
    const prev = this.#prev;
    this.#prev = this.#cur;
    prev.clear();
    this.#cur = prev;
    this.iter++;
  }
}
