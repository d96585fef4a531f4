/**
 * Splits the bytes of a log file into runtime lines with their byte offsets.
 *
 * Only complete lines come out: bytes after the last `\n` stay buffered until the writer finishes
 * the line, so nothing is ever emitted (or checkpointed) from a half-written line.
 *
 * A "line" longer than `maxLineBytes` without a `\n` is cut after exactly `maxLineBytes` bytes;
 * the rest starts the next line. The cut depends only on the file's bytes, never on how reads
 * happened to be chunked, so a re-read after a restart yields the same lines, offsets and record
 * IDs. Without the cut, a file with no newline would grow the buffer without bound.
 */

export interface Line {
  /** The line's bytes decoded as UTF-8, without the `\n`. */
  readonly text: string;
  /** Offset of the line's first byte in the file. */
  readonly offset: number;
  /** Offset just past the line's `\n` (or past the cut). */
  readonly endOffset: number;
  /** Bytes of the line including its `\n`. */
  readonly bytes: number;
}

const NEWLINE = 0x0a;

export class LineBuffer {
  #buf: Buffer = Buffer.alloc(0);
  /** Index in `#buf` of the first byte not yet returned as part of a line. */
  #cursor = 0;
  /** File offset of `#buf[0]`. */
  #bufOffset: number;
  readonly #maxLineBytes: number;

  constructor(startOffset: number, maxLineBytes: number) {
    if (!(maxLineBytes >= 1)) throw new RangeError(`maxLineBytes must be at least 1, got ${maxLineBytes}`);
    this.#bufOffset = startOffset;
    this.#maxLineBytes = maxLineBytes;
  }

  /** Adds the next bytes of the file (the chunk directly after the previous one). */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const rest = this.#buf.length - this.#cursor;
    if (rest === 0) {
      this.#bufOffset += this.#buf.length;
      this.#buf = chunk;
    } else {
      this.#bufOffset += this.#cursor;
      this.#buf = Buffer.concat([this.#buf.subarray(this.#cursor), chunk]);
    }
    this.#cursor = 0;
  }

  /** The next complete line, or undefined if only an unfinished line (or nothing) is buffered. */
  next(): Line | undefined {
    const start = this.#cursor;
    const available = this.#buf.length - start;
    if (available === 0) return undefined;
    // A `\n` right at the limit still ends a line of exactly `maxLineBytes` content bytes.
    const searchEnd = Math.min(this.#buf.length, start + this.#maxLineBytes + 1);
    const nl = this.#buf.subarray(start, searchEnd).indexOf(NEWLINE);
    let end: number;
    let contentEnd: number;
    if (nl >= 0) {
      contentEnd = start + nl;
      end = contentEnd + 1;
    } else if (available > this.#maxLineBytes) {
      contentEnd = end = start + this.#maxLineBytes;
    } else {
      return undefined;
    }
    this.#cursor = end;
    return {
      text: this.#buf.toString('utf8', start, contentEnd),
      offset: this.#bufOffset + start,
      endOffset: this.#bufOffset + end,
      bytes: end - start,
    };
  }

  /** Offset of the first byte not returned as part of a line: where a re-read would resume. */
  get consumedOffset(): number {
    return this.#bufOffset + this.#cursor;
  }

  /** Offset just past the last byte appended: where the next read continues. */
  get endOffset(): number {
    return this.#bufOffset + this.#buf.length;
  }

  /** Bytes appended but not yet returned as lines. */
  get bufferedBytes(): number {
    return this.#buf.length - this.#cursor;
  }
}
