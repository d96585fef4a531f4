/**
 * Log records as they travel from the tailer through a sink (in-process or Kafka) into a log store.
 *
 * A record is one logical line: CRI `P` fragments and multiline stack traces are already joined.
 * Every record carries the byte range it came from, so a replay of the same bytes yields the same
 * record `id` and a store can drop it as a duplicate: at-least-once delivery plus deterministic IDs
 * gives exactly-once storage.
 */
import { hash } from 'node:crypto';

export type LogStreamName = 'stdout' | 'stderr';

/** Levels as Vigil normalises them; `unknown` when a line names none. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Where records come from: one container log file on one node. Shared by every record read from
 * that file, so the per-record cost is a pointer.
 */
export interface LogSource {
  /** Node the collector runs on (`VIGIL_NODE_NAME`, the downward API's `spec.nodeName`). */
  readonly node: string;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  /** The kubelet's restart count: the `<n>` of `<n>.log`. */
  readonly restart: number;
  /** Path the file was first seen at. */
  readonly path: string;
  /**
   * Stable identity of the file's content: a fingerprint of its first line. It survives renames
   * and gzip rotation, so re-reading a rotated copy yields the same record IDs.
   */
  readonly fileKey: string;
  /** Pod labels and annotations, when metadata enrichment is on. */
  readonly podLabels?: Readonly<Record<string, string>>;
  readonly podAnnotations?: Readonly<Record<string, string>>;
}

export interface LogRecord {
  /** Deterministic: `logRecordId(source.node, source.fileKey, offset)`. */
  readonly id: string;
  /** Nanoseconds since the Unix epoch (CRI timestamps are nanosecond-precise). */
  readonly timeNs: bigint;
  readonly stream: LogStreamName;
  readonly level: LogLevel;
  /** The line's content without the runtime's framing and without the trailing newline. */
  readonly message: string;
  /** Fields of a JSON line, flattened with `_` as LogQL's `| json` does; absent for plain lines. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly source: LogSource;
  /** Byte offset in the (uncompressed) file where the record's first runtime line starts. */
  readonly offset: number;
  /** Byte offset just past the record's last runtime line: where a reader resumes. */
  readonly endOffset: number;
}

/**
 * The record ID: 20 URL-safe characters from SHA-1 over node, file key and offset. Short enough
 * for an Elasticsearch `_id` and an SQLite key; collisions would need SHA-1 collisions.
 */
export function logRecordId(node: string, fileKey: string, offset: number): string {
  // One-shot `hash` is several times cheaper than a `createHash` object, and IDs are on the hot path.
  return hash('sha1', `${node}\u0000${fileKey}\u0000${offset}`, 'base64url').slice(0, 20);
}

/**
 * Labels that identify a log stream, as Loki's stream selector sees them. `level` is deliberately
 * not one: it varies per line, and a stream label that varies per line breaks "show context"
 * (one container's lines must stay one stream).
 */
export const LOG_STREAM_LABELS = ['namespace', 'pod', 'container', 'node', 'stream'] as const;
export type LogStreamLabel = (typeof LOG_STREAM_LABELS)[number];

export function logStreamLabels(r: LogRecord): Record<LogStreamLabel, string> {
  return {
    namespace: r.source.namespace,
    pod: r.source.pod,
    container: r.source.container,
    node: r.source.node,
    stream: r.stream,
  };
}

/** RFC 3339 with nanoseconds, as CRI writes and Loki/Elasticsearch `date_nanos` read. */
export function formatTimeNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = ns % 1_000_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

export class LogTimeError extends Error {
  constructor(readonly input: string) {
    super(`invalid RFC 3339 timestamp ${JSON.stringify(input.slice(0, 64))}`);
    this.name = 'LogTimeError';
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/** Parses RFC 3339 (with up to nanosecond fractions, `Z` or an offset) into epoch nanoseconds. */
export function parseTimeNs(input: string): bigint {
  const m = RFC3339.exec(input);
  if (!m) throw new LogTimeError(input);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    throw new LogTimeError(input);
  }
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (Number.isNaN(ms)) throw new LogTimeError(input);
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone![0] === '-' ? -1 : 1;
    const offH = Number(zone!.slice(1, 3));
    const offM = Number(zone!.slice(4, 6));
    if (offH > 23 || offM > 59) throw new LogTimeError(input);
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0;
  return BigInt(ms) * 1_000_000n + BigInt(nanos);
}
