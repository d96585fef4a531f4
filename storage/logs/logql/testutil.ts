/**
 * Helpers for the LogQL tests: a tree's shape without positions (matchers as text, bigints as
 * `123n`), so tables of expected trees stay readable.
 */
import { Matcher } from '../../../model/matcher.js';

export function shape(v: unknown): unknown {
  if (v instanceof Matcher) return v.toString();
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'span') out[k] = shape(x);
    return out;
  }
  return v;
}
