/**
 * Log records as Elasticsearch documents and back. The document's `_id` is the record's id; the
 * id is also indexed as `vigil.id` because sorting and `search_after` on `_id` are disabled by
 * default in 8.x and the order of records needs it as the last tiebreaker.
 */
import { recordProblem as checkRecord } from '../record-check.js';
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

/** What Elasticsearch can hold of a record, checked before it is sent (see `../record-check.ts`). */
export function recordProblem(r: LogRecord, maxMessageBytes: number): string | undefined {
  return checkRecord(r, {
    maxMessageBytes,
    maxIdBytes: MAX_ID_BYTES,
    maxTimeNs: DATE_NANOS_MAX + 1n,
    timeRange: 'what date_nanos holds (1970-01-01 to 2262-04-11)',
    maxKeywordBytes: MAX_KEYWORD_BYTES,
    extraSourceStrings: ['path'],
    maxRestart: 2 ** 31 - 1,
  });
}
