/**
 * Functions evaluated on the instant vectors of one step (math, clamping, sorting, dates,
 * classic-histogram quantiles, …) and the scalar-valued functions.
 */
import { EMPTY_LABELS, labelsCompare, type Labels } from '../../model/labels.js';
import type { Call } from '../parser/index.js';
import { absentLabels, unwrapParens } from './ast-util.js';
import type { Evaluator } from './evaluator.js';
import { bucketFraction, bucketQuantile, type Bucket } from './histogram.js';
import { formatFloatG, formatOpenMetricsFloat, parseGoFloat } from './gofmt.js';
import { labelsString, setLabel } from './labels-util.js';
import type { El } from './types.js';

export type ArgValue = El[] | number | string;

export interface FnContext {
  readonly ev: Evaluator;
  readonly call: Call;
  readonly ts: number;
}

export type InstantFn = (args: readonly ArgValue[], ctx: FnContext) => El[];
export type ScalarFn = (args: readonly ArgValue[], ts: number) => number;

function vec(a: ArgValue | undefined): El[] {
  return a as El[];
}

function num(a: ArgValue | undefined): number {
  return a as number;
}

function mapFloat(f: (v: number) => number): InstantFn {
  return (args, ctx) => {
    const out: El[] = [];
    for (const el of vec(args[0])) out.push({ labels: el.labels, v: f(el.v), t: ctx.ts, dropName: true, sid: el.sid });
    return out;
  };
}

function clamp(v: El[], min: number, max: number, ts: number): El[] {
  if (max < min) return [];
  return v.map((el) => ({ labels: el.labels, v: Math.max(min, Math.min(max, el.v)), t: ts, dropName: true, sid: el.sid }));
}

/** UTC calendar fields of a sample value interpreted as Unix seconds (Go truncates to int64). */
function dateFn(f: (d: Date) => number): InstantFn {
  return (args, ctx) => {
    if (args.length === 0) return [{ labels: EMPTY_LABELS, v: f(new Date(Math.trunc(ctx.ts / 1000) * 1000)), t: ctx.ts, dropName: false, sid: 0 }];
    const out: El[] = [];
    for (const el of vec(args[0])) {
      out.push({ labels: el.labels, v: f(new Date(Math.trunc(el.v) * 1000)), t: ctx.ts, dropName: true, sid: el.sid });
    }
    return out;
  };
}

function dayOfYear(d: Date): number {
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.floor((d.getTime() - start) / 86400000) + 1;
}

/** Natural order of label values (`facette/natsort`): digit runs compare as integers. */
export function natLess(a: string, b: string): boolean {
  const ca = a.match(/(\d+|\D+)/g) ?? [];
  const cb = b.match(/(\d+|\D+)/g) ?? [];
  for (let i = 0; i < ca.length; i++) {
    if (i >= cb.length) return false;
    const x = ca[i]!;
    const y = cb[i]!;
    const xi = /^\d+$/.test(x) ? Number(x) : NaN;
    const yi = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(xi) && !Number.isNaN(yi)) {
      if (xi === yi) {
        if (i === ca.length - 1) return true;
        if (i === cb.length - 1) return false;
        continue;
      }
      return xi < yi;
    }
    if (x === y) {
      if (i === ca.length - 1) return true;
      if (i === cb.length - 1) return false;
      continue;
    }
    return x < y;
  }
  return false;
}

function labelOf(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return '';
}

function sortByLabel(desc: boolean): InstantFn {
  return (args) => {
    const names = args.slice(1) as string[];
    const v = [...vec(args[0])];
    v.sort((a, b) => {
      for (const n of names) {
        const x = labelOf(a.labels, n);
        const y = labelOf(b.labels, n);
        if (x === y) continue;
        const lt = natLess(x, y);
        return desc ? (lt ? 1 : -1) : lt ? -1 : 1;
      }
      const c = labelsCompare(a.labels, b.labels);
      return desc ? -c : c;
    });
    return v;
  };
}

/** Classic histogram buckets of one step, grouped by all labels except `le`. */
interface BucketGroup {
  labels: Labels;
  buckets: Bucket[];
  sid: number;
}

/** What `histogram_quantile` derives from a bucket series' labels. */
interface BucketKey {
  readonly ub: number | undefined;
  /** The labels without `le`, and their string form as the group key. */
  readonly without: Labels;
  readonly key: string;
}

/**
 * Bucket keys by label set, per query (keyed by its evaluator, so they go with it). A series
 * keeps the same (immutable) label array at every step, so this saves parsing `le` and rebuilding
 * and stringifying the labels once per series per step (most of a long-range
 * `histogram_quantile`). Not shared between queries: that would make a repeated query cheaper
 * than its first.
 */
const bucketKeys = new WeakMap<Evaluator, Map<Labels, BucketKey>>();

function bucketKeysOf(ev: Evaluator): Map<Labels, BucketKey> {
  let memo = bucketKeys.get(ev);
  if (memo === undefined) {
    memo = new Map();
    bucketKeys.set(ev, memo);
  }
  return memo;
}

function bucketKeyOf(memo: Map<Labels, BucketKey>, ls: Labels): BucketKey {
  let k = memo.get(ls);
  if (k === undefined) {
    const without = setLabel(ls, 'le', '');
    k = { ub: parseGoFloat(labelOf(ls, 'le')), without, key: labelsString(without) };
    memo.set(ls, k);
  }
  return k;
}

function groupBuckets(v: El[], ctx: FnContext, argIdx: number): BucketGroup[] {
  const groups = new Map<string, BucketGroup>();
  const pos = ctx.call.args[argIdx]!.posRange;
  const memo = bucketKeysOf(ctx.ev);
  for (const el of v) {
    const bk = bucketKeyOf(memo, el.labels);
    const ub = bk.ub;
    if (ub === undefined) {
      const le = labelOf(el.labels, 'le');
      const name = ctx.ev.q.delayedNameRemoval ? labelOf(el.labels, '__name__') : '';
      let msg = `bucket label "le" is missing or has a malformed value of ${JSON.stringify(le)}`;
      if (name !== '') msg += ` for metric name ${JSON.stringify(name)}`;
      ctx.ev.q.annos.warn(msg, pos);
      continue;
    }
    let g = groups.get(bk.key);
    if (!g) {
      g = { labels: bk.without, buckets: [], sid: el.sid };
      groups.set(bk.key, g);
    }
    g.buckets.push({ upperBound: ub, count: el.v });
  }
  return [...groups.values()];
}

function validateQuantile(q: number, ctx: FnContext, argIdx: number): void {
  if (Number.isNaN(q) || q < 0 || q > 1) {
    ctx.ev.q.annos.warn(`quantile value should be between 0 and 1, got ${formatFloatG(q)}`, ctx.call.args[argIdx]!.posRange);
  }
}

function quantileFor(g: BucketGroup, q: number, ctx: FnContext, argIdx: number): number {
  const r = bucketQuantile(q, g.buckets);
  if (r.forcedMonotonic) {
    ctx.ev.q.annos.monotonicity(ctx.ev.q.delayedNameRemoval ? labelOf(g.labels, '__name__') : '', ctx.call.args[argIdx]!.posRange, ctx.ts, r.minBucket, r.maxBucket, r.maxDiff);
  }
  return r.quantile;
}

const none: InstantFn = () => [];

export const INSTANT_FUNCTIONS: Readonly<Record<string, InstantFn>> = {
  abs: mapFloat(Math.abs),
  ceil: mapFloat(Math.ceil),
  floor: mapFloat(Math.floor),
  exp: mapFloat(Math.exp),
  sqrt: mapFloat(Math.sqrt),
  ln: mapFloat(Math.log),
  log2: mapFloat(Math.log2),
  log10: mapFloat(Math.log10),
  sin: mapFloat(Math.sin),
  cos: mapFloat(Math.cos),
  tan: mapFloat(Math.tan),
  asin: mapFloat(Math.asin),
  acos: mapFloat(Math.acos),
  atan: mapFloat(Math.atan),
  sinh: mapFloat(Math.sinh),
  cosh: mapFloat(Math.cosh),
  tanh: mapFloat(Math.tanh),
  asinh: mapFloat(Math.asinh),
  acosh: mapFloat(Math.acosh),
  atanh: mapFloat(Math.atanh),
  deg: mapFloat((v) => (v * 180) / Math.PI),
  rad: mapFloat((v) => (v * Math.PI) / 180),
  sgn: mapFloat((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  round: (args, ctx) => {
    const toNearest = args.length >= 2 ? num(args[1]) : 1;
    const inv = 1 / toNearest;
    return mapFloat((f) => Math.floor(f * inv + 0.5) / inv)(args, ctx);
  },
  clamp: (args, ctx) => clamp(vec(args[0]), num(args[1]), num(args[2]), ctx.ts),
  clamp_min: (args, ctx) => clamp(vec(args[0]), num(args[1]), Infinity, ctx.ts),
  clamp_max: (args, ctx) => clamp(vec(args[0]), -Infinity, num(args[1]), ctx.ts),
  timestamp: (args, ctx) => vec(args[0]).map((el) => ({ labels: el.labels, v: el.t / 1000, t: ctx.ts, dropName: true, sid: el.sid })),
  sort: (args) =>
    [...vec(args[0])].sort((a, b) => {
      if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
      if (Number.isNaN(b.v)) return -1;
      return a.v - b.v;
    }),
  sort_desc: (args) =>
    [...vec(args[0])].sort((a, b) => {
      if (Number.isNaN(a.v)) return Number.isNaN(b.v) ? 0 : 1;
      if (Number.isNaN(b.v)) return -1;
      return b.v - a.v;
    }),
  sort_by_label: sortByLabel(false),
  sort_by_label_desc: sortByLabel(true),
  vector: (args, ctx) => [{ labels: EMPTY_LABELS, v: num(args[0]), t: ctx.ts, dropName: false, sid: 0 }],
  absent: (args, ctx) => (vec(args[0]).length > 0 ? [] : [{ labels: absentLabels(unwrapParens(ctx.call.args[0]!)), v: 1, t: ctx.ts, dropName: false, sid: 0 }]),
  days_in_month: dateFn((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()),
  day_of_month: dateFn((d) => d.getUTCDate()),
  day_of_week: dateFn((d) => d.getUTCDay()),
  day_of_year: dateFn(dayOfYear),
  hour: dateFn((d) => d.getUTCHours()),
  minute: dateFn((d) => d.getUTCMinutes()),
  month: dateFn((d) => d.getUTCMonth() + 1),
  year: dateFn((d) => d.getUTCFullYear()),
  histogram_quantile: (args, ctx) => {
    const q = num(args[0]);
    validateQuantile(q, ctx, 0);
    const out: El[] = [];
    for (const g of groupBuckets(vec(args[1]), ctx, 1)) {
      out.push({ labels: g.labels, v: quantileFor(g, q, ctx, 1), t: ctx.ts, dropName: true, sid: g.sid });
    }
    return out;
  },
  histogram_quantiles: (args, ctx) => {
    const label = args[1] as string;
    const qs = args.slice(2) as number[];
    qs.forEach((q, i) => validateQuantile(q, ctx, i + 2));
    const groups = groupBuckets(vec(args[0]), ctx, 0);
    const out: El[] = [];
    for (const q of qs) {
      for (const g of groups) {
        const labels = setLabel(g.labels, label, formatOpenMetricsFloat(q));
        out.push({ labels, v: quantileFor(g, q, ctx, 0), t: ctx.ts, dropName: true, sid: g.sid });
      }
    }
    return out;
  },
  histogram_fraction: (args, ctx) => {
    const lower = num(args[0]);
    const upper = num(args[1]);
    const out: El[] = [];
    for (const g of groupBuckets(vec(args[2]), ctx, 2)) {
      out.push({ labels: g.labels, v: bucketFraction(lower, upper, g.buckets), t: ctx.ts, dropName: true, sid: g.sid });
    }
    return out;
  },
  // Native-histogram functions ignore float samples.
  histogram_count: none,
  histogram_sum: none,
  histogram_avg: none,
  histogram_stddev: none,
  histogram_stdvar: none,
};

export const SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFn>> = {
  time: (_args, ts) => ts / 1000,
  pi: () => Math.PI,
  scalar: (args) => {
    const v = vec(args[0]);
    return v.length === 1 ? v[0]!.v : NaN;
  },
  max_of: (args) => Math.max(num(args[0]), num(args[1])),
  min_of: (args) => Math.min(num(args[0]), num(args[1])),
};
