/**
 * Vigil and Debian's Prometheus scrape the same targets (the real node exporter and the cAdvisor
 * fixture served over HTTP) with the same configuration; both must end up with the same series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, VigilProcess, freePort, waitForHttp } from '../support/vigil-process.js';
import { startNodeExporter, startPrometheus, type Peer } from '../support/peers.js';
import { serveFixtures, type FixtureServer } from '../support/fixture-server.js';

const FIXTURES = path.resolve(ROOT, '../shared/reference/fixtures/cadvisor');

let dir: string;
let vigil: VigilProcess;
let vigilUrl: string;
let prom: Peer;
let node: Peer;
let cadvisor: FixtureServer;

function scrapeConfig(): string {
  // The fixture carries 2014 timestamps, which both TSDBs would refuse as too old.
  return [
    'global:',
    '  scrape_interval: 1s',
    'scrape_configs:',
    '  - job_name: node',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${node.port}']`,
    '  - job_name: cadvisor',
    '    metrics_path: /metrics/cadvisor',
    '    honor_timestamps: false',
    '    static_configs:',
    `      - targets: ['127.0.0.1:${cadvisor.port}']`,
    '',
  ].join('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-vs-prom-'));
  node = await startNodeExporter();
  cadvisor = await serveFixtures({ '/metrics/cadvisor': path.join(FIXTURES, 'prometheus_metrics') });
  prom = await startPrometheus({ config: scrapeConfig() });
  const port = await freePort();
  vigilUrl = `http://127.0.0.1:${port}`;
  writeFileSync(path.join(dir, 'vigil.yml'), scrapeConfig());
  vigil = new VigilProcess(['all', '--config', path.join(dir, 'vigil.yml'), '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`]);
  await waitForHttp(`${vigilUrl}/-/ready`);
}, 60_000);

afterAll(async () => {
  await vigil?.signalAndWait('SIGTERM');
  await Promise.all([prom?.stop(), node?.stop(), cadvisor?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Prometheus 3 (which Vigil follows) writes `le` and `quantile` values in float form (`1.0`); the
 * Debian peer is 2.x and keeps them as exposed (`1`). Compare them as numbers.
 */
function canonical(labels: Record<string, string>): string {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels).sort()) out[k] = (k === 'le' || k === 'quantile') && v !== '' ? String(Number(v)) : v;
  return JSON.stringify(out);
}

async function seriesOf(base: string, match: string): Promise<string[]> {
  const res = await fetch(`${base}/api/v1/series?match[]=${encodeURIComponent(match)}`);
  const body = (await res.json()) as { data: Record<string, string>[] };
  return body.data.map(canonical).sort();
}

async function valuesOf(base: string, expr: string): Promise<Map<string, string>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return new Map(body.data.result.map((r) => [canonical(r.metric), r.value[1]]));
}

describe('Vigil and Prometheus scraping the same targets', () => {
  it.each([
    ['cAdvisor fixture', '{job="cadvisor"}'],
    ['node exporter', '{job="node",__name__!~"scrape_.*"}'],
    ['report series', '{__name__=~"up|scrape_samples_scraped|scrape_series_added|scrape_samples_post_metric_relabeling|scrape_duration_seconds"}'],
  ])('yield the same series: %s', async (_what, match) => {
    // Give both a few scrapes.
    const deadline = Date.now() + 20_000;
    let a: string[] = [];
    let b: string[] = [];
    while (Date.now() < deadline) {
      [a, b] = await Promise.all([seriesOf(vigilUrl, match), seriesOf(prom.url, match)]);
      if (b.length > 0 && JSON.stringify(a) === JSON.stringify(b)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(b.length).toBeGreaterThan(0);
    expect(a.filter((s) => !b.includes(s)), 'only in Vigil').toEqual([]);
    expect(b.filter((s) => !a.includes(s)), 'only in Prometheus').toEqual([]);
  }, 30_000);
});

describe('values scraped by Vigil and Prometheus', () => {
  it.each([
    // Report series measure each scraper itself (durations, its own cache), so they are left out.
    ['every cAdvisor fixture sample', '{job="cadvisor",__name__!~"scrape_.*"}'],
    ['static node exporter metrics', '{job="node",__name__=~"node_memory_MemTotal_bytes|node_exporter_build_info|node_cpu_seconds_total"}'],
  ])('are equal: %s', async (_what, expr) => {
    const [ours, theirs] = await Promise.all([valuesOf(vigilUrl, expr), valuesOf(prom.url, expr)]);
    expect(theirs.size).toBeGreaterThan(0);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    const differing: string[] = [];
    for (const [k, v] of theirs) {
      const mine = ours.get(k)!;
      // CPU counters move between the two scrapers' scrapes; they must agree to within a few seconds' worth.
      const tolerance = k.includes('node_cpu_seconds_total') ? 5 : 0;
      if (!(mine === v || Math.abs(Number(mine) - Number(v)) <= tolerance)) differing.push(`${k}: ${mine} vs ${v}`);
    }
    expect(differing).toEqual([]);
  });
});

describe('metric metadata scraped by Vigil and Prometheus', () => {
  async function get(base: string, pathAndQuery: string): Promise<{ status: string; data: unknown; errorType?: string }> {
    const res = await fetch(`${base}${pathAndQuery}`);
    return (await res.json()) as { status: string; data: unknown; errorType?: string };
  }

  it.each([
    '/api/v1/metadata?metric=node_cpu_seconds_total',
    '/api/v1/metadata?metric=container_memory_working_set_bytes',
    '/api/v1/metadata?metric=node_network_receive_bytes_total',
    '/api/v1/targets/metadata?match_target=' + encodeURIComponent('{job="node"}') + '&metric=node_memory_MemTotal_bytes',
    '/api/v1/targets/metadata?match_target=' + encodeURIComponent('{job="cadvisor"}') + '&metric=machine_cpu_cores',
    '/api/v1/metadata?metric=no_such_metric',
    '/api/v1/targets/metadata?metric=no_such_metric',
  ])('are equal: %s', async (query) => {
    const [ours, theirs] = await Promise.all([get(vigilUrl, query), get(prom.url, query)]);
    expect(ours).toEqual(theirs);
  });

  it('lists every family of a target with its type, as Prometheus does', async () => {
    const query = '/api/v1/targets/metadata?match_target=' + encodeURIComponent('{job="cadvisor"}');
    const [ours, theirs] = await Promise.all([get(vigilUrl, query), get(prom.url, query)]);
    type Entry = { metric: string; type: string; help: string; unit: string };
    const key = (e: Entry) => `${e.metric} ${e.type} ${e.unit} ${e.help}`;
    const a = (ours.data as Entry[]).map(key).sort();
    const b = (theirs.data as Entry[]).map(key).sort();
    expect(b.length).toBeGreaterThan(20);
    expect(a).toEqual(b);
  });
});
