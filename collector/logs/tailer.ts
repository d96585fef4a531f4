/**
 * Reads one open log file: bytes from a `ByteSource`, complete lines from a `LineBuffer`, records
 * from the file's `RecordAssembler`.
 *
 * A step reads at most one chunk, so the collector can go round its files fairly and check the
 * queue's room between steps. With a rate limit, every line takes a token before it is handed
 * to the assembler; a line without a token is held (not dropped) and the file waits until one is
 * due: an over-eager container is slowed down to its rate and its backlog stays in its file.
 */
import type { LogRecord, LogSource } from '../../model/logs.js';
import type { ByteSource } from './byte-source.js';
import { LineBuffer, type Line } from './line-buffer.js';
import type { LogCollectorMetrics } from './metrics.js';
import type { StreamRateLimiter } from './rate-limit.js';
import type { RecordAssembler } from './record-assembler.js';

/** A flush timeout may fire only this soon after a read found the end of the file. */
const EOF_FRESH_MS = 250;

/** A finished record and where a re-read must start to produce it again. */
export interface Emitted {
  readonly record: LogRecord;
  /**
   * The start of the record's first runtime line. Usually the record's offset; a piece of an
   * over-long line cut by the assembler has an offset inside the line, and a checkpoint there
   * would make a restart begin mid-line.
   */
  readonly resumeAt: number;
}

export type StepResult =
  /** Read new bytes. */
  | 'data'
  /** Nothing new in the file right now (every complete line was handed on). */
  | 'eof'
  /** Waiting for the rate limit; `holdUntil` says until when. */
  | 'held'
  /** The file got shorter than what was read, or its first line changed: truncated or copytruncated. */
  | 'truncated';

export interface TailerOptions {
  readonly chunkBytes: number;
  readonly maxLineBytes: number;
  readonly metrics: LogCollectorMetrics;
  readonly rateLimiter?: StreamRateLimiter;
  /** Rate-limit key: one bucket per container. */
  readonly rateKey: string;
}

export class FileTailer {
  readonly source: LogSource;
  readonly path: string;
  readonly dev: string;
  readonly ino: string;
  readonly #bytes: ByteSource;
  readonly #lines: LineBuffer;
  readonly #assembler: RecordAssembler;
  readonly #opts: TailerOptions;
  /** Consumed from the buffer but not yet let through by the rate limiter. */
  #heldLine: Line | undefined;
  #decodeErrorsSeen = 0;
  /** End of the last line handed to the assembler: everything before it is read. */
  #readOffset: number;
  /** Until when the rate limit holds this file (ms since epoch). */
  holdUntil = 0;
  /** First read since the last data that found the end of the file; undefined while data flows. */
  #eofSinceMs: number | undefined;
  /** The most recent read that found the end of the file. */
  #eofSeenMs: number | undefined;
  /** When lines were last handed to the assembler. */
  #lastPushMs = 0;
  /**
   * Whether the file is still the one at its live path, so its end is not its end yet. Cleared
   * when a scan finds it renamed or deleted: then it is read to its end and closed.
   */
  following: boolean;
  /** The last step found nothing new; such tailers are stepped only on a poll or a hint. */
  idle = false;

  constructor(
    init: { source: LogSource; path: string; dev: string; ino: string; bytes: ByteSource; assembler: RecordAssembler; following: boolean },
    opts: TailerOptions,
  ) {
    this.source = init.source;
    this.path = init.path;
    this.dev = init.dev;
    this.ino = init.ino;
    this.#bytes = init.bytes;
    this.#assembler = init.assembler;
    this.following = init.following;
    this.#opts = opts;
    this.#lines = new LineBuffer(init.bytes.position, opts.maxLineBytes);
    this.#readOffset = init.bytes.position;
  }

  get byteSource(): ByteSource {
    return this.#bytes;
  }

  /** End of the last line handed to the assembler. */
  get readOffset(): number {
    return this.#readOffset;
  }

  /** Offset of the first byte of a record still being assembled, if any. */
  pendingFrom(): number | undefined {
    return this.#assembler.pendingFrom();
  }

  /**
   * Hands on the buffered complete lines, then reads one chunk and hands on its lines. Finished
   * records are appended to `out`.
   */
  async step(nowMs: number, out: Emitted[]): Promise<StepResult> {
    if (nowMs < this.holdUntil) return 'held';
    if (!this.#drainLines(nowMs, out)) {
      this.#eofSinceMs = undefined;
      return 'held';
    }
    const r = await this.#bytes.read(this.#opts.chunkBytes);
    if (r.kind === 'eof') {
      this.#eofSinceMs ??= nowMs;
      this.#eofSeenMs = nowMs;
      return 'eof';
    }
    this.#eofSinceMs = undefined;
    if (r.kind === 'truncated') return 'truncated';
    this.#opts.metrics.bytesRead.inc(r.data.length);
    this.#lines.append(r.data);
    this.#drainLines(nowMs, out);
    return 'data';
  }

  /**
   * Records whose multi-line flush timeout passed. The timeout measures how long the *writer* has
   * been silent, so it runs only while this tailer stands at the end of the file: from the first
   * read that found nothing new, and only if such a read just happened. A pause of reading
   * (backpressure, a restart catching up) therefore never cuts a stack trace whose rest is
   * already in the file.
   */
  flushDue(nowMs: number, out: Emitted[]): void {
    if (this.#assembler.pendingFrom() === undefined) return;
    if (this.#eofSinceMs === undefined || this.#eofSeenMs === undefined || nowMs - this.#eofSeenMs > EOF_FRESH_MS) return;
    // The assembler times from the last line it was given; shift its clock so that the timeout
    // counts from when the end of the file was reached instead, if that was later.
    const shift = Math.max(0, this.#eofSinceMs - this.#lastPushMs);
    for (const record of this.#assembler.flushDue(nowMs - shift)) out.push({ record, resumeAt: record.offset });
  }

  /** Everything still being assembled: the file gets no more data. */
  flushAll(out: Emitted[]): void {
    for (const record of this.#assembler.flushAll()) out.push({ record, resumeAt: record.offset });
    this.#countDecodeErrors();
  }

  async close(): Promise<void> {
    await this.#bytes.close();
  }

  /** False when the rate limit stopped it with lines still buffered. */
  #drainLines(nowMs: number, out: Emitted[]): boolean {
    const limiter = this.#opts.rateLimiter;
    let lines = 0;
    try {
      for (;;) {
        const line = this.#heldLine ?? this.#lines.next();
        if (line === undefined) return true;
        if (limiter !== undefined) {
          const wait = limiter.reserve(this.#opts.rateKey, 1, nowMs);
          if (wait > 0) {
            this.#heldLine = line;
            this.holdUntil = nowMs + wait;
            return false;
          }
        }
        this.#heldLine = undefined;
        for (const record of this.#assembler.push(line.text, line.offset, line.endOffset, nowMs)) {
          const inside = record.offset > line.offset && record.offset < line.endOffset;
          out.push({ record, resumeAt: inside ? line.offset : record.offset });
        }
        this.#readOffset = line.endOffset;
        lines++;
      }
    } finally {
      if (lines > 0) {
        this.#lastPushMs = nowMs;
        this.#opts.metrics.linesRead.inc(lines);
        this.#countDecodeErrors();
      }
    }
  }

  #countDecodeErrors(): void {
    const n = this.#assembler.stats.decodeErrors;
    if (n > this.#decodeErrorsSeen) {
      this.#opts.metrics.decodeErrors.inc(n - this.#decodeErrorsSeen);
      this.#decodeErrorsSeen = n;
    }
  }
}
