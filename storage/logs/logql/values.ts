/**
 * The typed values of LogQL label filters, read the way Loki reads them: numbers as Go's
 * `strconv.ParseFloat`, durations as Go's `time.ParseDuration` (`1.5s`, `2h45m`, `300µs`), byte
 * sizes as go-humanize's `ParseBytes` (`42MB`, `1.5KiB`, `20 b`). Label values and query literals
 * share these, except that a duration literal in a query also takes Prometheus's `d`, `w`, `y`.
 */
import { parseDuration } from '../../../model/duration.js';

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^[+-]?(?:inf|infinity|nan)$/i;
const HEX_INT = /^[+-]?0[xX][0-9a-fA-F]+$/;

/** A label value as a float, or undefined when Go's `ParseFloat` would refuse it. */
export function parseNumber(s: string): number | undefined {
  if (DECIMAL.test(s)) return Number(s);
  if (HEX_INT.test(s)) {
    const neg = s.startsWith('-');
    const v = Number.parseInt(s.replace(/^[+-]?0[xX]/, ''), 16);
    return neg ? -v : v;
  }
  if (SPECIAL.test(s)) {
    const lower = s.toLowerCase();
    if (lower.endsWith('nan')) return NaN;
    return lower.startsWith('-') ? -Infinity : Infinity;
  }
  return undefined;
}

const GO_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_INT64 = (1n << 63n) - 1n;
const GO_COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]+)/;

/**
 * Go's `time.ParseDuration` in nanoseconds: a signed sequence of decimal numbers with optional
 * fractions, each with a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`); `0` alone needs none.
 * Undefined when Go would return an error (including overflow of int64).
 */
export function parseGoDuration(s: string): bigint | undefined {
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  while (rest !== '') {
    const m = GO_COMPONENT.exec(rest);
    if (!m) return undefined;
    const [all, whole = '', frac] = m;
    if (whole === '' && (frac === undefined || frac === '')) return undefined;
    const unit = GO_UNITS[m[3]!];
    if (unit === undefined) return undefined;
    let v = BigInt(whole === '' ? '0' : whole) * unit;
    if (frac !== undefined && frac !== '') {
      // Exact where Go goes through float64; they differ only beyond nanosecond precision.
      v += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    }
    total += v;
    if (total > MAX_INT64 + (neg ? 1n : 0n)) return undefined;
    rest = rest.slice(all.length);
  }
  return neg ? -total : total;
}

/**
 * A duration literal of a query, as Loki's lexer reads it: Prometheus syntax first (`1d`, `2w`,
 * `1y`, `1h30m`), Go's otherwise (`1.5s`, `300us`).
 */
export function parseDurationLiteral(s: string): bigint | undefined {
  try {
    return BigInt(parseDuration(s)) * 1_000_000n;
  } catch {
    return parseGoDuration(s);
  }
}

const KB = 1000;
const KIB = 1024;
const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: KB,
  kb: KB,
  ki: KIB,
  kib: KIB,
  m: KB ** 2,
  mb: KB ** 2,
  mi: KIB ** 2,
  mib: KIB ** 2,
  g: KB ** 3,
  gb: KB ** 3,
  gi: KIB ** 3,
  gib: KIB ** 3,
  t: KB ** 4,
  tb: KB ** 4,
  ti: KIB ** 4,
  tib: KIB ** 4,
  p: KB ** 5,
  pb: KB ** 5,
  pi: KIB ** 5,
  pib: KIB ** 5,
  e: KB ** 6,
  eb: KB ** 6,
  ei: KIB ** 6,
  eib: KIB ** 6,
};

const MAX_UINT64 = 2 ** 64;

/**
 * go-humanize's `ParseBytes`: a decimal number (commas ignored) then an optional unit, SI (`kB`,
 * `MB`, 1000ⁿ) or IEC (`KiB`, 1024ⁿ), any case, spaces allowed between. Undefined on error.
 */
export function parseBytes(s: string): number | undefined {
  let i = 0;
  while (i < s.length && /[0-9.,]/.test(s[i]!)) i++;
  const num = s.slice(0, i).replaceAll(',', '');
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(num)) return undefined;
  const unit = BYTE_UNITS[s.slice(i).trim().toLowerCase()];
  if (unit === undefined) return undefined;
  const v = Number(num) * unit;
  if (v >= MAX_UINT64) return undefined;
  return Math.floor(v);
}
