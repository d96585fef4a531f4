/**
 * Bit-granular writer and reader over a growable byte buffer, the substrate of the XOR chunk.
 *
 * JavaScript bitwise operators work on 32-bit integers, so the API takes at most 32 bits per call
 * and 64-bit quantities travel as (hi, lo) pairs of unsigned 32-bit words. Bits are written most
 * significant first, the same order Gorilla and Prometheus use.
 */

/**
 * Source of zeroed byte regions. A region is `n` bytes at `lastOffset` in the buffer `alloc`
 * returns, so many regions can share one slab without a typed-array view each (see `arena.ts`).
 */
export interface ByteAllocator {
  alloc(n: number): Uint8Array;
  /** Offset of the region the latest `alloc` returned. */
  readonly lastOffset: number;
  /**
   * Takes back a region its owner will neither write nor read again; the allocator may hand it
   * out again once no reader can still see it. Optional: without it regions go with the GC.
   */
  release?(buf: Uint8Array, offset: number, n: number): void;
}

const HEAP_ALLOCATOR: ByteAllocator = { alloc: (n) => new Uint8Array(n), lastOffset: 0 };

/** Appends bits to a byte region that doubles when full; unused trailing bits stay zero. */
export class BitWriter {
  #buf: Uint8Array;
  /** Where the region starts in `#buf` and how many bytes it has. */
  #base: number;
  #cap: number;
  #bitLen = 0;
  readonly #alloc: ByteAllocator;

  /**
   * `alloc` must return zeroed memory; the head passes its open-chunk pool (see `arena.ts`). An
   * object rather than a callback so open chunks do not each carry a closure and its context.
   */
  constructor(initialBytes = 16, alloc: ByteAllocator = HEAP_ALLOCATOR) {
    this.#alloc = alloc;
    this.#cap = Math.max(1, initialBytes);
    this.#buf = alloc.alloc(this.#cap);
    this.#base = alloc.lastOffset;
  }

  /** Number of bits written so far. */
  get bitLength(): number {
    return this.#bitLen;
  }

  /** Bytes reserved, which is what the buffer costs in memory. */
  get capacity(): number {
    return this.#cap;
  }

  /**
   * The buffer holding the region, which starts at `byteOffset`. Readers may keep a reference:
   * later writes only touch bits past the current length, and growth moves to a new region rather
   * than rewriting the old one (which the allocator recycles only once readers are done with it).
   */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  get byteOffset(): number {
    return this.#base;
  }

  /** Hands the region back to the allocator; the writer must not be used afterwards. */
  release(): void {
    this.#alloc.release?.(this.#buf, this.#base, this.#cap);
  }

  #ensure(byteIndex: number): void {
    if (byteIndex < this.#cap) return;
    let size = this.#cap * 2;
    while (size <= byteIndex) size *= 2;
    const next = this.#alloc.alloc(size);
    const base = this.#alloc.lastOffset;
    next.set(this.#buf.subarray(this.#base, this.#base + this.#cap), base);
    this.release();
    this.#buf = next;
    this.#base = base;
    this.#cap = size;
  }

  writeBit(bit: number): void {
    const i = this.#bitLen >>> 3;
    this.#ensure(i);
    if (bit) this.#buf[this.#base + i]! |= 0x80 >>> (this.#bitLen & 7);
    this.#bitLen++;
  }

  /** Writes the low `n` bits (0 ≤ n ≤ 32) of `value`. */
  writeBits(value: number, n: number): void {
    if (n <= 0) return;
    // One capacity check for all the bytes this call touches, not one per byte.
    this.#ensure((this.#bitLen + n - 1) >>> 3);
    const buf = this.#buf;
    const base = this.#base;
    while (n > 0) {
      const i = base + (this.#bitLen >>> 3);
      const free = 8 - (this.#bitLen & 7);
      const take = free < n ? free : n;
      const shift = n - take; // < 32 because take ≥ 1
      const bits = (value >>> shift) & ((1 << take) - 1);
      buf[i]! |= bits << (free - take);
      this.#bitLen += take;
      n -= take;
    }
  }

  /** Writes the low `n` bits (0 ≤ n ≤ 64) of the 64-bit value hi:lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  writeByte(b: number): void {
    this.writeBits(b & 0xff, 8);
  }

}

/** Sequential reader; reading past the end yields zero bits, callers bound reads by sample count. */
export class BitReader {
  readonly #buf: Uint8Array;
  #pos: number;

  /** Reads `buf` starting at byte `byteOffset` (chunks share slabs, see `arena.ts`). */
  constructor(buf: Uint8Array, byteOffset = 0) {
    this.#buf = buf;
    this.#pos = byteOffset * 8;
  }

  get position(): number {
    return this.#pos;
  }

  readBit(): number {
    const byte = this.#buf[this.#pos >>> 3] ?? 0;
    const bit = (byte >>> (7 - (this.#pos & 7))) & 1;
    this.#pos++;
    return bit;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned integer. */
  readBits(n: number): number {
    let out = 0;
    while (n > 0) {
      const byte = this.#buf[this.#pos >>> 3] ?? 0;
      const avail = 8 - (this.#pos & 7);
      const take = avail < n ? avail : n;
      const bits = (byte >>> (avail - take)) & ((1 << take) - 1);
      out = take === 32 ? bits : ((out << take) | bits) >>> 0;
      this.#pos += take;
      n -= take;
    }
    return out >>> 0;
  }

  readByte(): number {
    return this.readBits(8);
  }
}
