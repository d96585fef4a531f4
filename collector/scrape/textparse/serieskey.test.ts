import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import { createParser } from './parse.js';
import { PromParser } from './promparse.js';
import { bytesMatch, hashBytes, hashText, keyWords, textKeyCode, textMatches, writeBytesKey, writeTextKey } from './serieskey.js';

const ascii = fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const wide = fc.string({ unit: fc.integer({ min: 0, max: 0x2fff }).map((c) => String.fromCharCode(c)), maxLength: 20 });

/** `text` embedded at `pad` in a buffer, with a DataView over memory that starts unaligned. */
function embed(text: string, pad: number): { dv: DataView; b: Uint8Array; s: number; e: number } {
  const whole = new Uint8Array(pad + text.length + 5 + 3);
  const b = whole.subarray(3);
  b.fill(0x7a);
  for (let k = 0; k < text.length; k++) b[pad + k] = text.charCodeAt(k);
  return { dv: new DataView(b.buffer, b.byteOffset, b.byteLength), b, s: pad, e: pad + text.length };
}

/** A key store with the key of `t` at offset 2, surrounded by junk words. */
function stored(t: string): { words: Int32Array; code: number } {
  const words = new Int32Array(keyWords(textKeyCode(t, 0, t.length)) + 4).fill(-1);
  return { words, code: writeTextKey(t, 0, t.length, words, 2) };
}

describe('series keys', () => {
  test('bytes and strings give the same hash and key, wherever the text lies', () => {
    fc.assert(
      fc.property(ascii, fc.nat(7), fc.nat(7), (t, pad, spad) => {
        const { dv, b, s, e } = embed(t, pad);
        const str = 'x'.repeat(spad) + t + 'yz';
        const h = hashBytes(dv, b, s, e);
        expect(hashText(str, spad, spad + t.length)).toBe(h);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThan(2 ** 30);
        const n = keyWords(t.length);
        const fromBytes = new Int32Array(n + 2).fill(-1);
        writeBytesKey(dv, b, s, e, fromBytes, 1);
        const fromText = new Int32Array(n + 2).fill(-1);
        expect(writeTextKey(str, spad, spad + t.length, fromText, 1)).toBe(t.length);
        expect(fromText).toEqual(fromBytes);
        expect(bytesMatch(dv, b, s, e, fromText, 1, t.length)).toBe(true);
        expect(textMatches(str, spad, spad + t.length, fromBytes, 1, t.length)).toBe(true);
      }),
    );
  });

  test('a key matches exactly its own text', () => {
    fc.assert(
      fc.property(ascii, ascii, fc.nat(5), (a, c, pad) => {
        const { words, code } = stored(a);
        const { dv, b, s, e } = embed(c, pad);
        expect(bytesMatch(dv, b, s, e, words, 2, code)).toBe(a === c);
        expect(textMatches(c, 0, c.length, words, 2, code)).toBe(a === c);
      }),
    );
  });

  test('texts beyond latin-1 match only themselves', () => {
    fc.assert(
      fc.property(wide, wide, (a, c) => {
        const ka = stored(a);
        expect(textMatches(c, 0, c.length, ka.words, 2, ka.code)).toBe(a === c);
        const kc = stored(c);
        expect(textMatches(a, 0, a.length, kc.words, 2, kc.code)).toBe(a === c);
        if (a === c) expect(hashText(a, 0, a.length)).toBe(hashText(c, 0, c.length));
      }),
    );
  });

  test('a wide text never matches a byte text of the same length', () => {
    const k = stored('\u0100a');
    expect(k.code).toBe(~2);
    const { dv, b, s, e } = embed('\u0000a', 0);
    expect(bytesMatch(dv, b, s, e, k.words, 2, k.code)).toBe(false);
    expect(textMatches('\u0000a', 0, 2, k.words, 2, k.code)).toBe(false);
  });

  test('the parser hashes a series the same from bytes, from a string and from a non-ASCII body', () => {
    const line = 'm{a="1",b="x y"} 1\n';
    const hashes = (input: string | Uint8Array): number[] => {
      const p = createParser(input, 'prometheus-text');
      const out: number[] = [];
      for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') out.push(p.seriesHash());
      return out;
    };
    const fromBytes = hashes(Buffer.from(line));
    expect(hashes(line)).toEqual(fromBytes);
    // A non-ASCII line elsewhere sends the whole body through the string path.
    expect(hashes(`${line}n{a="é"} 2\n`)[0]).toBe(fromBytes[0]);
    expect(fromBytes[0]).toBe(hashText(line, 0, line.indexOf('} ') + 1));
  });

  test('an announced series is confirmed without a scan and still yields its name and labels', () => {
    // The second line's blank after a comma is beyond the byte scanner, not the lexer.
    const body = '# TYPE h histogram\nh_bucket{le="1",x="a"} 1\nm{a="1", b="2"} 2\nm{a="1"} 3\n';
    const plain = createParser(Buffer.from(body), 'prometheus-text');
    const words = new Int32Array(64);
    const keys: [number, number][] = [];
    const expected: unknown[] = [];
    let used = 0;
    for (let k = plain.next(); k !== 'eof'; k = plain.next()) {
      if (k !== 'series') continue;
      keys.push([used, plain.writeSeriesKey(words, used)]);
      used += keyWords(plain.seriesKeyCode());
      expected.push([plain.metricName(), plain.labels(), plain.value()]);
    }
    const spy = vi.spyOn(PromParser.prototype as unknown as { hintedSeries: () => PromParser }, 'hintedSeries');
    try {
      const p = createParser(Buffer.from(body), 'prometheus-text');
      const got: unknown[] = [];
      let n = 0;
      for (let k = (p.expectSeries(words, ...keys[0]!), p.next()); k !== 'eof'; k = p.next()) {
        if (k !== 'series') continue;
        expect(p.seriesMatches(words, ...keys[n]!)).toBe(true);
        got.push([p.metricName(), p.labels(), p.value()]);
        n++;
        if (n < keys.length) p.expectSeries(words, ...keys[n]!);
      }
      expect(got).toEqual(expected);
      expect(spy).toHaveBeenCalled();
      // The histogram bucket's `le` is normalised on the hinted path too.
      expect((got[0] as [string, { name: string; value: string }[]])[1]).toContainEqual({ name: 'le', value: '1.0' });
    } finally {
      spy.mockRestore();
    }
  });
});
