/**
 * Writes container logs the way a node does: CRI-format files under
 * `<root>/<namespace>_<pod>_<uid>/<container>/0.log`, lines cut by the runtime into `P`/`F`
 * fragments, Java stack traces, JSON and plain lines on stdout and stderr, writes that end in the
 * middle of a line, and kubelet-style rotation (rename to `0.log.<timestamp>`, new `0.log`, older
 * rotations gzipped, the newest kept plain).
 *
 * Content is a pure function of (pod index, sequence number), so a verifier can recompute every
 * expected record instead of holding a million strings.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatTimeNs, type LogLevel } from '../../model/logs.js';

export interface GeneratedRecord {
  readonly stream: 'stdout' | 'stderr';
  readonly level: LogLevel;
  /** The record as the collector should store it: physical lines joined with '\n'. */
  readonly message: string;
  /** Runtime lines the record is written as (a stack trace has several). */
  readonly lines: readonly string[];
}

/** The longest content the runtime writes in one CRI line (containerd's default). */
export const CRI_MAX_LINE = 16_384;

const PATHS = ['/api/orders', '/api/items', '/healthz', '/api/users/login', '/api/cart', '/metrics'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

/** Cheap deterministic mixing, so content looks varied without a random generator's state. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be59b, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The record a pod writes as its `seq`-th record. Each record names its pod and sequence number. */
export function generatedRecord(pod: string, podIndex: number, seq: number): GeneratedRecord {
  const r = mix(podIndex, seq);
  const tag = `pod=${pod} seq=${seq}`;
  if (seq % 97 === 13) {
    const first = `ERROR request failed ${tag}: java.lang.IllegalStateException: order ${r % 10_000} not found`;
    const lines = [
      first,
      '\tat com.example.orders.OrderService.load(OrderService.java:142)',
      '\tat com.example.orders.OrderController.get(OrderController.java:57)',
      '\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
      'Caused by: java.sql.SQLTimeoutException: query timed out after 3000 ms',
      '\tat com.zaxxer.hikari.pool.ProxyPreparedStatement.executeQuery(ProxyPreparedStatement.java:52)',
      '\t... 3 more',
    ];
    return { stream: 'stderr', level: 'error', message: lines.join('\n'), lines };
  }
  if (seq % 997 === 7) {
    // Longer than the runtime's line limit: written as P, P, F fragments, stored joined.
    const unit = `${WORDS[r % WORDS.length]}-${seq} `;
    const message = `INFO payload dump ${tag} ` + unit.repeat(Math.ceil(24_000 / unit.length));
    return { stream: 'stdout', level: 'info', message, lines: [message] };
  }
  if (seq % 3 === 0) {
    const level: LogLevel = r % 50 === 0 ? 'error' : r % 10 === 0 ? 'warn' : 'info';
    const message = JSON.stringify({
      level,
      msg: `handled ${PATHS[r % PATHS.length]}`,
      pod,
      seq,
      status: r % 50 === 0 ? 503 : 200,
      latency_ms: r % 900,
    });
    return { stream: 'stdout', level, message, lines: [message] };
  }
  if (seq % 7 === 1) {
    const message = `WARN slow upstream ${WORDS[r % WORDS.length]} took ${r % 5000}ms ${tag}`;
    return { stream: 'stderr', level: 'warn', message, lines: [message] };
  }
  const message = `INFO GET ${PATHS[r % PATHS.length]}/${r % 1000} 200 ${r % 300}ms ${tag}`;
  return { stream: 'stdout', level: 'info', message, lines: [message] };
}

export interface GeneratedPod {
  readonly index: number;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly container: string;
  readonly dir: string;
  /** Records written completely (all their lines ended with '\n'). */
  records: number;
}

interface PodState extends GeneratedPod {
  fd: number;
  /** Bytes of the live file. */
  size: number;
  /** Generated text not yet written; writes stop at random points, mid-line included. */
  pending: string;
  /** Records fully contained in what has been written so far. */
  nextSeq: number;
  /** Sequence numbers whose text is in `pending` or written, in order, with the text end offset in `pending`. */
  inFlight: Array<{ seq: number; end: number }>;
  rotations: number;
}

export interface PodLogGeneratorOptions {
  readonly root: string;
  readonly pods?: number;
  readonly namespaces?: number;
  /** Rotate a pod's live file once it reaches this size (kubelet's containerLogMaxSize). */
  readonly rotateBytes?: number;
  /** First record's timestamp, ns; records are 1 ms apart per pod. */
  readonly startNs: bigint;
  readonly seed?: number;
}

/** The directory name of a pod, as the kubelet builds it. */
export function podDirName(namespace: string, pod: string, uid: string): string {
  return `${namespace}_${pod}_${uid}`;
}

export class PodLogGenerator {
  readonly pods: readonly GeneratedPod[];
  readonly #states: PodState[];
  readonly #rotateBytes: number;
  readonly #startNs: bigint;
  #rand: number;
  /** Runtime lines written completely, all pods. */
  linesWritten = 0;
  bytesWritten = 0;
  rotations = 0;
  gzipped = 0;

  constructor(opts: PodLogGeneratorOptions) {
    const podCount = opts.pods ?? 50;
    const nsCount = opts.namespaces ?? 5;
    this.#rotateBytes = opts.rotateBytes ?? 2 * 1024 * 1024;
    this.#startNs = opts.startNs;
    this.#rand = opts.seed ?? 1;
    this.#states = [];
    for (let i = 0; i < podCount; i++) {
      const namespace = `team-${i % nsCount}`;
      const name = `svc-${Math.floor(i / nsCount)}-${(mix(i, 7) % 0xfffff).toString(36).padStart(4, '0')}-${(mix(i, 9) % 0xfffff).toString(36).padStart(4, '0')}`;
      const uid = `${mix(i, 1).toString(16).padStart(8, '0')}-0000-4000-8000-${mix(i, 2).toString(16).padStart(8, '0')}0000`;
      const container = 'app';
      const dir = path.join(opts.root, podDirName(namespace, name, uid), container);
      mkdirSync(dir, { recursive: true });
      const fd = openSync(path.join(dir, '0.log'), 'a');
      this.#states.push({ index: i, namespace, name, uid, container, dir, records: 0, fd, size: 0, pending: '', nextSeq: 0, inFlight: [], rotations: 0 });
    }
    this.pods = this.#states;
  }

  #random(): number {
    this.#rand = mix(this.#rand, 0x5bd1e995);
    return this.#rand / 0x1_0000_0000;
  }

  /** Timestamp of a pod's `seq`-th record's `line`-th line. */
  timeNs(seq: number, line: number): bigint {
    return this.#startNs + BigInt(seq) * 1_000_000n + BigInt(line) * 1_000n;
  }

  /** Generates about `lines` more runtime lines across all pods and writes part of them. */
  step(lines: number): void {
    const perPod = Math.max(1, Math.ceil(lines / this.#states.length));
    for (const p of this.#states) {
      let produced = 0;
      while (produced < perPod) {
        const seq = p.nextSeq++;
        const rec = generatedRecord(p.name, p.index, seq);
        p.pending += this.#frame(rec, seq);
        p.inFlight.push({ seq, end: p.pending.length });
        produced += rec.lines.length;
      }
      // Write a random prefix: the file often ends mid-line, as when a runtime is mid-write. A
      // stack trace is written whole, as a logger writes one event: a writer that stalls in the
      // middle of one for longer than the multiline flush timeout gets it split, by design.
      this.#write(p, this.#cutOutsideTraces(p, Math.floor(p.pending.length * (0.5 + 0.5 * this.#random()))));
      if (p.size >= this.#rotateBytes) this.#rotate(p);
    }
  }

  #cutOutsideTraces(p: PodState, cut: number): number {
    let start = 0;
    for (const f of p.inFlight) {
      if (cut < f.end) {
        return cut > start && generatedRecord(p.name, p.index, f.seq).lines.length > 1 ? start : cut;
      }
      start = f.end;
    }
    return cut;
  }

  /** Writes everything pending and closes the files; `linesWritten` is then final. */
  finish(): void {
    for (const p of this.#states) {
      this.#write(p, p.pending.length);
      closeSync(p.fd);
    }
  }

  #frame(rec: GeneratedRecord, seq: number): string {
    let out = '';
    rec.lines.forEach((line, i) => {
      const ts = formatTimeNs(this.timeNs(seq, i));
      if (Buffer.byteLength(line) <= CRI_MAX_LINE) {
        out += `${ts} ${rec.stream} F ${line}\n`;
        return;
      }
      // The runtime splits by bytes; the generated long lines are ASCII, so characters are bytes.
      for (let at = 0; at < line.length; at += CRI_MAX_LINE) {
        const last = at + CRI_MAX_LINE >= line.length;
        out += `${ts} ${rec.stream} ${last ? 'F' : 'P'} ${line.slice(at, at + CRI_MAX_LINE)}\n`;
      }
    });
    return out;
  }

  #write(p: PodState, upTo: number): void {
    if (upTo <= 0) return;
    const text = p.pending.slice(0, upTo);
    const buf = Buffer.from(text);
    writeSync(p.fd, buf);
    p.size += buf.length;
    this.bytesWritten += buf.length;
    p.pending = p.pending.slice(upTo);
    let done = 0;
    for (const f of p.inFlight) {
      if (f.end > upTo) break;
      done++;
    }
    for (const f of p.inFlight.slice(0, done)) {
      this.linesWritten += generatedRecord(p.name, p.index, f.seq).lines.reduce(
        (n, l) => n + Math.max(1, Math.ceil(Buffer.byteLength(l) / CRI_MAX_LINE)),
        0,
      );
    }
    p.records += done;
    p.inFlight = p.inFlight.slice(done).map((f) => ({ seq: f.seq, end: f.end - upTo }));
  }

  /**
   * kubelet's rotation: the runtime writes whole lines, so the live file is cut at a line end;
   * rename it to `0.log.<timestamp>`, reopen `0.log`, gzip every rotated plain file but the newest.
   */
  #rotate(p: PodState): void {
    // Complete the record in progress first, so the old file ends at a line end.
    const firstOpen = p.inFlight[0];
    if (firstOpen !== undefined) this.#write(p, firstOpen.end);
    closeSync(p.fd);
    p.rotations++;
    this.rotations++;
    const stamp = new Date(Date.UTC(2026, 0, 1, 0, 0, p.rotations)).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    renameSync(path.join(p.dir, '0.log'), path.join(p.dir, `0.log.${stamp}`));
    p.fd = openSync(path.join(p.dir, '0.log'), 'a');
    p.size = 0;
    const rotated = readdirSync(p.dir)
      .filter((f) => /^0\.log\.\d{8}-\d{6}$/.test(f))
      .sort();
    for (const f of rotated.slice(0, -1)) {
      const src = path.join(p.dir, f);
      writeFileSync(`${src}.tmp`, gzipSync(readFileSync(src)));
      renameSync(`${src}.tmp`, `${src}.gz`);
      unlinkSync(src);
      this.gzipped++;
    }
  }
}
