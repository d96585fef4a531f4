import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKubeletPodMetadata, isExcluded, parsePodList, PodListError, podMetadataOptionsFromConfig, type KubeletPodMetadataOptions, type PodMetadata } from './pod-metadata.js';

const FIXTURE = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', 'kubelet-pods.json'), 'utf8');
const API = { ns: 'shop', pod: 'api-7c9d5b8f6-kx2lq', uid: '5f2b7c1e-8a4d-4e3f-9b6a-2c1d0e9f8a7b' };

interface Seen {
  readonly url: string;
  readonly authorization: string | undefined;
}

/** A kubelet (or API server) answering with `respond`, recording every request. */
class FakeKubelet {
  readonly seen: Seen[] = [];
  respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(FIXTURE);
  };
  server!: Server;
  url = '';

  async start(server: Server, scheme: 'http' | 'https'): Promise<void> {
    this.server = server;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.seen.push({ url: req.url ?? '', authorization: req.headers.authorization });
      this.respond(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function metric(registry: Registry, result: string): Promise<number | undefined> {
  return registry
    .getSingleMetric('vigil_log_collector_pod_metadata_requests_total')!
    .get()
    .then((m) => m.values.find((v) => v.labels['result'] === result)?.value);
}

describe('kubelet pod metadata', () => {
  let kubelet: FakeKubelet;
  let now: number;
  let errors: Error[];
  let registry: Registry;
  const provider = (opts: Partial<KubeletPodMetadataOptions> = {}) =>
    createKubeletPodMetadata({ url: kubelet.url, now: () => now, onError: (e) => errors.push(e), registry, ...opts });

  beforeEach(async () => {
    kubelet = new FakeKubelet();
    await kubelet.start(createServer(), 'http');
    now = 1_000_000;
    errors = [];
    registry = new Registry();
  });
  afterEach(() => kubelet.stop());

  it('reads labels and annotations from the kubelet’s /pods and caches the list', async () => {
    const p = provider();
    const meta = await p.get(API.ns, API.pod, API.uid);
    expect(meta?.labels).toEqual({ 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/part-of': 'shop', 'pod-template-hash': '7c9d5b8f6' });
    expect(meta?.annotations['vigil.io/exclude-containers']).toBe('istio-proxy, istio-init');
    expect(kubelet.seen.map((s) => s.url)).toEqual(['/pods']);
    now += 29_999;
    await p.get(API.ns, API.pod, API.uid);
    expect(kubelet.seen).toHaveLength(1);
    expect(await metric(registry, 'success')).toBe(1);
    expect(await metric(registry, 'error')).toBe(0);
  });

  it('refreshes after the interval, answering from the old list meanwhile', async () => {
    const p = provider();
    await p.get(API.ns, API.pod, API.uid);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    kubelet.respond = (_req, res) => void held.then(() => res.writeHead(200).end(FIXTURE.replace('"pod-template-hash": "7c9d5b8f6"', '"pod-template-hash": "new"')));
    now += 30_000;
    // The refresh hangs; the known pod is answered from the previous list at once.
    expect((await p.get(API.ns, API.pod, API.uid))?.labels['pod-template-hash']).toBe('7c9d5b8f6');
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect((await p.get(API.ns, API.pod, API.uid))?.labels['pod-template-hash']).toBe('new');
    expect(kubelet.seen).toHaveLength(2);
  });

  it('finds a static pod by the config hash its log directory carries, and only in its namespace', async () => {
    const p = provider();
    expect((await p.get('kube-system', 'etcd-worker-2', '9a4c1b7e2d5f8a3c6e0b9d2f5a8c1e4b'))?.labels).toEqual({ component: 'etcd', tier: 'control-plane' });
    expect(await p.get('default', 'etcd-worker-2', '9a4c1b7e2d5f8a3c6e0b9d2f5a8c1e4b')).toBeUndefined();
  });

  it('refetches for a pod it does not know, at most once per missRefreshMs', async () => {
    const p = provider({ missRefreshMs: 5000 });
    expect(await p.get('shop', 'new-pod', 'uid-new')).toBeUndefined();
    expect(kubelet.seen).toHaveLength(1);
    now += 1000;
    expect(await p.get('shop', 'new-pod', 'uid-new')).toBeUndefined();
    expect(kubelet.seen).toHaveLength(1);
    const items = JSON.parse(FIXTURE) as { items: unknown[] };
    items.items.push({ metadata: { name: 'new-pod', namespace: 'shop', uid: 'uid-new', labels: { fresh: 'yes' } } });
    kubelet.respond = (_req, res) => void res.writeHead(200).end(JSON.stringify(items));
    now += 4000;
    expect((await p.get('shop', 'new-pod', 'uid-new'))?.labels).toEqual({ fresh: 'yes' });
    expect(kubelet.seen).toHaveLength(2);
  });

  it('keeps a pod that left the list for retainGoneMs: its files are still being drained', async () => {
    const p = provider({ retainGoneMs: 60_000, refreshIntervalMs: 10_000 });
    await p.get(API.ns, API.pod, API.uid);
    kubelet.respond = (_req, res) => void res.writeHead(200).end('{"kind":"PodList","items":[]}');
    now += 10_000;
    await p.get('x', 'y', 'z');
    expect(await p.get(API.ns, API.pod, API.uid)).toBeDefined();
    now += 61_000;
    await p.get('x', 'y', 'z');
    expect(await p.get(API.ns, API.pod, API.uid)).toBeUndefined();
  });

  it('never throws: errors answer undefined, are counted, and do not hammer the kubelet', async () => {
    kubelet.respond = (_req, res) => void res.writeHead(500).end('kubelet is unhappy');
    const p = provider({ missRefreshMs: 5000 });
    expect(await p.get(API.ns, API.pod, API.uid)).toBeUndefined();
    expect(await p.get(API.ns, API.pod, API.uid)).toBeUndefined();
    expect(kubelet.seen).toHaveLength(1);
    expect(errors.map((e) => e.message)).toEqual(['GET /pods: HTTP 500: kubelet is unhappy']);
    expect(await metric(registry, 'error')).toBe(1);
    kubelet.respond = (_req, res) => void res.writeHead(200).end('{"items": [');
    now += 5000;
    expect(await p.get(API.ns, API.pod, API.uid)).toBeUndefined();
    expect(errors[1]).toBeInstanceOf(PodListError);
    expect(await metric(registry, 'error')).toBe(2);
  });

  it('keeps answering from the last good list when the kubelet fails', async () => {
    const p = provider();
    await p.get(API.ns, API.pod, API.uid);
    kubelet.respond = (req) => req.socket.destroy();
    now += 30_000;
    expect(await p.get(API.ns, API.pod, API.uid)).toBeDefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toHaveLength(1);
    expect(await p.get(API.ns, API.pod, API.uid)).toBeDefined();
  });

  it('gives up on a kubelet that does not answer after timeoutMs', async () => {
    kubelet.respond = () => {};
    const p = provider({ timeoutMs: 200 });
    const t0 = performance.now();
    expect(await p.get(API.ns, API.pod, API.uid)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(errors).toHaveLength(1);
  });

  it('lists one node’s pods from the API server', async () => {
    const p = provider({ api: 'apiserver', nodeName: 'worker-2', url: `${kubelet.url}/` });
    expect(await p.get(API.ns, API.pod, API.uid)).toBeDefined();
    expect(kubelet.seen.map((s) => decodeURIComponent(s.url))).toEqual(['/api/v1/pods?fieldSelector=spec.nodeName=worker-2']);
    expect(() => createKubeletPodMetadata({ url: kubelet.url, api: 'apiserver' })).toThrow(/nodeName/);
  });
});

describe('kubelet pod metadata over HTTPS', () => {
  let dir: string;
  let kubelet: FakeKubelet;
  let certFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-pod-metadata-'));
    certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
    kubelet = new FakeKubelet();
    await kubelet.start(createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }), 'https');
  });
  afterAll(async () => {
    await kubelet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies the kubelet against ca_file and sends the service-account token, re-read as it rotates', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'token-1\n');
    let now = 0;
    const p = createKubeletPodMetadata({ url: kubelet.url, caFile: certFile, bearerTokenFile: tokenFile, now: () => now, refreshIntervalMs: 30_000 });
    expect(await p.get(API.ns, API.pod, API.uid)).toBeDefined();
    writeFileSync(tokenFile, 'token-2\n');
    now += 60_000;
    await p.get(API.ns, API.pod, API.uid);
    await new Promise((r) => setTimeout(r, 100));
    expect(kubelet.seen.map((s) => s.authorization)).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('refuses an unverified certificate unless insecureSkipVerify', async () => {
    const errors: Error[] = [];
    const strict = createKubeletPodMetadata({ url: kubelet.url, onError: (e) => errors.push(e) });
    expect(await strict.get(API.ns, API.pod, API.uid)).toBeUndefined();
    expect(errors[0]?.message).toMatch(/self.signed|certificate/i);
    const lax = createKubeletPodMetadata({ url: kubelet.url, insecureSkipVerify: true });
    expect(await lax.get(API.ns, API.pod, API.uid)).toBeDefined();
  });
});

describe('isExcluded', () => {
  const meta = (labels: Record<string, string>, annotations: Record<string, string>): PodMetadata => ({ labels, annotations });
  it.each<[string, PodMetadata | undefined, string, boolean]>([
    ['no metadata', undefined, 'app', false],
    ['the exclude annotation', meta({}, { 'vigil.io/exclude': 'true' }), 'app', true],
    ['the exclude label', meta({ 'vigil.io/exclude': 'true' }, {}), 'app', true],
    ['exclude set to something other than "true"', meta({}, { 'vigil.io/exclude': 'false' }), 'app', false],
    ['a listed container', meta({}, { 'vigil.io/exclude-containers': 'istio-proxy, istio-init' }), 'istio-init', true],
    ['an unlisted container', meta({}, { 'vigil.io/exclude-containers': 'istio-proxy,istio-init' }), 'api', false],
    ['a container whose name is a prefix of a listed one', meta({}, { 'vigil.io/exclude-containers': 'istio-proxy' }), 'istio', false],
  ])('%s', (_what, m, container, excluded) => {
    expect(isExcluded(m, container)).toBe(excluded);
  });

  it('reads the fixture’s opt-outs', () => {
    const pods = new Map(parsePodList(FIXTURE).map((p) => [p.name, { labels: p.labels, annotations: p.annotations }]));
    expect(isExcluded(pods.get('load-generator-6b8c7d9f5-zt4vw'), 'locust')).toBe(true);
    expect(isExcluded(pods.get('debug-shell'), 'shell')).toBe(true);
    expect(isExcluded(pods.get('api-7c9d5b8f6-kx2lq'), 'istio-proxy')).toBe(true);
    expect(isExcluded(pods.get('api-7c9d5b8f6-kx2lq'), 'api')).toBe(false);
  });
});

describe('podMetadataOptionsFromConfig', () => {
  it('maps the pod_metadata section, and nothing without a kubelet URL', () => {
    const section = { bearer_token_file: '/var/run/secrets/kubernetes.io/serviceaccount/token', insecure_skip_verify: false, refresh_interval: '30s' };
    expect(podMetadataOptionsFromConfig(section)).toBeUndefined();
    expect(podMetadataOptionsFromConfig({ ...section, kubelet_url: 'https://10.0.1.12:10250', ca_file: '/etc/kubelet-ca.crt', refresh_interval: '1m' })).toEqual({
      url: 'https://10.0.1.12:10250',
      bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      caFile: '/etc/kubelet-ca.crt',
      insecureSkipVerify: false,
      refreshIntervalMs: 60_000,
    });
  });
});

describe('parsePodList', () => {
  it('reads every pod of the fixture', () => {
    expect(parsePodList(FIXTURE).map((p) => `${p.namespace}/${p.name}`)).toEqual(['shop/api-7c9d5b8f6-kx2lq', 'kube-system/etcd-worker-2', 'shop/load-generator-6b8c7d9f5-zt4vw', 'default/debug-shell']);
    expect(parsePodList('{"kind":"PodList","items":null}')).toEqual([]);
  });

  it('skips items it could never match and names the place of a malformed one', () => {
    expect(parsePodList('{"items":[{"metadata":{"name":"a","namespace":"b"}}]}')).toEqual([]);
    expect(() => parsePodList('{"items":[{"metadata":{"name":"a","namespace":"b","uid":"u","labels":{"x":1}}}]}')).toThrow('pod list: items[0].metadata.labels["x"]: expected a string');
    expect(() => parsePodList('{"items":[{}, {"metadata":[]}]}')).toThrow('pod list: items[0].metadata: expected an object');
    expect(() => parsePodList('{"items":{}}')).toThrow('pod list: items: expected an array');
    expect(() => parsePodList('[]')).toThrow('pod list: expected an object');
    expect(() => parsePodList('not json')).toThrow(/pod list: invalid JSON/);
  });

  it('answers pods or a PodListError for any input, never another failure', () => {
    const item = fc.record({ metadata: fc.oneof(fc.anything(), fc.record({ name: fc.anything(), namespace: fc.anything(), uid: fc.anything(), labels: fc.anything(), annotations: fc.anything() })) });
    const body = fc.oneof(fc.string(), fc.json(), fc.record({ items: fc.oneof(fc.anything(), fc.array(fc.oneof(fc.anything(), item))) }).map((o) => JSON.stringify(o)));
    fc.assert(
      fc.property(body, (text) => {
        try {
          expect(Array.isArray(parsePodList(text))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(PodListError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
