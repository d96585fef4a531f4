/**
 * Line-filter helpers of the LogQL layer. The filters' meaning lives in `../line-filter.ts`,
 * shared with the stores; `compileUnanchoredRe2` is its regex compiler under the name the
 * pipeline and the parser use.
 */
export { compileLineFilter, compileLineRegex as compileUnanchoredRe2 } from '../line-filter.js';

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
