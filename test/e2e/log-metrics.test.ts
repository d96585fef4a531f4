/**
 * Alerting on logs: an error burst written by a pod shows in
 * `sum by (pod) (rate(vigil_log_lines_total{level="error"}[1m]))` through the Prometheus API within
 * a minute, and the collector's last-read timestamp keeps moving.
 */
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTimeNs } from '../../model/logs.js';
import { freePort, VigilProcess, waitForHttp } from '../support/vigil-process.js';

const NODE = 'node-e2e';

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

describe('log-derived metrics through the Prometheus API', () => {
  let dir: string;
  let vigil: VigilProcess;
  let base: string;
  let root: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-log-metrics-'));
    root = path.join(dir, 'pods');
    await mkdir(root, { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    vigil = new VigilProcess(['all'], {
      VIGIL_LISTEN: `127.0.0.1:${port}`,
      VIGIL_DATA_DIR: path.join(dir, 'data'),
      VIGIL_PODS_LOG_ROOT: root,
      VIGIL_NODE_NAME: NODE,
    });
    await waitForHttp(`${base}/-/ready`, 200, 60_000);
  }, 90_000);

  afterAll(async () => {
    if (vigil) await vigil.signalAndWait('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<VectorSample[]> {
    const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; data: { resultType: string; result: VectorSample[] } };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('vector');
    return body.data.result;
  }

  async function writeLines(pod: string, uid: string, lines: Array<[string, string]>): Promise<void> {
    const file = path.join(root, `shop_${pod}_${uid}`, 'app', '0.log');
    await mkdir(path.dirname(file), { recursive: true });
    let now = BigInt(Date.now()) * 1_000_000n;
    const text = lines.map(([stream, msg]) => `${formatTimeNs((now += 1000n))} ${stream} F ${msg}\n`).join('');
    await appendFile(file, text);
  }

  it(
    'an error burst shows in sum by (pod) (rate(vigil_log_lines_total{level="error"}[1m])) within a minute',
    async () => {
      const calm = 'cart-5c8d7-x2x9q';
      const noisy = 'checkout-7d9f8-bq2lz';
      await writeLines(calm, '11111111-2222-3333-4444-555555555555', Array.from({ length: 50 }, (_, i) => ['stdout', `INFO served request ${i}`]));
      await writeLines(noisy, '66666666-7777-8888-9999-000000000000', Array.from({ length: 20 }, (_, i) => ['stdout', `INFO warming up ${i}`]));

      const burstAt = Date.now();
      await writeLines(
        noisy,
        '66666666-7777-8888-9999-000000000000',
        Array.from({ length: 600 }, (_, i) => ['stderr', `ERROR payment gateway timeout order=${i}`]),
      );

      const expr = 'sum by (pod) (rate(vigil_log_lines_total{level="error"}[1m]))';
      let result: VectorSample[] = [];
      while (Date.now() - burstAt < 60_000) {
        result = await query(expr);
        if (result.some((s) => s.metric.pod === noisy && Number(s.value[1]) > 0)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      const seenAfterMs = Date.now() - burstAt;
      expect(result.map((s) => s.metric.pod)).toEqual([noisy]);
      expect(Number(result[0]!.value[1])).toBeGreaterThan(0);
      expect(seenAfterMs).toBeLessThan(60_000);

      // The counter counts every line once.
      const total = await query(`sum by (pod, level) (vigil_log_lines_total{namespace="shop"})`);
      const byKey = Object.fromEntries(total.map((s) => [`${s.metric.pod}/${s.metric.level}`, Number(s.value[1])]));
      expect(byKey).toEqual({ [`${calm}/info`]: 50, [`${noisy}/info`]: 20, [`${noisy}/error`]: 600 });

      // The collection heartbeat: recent, per node.
      const lastRead = await query(`time() - vigil_log_collector_last_read_timestamp_seconds{node="${NODE}"}`);
      expect(lastRead).toHaveLength(1);
      expect(Number(lastRead[0]!.value[1])).toBeLessThan(30);
    },
    120_000,
  );
});
