/**
 * LogQL line filters as predicates: `|=`/`!=` test for a case-sensitive substring, `|~`/`!~` for
 * an unanchored RE2 match. RE2's defaults hold: `.` does not match a newline unless the pattern
 * says `(?s)`, so a joined stack trace is not one long line to a regex. Every store that cannot
 * run a filter natively, and the LogQL pipeline, use these, so all filter the same way.
 */
import { RegexSyntaxError } from '../../model/matcher.js';
import { translateRe2 } from '../../model/re2.js';
import type { LineFilter } from './interface.js';

/** Compiles an RE2 line-filter pattern; what RE2 rejects is a `RegexSyntaxError`. */
export function compileLineRegex(pattern: string): RegExp {
  try {
    const t = translateRe2(pattern);
    return new RegExp(t.source, t.flags);
  } catch (err) {
    throw new RegexSyntaxError(pattern, err);
  }
}

/** A predicate for one line filter; throws `RegexSyntaxError` for an invalid regex. */
export function compileLineFilter(f: LineFilter): (line: string) => boolean {
  switch (f.op) {
    case '|=':
      return (line) => line.includes(f.value);
    case '!=':
      return (line) => !line.includes(f.value);
    case '|~': {
      const re = compileLineRegex(f.value);
      return (line) => re.test(line);
    }
    case '!~': {
      const re = compileLineRegex(f.value);
      return (line) => !re.test(line);
    }
    default:
      throw new Error(`unknown line filter operator ${JSON.stringify((f as LineFilter).op)}`);
  }
}

/** All filters of a selection as one predicate: a line passes when it passes every filter. */
export function lineFilterPredicate(filters: readonly LineFilter[]): (line: string) => boolean {
  const tests = filters.map(compileLineFilter);
  return (line) => tests.every((t) => t(line));
}
