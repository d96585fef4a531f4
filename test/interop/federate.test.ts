/**
 * Pulling from an existing Prometheus: Debian's Prometheus scrapes the real node exporter, and Vigil
 * scrapes that Prometheus's `/federate?match[]=…` as an ordinary job with `honor_labels: true`, as
 * the documented example does. Vigil must then hold the same series with the same values and
 * timestamps as the Prometheus it federates from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VigilProcess, freePort, waitForHttp } from '../support/vigil-process.js';
import { startNodeExporter, startPrometheus, type Peer } from '../support/peers.js';

let dir: string;
let vigil: VigilProcess;
let vigilUrl: string;
let prom: Peer;
let node: Peer;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function instant(base: string, expr: string, time: number): Promise<Map<string, string>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`${base}: ${expr}: ${body.error}`);
  return new Map(body.data.result.map((r) => [JSON.stringify(Object.entries(r.metric).sort()), r.value[1]]));
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-federate-'));
  node = await startNodeExporter();
  prom = await startPrometheus({
    config: ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: node', '    static_configs:', `      - targets: ['127.0.0.1:${node.port}']`, ''].join('\n'),
  });
  const port = await freePort();
  vigilUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    path.join(dir, 'vigil.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: federate',
      '    metrics_path: /federate',
      '    honor_labels: true',
      '    params:',
      "      'match[]': ['{job=\"node\"}']",
      '    static_configs:',
      `      - targets: ['127.0.0.1:${prom.port}']`,
      '',
    ].join('\n'),
  );
  vigil = new VigilProcess(['all', '--config', path.join(dir, 'vigil.yml'), '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`]);
  await waitForHttp(`${vigilUrl}/-/ready`);
}, 60_000);

afterAll(async () => {
  await vigil?.signalAndWait('SIGTERM');
  await Promise.all([prom?.stop(), node?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a /federate scrape job', () => {
  it('holds the federated series with the labels, values and timestamps of the source Prometheus', async () => {
    const expr = '{job="node",__name__=~"node_memory_MemTotal_bytes|node_cpu_seconds_total|node_exporter_build_info|up"}';
    // Wait until Vigil has federated a few seconds of samples.
    const deadline = Date.now() + 20_000;
    let ours = new Map<string, string>();
    while (Date.now() < deadline) {
      ours = await instant(vigilUrl, 'count_over_time(node_memory_MemTotal_bytes{job="node"}[1m])', Date.now() / 1000);
      if (ours.size > 0 && [...ours.values()].every((v) => Number(v) >= 6)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ours.size).toBeGreaterThan(0);

    // Both evaluated at a moment a few seconds back, which both have covered: federation carries
    // Prometheus's own sample timestamps, so the values at that instant must be the same.
    const at = Date.now() / 1000 - 2;
    const [mine, theirs] = await Promise.all([instant(vigilUrl, expr, at), instant(prom.url, expr, at)]);
    expect(theirs.size, JSON.stringify([...mine.keys()].slice(0, 3))).toBeGreaterThan(3);
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    const differing = [...theirs].filter(([k, v]) => mine.get(k) !== v).map(([k, v]) => `${k}: ${mine.get(k)} vs ${v}`);
    expect(differing).toEqual([]);
    // `honor_labels` kept the source's job and instance rather than the federation target's.
    for (const key of mine.keys()) expect(key).toContain(`"instance","127.0.0.1:${node.port}"`);
  }, 40_000);
});
