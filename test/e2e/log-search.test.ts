/**
 * The developer's story, end to end through the real `vigil all` process and its log pipeline: a
 * pod misbehaved and was replaced; its logs are still searchable after its files are gone, with
 * the lines around each error, label discovery that lists it, an export, and a live tail of the
 * replica that runs now — through the Vigil API and the Loki API.
 */
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTimeNs } from '../../model/logs.js';
import { freePort, VigilProcess, waitForHttp } from '../support/vigil-process.js';

const NODE = 'node-search';
const OLD = { pod: 'api-7d9f8-old01', uid: 'aaaaaaaa-0000-4000-8000-000000000001' };
const NEW = { pod: 'api-7d9f8-new02', uid: 'aaaaaaaa-0000-4000-8000-000000000002' };
const OTHER = { pod: 'billing-5c6-zz9', uid: 'bbbbbbbb-0000-4000-8000-000000000003' };

interface ApiRecord {
  id: string;
  timeNs: string;
  namespace: string;
  pod: string;
  podUid: string;
  line: string;
  level: string;
}

describe('log search on logs produced by the pipeline', () => {
  let dir: string;
  let root: string;
  let base: string;
  let vigil: VigilProcess;
  let clock = BigInt(Date.now() - 10 * 60_000) * 1_000_000n;

  async function write(ns: string, p: { pod: string; uid: string }, lines: string[], stream = 'stdout'): Promise<void> {
    const file = path.join(root, `${ns}_${p.pod}_${p.uid}`, 'app', '0.log');
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, lines.map((l) => `${formatTimeNs((clock += 1_000_000n))} ${stream} F ${l}\n`).join(''));
  }

  async function get<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${base}${pathAndQuery}`);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${pathAndQuery}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  const q = (s: string) => encodeURIComponent(s);
  const range = () => `start=${q(String(BigInt(Date.now() - 3_600_000) * 1_000_000n))}&end=${q(String(BigInt(Date.now() + 60_000) * 1_000_000n))}`;

  async function search(query: string, extra = ''): Promise<ApiRecord[]> {
    return (await get<{ records: ApiRecord[] }>(`/api/vigil/v1/logs/search?query=${q(query)}&${range()}&limit=1000${extra}`)).records;
  }

  async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (ok(v)) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-log-search-'));
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

    // The old replica misbehaves at "03:12", then is replaced and deleted (kubelet removes its files).
    await write('payments', OLD, ['INFO starting', 'INFO serving', 'INFO request 1 ok', 'INFO request 2 ok']);
    await write('payments', OLD, ['ERROR upstream timeout after 3000ms order=981'], 'stderr');
    await write('payments', OLD, ['INFO request 3 ok', 'INFO request 4 ok', 'INFO shutting down']);
    await write('billing', OTHER, ['ERROR upstream timeout in billing (another team)']);
    await until('the old replica indexed', () => search('{namespace="payments"}'), (r) => r.length === 8);
    await rm(path.join(root, `payments_${OLD.pod}_${OLD.uid}`), { recursive: true });
    await write('payments', NEW, ['INFO starting', 'INFO serving']);
    await until('the new replica indexed', () => search('{namespace="payments"}'), (r) => r.length === 10);
  }, 120_000);

  afterAll(async () => {
    if (vigil) await vigil.signalAndWait('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the error lines of a pod that no longer exists, and the lines around the hit', async () => {
    const hits = await search('{namespace="payments", pod=~"api-.*"} |= "timeout"');
    expect(hits.map((h) => [h.pod, h.podUid, h.level, h.line])).toEqual([[OLD.pod, OLD.uid, 'error', 'ERROR upstream timeout after 3000ms order=981']]);

    const ctx = await get<{ anchor: ApiRecord; before: ApiRecord[]; after: ApiRecord[] }>(`/api/vigil/v1/logs/context?id=${q(hits[0]!.id)}&before=2&after=2`);
    expect(ctx.anchor.id).toBe(hits[0]!.id);
    expect(ctx.before.map((r) => r.line)).toEqual(['INFO request 1 ok', 'INFO request 2 ok']);
    expect(ctx.after.map((r) => r.line)).toEqual(['INFO request 3 ok', 'INFO request 4 ok']);
  });

  it('lists the deleted pod beside its replacement in label discovery, with first and last seen', async () => {
    const labels = await get<{ namespaces: Array<{ namespace: string; pods: Array<{ pod: string; podUid: string; node: string; firstSeen: string; lastSeen: string }> }> }>(
      '/api/vigil/v1/logs/labels',
    );
    const payments = labels.namespaces.find((n) => n.namespace === 'payments')!;
    expect(payments.pods.map((p) => p.pod).sort()).toEqual([NEW.pod, OLD.pod]);
    const old = payments.pods.find((p) => p.pod === OLD.pod)!;
    expect(old.node).toBe(NODE);
    expect(Date.parse(old.lastSeen)).toBeGreaterThanOrEqual(Date.parse(old.firstSeen));
    expect(labels.namespaces.map((n) => n.namespace).sort()).toEqual(['billing', 'payments']);
  });

  it('exports the whole result as NDJSON, oldest first', async () => {
    const res = await fetch(`${base}/api/vigil/v1/logs/export?query=${q('{namespace="payments"}')}&${range()}&format=ndjson`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('attachment');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as ApiRecord);
    expect(lines).toHaveLength(10);
    expect(lines.map((r) => r.line).slice(0, 2)).toEqual(['INFO starting', 'INFO serving']);
    expect(lines.filter((r) => r.pod === OLD.pod)).toHaveLength(8);
    expect(lines.every((r, i) => i === 0 || BigInt(r.timeNs) >= BigInt(lines[i - 1]!.timeNs))).toBe(true);
  });

  it('live-tails the running replica with the query’s filters', async () => {
    const abort = new AbortController();
    const res = await fetch(`${base}/api/vigil/v1/logs/tail?query=${q('{namespace="payments"} |= "tail-me"')}`, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    // A live pod writes lines stamped now.
    clock = BigInt(Date.now()) * 1_000_000n;
    await write('payments', NEW, ['INFO not this one', 'INFO tail-me please']);
    let text = '';
    const timer = setTimeout(() => abort.abort(), 20_000);
    try {
      while (!text.includes('tail-me please')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
    const events = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as ApiRecord);
    expect(events.map((e) => [e.pod, e.line])).toEqual([[NEW.pod, 'INFO tail-me please']]);
  });

  it('answers Grafana’s Loki data source: query_range streams and the logs-volume metric query', async () => {
    const streams = await get<{ status: string; data: { resultType: string; result: Array<{ stream: Record<string, string>; values: [string, string][] }> } }>(
      `/loki/api/v1/query_range?query=${q('{namespace="payments"} |= "timeout"')}&${range()}&limit=1000&direction=backward`,
    );
    expect(streams.status).toBe('success');
    expect(streams.data.resultType).toBe('streams');
    expect(streams.data.result.map((s) => [s.stream.pod, s.values.map((v) => v[1])])).toEqual([[OLD.pod, ['ERROR upstream timeout after 3000ms order=981']]]);

    const volume = await get<{ data: { resultType: string; result: Array<{ metric: Record<string, string>; values: [number, string][] }> } }>(
      `/loki/api/v1/query_range?query=${q('sum by (level) (count_over_time({namespace="payments"}[1h]))')}&${range()}&step=3600`,
    );
    expect(volume.data.resultType).toBe('matrix');
    const byLevel = Object.fromEntries(volume.data.result.map((s) => [s.metric.level, Math.max(...s.values.map((v) => Number(v[1])))]));
    expect(byLevel.error).toBe(1);
    expect(byLevel.info).toBeGreaterThanOrEqual(9);
  });
});
