/**
 * One series held in memory: its label set, sealed chunks and the open head chunk.
 */
import type { Labels } from '../../../model/labels.js';
import type { SealedArena } from './chunk/arena.js';
import type { OpenChunkPool } from './chunk/pool.js';
import { XorChunk, type ChunkReader, type SealedChunk } from './chunk/xor.js';

/** Bytes a fresh head chunk reserves; grows by doubling to about 256 for 120 samples. */
const INITIAL_CHUNK_BYTES = 32;

/** Chunking parameters and allocators, provided by the head. */
export interface ChunkEnv {
  readonly chunkRangeMs: number;
  readonly samplesPerChunk: number;
  /** Holds sealed chunks, packed in time order. */
  readonly sealedArena: SealedArena;
  /** Holds the growing buffers of open chunks. */
  readonly openPool: OpenChunkPool;
}

export class MemSeries {
  /** Sealed chunks, oldest first, each immutable and exact-size. */
  chunks: SealedChunk[] = [];
  /** The chunk being appended to, or null before the first sample and after truncation. */
  head: XorChunk | null = null;
  /** Exclusive end of the chunk range the head chunk belongs to; crossing it cuts a new chunk. */
  headEnd = 0;
  /** Last committed sample, the reference for out-of-order and duplicate checks. */
  lastT = -Infinity;
  lastV = 0;
  /** Open appenders holding samples for this series; garbage collection must not drop it. */
  pending = 0;
  /** Whether the series record is already in the WAL (or checkpoint). */
  logged = false;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
  ) {}

  /** Appends a sample already validated as newer than `lastT`. */
  append(t: number, v: number, env: ChunkEnv): void {
    let h = this.head;
    if (h === null || h.numSamples >= env.samplesPerChunk || t >= this.headEnd) h = this.#cut(h, t, env);
    h.append(t, v);
    this.lastT = t;
    this.lastV = v;
  }

  /**
   * `append` for samples `from` to `to` of columns already validated as increasing and newer than
   * `lastT`. Reading the columns here rather than taking one sample per call keeps the values
   * unboxed: a call with float arguments allocates a heap number for each.
   */
  appendRange(ts: Float64Array, vs: Float64Array, from: number, to: number, env: ChunkEnv): void {
    if (from >= to) return;
    for (let i = from; i < to; i++) {
      const t = ts[i]!;
      let h = this.head;
      if (h === null || h.numSamples >= env.samplesPerChunk || t >= this.headEnd) h = this.#cut(h, t, env);
      h.appendFrom(ts, vs, i);
    }
    this.lastT = ts[to - 1]!;
    this.lastV = vs[to - 1]!;
  }

  /** Seals `h` (if any) and opens the chunk that `t` goes to. */
  #cut(h: XorChunk | null, t: number, env: ChunkEnv): XorChunk {
    // A series' chunks tend to be of similar size: starting from the last one's saves most of
    // the doublings (each a copy) on the way up.
    let initial = INITIAL_CHUNK_BYTES;
    if (h !== null) {
      // Rounded up to a power of two, the size classes of the open-chunk pool.
      if (h.size > initial) initial = 2 ** Math.ceil(Math.log2(h.size));
      this.chunks.push(h.seal(env.sealedArena));
    }
    const next = (this.head = new XorChunk(initial, env.openPool));
    // Aligning chunk ends to the range keeps sparse series from holding one chunk for days,
    // which would make retention coarse; Prometheus aligns to its block range for the same reason.
    this.headEnd = (Math.floor(t / env.chunkRangeMs) + 1) * env.chunkRangeMs;
    return next;
  }

  get minT(): number {
    const c = this.chunks[0] ?? this.head;
    return c === null || c.numSamples === 0 ? Infinity : c.minT;
  }

  get maxT(): number {
    const h = this.head;
    if (h !== null && h.numSamples > 0) return h.maxT;
    const c = this.chunks[this.chunks.length - 1];
    return c === undefined ? -Infinity : c.maxT;
  }

  get numSamples(): number {
    let n = this.head?.numSamples ?? 0;
    for (const c of this.chunks) n += c.numSamples;
    return n;
  }

  /**
   * A point-in-time view of the chunks overlapping [mint, maxt]. The open chunk is captured as its
   * live buffer plus current sample count: later appends only write bits past that count, and
   * growth swaps buffers, so readers never see a half-written sample and nothing is copied.
   */
  chunksIn(mint: number, maxt: number): ChunkReader[] {
    const out: ChunkReader[] = [];
    // Chunks are in time order and do not overlap: walk back from the newest (queries mostly want
    // recent data) to the first one ending at or after `mint`, then forward while they start by `maxt`.
    const cs = this.chunks;
    let i = cs.length;
    while (i > 0 && cs[i - 1]!.maxT >= mint) i--;
    for (; i < cs.length; i++) {
      const c = cs[i]!;
      if (!c.overlaps(mint, maxt)) break;
      out.push(c);
    }
    const h = this.head;
    if (h !== null && h.numSamples > 0 && h.maxT >= mint && h.minT <= maxt) {
      out.push(h.snapshot());
    }
    return out;
  }

  hasSamplesIn(mint: number, maxt: number): boolean {
    const maxT = this.maxT;
    if (maxT < mint) return false; // also an empty series (-Infinity)
    // A range reaching the newest sample overlaps the series without asking where it starts:
    // that would decode the oldest chunk's first bytes, a page no recent query needs.
    return maxt >= maxT || this.minT <= maxt;
  }

  /**
   * Drops chunks that end before `mint`. Returns the number of samples dropped. Chunks straddling
   * `mint` stay whole; queries filter by time anyway.
   */
  truncateBefore(mint: number): number {
    let dropped = 0;
    let k = 0;
    while (k < this.chunks.length && this.chunks[k]!.maxT < mint) dropped += this.chunks[k++]!.numSamples;
    if (k > 0) this.chunks = this.chunks.slice(k);
    const h = this.head;
    if (h !== null && this.chunks.length === 0 && h.numSamples > 0 && h.maxT < mint) {
      dropped += h.numSamples;
      h.discard();
      this.head = null;
    }
    return dropped;
  }

  /** Chunk memory: exact bytes of sealed chunks plus the reserved buffer of the open one. */
  get chunkBytes(): number {
    let n = this.head?.capacity ?? 0;
    for (const c of this.chunks) n += c.size;
    return n;
  }
}
