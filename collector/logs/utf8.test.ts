import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cutUtf8, utf8Bound, utf8Length } from './utf8.js';

describe('cutUtf8', () => {
  it('cuts at code point boundaries within the byte limit', () => {
    expect(cutUtf8('abcdé😀f', 3).map((p) => [p.text, p.byteOffset])).toEqual([
      ['abc', 0],
      ['dé', 3],
      ['😀', 6],
      ['f', 10],
    ]);
    expect(cutUtf8('', 10)).toEqual([{ text: '', byteOffset: 0 }]);
  });

  it('makes progress even when one code point exceeds the limit', () => {
    expect(cutUtf8('😀😀', 1).map((p) => p.text)).toEqual(['😀', '😀']);
  });

  it('reassembles, respects the limit, and reports where each piece starts', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (s, max) => {
        const pieces = cutUtf8(s, max);
        expect(pieces.map((p) => p.text).join('')).toBe(s);
        let offset = 0;
        for (const p of pieces) {
          expect(p.byteOffset).toBe(offset);
          const size = utf8Length(p.text);
          if (size > max) expect([...p.text]).toHaveLength(1);
          offset += size;
        }
        expect(offset).toBe(utf8Length(s));
        expect(utf8Length(s)).toBeLessThanOrEqual(utf8Bound(s.length));
      }),
    );
  });
});
