/**
 * Turns the runtime lines of one container log file into LogRecords.
 *
 * Per file: the format (CRI or docker json-file) is detected from the first line that parses as
 * either, CRI first, as kubelet does. Per stream (stdout, stderr) two stages follow:
 *
 * 1. Fragments: CRI `P` lines and docker `log` values without a newline are joined until the
 *    line completes; the joined line keeps the first fragment's timestamp and offset.
 * 2. Records: the multiline rule decides whether a complete line continues the pending record
 *    (stack traces, panics) or starts a new one. A record is emitted when the next record starts,
 *    when it has had no continuation for `multilineFlushMs`, or when the file ends.
 *
 * Byte ranges make replays idempotent: a record's `offset` is where its first runtime line starts
 * and its `id` derives from that offset, so re-reading a file from a checkpoint reproduces the
 * same ids. `pendingFrom()` is the start of everything read but not yet handed out, which is
 * where a checkpoint may point at most. Because the streams are joined separately, a record's
 * byte range can hold lines of the other stream; a record is handed out only after every record
 * that starts inside its range, so no checkpoint falls inside an acknowledged record (see
 * `#release`). When the streams interleave partial lines, that can hand a stream's records out
 * of file order (a later one that waits for nothing goes first); each carries its offset and
 * time, by which stores and searches order them.
 *
 * Records are cut at `maxRecordBytes` on runtime-line boundaries; only a single runtime line
 * longer than that is cut inside (see `#emitPieces`).
 *
 * A line that is neither format is kept as a stdout line and counted in `stats.decodeErrors`. It
 * takes the timestamp of the line before it; lines before the first parseable one wait for it
 * and take its timestamp (0 if the file ends first or too many wait).
 */
import type { LogCollectionConfig } from '../../config/log-collection.js';
import { parseDuration } from '../../model/duration.js';
import { logRecordId, type LogLevel, type LogRecord, type LogSource, type LogStreamName } from '../../model/logs.js';
import { parseCriLine } from './cri-format.js';
import { parseDockerLine } from './docker-format.js';
import { JsonFieldParser, levelFromFields } from './json-line.js';
import { detectLevel } from './level.js';
import { Mode, multilineRule, STARTS_RECORD, type MultilineOption, type MultilineRule } from './multiline.js';
import { RuntimeLine, type RuntimeFormat } from './runtime-line.js';
import { RuntimeTimeParser } from './runtime-time.js';
import { cutUtf8, utf8Bound, utf8Length } from './utf8.js';

export interface AssemblerOptions {
  /** Max bytes of one joined record (P/F joins, docker partials, multiline); longer is cut and the rest becomes a new record. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Multiline: 'auto' (Java/Go/Python stack traces) | false | { firstLine: string (RE2) }. Default 'auto'. */
  multiline?: MultilineOption;
  /** Flush a pending multiline record after this long without a continuation line. Default 1000 ms. */
  multilineFlushMs?: number;
  /** Parse JSON lines into level/message/fields. Default true. */
  parseJson?: boolean;
  /**
   * `auto` (default): CRI or docker json-file. `plain`: a file an application writes itself
   * (`extra_globs`): every line is content on stdout, stamped with the time it was read.
   */
  format?: 'auto' | 'plain';
}

export interface AssemblerStats {
  /** Lines that were neither CRI nor docker json-file. */
  decodeErrors: number;
  /** Times a record was cut at `maxRecordBytes`. */
  splitRecords: number;
}

/**
 * One per open file. Input: each complete runtime line of the file (without its '\n'), with the byte offset
 * of its first byte and the offset just past its '\n'. Format (CRI or docker json-file) is detected from the
 * first line. Output: finished LogRecords, whose `offset` is the offset of their first runtime line and
 * `endOffset` just past their last one, `id = logRecordId(source.node, source.fileKey, offset)`.
 */
export interface RecordAssembler {
  push(line: string, offset: number, endOffset: number, nowMs: number): LogRecord[];
  /** Records whose multiline flush timeout passed. */
  flushDue(nowMs: number): LogRecord[];
  /** Everything pending (end of a file that will get no more data). */
  flushAll(): LogRecord[];
  /** Offset of the first byte not yet part of an emitted record (a pending P fragment, docker partial or multiline record), or undefined if nothing is pending. */
  pendingFrom(): number | undefined;
  readonly stats: AssemblerStats;
}

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
export const DEFAULT_MULTILINE_FLUSH_MS = 1000;
/** Unparseable lines held for a first timestamp: beyond this they go out with timestamp 0. */
const MAX_UNSTAMPED_LINES = 1000;
/** Finished records waiting for an interleaved record of the other stream (see `#release`). */
const MAX_WAITING_RECORDS = 1000;

export function createRecordAssembler(source: LogSource, opts: AssemblerOptions = {}): RecordAssembler {
  return new Assembler(source, opts);
}

/** The assembler options of a `log_collection` config section. */
export function assemblerOptionsFromConfig(cfg: Pick<LogCollectionConfig, 'multiline' | 'multiline_flush' | 'max_record_bytes'>): AssemblerOptions {
  const m = cfg.multiline;
  return {
    multiline: m === 'off' ? false : m === 'auto' ? 'auto' : { firstLine: m.first_line },
    multilineFlushMs: parseDuration(cfg.multiline_flush),
    maxRecordBytes: cfg.max_record_bytes,
  };
}

/** The assembly state of one stream of the file. */
class StreamState {
  constructor(readonly name: LogStreamName) {}

  // Stage 1: fragments of a runtime line not yet complete.
  readonly parts: string[] = [];
  partStart = 0;
  partEnd = 0;
  partTimeNs = 0n;
  partChars = 0;
  /** Exact UTF-8 size of the parts once measured, else -1 (see `Assembler.#reservePart`). */
  partBytes = -1;

  // Stage 2: the record the multiline rule is still adding lines to.
  pending = false;
  first = '';
  more: string[] | undefined;
  recStart = 0;
  recEnd = 0;
  recTimeNs = 0n;
  recChars = 0;
  recBytes = -1;
  mode: Mode = Mode.plain;
  /** The first line's level, or for a record of continuation lines only, that of the record they continue. */
  level: LogLevel = 'unknown';
  fields: Record<string, string> | undefined;
  lastLineMs = 0;

  // The record emitted last, which a continuation arriving after a flush continues.
  hasLast = false;
  lastLevel: LogLevel = 'unknown';
  lastMode: Mode = Mode.plain;
}

interface UnstampedLine {
  readonly line: string;
  readonly offset: number;
  readonly endOffset: number;
  readonly nowMs: number;
}

class Assembler implements RecordAssembler {
  readonly stats: AssemblerStats = { decodeErrors: 0, splitRecords: 0 };
  readonly #source: LogSource;
  readonly #maxBytes: number;
  readonly #flushMs: number;
  readonly #parseJson: boolean;
  readonly #plain: boolean;
  readonly #rule: MultilineRule | undefined;
  readonly #times = new RuntimeTimeParser();
  readonly #line = new RuntimeLine();
  readonly #json = new JsonFieldParser();
  readonly #stdout = new StreamState('stdout');
  readonly #stderr = new StreamState('stderr');
  #format: RuntimeFormat | undefined;
  /** The fields `#classify` found, beside the level it returns. */
  #fields: Record<string, string> | undefined;
  /** Timestamp of the last parseable line: what an unparseable line gets. */
  #lastTimeNs = 0n;
  #sawValid = false;
  /** Unparseable lines before the first parseable one: they wait for its timestamp. */
  #unstamped: UnstampedLine[] = [];
  #unstampedChars = 0;
  /** Records finished but not yet handed out (see `#release`), in the order they finished. */
  #finished: LogRecord[] = [];

  constructor(source: LogSource, opts: AssemblerOptions) {
    this.#source = source;
    this.#maxBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 1) throw new RangeError(`maxRecordBytes must be a positive integer, got ${opts.maxRecordBytes}`);
    this.#flushMs = opts.multilineFlushMs ?? DEFAULT_MULTILINE_FLUSH_MS;
    if (!(this.#flushMs >= 0)) throw new RangeError(`multilineFlushMs must be >= 0, got ${opts.multilineFlushMs}`);
    this.#parseJson = opts.parseJson ?? true;
    this.#plain = opts.format === 'plain';
    this.#rule = multilineRule(opts.multiline ?? 'auto');
  }

  push(line: string, offset: number, endOffset: number, nowMs: number): LogRecord[] {
    if (this.#plain) {
      this.#fragment(this.#stdout, line, false, BigInt(Math.trunc(nowMs)) * 1_000_000n, 0, line, offset, endOffset, nowMs, false);
      return this.#release();
    }
    const rl = this.#line;
    if (!this.#parse(line, rl)) {
      this.stats.decodeErrors++;
      if (this.#sawValid) {
        this.#fragment(this.#stdout, line, false, this.#lastTimeNs, 0, line, offset, endOffset, nowMs, true);
      } else {
        this.#unstamped.push({ line, offset, endOffset, nowMs });
        this.#unstampedChars += line.length;
        if (this.#unstamped.length >= MAX_UNSTAMPED_LINES || this.#unstampedChars > this.#maxBytes) this.#stampUnstamped();
      }
      return this.#release();
    }
    this.#lastTimeNs = rl.timeNs;
    this.#sawValid = true;
    if (this.#unstamped.length > 0) this.#stampUnstamped();
    const st = rl.stream === 'stdout' ? this.#stdout : this.#stderr;
    this.#fragment(st, rl.content, rl.partial, rl.timeNs, rl.prefixChars, line, offset, endOffset, nowMs, false);
    return this.#release();
  }

  flushDue(nowMs: number): LogRecord[] {
    for (const st of [this.#stdout, this.#stderr]) {
      if (st.pending && nowMs - st.lastLineMs >= this.#flushMs) this.#flushRecord(st);
    }
    return this.#release();
  }

  flushAll(): LogRecord[] {
    this.#flushEverything();
    return this.#release();
  }

  pendingFrom(): number | undefined {
    let min = this.#unstamped.length > 0 ? this.#unstamped[0]!.offset : Infinity;
    for (const st of [this.#stdout, this.#stderr]) {
      if (st.parts.length > 0 && st.partStart < min) min = st.partStart;
      if (st.pending && st.recStart < min) min = st.recStart;
    }
    for (const r of this.#finished) if (r.offset < min) min = r.offset;
    return min === Infinity ? undefined : min;
  }

  #flushEverything(): void {
    if (this.#unstamped.length > 0) this.#stampUnstamped();
    for (const st of [this.#stdout, this.#stderr]) {
      if (st.parts.length > 0) this.#completeParts(st, st.lastLineMs);
      this.#flushRecord(st);
    }
  }

  /**
   * Hands out the finished records that a checkpoint may pass. A record whose byte range holds
   * the start of another stream's unfinished record waits for it, and is handed out after it:
   * then every record the sink has acknowledged lies wholly before the checkpoint
   * (min(pendingFrom, first unacknowledged offset)) or starts at or after it, and a restart
   * there re-reads no line of an acknowledged record as part of a new one.
   */
  #release(): LogRecord[] {
    const finished = this.#finished;
    if (finished.length === 0) return [];
    if (finished.length === 1 && !this.#pendingInside(finished[0]!)) {
      this.#finished = [];
      return finished;
    }
    const out: LogRecord[] = [];
    let progress = true;
    while (progress && finished.length > 0) {
      progress = false;
      for (let i = 0; i < finished.length; i++) {
        const r = finished[i]!;
        if (this.#pendingInside(r) || finished.some((x) => x !== r && x.offset > r.offset && x.offset < r.endOffset)) continue;
        out.push(r);
        finished.splice(i--, 1);
        progress = true;
      }
    }
    if (finished.length > MAX_WAITING_RECORDS) {
      // Both streams keep interleaving multi-line records: cut the chain rather than grow it.
      this.stats.splitRecords++;
      this.#flushEverything();
      for (const r of this.#release()) out.push(r);
    }
    return out;
  }

  /** Whether an unfinished record of any stream starts inside `r`'s byte range. */
  #pendingInside(r: LogRecord): boolean {
    return startsInside(this.#stdout, r.offset, r.endOffset) || startsInside(this.#stderr, r.offset, r.endOffset);
  }

  #parse(line: string, rl: RuntimeLine): boolean {
    switch (this.#format) {
      case 'cri':
        return parseCriLine(line, this.#times, rl);
      case 'docker':
        return parseDockerLine(line, this.#times, rl);
      default:
        if (parseCriLine(line, this.#times, rl)) this.#format = 'cri';
        else if (parseDockerLine(line, this.#times, rl)) this.#format = 'docker';
        return this.#format !== undefined;
    }
  }

  /** Assembles the unparseable lines that waited for a timestamp, stamped with `#lastTimeNs`. */
  #stampUnstamped(): void {
    const lines = this.#unstamped;
    this.#unstamped = [];
    this.#unstampedChars = 0;
    for (const h of lines) this.#fragment(this.#stdout, h.line, false, this.#lastTimeNs, 0, h.line, h.offset, h.endOffset, h.nowMs, true);
  }

  /**
   * Stage 1. `standalone` lines (unparseable ones) end a pending fragment join instead of
   * completing it: they are not the runtime's continuation of it.
   */
  #fragment(
    st: StreamState,
    content: string,
    partial: boolean,
    timeNs: bigint,
    prefixChars: number,
    rawLine: string,
    offset: number,
    endOffset: number,
    nowMs: number,
    standalone: boolean,
  ): void {
    if (st.parts.length > 0 && standalone) this.#completeParts(st, nowMs);
    if (utf8Bound(content.length) > this.#maxBytes && utf8Length(content) > this.#maxBytes) {
      if (st.parts.length > 0) this.#completeParts(st, nowMs);
      this.#flushRecord(st);
      this.#emitPieces(st, content, timeNs, prefixChars, rawLine, offset, endOffset);
      return;
    }
    if (st.parts.length > 0 && !this.#reservePart(st, content)) {
      // The joined line would exceed the limit: it ends before this fragment.
      this.stats.splitRecords++;
      this.#completeParts(st, nowMs);
    }
    if (st.parts.length === 0) {
      if (!partial) {
        this.#completeLine(st, content, timeNs, offset, endOffset, nowMs);
        return;
      }
      st.partStart = offset;
      st.partTimeNs = timeNs;
      st.partChars = 0;
      st.partBytes = -1;
    }
    st.parts.push(content);
    st.partChars += content.length;
    st.partEnd = endOffset;
    if (!partial) this.#completeParts(st, nowMs);
  }

  /** Whether `text` may join the parts; keeps `partBytes` exact once the cheap bound no longer suffices. */
  #reservePart(st: StreamState, text: string): boolean {
    if (utf8Bound(st.partChars + text.length) <= this.#maxBytes) return true;
    if (st.partBytes < 0) st.partBytes = st.parts.reduce((n, p) => n + utf8Length(p), 0);
    const add = utf8Length(text);
    if (st.partBytes + add > this.#maxBytes) return false;
    st.partBytes += add;
    return true;
  }

  #completeParts(st: StreamState, nowMs: number): void {
    const content = st.parts.length === 1 ? st.parts[0]! : st.parts.join('');
    st.parts.length = 0;
    this.#completeLine(st, content, st.partTimeNs, st.partStart, st.partEnd, nowMs);
  }

  /**
   * A single runtime line longer than a record may be: emitted at once, in pieces. A later piece
   * starts at the byte offset of its text in the line (exact for CRI, whose content is the raw
   * bytes) and each piece ends where the next begins, so pieces have their own ids and do not
   * overlap. A reader that resumes must resume at the line's start, not at a piece's offset.
   */
  #emitPieces(st: StreamState, content: string, timeNs: bigint, prefixChars: number, rawLine: string, offset: number, endOffset: number): void {
    const pieces = cutUtf8(content, this.#maxBytes);
    this.stats.splitRecords += pieces.length - 1;
    const prefixBytes = prefixChars === 0 ? 0 : utf8Length(rawLine.slice(0, prefixChars));
    const starts = pieces.map((piece, k) => offset + (k === 0 ? 0 : prefixBytes + piece.byteOffset));
    for (let k = 1; k < starts.length; k++) {
      // Stay inside the line and distinct even if the text does not map to the bytes exactly
      // (a decoder's U+FFFD for an invalid byte is 3 bytes in the text, 1 in the file).
      starts[k] = Math.max(starts[k - 1]! + 1, Math.min(starts[k]!, endOffset - (pieces.length - k)));
    }
    // Pieces share the line's level; only the first can tell it.
    const level = this.#classify(pieces[0]!.text);
    const fields = this.#fields;
    for (let k = 0; k < pieces.length; k++) {
      const end = k + 1 < pieces.length ? starts[k + 1]! : endOffset;
      this.#finished.push(this.#record(st.name, pieces[k]!.text, timeNs, starts[k]!, end, level, k === 0 ? fields : undefined));
    }
    st.hasLast = true;
    st.lastLevel = level;
    st.lastMode = Mode.plain;
  }

  /** Stage 2: a complete line, joined to the pending record or starting one. */
  #completeLine(st: StreamState, content: string, timeNs: bigint, offset: number, endOffset: number, nowMs: number): void {
    const rule = this.#rule;
    if (rule === undefined) {
      const level = this.#classify(content);
      st.hasLast = true;
      st.lastLevel = level;
      this.#finished.push(this.#record(st.name, content, timeNs, offset, endOffset, level, this.#fields));
      return;
    }
    // No timeout check here: a line that arrives late was usually written in time and read late
    // (backpressure, catching up); only the caller knows whether the writer went silent, and it
    // says so through `flushDue`.
    if (st.pending) {
      const mode = rule.next(st.mode, content);
      if (mode === STARTS_RECORD) {
        this.#flushRecord(st);
        this.#begin(st, content, timeNs, offset, endOffset, nowMs);
      } else if (this.#reserveLine(st, content)) {
        (st.more ??= []).push(content);
        st.recChars += 1 + content.length;
        st.recEnd = endOffset;
        st.mode = mode;
        st.lastLineMs = nowMs;
      } else {
        // Too long to join: the rest of the trace becomes a record of its own, same level.
        this.stats.splitRecords++;
        this.#flushRecord(st);
        this.#begin(st, content, timeNs, offset, endOffset, nowMs, mode);
      }
      return;
    }
    if (st.hasLast) {
      const mode = rule.next(st.lastMode, content);
      if (mode !== STARTS_RECORD) {
        this.#begin(st, content, timeNs, offset, endOffset, nowMs, mode);
        return;
      }
    }
    this.#begin(st, content, timeNs, offset, endOffset, nowMs);
  }

  /**
   * Starts the pending record with `content`: a first line, or with `continuedMode` a
   * continuation of the record emitted last, whose level it takes.
   */
  #begin(st: StreamState, content: string, timeNs: bigint, offset: number, endOffset: number, nowMs: number, continuedMode?: Mode): void {
    if (continuedMode === undefined) {
      st.level = this.#classify(content);
      st.fields = this.#fields;
      st.mode = this.#rule!.start(content, st.level);
    } else {
      st.level = st.lastLevel;
      st.fields = undefined;
      st.mode = continuedMode;
    }
    st.pending = true;
    st.first = content;
    st.more = undefined;
    st.recStart = offset;
    st.recEnd = endOffset;
    st.recTimeNs = timeNs;
    st.recChars = content.length;
    st.recBytes = -1;
    st.lastLineMs = nowMs;
  }

  /** Whether one more line (and its '\n') fits the pending record; like `#reservePart`. */
  #reserveLine(st: StreamState, text: string): boolean {
    if (utf8Bound(st.recChars + 1 + text.length) <= this.#maxBytes) return true;
    if (st.recBytes < 0) {
      let bytes = utf8Length(st.first);
      for (const line of st.more ?? []) bytes += 1 + utf8Length(line);
      st.recBytes = bytes;
    }
    const add = 1 + utf8Length(text);
    if (st.recBytes + add > this.#maxBytes) return false;
    st.recBytes += add;
    return true;
  }

  #flushRecord(st: StreamState): void {
    if (!st.pending) return;
    const message = st.more === undefined ? st.first : `${st.first}\n${st.more.join('\n')}`;
    this.#finished.push(this.#record(st.name, message, st.recTimeNs, st.recStart, st.recEnd, st.level, st.fields));
    st.pending = false;
    st.first = '';
    st.more = undefined;
    st.fields = undefined;
    st.hasLast = true;
    st.lastLevel = st.level;
    st.lastMode = st.mode;
  }

  /** The level of a record's first line; its JSON fields, if any, are left in `#fields`. */
  #classify(line: string): LogLevel {
    this.#fields = undefined;
    if (this.#parseJson && line.charCodeAt(0) === 0x7b /* { */) {
      const fields = this.#json.parse(line);
      if (fields !== undefined) {
        if (!isEmpty(fields)) this.#fields = fields;
        return levelFromFields(fields) ?? 'unknown';
      }
    }
    return detectLevel(line);
  }

  #record(stream: LogStreamName, message: string, timeNs: bigint, offset: number, endOffset: number, level: LogLevel, fields: Record<string, string> | undefined): LogRecord {
    const source = this.#source;
    return {
      id: logRecordId(source.node, source.fileKey, offset),
      timeNs,
      stream,
      level,
      message,
      fields,
      source,
      offset,
      endOffset,
    };
  }
}

function startsInside(st: StreamState, from: number, to: number): boolean {
  return (st.parts.length > 0 && st.partStart > from && st.partStart < to) || (st.pending && st.recStart > from && st.recStart < to);
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
