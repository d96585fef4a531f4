/**
 * The dataset of `bench:logsearch`: a day of container logs from ~200 pods of 40 deployments in 8
 * namespaces, written as CRI files in the kubelet's `/var/log/pods` layout and, line by line, fed
 * through the collector's own record assembler, so the store receives exactly the records the
 * collector would build from those files (joined stack traces, detected levels, JSON fields,
 * fingerprint file keys, offset-derived ids).
 *
 * Each deployment writes in one style, as real services do: JSON (Node/Go services), logfmt,
 * Spring Boot/logback lines with Java stack traces, nginx access lines, or klog. Pods write at
 * different rates (busy and quiet deployments). A stack trace's lines carry its first line's
 * timestamp, as when a logger writes the whole event at once.
 *
 * A rare error code is planted in a known number of records of two namespaces, so the rare-term
 * query has a defined answer. Lines are never longer than the runtime's 16 KiB split, so no `P`
 * fragments occur and a grep line is a runtime line; nor are files rotated (grep would need zgrep
 * for rotated `.gz` files): both simplifications favour grep.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { formatTimeNs, type LogRecord, type LogSource } from '../model/logs.js';
import { fileKeyOf } from '../collector/logs/fingerprint.js';
import { createRecordAssembler, type RecordAssembler } from '../collector/logs/record-assembler.js';

export type LineStyle = 'json' | 'logfmt' | 'spring' | 'nginx' | 'klog';

/** Namespaces, each with its deployments: name, log style, replicas (8 × 25 = 200 pods). */
export const CLUSTER: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, LineStyle, number]>]> = [
  ['shop', [['checkout', 'logfmt', 8], ['cart', 'json', 6], ['frontend', 'nginx', 5], ['catalog', 'spring', 3], ['recommendations', 'json', 3]]],
  ['payments', [['payment-api', 'spring', 8], ['ledger', 'spring', 6], ['fraud-scoring', 'json', 5], ['psp-gateway', 'logfmt', 3], ['refunds', 'json', 3]]],
  ['identity', [['auth', 'json', 8], ['sessions', 'logfmt', 6], ['user-profile', 'spring', 5], ['oauth-proxy', 'nginx', 3], ['mfa', 'json', 3]]],
  ['logistics', [['shipping', 'spring', 8], ['tracking', 'json', 6], ['warehouse', 'spring', 5], ['carrier-sync', 'logfmt', 3], ['labels', 'json', 3]]],
  ['search', [['query-api', 'json', 8], ['indexer', 'spring', 6], ['suggest', 'json', 5], ['crawler', 'logfmt', 3], ['ranker', 'json', 3]]],
  ['messaging', [['notifications', 'json', 8], ['email-sender', 'spring', 6], ['sms-gateway', 'logfmt', 5], ['push', 'json', 3], ['templates', 'nginx', 3]]],
  ['data', [['etl', 'spring', 8], ['reporting', 'json', 6], ['exporter', 'logfmt', 5], ['scheduler', 'klog', 3], ['warehouse-sync', 'json', 3]]],
  ['platform', [['ingress-nginx', 'nginx', 8], ['cert-manager', 'klog', 6], ['coredns', 'klog', 5], ['external-dns', 'klog', 3], ['metrics-agent', 'logfmt', 3]]],
];

/** The planted error code: in `RARE_TERM_HITS` records of its namespace, and a few of another. */
export const RARE_TERM = 'E-4711-ZQ';
export const RARE_TERM_NAMESPACE = 'payments';
/** Where the code is planted: share of the day, deployment, and how it appears. */
const PLANTS: ReadonlyArray<readonly [number, string, 'json' | 'spring-line' | 'caused-by' | 'logfmt']> = [
  [0.21, 'fraud-scoring', 'json'],
  [0.47, 'payment-api', 'spring-line'],
  [0.76, 'ledger', 'caused-by'],
  // Outside the namespace: a namespace matcher must leave these out.
  [0.33, 'checkout', 'logfmt'],
  [0.61, 'checkout', 'logfmt'],
];
export const RARE_TERM_HITS = PLANTS.filter(([, d]) => CLUSTER.find(([ns]) => ns === RARE_TERM_NAMESPACE)![1].some(([n]) => n === d)).length;

const DAY_NS = 86_400_000_000_000n;
const FLUSH_CHARS = 256 * 1024;
/** Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

export interface BenchPod {
  readonly namespace: string;
  readonly deployment: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly style: LineStyle;
  /** Relative write rate. */
  readonly weight: number;
  /** The container log file, relative to the pods root. */
  readonly file: string;
  /** The container log file's directory (the pod's), relative to the pods root. */
  readonly dir: string;
  lines: number;
  bytes: number;
}

export interface DatasetOptions {
  /** The `/var/log/pods` directory to write. */
  readonly root: string;
  /** Runtime lines to write (a stack trace is several). */
  readonly lines: number;
  /** First timestamp; the data spans the 24 hours from here. */
  readonly startNs: bigint;
  readonly seed?: number;
  /** Records in batches, in the order the collector would hand them out per file. */
  readonly onBatch: (batch: LogRecord[]) => Promise<void>;
  readonly batchRecords?: number;
}

export interface Dataset {
  readonly pods: readonly BenchPod[];
  readonly lines: number;
  readonly records: number;
  readonly rawBytes: number;
  /** Seconds spent generating lines, writing files and assembling records (not in `onBatch`). */
  readonly generateSeconds: number;
}

/** xorshift32: small, fast and repeatable. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function suffix(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SAFE[Math.floor(r() * SAFE.length)];
  return s;
}

function hex(r: () => number, n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0');
  return s.slice(0, n);
}

function buildPods(r: () => number): BenchPod[] {
  const pods: BenchPod[] = [];
  for (const [namespace, deployments] of CLUSTER) {
    for (const [deployment, style, replicas] of deployments) {
      // Busy and quiet deployments: rates spread over a factor of ~10.
      const rate = 0.3 + 2.7 * r() ** 2;
      const templateHash = suffix(r, 9 + Math.floor(r() * 2));
      for (let i = 0; i < replicas; i++) {
        const name = `${deployment}-${templateHash}-${suffix(r, 5)}`;
        const uid = `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-8${hex(r, 3)}-${hex(r, 12)}`;
        const dir = `${namespace}_${name}_${uid}`;
        pods.push({
          namespace,
          deployment,
          name,
          uid,
          node: `node-${1 + Math.floor(r() * 6)}`,
          style,
          weight: rate * (0.7 + 0.6 * r()),
          dir,
          file: path.join(dir, deployment, '0.log'),
          lines: 0,
          bytes: 0,
        });
      }
    }
  }
  return pods;
}

const API_PATHS = ['/api/v1/orders', '/api/v1/cart/items', '/api/v1/users/me', '/api/v1/payments', '/api/v1/search', '/api/v1/shipments', '/healthz', '/readyz'];
const STATIC_PATHS = ['/static/app.9f3c1e.js', '/static/vendor.1b7d.js', '/static/main.css', '/img/logo.svg', '/', '/cart', '/checkout'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0', 'kube-probe/1.29', 'Go-http-client/1.1', 'okhttp/4.12.0', 'curl/8.5.0'];
const JSON_MSGS = ['request handled', 'cache hit', 'cache miss', 'message published', 'job finished', 'token issued', 'document indexed'];
const JSON_ERRORS = ['upstream connect timeout', 'deadline exceeded', 'connection refused', 'invalid payload'];
const SPRING_MSGS = ['Completed request', 'Fetched entity', 'Published event', 'Scheduled task finished', 'Reserved stock', 'Sent message'];
const EXCEPTIONS = [
  'java.lang.IllegalStateException: Entity not in expected state',
  'org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection',
  'java.util.concurrent.TimeoutException: Downstream call exceeded 3000 ms',
  'com.fasterxml.jackson.databind.JsonMappingException: Unexpected end-of-input',
];
const CAUSES = ['java.net.SocketTimeoutException: Read timed out', 'org.postgresql.util.PSQLException: FATAL: too many connections for role', 'java.io.EOFException: null'];
const FRAMES = [
  'org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014)',
  'org.springframework.web.servlet.DispatcherServlet.doDispatch(DispatcherServlet.java:1089)',
  'org.apache.catalina.core.ApplicationFilterChain.doFilter(ApplicationFilterChain.java:166)',
  'com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)',
  'org.hibernate.internal.SessionImpl.find(SessionImpl.java:2427)',
  'java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)',
  'java.base/java.lang.Thread.run(Thread.java:1583)',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const KLOG_FILES = ['controller.go:217', 'reflector.go:147', 'server.go:88', 'sync.go:302', 'leaderelection.go:260'];

/** Levels by share: errors 2.5%, warnings 7%, debug 4%, the rest info. */
function level(r: () => number): 'error' | 'warn' | 'debug' | 'info' {
  const x = r();
  return x < 0.025 ? 'error' : x < 0.095 ? 'warn' : x < 0.135 ? 'debug' : 'info';
}

/** Latency in ms with a long tail: mostly tens, sometimes seconds. */
function latency(r: () => number): number {
  return Math.floor(Math.exp(2 + 5.5 * r() ** 2.2));
}

/** One event of a pod, as the lines its process writes (several for a stack trace). */
function event(r: () => number, p: BenchPod, iso: string, plant: (typeof PLANTS)[number][2] | undefined): string[] {
  const lvl = plant ? 'error' : level(r);
  const trace = hex(r, 32);
  switch (p.style) {
    case 'json': {
      const status = lvl === 'error' ? pick(r, [500, 502, 503, 504]) : lvl === 'warn' ? pick(r, [400, 404, 409, 429]) : 200;
      const fields: Record<string, unknown> = {
        level: lvl,
        ts: iso.slice(0, 23) + 'Z',
        msg: lvl === 'error' ? 'request failed' : pick(r, JSON_MSGS),
        method: pick(r, METHODS),
        path: pick(r, API_PATHS),
        status,
        latency_ms: latency(r),
        trace_id: trace,
      };
      if (lvl === 'error') fields.error = plant === 'json' ? `scoring backend rejected request: ${RARE_TERM}` : pick(r, JSON_ERRORS);
      return [JSON.stringify(fields)];
    }
    case 'logfmt': {
      const status = lvl === 'error' ? pick(r, [500, 502, 503, 504]) : lvl === 'warn' ? pick(r, [400, 404, 429]) : pick(r, [200, 200, 200, 201, 204]);
      const msg = lvl === 'error' ? 'request failed' : 'request handled';
      const err = plant === 'logfmt' ? ` err="acquirer declined with ${RARE_TERM}"` : lvl === 'error' ? ` err="${pick(r, JSON_ERRORS)}"` : '';
      return [
        `ts=${iso.slice(0, 23)}Z level=${lvl} msg="${msg}" method=${pick(r, METHODS)} path=${pick(r, API_PATHS)} status=${status} duration=${(latency(r) / 1000).toFixed(3)}s trace_id=${trace}${err}`,
      ];
    }
    case 'spring': {
      const stamp = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
      const thread = `[nio-8080-exec-${1 + Math.floor(r() * 20)}]`;
      const logger = `c.e.${p.deployment.replace(/-/g, '')}.${pick(r, ['api.RequestController', 'service.OrderService', 'client.RemoteClient', 'repo.EntityRepository'])}`;
      const head = `${stamp} ${lvl.toUpperCase().padStart(5)} 1 --- ${thread} ${logger.padEnd(40)} : `;
      if (lvl !== 'error') return [`${head}${pick(r, SPRING_MSGS)} id=${Math.floor(r() * 1e6)} in ${latency(r)} ms`];
      const first = `${head}${plant === 'spring-line' ? `Capture rejected by acquirer code=${RARE_TERM}` : 'Request processing failed'} id=${Math.floor(r() * 1e6)}`;
      // Three errors in five come with a stack trace.
      if (plant !== 'caused-by' && r() < 0.4) return [first];
      const lines = [first, pick(r, EXCEPTIONS)];
      const frames = 6 + Math.floor(r() * 12);
      for (let i = 0; i < frames; i++) lines.push(`\tat ${pick(r, FRAMES)}`);
      if (plant === 'caused-by') lines.push(`Caused by: com.example.ledger.PostingRejectedException: posting rejected (${RARE_TERM})`);
      else if (r() < 0.6) lines.push(`Caused by: ${pick(r, CAUSES)}`);
      else return lines;
      lines.push(`\tat ${pick(r, FRAMES)}`, `\t... ${frames - 1} more`);
      return lines;
    }
    case 'nginx': {
      const status = lvl === 'error' ? pick(r, [500, 502, 504]) : lvl === 'warn' ? pick(r, [404, 499]) : 200;
      const when = `${iso.slice(8, 10)}/${MONTHS[Number(iso.slice(5, 7)) - 1]}/${iso.slice(0, 4)}:${iso.slice(11, 19)} +0000`;
      const ip = `10.${Math.floor(r() * 250)}.${Math.floor(r() * 250)}.${Math.floor(r() * 250)}`;
      return [
        `${ip} - - [${when}] "${pick(r, METHODS)} ${pick(r, [...STATIC_PATHS, ...API_PATHS])} HTTP/1.1" ${status} ${Math.floor(r() * 50_000)} "-" "${pick(r, AGENTS)}" ${(latency(r) / 1000).toFixed(3)} [${p.namespace}-${p.deployment}-80]`,
      ];
    }
    case 'klog': {
      const letter = lvl === 'error' ? 'E' : lvl === 'warn' ? 'W' : 'I';
      const head = `${letter}${iso.slice(5, 7)}${iso.slice(8, 10)} ${iso.slice(11, 26)}       1 ${pick(r, KLOG_FILES)}]`;
      if (lvl === 'error') return [`${head} failed to sync object, requeuing: ${pick(r, JSON_ERRORS)} key="${p.namespace}/${hex(r, 6)}"`];
      return [`${head} "Reconciled object" key="${p.namespace}/${hex(r, 6)}" duration="${latency(r)}ms"`];
    }
  }
}

/** An open pod log: its file, pending text, and the collector's assembler for it. */
interface PodWriter {
  readonly pod: BenchPod;
  readonly fd: number;
  offset: number;
  pending: string[];
  pendingChars: number;
  assembler: RecordAssembler | undefined;
}

/**
 * Writes the dataset and hands its records to `onBatch`. Lines are generated in global time
 * order; a pod is chosen per event by its weight.
 */
export async function writeDataset(opts: DatasetOptions): Promise<Dataset> {
  const r = rng(opts.seed ?? 20250310);
  const pods = buildPods(r);
  const batchRecords = opts.batchRecords ?? 2000;
  const writers: PodWriter[] = pods.map((pod) => {
    mkdirSync(path.join(opts.root, path.dirname(pod.file)), { recursive: true });
    return { pod, fd: openSync(path.join(opts.root, pod.file), 'w'), offset: 0, pending: [], pendingChars: 0, assembler: undefined };
  });
  const cumulative: number[] = [];
  let sum = 0;
  for (const p of pods) cumulative.push((sum += p.weight));
  const choose = (): PodWriter => {
    const x = r() * sum;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return writers[lo]!;
  };
  const plantAt = new Map<number, (typeof PLANTS)[number]>();
  for (const plant of PLANTS) plantAt.set(Math.floor(plant[0] * opts.lines), plant);
  const plantPodOf = (deployment: string): PodWriter => {
    const candidates = writers.filter((w) => w.pod.deployment === deployment);
    return candidates[Math.floor(r() * candidates.length)]!;
  };

  let batch: LogRecord[] = [];
  let records = 0;
  let rawBytes = 0;
  let handOffMs = 0;
  const started = performance.now();
  const hand = async (out: LogRecord[]) => {
    for (const rec of out) batch.push(rec);
    if (batch.length < batchRecords) return;
    const full = batch;
    batch = [];
    records += full.length;
    const t0 = performance.now();
    await opts.onBatch(full);
    handOffMs += performance.now() - t0;
  };
  const flush = (w: PodWriter) => {
    if (w.pendingChars === 0) return;
    writeSync(w.fd, w.pending.join(''));
    w.pending = [];
    w.pendingChars = 0;
  };

  const stepNs = Number(DAY_NS) / opts.lines;
  let line = 0;
  // Plants are checked at every event start; a stack trace may step over a plant's index.
  let nextPlant = [...plantAt.keys()].sort((a, b) => a - b);
  while (line < opts.lines) {
    let plant: (typeof PLANTS)[number] | undefined;
    if (nextPlant.length > 0 && line >= nextPlant[0]!) {
      plant = plantAt.get(nextPlant[0]!);
      nextPlant = nextPlant.slice(1);
    }
    const w = plant ? plantPodOf(plant[1]) : choose();
    const timeNs = opts.startNs + BigInt(Math.floor(line * stepNs + r() * stepNs * 0.9));
    const ts = formatTimeNs(timeNs);
    const stream = w.pod.style === 'klog' ? 'stderr' : 'stdout';
    const lines = event(r, w.pod, ts, plant?.[2]);
    const out: LogRecord[] = [];
    for (const content of lines) {
      const text = `${ts} ${stream} F ${content}`;
      if (w.assembler === undefined) {
        // The collector's fileKey: a fingerprint of the file's first line, newline included.
        const source: LogSource = {
          node: w.pod.node,
          namespace: w.pod.namespace,
          pod: w.pod.name,
          podUid: w.pod.uid,
          container: w.pod.deployment,
          restart: 0,
          path: path.join('/var/log/pods', w.pod.file),
          fileKey: fileKeyOf(Buffer.from(`${text}\n`)),
        };
        w.assembler = createRecordAssembler(source);
      }
      const end = w.offset + text.length + 1; // ASCII only: characters are bytes
      out.push(...w.assembler.push(text, w.offset, end, 0));
      w.pending.push(text, '\n');
      w.pendingChars += text.length + 1;
      w.offset = end;
      w.pod.lines++;
    }
    line += lines.length;
    if (w.pendingChars >= FLUSH_CHARS) flush(w);
    if (out.length > 0) await hand(out);
  }
  for (const w of writers) {
    flush(w);
    closeSync(w.fd);
    w.pod.bytes = w.offset;
    rawBytes += w.offset;
    if (w.assembler) await hand(w.assembler.flushAll());
  }
  if (batch.length > 0) {
    records += batch.length;
    const t0 = performance.now();
    await opts.onBatch(batch);
    handOffMs += performance.now() - t0;
    batch = [];
  }
  return { pods, lines: line, records, rawBytes, generateSeconds: (performance.now() - started - handOffMs) / 1000 };
}
