/**
 * Recycling allocator for the buffers of open (still growing) chunks.
 *
 * Every series has one open chunk whose buffer doubles as samples arrive and which is copied out,
 * exact-size, into the sealed arena when the chunk is cut. Carving those buffers from slabs that
 * are never reused made the head allocate ~2.8 bytes of slab per byte of chunk it keeps (150 MiB
 * for 54 MiB of chunks in `bench:ingest`), all of it garbage that the GC only frees once every
 * buffer in a slab is dead and that malloc keeps resident meanwhile. Here regions come in
 * power-of-two classes and a released region goes back on its class's free list, so the pool
 * follows the open chunks alive at one time rather than the samples ingested.
 *
 * Queries read open chunks in place (a snapshot is the live buffer plus a sample count), so a
 * released region must not be rewritten while a reader that may have captured it is still open.
 * Readers register (`beginRead`/`endRead`, which the head's querier does) and get increasing
 * epochs; a region released while readers are open waits in a queue, tagged with the latest
 * epoch, until every reader that was open at release time has ended.
 */
import type { ByteAllocator } from './bstream.js';

const SLAB_BYTES = 64 * 1024;
/** Smallest region: 2^5 bytes. */
const MIN_SHIFT = 5;
/** Largest pooled region: 2^12 bytes; a 120-sample chunk needs at most ~2.2 KB. */
const MAX_SHIFT = 12;
/**
 * Released regions kept waiting for readers at most. A querier that is never closed would
 * otherwise hold every later release; past this, the oldest are dropped, which is safe (a reader
 * holds its buffer) and only loses them for reuse.
 */
const MAX_WAITING = 1 << 16;

function classOf(n: number): number {
  const shift = n <= 1 << MIN_SHIFT ? MIN_SHIFT : 32 - Math.clz32(n - 1);
  return shift - MIN_SHIFT;
}

export class OpenChunkPool implements ByteAllocator {
  #slab: Uint8Array = new Uint8Array(0);
  #off = 0;
  /** Per size class, free regions as parallel lists of slab and offset. */
  readonly #freeBuf: Uint8Array[][] = [];
  readonly #freeOff: number[][] = [];
  /** Regions released while readers were open, oldest first, from index `#waitHead` on. */
  #waitBuf: Uint8Array[] = [];
  #waitOff: number[] = [];
  #waitCls: number[] = [];
  #waitEpoch: number[] = [];
  #waitHead = 0;
  /** Epochs of open readers; issued in increasing order, so the first is the oldest. */
  readonly #readers = new Set<number>();
  #epoch = 0;
  /** Bytes of slabs allocated, which is what the pool costs (plus the rare oversized region). */
  reserved = 0;
  lastOffset = 0;

  constructor() {
    for (let c = 0; c <= MAX_SHIFT - MIN_SHIFT; c++) {
      this.#freeBuf.push([]);
      this.#freeOff.push([]);
    }
  }

  /** A zeroed region of at least `n` bytes (rounded up to its class), at `lastOffset`. */
  alloc(n: number): Uint8Array {
    if (n > 1 << MAX_SHIFT) {
      this.lastOffset = 0;
      return new Uint8Array(n);
    }
    const cls = classOf(n);
    const size = 1 << (cls + MIN_SHIFT);
    const bufs = this.#freeBuf[cls]!;
    if (bufs.length > 0) {
      const buf = bufs.pop()!;
      const off = this.#freeOff[cls]!.pop()!;
      // Zeroed on reuse rather than on release: a reader may still be looking at a waiting region.
      buf.fill(0, off, off + size);
      this.lastOffset = off;
      return buf;
    }
    if (this.#off + size > this.#slab.byteLength) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.reserved += SLAB_BYTES;
      this.#off = 0;
    }
    this.lastOffset = this.#off;
    this.#off += size;
    return this.#slab;
  }

  release(buf: Uint8Array, offset: number, n: number): void {
    if (n > 1 << MAX_SHIFT) return; // oversized: its own buffer, left to the GC
    const cls = classOf(n);
    if (this.#readers.size === 0) {
      this.#freeBuf[cls]!.push(buf);
      this.#freeOff[cls]!.push(offset);
      return;
    }
    if (this.#waitBuf.length - this.#waitHead >= MAX_WAITING) {
      this.#waitHead++;
      this.#compact();
    }
    this.#waitBuf.push(buf);
    this.#waitOff.push(offset);
    this.#waitCls.push(cls);
    this.#waitEpoch.push(this.#epoch);
  }

  /** Registers a reader of open chunks; pass the result to `endRead` when it is done. */
  beginRead(): number {
    const e = ++this.#epoch;
    this.#readers.add(e);
    return e;
  }

  /** Ends a reader (again: no-op) and frees the regions no open reader can have seen. */
  endRead(epoch: number): void {
    if (!this.#readers.delete(epoch)) return;
    let oldest = Infinity;
    for (const e of this.#readers) {
      oldest = e;
      break;
    }
    let i = this.#waitHead;
    const end = this.#waitBuf.length;
    // A region tagged e may have been seen by readers with epochs ≤ e.
    while (i < end && this.#waitEpoch[i]! < oldest) {
      const cls = this.#waitCls[i]!;
      this.#freeBuf[cls]!.push(this.#waitBuf[i]!);
      this.#freeOff[cls]!.push(this.#waitOff[i]!);
      i++;
    }
    if (i === end) {
      this.#waitBuf = [];
      this.#waitOff = [];
      this.#waitCls = [];
      this.#waitEpoch = [];
      this.#waitHead = 0;
    } else {
      this.#waitHead = i;
      this.#compact();
    }
  }

  /** Drops the consumed front of the waiting queue once it is most of it. */
  #compact(): void {
    const h = this.#waitHead;
    if (h < 1024 || h * 2 < this.#waitBuf.length) return;
    this.#waitBuf = this.#waitBuf.slice(h);
    this.#waitOff = this.#waitOff.slice(h);
    this.#waitCls = this.#waitCls.slice(h);
    this.#waitEpoch = this.#waitEpoch.slice(h);
    this.#waitHead = 0;
  }

  /** Released regions still waiting for readers, for tests and diagnostics. */
  get waiting(): number {
    return this.#waitBuf.length - this.#waitHead;
  }
}
