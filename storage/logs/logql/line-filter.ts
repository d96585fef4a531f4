/**
 * Line filters as LogQL defines them: `|=`/`!=` test for a substring, `|~`/`!~` for an unanchored
 * RE2 match (case-sensitive unless the regex says `(?i)`, `.` not matching a newline). Stores that
 * cannot run a filter natively use these, so every store filters the same way.
 */
import { RegexSyntaxError } from '../../../model/matcher.js';
import { translateRe2 } from '../../../model/re2.js';
import type { LineFilter } from '../interface.js';

/** Compiles an RE2 pattern for unanchored matching; throws `RegexSyntaxError`. */
export function compileUnanchoredRe2(pattern: string): RegExp {
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
      const re = compileUnanchoredRe2(f.value);
      return (line) => re.test(line);
    }
    case '!~': {
      const re = compileUnanchoredRe2(f.value);
      return (line) => !re.test(line);
    }
  }
}

/**
 * The names of an RE2 pattern's named groups (`(?P<name>…)` or `(?<name>…)`), in order. Escapes
 * and character classes are skipped, so `\(?P<x>` and `[(?P<x>]` name nothing.
 */
export function namedGroups(pattern: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (pattern[i + 1] === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        i = end < 0 ? pattern.length : end + 1;
      } else {
        i++;
      }
    } else if (c === '[') {
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++; // a leading `]` is a literal
      while (i < pattern.length && pattern[i] !== ']') {
        if (pattern[i] === '\\') i++;
        else if (pattern[i] === '[' && pattern[i + 1] === ':') {
          const end = pattern.indexOf(':]', i + 2);
          if (end > 0) i = end + 1;
        }
        i++;
      }
    } else if (c === '(') {
      const m = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(pattern.slice(i, i + 300));
      if (m) names.push(m[1]!);
    }
  }
  return names;
}
