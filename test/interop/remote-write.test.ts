/**
 * Debian's real Prometheus sending remote_write into Vigil: what Prometheus scrapes arrives in
 * Vigil under the same series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VigilProcess, freePort, waitForHttp } from '../support/vigil-process.js';
import { startPrometheus, type Peer } from '../support/peers.js';

let vigil: VigilProcess;
let vigilUrl: string;
let prom: Peer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-rw-'));
  const port = await freePort();
  vigilUrl = `http://127.0.0.1:${port}`;
  vigil = new VigilProcess(['all', '--data-dir', dir, '--listen', `127.0.0.1:${port}`]);
  await waitForHttp(`${vigilUrl}/-/ready`);
  prom = await startPrometheus({
    config: [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: prometheus',
      '    static_configs:',
      "      - targets: ['127.0.0.1:{{PORT}}']",
      'remote_write:',
      `  - url: ${vigilUrl}/api/v1/write`,
      '    queue_config:',
      '      batch_send_deadline: 1s',
      '      min_backoff: 100ms',
      '',
    ].join('\n'),
  });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await vigil?.signalAndWait('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

async function seriesKeys(base: string, match: string): Promise<Set<string>> {
  const res = await fetch(`${base}/api/v1/series?match[]=${encodeURIComponent(match)}`);
  const body = (await res.json()) as { data: Record<string, string>[] };
  return new Set(body.data.map((s) => JSON.stringify(s)));
}

describe('Prometheus → Vigil remote_write', () => {
  it('delivers every series Prometheus scraped, and Vigil reports no rejected samples', async () => {
    // Let Prometheus scrape a few times and ship them.
    const deadline = Date.now() + 40_000;
    let inProm = new Set<string>();
    let inVigil = new Set<string>();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1000));
      inProm = await seriesKeys(prom.url, '{job="prometheus",__name__=~"prometheus_build_info|up|scrape_.*|prometheus_tsdb_head_series"}');
      inVigil = await seriesKeys(vigilUrl, '{job="prometheus",__name__=~"prometheus_build_info|up|scrape_.*|prometheus_tsdb_head_series"}');
      if (inProm.size >= 6 && [...inProm].every((k) => inVigil.has(k))) break;
    }
    expect(inProm.size).toBeGreaterThanOrEqual(6);
    expect([...inProm].filter((k) => !inVigil.has(k))).toEqual([]);
    const all = await seriesKeys(vigilUrl, '{job="prometheus"}');
    expect(all.size).toBeGreaterThan(100);
    // Samples are counted once acknowledged, after the WAL flush that follows the append, so
    // the counter can trail the series being queryable by a flush (longer on a loaded disk).
    const accepted = /vigil_ingest_samples_total\{handler="remote_write",outcome="accepted"\} [1-9]/;
    let metrics = '';
    for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      metrics = await (await fetch(`${vigilUrl}/metrics`)).text();
      if (accepted.test(metrics)) break;
    }
    expect(vigil.output()).not.toMatch(/"level":"(error|fatal)"/);
    expect(metrics).toMatch(accepted);
    expect(metrics).not.toMatch(/vigil_ingest_samples_total\{handler="remote_write",outcome="(?!accepted)[a-z_]+"\} [1-9]/);
    // Prometheus's own view: nothing failed or was dropped on its side.
    const failed = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('sum(prometheus_remote_storage_samples_failed_total) + sum(prometheus_remote_storage_samples_dropped_total)')}`);
    const value = ((await failed.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1];
    expect(value).toBe('0');
  }, 60_000);
});
