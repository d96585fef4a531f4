import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTimeNs } from '../../model/logs.js';
import { LogRequestError, parseCountParam, parseDurationParamNs, parseLogTimeParam } from './params.js';

const SECOND = 1_000_000_000n;
// 1970 to the end of int64 nanoseconds (year 2262).
const timeNs = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

describe('parseLogTimeParam', () => {
  it('reads the forms Loki reads', () => {
    const t = 1_748_746_800n * SECOND;
    expect(parseLogTimeParam('2025-06-01T03:00:00Z', 'start', 0n)).toBe(t);
    expect(parseLogTimeParam('1748746800', 'start', 0n)).toBe(t);
    expect(parseLogTimeParam('1748746800.25', 'start', 0n)).toBe(t + SECOND / 4n);
    expect(parseLogTimeParam('1748746800000000007', 'start', 0n)).toBe(t + 7n);
    expect(parseLogTimeParam('1748746800.123456789', 'start', 0n)).toBe(t + 123_456_789n);
    expect(parseLogTimeParam(undefined, 'start', 42n)).toBe(42n);
    expect(parseLogTimeParam('', 'start', 42n)).toBe(42n);
  });

  it('round-trips RFC 3339, integer nanoseconds and decimal seconds exactly', () => {
    fc.assert(
      fc.property(timeNs, (ns) => {
        expect(parseLogTimeParam(formatTimeNs(ns), 't', 0n)).toBe(ns);
        if (ns >= 10n ** 10n) expect(parseLogTimeParam(ns.toString(), 't', 0n)).toBe(ns);
        const frac = (ns % SECOND).toString().padStart(9, '0');
        expect(parseLogTimeParam(`${ns / SECOND}.${frac}`, 't', 0n)).toBe(ns);
      }),
    );
  });

  it('never throws anything but a LogRequestError naming the parameter', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[-+0-9.eE:TZ ]{0,40}$/)), (s) => {
        try {
          parseLogTimeParam(s, 'end', 0n);
        } catch (err) {
          expect(err).toBeInstanceOf(LogRequestError);
          expect((err as Error).message).toMatch(/^invalid parameter "end": /);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseDurationParamNs and parseCountParam', () => {
  it('read durations as Loki does and refuse non-positive ones', () => {
    expect(parseDurationParamNs('15s', 'step')).toBe(15n * SECOND);
    expect(parseDurationParamNs('1m30s', 'step')).toBe(90n * SECOND);
    expect(parseDurationParamNs('0.5', 'step')).toBe(SECOND / 2n);
    expect(() => parseDurationParamNs('0', 'step')).toThrow(/not a positive duration/);
    expect(() => parseDurationParamNs('-5', 'step')).toThrow(LogRequestError);
  });

  it('never throw anything but a LogRequestError naming the parameter', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const f of [() => parseDurationParamNs(s, 'step'), () => parseCountParam(s, 'limit', 1, 5000)]) {
          try {
            f();
          } catch (err) {
            expect(err).toBeInstanceOf(LogRequestError);
            expect((err as Error).message).toMatch(/^invalid parameter "(step|limit)": /);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
