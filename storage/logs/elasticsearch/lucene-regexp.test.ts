import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { translateRe2 } from '../../../model/re2.js';
import { RegexpTranslationError, toLuceneRegexp, type LuceneRegexpOptions } from './lucene-regexp.js';

const MATCHER: LuceneRegexpOptions = { anchored: true, dotAll: true };
const LINE_FILTER: LuceneRegexpOptions = { anchored: false, dotAll: false };

/**
 * Reads Lucene regexp syntax (the part of it the translator may emit) as a JavaScript RegExp with
 * Lucene's semantics: whole-string match, `.` is any code point, `\c` is the literal `c`. Any
 * other character that is an operator in Lucene (`" @ # & < > ~`) and appears unescaped is an
 * error here, so a translation that leaks one fails the test.
 */
function luceneToJs(source: string): RegExp {
  const cps = [...source];
  let i = 0;
  const lit = (ch: string): string => `\\u{${ch.codePointAt(0)!.toString(16)}}`;
  const member = (): string => {
    const ch = cps[i++]!;
    if (ch === '\\') return lit(cps[i++]!);
    if (/[0-9A-Za-z]/.test(ch)) return ch;
    throw new Error(`unescaped ${JSON.stringify(ch)} in a class of ${JSON.stringify(source)}`);
  };
  let out = '';
  while (i < cps.length) {
    const ch = cps[i]!;
    if (ch === '\\') {
      out += lit(cps[i + 1]!);
      i += 2;
    } else if (ch === '.') {
      out += '[\\s\\S]';
      i++;
    } else if (ch === '(') {
      out += '(?:';
      i++;
    } else if (ch === ')' || ch === '|' || ch === '*' || ch === '+' || ch === '?') {
      out += ch;
      i++;
    } else if (ch === '{') {
      const m = /^\{\d+(,\d*)?\}/.exec(cps.slice(i).join(''));
      if (!m) throw new Error(`bad repeat in ${JSON.stringify(source)}`);
      out += m[0];
      i += m[0].length;
    } else if (ch === '[') {
      i++;
      let cls = '[';
      if (cps[i] === '^') {
        cls += '^';
        i++;
      }
      while (cps[i] !== ']') {
        if (i >= cps.length) throw new Error(`unclosed class in ${JSON.stringify(source)}`);
        cls += member();
        if (cps[i] === '-') {
          i++;
          cls += `-${member()}`;
        }
      }
      i++;
      out += `${cls}]`;
    } else if (/[0-9A-Za-z]/.test(ch)) {
      out += ch;
      i++;
    } else {
      throw new Error(`unescaped ${JSON.stringify(ch)} in ${JSON.stringify(source)}`);
    }
  }
  return new RegExp(`^(?:${out})$`, 'u');
}

/** What RE2 would do, through the project's RE2 → JavaScript translator. */
function re2ToJs(pattern: string, options: LuceneRegexpOptions): RegExp {
  const t = translateRe2(pattern, { dotAll: options.dotAll });
  return options.anchored ? new RegExp(`^(?:${t.source})$`, t.flags) : new RegExp(t.source, t.flags);
}

describe('RE2 → Lucene regexp translation', () => {
  it.each([
    ['foo', MATCHER, 'foo'],
    ['a.b', MATCHER, 'a.b'],
    ['a.b', LINE_FILTER, '.*a[^\\\n]b.*'],
    ['(?s)a.b', LINE_FILTER, '.*a.b.*'],
    ['ab\\.c', MATCHER, 'ab\\.c'],
    ['(?i)ab', MATCHER, '[Aa][Bb]'],
    ['a(?i:b)c', MATCHER, 'a([Bb])c'],
    ['\\d+', MATCHER, '[0-9]+'],
    ['[^a-z]', MATCHER, '[^a-z]'],
    ['[[:digit:]x]', MATCHER, '[0-9x]'],
    ['x*?y+?', MATCHER, 'x*y+'],
    ['x{2,5}y{3}z{2,}w{1,}', MATCHER, 'x{2,5}y{3}z{2,}w+'],
    ['\\D[[:^digit:]][\\Sa]', MATCHER, '[^0-9][^0-9][^\\\t-\\\n\\\f-\\\r\\ ]'],
    // Go folds a class before negating it (model/re2.ts does not fold POSIX classes).
    ['(?i)[^[:lower:]]', MATCHER, '[^A-Za-z]'],
    ['^foo$', MATCHER, 'foo'],
    ['foo', LINE_FILTER, '.*foo.*'],
    ['^foo', LINE_FILTER, 'foo.*'],
    ['foo$', LINE_FILTER, '.*foo'],
    ['\\Afoo\\z', LINE_FILTER, 'foo'],
    ['^a|b$', LINE_FILTER, 'a.*|.*b'],
    ['a|', MATCHER, 'a|()'],
    ['(a|)b', MATCHER, '(a|())b'],
    ['"@#&<>~', MATCHER, '\\"\\@\\#\\&\\<\\>\\~'],
    ['\\Q1+1\\E*', MATCHER, '1\\+1*'],
    ['\\x41\\x{263a}\\101', MATCHER, 'A\\☺A'],
    ['(?P<name>a)(?<n2>b)', MATCHER, '(a)(b)'],
  ])('%j %o → %j', (pattern, options, expected) => {
    expect(toLuceneRegexp(pattern, options).source).toBe(expected);
  });

  it('recognises alternations of plain strings and match-everything patterns', () => {
    expect(toLuceneRegexp('api|web|db', MATCHER).literals).toEqual(['api', 'web', 'db']);
    expect(toLuceneRegexp('a\\.b|(c)', MATCHER).literals).toEqual(['a.b', 'c']);
    expect(toLuceneRegexp('a.b|c', MATCHER).literals).toBeUndefined();
    expect(toLuceneRegexp('(?i)a', MATCHER).literals).toBeUndefined();
    expect(toLuceneRegexp('.*', MATCHER).matchesAll).toBe(true);
    expect(toLuceneRegexp('.+', MATCHER).matchesAll).toBe(false);
    expect(toLuceneRegexp('', LINE_FILTER).matchesAll).toBe(true);
    expect(toLuceneRegexp('^', LINE_FILTER).matchesAll).toBe(true);
    expect(toLuceneRegexp('^$', LINE_FILTER).matchesAll).toBe(false);
    // Without (?s) a line filter's `.*` stops at a newline, so it does not match everything.
    expect(toLuceneRegexp('^.*$', LINE_FILTER).matchesAll).toBe(false);
    expect(toLuceneRegexp('(?s)^.*$', LINE_FILTER).matchesAll).toBe(true);
  });

  it.each([
    ['\\bword', 'unsupported', /word boundary/],
    ['\\pL', 'unsupported', /Unicode class/],
    ['[\\p{Greek}]', 'unsupported', /Unicode class/],
    ['(?m)^a', 'unsupported', /multi-line/],
    ['a^b', 'unsupported', /only supported at the start or end/],
    ['(^a)', 'unsupported', /only supported at the start or end/],
    ['^*', 'unsupported', /repeated anchor/],
    ['(ab', 'invalid', /missing closing \)/],
    ['ab)', 'invalid', /unexpected \)/],
    ['a**', 'invalid', /nested repetition/],
    ['*a', 'invalid', /missing argument/],
    ['\\1', 'invalid', /backreference/],
    ['(?=x)', 'invalid', /Perl syntax/],
    ['[z-a]', 'invalid', /class range/],
    ['[a', 'invalid', /missing closing \]/],
    ['x{1001}', 'invalid', /repeat count/],
    ['x{3,2}', 'invalid', /repeat count/],
    ['\\', 'invalid', /trailing backslash/],
    ['\\é', 'invalid', /escape sequence/],
    ['\ud800', 'invalid', /surrogate/],
  ])('%j is refused as %s', (pattern, kind, reason) => {
    let caught: unknown;
    try {
      toLuceneRegexp(pattern, LINE_FILTER);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RegexpTranslationError);
    expect((caught as RegexpTranslationError).kind).toBe(kind);
    expect((caught as RegexpTranslationError).message).toMatch(reason);
    expect((caught as RegexpTranslationError).message).toContain(JSON.stringify(pattern));
  });

  it('refuses nesting deeper than RE2 allows, and takes deep-but-allowed nesting', () => {
    expect(() => toLuceneRegexp('('.repeat(1001) + ')'.repeat(1001), LINE_FILTER)).toThrow(/nests too deeply/);
    expect(toLuceneRegexp('('.repeat(1000) + 'a' + ')'.repeat(1000), MATCHER).source).toBe('('.repeat(1000) + 'a' + ')'.repeat(1000));
  });

  it('never throws anything but RegexpTranslationError, and accepts only what RE2 accepts', () => {
    const regexish = fc.string({ unit: fc.constantFrom(...'ab.*+?()[]{}|^$\\:-_,0123456789PpQEdDwWsSbBAzxi=!<>"@#&~\n é'.split('')), maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(regexish, fc.string({ unit: 'binary', maxLength: 40 })), fc.boolean(), (pattern, anchored) => {
        const options = { anchored, dotAll: anchored };
        let out;
        try {
          out = toLuceneRegexp(pattern, options);
        } catch (err) {
          if (!(err instanceof RegexpTranslationError)) throw err;
          return;
        }
        // Accepted patterns are valid RE2, and the output is well-formed Lucene syntax.
        expect(() => re2ToJs(pattern, options)).not.toThrow();
        expect(() => luceneToJs(out.source)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });

  /** RE2 patterns built from the syntax the translator supports. */
  const pattern = fc.letrec<{ alt: string; concat: string; piece: string; atom: string }>((tie) => ({
    atom: fc.oneof(
      // Nested quantified groups backtrack exponentially in the JavaScript oracle: keep them shallow.
      { maxDepth: 1, depthIdentifier: 'group' },
      fc.constantFrom('a', 'b', 'A', 'é', '-', ' ', '\\.', '\\n', '.', '"', '@', '~'),
      fc.constantFrom('[ab]', '[^a]', '[a-c]', '[^\\n]', '\\d', '\\w', '\\s', '\\D', '\\W', '[[:alpha:]]', '[^[:digit:]]', '[\\dx]', '\\Qa.\\E'),
      tie('alt').map((a) => `(${a})`),
      tie('alt').map((a) => `(?:${a})`),
      tie('alt').map((a) => `(?i:${a})`),
      tie('alt').map((a) => `(?s:${a})`),
      tie('alt').map((a) => `(?-s:${a})`),
    ),
    piece: fc.tuple(tie('atom'), fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?', '??')).map(([a, q]) => a + q),
    concat: fc.array(tie('piece'), { maxLength: 3 }).map((ps) => ps.join('')),
    alt: fc.array(tie('concat'), { minLength: 1, maxLength: 3 }).map((cs) => cs.join('|')),
  }));
  const topLevel = fc
    .tuple(fc.constantFrom('', '(?i)', '(?s)'), fc.array(fc.tuple(fc.boolean(), pattern.concat, fc.boolean()), { minLength: 1, maxLength: 3 }))
    .map(([flags, branches]) => flags + branches.map(([start, body, end]) => `${start ? '^' : ''}${body}${end ? '$' : ''}`).join('|'));
  const input = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', 'é', 'É', '-', ' ', '.', '\n', '1', '_', '"', '@', '~'), maxLength: 6 });

  it.each([
    ['matchers (anchored, dot matches newline)', MATCHER],
    ['line filters (unanchored)', LINE_FILTER],
  ])('matches exactly the strings RE2 matches: %s', (_name, options) => {
    fc.assert(
      fc.property(topLevel, fc.array(input, { minLength: 10, maxLength: 30 }), (p, inputs) => {
        const lucene = luceneToJs(toLuceneRegexp(p, options).source);
        const re2 = re2ToJs(p, options);
        for (const s of inputs) expect(lucene.test(s), `${JSON.stringify(p)} on ${JSON.stringify(s)}`).toBe(re2.test(s));
      }),
      { numRuns: 1000 },
    );
  });
});
