/**
 * The one order of stored log records, shared by every store, cursor and merge: time, then byte
 * offset, then id. Within one file the offset orders records whose CRI timestamps tie (a burst
 * within one clock tick); the id makes the order total across files, so pages never overlap.
 *
 * Ids are compared as byte strings (what SQLite's BINARY collation and Elasticsearch's keyword
 * sort do); `logRecordId` makes them ASCII, where this equals JavaScript's string order.
 */
import type { LogStreamInfo } from './interface.js';

export interface LogRecordKey {
  readonly timeNs: bigint;
  readonly offset: number;
  readonly id: string;
}

export function compareLogRecordKeys(a: LogRecordKey, b: LogRecordKey): number {
  if (a.timeNs !== b.timeNs) return a.timeNs < b.timeNs ? -1 : 1;
  if (a.offset !== b.offset) return a.offset < b.offset ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The order of stream listings (`LogStore.streams`): namespace, pod, container, pod UID, node. */
export function compareLogStreams(a: LogStreamInfo, b: LogStreamInfo): number {
  for (const k of STREAM_ORDER) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

const STREAM_ORDER = ['namespace', 'pod', 'container', 'podUid', 'node'] as const;
