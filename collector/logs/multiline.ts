/**
 * Which lines continue the record before them: stack traces and panics written as many lines
 * belong to the line that introduced them.
 *
 * `auto` knows three shapes:
 * - Java (and Node.js, which indents `at` frames the same way): `^\s+at `, `^\s*... N more`
 *   (also logback's `... N common frames omitted`), `^\s*Caused by:`, `^\s*Suppressed:`;
 *   these continue any record. Logging frameworks print the message line first and the
 *   exception (`java.lang.IllegalStateException: …`) on the next line: a qualified exception
 *   name continues a record whose first line is at level warn or worse.
 * - Go: `panic: `, `fatal error: ` or `SIGQUIT: `-style lines start a dump, and a
 *   `goroutine N [...]:` header joins whatever came before (net/http logs "http: panic
 *   serving …" first). Inside a dump, blank lines, indented lines, `[signal …`, `created by …`,
 *   `runtime stack:` and frame lines like `main.(*T).run(0xc000010000)` continue it.
 * - Python: `Traceback (most recent call last):` joins the line before it (logging.exception
 *   writes the message first) and opens a traceback whose indented `File` and source lines
 *   continue it, then the first unindented line (`ValueError: …`) ends it. Chained exceptions
 *   (`During handling of the above exception…`, `The above exception was the direct cause…`,
 *   with their blank lines) continue it too.
 *
 * A `firstLine` RE2 pattern instead says which lines start a record; every other line continues.
 *
 * The rule is a pure function of (mode, line): the mode is the small state a pending record
 * carries (is it inside a Go dump? a Python traceback?).
 */
import type { LogLevel } from '../../model/logs.js';
import { translateRe2 } from '../../model/re2.js';

/** The state of a pending record, as the rules see it. */
export const Mode = {
  plain: 0,
  /** A log line at level warn or worse: the exception it reports may follow on the next line. */
  problem: 1,
  goDump: 2,
  pythonFrames: 3,
  pythonAfterException: 4,
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** Returned by `next` for a line that starts a new record. */
export const STARTS_RECORD = -1;

export interface MultilineRule {
  /** The mode of a record whose first line is `line`, at `level`. */
  start(line: string, level: LogLevel): Mode;
  /** The mode after appending `line` to a record in `mode`, or STARTS_RECORD. */
  next(mode: Mode, line: string): Mode | typeof STARTS_RECORD;
}

export type MultilineOption = 'auto' | false | { firstLine: string };

/** The rule for an option; undefined when multiline joining is off. Throws Re2SyntaxError for a bad pattern. */
export function multilineRule(option: MultilineOption): MultilineRule | undefined {
  if (option === false) return undefined;
  if (option === 'auto') return AUTO_RULE;
  const { source, flags } = translateRe2(option.firstLine);
  const firstLine = new RegExp(source, flags);
  return {
    start: () => Mode.plain,
    next: (_mode, line) => (firstLine.test(line) ? STARTS_RECORD : Mode.plain),
  };
}

const TAB = 0x09;
const SPACE = 0x20;

const TRACEBACK = 'Traceback (most recent call last):';
const EXCEPTION_GROUP = '+ Exception Group Traceback (most recent call last):';
const PY_DURING = 'During handling of the above exception, another exception occurred:';
const PY_CAUSE = 'The above exception was the direct cause of the following exception:';

function indentEnd(line: string): number {
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== SPACE && c !== TAB) break;
  }
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `... 12 more` or `... 3 common frames omitted` at `i`. */
function isJavaElision(line: string, i: number): boolean {
  if (!line.startsWith('... ', i)) return false;
  let j = i + 4;
  const digitsStart = j;
  while (j < line.length && isDigit(line.charCodeAt(j))) j++;
  if (j === digitsStart) return false;
  return line.startsWith(' more', j) || line.startsWith(' common frames omitted', j);
}

/** Java lines that continue any record, at indentation end `i`. */
function isJavaContinuation(line: string, i: number): boolean {
  const c = line.charCodeAt(i);
  if (c === 0x61 /* a */) return i > 0 && line.startsWith('at ', i);
  if (c === 0x2e /* . */) return isJavaElision(line, i);
  if (c === 0x43 /* C */) return line.startsWith('Caused by:', i);
  if (c === 0x53 /* S */) return line.startsWith('Suppressed:', i);
  return false;
}

/** `goroutine 1 [running]:` and Go 1.23's `goroutine 1 gp=0xc000002380 m=0 mp=0x5b0b40 [running]:`. */
function isGoroutineHeader(line: string): boolean {
  return line.startsWith('goroutine ') && isDigit(line.charCodeAt(10)) && line.charCodeAt(line.length - 1) === 0x3a /* : */;
}

/** `panic: `, `fatal error: `, or a signal dump header such as `SIGQUIT: quit`. */
function startsGoDump(line: string): boolean {
  const c = line.charCodeAt(0);
  if (c === 0x70 /* p */) return line.startsWith('panic: ');
  if (c === 0x66 /* f */) return line.startsWith('fatal error: ');
  if (c === 0x53 /* S */ && line.startsWith('SIG')) {
    let i = 3;
    while (i < line.length && line.charCodeAt(i) >= 0x41 && line.charCodeAt(i) <= 0x5a) i++;
    return i > 3 && line.startsWith(': ', i);
  }
  return isGoroutineHeader(line);
}

/** A Go stack frame's function line: `pkg.Func(args)` with no space before the `(`. */
function isGoFrame(line: string): boolean {
  if (line.charCodeAt(line.length - 1) !== 0x29 /* ) */) return false;
  const paren = line.indexOf('(');
  if (paren <= 0) return false;
  for (let i = 0; i < paren; i++) {
    const c = line.charCodeAt(i);
    if (c === SPACE || c === TAB) return false;
  }
  return true;
}

function goContinuation(line: string): boolean {
  if (line.length === 0) return true;
  switch (line.charCodeAt(0)) {
    case 0x5b: return line.startsWith('[signal '); // [
    case 0x63: return line.startsWith('created by '); // c
    case 0x72: return line.startsWith('runtime stack:') || isGoFrame(line); // r
    case 0x2e: return line.startsWith('...additional frames elided...'); // .
    case 0x50: return line.startsWith('PC='); // P
    default: return isGoFrame(line);
  }
}

/**
 * `java.lang.IllegalStateException: msg`, `org.example.FooError`: a package-qualified class name
 * ending in Exception, Error or Throwable, alone or followed by `: `.
 */
function isExceptionHeader(line: string): boolean {
  let i = 0;
  let lastSegment = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (i === lastSegment) return false;
      lastSegment = i + 1;
    } else if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24)) {
      break;
    }
  }
  if (lastSegment === 0 || i === lastSegment) return false;
  if (i < line.length && !line.startsWith(': ', i)) return false;
  const name = line.slice(lastSegment, i);
  return name.endsWith('Exception') || name.endsWith('Error') || name.endsWith('Throwable');
}

const AUTO_RULE: MultilineRule = {
  start(line, level) {
    if (line.startsWith(TRACEBACK)) return Mode.pythonFrames;
    const indent = indentEnd(line);
    if (indent > 0 && line.startsWith(EXCEPTION_GROUP, indent)) return Mode.pythonFrames;
    if (startsGoDump(line)) return Mode.goDump;
    return level === 'warn' || level === 'error' || level === 'fatal' ? Mode.problem : Mode.plain;
  },

  next(mode, line) {
    const indent = indentEnd(line);
    if (isJavaContinuation(line, indent)) return mode === Mode.problem ? Mode.plain : mode;
    if (indent > 0) {
      if (line.startsWith(EXCEPTION_GROUP, indent)) return Mode.pythonFrames;
      if (mode === Mode.goDump || mode === Mode.pythonFrames) return mode;
      // A blank line made only of spaces.
      if (indent === line.length && mode === Mode.pythonAfterException) return mode;
      return STARTS_RECORD;
    }
    if (line.startsWith(TRACEBACK)) return Mode.pythonFrames;
    if (isGoroutineHeader(line)) return Mode.goDump;
    switch (mode) {
      case Mode.goDump:
        return goContinuation(line) ? mode : STARTS_RECORD;
      case Mode.pythonFrames:
        // The first unindented line after the frames is the exception itself.
        return line.length === 0 ? mode : Mode.pythonAfterException;
      case Mode.pythonAfterException:
        return line.length === 0 || line.startsWith(PY_DURING) || line.startsWith(PY_CAUSE) ? mode : STARTS_RECORD;
      case Mode.problem:
        return isExceptionHeader(line) ? Mode.plain : STARTS_RECORD;
      default:
        return STARTS_RECORD;
    }
  },
};
