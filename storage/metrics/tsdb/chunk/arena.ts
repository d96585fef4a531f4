/**
 * Bump allocator that packs sealed chunk bytes into shared 64 KiB slabs.
 *
 * A separate `Uint8Array` per chunk costs far more than the ~200 bytes a sealed chunk holds: V8
 * adds a JSArrayBuffer, a JSTypedArray and an off-heap BackingStore with its malloc header, about
 * 250 bytes, which alone would be ~2 bytes per sample. Chunks are sealed in roughly time order, so
 * a slab's chunks also expire together under retention and the slab is freed by the GC as a whole;
 * the cost is that one long-lived chunk pins its slab.
 */
import type { ByteAllocator } from './bstream.js';

const DEFAULT_SLAB_BYTES = 64 * 1024;

/**
 * Where sealed chunks are placed: the heap slabs below, or file-backed segments
 * (`mapped-arena.ts`). Either returns the buffer holding the copy and leaves its offset in
 * `lastOffset`.
 */
export interface SealedArena {
  copy(src: Uint8Array, len: number, from?: number): Uint8Array;
  readonly lastOffset: number;
}

export class ChunkArena implements ByteAllocator, SealedArena {
  readonly slabBytes: number;
  #slab: Uint8Array;
  #off = 0;
  /** Total bytes of slabs allocated so far (live or not), for diagnostics. */
  allocated = 0;
  /** Offset of the most recent `copy` or `alloc` within the slab it returned. */
  lastOffset = 0;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    this.slabBytes = slabBytes;
    this.#slab = this.#newSlab(slabBytes);
  }

  #newSlab(n: number): Uint8Array {
    this.allocated += n;
    return new Uint8Array(n);
  }

  /**
   * Copies `src[from, from + len)` into the arena and returns the slab holding it; the copy
   * starts at `lastOffset`. (Two results without allocating a tuple per chunk.)
   */
  copy(src: Uint8Array, len: number, from = 0): Uint8Array {
    const dst = this.alloc(len);
    const at = this.lastOffset;
    // A byte loop for chunk-sized copies: `set` would need a subarray view of `src` per chunk.
    if (len <= 512) for (let i = 0; i < len; i++) dst[at + i] = src[from + i]!;
    else dst.set(src.subarray(from, from + len), at);
    return dst;
  }

  /** A zeroed `n`-byte region: the slab is returned, the region starts at `lastOffset`. */
  alloc(n: number): Uint8Array {
    if (n > this.slabBytes / 4) {
      // Rare oversized chunk: give it its own buffer rather than wasting a slab's tail.
      this.lastOffset = 0;
      return this.#newSlab(n);
    }
    if (this.#off + n > this.#slab.byteLength) {
      this.#slab = this.#newSlab(this.slabBytes);
      this.#off = 0;
    }
    this.lastOffset = this.#off;
    this.#off += n;
    return this.#slab;
  }
}
