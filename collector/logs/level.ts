/**
 * Log level detection.
 *
 * Plain lines: the first standalone level word near the start of the line (`ERROR`, `[warn]`,
 * `level=info`, `Warning:`), or a klog/glog header (`E0412 10:00:00.000000 …`). A word is
 * standalone when letters, digits and `_` do not continue it, so `information`, `trace_id` and
 * `error42` are not levels. Full names count in upper, lower or capitalised case; the short
 * console forms of zerolog and syslog (`ERR`, `WRN`, `DBG`…) only in upper case, because `err`
 * is the usual name of an error field in logfmt lines of any level.
 *
 * JSON lines: the value of a level field (`levelFromValue`), names or pino/bunyan numbers.
 */
import type { LogLevel } from '../../model/logs.js';

/** How far into a line a level word is looked for: past a timestamp, a thread and a logger name. */
export const LEVEL_SCAN_CHARS = 120;

interface LevelWord {
  readonly level: LogLevel;
  /** Only counts in upper case. */
  readonly upperOnly: boolean;
}

const WORDS: ReadonlyArray<readonly [string, LogLevel, boolean]> = [
  ['trace', 'trace', false],
  ['debug', 'debug', false],
  ['info', 'info', false],
  ['notice', 'info', false],
  ['warn', 'warn', false],
  ['warning', 'warn', false],
  ['error', 'error', false],
  ['severe', 'error', false],
  ['fatal', 'fatal', false],
  ['panic', 'fatal', false],
  ['critical', 'fatal', false],
  ['emergency', 'fatal', false],
  ['trc', 'trace', true],
  ['dbg', 'debug', true],
  ['inf', 'info', true],
  ['wrn', 'warn', true],
  ['err', 'error', true],
  ['crit', 'fatal', true],
  ['emerg', 'fatal', true],
  ['ftl', 'fatal', true],
  ['pnc', 'fatal', true],
];

/** Letters packed 5 bits each (a=1 … z=26): a word of up to 10 letters is an exact integer key. */
const MAX_WORD = 10;
const BY_CODE = new Map<number, LevelWord>();
for (const [word, level, upperOnly] of WORDS) {
  let code = 0;
  for (let i = 0; i < word.length; i++) code = code * 32 + (word.charCodeAt(i) - 96);
  BY_CODE.set(code, { level, upperOnly });
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isWordChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** The level a plain line names, or 'unknown'. Scans `text[0, LEVEL_SCAN_CHARS)` without allocating. */
export function detectLevel(text: string): LogLevel {
  const klog = klogLevel(text);
  if (klog !== undefined) return klog;
  const end = Math.min(text.length, LEVEL_SCAN_CHARS);
  let i = 0;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (!isWordChar(c)) {
      i++;
      continue;
    }
    // A word: letters only, packed into `code`; digits or `_` disqualify it.
    let code = 0;
    let len = 0;
    let upper = 0;
    let lettersOnly = true;
    const start = i;
    for (; i < text.length; i++) {
      const w = text.charCodeAt(i);
      if (!isWordChar(w)) break;
      if (!isLetter(w)) {
        lettersOnly = false;
        continue;
      }
      len++;
      if (w <= 0x5a) upper++;
      if (len <= MAX_WORD) code = code * 32 + ((w | 0x20) - 96);
    }
    if (!lettersOnly || len < 3 || len > MAX_WORD) continue;
    const word = BY_CODE.get(code);
    if (word === undefined) continue;
    const allUpper = upper === len;
    const allLower = upper === 0;
    const capitalised = upper === 1 && text.charCodeAt(start) <= 0x5a;
    if (allUpper || (!word.upperOnly && (allLower || capitalised))) return word.level;
  }
  return 'unknown';
}

const KLOG_DIGITS = [1, 2, 3, 4, 6, 7];

/** klog: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg` with L one of I, W, E, F. */
function klogLevel(text: string): LogLevel | undefined {
  if (text.length < 9 || text.charCodeAt(5) !== 0x20 || text.charCodeAt(8) !== 0x3a /* : */) return undefined;
  for (const i of KLOG_DIGITS) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  switch (text.charCodeAt(0)) {
    case 0x49: return 'info'; // I
    case 0x57: return 'warn'; // W
    case 0x45: return 'error'; // E
    case 0x46: return 'fatal'; // F
    default: return undefined;
  }
}

const VALUE_LEVELS = new Map<string, LogLevel>([
  ...(['trace', 'trc', 'finest', 'finer'] as const).map((v) => [v, 'trace'] as const),
  ...(['debug', 'dbg', 'fine', 'config'] as const).map((v) => [v, 'debug'] as const),
  ...(['info', 'inf', 'information', 'informational', 'notice'] as const).map((v) => [v, 'info'] as const),
  ...(['warn', 'wrn', 'warning'] as const).map((v) => [v, 'warn'] as const),
  ...(['error', 'err', 'eror', 'severe'] as const).map((v) => [v, 'error'] as const),
  ...(['fatal', 'ftl', 'panic', 'pnc', 'dpanic', 'critical', 'crit', 'alert', 'emerg', 'emergency'] as const).map((v) => [v, 'fatal'] as const),
  // pino and bunyan numbers.
  ['10', 'trace'],
  ['20', 'debug'],
  ['30', 'info'],
  ['40', 'warn'],
  ['50', 'error'],
  ['60', 'fatal'],
]);

/** The level a JSON level field's value names (`"WARNING"`, `"err"`, `50`), or undefined. */
export function levelFromValue(value: string): LogLevel | undefined {
  return VALUE_LEVELS.get(value) ?? VALUE_LEVELS.get(value.trim().toLowerCase());
}
