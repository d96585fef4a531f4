import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegexSyntaxError } from '../../model/matcher.js';
import { compileLineRegex, lineFilterPredicate } from './line-filter.js';

describe('line filters', () => {
  it('test substrings case-sensitively and regexes unanchored, all filters together', () => {
    const keep = lineFilterPredicate([
      { op: '|=', value: 'GET' },
      { op: '!=', value: 'healthz' },
      { op: '|~', value: '\\s5\\d\\d\\s' },
      { op: '!~', value: '(?i)ignore' },
    ]);
    expect(keep('GET /api 503 12ms')).toBe(true);
    expect(keep('get /api 503 12ms')).toBe(false);
    expect(keep('GET /healthz 503 1ms')).toBe(false);
    expect(keep('GET /api 200 1ms')).toBe(false);
    expect(keep('GET /api 500 IGNORE me')).toBe(false);
  });

  it('follow RE2: . stops at a newline unless (?s)', () => {
    expect(compileLineRegex('a.b').test('a\nb')).toBe(false);
    expect(compileLineRegex('(?s)a.b').test('a\nb')).toBe(true);
  });

  it('compile any pattern or fail with RegexSyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.string({ maxLength: 40 }), (pattern, line) => {
        let re: RegExp;
        try {
          re = compileLineRegex(pattern);
        } catch (err) {
          expect(err).toBeInstanceOf(RegexSyntaxError);
          return;
        }
        expect(typeof re.test(line)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
