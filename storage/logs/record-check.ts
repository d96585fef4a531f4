/**
 * What every log store checks of a record before storing it, so a malformed record is rejected
 * with a reason (and goes to the dead letters) instead of failing a whole batch. The limits that
 * differ between stores (ID length, time range, keyword sizes) are parameters.
 */
import { LOG_LEVELS, type LogRecord } from '../../model/logs.js';

const LEVELS = new Set<string>(LOG_LEVELS);
const SOURCE_STRINGS = ['namespace', 'pod', 'podUid', 'container', 'node', 'fileKey'] as const;

export interface RecordLimits {
  readonly maxMessageBytes: number;
  /** Longest ID, in UTF-8 bytes. */
  readonly maxIdBytes: number;
  /** Exclusive upper bound of timestamps, and how the store names its range in the reason. */
  readonly maxTimeNs: bigint;
  readonly timeRange: string;
  /** Longest value of a keyword (source strings), in UTF-8 bytes; none when absent. */
  readonly maxKeywordBytes?: number;
  /** Source strings beyond the shared ones that must be present (e.g. `path`). */
  readonly extraSourceStrings?: readonly ('path')[];
  readonly maxRestart?: number;
}

/** Why the record cannot be stored, or undefined when it can. */
export function recordProblem(r: LogRecord, limits: RecordLimits): string | undefined {
  if (typeof r !== 'object' || r === null) return 'not a record';
  if (typeof r.id !== 'string' || r.id.length === 0 || Buffer.byteLength(r.id, 'utf8') > limits.maxIdBytes) return `id must be 1 to ${limits.maxIdBytes} bytes`;
  if (typeof r.timeNs !== 'bigint' || r.timeNs < 0n || r.timeNs >= limits.maxTimeNs) return `timestamp outside ${limits.timeRange}`;
  if (!Number.isSafeInteger(r.offset) || r.offset < 0) return 'offset must be a non-negative integer';
  if (typeof r.message !== 'string') return 'message must be a string';
  // A UTF-16 unit is at most 3 UTF-8 bytes: count bytes only when the message could be too long.
  if (r.message.length * 3 > limits.maxMessageBytes) {
    const bytes = Buffer.byteLength(r.message, 'utf8');
    if (bytes > limits.maxMessageBytes) return `message of ${bytes} bytes exceeds the limit of ${limits.maxMessageBytes}`;
  }
  if (r.stream !== 'stdout' && r.stream !== 'stderr') return `unknown stream ${JSON.stringify(r.stream)}`;
  if (!LEVELS.has(r.level)) return `unknown level ${JSON.stringify(r.level)}`;
  const s = r.source;
  if (typeof s !== 'object' || s === null) return 'missing source';
  const max = limits.maxKeywordBytes;
  for (const key of [...SOURCE_STRINGS, ...(limits.extraSourceStrings ?? [])]) {
    if (typeof s[key] !== 'string') return `source.${key} must be a string`;
    if (max !== undefined && s[key].length * 3 > max && Buffer.byteLength(s[key], 'utf8') > max) return `source.${key} exceeds ${max} bytes`;
  }
  const maxRestart = limits.maxRestart ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(s.restart) || s.restart < 0 || s.restart > maxRestart) return 'source.restart must be a non-negative integer';
  if (r.fields !== undefined) {
    if (typeof r.fields !== 'object' || r.fields === null) return 'fields must be an object';
    for (const v of Object.values(r.fields)) if (typeof v !== 'string') return 'field values must be strings';
  }
  return undefined;
}
