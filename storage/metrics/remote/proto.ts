/**
 * The protobuf messages of Prometheus remote_write 1.0 (`prompb/remote.proto`, `prompb/types.proto`)
 * and their wire codecs.
 *
 * Decoding is hand-written: a receiver decodes every push (a Prometheus server sends batches of
 * thousands of series many times a second), and a specialised reader for exactly these messages
 * is several times faster than protobufjs's generic reflection decoder (see `codec.bench.ts` and
 * the figures in `codec.ts`). Encoding is only used by tests and by forwarding clients, so it uses
 * protobufjs from a schema declared here.
 *
 * Field numbers (checked against prometheus/prometheus prompb at HEAD):
 *   WriteRequest   { repeated TimeSeries timeseries = 1; reserved 2; repeated MetricMetadata metadata = 3; }
 *   TimeSeries     { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3;
 *                    repeated Histogram histograms = 4; }
 *   Label          { string name = 1; string value = 2; }
 *   Sample         { double value = 1; int64 timestamp = 2; }
 *   Exemplar       { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
 *   MetricMetadata { MetricType type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
 * Native histograms (TimeSeries field 4) are not part of remote_write 1.0's specification; they are
 * skipped and counted so a receiver can say so.
 */
import protobuf from 'protobufjs/light.js';
import type { Label } from '../../../model/labels.js';

export type { Label };

export interface Sample {
  readonly value: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

export interface Exemplar {
  readonly labels: readonly Label[];
  readonly value: number;
  readonly timestamp: number;
}

export interface TimeSeries {
  /** As sent: Prometheus sends them sorted, but receivers must not rely on it. */
  readonly labels: readonly Label[];
  readonly samples: readonly Sample[];
  readonly exemplars: readonly Exemplar[];
  /** Native histograms present on the wire but not decoded (absent when none). */
  readonly skippedHistograms?: number;
}

/** `MetricMetadata.MetricType` by enum number, spelled as Prometheus's `model.MetricType`. */
export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export interface MetricMetadata {
  readonly type: MetricType;
  readonly metricFamilyName: string;
  readonly help: string;
  readonly unit: string;
}

export interface WriteRequest {
  readonly timeseries: readonly TimeSeries[];
  readonly metadata: readonly MetricMetadata[];
}

/** A body that is not a valid remote-write request; `reason` says which layer failed. */
export class RemoteWriteDecodeError extends Error {
  constructor(
    readonly reason: 'snappy' | 'protobuf' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'RemoteWriteDecodeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-written decoder.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

const TWO_32 = 4294967296;
const INTERN_SLOTS = 1024;
const INTERN_MAX_BYTES = 40;

/** Decodes one message stream; positions are absolute offsets into `buf`. */
class Reader {
  pos = 0;
  readonly #buf: Buffer;
  readonly #view: DataView;
  /** Intern table: a string and where its bytes are in `#buf` (per request, so nothing is retained). */
  readonly #internStr: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);
  readonly #internPos = new Int32Array(INTERN_SLOTS);
  readonly #internLen = new Int32Array(INTERN_SLOTS);

  constructor(buf: Uint8Array) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string): never {
    throw new RemoteWriteDecodeError('protobuf', `invalid protobuf at byte ${this.pos}: ${message}`);
  }

  /** A varint that must fit 32 bits unsigned (tags, lengths, enums). */
  uint32(end: number): number {
    const buf = this.#buf;
    let pos = this.pos; // #skipVarintFrom restarts from this.pos, the varint's first byte.
    let x = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) this.fail('truncated varint');
      const b = buf[pos++]!;
      x |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return x >>> 0;
      }
    }
    if (pos >= end) this.fail('truncated varint');
    const b = buf[pos++]!;
    if (b > 0x0f) {
      // Bits beyond 32: legal protobuf only for negative int32 enums, which callers read as unknown.
      this.#skipVarintFrom(end);
      return TWO_32 - 1;
    }
    this.pos = pos;
    return (x >>> 0) + b * 268435456;
  }

  #skipVarintFrom(end: number): void {
    const buf = this.#buf;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('truncated varint');
      if (buf[this.pos++]! < 0x80) return;
    }
    this.fail('varint longer than 10 bytes');
  }

  /** A two's-complement int64 varint as a JavaScript number; must be a safe integer. */
  int64(end: number): number {
    const buf = this.#buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b: number;
    let i = 0;
    // Bytes 0-3 fill bits 0-27.
    for (; i < 4; i++) {
      if (pos >= end) this.fail('truncated varint');
      b = buf[pos++]!;
      lo |= (b & 0x7f) << (7 * i);
      if (b < 0x80) {
        this.pos = pos;
        return lo;
      }
    }
    // Byte 4 fills bits 28-34.
    if (pos >= end) this.fail('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      // Bytes 5-9 fill bits 35-63.
      let shift = 3;
      for (i = 0; ; i++) {
        if (i === 5) this.fail('varint longer than 10 bytes');
        if (pos >= end) this.fail('truncated varint');
        b = buf[pos++]!;
        hi |= (b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
    }
    this.pos = pos;
    const v = (hi | 0) * TWO_32 + (lo >>> 0);
    if (!Number.isSafeInteger(v)) this.fail(`int64 ${hi < 0 ? '<' : '>'} ±2^53 cannot be represented exactly`);
    return v;
  }

  /**
   * `int64` stored at `out[i]`. Returning a float from a call that is not inlined allocates a heap
   * number; this small wrapper has `int64` inlined and returns nothing, so the sample loop that
   * decodes millions of timestamps allocates none.
   */
  int64Into(end: number, out: Float64Array, i: number): void {
    out[i] = this.int64(end);
  }

  double(end: number): number {
    if (this.pos + 8 > end) this.fail('truncated fixed64');
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** End offset of a length-delimited field starting at `pos`. */
  lengthEnd(end: number): number {
    const len = this.uint32(end);
    const e = this.pos + len;
    if (e > end) this.fail(`length ${len} runs past the end of the enclosing message`);
    return e;
  }

  string(end: number): string {
    const e = this.lengthEnd(end);
    const start = this.pos;
    this.pos = e;
    const n = e - start;
    if (n === 0) return '';
    if (n > INTERN_MAX_BYTES) return this.#buf.toString('utf8', start, e);
    // A request repeats the same label names (and many values: job, namespace, metric names) in
    // every series. Interning them through a small direct-mapped table keyed by a hash of the
    // bytes skips most UTF-8 decoding and lets all series share one string per distinct name.
    const buf = this.#buf;
    let h = n;
    for (let i = start; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x9e3779b1);
    const slot = (h >>> 22) & (INTERN_SLOTS - 1);
    const cached = this.#internStr[slot];
    if (cached !== undefined) {
      const at = this.#internPos[slot]!;
      if (this.#internLen[slot] === n) {
        let i = 0;
        while (i < n && buf[at + i] === buf[start + i]) i++;
        if (i === n) return cached;
      }
    }
    // Buffer's native UTF-8 slice is 2-3x faster than TextDecoder or building strings in
    // JavaScript. Like gogo-protobuf (Prometheus's decoder), invalid UTF-8 is not an error; it
    // becomes U+FFFD.
    const str = buf.toString('utf8', start, e);
    this.#internStr[slot] = str;
    this.#internPos[slot] = start;
    this.#internLen[slot] = n;
    return str;
  }

  /** Skips the value of a field of an unknown number. */
  skip(wire: number, field: number, end: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.#skipVarintFrom(end);
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > end) this.fail('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.pos = this.lengthEnd(end);
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > end) this.fail('truncated fixed32');
        this.pos += 4;
        return;
      case WIRE_START_GROUP: {
        // Iterative, so that deeply nested garbage cannot overflow the stack.
        const open: number[] = [field];
        while (open.length > 0) {
          if (this.pos >= end) this.fail(`unterminated group ${open[open.length - 1]!}`);
          const tag = this.uint32(end);
          const f = tag >>> 3;
          const w = tag & 7;
          if (f === 0) this.fail('field number 0');
          if (w === WIRE_END_GROUP) {
            const expected = open.pop()!;
            if (f !== expected) this.fail(`group ${expected} closed as ${f}`);
          } else if (w === WIRE_START_GROUP) {
            open.push(f);
          } else {
            this.skip(w, f, end);
          }
        }
        return;
      }
      default:
        this.fail(wire === WIRE_END_GROUP ? `unexpected end of group ${field}` : `invalid wire type ${wire}`);
    }
  }

  /** Reads a tag; returns [field, wire] packed as field * 8 + wire, validated. */
  tag(end: number): number {
    const tag = this.uint32(end);
    if (tag >>> 3 === 0) this.fail('field number 0');
    return tag;
  }
}

function wrongWire(r: Reader, message: string, field: number, wire: number): never {
  return r.fail(`field ${field} of ${message} has wire type ${wire}`);
}

function decodeLabel(r: Reader, end: number): Label {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== WIRE_LEN) wrongWire(r, 'Label', field, wire);
      name = r.string(end);
    } else if (field === 2) {
      if (wire !== WIRE_LEN) wrongWire(r, 'Label', field, wire);
      value = r.string(end);
    } else r.skip(wire, field, end);
  }
  return { name, value };
}

function decodeSample(r: Reader, end: number): Sample {
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== WIRE_FIXED64) wrongWire(r, 'Sample', field, wire);
      value = r.double(end);
    } else if (field === 2) {
      if (wire !== WIRE_VARINT) wrongWire(r, 'Sample', field, wire);
      timestamp = r.int64(end);
    } else r.skip(wire, field, end);
  }
  return { value, timestamp };
}

function decodeExemplar(r: Reader, end: number): Exemplar {
  const labels: Label[] = [];
  let value = 0;
  let timestamp = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== WIRE_LEN) wrongWire(r, 'Exemplar', field, wire);
      const e = r.lengthEnd(end);
      labels.push(decodeLabel(r, e));
    } else if (field === 2) {
      if (wire !== WIRE_FIXED64) wrongWire(r, 'Exemplar', field, wire);
      value = r.double(end);
    } else if (field === 3) {
      if (wire !== WIRE_VARINT) wrongWire(r, 'Exemplar', field, wire);
      timestamp = r.int64(end);
    } else r.skip(wire, field, end);
  }
  return { labels, value, timestamp };
}

const NO_EXEMPLARS: readonly Exemplar[] = Object.freeze([]);

function decodeTimeSeries(r: Reader, end: number): TimeSeries {
  const labels: Label[] = [];
  const samples: Sample[] = [];
  let exemplars: Exemplar[] | undefined;
  let histograms = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field <= 4 && wire !== WIRE_LEN) wrongWire(r, 'TimeSeries', field, wire);
    switch (field) {
      case 1: {
        const e = r.lengthEnd(end);
        labels.push(decodeLabel(r, e));
        break;
      }
      case 2: {
        const e = r.lengthEnd(end);
        samples.push(decodeSample(r, e));
        break;
      }
      case 3: {
        const e = r.lengthEnd(end);
        (exemplars ??= []).push(decodeExemplar(r, e));
        break;
      }
      case 4:
        r.pos = r.lengthEnd(end);
        histograms++;
        break;
      default:
        r.skip(wire, field, end);
    }
  }
  const ts: TimeSeries = { labels, samples, exemplars: exemplars ?? NO_EXEMPLARS };
  return histograms > 0 ? { ...ts, skippedHistograms: histograms } : ts;
}

function decodeMetadata(r: Reader, end: number): MetricMetadata {
  let type: MetricType = 'unknown';
  let metricFamilyName = '';
  let help = '';
  let unit = '';
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        if (wire !== WIRE_VARINT) wrongWire(r, 'MetricMetadata', field, wire);
        // Unknown enum values (from a newer sender) read as 'unknown', as open proto3 enums allow.
        type = METRIC_TYPES[r.uint32(end)] ?? 'unknown';
        break;
      case 2:
        if (wire !== WIRE_LEN) wrongWire(r, 'MetricMetadata', field, wire);
        metricFamilyName = r.string(end);
        break;
      case 4:
        if (wire !== WIRE_LEN) wrongWire(r, 'MetricMetadata', field, wire);
        help = r.string(end);
        break;
      case 5:
        if (wire !== WIRE_LEN) wrongWire(r, 'MetricMetadata', field, wire);
        unit = r.string(end);
        break;
      default:
        r.skip(wire, field, end);
    }
  }
  return { type, metricFamilyName, help, unit };
}

/**
 * Decodes a serialized (uncompressed) `WriteRequest`. Unknown fields are skipped as protobuf
 * requires; structural errors throw `RemoteWriteDecodeError` with reason `protobuf`.
 */
export function decodeWriteRequestProto(buf: Uint8Array): WriteRequest {
  const r = new Reader(buf);
  const end = buf.length;
  const timeseries: TimeSeries[] = [];
  const metadata: MetricMetadata[] = [];
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== WIRE_LEN) wrongWire(r, 'WriteRequest', field, wire);
      const e = r.lengthEnd(end);
      timeseries.push(decodeTimeSeries(r, e));
    } else if (field === 3) {
      if (wire !== WIRE_LEN) wrongWire(r, 'WriteRequest', field, wire);
      const e = r.lengthEnd(end);
      metadata.push(decodeMetadata(r, e));
    } else r.skip(wire, field, end);
  }
  return { timeseries, metadata };
}

/**
 * A `WriteRequest` decoded for ingestion, without an object per sample: sample `j` of series `i`
 * (for `sampleEnd[i-1] ≤ j < sampleEnd[i]`, with `sampleEnd[-1]` = 0) is `ts[j]`, `vs[j]`. A
 * remote_write body carries ~20 samples per series; two objects and two boxed numbers per sample
 * were most of the receiver's garbage, and surviving the async durability wait, much of it was
 * promoted to the old generation, which is what inflated the receiver's RSS.
 */
export interface WriteRequestColumns<T> {
  readonly count: number;
  // `labels`, `known` and `keys` hold `count` entries (more when reused: see `reuse`).
  /** Label pairs as sent, or `undefined` when `known[i]` resolved them (they were not decoded). */
  readonly labels: ReadonlyArray<Label[] | undefined>;
  /** What `lookup` returned for the series' label bytes, if anything. */
  readonly known: ReadonlyArray<T | undefined>;
  /**
   * The series' encoded label fields as a latin1 string, when they were contiguous and `lookup`
   * did not know them (the key to remember them by); else undefined.
   */
  readonly keys: ReadonlyArray<string | undefined>;
  readonly sampleEnd: Int32Array;
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

/**
 * End of the run of complete `labels` fields (tag byte 0x0a, field 1 / wire 2) starting at `pos`,
 * without validating their contents; `pos` itself when there is none. Never throws: a malformed
 * field just ends the run and is left to the real decoder to report.
 */
function labelRunEnd(buf: Buffer, pos: number, end: number): number {
  let p = pos;
  while (p < end && buf[p] === 0x0a) {
    let q = p + 1;
    let len = 0;
    let ok = false;
    for (let shift = 0; shift < 35 && q < end; shift += 7) {
      const b = buf[q++]!;
      len += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        ok = true;
        break;
      }
    }
    if (!ok || q + len > end) break;
    p = q + len;
  }
  return p;
}

/**
 * Decodes a serialized `WriteRequest` into columns, accepting and rejecting exactly the bytes
 * `decodeWriteRequestProto` does, with the same errors (the same field readers run in the same
 * order). `lookup` is asked about each series' label bytes (see `keys`); when it knows them, their
 * decoding is skipped. That is sound because the caller only remembers label bytes that decoded
 * before: a `Label` message's decoding depends on nothing but its own bytes.
 */
export function decodeWriteRequestColumns<T>(
  buf: Uint8Array,
  /** Asked about `buf[from, to)`, the series' contiguous label fields. */
  lookup: (buf: Uint8Array, from: number, to: number) => T | undefined,
  /**
   * Arrays to decode into, e.g. from a previous request: the typed ones are grown by replacement
   * when too small, the others are overwritten from index 0 and may keep stale entries past `count`.
   */
  reuse?: {
    readonly sampleEnd: Int32Array;
    readonly ts: Float64Array;
    readonly vs: Float64Array;
    readonly labels?: Array<Label[] | undefined>;
    readonly known?: Array<T | undefined>;
    readonly keys?: Array<string | undefined>;
  },
): WriteRequestColumns<T> {
  const r = new Reader(buf);
  const raw = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.length;
  // Reused arrays are written by index, never truncated: setting `length = 0` would drop their
  // backing stores, and three fresh ones per request outlive the durability wait often enough to
  // be promoted.
  const labels: Array<Label[] | undefined> = reuse?.labels ?? [];
  const known: Array<T | undefined> = reuse?.known ?? [];
  const keys: Array<string | undefined> = reuse?.keys ?? [];
  let sampleEnd = reuse?.sampleEnd ?? new Int32Array(64);
  let ts = reuse?.ts ?? new Float64Array(1024);
  let vs = reuse?.vs ?? new Float64Array(1024);
  let n = 0;
  let count = 0;
  while (r.pos < end) {
    const tag = r.tag(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1) {
      if (wire !== WIRE_LEN) wrongWire(r, 'WriteRequest', field, wire);
      const tsEnd = r.lengthEnd(end);
      // --- One TimeSeries, as in decodeTimeSeries. ---
      let ls: Label[] | undefined;
      let hit: T | undefined;
      let key: string | undefined;
      /** Byte range of the label run a cache hit skipped, decoded after all if more labels follow. */
      let skippedFrom = -1;
      let skippedTo = -1;
      /** End of the run `key` covers; a label field at or after it means the labels are split. */
      let keyEnd = -1;
      let seenLabels = false;
      while (r.pos < tsEnd) {
        const at = r.pos;
        const stag = r.tag(tsEnd);
        const sfield = stag >>> 3;
        const swire = stag & 7;
        if (sfield <= 4 && swire !== WIRE_LEN) wrongWire(r, 'TimeSeries', sfield, swire);
        switch (sfield) {
          case 1: {
            if (!seenLabels) {
              seenLabels = true;
              const runEnd = labelRunEnd(raw, at, tsEnd);
              if (runEnd > at) {
                keyEnd = runEnd;
                hit = lookup(raw, at, runEnd);
                // Only a new series needs its bytes as a key: no string per series per request.
                if (hit === undefined) key = raw.toString('latin1', at, runEnd);
                else {
                  skippedFrom = at;
                  skippedTo = runEnd;
                  r.pos = runEnd;
                  break;
                }
              }
            } else if (keyEnd >= 0 && at >= keyEnd) {
              // Labels not in one run: no key, and the skipped run must be decoded after all.
              hit = undefined;
              key = undefined;
              keyEnd = -1;
              if (skippedFrom >= 0) {
                const resume = r.pos;
                r.pos = skippedFrom;
                ls ??= [];
                while (r.pos < skippedTo) {
                  r.tag(skippedTo);
                  const e = r.lengthEnd(skippedTo);
                  ls.push(decodeLabel(r, e));
                }
                r.pos = resume;
                skippedFrom = -1;
              }
            }
            const e = r.lengthEnd(tsEnd);
            (ls ??= []).push(decodeLabel(r, e));
            break;
          }
          case 2: {
            const e = r.lengthEnd(tsEnd);
            // As decodeSample, straight into the columns (absent fields are 0).
            if (n === ts.length) {
              const nts = new Float64Array(n * 2);
              nts.set(ts);
              ts = nts;
              const nvs = new Float64Array(n * 2);
              nvs.set(vs);
              vs = nvs;
            }
            ts[n] = 0;
            vs[n] = 0;
            while (r.pos < e) {
              const t2 = r.tag(e);
              const f2 = t2 >>> 3;
              const w2 = t2 & 7;
              if (f2 === 1) {
                if (w2 !== WIRE_FIXED64) wrongWire(r, 'Sample', f2, w2);
                vs[n] = r.double(e);
              } else if (f2 === 2) {
                if (w2 !== WIRE_VARINT) wrongWire(r, 'Sample', f2, w2);
                r.int64Into(e, ts, n);
              } else r.skip(w2, f2, e);
            }
            n++;
            break;
          }
          case 3: {
            const e = r.lengthEnd(tsEnd);
            decodeExemplar(r, e); // validated, not stored: the receiver does not keep exemplars
            break;
          }
          case 4:
            r.pos = r.lengthEnd(tsEnd);
            break;
          default:
            r.skip(swire, sfield, tsEnd);
        }
      }
      if (count === sampleEnd.length) {
        const next = new Int32Array(count * 2);
        next.set(sampleEnd);
        sampleEnd = next;
      }
      labels[count] = hit !== undefined ? undefined : (ls ?? []);
      known[count] = hit;
      keys[count] = key;
      sampleEnd[count++] = n;
    } else if (field === 3) {
      if (wire !== WIRE_LEN) wrongWire(r, 'WriteRequest', field, wire);
      const e = r.lengthEnd(end);
      decodeMetadata(r, e);
    } else r.skip(wire, field, end);
  }
  return { count, labels, known, keys, sampleEnd, ts, vs };
}

// ---------------------------------------------------------------------------------------------
// protobufjs schema: encoding, and the reflection decoder the hand-written one is measured against.

const SCHEMA = {
  nested: {
    prometheus: {
      nested: {
        WriteRequest: {
          fields: {
            timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 },
            metadata: { rule: 'repeated', type: 'MetricMetadata', id: 3 },
          },
          reserved: [[2, 2]],
        },
        TimeSeries: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            samples: { rule: 'repeated', type: 'Sample', id: 2 },
            exemplars: { rule: 'repeated', type: 'Exemplar', id: 3 },
          },
        },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
        Exemplar: {
          fields: {
            labels: { rule: 'repeated', type: 'Label', id: 1 },
            value: { type: 'double', id: 2 },
            timestamp: { type: 'int64', id: 3 },
          },
        },
        MetricMetadata: {
          fields: {
            type: { type: 'MetricType', id: 1 },
            metricFamilyName: { type: 'string', id: 2 },
            help: { type: 'string', id: 4 },
            unit: { type: 'string', id: 5 },
          },
          nested: {
            MetricType: {
              values: { UNKNOWN: 0, COUNTER: 1, GAUGE: 2, HISTOGRAM: 3, GAUGEHISTOGRAM: 4, SUMMARY: 5, INFO: 6, STATESET: 7 },
            },
          },
        },
      },
    },
  },
};

let writeRequestType: protobuf.Type | undefined;

/** The protobufjs reflection type of `prometheus.WriteRequest` (built on first use). */
export function writeRequestProtoType(): protobuf.Type {
  writeRequestType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('prometheus.WriteRequest');
  return writeRequestType;
}

interface Encodable {
  [field: string]: unknown;
}

/** proto3 writes no zero values (0, -0, '', enum 0); omitting them keeps the bytes identical to Prometheus's. */
function labelMsg(l: Label): Encodable {
  const m: Encodable = {};
  if (l.name !== '') m.name = l.name;
  if (l.value !== '') m.value = l.value;
  return m;
}

function pointMsg(value: number, timestamp: number): Encodable {
  const m: Encodable = {};
  if (value !== 0) m.value = value;
  if (timestamp !== 0) m.timestamp = timestamp;
  return m;
}

/** Serializes a `WriteRequest` (uncompressed protobuf), byte-compatible with Prometheus's encoder. */
export function encodeWriteRequestProto(req: WriteRequest): Uint8Array {
  const type = writeRequestProtoType();
  const msg = {
    timeseries: req.timeseries.map((ts) => ({
      labels: ts.labels.map(labelMsg),
      samples: ts.samples.map((s) => pointMsg(s.value, s.timestamp)),
      exemplars: ts.exemplars.map((e) => ({ labels: e.labels.map(labelMsg), ...pointMsg(e.value, e.timestamp) })),
    })),
    metadata: req.metadata.map((md) => {
      const m: Encodable = {};
      const t = METRIC_TYPES.indexOf(md.type);
      if (t > 0) m.type = t;
      if (md.metricFamilyName !== '') m.metricFamilyName = md.metricFamilyName;
      if (md.help !== '') m.help = md.help;
      if (md.unit !== '') m.unit = md.unit;
      return m;
    }),
  };
  return type.encode(type.fromObject(msg)).finish();
}

/** Decoding with protobufjs's reflection decoder, for comparison and cross-checking only. */
export function decodeWriteRequestWithProtobufjs(buf: Uint8Array): WriteRequest {
  const type = writeRequestProtoType();
  const obj = type.toObject(type.decode(buf), { longs: Number, enums: Number, defaults: true, arrays: true }) as {
    timeseries: Array<{ labels: Label[]; samples: Sample[]; exemplars: Exemplar[] }>;
    metadata: Array<{ type: number; metricFamilyName: string; help: string; unit: string }>;
  };
  return {
    timeseries: obj.timeseries,
    metadata: obj.metadata.map((m) => ({ ...m, type: METRIC_TYPES[m.type] ?? 'unknown' })),
  };
}
