import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineBuffer, type Line } from './line-buffer.js';

/** The lines of `bytes` by the definition: split at `\n`, cut a run of more than `max` bytes. */
function referenceLines(bytes: Buffer, max: number): Array<{ offset: number; endOffset: number; content: Buffer }> {
  const out: Array<{ offset: number; endOffset: number; content: Buffer }> = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    const contentLen = nl < 0 ? bytes.length - start : nl - start;
    if (contentLen > max) {
      out.push({ offset: start, endOffset: start + max, content: bytes.subarray(start, start + max) });
      start += max;
      continue;
    }
    if (nl < 0) return out; // unfinished (or nothing) at the end
    out.push({ offset: start, endOffset: nl + 1, content: bytes.subarray(start, nl) });
    start = nl + 1;
  }
}

function drain(lb: LineBuffer, into: Line[]): void {
  for (let l = lb.next(); l !== undefined; l = lb.next()) into.push(l);
}

/** Bytes with plenty of newlines, multi-byte UTF-8 and invalid sequences. */
const logBytes = fc
  .array(fc.oneof(fc.constant(0x0a), fc.constant(0x41), fc.constant(0xe2), fc.constant(0x82), fc.constant(0xac), fc.integer({ min: 0, max: 255 })), { maxLength: 400 })
  .map((a) => Buffer.from(a));

describe('LineBuffer', () => {
  it('yields the same lines and offsets however the bytes are chunked, and never the unfinished tail', () => {
    fc.assert(
      fc.property(logBytes, fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 1000 }), (bytes, cuts, max, base) => {
        const lb = new LineBuffer(base, max);
        const got: Line[] = [];
        let at = 0;
        let i = 0;
        while (at < bytes.length) {
          const n = cuts[i++ % cuts.length]!;
          lb.append(bytes.subarray(at, at + n));
          at += n;
          drain(lb, got);
        }
        const want = referenceLines(bytes, max);
        expect(got.map((l) => [l.offset - base, l.endOffset - base, l.text, l.bytes])).toEqual(
          want.map((w) => [w.offset, w.endOffset, w.content.toString('utf8'), w.endOffset - w.offset]),
        );
        // Lines tile the consumed prefix without gaps; what is left is the unfinished tail.
        let expectStart = base;
        for (const l of got) {
          expect(l.offset).toBe(expectStart);
          expectStart = l.endOffset;
        }
        expect(lb.consumedOffset).toBe(expectStart);
        expect(lb.endOffset).toBe(base + bytes.length);
        expect(lb.bufferedBytes).toBe(base + bytes.length - expectStart);
      }),
      { numRuns: 500 },
    );
  });

  it('holds a partial last line until its newline arrives', () => {
    const lb = new LineBuffer(100, 1024);
    lb.append(Buffer.from('one\ntw'));
    expect(lb.next()).toEqual({ text: 'one', offset: 100, endOffset: 104, bytes: 4 });
    expect(lb.next()).toBeUndefined();
    expect(lb.consumedOffset).toBe(104);
    lb.append(Buffer.from('o'));
    expect(lb.next()).toBeUndefined();
    lb.append(Buffer.from('\n'));
    expect(lb.next()).toEqual({ text: 'two', offset: 104, endOffset: 108, bytes: 4 });
  });

  it('cuts a line without newline after exactly maxLineBytes, and keeps a line of exactly that length whole', () => {
    const lb = new LineBuffer(0, 4);
    lb.append(Buffer.from('abcd\nefghij'));
    expect(lb.next()).toMatchObject({ text: 'abcd', endOffset: 5 });
    expect(lb.next()).toMatchObject({ text: 'efgh', offset: 5, endOffset: 9 });
    expect(lb.next()).toBeUndefined(); // "ij" may still grow
  });

  it('rejects a non-positive limit', () => {
    expect(() => new LineBuffer(0, 0)).toThrow(RangeError);
  });
});
