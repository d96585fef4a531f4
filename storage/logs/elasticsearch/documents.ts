/**
 * Log records as Elasticsearch documents and back. The document's `_id` is the record's id; the
 * id is also indexed as `vigil.id` because sorting and `search_after` on `_id` are disabled by
 * default in 8.x and the order of records needs it as the last tiebreaker.
 */
import { formatTimeNs, LOG_LEVELS, parseTimeNs, type LogLevel, type LogRecord, type LogStreamName } from '../../../model/logs.js';
import type { StoredLogRecord } from '../interface.js';
import { DATE_NANOS_MAX } from './indices.js';

export interface LogDocument {
  readonly '@timestamp': string;
  readonly message: string;
  readonly stream: LogStreamName;
  readonly log: { readonly level: LogLevel; readonly offset: number; readonly file: { readonly path: string } };
  readonly vigil: { readonly id: string; readonly file_key: string };
  readonly kubernetes: {
    readonly namespace: string;
    readonly pod: { readonly name: string; readonly uid: string };
    readonly container: { readonly name: string; readonly restart_count: number };
    readonly node: { readonly name: string };
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly fields?: Readonly<Record<string, string>>;
}

/** The `_source` fields a read needs; labels and annotations stay on the server. */
export const STORED_RECORD_SOURCE = [
  '@timestamp',
  'message',
  'stream',
  'log.level',
  'log.offset',
  'vigil.id',
  'vigil.file_key',
  'kubernetes.namespace',
  'kubernetes.pod.name',
  'kubernetes.pod.uid',
  'kubernetes.container.name',
  'kubernetes.container.restart_count',
  'kubernetes.node.name',
  'fields',
];

export function toDocument(r: LogRecord): LogDocument {
  const s = r.source;
  return {
    '@timestamp': formatTimeNs(r.timeNs),
    message: r.message,
    stream: r.stream,
    log: { level: r.level, offset: r.offset, file: { path: s.path } },
    vigil: { id: r.id, file_key: s.fileKey },
    kubernetes: {
      namespace: s.namespace,
      pod: { name: s.pod, uid: s.podUid },
      container: { name: s.container, restart_count: s.restart },
      node: { name: s.node },
      ...(s.podLabels !== undefined && Object.keys(s.podLabels).length > 0 && { labels: s.podLabels }),
      ...(s.podAnnotations !== undefined && Object.keys(s.podAnnotations).length > 0 && { annotations: s.podAnnotations }),
    },
    ...(r.fields !== undefined && { fields: r.fields }),
  };
}

export class LogDocumentError extends Error {
  constructor(
    readonly id: string | undefined,
    detail: string,
  ) {
    super(`stored log document ${id === undefined ? '(no _id)' : JSON.stringify(id)} is malformed: ${detail}`);
    this.name = 'LogDocumentError';
  }
}

function path(source: unknown, dotted: string): unknown {
  let v: unknown = source;
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

const LEVELS = new Set<string>(LOG_LEVELS);

/** A document read back from `_source`; anything not written by `toDocument` is an error naming the field. */
export function fromSource(id: string | undefined, source: unknown): StoredLogRecord {
  const str = (field: string): string => {
    const v = path(source, field);
    if (typeof v !== 'string') throw new LogDocumentError(id, `${field} is not a string`);
    return v;
  };
  const int = (field: string): number => {
    const v = path(source, field);
    if (!Number.isSafeInteger(v)) throw new LogDocumentError(id, `${field} is not an integer`);
    return v as number;
  };
  let timeNs: bigint;
  try {
    timeNs = parseTimeNs(str('@timestamp'));
  } catch (err) {
    throw new LogDocumentError(id, `@timestamp: ${(err as Error).message}`);
  }
  const stream = str('stream');
  if (stream !== 'stdout' && stream !== 'stderr') throw new LogDocumentError(id, `stream ${JSON.stringify(stream)} is unknown`);
  const level = str('log.level');
  if (!LEVELS.has(level)) throw new LogDocumentError(id, `log.level ${JSON.stringify(level)} is unknown`);
  const fields = path(source, 'fields');
  if (fields !== undefined && (typeof fields !== 'object' || fields === null || Object.values(fields).some((v) => typeof v !== 'string'))) {
    throw new LogDocumentError(id, 'fields is not an object of strings');
  }
  return {
    id: str('vigil.id'),
    timeNs,
    stream,
    level: level as LogLevel,
    message: str('message'),
    ...(fields !== undefined && { fields: fields as Record<string, string> }),
    namespace: str('kubernetes.namespace'),
    pod: str('kubernetes.pod.name'),
    podUid: str('kubernetes.pod.uid'),
    container: str('kubernetes.container.name'),
    restart: int('kubernetes.container.restart_count'),
    node: str('kubernetes.node.name'),
    fileKey: str('vigil.file_key'),
    offset: int('log.offset'),
  };
}

/** Elasticsearch's `_id` is limited to 512 bytes. */
const MAX_ID_BYTES = 512;
/** Lucene refuses a keyword term over 32766 bytes, which would fail the whole document. */
const MAX_KEYWORD_BYTES = 32766;

/**
 * Why a record cannot be stored, or undefined when it can. Checked before sending, so a record
 * Elasticsearch would refuse anyway (or file under a nonsense daily index) is rejected with a
 * reason that names the field instead of a mapping exception.
 */
export function recordProblem(r: LogRecord, maxMessageBytes: number): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not a record';
  if (typeof r.id !== 'string' || r.id.length === 0 || Buffer.byteLength(r.id, 'utf8') > MAX_ID_BYTES) return `id must be 1 to ${MAX_ID_BYTES} bytes`;
  if (typeof r.timeNs !== 'bigint' || r.timeNs < 0n || r.timeNs > DATE_NANOS_MAX) return 'timestamp outside what date_nanos holds (1970-01-01 to 2262-04-11)';
  if (!Number.isSafeInteger(r.offset) || r.offset < 0) return 'offset must be a non-negative integer';
  if (typeof r.message !== 'string') return 'message must be a string';
  if (r.message.length * 3 > maxMessageBytes) {
    const bytes = Buffer.byteLength(r.message, 'utf8');
    if (bytes > maxMessageBytes) return `message of ${bytes} bytes exceeds the limit of ${maxMessageBytes}`;
  }
  if (r.stream !== 'stdout' && r.stream !== 'stderr') return `unknown stream ${JSON.stringify(r.stream)}`;
  if (!LEVELS.has(r.level)) return `unknown level ${JSON.stringify(r.level)}`;
  const s = r.source;
  if (typeof s !== 'object' || s === null) return 'missing source';
  for (const key of ['namespace', 'pod', 'podUid', 'container', 'node', 'fileKey', 'path'] as const) {
    if (typeof s[key] !== 'string') return `source.${key} must be a string`;
    if (s[key].length * 3 > MAX_KEYWORD_BYTES && Buffer.byteLength(s[key], 'utf8') > MAX_KEYWORD_BYTES) return `source.${key} exceeds ${MAX_KEYWORD_BYTES} bytes`;
  }
  if (!Number.isSafeInteger(s.restart) || s.restart < 0 || s.restart > 2 ** 31 - 1) return 'source.restart must be a non-negative 32-bit integer';
  if (r.fields !== undefined) {
    if (typeof r.fields !== 'object' || r.fields === null) return 'fields must be an object';
    for (const v of Object.values(r.fields)) if (typeof v !== 'string') return 'field values must be strings';
  }
  return undefined;
}
