/**
 * Gorilla-style XOR chunk for float samples, following the layout ideas of Prometheus's
 * `chunkenc/xor.go` (Pelkonen et al., "Gorilla", VLDB 2015):
 *
 * - sample 0: timestamp as a zig-zag varint, value as its raw 64 bits;
 * - sample 1: timestamp delta as a varint, value XOR-ed with the previous one;
 * - sample n: delta-of-delta of the timestamp in a prefix-coded bucket
 *   (`0` | `10`+14 bits | `110`+17 | `1110`+20 | `1111`+64), value XOR-ed.
 *
 * A value XOR is `0` when unchanged; otherwise `1` then either `0` + the meaningful bits inside the
 * previous leading/trailing-zero window, or `1` + 5 bits leading zeros + 6 bits length + the bits.
 * Regular scrapes cost 1 bit for the timestamp, so slowly changing series cost ~1–2 bytes a sample.
 *
 * Unlike Prometheus the sample count lives in the chunk object, not a 2-byte header: chunks here
 * are never written to disk except through the checkpoint, which records the count itself.
 * Values round-trip bit-exactly (NaN payloads, -0), which staleness markers depend on.
 */
import type { SealedArena } from './arena.js';
import { BitReader, BitWriter, type ByteAllocator } from './bstream.js';

const TWO32 = 0x1_0000_0000;

const f64 = new Float64Array(1);
/** One-sample columns for `XorChunk.append`. */
const ONE_T = new Float64Array(1);
const ONE_V = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function clz64(hi: number, lo: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function ctz64(hi: number, lo: number): number {
  return lo !== 0 ? ctz32(lo) : 32 + ctz32(hi);
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

function writeUvarint(w: BitWriter, x: number): void {
  while (x >= 0x80) {
    w.writeByte((x % 0x80) | 0x80);
    x = Math.floor(x / 0x80);
  }
  w.writeByte(x);
}

function readUvarint(r: BitReader): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    const b = r.readByte();
    x += (b & 0x7f) * mul;
    if (b < 0x80) return x;
    mul *= 0x80;
  }
  throw new Error('xor chunk: varint overflow');
}

/** Bucket sizes for the delta-of-delta prefix code; each holds a signed two's-complement value. */
function fits(dod: number, bits: number): boolean {
  const half = 2 ** (bits - 1);
  return dod >= -half && dod < half;
}

/** Default number of samples after which the head cuts a new chunk, as in Prometheus. */
export const SAMPLES_PER_CHUNK = 120;

/** Read access shared by sealed and open chunks. */
export interface ChunkReader {
  readonly minT: number;
  readonly maxT: number;
  readonly numSamples: number;
  /** Encoded size in bytes. */
  readonly size: number;
  /** The encoded bytes as a view (no copy). */
  readonly bytes: Uint8Array;
  iterator(): XorIterator;
  /** Writes the samples with `lo ≤ t ≤ hi` to `ts`/`vs` from index `k`; returns the next index (see {@link decodeXorInto}). */
  decodeInto(lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number;
}

/**
 * An immutable chunk: `size` bytes at `offset` in `buf`, usually a slab shared with other chunks
 * (see `arena.ts`) — which is why it stores an offset rather than its own `Uint8Array` view.
 *
 * Kept deliberately small, since there is one per ~120 samples: `minT` is not stored but decoded
 * from the chunk's first bytes, and `maxT` is kept as a span from it. Millisecond timestamps do
 * not fit V8's small integers and would each be boxed as a 16-byte heap number; a span under
 * ~24 days does fit. This takes the object from ~104 to ~64 bytes.
 */
export class SealedChunk implements ChunkReader {
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly size: number;
  readonly numSamples: number;
  readonly #span: number;

  constructor(buf: Uint8Array, offset: number, size: number, numSamples: number, minT: number, maxT: number) {
    this.buf = buf;
    this.offset = offset;
    this.size = size;
    this.numSamples = numSamples;
    this.#span = maxT - minT;
  }

  get minT(): number {
    // The chunk starts with the first timestamp as a zig-zag varint.
    const buf = this.buf;
    let x = 0;
    let mul = 1;
    for (let i = this.offset; i < this.offset + 10; i++) {
      const b = buf[i]!;
      x += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 0x80;
    }
    return unzigzag(x);
  }

  get maxT(): number {
    return this.minT + this.#span;
  }

  get bytes(): Uint8Array {
    return this.buf.subarray(this.offset, this.offset + this.size);
  }

  /** Whether any sample may lie in [mint, maxt]; decodes `minT` once instead of twice. */
  overlaps(mint: number, maxt: number): boolean {
    const minT = this.minT;
    return minT + this.#span >= mint && minT <= maxt;
  }

  iterator(): XorIterator {
    return new XorIterator(this.buf, this.numSamples, this.offset);
  }

  decodeInto(lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number {
    return decodeXorInto(this.buf, this.offset, this.numSamples, lo, hi, ts, vs, k);
  }
}

/** A chunk that is still being appended to. Appends must have strictly increasing timestamps. */
export class XorChunk implements ChunkReader {
  readonly #w: BitWriter;
  #n = 0;
  #minT = 0;
  #t = 0;
  #tDelta = 0;
  #vHi = 0;
  #vLo = 0;
  /** 0xff = no window yet, forcing the first XOR to spell out its window. */
  #leading = 0xff;
  #trailing = 0;

  /** `arena`, when given, supplies the growing buffer (avoids one ArrayBuffer per open chunk). */
  constructor(initialBytes = 16, arena?: ByteAllocator) {
    this.#w = new BitWriter(initialBytes, arena);
  }

  /** Rebuilds an appendable chunk from encoded bytes, e.g. the open chunk saved by a checkpoint. */
  static fromBytes(bytes: Uint8Array, numSamples: number, arena?: ByteAllocator): XorChunk {
    const c = new XorChunk(Math.max(16, bytes.byteLength), arena);
    const it = new XorIterator(bytes, numSamples);
    while (it.next()) c.append(it.t, it.v);
    return c;
  }

  get numSamples(): number {
    return this.#n;
  }

  get minT(): number {
    return this.#minT;
  }

  get maxT(): number {
    return this.#t;
  }

  get bytes(): Uint8Array {
    const off = this.#w.byteOffset;
    return this.#w.buffer.subarray(off, off + this.size);
  }

  /** Bytes actually reserved in memory, growth slack included. */
  get capacity(): number {
    return this.#w.capacity;
  }

  /** Bytes the encoded samples occupy. */
  get size(): number {
    return (this.#w.bitLength + 7) >>> 3;
  }

  append(t: number, v: number): void {
    ONE_T[0] = t;
    ONE_V[0] = v;
    this.appendFrom(ONE_T, ONE_V, 0);
  }

  /**
   * `append(ts[i], vs[i])`. Bulk appends come through here: a float passed to a call that is not
   * inlined is boxed into a heap number, which per sample was most of what ingest allocated. For
   * the same reason the value's 32-bit halves travel as signed integers (always small integers),
   * the bit writer only looking at their bits.
   */
  appendFrom(ts: Float64Array, vs: Float64Array, i: number): void {
    const t = ts[i]!;
    f64[0] = vs[i]!;
    const hi = u32[1]! | 0;
    const lo = u32[0]! | 0;
    const w = this.#w;
    if (this.#n === 0) {
      writeUvarint(w, zigzag(t));
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
      this.#minT = t;
    } else if (this.#n === 1) {
      this.#tDelta = t - this.#t;
      writeUvarint(w, this.#tDelta);
      this.#writeValue(hi, lo);
    } else {
      const delta = t - this.#t;
      const dod = delta - this.#tDelta;
      if (dod === 0) {
        w.writeBit(0);
      } else if (fits(dod, 14)) {
        w.writeBits(0b10, 2);
        w.writeBits(dod, 14);
      } else if (fits(dod, 17)) {
        w.writeBits(0b110, 3);
        w.writeBits(dod, 17);
      } else if (fits(dod, 20)) {
        w.writeBits(0b1110, 4);
        w.writeBits(dod, 20);
      } else {
        w.writeBits(0b1111, 4);
        const dhi = Math.floor(dod / TWO32);
        w.writeBits(dhi >>> 0, 32);
        w.writeBits(dod - dhi * TWO32, 32);
      }
      this.#tDelta = delta;
      this.#writeValue(hi, lo);
    }
    this.#t = t;
    // Signed form keeps them small integers (SMIs) instead of boxed heap numbers.
    this.#vHi = hi;
    this.#vLo = lo;
    this.#n++;
  }

  #writeValue(hi: number, lo: number): void {
    const w = this.#w;
    const xh = (hi ^ this.#vHi) >>> 0;
    const xl = (lo ^ this.#vLo) >>> 0;
    if (xh === 0 && xl === 0) {
      w.writeBit(0);
      return;
    }
    let leading = clz64(xh, xl);
    const trailing = ctz64(xh, xl);
    if (leading > 31) leading = 31; // the field is 5 bits wide
    if (this.#leading !== 0xff && leading >= this.#leading && trailing >= this.#trailing) {
      w.writeBits(0b10, 2);
      writeShifted(w, xh | 0, xl | 0, this.#trailing, 64 - this.#leading - this.#trailing);
      return;
    }
    this.#leading = leading;
    this.#trailing = trailing;
    const sig = 64 - leading - trailing;
    w.writeBits(0b11, 2);
    w.writeBits(leading, 5);
    w.writeBits(sig & 63, 6); // 64 meaningful bits is encoded as 0
    writeShifted(w, xh | 0, xl | 0, trailing, sig);
  }

  /**
   * Freezes the chunk into an exact-size copy placed in `arena` and hands the growing buffer back
   * to its allocator; this chunk must not be used afterwards.
   */
  seal(arena: SealedArena): SealedChunk {
    const size = this.size;
    const w = this.#w;
    const slab = arena.copy(w.buffer, size, w.byteOffset);
    const sealed = new SealedChunk(slab, arena.lastOffset, size, this.#n, this.#minT, this.#t);
    w.release();
    return sealed;
  }

  /** Hands the buffer back to its allocator (the chunk was dropped); must not be used afterwards. */
  discard(): void {
    this.#w.release();
  }

  /** A read-only view of the samples appended so far; shares the live buffer (see `MemSeries.chunksIn`). */
  snapshot(): SealedChunk {
    return new SealedChunk(this.#w.buffer, this.#w.byteOffset, this.size, this.#n, this.#minT, this.#t);
  }

  iterator(): XorIterator {
    return new XorIterator(this.#w.buffer, this.#n, this.#w.byteOffset);
  }

  decodeInto(lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number {
    return decodeXorInto(this.#w.buffer, this.#w.byteOffset, this.#n, lo, hi, ts, vs, k);
  }
}

/** Writes `n` bits of (hi:lo >> shift); the halves are taken as bit patterns (signed is fine). */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  if (shift === 0) {
    w.writeBits64(hi, lo, n);
  } else if (shift < 32) {
    // `| 0`, not `>>> 0`: a result at or above 2^31 would be boxed when passed on.
    w.writeBits64((hi >>> shift) | 0, (lo >>> shift) | (hi << (32 - shift)), n);
  } else {
    w.writeBits64(0, (hi >>> (shift - 32)) | 0, n);
  }
}

/**
 * Forward iterator over a chunk. `next()` advances and reports whether a sample is available at
 * `t`/`v`; `seek(t)` advances to the first sample at or after `t` and never moves backwards.
 */
export class XorIterator {
  readonly #r: BitReader;
  readonly #total: number;
  #read = 0;
  #tDelta = 0;
  #hi = 0;
  #lo = 0;
  #leading = 0;
  #trailing = 0;
  /** Timestamp of the current sample; valid after `next()` or `seek()` returned true. */
  t = 0;
  /** Value of the current sample, NaN payload preserved. */
  v = 0;

  constructor(bytes: Uint8Array, numSamples: number, byteOffset = 0) {
    this.#r = new BitReader(bytes, byteOffset);
    this.#total = numSamples;
  }

  next(): boolean {
    if (this.#read >= this.#total) return false;
    const r = this.#r;
    if (this.#read === 0) {
      this.t = unzigzag(readUvarint(r));
      this.#hi = r.readBits(32);
      this.#lo = r.readBits(32);
    } else if (this.#read === 1) {
      this.#tDelta = readUvarint(r);
      this.t += this.#tDelta;
      this.#readValue();
    } else {
      let dod = 0;
      if (r.readBit() === 0) {
        dod = 0;
      } else if (r.readBit() === 0) {
        dod = signExtend(r.readBits(14), 14);
      } else if (r.readBit() === 0) {
        dod = signExtend(r.readBits(17), 17);
      } else if (r.readBit() === 0) {
        dod = signExtend(r.readBits(20), 20);
      } else {
        const hi = r.readBits(32) | 0;
        dod = hi * TWO32 + r.readBits(32);
      }
      this.#tDelta += dod;
      this.t += this.#tDelta;
      this.#readValue();
    }
    u32[1] = this.#hi;
    u32[0] = this.#lo;
    this.v = f64[0]!;
    this.#read++;
    return true;
  }

  #readValue(): void {
    const r = this.#r;
    if (r.readBit() === 0) return; // unchanged
    if (r.readBit() === 1) {
      this.#leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.#trailing = 64 - this.#leading - sig;
    }
    const n = 64 - this.#leading - this.#trailing;
    let xh = 0;
    let xl = 0;
    if (n > 32) {
      xh = r.readBits(n - 32);
      xl = r.readBits(32);
    } else {
      xl = r.readBits(n);
    }
    const s = this.#trailing;
    if (s >= 32) {
      xh = (xl << (s - 32)) >>> 0;
      xl = 0;
    } else if (s > 0) {
      xh = ((xh << s) | (xl >>> (32 - s))) >>> 0;
      xl = (xl << s) >>> 0;
    }
    this.#hi = (this.#hi ^ xh) >>> 0;
    this.#lo = (this.#lo ^ xl) >>> 0;
  }

  /** Advances to the first sample with timestamp ≥ `t`; false when the chunk has none. */
  seek(t: number): boolean {
    if (this.#read > 0 && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }
}

function signExtend(x: number, bits: number): number {
  const half = 2 ** (bits - 1);
  return x >= half ? x - 2 * half : x;
}

/**
 * `n` bits (1 ≤ n ≤ 32) of `buf` starting at bit `pos`, as an unsigned integer. The caller
 * advances its own position: keeping the cursor in a local of the decode loop (rather than in an
 * object field) is what lets V8 keep the whole loop in registers.
 *
 * Bytes past the end of `buf` read as zero; chunks are bounded by their sample count, so those
 * bits are never used. The end is checked explicitly: letting a typed-array load go out of bounds
 * deoptimizes the decode loop.
 */
function peekBits(buf: Uint8Array, pos: number, n: number): number {
  const i = pos >>> 3;
  const off = pos & 7;
  const w = i + 4 < buf.length ? ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0 : wordNearEnd(buf, i);
  // Four bytes hold the window whenever off + n ≤ 32, which covers every read but the 32-bit ones.
  if (off + n <= 32) return ((w << off) >>> 0) >>> (32 - n);
  // Spills into a fifth byte: take the 32 - off bits of the word, then the rest from the next byte.
  const rest = off + n - 32;
  const head = ((w << off) >>> 0) >>> off; // low 32 - off bits
  const tail = (i + 4 < buf.length ? buf[i + 4]! : 0) >>> (8 - rest);
  return (head * (1 << rest) + tail) >>> 0;
}

/** The big-endian word at byte `i` where it may run past the end of `buf` (zeros beyond). */
function wordNearEnd(buf: Uint8Array, i: number): number {
  let w = 0;
  for (let k = 0; k < 4; k++) w = (w << 8) | (i + k < buf.length ? buf[i + k]! : 0);
  return w >>> 0;
}

/** Reusable scratch for reassembling float64 bits in {@link decodeXorInto}. */
const dF64 = new Float64Array(1);
const dU32 = new Uint32Array(dF64.buffer);

/**
 * Decodes the samples of one chunk with `lo ≤ t ≤ hi` straight into `ts`/`vs` at index `k`
 * onwards — the query path's replacement for an `XorIterator` loop yielding `{t, v}` objects,
 * which allocated per sample and read bit by bit through object fields. Same format and results
 * as {@link XorIterator}; `Float64Array` keeps NaN payloads (staleness markers) bit-exact. The
 * caller must leave room for `numSamples` from `k`. Returns the index after the last sample.
 */
export function decodeXorInto(buf: Uint8Array, byteOffset: number, numSamples: number, lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number {
  if (numSamples === 0) return k;
  let pos = byteOffset * 8;
  // Sample 0: zig-zag varint timestamp (byte aligned at the start), raw 64-bit value.
  let z = 0;
  let mul = 1;
  for (let k = 0; k < 10; k++) {
    const b = buf[pos >>> 3]!;
    pos += 8;
    z += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 0x80;
  }
  let t = unzigzag(z);
  let vhi = peekBits(buf, pos, 32);
  let vlo = peekBits(buf, pos + 32, 32);
  pos += 64;
  let tDelta = 0;
  let leading = 0;
  let trailing = 0;
  for (let read = 0; ; ) {
    if (t > hi) return k;
    if (t >= lo) {
      dU32[1] = vhi;
      dU32[0] = vlo;
      ts[k] = t;
      vs[k] = dF64[0]!;
      k++;
    }
    if (++read >= numSamples) return k;
    // Value control bits, when already read along with the timestamp's (-1: not yet).
    let c = -1;
    if (read === 1) {
      // Sample 1: the first delta as a plain varint, which need not be byte aligned.
      let d = 0;
      let m = 1;
      for (let k = 0; k < 10; k++) {
        const b = peekBits(buf, pos, 8);
        pos += 8;
        d += (b & 0x7f) * m;
        if (b < 0x80) break;
        m *= 0x80;
      }
      tDelta = d;
    } else {
      // Delta-of-delta bucket: 0 | 10+14 | 110+17 | 1110+20 | 1111+64.
      const p = peekBits(buf, pos, 4);
      if (p < 8) {
        // Regular interval: the '0' is followed by the value's control bits, read in one go.
        pos += 1;
        c = (p >>> 1) & 3;
      } else if (p < 12) {
        tDelta += signExtend(peekBits(buf, pos + 2, 14), 14);
        pos += 16;
      } else if (p < 14) {
        tDelta += signExtend(peekBits(buf, pos + 3, 17), 17);
        pos += 20;
      } else if (p < 15) {
        tDelta += signExtend(peekBits(buf, pos + 4, 20), 20);
        pos += 24;
      } else {
        const dh = peekBits(buf, pos + 4, 32) | 0;
        tDelta += dh * TWO32 + peekBits(buf, pos + 36, 32);
        pos += 68;
      }
    }
    t += tDelta;
    // Value: 0 = unchanged; 10 = bits inside the previous window; 11 = new window, then the bits.
    if (c < 0) c = peekBits(buf, pos, 2);
    if (c < 2) {
      pos += 1;
      continue;
    }
    pos += 2;
    if (c === 3) {
      const lw = peekBits(buf, pos, 11); // 5 bits leading zeros, 6 bits length
      leading = lw >>> 6;
      let sig = lw & 63;
      pos += 11;
      if (sig === 0) sig = 64;
      trailing = 64 - leading - sig;
    }
    const nb = 64 - leading - trailing;
    let xh = 0;
    let xl = 0;
    if (nb > 32) {
      xh = peekBits(buf, pos, nb - 32);
      xl = peekBits(buf, pos + nb - 32, 32);
    } else {
      xl = peekBits(buf, pos, nb);
    }
    pos += nb;
    const s = trailing;
    if (s >= 32) {
      xh = (xl << (s - 32)) >>> 0;
      xl = 0;
    } else if (s > 0) {
      xh = ((xh << s) | (xl >>> (32 - s))) >>> 0;
      xl = (xl << s) >>> 0;
    }
    vhi = (vhi ^ xh) >>> 0;
    vlo = (vlo ^ xl) >>> 0;
  }
}
