/**
 * Sealed chunks in file-backed memory, as Prometheus keeps its full head chunks in m-mapped
 * `chunks_head` files.
 *
 * Sealed chunks are immutable and mostly cold: a query reads a range of them now and then, while
 * appends only touch the open chunk. Kept on the heap (`ChunkArena`), they are the largest part
 * of the process's resident memory and the kernel can never reclaim them. Here they are packed
 * into segment files under `<data>/chunks_head/` that are mapped shared: once a stretch of a
 * segment is filled, its pages are dropped from the process's page tables. The bytes stay in the
 * page cache, where the kernel writes them back and evicts them under memory pressure like any
 * file data, and a read maps them in again.
 *
 * Disk blocks are reserved (`posix_fallocate`) ahead of the write cursor, so a full disk shows
 * up as an error here, not as SIGBUS when a page is first written; on that error, or when the
 * native addon is not built, the arena falls back to heap slabs and says so once.
 *
 * The segment files are scratch space, not a recovery source: the WAL is. They are removed when
 * the head opens and when the last chunk of a segment is garbage collected (the mapping itself
 * is unmapped by the addon's finalizer).
 */
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ChunkArena, type SealedArena } from './arena.js';

interface MappedFileAddon {
  map(fd: number, length: number): ArrayBuffer;
  reserve(fd: number, offset: number, length: number): void;
  release(buffer: ArrayBuffer, offset: number, length: number): void;
}

/** Segment size: the granularity with which retention returns memory and disk. */
const DEFAULT_SEGMENT_BYTES = 16 << 20;
/** Disk reserved ahead of the write cursor at a time. */
const RESERVE_BYTES = 1 << 20;
/** Filled stretches are dropped from the page tables in steps of this (a page multiple). */
const RELEASE_BYTES = 64 << 10;

let addon: MappedFileAddon | null | undefined;
let addonError: string | undefined;

/**
 * The addon, built by `npm install` next to its source. Compiled code runs from `dist/`, which
 * mirrors the source tree, so the build directory is looked up from both places.
 */
function loadAddon(): MappedFileAddon | null {
  if (addon !== undefined) return addon;
  const require = createRequire(import.meta.url);
  const relative = 'storage/metrics/tsdb/chunk/native/build/Release/mapped_file.node';
  const candidates = [new URL('./native/build/Release/mapped_file.node', import.meta.url), new URL(`../../../../../${relative}`, import.meta.url)];
  const errors: string[] = [];
  for (const url of candidates) {
    try {
      addon = require(url.pathname) as MappedFileAddon;
      return addon;
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0]!);
    }
  }
  addonError = `native addon ${relative} not loadable (${errors.join('; ')}); run npm install to build it`;
  addon = null;
  return null;
}

/** Whether file-backed chunk memory is available in this installation, and if not, why. */
export function mappedChunksAvailable(): { available: boolean; reason?: string } {
  return loadAddon() !== null ? { available: true } : { available: false, reason: addonError! };
}

export interface MappedArenaOptions {
  /** Directory for the segment files; emptied on open. */
  readonly dir: string;
  readonly segmentBytes?: number;
  /** Called once if the arena falls back to heap slabs. */
  readonly onFallback?: (reason: string) => void;
}

/** A segment being filled: its file descriptor is kept until it is full. */
interface OpenSegment {
  readonly file: string;
  readonly fd: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  /** Bytes reserved on disk so far. */
  reserved: number;
  /** Everything before this offset has been dropped from the page tables. */
  released: number;
}

export class MappedChunkArena implements SealedArena {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #onFallback: ((reason: string) => void) | undefined;
  readonly #addon: MappedFileAddon | null;
  /** Removes a segment's file once no chunk holds its bytes any more. */
  readonly #unlinkWhenCollected = new FinalizationRegistry<string>((file) => {
    this.#files.delete(file);
    try {
      unlinkSync(file);
    } catch {
      // Already removed by close() or by a later open of the same directory.
    }
  });
  /** Segment files not yet removed. */
  readonly #files = new Set<string>();
  #segment: OpenSegment | null = null;
  #off = 0;
  #nextId = 1;
  #heap: ChunkArena | null = null;
  #oversized: ChunkArena | null = null;
  lastOffset = 0;
  /** Segments created so far, for diagnostics and tests. */
  segments = 0;

  constructor(opts: MappedArenaOptions) {
    this.#dir = opts.dir;
    this.#segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (this.#segmentBytes % RELEASE_BYTES !== 0) throw new RangeError(`segment size must be a multiple of ${RELEASE_BYTES}`);
    this.#onFallback = opts.onFallback;
    this.#addon = loadAddon();
    // Leftovers of an earlier process: unlinking never disturbs a mapping still in use.
    rmSync(this.#dir, { recursive: true, force: true });
    mkdirSync(this.#dir, { recursive: true });
    if (this.#addon === null) this.#fallBack(addonError!);
  }

  /** Whether chunks are going to heap slabs instead of segment files. */
  get fellBack(): boolean {
    return this.#heap !== null;
  }

  copy(src: Uint8Array, len: number, from = 0): Uint8Array {
    if (this.#heap !== null) return this.#heapCopy(src, len, from);
    if (len > this.#segmentBytes >>> 2) {
      // Far beyond any 120-sample chunk; not worth a segment's tail.
      const slab = (this.#oversized ??= new ChunkArena()).copy(src, len, from);
      this.lastOffset = this.#oversized.lastOffset;
      return slab;
    }
    let seg = this.#segment;
    if (seg === null || this.#off + len > this.#segmentBytes) {
      seg = this.#openSegment();
      if (seg === null) return this.#heapCopy(src, len, from);
    }
    const at = this.#off;
    const end = at + len;
    if (end > seg.reserved && !this.#reserve(seg, end)) return this.#heapCopy(src, len, from);
    const dst = seg.bytes;
    for (let i = 0; i < len; i++) dst[at + i] = src[from + i]!;
    this.#off = end;
    this.lastOffset = at;
    // Whole stretches behind the cursor are complete: hand their pages back to the page cache.
    const filled = end - (end % RELEASE_BYTES);
    if (filled > seg.released) {
      this.#addon!.release(seg.buffer, seg.released, filled - seg.released);
      seg.released = filled;
    }
    return dst;
  }

  /**
   * Ends writing and removes the segment files, so a stopped server leaves no scratch behind (the
   * mappings, and with them every chunk already sealed, stay readable until collected).
   */
  close(): void {
    this.#finishSegment();
    for (const file of this.#files) rmSync(file, { force: true });
    this.#files.clear();
  }

  #heapCopy(src: Uint8Array, len: number, from: number): Uint8Array {
    const heap = this.#heap!;
    const slab = heap.copy(src, len, from);
    this.lastOffset = heap.lastOffset;
    return slab;
  }

  #openSegment(): OpenSegment | null {
    this.#finishSegment();
    let fd = -1;
    let file = '';
    try {
      // 'wx+' never truncates an existing file: truncating a file another mapping still uses
      // would turn that mapping's reads into SIGBUS.
      for (;;) {
        file = path.join(this.#dir, String(this.#nextId++).padStart(6, '0'));
        try {
          fd = openSync(file, 'wx+');
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      const buffer = this.#addon!.map(fd, this.#segmentBytes);
      const seg: OpenSegment = { file, fd, buffer, bytes: new Uint8Array(buffer), reserved: 0, released: 0 };
      this.#unlinkWhenCollected.register(seg.bytes, file);
      this.#files.add(file);
      this.#segment = seg;
      this.#off = 0;
      this.segments++;
      return seg;
    } catch (err) {
      if (fd >= 0) {
        closeSync(fd);
        rmSync(file, { force: true });
      }
      this.#fallBack(`cannot map a chunk segment in ${this.#dir}: ${(err as Error).message}`);
      return null;
    }
  }

  #reserve(seg: OpenSegment, end: number): boolean {
    const upTo = Math.min(this.#segmentBytes, Math.ceil(end / RESERVE_BYTES) * RESERVE_BYTES);
    try {
      this.#addon!.reserve(seg.fd, seg.reserved, upTo - seg.reserved);
      seg.reserved = upTo;
      return true;
    } catch (err) {
      this.#finishSegment();
      this.#fallBack(`cannot reserve disk for head chunks in ${this.#dir}: ${(err as Error).message}`);
      return false;
    }
  }

  #finishSegment(): void {
    const seg = this.#segment;
    if (seg === null) return;
    this.#segment = null;
    if (this.#off > seg.released) this.#addon!.release(seg.buffer, seg.released, Math.min(this.#segmentBytes, Math.ceil(this.#off / RELEASE_BYTES) * RELEASE_BYTES) - seg.released);
    closeSync(seg.fd);
  }

  #fallBack(reason: string): void {
    if (this.#heap !== null) return;
    this.#heap = new ChunkArena();
    this.#onFallback?.(`head chunks are kept on the heap: ${reason}`);
  }
}

/** Every file in `dir`, for tests. */
export function segmentFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
