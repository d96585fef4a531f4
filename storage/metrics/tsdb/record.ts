/**
 * WAL and checkpoint record payloads, after Prometheus's `record` package: series records carry
 * label sets once, sample records refer to series by ref and are delta-encoded against the first
 * sample, so a typical sample costs ~11 bytes on disk (varint ref and time deltas, raw float64).
 *
 * Layouts (varints are unsigned LEB128, `s` = zig-zag signed):
 * - series  (1): count, then per series: ref, nLabels, (nameLen, name, valueLen, value)*
 * - samples (2): count, baseRef, s(baseT), then per sample: s(ref-baseRef), s(t-baseT), f64le
 * - chunks  (3): count, then per chunk: ref, flags(1 = open head chunk), s(minT), s(maxT),
 *                numSamples, byteLen, bytes   — checkpoint only
 */
import type { Label, Labels } from '../../../model/labels.js';

export const RECORD_SERIES = 1;
export const RECORD_SAMPLES = 2;
export const RECORD_CHUNKS = 3;

export interface SeriesRecordEntry {
  readonly ref: number;
  readonly labels: Labels;
}

export interface ChunkRecordEntry {
  readonly ref: number;
  readonly open: boolean;
  readonly minT: number;
  readonly maxT: number;
  readonly numSamples: number;
  readonly bytes: Uint8Array;
}

export type DecodedRecord =
  | { readonly type: typeof RECORD_SERIES; readonly series: SeriesRecordEntry[] }
  | { readonly type: typeof RECORD_SAMPLES; readonly refs: Float64Array; readonly ts: Float64Array; readonly vs: Float64Array }
  | { readonly type: typeof RECORD_CHUNKS; readonly chunks: ChunkRecordEntry[] };

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Scratch for a sample value, and its bytes in host order. */
const SAMPLE_V = new Float64Array(1);
const SAMPLE_BYTES = new Uint8Array(SAMPLE_V.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Append-only byte builder. */
export class Encoder {
  #buf: Buffer;
  #len = 0;

  constructor(initial = 256) {
    this.#buf = Buffer.allocUnsafe(initial);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  uvarint(x: number): void {
    this.#reserve(10);
    const buf = this.#buf;
    let len = this.#len;
    while (x >= 0x80) {
      buf[len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    buf[len++] = x;
    this.#len = len;
  }

  varint(x: number): void {
    this.uvarint(zigzag(x));
  }

  f64(v: number): void {
    this.#reserve(8);
    this.#buf.writeDoubleLE(v, this.#len);
    this.#len += 8;
  }

  bytes(b: Uint8Array): void {
    this.uvarint(b.byteLength);
    this.#reserve(b.byteLength);
    this.#buf.set(b, this.#len);
    this.#len += b.byteLength;
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.#reserve(n);
    this.#buf.write(s, this.#len, n, 'utf8');
    this.#len += n;
  }

  /** Empties the encoder for reuse, keeping its buffer; views from `finish` become invalid. */
  reset(): void {
    this.#len = 0;
  }

  /**
   * Appends one sample of a samples record: s(ref - baseRef), s(t - baseT), f64le. The common case,
   * small deltas, takes 32-bit integer paths; anything else falls back to the general varint.
   */
  sample(dRef: number, dT: number, v: number): void {
    SAMPLE_V[0] = v;
    this.#sample(dRef, dT);
  }

  /**
   * `sample` for `vs[i]`. The value is copied from the column as bytes: passed as a float argument
   * it would be boxed into a heap number, once per logged sample.
   */
  sampleFrom(dRef: number, dT: number, vs: Float64Array, i: number): void {
    SAMPLE_V[0] = vs[i]!;
    this.#sample(dRef, dT);
  }

  /** Writes the sample whose value is in `SAMPLE_V[0]`. */
  #sample(dRef: number, dT: number): void {
    this.#reserve(28);
    const buf = this.#buf;
    let len = this.#len;
    if (dRef >= -0x20000000 && dRef < 0x20000000 && dT >= -0x20000000 && dT < 0x20000000 && Number.isInteger(dRef) && Number.isInteger(dT)) {
      let x = dRef >= 0 ? dRef << 1 : ((-dRef) << 1) - 1;
      while (x >= 0x80) {
        buf[len++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      buf[len++] = x;
      x = dT >= 0 ? dT << 1 : ((-dT) << 1) - 1;
      while (x >= 0x80) {
        buf[len++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      buf[len++] = x;
      this.#len = len;
    } else {
      this.varint(dRef);
      this.varint(dT);
      len = this.#len;
    }
    if (LITTLE_ENDIAN) for (let k = 0; k < 8; k++) buf[len + k] = SAMPLE_BYTES[k]!;
    else buf.writeDoubleLE(SAMPLE_V[0]!, len);
    this.#len = len + 8;
  }

  /** The encoded bytes; a view, valid until the next write. */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

export class DecodeError extends Error {
  override name = 'DecodeError';
}

class Decoder {
  #off = 0;
  constructor(readonly buf: Buffer) {}

  get done(): boolean {
    return this.#off >= this.buf.length;
  }

  byte(): number {
    if (this.#off >= this.buf.length) throw new DecodeError('record truncated');
    return this.buf[this.#off++]!;
  }

  uvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 0x80;
    }
    throw new DecodeError('varint overflow');
  }

  varint(): number {
    return unzigzag(this.uvarint());
  }

  f64(): number {
    if (this.#off + 8 > this.buf.length) throw new DecodeError('record truncated');
    const v = this.buf.readDoubleLE(this.#off);
    this.#off += 8;
    return v;
  }

  #take(n: number): Buffer {
    if (this.#off + n > this.buf.length) throw new DecodeError('record truncated');
    const b = this.buf.subarray(this.#off, this.#off + n);
    this.#off += n;
    return b;
  }

  string(): string {
    return this.#take(this.uvarint()).toString('utf8');
  }

  /** A view into the record; callers that keep it must copy (the head copies into its arena). */
  bytesView(): Uint8Array {
    return this.#take(this.uvarint());
  }
}

export function encodeSeries(series: readonly SeriesRecordEntry[], e = new Encoder()): Buffer {
  e.byte(RECORD_SERIES);
  e.uvarint(series.length);
  for (const s of series) {
    e.uvarint(s.ref);
    e.uvarint(s.labels.length);
    for (const l of s.labels) {
      e.string(l.name);
      e.string(l.value);
    }
  }
  return e.finish();
}

export function encodeSamples(refs: Float64Array, ts: Float64Array, vs: Float64Array, n: number, e = new Encoder(16 + n * 12)): Buffer {
  e.byte(RECORD_SAMPLES);
  e.uvarint(n);
  if (n > 0) {
    const baseRef = refs[0]!;
    const baseT = ts[0]!;
    e.uvarint(baseRef);
    e.varint(baseT);
    for (let i = 0; i < n; i++) e.sampleFrom(refs[i]! - baseRef, ts[i]! - baseT, vs, i);
  }
  return e.finish();
}

export function encodeChunks(chunks: readonly ChunkRecordEntry[], e = new Encoder()): Buffer {
  e.byte(RECORD_CHUNKS);
  e.uvarint(chunks.length);
  for (const c of chunks) {
    e.uvarint(c.ref);
    e.byte(c.open ? 1 : 0);
    e.varint(c.minT);
    e.varint(c.maxT);
    e.uvarint(c.numSamples);
    e.bytes(c.bytes);
  }
  return e.finish();
}

/** Decodes one record payload; throws DecodeError on malformed input. */
export function decodeRecord(buf: Buffer): DecodedRecord {
  const d = new Decoder(buf);
  const type = d.byte();
  switch (type) {
    case RECORD_SERIES: {
      const n = d.uvarint();
      const series: SeriesRecordEntry[] = [];
      for (let i = 0; i < n; i++) {
        const ref = d.uvarint();
        const nl = d.uvarint();
        const labels: Label[] = [];
        for (let j = 0; j < nl; j++) labels.push({ name: d.string(), value: d.string() });
        series.push({ ref, labels });
      }
      return { type, series };
    }
    case RECORD_SAMPLES: {
      const n = d.uvarint();
      const refs = new Float64Array(n);
      const ts = new Float64Array(n);
      const vs = new Float64Array(n);
      if (n > 0) {
        const baseRef = d.uvarint();
        const baseT = d.varint();
        for (let i = 0; i < n; i++) {
          refs[i] = baseRef + d.varint();
          ts[i] = baseT + d.varint();
          vs[i] = d.f64();
        }
      }
      return { type, refs, ts, vs };
    }
    case RECORD_CHUNKS: {
      const n = d.uvarint();
      const chunks: ChunkRecordEntry[] = [];
      for (let i = 0; i < n; i++) {
        const ref = d.uvarint();
        const open = d.byte() === 1;
        const minT = d.varint();
        const maxT = d.varint();
        const numSamples = d.uvarint();
        chunks.push({ ref, open, minT, maxT, numSamples, bytes: d.bytesView() });
      }
      return { type, chunks };
    }
    default:
      throw new DecodeError(`unknown record type ${type}`);
  }
}
