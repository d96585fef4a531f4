/**
 * Aggregation operators. Each input series is mapped to its group once (the grouping key does
 * not change between steps), then values are folded step by step with Prometheus's exact
 * arithmetic (Kahan sums, incremental mean on overflow, Welford variance).
 */
import { EMPTY_LABELS, type Labels } from '../../model/labels.js';
import type { AggregateExpr } from '../parser/index.js';
import { goQuote, isValidUtf8 } from '../parser/index.js';
import type { Evaluator } from './evaluator.js';
import { formatFloatF, formatFloatG } from './gofmt.js';
import { dropLabels, keepLabels, setLabel, signatureOn, signatureWithout } from './labels-util.js';
import { kahan, kahanStep, quantileSorted } from './mathutil.js';
import type { El, EvalValue, StepSeries } from './types.js';
import type { SeriesStream } from './evaluator.js';
import { groupTable, type GroupTable } from './group-table.js';
import { labelsHash } from './xxhash.js';
import { refillAt, refillEnd } from './refill.js';

interface Grouping {
  key(ls: Labels): string;
  labels(ls: Labels): Labels;
}

function grouping(names: readonly string[], without: boolean): Grouping {
  const set = new Set(names);
  if (without) {
    const dropSet = new Set([...names, '__name__']);
    return { key: (ls) => signatureWithout(ls, set), labels: (ls) => dropLabels(ls, dropSet) };
  }
  if (names.length === 0) return { key: () => '', labels: () => EMPTY_LABELS };
  return { key: (ls) => signatureOn(ls, set), labels: (ls) => keepLabels(ls, set) };
}

export async function evalAggregate(ev: Evaluator, e: AggregateExpr): Promise<EvalValue> {
  if (e.op === 'count_values') return { kind: 'vector', series: await countValues(ev, e) };
  const params = e.param ? await ev.scalarValues(e.param) : undefined;
  // Streamed input (see `streamAggregate`) is evaluated where it is folded.
  const stream = STREAMED_OPS.has(e.op) ? ev.streamSeries(e.expr, e.without || !e.grouping.includes('__name__')) : undefined;
  const input = stream === undefined ? await ev.vectorSeries(e.expr) : [];
  const g = grouping(e.grouping, e.without);
  const op = e.op;

  let pMin = Infinity;
  let pMax = -Infinity;
  let anyNaN = false;
  if (params) {
    for (const p of params) {
      if (Number.isNaN(p)) anyNaN = true;
      else {
        if (p < pMin) pMin = p;
        if (p > pMax) pMax = p;
      }
    }
  }
  const paramPos = e.param?.posRange ?? e.posRange;
  switch (op) {
    case 'topk':
    case 'bottomk':
    case 'limitk':
      if (anyNaN) ev.error('Parameter value is NaN');
      if (pMax < 1) return { kind: 'vector', series: [] };
      if (pMin <= -9223372036854775808) ev.error(`Scalar value ${formatFloatG(pMin)} underflows int64`);
      if (pMax >= 9223372036854775807) ev.error(`Scalar value ${formatFloatG(pMax)} overflows int64`);
      return { kind: 'vector', series: await aggregateK(ev, e, input, g, params!) };
    case 'limit_ratio':
      if (pMax === 0 && pMin === 0 && !anyNaN) return { kind: 'vector', series: [] };
      if (anyNaN) ev.error('Ratio value is NaN');
      if (pMax > 1) ev.q.annos.warn(`ratio value should be between -1 and 1, got ${formatFloatG(pMax)}, capping to 1`, paramPos);
      if (pMin < -1) ev.q.annos.warn(`ratio value should be between -1 and 1, got ${formatFloatG(pMin)}, capping to -1`, paramPos);
      return { kind: 'vector', series: await aggregateK(ev, e, input, g, params!) };
    case 'quantile':
      if (anyNaN) ev.q.annos.warn('quantile value should be between 0 and 1, got NaN', paramPos);
      if (pMax > 1) ev.q.annos.warn(`quantile value should be between 0 and 1, got ${formatFloatG(pMax)}`, paramPos);
      if (pMin < 0) ev.q.annos.warn(`quantile value should be between 0 and 1, got ${formatFloatG(pMin)}`, paramPos);
      break;
    default:
      break;
  }

  const table = groupTable(e.grouping, e.without, g.key);
  if (stream !== undefined) return { kind: 'vector', series: await streamAggregate(ev, op, g, table, stream) };

  // Map input series to groups.
  const seriesGroup = new Int32Array(input.length);
  const outSeries: StepSeries[] = [];
  input.forEach((s, si) => {
    const gi = table.groupOf(s.labels, outSeries.length);
    if (gi === outSeries.length) outSeries.push({ labels: g.labels(s.labels), ts: [], vs: [], dropName: false });
    seriesGroup[si] = gi;
  });
  const ng = outSeries.length;
  const acc = new Folds(op, ng);
  const seen = acc.seen;
  // A group's values at the current step, refilled every step (see `refill.ts`).
  const heaps: number[][] = op === 'quantile' ? Array.from({ length: ng }, () => []) : [];
  const heapLen = new Int32Array(op === 'quantile' ? ng : 0);
  const cursors = new Int32Array(input.length);

  for (let step = 0; step < ev.numSteps; step++) {
    if (ev.dueForYield()) await ev.pause();
    ev.checkAbort();
    const ts = ev.stepTime(step);
    seen.fill(0);
    for (let si = 0; si < input.length; si++) {
      const s = input[si]!;
      const c = cursors[si]!;
      if (c >= s.ts.length || s.ts[c] !== ts) continue;
      cursors[si] = c + 1;
      const f = s.vs[c]!;
      const gi = seriesGroup[si]!;
      if (!seen[gi]) {
        acc.first(gi, s.vs, c, s.dropName);
        if (op === 'quantile') {
          refillAt(heaps[gi]!, 0, f);
          heapLen[gi] = 1;
        }
        continue;
      }
      if (op === 'quantile') {
        if (s.dropName) acc.dropName[gi] = 1;
        refillAt(heaps[gi]!, heapLen[gi]!++, f);
      } else acc.next(gi, s.vs, c, s.dropName);
    }
    for (let gi = 0; gi < ng; gi++) {
      if (!seen[gi]) continue;
      if (op === 'quantile') refillEnd(heaps[gi]!, heapLen[gi]!);
      const v = op === 'quantile' ? quantileSorted(params![step]!, heaps[gi]!) : acc.result(gi);
      const out = outSeries[gi]!;
      out.ts.push(ts);
      out.vs.push(v);
      out.dropName = acc.dropName[gi] === 1;
    }
  }
  const result = outSeries.filter((s) => s.ts.length > 0);
  let total = 0;
  for (const s of result) total += s.ts.length;
  ev.addSamples(total);
  return { kind: 'vector', series: result };
}

/** Aggregations folded series by series when their input can be streamed. */
const STREAMED_OPS = new Set(['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']);

const SUM = 0;
const AVG = 1;
const MAX = 2;
const MIN = 3;
const COUNT = 4;
const GROUP = 5;
const STDDEV = 6;
const STDVAR = 7;
const OTHER = 8;
const FOLD_OPS: Readonly<Record<string, number>> = { sum: SUM, avg: AVG, max: MAX, min: MIN, count: COUNT, group: GROUP, stddev: STDDEV, stdvar: STDVAR };

/**
 * Running state of the simple aggregations in slots: one per group for the step-by-step fold, one
 * per (group, step) for the streamed one. Both fold the values of a slot in input order with the
 * same arithmetic, so they give identical results.
 */
class Folds {
  seen: Uint8Array;
  value: Float64Array;
  mean: Float64Array;
  count: Float64Array;
  comp: Float64Array;
  incremental: Uint8Array;
  dropName: Uint8Array;

  /** The operator as a small integer: the fold's switches run per value. */
  readonly #op: number;

  constructor(op: string, slots: number) {
    this.#op = FOLD_OPS[op] ?? OTHER;
    this.seen = new Uint8Array(slots);
    this.value = new Float64Array(slots);
    this.mean = new Float64Array(slots);
    this.count = new Float64Array(slots);
    this.comp = new Float64Array(slots);
    this.incremental = new Uint8Array(slots);
    this.dropName = new Uint8Array(slots);
  }

  /** Room for `slots` slots, keeping the state of the existing ones. */
  grow(slots: number): void {
    const g8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(slots);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(slots);
      b.set(a);
      return b;
    };
    this.seen = g8(this.seen);
    this.value = g64(this.value);
    this.mean = g64(this.mean);
    this.count = g64(this.count);
    this.comp = g64(this.comp);
    this.incremental = g8(this.incremental);
    this.dropName = g8(this.dropName);
  }

  /*
   * `first` and `next` take their value as `src[j]` rather than as a number: a float argument to a
   * call that is not inlined is boxed, a heap number per value folded.
   */

  /** The first value of a slot. */
  first(i: number, src: ArrayLike<number>, j: number, dropName: boolean): void {
    const f = src[j]!;
    this.seen[i] = 1;
    this.value[i] = f;
    this.mean[i] = f;
    this.count[i] = 1;
    this.comp[i] = 0;
    this.incremental[i] = 0;
    this.dropName[i] = dropName ? 1 : 0;
    switch (this.#op) {
      case STDDEV:
      case STDVAR:
        this.value[i] = Number.isNaN(f) || f === Infinity || f === -Infinity ? NaN : 0;
        break;
      case GROUP:
        this.value[i] = 1;
        break;
      default:
        break;
    }
  }

  /** A further value of a slot (Prometheus's arithmetic: Kahan sums, incremental mean on overflow, Welford). */
  next(i: number, src: ArrayLike<number>, j: number, dropName: boolean): void {
    const f = src[j]!;
    if (dropName) this.dropName[i] = 1;
    const value = this.value;
    const comp = this.comp;
    switch (this.#op) {
      case SUM: {
        value[i] = kahanStep(f, value[i]!, comp[i]!);
        comp[i] = kahan.c;
        break;
      }
      case AVG: {
        const count = this.count;
        const mean = this.mean;
        count[i]! += 1;
        const n = count[i]!;
        if (!this.incremental[i]) {
          const nv = kahanStep(f, value[i]!, comp[i]!);
          if (nv !== Infinity && nv !== -Infinity) {
            value[i] = nv;
            comp[i] = kahan.c;
            break;
          }
          this.incremental[i] = 1;
          mean[i] = value[i]! / (n - 1);
          comp[i] = comp[i]! / (n - 1);
        }
        const q = (n - 1) / n;
        mean[i] = kahanStep(f / n, q * mean[i]!, q * comp[i]!);
        comp[i] = kahan.c;
        break;
      }
      case MAX:
        if (value[i]! < f || Number.isNaN(value[i]!)) value[i] = f;
        break;
      case MIN:
        if (value[i]! > f || Number.isNaN(value[i]!)) value[i] = f;
        break;
      case COUNT:
        this.count[i]! += 1;
        break;
      case STDDEV:
      case STDVAR: {
        const count = this.count;
        const mean = this.mean;
        count[i]! += 1;
        const delta = f - mean[i]!;
        mean[i]! += delta / count[i]!;
        value[i]! += delta * (f - mean[i]!);
        break;
      }
      default:
        break;
    }
  }

  /** The aggregate of a slot that has seen at least one value. */
  result(i: number): number {
    const value = this.value;
    const count = this.count;
    const comp = this.comp;
    switch (this.#op) {
      case AVG:
        return this.incremental[i] ? this.mean[i]! + comp[i]! : value[i]! / count[i]! + comp[i]! / count[i]!;
      case COUNT:
        return count[i]!;
      case STDVAR:
        return value[i]! / count[i]!;
      case STDDEV:
        return Math.sqrt(value[i]! / count[i]!);
      case SUM:
        return value[i]! + comp[i]!;
      default:
        return value[i]!;
    }
  }
}

/**
 * Aggregates an input that is produced series by series (a selector, or a range function over
 * one; see `Evaluator.streamSeries`) without holding it: each series is folded into per
 * (group, step) slots as it arrives, so the input's step values are never stored, and series
 * without a point at a step cost nothing there. The values of a slot are folded in input order,
 * as the step-by-step fold does, so results are identical.
 */
async function streamAggregate(ev: Evaluator, op: string, g: Grouping, table: GroupTable, stream: SeriesStream): Promise<StepSeries[]> {
  const n = ev.numSteps;
  const start = ev.start;
  const interval = ev.interval;
  const groups: Labels[] = [];
  let capacity = 16;
  const acc = new Folds(op, capacity * n);
  await stream((s) => {
    const gi = table.groupOf(s.labels, groups.length);
    if (gi === groups.length) {
      groups.push(g.labels(s.labels));
      if (gi >= capacity) {
        capacity *= 2;
        acc.grow(capacity * n);
      }
    }
    const base = gi * n;
    const ts = s.ts;
    const vs = s.vs;
    const seen = acc.seen;
    for (let j = 0; j < ts.length; j++) {
      const slot = base + (ts[j]! - start) / interval;
      if (seen[slot]) acc.next(slot, vs, j, s.dropName);
      else acc.first(slot, vs, j, s.dropName);
    }
  });
  const out: StepSeries[] = [];
  let total = 0;
  const seen = acc.seen;
  const allSteps = ev.allSteps();
  for (let gi = 0; gi < groups.length; gi++) {
    const base = gi * n;
    let count = 0;
    for (let slot = base; slot < base + n; slot++) count += seen[slot]!;
    // Groups with a value at every step (the usual case) share the step times, and one value
    // (every group of an instant query) needs no growable array: an instant `sum by (pod)` has
    // thousands of groups.
    const ts: number[] = count === n ? allSteps : [];
    let vs: number[];
    let dropName = false;
    if (n === 1) {
      vs = [acc.result(base)];
      dropName = acc.dropName[base] === 1;
    } else {
      vs = [];
      for (let step = 0, slot = base; step < n; step++, slot++) {
        if (!seen[slot]) continue;
        if (ts !== allSteps) ts.push(start + step * interval);
        vs.push(acc.result(slot));
        dropName = acc.dropName[slot] === 1;
      }
    }
    total += count;
    out.push({ labels: groups[gi]!, ts, vs, dropName });
  }
  ev.addSamples(total);
  return out;
}

/** topk, bottomk, limitk, limit_ratio: select input elements per group and step. */
function aggregateK(ev: Evaluator, e: AggregateExpr, input: StepSeries[], g: Grouping, params: Float64Array): Promise<StepSeries[]> {
  const keys = input.map((s) => g.key(s.labels));
  const ratioOffsets = e.op === 'limit_ratio' ? input.map((s) => sampleOffset(s.labels)) : [];
  return ev.rangeEval([input], (vectors, _ts, step) => {
    const v = vectors[0]!;
    const p = params[step]!;
    const groups = new Map<string, El[]>();
    for (const el of v) {
      const k = keys[el.sid]!;
      let arr = groups.get(k);
      if (!arr) {
        arr = [];
        groups.set(k, arr);
      }
      arr.push(el);
    }
    const out: El[] = [];
    if (e.op === 'limit_ratio') {
      const r = Math.max(-1, Math.min(1, p));
      if (r === 0) return out;
      for (const arr of groups.values()) {
        for (const el of arr) {
          const off = ratioOffsets[el.sid]!;
          if ((r >= 0 && off < r) || (r < 0 && off >= 1 + r)) out.push(el);
        }
      }
      return out;
    }
    const k = Math.min(Math.trunc(p), input.length);
    if (k < 1) return out;
    for (const arr of groups.values()) {
      if (e.op === 'limitk') {
        out.push(...arr.slice(0, k));
        continue;
      }
      out.push(...selectK(arr, k, e.op === 'topk'));
    }
    return out;
  });
}

/** True when `a` ranks before `b`: larger (topk) or smaller (bottomk) values, NaN last. */
function better(a: number, b: number, desc: boolean): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return desc ? a > b : a < b;
}

/**
 * The best `k` elements in rank order; among equal values the earlier input wins, as only a
 * strictly better sample displaces one in Prometheus's heap. Insertion keeps it O(n·k) for the
 * small k dashboards use.
 */
function selectK(arr: El[], k: number, desc: boolean): El[] {
  const top: El[] = [];
  for (const el of arr) {
    if (top.length === k && !better(el.v, top[k - 1]!.v, desc)) continue;
    let i = top.length === k ? k - 1 : top.length;
    if (top.length === k) top.pop();
    while (i > 0 && better(el.v, top[i - 1]!.v, desc)) i--;
    top.splice(i, 0, el);
  }
  return top;
}

/** Prometheus's sampling offset for `limit_ratio`: the label hash as a fraction of 2^64. */
function sampleOffset(ls: Labels): number {
  return Number(labelsHash(ls)) / 18446744073709551615;
}

async function countValues(ev: Evaluator, e: AggregateExpr): Promise<StepSeries[]> {
  const param = e.param;
  if (!param || param.kind !== 'StringLiteral') ev.error('count_values requires a string parameter');
  const valueLabel = param.val;
  if (valueLabel === '' || !isValidUtf8(valueLabel)) ev.error(`invalid label name ${goQuote(valueLabel)}`);
  const names = e.without ? [...e.grouping] : [...e.grouping, valueLabel];
  const g = grouping(names, e.without);
  const input = await ev.vectorSeries(e.expr);
  return ev.rangeEval([input], (vectors, ts) => {
    const groups = new Map<string, { labels: Labels; count: number }>();
    for (const el of vectors[0]!) {
      const metric = setLabel(el.labels, valueLabel, formatFloatF(el.v));
      const k = g.key(metric);
      const cur = groups.get(k);
      if (cur) cur.count++;
      else groups.set(k, { labels: g.labels(metric), count: 1 });
    }
    const out: El[] = [];
    for (const { labels, count } of groups.values()) out.push({ labels, v: count, t: ts, dropName: false, sid: 0 });
    return out;
  });
}
