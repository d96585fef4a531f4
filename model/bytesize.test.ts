import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteSizeError, formatByteSize, parseByteSize } from './bytesize.js';

describe('byte sizes', () => {
  it('reads Prometheus retention sizes as powers of two', () => {
    expect(parseByteSize('0')).toBe(0);
    expect(parseByteSize('100B')).toBe(100);
    expect(parseByteSize('1KB')).toBe(1024);
    expect(parseByteSize('512MB')).toBe(512 * 1024 ** 2);
    expect(parseByteSize('2GB')).toBe(2 * 1024 ** 3);
    expect(parseByteSize('3GiB')).toBe(3 * 1024 ** 3);
    expect(parseByteSize('1TB')).toBe(1024 ** 4);
  });

  it('rejects anything else with the input in the message', () => {
    for (const bad of ['', '512', '1.5GB', '-1GB', '1gb', '1 GB', '1XB', 'GB', '1GBs', '99999999EB']) {
      expect(() => parseByteSize(bad)).toThrowError(new ByteSizeError(bad));
    }
  });

  it('formats sizes so that they read back to the same number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 3 }), (n, shift) => {
        const bytes = n * 1024 ** shift;
        if (!Number.isSafeInteger(bytes)) return;
        expect(parseByteSize(formatByteSize(bytes))).toBe(bytes);
      }),
    );
    expect(formatByteSize(512 * 1024 ** 2)).toBe('512MB');
    expect(formatByteSize(1536 * 1024)).toBe('1536KB');
  });

  it('either parses or throws ByteSizeError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          expect(Number.isSafeInteger(parseByteSize(s))).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(ByteSizeError);
        }
      }),
    );
  });
});
