/**
 * Parameters of the log APIs (Vigil and Loki), read the way Loki reads them so Grafana and
 * logcli can send what they send: times as RFC 3339, Unix seconds with a fraction, or integer
 * Unix seconds (up to 10 digits) / nanoseconds (more); steps and durations as Go/Prometheus
 * duration strings or float seconds.
 */
import { parseTimeNs } from '../../model/logs.js';
import { parseDuration } from '../../model/duration.js';

/** The request is wrong: HTTP 400 with this message. */
export class LogRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogRequestError';
  }
}

const SECOND_NS = 1_000_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^([+-]?)(\d*)\.(\d*)$/;
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a time parameter into epoch nanoseconds; `fallback` when absent or empty. */
export function parseLogTimeParam(value: string | undefined, name: string, fallback: bigint): bigint {
  if (value === undefined || value === '') return fallback;
  const bad = () => new LogRequestError(`invalid parameter "${name}": cannot parse ${JSON.stringify(value.slice(0, 64))} as a timestamp (RFC 3339, Unix seconds or nanoseconds)`);
  const dec = DECIMAL.exec(value);
  if (dec) {
    // Exact digits rather than a float: a nanosecond-precise `1712345678.123456789` stays exact.
    const [, sign, whole, frac] = dec;
    if (whole === '' && frac === '') throw bad();
    const ns = BigInt(whole || '0') * SECOND_NS + BigInt((frac ?? '').slice(0, 9).padEnd(9, '0'));
    return checkRange(sign === '-' ? -ns : ns, bad);
  }
  if (INTEGER.test(value)) {
    const digits = value.replace(/^[+-]/, '');
    const n = BigInt(value);
    // Loki's rule: up to 10 digits are seconds, more are nanoseconds.
    return checkRange(digits.length <= 10 ? n * SECOND_NS : n, bad);
  }
  if (FLOAT.test(value)) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds)) throw bad();
    return checkRange(BigInt(Math.round(seconds * 1e3)) * 1_000_000n, bad);
  }
  try {
    return parseTimeNs(value);
  } catch {
    throw bad();
  }
}

function checkRange(ns: bigint, bad: () => Error): bigint {
  if (ns < -INT64_MAX || ns > INT64_MAX) throw bad();
  return ns;
}

/** A positive duration (`15s`, `1m30s`, or float seconds such as `15` or `0.5`) in nanoseconds. */
export function parseDurationParamNs(value: string, name: string): bigint {
  if (FLOAT.test(value)) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 1e10) {
      throw new LogRequestError(`invalid parameter "${name}": ${JSON.stringify(value)} is not a positive duration`);
    }
    return BigInt(Math.round(seconds * 1e9));
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new LogRequestError(`invalid parameter "${name}": cannot parse ${JSON.stringify(value.slice(0, 64))} as a duration`);
  }
  if (ms <= 0) throw new LogRequestError(`invalid parameter "${name}": ${JSON.stringify(value)} is not a positive duration`);
  return BigInt(ms) * 1_000_000n;
}

/** A non-negative integer parameter with a default; values above `max` are refused, naming the limit. */
export function parseCountParam(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw new LogRequestError(`invalid parameter "${name}": ${JSON.stringify(value.slice(0, 32))} is not a non-negative integer`);
  const n = Number(value);
  if (n > max) throw new LogRequestError(`invalid parameter "${name}": ${n} is above the limit of ${max}`);
  return n;
}

export function parseDirectionParam(value: string | undefined): 'backward' | 'forward' {
  if (value === undefined || value === '' || value === 'backward' || value === 'BACKWARD') return 'backward';
  if (value === 'forward' || value === 'FORWARD') return 'forward';
  throw new LogRequestError(`invalid parameter "direction": ${JSON.stringify(value.slice(0, 32))}, expected backward or forward`);
}

/** Now, in epoch nanoseconds. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
