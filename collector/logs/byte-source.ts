/**
 * Where a tailer's bytes come from: a plain log file read with positional reads through one open
 * descriptor (which keeps working after the file was renamed or deleted), or a gzipped rotation
 * decompressed as a stream, from its start, skipping to the checkpointed uncompressed offset.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export type ReadResult =
  /** Bytes read; `data.length > 0`. */
  | { readonly kind: 'data'; readonly data: Buffer }
  /** Nothing more for now (a plain file may grow later). */
  | { readonly kind: 'eof' }
  /** The file is now shorter than the read position: it was truncated (or copytruncated). */
  | { readonly kind: 'truncated'; readonly size: number };

export interface ByteSource {
  readonly compressed: boolean;
  /** Offset of the next byte `read` returns. */
  readonly position: number;
  read(maxBytes: number): Promise<ReadResult>;
  close(): Promise<void>;
}

/** How much of a live file's first line is compared before each read (see `guardFirstLine`). */
const GUARD_BYTES = 4096;

export class PlainFileSource implements ByteSource {
  readonly compressed = false;
  #position: number;
  #guard: Buffer | undefined;

  private constructor(
    readonly handle: FileHandle,
    position: number,
  ) {
    this.#position = position;
  }

  static async open(path: string, position: number): Promise<PlainFileSource> {
    return new PlainFileSource(await open(path, 'r'), position);
  }

  get position(): number {
    return this.#position;
  }

  /**
   * Remembers the start of the file's first line and compares it before every read of new data.
   * A copytruncate followed by new writes beyond the read position leaves the file longer than
   * ever, so the size alone cannot tell; without this the next read would start mid-line in
   * unrelated content and give it the old content's record IDs.
   */
  async guardFirstLine(firstLineBytes: number): Promise<void> {
    const n = Math.min(firstLineBytes, GUARD_BYTES);
    const buf = Buffer.alloc(n);
    const { bytesRead } = await this.handle.read(buf, 0, n, 0);
    this.#guard = buf.subarray(0, bytesRead);
  }

  async read(maxBytes: number): Promise<ReadResult> {
    // Sizing the read by fstat spares a large allocation for a few new bytes, and shows truncation.
    const { size } = await this.handle.stat();
    if (size < this.#position) return { kind: 'truncated', size };
    const want = Math.min(maxBytes, size - this.#position);
    if (want <= 0) return { kind: 'eof' };
    if (this.#guard !== undefined && this.#guard.length > 0) {
      const head = Buffer.alloc(this.#guard.length);
      const { bytesRead } = await this.handle.read(head, 0, head.length, 0);
      if (bytesRead < head.length || !head.equals(this.#guard)) return { kind: 'truncated', size };
    }
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.handle.read(buf, 0, want, this.#position);
    if (bytesRead === 0) return { kind: 'eof' };
    this.#position += bytesRead;
    return { kind: 'data', data: bytesRead === want ? buf : buf.subarray(0, bytesRead) };
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

export class GzipFileSource implements ByteSource {
  readonly compressed = true;
  readonly #input: ReturnType<typeof createReadStream>;
  readonly #gunzip: ReturnType<typeof createGunzip>;
  readonly #iterator: AsyncIterator<Buffer>;
  /** Uncompressed offset of the next byte the stream yields. */
  #streamed = 0;
  #position: number;
  #leftover: Buffer | undefined;
  #ended = false;

  constructor(path: string, position: number) {
    this.#position = position;
    this.#input = createReadStream(path, { highWaterMark: 64 * 1024 });
    this.#gunzip = createGunzip({ chunkSize: 64 * 1024 });
    this.#input.on('error', (err) => this.#gunzip.destroy(err));
    this.#input.pipe(this.#gunzip);
    this.#iterator = (this.#gunzip as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  get position(): number {
    return this.#position;
  }

  /** Throws on a corrupt or incomplete gzip stream. */
  async read(maxBytes: number): Promise<ReadResult> {
    for (;;) {
      let chunk = this.#leftover;
      this.#leftover = undefined;
      if (chunk === undefined) {
        if (this.#ended) return { kind: 'eof' };
        const next = await this.#iterator.next();
        if (next.done) {
          this.#ended = true;
          return { kind: 'eof' };
        }
        chunk = next.value;
        const chunkStart = this.#streamed;
        this.#streamed += chunk.length;
        // Skip what was read (and acknowledged) before, from the uncompressed start.
        if (this.#streamed <= this.#position) continue;
        if (chunkStart < this.#position) chunk = chunk.subarray(this.#position - chunkStart);
      }
      if (chunk.length > maxBytes) {
        this.#leftover = chunk.subarray(maxBytes);
        chunk = chunk.subarray(0, maxBytes);
      }
      this.#position += chunk.length;
      return { kind: 'data', data: chunk };
    }
  }

  async close(): Promise<void> {
    this.#input.destroy();
    this.#gunzip.destroy();
  }
}

/**
 * Uncompressed size modulo 2^32 from a gzip file's trailer (ISIZE, RFC 1952): tells whether a
 * rotation was read to its end without decompressing it. Undefined when unreadable.
 */
export async function gzipTrailerSize(path: string): Promise<number | undefined> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const { size } = await fh.stat();
    if (size < 18) return undefined;
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, size - 4);
    return buf.readUInt32LE(0);
  } catch {
    return undefined;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
