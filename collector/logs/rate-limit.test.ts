import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamRateLimiter } from './rate-limit.js';

describe('StreamRateLimiter', () => {
  it('lets a burst through at once, then paces lines at the rate', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 10, burst: 5 });
    for (let i = 0; i < 5; i++) expect(limiter.reserve('a', 1, 0)).toBe(0);
    // Empty: the next line is due in 100 ms, and asking does not take a token.
    expect(limiter.reserve('a', 1, 0)).toBe(100);
    expect(limiter.reserve('a', 1, 50)).toBe(50);
    expect(limiter.reserve('a', 1, 100)).toBe(0);
    expect(limiter.reserve('a', 1, 100)).toBe(100);
  });

  it('keeps a bucket per key', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 1, burst: 1 });
    expect(limiter.reserve('a', 1, 0)).toBe(0);
    expect(limiter.reserve('a', 1, 0)).toBe(1000);
    expect(limiter.reserve('b', 1, 0)).toBe(0);
  });

  it('refills up to the burst only', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 100, burst: 3 });
    expect(limiter.reserve('a', 3, 0)).toBe(0);
    expect(limiter.reserve('a', 3, 3_600_000)).toBe(0);
    expect(limiter.reserve('a', 1, 3_600_000)).toBe(10);
  });

  it('passes a batch larger than the burst from a full bucket, then makes up for it', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 10, burst: 5 });
    expect(limiter.reserve('a', 25, 0)).toBe(0);
    // 20 lines of debt plus one: 2.1 s.
    expect(limiter.reserve('a', 1, 0)).toBe(2100);
    expect(limiter.reserve('a', 1, 2100)).toBe(0);
  });

  it('survives a clock stepping back', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 10, burst: 1 });
    expect(limiter.reserve('a', 1, 10_000)).toBe(0);
    expect(limiter.reserve('a', 1, 5_000)).toBe(100);
    expect(limiter.reserve('a', 1, 10_100)).toBe(0);
  });

  it('forgets buckets that are full again, and on request', () => {
    const limiter = new StreamRateLimiter({ linesPerSecond: 10, burst: 5 });
    for (let i = 0; i < 100; i++) limiter.reserve(`pod-${i}`, 1, 0);
    expect(limiter.size).toBe(100);
    limiter.reserve('busy', 5, 60_000);
    expect(limiter.size).toBe(1);
    limiter.forget('busy');
    expect(limiter.size).toBe(0);
  });

  it('refuses a rate or burst that is not positive', () => {
    expect(() => new StreamRateLimiter({ linesPerSecond: 0, burst: 1 })).toThrow(/linesPerSecond/);
    expect(() => new StreamRateLimiter({ linesPerSecond: Number.NaN, burst: 1 })).toThrow(/linesPerSecond/);
    expect(() => new StreamRateLimiter({ linesPerSecond: 1, burst: 0 })).toThrow(/burst/);
  });

  it('never lets more than burst + rate × time through, and lets that much through when asked in time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 10 })), { minLength: 1, maxLength: 200 }),
        (rate, burst, steps) => {
          const limiter = new StreamRateLimiter({ linesPerSecond: rate, burst });
          let now = 0;
          let passed = 0;
          for (const [advance, n] of steps) {
            now += advance;
            const wait = limiter.reserve('k', n, now);
            expect(wait).toBeGreaterThanOrEqual(0);
            if (wait === 0) passed += n;
            else {
              // Waiting as told lets the lines through.
              now += wait;
              expect(limiter.reserve('k', n, now)).toBe(0);
              passed += n;
            }
            // A batch above the burst may run ahead by itself once.
            expect(passed).toBeLessThanOrEqual(Math.max(burst, n) + Math.ceil((rate * now) / 1000) + 10);
          }
        },
      ),
    );
  });
});
