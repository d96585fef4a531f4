/**
 * Recycling allocator for the buffers of open (still growing) chunks.
 *
 * Every series has one open chunk whose buffer doubles as samples arrive and which is copied out,
 * exact-size, into the sealed arena when the chunk is cut. Carving those buffers from slabs that
 * are never reused made the head allocate ~2.8 bytes of slab per byte of chunk it keeps (150 MiB
 * for 54 MiB of chunks in `bench:ingest`), all of it garbage that the GC only frees once every
 * buffer in a slab is dead and that malloc keeps resident meanwhile.
 *
 * Here regions are power-of-two blocks of 64 KiB slabs managed as a buddy system: a released
 * block merges with its buddy when that is free too, and a request with no free block of its
 * size splits a larger one. Without merging, the small blocks a chunk leaves behind while growing
 * (32, 64, … bytes) piled up on free lists that the next chunks, sized from their predecessors,
 * never asked for again. The pool follows the open chunks alive at one time, not the samples
 * ingested.
 *
 * Queries read open chunks in place (a snapshot is the live buffer plus a sample count), so a
 * released region must not be rewritten while a reader that may have captured it is still open.
 * Readers register (`beginRead`/`endRead`, which the head's querier does) and get increasing
 * epochs; a region released while readers are open waits in a queue, tagged with the latest
 * epoch, until every reader that was open at release time has ended.
 */
import type { ByteAllocator } from './bstream.js';

const SLAB_SHIFT = 16;
const SLAB_BYTES = 1 << SLAB_SHIFT;
/** Smallest block: 2^5 bytes. */
const MIN_SHIFT = 5;
/** Largest pooled block: 2^12 bytes; a 120-sample chunk needs at most ~2.2 KB. */
const MAX_SHIFT = 12;
const CLASSES = MAX_SHIFT - MIN_SHIFT + 1;
/** Min-size units per slab, the granularity of the free map. */
const UNITS = SLAB_BYTES >>> MIN_SHIFT;
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
  readonly #slabs: Uint8Array[] = [];
  readonly #slabIndex = new Map<Uint8Array, number>();
  /**
   * Per slab, per min-size unit: 1 + the class of the free block starting there, or 0. The
   * authority on what is free; the lists below may hold stale entries, skipped when popped.
   */
  readonly #freeMap: Uint8Array[] = [];
  /** Per class, candidate free blocks as slab index × UNITS + unit. */
  readonly #free: number[][] = [];
  /** Per class, blocks actually free (the lists' valid entries). */
  readonly #freeCount = new Int32Array(CLASSES);
  /** Regions released while readers were open (slab, offset, class, epoch), oldest first from `#waitHead`. */
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
    for (let c = 0; c < CLASSES; c++) this.#free.push([]);
  }

  /** A zeroed region of at least `n` bytes (rounded up to its class), at `lastOffset`. */
  alloc(n: number): Uint8Array {
    if (n > 1 << MAX_SHIFT) {
      this.lastOffset = 0;
      return new Uint8Array(n);
    }
    const cls = classOf(n);
    let c = cls;
    let key = -1;
    for (; c < CLASSES; c++) {
      key = this.#popFree(c);
      if (key >= 0) break;
    }
    if (key < 0) {
      key = this.#newSlab();
      c = CLASSES - 1;
      // A new slab is all top-class blocks: hand out the first, list the rest.
      const si = (key / UNITS) | 0;
      const step = 1 << (MAX_SHIFT - MIN_SHIFT);
      for (let u = step; u < UNITS; u += step) this.#markFree(si, u, CLASSES - 1);
    }
    const si = (key / UNITS) | 0;
    const unit = key - si * UNITS;
    // Split down to the class asked for, listing the upper halves.
    while (c > cls) {
      c--;
      this.#markFree(si, unit + (1 << c), c);
    }
    const slab = this.#slabs[si]!;
    const off = unit << MIN_SHIFT;
    // Zeroed on reuse rather than on release: a reader may still be looking at a waiting region.
    slab.fill(0, off, off + (1 << (cls + MIN_SHIFT)));
    this.lastOffset = off;
    return slab;
  }

  release(buf: Uint8Array, offset: number, n: number): void {
    if (n > 1 << MAX_SHIFT) return; // oversized: its own buffer, left to the GC
    const cls = classOf(n);
    if (this.#readers.size === 0) {
      this.#give(buf, offset, cls);
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
      this.#give(this.#waitBuf[i]!, this.#waitOff[i]!, this.#waitCls[i]!);
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

  /** Released regions still waiting for readers, for tests and diagnostics. */
  get waiting(): number {
    return this.#waitBuf.length - this.#waitHead;
  }

  /** Bytes in free blocks, for tests and diagnostics. */
  get freeBytes(): number {
    let n = 0;
    for (const map of this.#freeMap) for (let u = 0; u < UNITS; u++) if (map[u]! > 0) n += 1 << (map[u]! - 1 + MIN_SHIFT);
    return n;
  }

  /** Returns a block to the free map, merging it with its free buddies. */
  #give(buf: Uint8Array, offset: number, cls: number): void {
    const si = this.#slabIndex.get(buf);
    if (si === undefined) return; // not one of ours
    const map = this.#freeMap[si]!;
    let unit = offset >>> MIN_SHIFT;
    let c = cls;
    while (c < CLASSES - 1) {
      const buddy = unit ^ (1 << c);
      if (map[buddy] !== c + 1) break;
      map[buddy] = 0; // its list entry goes stale
      this.#freeCount[c]--;
      unit = unit < buddy ? unit : buddy;
      c++;
    }
    this.#markFree(si, unit, c);
  }

  #markFree(si: number, unit: number, c: number): void {
    this.#freeMap[si]![unit] = c + 1;
    this.#freeCount[c]++;
    const list = this.#free[c]!;
    list.push(si * UNITS + unit);
    // Merges leave stale entries behind; drop them before they outnumber the live ones.
    if (list.length > 1024 && list.length > 2 * this.#freeCount[c]!) this.#free[c] = list.filter((k) => this.#isFree(k, c));
  }

  #isFree(key: number, c: number): boolean {
    const si = (key / UNITS) | 0;
    return this.#freeMap[si]![key - si * UNITS] === c + 1;
  }

  /** A free block of class `c` taken off the map, or -1. */
  #popFree(c: number): number {
    const list = this.#free[c]!;
    while (list.length > 0) {
      const key = list.pop()!;
      const si = (key / UNITS) | 0;
      const unit = key - si * UNITS;
      const map = this.#freeMap[si]!;
      if (map[unit] !== c + 1) continue; // merged or taken since it was listed
      map[unit] = 0;
      this.#freeCount[c]--;
      return key;
    }
    return -1;
  }

  /** Adds a slab; returns the key of its first unit. */
  #newSlab(): number {
    const slab = new Uint8Array(SLAB_BYTES);
    const si = this.#slabs.length;
    this.#slabs.push(slab);
    this.#slabIndex.set(slab, si);
    this.#freeMap.push(new Uint8Array(UNITS));
    this.reserved += SLAB_BYTES;
    return si * UNITS;
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
}
