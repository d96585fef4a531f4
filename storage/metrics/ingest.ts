/**
 * Appending pushed series (remote_write, imports) with per-sample accounting: valid samples are
 * stored, refused ones (out of order, too old, duplicate, bad labels) are counted by reason so the
 * caller can report them. Nothing lands under other labels or times than it was sent with.
 */
import { labelsFromPairs, METRIC_NAME, type Labels } from '../../model/labels.js';
import { AppendError, type Appendable, type AppendErrorReason, type SeriesRef } from './interface.js';

export interface PushedSeries {
  /** Label pairs as sent; order and duplicates are checked here. */
  readonly labels: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  readonly samples: ReadonlyArray<{ readonly t: number; readonly v: number }>;
}

export type RejectReason = AppendErrorReason | 'missing_metric_name' | 'duplicate_label' | 'invalid_timestamp';

export interface IngestResult {
  readonly series: number;
  readonly accepted: number;
  readonly rejected: Readonly<Partial<Record<RejectReason, number>>>;
  /** One example message per reason, for the response body. */
  readonly examples: Readonly<Partial<Record<RejectReason, string>>>;
}

export function rejectedCount(r: IngestResult): number {
  let n = 0;
  for (const v of Object.values(r.rejected)) n += v ?? 0;
  return n;
}

/** Human-readable summary of what was refused, for a 400 response. */
export function describeRejections(r: IngestResult): string {
  const parts = Object.entries(r.rejected).map(([reason, n]) => `${n} ${reason.replace(/_/g, ' ')} (e.g. ${r.examples[reason as RejectReason]})`);
  return `${rejectedCount(r)} of ${r.accepted + rejectedCount(r)} samples rejected: ${parts.join('; ')}`;
}

function toLabels(pairs: PushedSeries['labels']): Labels | { reason: RejectReason; message: string } {
  const seen = new Set<string>();
  for (const p of pairs) {
    if (seen.has(p.name)) return { reason: 'duplicate_label', message: `duplicate label name "${p.name}"` };
    seen.add(p.name);
  }
  const ls = labelsFromPairs(pairs.map((p) => [p.name, p.value] as const));
  if (!ls.some((l) => l.name === METRIC_NAME)) {
    return { reason: 'missing_metric_name', message: `series without metric name: {${pairs.map((p) => `${p.name}="${p.value}"`).join(', ')}}` };
  }
  return ls;
}

/** Appends everything valid in one transaction and accounts for the rest. */
export async function ingest(appendable: Appendable, batch: Iterable<PushedSeries>): Promise<IngestResult> {
  const rejected: Partial<Record<RejectReason, number>> = {};
  const examples: Partial<Record<RejectReason, string>> = {};
  const reject = (reason: RejectReason, n: number, message: string) => {
    rejected[reason] = (rejected[reason] ?? 0) + n;
    examples[reason] ??= message;
  };
  let accepted = 0;
  let series = 0;
  const app = appendable.appender();
  try {
    for (const s of batch) {
      series++;
      const ls = toLabels(s.labels);
      if (!Array.isArray(ls)) {
        const bad = ls as { reason: RejectReason; message: string };
        reject(bad.reason, s.samples.length, bad.message);
        continue;
      }
      let ref = 0;
      for (const sample of s.samples) {
        if (!Number.isSafeInteger(sample.t)) {
          reject('invalid_timestamp', 1, `timestamp ${sample.t} is not an integer number of milliseconds`);
          continue;
        }
        try {
          ref = app.append(ref, ls as Labels, sample.t, sample.v);
          accepted++;
        } catch (err) {
          if (!(err instanceof AppendError)) throw err;
          reject(err.reason, 1, err.message);
        }
      }
    }
    await app.commit();
  } catch (err) {
    await app.rollback().catch(() => undefined);
    throw err;
  }
  return { series, accepted, rejected, examples };
}

/** Whether every timestamp in `ts[from, to)` is an integer number of milliseconds. */
function safeTimestamps(ts: Float64Array, from: number, to: number): boolean {
  for (let j = from; j < to; j++) if (!Number.isSafeInteger(ts[j]!)) return false;
  return true;
}

/** What a label-bytes key resolved to on an earlier request: the validated labels and their series. */
export interface KnownSeries {
  readonly labels: Labels;
  ref: SeriesRef;
}

/** 32-bit hash of bytes `from` to `to`, four at a time; `hashLatin1` gives the same for their latin1 string. */
function hashBytes(buf: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5 ^ (to - from);
  let i = from;
  for (; i + 4 <= to; i += 4) {
    h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < to; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h ^ (h >>> 13)) >>> 0;
}

function hashLatin1(s: string): number {
  const to = s.length;
  let h = 0x811c9dc5 ^ to;
  let i = 0;
  for (; i + 4 <= to; i += 4) {
    h = Math.imul(h ^ (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)), 0x9e3779b1);
    h ^= h >>> 15;
  }
  for (; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h ^ (h >>> 13)) >>> 0;
}

function sameBytes(key: string, buf: Uint8Array, from: number, to: number): boolean {
  if (key.length !== to - from) return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) !== buf[from + i]) return false;
  return true;
}

/**
 * Whether `s`, all ASCII, is the protobuf string field `tag` at `buf[p]`; returns the position
 * after it, or -1. A non-ASCII string never matches (its UTF-8 bytes differ from its code units).
 */
function stringField(buf: Uint8Array, p: number, end: number, tag: number, s: string): number {
  if (p >= end || buf[p] !== tag) return -1;
  p++;
  let len = 0;
  for (let shift = 0; ; shift += 7) {
    if (p >= end || shift > 28) return -1;
    const b = buf[p++]!;
    len += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (len !== s.length || p + len > end) return -1;
  for (let j = 0; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c > 0x7f || c !== buf[p + j]) return -1;
  }
  return p + len;
}

/**
 * Whether `buf[from, to)` is exactly the `labels` fields a sender encodes for `ls` (in its order,
 * name then value, nothing else): then the cached label set itself can confirm a hit, and the
 * cache needs no copy of the bytes.
 */
function encodesLabels(ls: Labels, buf: Uint8Array, from: number, to: number): boolean {
  let p = from;
  let i = 0;
  while (p < to) {
    if (buf[p] !== 0x0a || i >= ls.length) return false;
    p++;
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      if (p >= to || shift > 28) return false;
      const b = buf[p++]!;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    const end = p + len;
    if (end > to) return false;
    const l = ls[i++]!;
    p = stringField(buf, p, end, 0x0a, l.name);
    if (p < 0) return false;
    p = stringField(buf, p, end, 0x12, l.value);
    if (p !== end) return false;
  }
  return i === ls.length;
}

/**
 * One cached series; entries whose keys hash alike are chained within a generation. `key` is kept
 * only when the label set cannot confirm the bytes itself (non-ASCII labels, labels the sender
 * spelled differently from the stored set): about 200 bytes per series otherwise.
 */
class CacheEntry {
  constructor(
    readonly key: string | undefined,
    readonly value: KnownSeries,
    public next: CacheEntry | undefined,
  ) {}

  matches(buf: Uint8Array, from: number, to: number): boolean {
    const k = this.key;
    return k !== undefined ? sameBytes(k, buf, from, to) : encodesLabels(this.value.labels, buf, from, to);
  }
}

/**
 * Remembers, per encoded label bytes of a remote_write series, the validated label set and series
 * ref, so that a sender re-sending the same series (every request, in practice) skips decoding the
 * label strings, validating, sorting and the head's label-key lookup. Bounded by two generations:
 * when the current one fills up it becomes the previous one and entries still in use are carried
 * over on their next hit, so churned series age out without a scan.
 *
 * Looked up by the bytes in the request (hashed and compared in place): a key string per series
 * per request was ~140 MB of garbage per million-series-minute, and since it lived until the
 * batch was durable, much of it was promoted to the old generation. Only new series get a key.
 */
export class SeriesCache {
  readonly #limit: number;
  #current = new Map<number, CacheEntry>();
  #previous = new Map<number, CacheEntry>();
  #size = 0;
  #previousSize = 0;

  constructor(limit = 1 << 17) {
    this.#limit = limit;
  }

  /** The series whose label bytes are `buf[from, to)`, if remembered. */
  get(buf: Uint8Array, from: number, to: number): KnownSeries | undefined {
    const h = hashBytes(buf, from, to);
    for (let e = this.#current.get(h); e !== undefined; e = e.next) if (e.matches(buf, from, to)) return e.value;
    let prev: CacheEntry | undefined;
    for (let e = this.#previous.get(h); e !== undefined; prev = e, e = e.next) {
      if (!e.matches(buf, from, to)) continue;
      // Carried over into the current generation.
      if (prev !== undefined) prev.next = e.next;
      else if (e.next !== undefined) this.#previous.set(h, e.next);
      else this.#previous.delete(h);
      this.#previousSize--;
      this.#put(h, e.key, e.value);
      return e.value;
    }
    return undefined;
  }

  /** Remembers `e` for the label bytes whose latin1 string is `key`. */
  set(key: string, e: KnownSeries): void {
    // A new series, so rare: the bytes once more, to see whether its labels can stand for them.
    const bytes = Buffer.from(key, 'latin1');
    this.#put(hashLatin1(key), encodesLabels(e.labels, bytes, 0, bytes.length) ? undefined : key, e);
  }

  #put(h: number, key: string | undefined, value: KnownSeries): void {
    if (this.#size >= this.#limit) {
      this.#previous = this.#current;
      this.#previousSize = this.#size;
      this.#current = new Map();
      this.#size = 0;
    }
    const head = this.#current.get(h);
    // The same series again (a sender with two spellings of it, or a race of two requests).
    for (let x = head; x !== undefined; x = x.next) if (x.value.ref === value.ref && x.key === key) return;
    this.#current.set(h, new CacheEntry(key, value, head));
    this.#size++;
  }

  get size(): number {
    return this.#size + this.#previousSize;
  }
}

/** Series decoded column-wise (see `decodeWriteRequestColumns`), with cache hits already resolved. */
export interface ColumnarBatch {
  readonly count: number;
  readonly labels: ReadonlyArray<PushedSeries['labels'] | undefined>;
  readonly known: ReadonlyArray<KnownSeries | undefined>;
  readonly keys: ReadonlyArray<string | undefined>;
  readonly sampleEnd: Int32Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/**
 * `ingest` for a column-decoded batch: the same checks, order, accounting and result, without an
 * object per sample. Series whose label bytes `cache` knew start from the remembered ref and labels;
 * series seen for the first time are remembered once their labels validate.
 */
export async function ingestColumns(appendable: Appendable, batch: ColumnarBatch, cache: SeriesCache): Promise<IngestResult> {
  const rejected: Partial<Record<RejectReason, number>> = {};
  const examples: Partial<Record<RejectReason, string>> = {};
  const reject = (reason: RejectReason, n: number, message: string) => {
    rejected[reason] = (rejected[reason] ?? 0) + n;
    examples[reason] ??= message;
  };
  let accepted = 0;
  // One callback for every run (not a closure per series), counting what it refused.
  let refusedInRuns = 0;
  const onRunReject = (err: AppendError) => {
    refusedInRuns++;
    reject(err.reason, 1, err.message);
  };
  const { count, sampleEnd, ts, vs } = batch;
  const app = appendable.appender();
  try {
    let from = 0;
    for (let i = 0; i < count; i++) {
      const to = sampleEnd[i]!;
      const start = from;
      from = to;
      let known = batch.known[i];
      let ls: Labels;
      if (known !== undefined) {
        ls = known.labels;
      } else {
        const checked = toLabels(batch.labels[i] ?? []);
        if (!Array.isArray(checked)) {
          const bad = checked as { reason: RejectReason; message: string };
          reject(bad.reason, to - start, bad.message);
          continue;
        }
        ls = checked as Labels;
      }
      let ref = known !== undefined ? known.ref : 0;
      // The usual case, integer timestamps throughout: the whole run in one call.
      if (app.appendRun !== undefined && safeTimestamps(ts, start, to)) {
        const before = refusedInRuns;
        ref = app.appendRun(ref, ls, ts, vs, start, to, onRunReject);
        accepted += to - start - (refusedInRuns - before);
      } else {
        for (let j = start; j < to; j++) {
          const t = ts[j]!;
          if (!Number.isSafeInteger(t)) {
            reject('invalid_timestamp', 1, `timestamp ${t} is not an integer number of milliseconds`);
            continue;
          }
          try {
            ref = app.append(ref, ls, t, vs[j]!);
            accepted++;
          } catch (err) {
            if (!(err instanceof AppendError)) throw err;
            reject(err.reason, 1, err.message);
          }
        }
      }
      if (ref === 0) continue;
      if (known !== undefined) known.ref = ref;
      else {
        const key = batch.keys[i];
        // The stored label set rather than `ls`: one copy per series instead of two.
        if (key !== undefined) cache.set(key, (known = { labels: app.storedLabels?.(ref) ?? ls, ref }));
      }
    }
    await app.commit();
  } catch (err) {
    await app.rollback().catch(() => undefined);
    throw err;
  }
  return { series: count, accepted, rejected, examples };
}
