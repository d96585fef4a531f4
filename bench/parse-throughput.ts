/**
 * Exposition-parse throughput on one core, shared by `bench:ingest` (which prints it after the
 * ingest figures) and `bench:parse` (which runs it alone), so both report the same measurement.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ScrapeCache } from '../collector/scrape/cache.js';
import { mutateSampleLabels } from '../collector/scrape/loop.js';
import { createParser } from '../collector/scrape/textparse/index.js';
import { ROOT } from '../test/support/vigil-process.js';

export interface ParseThroughput {
  readonly scrapePath: number;
  readonly everyLine: number;
  readonly samplesPerBody: number;
}

/**
 * Parse throughput over a kubelet-sized body (the cAdvisor fixture for 60 containers), given as
 * bytes like the loop's. "scrape path" is what the scrape loop does per sample: the line parsed
 * and looked up in the loop's own `ScrapeCache` through the same calls (keyed by the series
 * text), labels built (and rebuilt by `mutateSampleLabels`) only for series not seen before, the
 * cache's end-of-scrape flush; "labels every line" builds them for every sample. Storage and
 * relabeling are not part of it. `seconds`: how long each of the two runs lasts.
 */
export function parseThroughput(seconds = 3): ParseThroughput {
  const fixture = readFileSync(path.resolve(ROOT, '../shared/reference/fixtures/cadvisor/prometheus_metrics'), 'utf8');
  // A Buffer, as the HTTP client hands the body to the scrape loop.
  const body = Buffer.from(Array.from({ length: 60 }, (_, i) => fixture.replaceAll('testcontainer', `container-${i}`)).join('\n'));
  const run = (everyLine: boolean): { rate: number; perBody: number } => {
    const cache = new ScrapeCache();
    let samples = 0;
    let rounds = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const p = createParser(body, 'prometheus-text');
      for (let k = everyLine ? p.next() : cache.next(p); k !== 'eof'; k = everyLine ? p.next() : cache.next(p)) {
        if (k !== 'series') continue;
        if (everyLine) p.labels();
        else {
          // As `ScrapeLoop.appendScrape` does, with no target labels or relabeling and no storage:
          // what it keeps for a new series is the labels as `mutateSampleLabels` rebuilds them.
          const hit = cache.lookup(p);
          if (hit === undefined) cache.add(p, 0, mutateSampleLabels(p.labels(), [], false, [])!, '');
          else cache.seen(hit);
        }
        p.value();
        samples++;
      }
      if (!everyLine) cache.iterDone(true);
      rounds++;
    }
    return { rate: samples / ((performance.now() - t0) / 1000), perBody: samples / rounds };
  };
  const scrape = run(false);
  const every = run(true);
  return { scrapePath: scrape.rate, everyLine: every.rate, samplesPerBody: scrape.perBody };
}

/** The line both benchmarks print. */
export function formatParseThroughput(parse: ParseThroughput): string {
  return (
    `exposition parse, one core (cAdvisor fixture ×60, ${parse.samplesPerBody} samples per body): ` +
    `scrape path ${(parse.scrapePath / 1e6).toFixed(2)}M samples/s, labels every line ${(parse.everyLine / 1e6).toFixed(2)}M samples/s`
  );
}
