/**
 * The CRI log format of containerd and CRI-O: `<RFC3339Nano> <stdout|stderr> <tags> <content>`,
 * parsed exactly as kubelet's `parseCRILog` does: the timestamp is everything before the first
 * space, the stream must be `stdout` or `stderr`, tags are split on `:` and only the first counts
 * (`P` = partial, anything else = full: "keep this forward compatible"), and the content is the
 * rest after the third space, possibly empty.
 */
import type { RuntimeLine } from './runtime-line.js';
import type { RuntimeTimeParser } from './runtime-time.js';

const COLON = 0x3a;

/** Fills `out` and returns true if `line` (without its newline) is a CRI log line. */
export function parseCriLine(line: string, times: RuntimeTimeParser, out: RuntimeLine): boolean {
  const tsEnd = line.indexOf(' ');
  if (tsEnd <= 0) return false;
  const streamStart = tsEnd + 1;
  const streamEnd = line.indexOf(' ', streamStart);
  if (streamEnd < 0) return false;
  const streamLen = streamEnd - streamStart;
  if (streamLen !== 6) return false;
  let stream: 'stdout' | 'stderr';
  if (line.startsWith('stdout', streamStart)) stream = 'stdout';
  else if (line.startsWith('stderr', streamStart)) stream = 'stderr';
  else return false;
  const tagStart = streamEnd + 1;
  const tagEnd = line.indexOf(' ', tagStart);
  if (tagEnd < 0) return false;
  const timeNs = times.parse(line, 0, tsEnd);
  if (timeNs === undefined) return false;
  // tags[0] === 'P': the first ':'-separated tag is exactly "P".
  const partial = line.charCodeAt(tagStart) === 0x50 /* P */ && (tagStart + 1 === tagEnd || line.charCodeAt(tagStart + 1) === COLON);
  out.timeNs = timeNs;
  out.stream = stream;
  out.partial = partial;
  out.prefixChars = tagEnd + 1;
  out.content = line.slice(tagEnd + 1);
  return true;
}
