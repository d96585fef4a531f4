/**
 * The wire format of one Kafka message on the log topic: a batch of records read from ONE source
 * file (one container stream), as JSON:
 *
 *   {"v":1,
 *    "src":{"node","namespace","pod","podUid","container","restart","path","fileKey",
 *           "podLabels"?,"podAnnotations"?},
 *    "lines":[{"id"?,"ts":"<ns, decimal string>","stream","level","msg","fields"?,"off","end"}]}
 *
 * The source travels once per message instead of once per line. Timestamps are decimal strings
 * because JSON numbers lose nanoseconds. Record ids are not sent: the reader recomputes them from
 * (node, fileKey, off), and 20 random characters per line were about half of the compressed bytes
 * of typical lines (measured with GZIP). A line that does state an id must state that one, or the
 * message is refused rather than silently breaking deduplication of replays. A change of the id
 * scheme is a new `v`.
 *
 * Decoding is strict: unknown keys, wrong types and out-of-range values are errors that name
 * the place (`lines[3].ts`). A corrupt message goes to the dead-letter topic; it must never take
 * the indexer down.
 */
import {
  LOG_LEVELS,
  logRecordId,
  type LogLevel,
  type LogRecord,
  type LogSource,
  type LogStreamName,
} from '../../../model/logs.js';

export const LOG_MESSAGE_VERSION = 1;

/**
 * Upper bound of one encoded message. Kafka's default `message.max.bytes` is 1048588 for a
 * (compressed) record batch and kafkajs's `maxBytesPerPartition` 1 MiB; staying under 1 MB
 * uncompressed keeps a message within both whatever the compression achieves.
 */
export const MAX_MESSAGE_BYTES = 1_000_000;

/** One encoded message: the value bytes and the records it carries. */
export interface EncodedLogMessage {
  readonly source: LogSource;
  readonly value: Buffer;
  readonly records: number;
  /**
   * True when one record alone encodes to more than the limit. It travels in a message of its
   * own; whether the broker takes it depends on its compressed size and `message.max.bytes`.
   */
  readonly oversized: boolean;
}

export interface DecodedLogMessage {
  readonly source: LogSource;
  /** In message order; every record shares `source`. */
  readonly records: LogRecord[];
}

export class LogMessageDecodeError extends Error {
  /** Where in the message the problem is, e.g. `lines[3].ts`; empty for the whole message. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(path === '' ? `log message: ${problem}` : `log message ${path}: ${problem}`);
    this.name = 'LogMessageDecodeError';
    this.path = path;
  }
}

const STREAMS: readonly string[] = ['stdout', 'stderr'] satisfies readonly LogStreamName[];
const LEVELS: readonly string[] = LOG_LEVELS;
/** Canonical decimal int64-sized integers: no sign on zero, no leading zeros. */
const NS_RE = /^(?:0|-?[1-9][0-9]{0,18})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes records into messages of at most `maxBytes` each. Records are grouped by source (a
 * message carries one source), keeping the order records have within their source; a group too
 * large for one message is split into consecutive messages.
 */
export function encodeLogMessages(records: readonly LogRecord[], maxBytes: number = MAX_MESSAGE_BYTES): EncodedLogMessage[] {
  // Records of one file share one LogSource object, so most lookups hit the identity cache.
  const srcJsonOf = new Map<LogSource, string>();
  const groups = new Map<string, { source: LogSource; lines: string[] }>();
  for (const r of records) {
    let srcJson = srcJsonOf.get(r.source);
    if (srcJson === undefined) {
      srcJson = JSON.stringify(sourceToWire(r.source));
      srcJsonOf.set(r.source, srcJson);
    }
    let group = groups.get(srcJson);
    if (group === undefined) {
      group = { source: r.source, lines: [] };
      groups.set(srcJson, group);
    }
    group.lines.push(JSON.stringify(lineToWire(r)));
  }

  const out: EncodedLogMessage[] = [];
  for (const [srcJson, { source, lines }] of groups) {
    const head = `{"v":${LOG_MESSAGE_VERSION},"src":${srcJson},"lines":[`;
    const tail = ']}';
    const frame = Buffer.byteLength(head) + tail.length;
    let pending: string[] = [];
    let size = frame;
    const flush = (): void => {
      out.push({ source, value: Buffer.from(head + pending.join(',') + tail), records: pending.length, oversized: size > maxBytes });
      pending = [];
      size = frame;
    };
    for (const line of lines) {
      const lineBytes = Buffer.byteLength(line);
      if (pending.length > 0 && size + 1 + lineBytes > maxBytes) flush();
      size += (pending.length > 0 ? 1 : 0) + lineBytes;
      pending.push(line);
    }
    if (pending.length > 0) flush();
  }
  return out;
}

function sourceToWire(s: LogSource): Record<string, unknown> {
  const w: Record<string, unknown> = {
    node: s.node,
    namespace: s.namespace,
    pod: s.pod,
    podUid: s.podUid,
    container: s.container,
    restart: s.restart,
    path: s.path,
    fileKey: s.fileKey,
  };
  if (s.podLabels !== undefined) w.podLabels = s.podLabels;
  if (s.podAnnotations !== undefined) w.podAnnotations = s.podAnnotations;
  return w;
}

function lineToWire(r: LogRecord): Record<string, unknown> {
  const w: Record<string, unknown> = {
    ts: r.timeNs.toString(),
    stream: r.stream,
    level: r.level,
    msg: r.message,
  };
  if (r.fields !== undefined) w.fields = r.fields;
  w.off = r.offset;
  w.end = r.endOffset;
  return w;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes and validates one message value; throws `LogMessageDecodeError` naming the problem. */
export function decodeLogMessage(value: Uint8Array | string | null): DecodedLogMessage {
  if (value === null) throw new LogMessageDecodeError('', 'no value (a tombstone)');
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    try {
      text = utf8.decode(value);
    } catch {
      throw new LogMessageDecodeError('', 'value is not valid UTF-8');
    }
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LogMessageDecodeError('', `value is not JSON (${(err as Error).message})`);
  }
  const root = object(doc, '');
  onlyKeys(root, '', ['v', 'src', 'lines']);
  if (root.v !== LOG_MESSAGE_VERSION) {
    throw new LogMessageDecodeError('v', `unsupported version ${describe(root.v)} (this reader knows ${LOG_MESSAGE_VERSION})`);
  }
  const source = decodeSource(root.src, 'src');
  if (!Array.isArray(root.lines)) throw new LogMessageDecodeError('lines', `expected an array, got ${describe(root.lines)}`);
  if (root.lines.length === 0) throw new LogMessageDecodeError('lines', 'expected at least one line');
  const records = root.lines.map((line, i) => decodeLine(line, `lines[${i}]`, source));
  return { source, records };
}

function decodeSource(v: unknown, path: string): LogSource {
  const o = object(v, path);
  onlyKeys(o, path, ['node', 'namespace', 'pod', 'podUid', 'container', 'restart', 'path', 'fileKey', 'podLabels', 'podAnnotations']);
  const source: {
    -readonly [K in keyof LogSource]: LogSource[K];
  } = {
    node: string(o, 'node', path),
    namespace: string(o, 'namespace', path),
    pod: string(o, 'pod', path),
    podUid: string(o, 'podUid', path),
    container: string(o, 'container', path),
    restart: count(o, 'restart', path),
    path: string(o, 'path', path),
    fileKey: string(o, 'fileKey', path),
  };
  if (o.podLabels !== undefined) source.podLabels = stringMap(o.podLabels, `${path}.podLabels`);
  if (o.podAnnotations !== undefined) source.podAnnotations = stringMap(o.podAnnotations, `${path}.podAnnotations`);
  return source;
}

function decodeLine(v: unknown, path: string, source: LogSource): LogRecord {
  const o = object(v, path);
  onlyKeys(o, path, ['id', 'ts', 'stream', 'level', 'msg', 'fields', 'off', 'end']);
  const ts = string(o, 'ts', path);
  if (!NS_RE.test(ts)) throw new LogMessageDecodeError(`${path}.ts`, `expected nanoseconds as a decimal string, got ${describe(ts)}`);
  const timeNs = BigInt(ts);
  if (timeNs < INT64_MIN || timeNs > INT64_MAX) throw new LogMessageDecodeError(`${path}.ts`, `${ts} is outside the int64 range`);
  const stream = string(o, 'stream', path);
  if (!STREAMS.includes(stream)) throw new LogMessageDecodeError(`${path}.stream`, `expected stdout or stderr, got ${describe(stream)}`);
  const level = string(o, 'level', path);
  if (!LEVELS.includes(level)) throw new LogMessageDecodeError(`${path}.level`, `expected one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`);
  const message = string(o, 'msg', path);
  const offset = count(o, 'off', path);
  const endOffset = count(o, 'end', path);
  if (endOffset < offset) throw new LogMessageDecodeError(`${path}.end`, `end ${endOffset} is before off ${offset}`);
  const id = logRecordId(source.node, source.fileKey, offset);
  if (o.id !== undefined) {
    const stated = string(o, 'id', path);
    if (stated !== id) {
      throw new LogMessageDecodeError(`${path}.id`, `${describe(stated)} is not the id of (node, fileKey, off), which is ${describe(id)}`);
    }
  }
  const record: { -readonly [K in keyof LogRecord]: LogRecord[K] } = {
    id,
    timeNs,
    stream: stream as LogStreamName,
    level: level as LogLevel,
    message,
    source,
    offset,
    endOffset,
  };
  if (o.fields !== undefined) record.fields = stringMap(o.fields, `${path}.fields`);
  return record;
}

function object(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new LogMessageDecodeError(path, `expected an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new LogMessageDecodeError(path, `unknown key ${JSON.stringify(k)}`);
  }
}

function string(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new LogMessageDecodeError(`${path}.${key}`, `expected a string, got ${describe(v)}`);
  return v;
}

/** A non-negative safe integer: byte offsets and restart counts. */
function count(o: Record<string, unknown>, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new LogMessageDecodeError(`${path}.${key}`, `expected a non-negative integer, got ${describe(v)}`);
  }
  return v;
}

function stringMap(v: unknown, path: string): Record<string, string> {
  const o = object(v, path);
  const entries = Object.entries(o);
  for (const [k, val] of entries) {
    if (typeof val !== 'string') throw new LogMessageDecodeError(`${path}[${JSON.stringify(k)}]`, `expected a string, got ${describe(val)}`);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a key, not a prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
  return `${typeof v} ${String(v)}`;
}
