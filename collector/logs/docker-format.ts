/**
 * Docker's json-file format: `{"log":"<content>\n","stream":"stdout","time":"<RFC3339Nano>"}`,
 * one object per line (kubelet's `parseDockerJSONLog`). The copier cuts lines at 16 KiB and only
 * the last chunk keeps the `\n`, so a `log` without a trailing newline is a fragment to join.
 *
 * The layout Docker writes (fields in this order, no spaces) is scanned directly; anything else
 * that is still a JSON object with these fields (e.g. with `attrs`) goes through JSON.parse.
 */
import type { RuntimeLine } from './runtime-line.js';
import type { RuntimeTimeParser } from './runtime-time.js';

const LOG_PREFIX = '{"log":"';
const STREAM_STDOUT = ',"stream":"stdout"';
const STREAM_STDERR = ',"stream":"stderr"';
const TIME_KEY = ',"time":"';
const BACKSLASH = 0x5c;

/** Fills `out` and returns true if `line` is a docker json-file log line. */
export function parseDockerLine(line: string, times: RuntimeTimeParser, out: RuntimeLine): boolean {
  if (!line.startsWith(LOG_PREFIX)) return line.charCodeAt(0) === 0x7b /* { */ && parseGeneric(line, times, out);
  const logEnd = closingQuote(line, LOG_PREFIX.length);
  if (logEnd < 0) return false;
  const streamAt = logEnd + 1;
  let stream: 'stdout' | 'stderr';
  if (line.startsWith(STREAM_STDOUT, streamAt)) stream = 'stdout';
  else if (line.startsWith(STREAM_STDERR, streamAt)) stream = 'stderr';
  else return parseGeneric(line, times, out);
  const timeAt = streamAt + STREAM_STDOUT.length;
  if (!line.startsWith(TIME_KEY, timeAt) || !line.endsWith('"}') || line.length < timeAt + TIME_KEY.length + 2) {
    return parseGeneric(line, times, out);
  }
  const timeStart = timeAt + TIME_KEY.length;
  const timeEnd = line.length - 2;
  if (line.indexOf('"', timeStart) !== timeEnd) return parseGeneric(line, times, out);
  const timeNs = times.parse(line, timeStart, timeEnd);
  if (timeNs === undefined) return false;
  let log: string;
  const escape = line.indexOf('\\', LOG_PREFIX.length);
  if (escape >= 0 && escape < logEnd) {
    try {
      log = JSON.parse(line.slice(LOG_PREFIX.length - 1, logEnd + 1)) as string;
    } catch {
      return false;
    }
  } else {
    log = line.slice(LOG_PREFIX.length, logEnd);
    if (hasControlChar(log)) return false;
  }
  setLog(out, log, stream, timeNs);
  out.prefixChars = LOG_PREFIX.length;
  return true;
}

function parseGeneric(line: string, times: RuntimeTimeParser, out: RuntimeLine): boolean {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return false;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { log, stream, time } = value as Record<string, unknown>;
  if (typeof log !== 'string' || (stream !== 'stdout' && stream !== 'stderr') || typeof time !== 'string') return false;
  const timeNs = times.parse(time, 0, time.length);
  if (timeNs === undefined) return false;
  setLog(out, log, stream, timeNs);
  out.prefixChars = 0;
  return true;
}

function setLog(out: RuntimeLine, log: string, stream: 'stdout' | 'stderr', timeNs: bigint): void {
  const complete = log.charCodeAt(log.length - 1) === 0x0a;
  out.timeNs = timeNs;
  out.stream = stream;
  out.partial = !complete;
  out.content = complete ? log.slice(0, -1) : log;
}

/** Index of the `"` ending the JSON string whose content starts at `from`, or -1. */
function closingQuote(line: string, from: number): number {
  let i = line.indexOf('"', from);
  while (i >= 0) {
    let backslashes = 0;
    for (let j = i - 1; j >= from && line.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return i;
    i = line.indexOf('"', i + 1);
  }
  return -1;
}

/** JSON strings cannot hold raw control characters; a line with one is not JSON. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}
