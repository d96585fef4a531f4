/**
 * Page cursors for log search: the sort key of the last record returned, so the next page starts
 * strictly after it (keyset pagination). Records appended between pages cannot shift a page the
 * way an offset would; nothing that existed at the first page is skipped or repeated.
 *
 * The text is opaque to clients but not trusted: anything that does not decode to exactly this
 * shape is a `LogCursorError` naming what is wrong.
 */
import type { LogDirection } from './interface.js';
import type { LogRecordKey } from './record-order.js';

export class LogCursorError extends Error {
  constructor(detail: string) {
    super(`invalid log cursor: ${detail}`);
    this.name = 'LogCursorError';
  }
}

export interface LogCursor extends LogRecordKey {
  readonly direction: LogDirection;
}

const VERSION = '1';
const MAX_CURSOR_CHARS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const INT64 = /^-?(0|[1-9]\d{0,18})$/;
const OFFSET = /^(0|[1-9]\d{0,15})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function encodeLogCursor(direction: LogDirection, key: LogRecordKey): string {
  const text = [VERSION, direction === 'forward' ? 'f' : 'b', key.timeNs.toString(), String(key.offset), key.id].join('|');
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Decodes a cursor made by `encodeLogCursor` for a search in `direction`. */
export function decodeLogCursor(cursor: string, direction: LogDirection): LogCursor {
  if (typeof cursor !== 'string' || cursor.length === 0) throw new LogCursorError('empty');
  if (cursor.length > MAX_CURSOR_CHARS) throw new LogCursorError(`longer than ${MAX_CURSOR_CHARS} characters`);
  if (!BASE64URL.test(cursor)) throw new LogCursorError('not base64url text');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const parts = text.split('|');
  if (parts.length < 5) throw new LogCursorError(`expected 5 fields, found ${parts.length}`);
  const [version, dir, time, offset] = parts as [string, string, string, string];
  const id = parts.slice(4).join('|');
  if (version !== VERSION) throw new LogCursorError(`field 1 (version) is ${JSON.stringify(version.slice(0, 16))}, expected ${VERSION}`);
  if (dir !== 'f' && dir !== 'b') throw new LogCursorError(`field 2 (direction) is ${JSON.stringify(dir.slice(0, 16))}, expected f or b`);
  const cursorDirection: LogDirection = dir === 'f' ? 'forward' : 'backward';
  if (cursorDirection !== direction) throw new LogCursorError(`made for a ${cursorDirection} search, used in a ${direction} one`);
  if (!INT64.test(time)) throw new LogCursorError(`field 3 (time) ${JSON.stringify(time.slice(0, 32))} is not an integer`);
  const timeNs = BigInt(time);
  if (timeNs < INT64_MIN || timeNs > INT64_MAX) throw new LogCursorError('field 3 (time) is out of range');
  if (!OFFSET.test(offset) || !Number.isSafeInteger(Number(offset))) {
    throw new LogCursorError(`field 4 (offset) ${JSON.stringify(offset.slice(0, 32))} is not a non-negative integer`);
  }
  if (id.length === 0) throw new LogCursorError('field 5 (id) is empty');
  return { direction, timeNs, offset: Number(offset), id };
}
