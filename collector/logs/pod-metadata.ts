/**
 * Pod labels and annotations for log records, and the opt-out annotations.
 *
 * The list comes from the kubelet's `/pods` (a PodList of this node's pods: no load on the API
 * server, as Fluent Bit's `Use_Kubelet`) or from the API server's
 * `/api/v1/pods?fieldSelector=spec.nodeName=<node>`. It is fetched at most once per
 * `refreshIntervalMs`, or sooner (at most once per `missRefreshMs`) when a pod is asked for that
 * the list does not have yet: a pod's logs can appear before the next refresh.
 *
 * Metadata is an extra, never a gate: a failed or slow fetch makes `get` answer from the last
 * good list, or undefined, and counts the error; it never throws. Pods that left the list keep
 * their entry for `retainGoneMs`, because their files are still being drained after deletion.
 *
 * Static pods: their log directory carries the `kubernetes.io/config.hash` annotation instead of
 * the mirror pod's UID, so entries are found by either.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LogCollectionConfig } from '../../config/log-collection.js';
import { parseDuration } from '../../model/duration.js';

export interface PodMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodMetadataProvider {
  get(namespace: string, pod: string, podUid: string): Promise<PodMetadata | undefined>;
}

export const EXCLUDE_ANNOTATION = 'vigil.io/exclude';
export const EXCLUDE_CONTAINERS_ANNOTATION = 'vigil.io/exclude-containers';
const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';

/** `vigil.io/exclude: "true"` on the pod (or `vigil.io/exclude-containers: "a,b"`) excludes it. */
export function isExcluded(meta: PodMetadata | undefined, container: string): boolean {
  if (meta === undefined) return false;
  // Labels too, as Vector's `vector.dev/exclude`: a label can be set from a pod template selector.
  if (meta.annotations[EXCLUDE_ANNOTATION] === 'true' || meta.labels[EXCLUDE_ANNOTATION] === 'true') return true;
  const list = meta.annotations[EXCLUDE_CONTAINERS_ANNOTATION];
  if (list === undefined) return false;
  return list.split(',').some((name) => name.trim() === container);
}

export interface KubeletPodMetadataOptions {
  /** Kubelet base URL (`https://<node-ip>:10250`), or with `api: 'apiserver'` the API server's. */
  readonly url: string;
  /** Which API `url` is. Default `kubelet`. */
  readonly api?: 'kubelet' | 'apiserver';
  /** Required for the API server: only this node's pods are listed. */
  readonly nodeName?: string;
  /** Sent as `Authorization: Bearer`; re-read every minute, as projected tokens rotate. */
  readonly bearerTokenFile?: string;
  readonly caFile?: string;
  readonly insecureSkipVerify?: boolean;
  /** How long a fetched list is trusted. Default 30 s. */
  readonly refreshIntervalMs?: number;
  /** An unknown pod triggers a refetch at most this often. Default 5 s. */
  readonly missRefreshMs?: number;
  /** How long a pod that left the list keeps its entry. Default 5 min. */
  readonly retainGoneMs?: number;
  /** Per request. Default 10 s. */
  readonly timeoutMs?: number;
  /** Largest accepted response. Default 64 MiB. */
  readonly maxResponseBytes?: number;
  readonly registry?: Registry;
  readonly now?: () => number;
  readonly onError?: (err: Error) => void;
}

/** Provider options from the `log_collection.pod_metadata` config section; undefined when no kubelet is configured. */
export function podMetadataOptionsFromConfig(cfg: LogCollectionConfig['pod_metadata']): KubeletPodMetadataOptions | undefined {
  if (cfg.kubelet_url === undefined) return undefined;
  return {
    url: cfg.kubelet_url,
    bearerTokenFile: cfg.bearer_token_file,
    caFile: cfg.ca_file,
    insecureSkipVerify: cfg.insecure_skip_verify,
    refreshIntervalMs: parseDuration(cfg.refresh_interval),
  };
}

/** A problem with the pod list, naming where: `items[3].metadata.uid: expected a string`. */
export class PodListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodListError';
  }
}

interface Entry {
  readonly namespace: string;
  readonly pod: string;
  readonly meta: PodMetadata;
  lastSeenMs: number;
  readonly keys: readonly string[];
}

const TOKEN_REFRESH_MS = 60_000;

/** Reads the kubelet's /pods (or the API server's pods list for one node) and caches it with a TTL. */
export function createKubeletPodMetadata(opts: KubeletPodMetadataOptions): PodMetadataProvider {
  return new KubeletPodMetadata(opts);
}

class KubeletPodMetadata implements PodMetadataProvider {
  readonly #opts: KubeletPodMetadataOptions;
  readonly #url: URL;
  readonly #now: () => number;
  readonly #refreshMs: number;
  readonly #missRefreshMs: number;
  readonly #retainGoneMs: number;
  /** By pod UID and by static-pod config hash. */
  readonly #entries = new Map<string, Entry>();
  #fetchedMs = -Infinity;
  #attemptMs = -Infinity;
  #inflight: Promise<void> | undefined;
  #agent: http.Agent | undefined;
  #token: { value: string; readMs: number } | undefined;
  readonly #requests: Counter<'result'> | undefined;
  readonly #pods: Gauge | undefined;

  constructor(opts: KubeletPodMetadataOptions) {
    this.#opts = opts;
    const api = opts.api ?? 'kubelet';
    const url = new URL(opts.url);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${api === 'kubelet' ? '/pods' : '/api/v1/pods'}`;
    if (api === 'apiserver') {
      if (opts.nodeName === undefined || opts.nodeName === '') throw new Error('pod metadata from the API server needs nodeName');
      url.searchParams.set('fieldSelector', `spec.nodeName=${opts.nodeName}`);
    }
    this.#url = url;
    this.#now = opts.now ?? Date.now;
    this.#refreshMs = opts.refreshIntervalMs ?? 30_000;
    this.#missRefreshMs = opts.missRefreshMs ?? 5_000;
    this.#retainGoneMs = opts.retainGoneMs ?? 5 * 60_000;
    if (opts.registry !== undefined) {
      this.#requests = new Counter({
        name: 'vigil_log_collector_pod_metadata_requests_total',
        help: 'Pod list requests for log metadata, by result (success, error).',
        labelNames: ['result'],
        registers: [opts.registry],
      });
      this.#requests.inc({ result: 'success' }, 0);
      this.#requests.inc({ result: 'error' }, 0);
      this.#pods = new Gauge({
        name: 'vigil_log_collector_pod_metadata_pods',
        help: 'Pods whose labels and annotations the log collector holds.',
        registers: [opts.registry],
      });
    }
  }

  async get(namespace: string, pod: string, podUid: string): Promise<PodMetadata | undefined> {
    const now = this.#now();
    if (now - this.#fetchedMs >= this.#refreshMs) {
      const refreshed = this.#refresh(now);
      // With a list in hand, answer from it while the refresh runs: a slow kubelet must not
      // hold up the files of pods it already described.
      if (this.#fetchedMs === -Infinity) await refreshed;
    }
    let entry = this.#lookup(namespace, pod, podUid);
    if (entry === undefined) {
      // A pod newer than the list: the fetch under way, or a new one, may have it.
      await (this.#inflight ?? (now - this.#attemptMs >= this.#missRefreshMs ? this.#refresh(now) : undefined));
      entry = this.#lookup(namespace, pod, podUid);
    }
    return entry?.meta;
  }

  #lookup(namespace: string, pod: string, podUid: string): Entry | undefined {
    const entry = this.#entries.get(podUid);
    // The UID must name the same pod: a reused static-pod hash in another namespace must not match.
    return entry !== undefined && entry.namespace === namespace && entry.pod === pod ? entry : undefined;
  }

  /** One fetch at a time; callers arriving meanwhile wait for it. Never rejects. */
  #refresh(now: number): Promise<void> {
    if (this.#inflight !== undefined) return this.#inflight;
    // Failures also wait out the interval: a kubelet that is down is not asked on every file.
    if (now - this.#attemptMs < Math.min(this.#missRefreshMs, this.#refreshMs)) return Promise.resolve();
    this.#attemptMs = now;
    this.#inflight = this.#fetch()
      .then((body) => {
        this.#apply(parsePodList(body), this.#now());
        this.#fetchedMs = this.#now();
        this.#requests?.inc({ result: 'success' });
      })
      .catch((err: unknown) => {
        this.#requests?.inc({ result: 'error' });
        this.#opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  #apply(pods: readonly ListedPod[], now: number): void {
    for (const p of pods) {
      const keys = [p.uid];
      const hash = p.annotations[CONFIG_HASH_ANNOTATION];
      if (hash !== undefined && hash !== p.uid) keys.push(hash);
      const entry: Entry = { namespace: p.namespace, pod: p.name, meta: { labels: p.labels, annotations: p.annotations }, lastSeenMs: now, keys };
      for (const k of keys) this.#entries.set(k, entry);
    }
    for (const [key, entry] of this.#entries) {
      if (now - entry.lastSeenMs > this.#retainGoneMs) this.#entries.delete(key);
    }
    this.#pods?.set(new Set(this.#entries.values()).size);
  }

  async #fetch(): Promise<string> {
    const url = this.#url;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'vigil' };
    const token = await this.#bearerToken();
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    const agent = await this.#httpAgent();
    const timeoutMs = this.#opts.timeoutMs ?? 10_000;
    const limit = this.#opts.maxResponseBytes ?? 64 * 1024 * 1024;
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<string>((resolve, reject) => {
      const req = mod.request(url, { method: 'GET', agent, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) {
            req.destroy(new PodListError(`GET ${url.pathname}: response larger than ${limit} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (status < 200 || status > 299) reject(new PodListError(`GET ${url.pathname}: HTTP ${status}: ${body.slice(0, 200)}`));
          else resolve(body);
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  async #bearerToken(): Promise<string | undefined> {
    const file = this.#opts.bearerTokenFile;
    if (file === undefined) return undefined;
    const now = this.#now();
    if (this.#token === undefined || now - this.#token.readMs >= TOKEN_REFRESH_MS) {
      this.#token = { value: (await readFile(file, 'utf8')).trim(), readMs: now };
    }
    return this.#token.value;
  }

  async #httpAgent(): Promise<http.Agent> {
    if (this.#agent !== undefined) return this.#agent;
    if (this.#url.protocol === 'https:') {
      const ca = this.#opts.caFile !== undefined ? await readFile(this.#opts.caFile) : undefined;
      this.#agent = new https.Agent({ keepAlive: true, ca, rejectUnauthorized: this.#opts.insecureSkipVerify !== true });
    } else {
      this.#agent = new http.Agent({ keepAlive: true });
    }
    return this.#agent;
  }
}

interface ListedPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/**
 * The pods of a PodList JSON body. Items without a name, namespace or UID are skipped (nothing
 * could find them); a body that is not a PodList, or a label that is not a string, is an error.
 */
export function parsePodList(body: string): ListedPod[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new PodListError(`pod list: invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new PodListError('pod list: expected an object');
  const items = doc['items'];
  if (items === null || items === undefined) return [];
  if (!Array.isArray(items)) throw new PodListError('pod list: items: expected an array');
  const pods: ListedPod[] = [];
  items.forEach((item: unknown, i) => {
    const at = `items[${i}]`;
    if (!isObject(item)) throw new PodListError(`pod list: ${at}: expected an object`);
    const metadata = item['metadata'];
    if (!isObject(metadata)) throw new PodListError(`pod list: ${at}.metadata: expected an object`);
    const { namespace, name, uid } = metadata;
    if (typeof namespace !== 'string' || typeof name !== 'string' || typeof uid !== 'string' || uid === '') return;
    pods.push({
      namespace,
      name,
      uid,
      labels: stringMap(metadata['labels'], `${at}.metadata.labels`),
      annotations: stringMap(metadata['annotations'], `${at}.metadata.annotations`),
    });
  });
  return pods;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, at: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new PodListError(`pod list: ${at}: expected an object`);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new PodListError(`pod list: ${at}[${JSON.stringify(k)}]: expected a string`);
    out[k] = value;
  }
  return out;
}
