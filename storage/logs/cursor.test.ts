import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLogCursor, encodeLogCursor, LogCursorError } from './cursor.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const keyArb = fc.record({
  timeNs: fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  offset: fc.maxSafeNat(),
  id: fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme' }),
});

describe('log cursors', () => {
  it('decode what they encode, for any key', () => {
    fc.assert(
      fc.property(keyArb, fc.constantFrom('forward' as const, 'backward' as const), (key, direction) => {
        expect(decodeLogCursor(encodeLogCursor(direction, key), direction)).toEqual({ direction, ...key });
      }),
    );
  });

  it('turn any other text into a LogCursorError, never another error', () => {
    const textArb = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64url')),
      fc.array(fc.oneof(fc.constantFrom('1', 'f', 'b', '-', '0', '|', '99999999999999999999', 'x'), fc.string({ maxLength: 8 })), { maxLength: 8 })
        .map((parts) => Buffer.from(parts.join('|')).toString('base64url')),
    );
    fc.assert(
      fc.property(textArb, fc.constantFrom('forward' as const, 'backward' as const), (text, direction) => {
        try {
          const c = decodeLogCursor(text, direction);
          // Whatever decodes is a well-formed key that encodes back to an equivalent cursor.
          expect(decodeLogCursor(encodeLogCursor(direction, c), direction)).toEqual(c);
        } catch (err) {
          expect(err).toBeInstanceOf(LogCursorError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['', 'empty'],
    ['a b', 'not base64url text'],
    [Buffer.from('1|f|1|2').toString('base64url'), 'expected 5 fields, found 4'],
    [Buffer.from('2|f|1|2|id').toString('base64url'), 'field 1 (version) is "2", expected 1'],
    [Buffer.from('1|x|1|2|id').toString('base64url'), 'field 2 (direction) is "x", expected f or b'],
    [Buffer.from('1|f|1.5|2|id').toString('base64url'), 'field 3 (time) "1.5" is not an integer'],
    [Buffer.from('1|f|9223372036854775808|2|id').toString('base64url'), 'field 3 (time) is out of range'],
    [Buffer.from('1|f|1|-2|id').toString('base64url'), 'field 4 (offset) "-2" is not a non-negative integer'],
    [Buffer.from('1|f|1|2|').toString('base64url'), 'field 5 (id) is empty'],
    [Buffer.from('1|b|1|2|id').toString('base64url'), 'made for a backward search, used in a forward one'],
  ])('names what is wrong: %s', (text, detail) => {
    expect(() => decodeLogCursor(text, 'forward')).toThrow(`invalid log cursor: ${detail}`);
  });
});
