/**
 * The two seams of the log pipeline.
 *
 * `LogSink` is what the tailer writes to: in-process straight into a `LogStore`, or Kafka. A
 * resolved `write` is the acknowledgement: the records are durable on the other side, and only
 * then may the tailer advance its checkpoints past them.
 *
 * `LogStore` is where records are kept and searched: SQLite FTS5 files (embedded) or
 * Elasticsearch. Appends are idempotent by `LogRecord.id`, so any replay is harmless. Queries are
 * planned into the store's own language (SQL, the query DSL); scope restrictions are matchers in
 * the plan, never filters applied to results afterwards.
 */
import type { Matcher } from '../../model/matcher.js';
import type { LogLevel, LogRecord, LogStreamName } from '../../model/logs.js';

export interface LogSink {
  readonly name: string;
  /**
   * Resolves when every record is durable downstream; rejects when none can be assumed to be.
   * Callers write batches one after another and must not reorder them.
   */
  write(batch: readonly LogRecord[], signal?: AbortSignal): Promise<void>;
  /** Resolves once everything written so far is acknowledged. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Raised by sinks and stores when the failure may pass (unavailable, overloaded). */
export class LogUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LogUnavailableError';
  }
}

/** A record the store will never accept (mapping conflict, too large): goes to the dead letters. */
export interface RejectedRecord {
  readonly index: number;
  readonly reason: string;
}

export interface AppendResult {
  /** Records newly stored. */
  readonly stored: number;
  /** Records already present (same `id`): a replay. */
  readonly duplicates: number;
  /** Records refused permanently, with the store's reason. */
  readonly rejected: readonly RejectedRecord[];
}

export type LineFilterOp = '|=' | '!=' | '|~' | '!~';

/** A LogQL line filter: `|=`/`!=` are substring tests, `|~`/`!~` unanchored RE2 regexes. */
export interface LineFilter {
  readonly op: LineFilterOp;
  readonly value: string;
}

/**
 * The store-level query: which streams, which lines, which time range. Matchers apply to the stream
 * labels of `model/logs.ts` (`namespace`, `pod`, `container`, `node`, `stream`) and to `level`.
 * Time bounds are nanoseconds, `start` inclusive, `end` exclusive, as in Loki.
 */
export interface LogSelection {
  readonly matchers: readonly Matcher[];
  readonly lineFilters: readonly LineFilter[];
  readonly startNs: bigint;
  readonly endNs: bigint;
}

export type LogDirection = 'backward' | 'forward';

export interface LogSearchRequest extends LogSelection {
  readonly direction: LogDirection;
  readonly limit: number;
  /** Opaque, from a previous page's `nextCursor`; stable while new records arrive. */
  readonly cursor?: string;
}

/** A stored record as read back. */
export interface StoredLogRecord {
  readonly id: string;
  readonly timeNs: bigint;
  readonly stream: LogStreamName;
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Readonly<Record<string, string>>;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly restart: number;
  readonly node: string;
  readonly fileKey: string;
  readonly offset: number;
}

export interface LogSearchResult {
  readonly records: readonly StoredLogRecord[];
  /** Present when more records match beyond this page. */
  readonly nextCursor?: string;
}

export interface LogContextRequest {
  /** The anchor record's `id`. */
  readonly id: string;
  readonly before: number;
  readonly after: number;
}

export interface LogContextResult {
  readonly anchor?: StoredLogRecord;
  /** Oldest first, ending just before the anchor. */
  readonly before: readonly StoredLogRecord[];
  /** Oldest first, starting just after the anchor. */
  readonly after: readonly StoredLogRecord[];
}

/** One container stream (a container of a pod instance), with when it was first and last seen. */
export interface LogStreamInfo {
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly node: string;
  readonly firstSeenNs: bigint;
  readonly lastSeenNs: bigint;
}

export interface LogVolumeBucket {
  /** Start of the bucket, nanoseconds. */
  readonly startNs: bigint;
  readonly count: number;
}

export interface LogStore {
  readonly name: string;
  /** Stores a batch idempotently by record `id`; throws `LogUnavailableError` when it may retry. */
  append(batch: readonly LogRecord[], signal?: AbortSignal): Promise<AppendResult>;
  search(req: LogSearchRequest, signal?: AbortSignal): Promise<LogSearchResult>;
  /** `grep -C` for one container stream: same pod UID, container and restart, filters ignored. */
  context(req: LogContextRequest, signal?: AbortSignal): Promise<LogContextResult>;
  /** Counts of matching records per `stepNs` bucket over the selection's time range. */
  volume(sel: LogSelection, stepNs: bigint, signal?: AbortSignal): Promise<LogVolumeBucket[]>;
  /** Streams with records in the time range that match the matchers (line filters are ignored). */
  streams(sel: LogSelection, signal?: AbortSignal): Promise<LogStreamInfo[]>;
  /** Drops records older than `cutoffNs`; returns how many units (files, indices) were removed. */
  applyRetention(cutoffNs: bigint): Promise<number>;
  close(): Promise<void>;
}
