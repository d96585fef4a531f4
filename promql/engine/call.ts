/**
 * Function calls: dispatch between range-vector functions (evaluated series by series with a
 * sliding window), functions on whole series (`label_replace`, `label_join`), and instant
 * functions evaluated step by step.
 */
import type { Labels } from '../../model/labels.js';
import { compileAnchoredRegex } from '../../model/matcher.js';
import type { Call, Expr, MatrixSelector, SubqueryExpr } from '../parser/index.js';
import { isValidUtf8 } from '../parser/index.js';
import type { Evaluator } from './evaluator.js';
import { absentLabels, unwrapParens } from './ast-util.js';
import { RANGE_FUNCTIONS, type SampleArray } from './functions-range.js';
import { INSTANT_FUNCTIONS, SCALAR_FUNCTIONS, type ArgValue } from './functions-instant.js';
import { expandTemplate, formatFloatG } from './gofmt.js';
import { setLabel } from './labels-util.js';
import { mergeSameLabelsets } from './result.js';
import type { El, EvalValue, StepSeries } from './types.js';
import { SampleBuffer } from './samples.js';
import { refillEnd } from './refill.js';
import { RangeStepper } from './range-stepper.js';

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

export async function evalCall(ev: Evaluator, e: Call): Promise<EvalValue> {
  const name = e.func.name;
  switch (name) {
    case 'start':
      return constant(ev, ev.q.queryStart / 1000);
    case 'end':
      return constant(ev, ev.q.queryEnd / 1000);
    case 'range':
      return constant(ev, (ev.q.queryEnd - ev.q.queryStart) / 1000);
    case 'step':
      return constant(ev, ev.q.queryStart === ev.q.queryEnd ? 0 : ev.q.queryStep / 1000);
    case 'label_replace':
      return { kind: 'vector', series: await labelReplace(ev, e) };
    case 'label_join':
      return { kind: 'vector', series: await labelJoin(ev, e) };
  }
  if (name === 'timestamp') {
    const arg = unwrapParens(e.args[0]!);
    if (arg.kind === 'VectorSelector') {
      const series = await ev.evalVectorSelector(arg, true);
      for (const s of series) s.dropName = true;
      return { kind: 'vector', series };
    }
  }
  const matrixIdx = e.args.findIndex((a) => {
    const u = unwrapParens(a);
    return u.kind === 'MatrixSelector' || u.kind === 'SubqueryExpr';
  });
  if (matrixIdx >= 0) return { kind: 'vector', series: await evalRangeCall(ev, e, matrixIdx) };

  if ((name === 'sort' || name === 'sort_desc' || name === 'sort_by_label' || name === 'sort_by_label_desc') && !ev.isInstant) {
    ev.q.annos.warn('sort is ineffective for range queries since results are always ordered by labels', e.posRange);
  }

  // Instant functions: evaluate arguments, then call step by step.
  const argVals: EvalValue[] = [];
  for (const a of e.args) argVals.push(a.kind === 'StringLiteral' ? { kind: 'string', value: a.val } : await ev.eval(a));
  const vectorInputs: StepSeries[][] = [];
  const argSlots: number[] = [];
  for (const v of argVals) {
    if (v.kind === 'vector') {
      argSlots.push(vectorInputs.length);
      vectorInputs.push(v.series);
    } else argSlots.push(-1);
  }
  const scalarFn = SCALAR_FUNCTIONS[name];
  if (scalarFn) {
    const out = new Float64Array(ev.numSteps);
    const cursors = vectorInputs.map((m) => new Int32Array(m.length));
    for (let step = 0; step < ev.numSteps; step++) {
      const ts = ev.stepTime(step);
      const args: ArgValue[] = argVals.map((v, i) => argAt(v, step, ts, vectorInputs, argSlots[i]!, cursors));
      out[step] = scalarFn(args, ts);
    }
    return { kind: 'scalar', values: out };
  }
  const fn = INSTANT_FUNCTIONS[name];
  if (!fn) ev.error(`function ${JSON.stringify(name)} is not supported`);
  const series = await ev.rangeEval(vectorInputs, (vectors, ts, step) => {
    const args: ArgValue[] = argVals.map((v, i) => {
      if (v.kind === 'vector') return vectors[argSlots[i]!]!;
      if (v.kind === 'scalar') return v.values[step]!;
      if (v.kind === 'string') return v.value;
      return ev.error('unexpected range vector argument');
    });
    return fn(args, { ev, call: e, ts });
  });
  return { kind: 'vector', series };
}

function constant(ev: Evaluator, v: number): EvalValue {
  return { kind: 'scalar', values: new Float64Array(ev.numSteps).fill(v) };
}

function argAt(v: EvalValue, step: number, ts: number, inputs: StepSeries[][], slot: number, cursors: Int32Array[]): ArgValue {
  if (v.kind === 'scalar') return v.values[step]!;
  if (v.kind === 'string') return v.value;
  const m = inputs[slot]!;
  const cur = cursors[slot]!;
  const out: El[] = [];
  for (let i = 0; i < m.length; i++) {
    const s = m[i]!;
    const c = cur[i]!;
    if (c < s.ts.length && s.ts[c] === ts) {
      out.push({ labels: s.labels, v: s.vs[c]!, t: ts, dropName: s.dropName, sid: i });
      cur[i] = c + 1;
    }
  }
  return out;
}

/** A series of a range argument: selector samples (typed arrays) or subquery step values. */
interface RangeSeries {
  readonly labels: StepSeries['labels'];
  readonly ts: SampleArray;
  readonly vs: SampleArray;
  /** Samples `0 … n-1` of `ts`/`vs` are the series'. */
  readonly n: number;
  readonly dropName: boolean;
}

interface RangeSource {
  readonly count: number;
  /**
   * Series `i`; for a selector decoded into a buffer the next call reuses, so callers go through
   * the series in order and are done with one before asking for the next.
   */
  series(i: number): RangeSeries;
  /** Window end for step time `ts`. */
  rangeMs: number;
  offset: number;
  at: number | undefined;
  /** Expression the annotations point at. */
  argExpr: Expr;
  /** For absent_over_time. */
  selectorExpr: Expr;
}

async function rangeSource(ev: Evaluator, arg: MatrixSelector | SubqueryExpr): Promise<RangeSource> {
  if (arg.kind === 'MatrixSelector') {
    const vs = arg.vectorSelector;
    const data = ev.q.data.get(vs) ?? [];
    const buf = new SampleBuffer();
    const series = (i: number): RangeSeries => {
      const s = data[i]!;
      buf.readClean(s);
      return { labels: s.labels, ts: buf.ts, vs: buf.vs, n: buf.n, dropName: false };
    };
    return { count: data.length, series, rangeMs: arg.range, offset: vs.originalOffset, at: ev.resolveAt(vs.at), argExpr: arg, selectorExpr: arg };
  }
  const res = (await ev.evalSubqueryRaw(arg)).series;
  const series = (i: number): RangeSeries => {
    const s = res[i]!;
    return { labels: s.labels, ts: s.ts, vs: s.vs, n: s.ts.length, dropName: s.dropName };
  };
  return { count: res.length, series, rangeMs: arg.range, offset: arg.originalOffset, at: ev.resolveAt(arg.at), argExpr: arg, selectorExpr: arg };
}

/**
 * Range functions that `Evaluator.streamSeries` may evaluate series by series: one argument, a
 * range selector (no scalar parameters, no subquery).
 */
export function isStreamableRangeCall(e: Call): boolean {
  if (e.args.length !== 1 || e.func.name === 'absent_over_time' || RANGE_FUNCTIONS[e.func.name] === undefined) return false;
  return unwrapParens(e.args[0]!).kind === 'MatrixSelector';
}

/** A range function over its range argument; with `sink`, series go there as they are made (arrays reused). */
export async function evalRangeCall(ev: Evaluator, e: Call, matrixIdx: number, sink?: (s: StepSeries) => void): Promise<StepSeries[]> {
  const name = e.func.name;
  const arg = unwrapParens(e.args[matrixIdx]!) as MatrixSelector | SubqueryExpr;
  // Scalar parameters, one value per step.
  const params: Float64Array[] = [];
  for (let i = 0; i < e.args.length; i++) if (i !== matrixIdx) params.push(await ev.scalarValues(e.args[i]!));
  const src = await rangeSource(ev, arg);
  const keepName = name === 'last_over_time' || name === 'first_over_time';
  const out: StepSeries[] = [];
  const n = ev.numSteps;

  if (name === 'absent_over_time') return absentOverTime(ev, src, e);

  const fn = RANGE_FUNCTIONS[name];
  if (!fn) ev.error(`function ${JSON.stringify(name)} is not supported over range vectors`);
  let anySamples = false;
  const allSteps = ev.allSteps();
  const vbuf: number[] = [];
  const tbuf: number[] = [];
  const checksCounter = name === 'rate' || name === 'increase';
  // Over many steps a sample is in several windows: counting the resets of a series once spares
  // each window its scan for them (there usually are none).
  const stepper = new RangeStepper(fn, params, allSteps, (msg) => ev.error(msg), src.at, src.offset, src.rangeMs, ev.start, ev.interval, checksCounter && n > 1);
  // The counter-name check runs once per distinct metric name, not once per series.
  let checkedMetric: string | undefined;
  for (let si = 0; si < src.count; si++) {
    // As a selector's loop: the clock is read every few series, abort checked every few thousand.
    if ((si & 15) === 0 && ev.dueForYield()) await ev.pause();
    ev.tick();
    const s = src.series(si);
    if (s.n > 0) anySamples = true;
    // Values go to a refilled buffer (see `refill.ts`); a sink consumes each series at once,
    // anything else gets an exact-size copy rather than an array grown push by push.
    stepper.begin(s.ts, s.vs, s.n, vbuf, sink !== undefined ? tbuf : undefined);
    // Long ranges in slices, so that a series of many steps still lets the event loop run.
    for (let from = 0; from < n; from += STEPS_PER_SLICE) {
      if (from > 0 && ev.dueForYield()) await ev.pause();
      stepper.run(from, Math.min(n, from + STEPS_PER_SLICE));
    }
    const k = stepper.k;
    if (k > 0) {
      refillEnd(vbuf, k);
      const vals = sink !== undefined ? vbuf : vbuf.slice();
      // Step times stay implicit (a prefix of `allSteps`) while every step so far has a value.
      const ts = stepper.ts ?? (k === n ? allSteps : stepper.prefix(k));
      ev.addSamples(ts.length);
      const series: StepSeries = { labels: s.labels, ts, vs: vals, dropName: keepName ? s.dropName : true };
      if (sink !== undefined) sink(series);
      else out.push(series);
      if (checksCounter) {
        const metric = metricName(s.labels);
        if (metric !== checkedMetric && metric !== '' && !COUNTER_SUFFIXES.some((suf) => metric.endsWith(suf))) {
          ev.q.annos.info(`metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${JSON.stringify(metric)}`, e.args[0]!.posRange);
        }
        checkedMetric = metric;
      }
    }
  }
  if (name === 'quantile_over_time' && anySamples) {
    // Warned once per query for an out-of-range quantile, if any series has samples.
    for (const v of params[0]!) {
      if (Number.isNaN(v) || v < 0 || v > 1) {
        ev.q.annos.warn(`quantile value should be between 0 and 1, got ${formatFloatG(v)}`, e.args[0]!.posRange);
        break;
      }
    }
  }
  // The largest window held in memory at once counts towards the sample limit, as in Prometheus.
  ev.addSamples(stepper.windowSamples);
  ev.releaseSamples(stepper.windowSamples);
  return out;
}

/** Steps of one series evaluated between two checks of the clock. */
const STEPS_PER_SLICE = 256;

function absentOverTime(ev: Evaluator, src: RangeSource, e: Call): StepSeries[] {
  const n = ev.numSteps;
  const found = new Uint8Array(n);
  for (let si = 0; si < src.count; si++) {
    const s = src.series(si);
    let lo = 0;
    let hi = 0;
    for (let step = 0; step < n; step++) {
      const ref = (src.at ?? ev.stepTime(step)) - src.offset;
      while (hi < s.n && s.ts[hi]! <= ref) hi++;
      while (lo < hi && s.ts[lo]! <= ref - src.rangeMs) lo++;
      if (hi > lo) found[step] = 1;
    }
  }
  const ts: number[] = [];
  const vs: number[] = [];
  for (let step = 0; step < n; step++) {
    if (!found[step]) {
      ts.push(ev.stepTime(step));
      vs.push(1);
    }
  }
  if (ts.length === 0) return [];
  return [{ labels: absentLabels(unwrapParens(e.args[0]!)), ts, vs, dropName: true }];
}

function metricName(ls: Labels): string {
  for (const l of ls) if (l.name === '__name__') return l.value;
  return '';
}

function isValidLabelNameUtf8(name: string): boolean {
  return name !== '' && isValidUtf8(name);
}

function stringArg(e: Expr): string {
  const u = unwrapParens(e);
  if (u.kind !== 'StringLiteral') throw new Error('expected string literal');
  return u.val;
}

async function labelReplace(ev: Evaluator, e: Call): Promise<StepSeries[]> {
  const dst = stringArg(e.args[1]!);
  const repl = stringArg(e.args[2]!);
  const src = stringArg(e.args[3]!);
  const regexStr = stringArg(e.args[4]!);
  let re: RegExp;
  try {
    re = compileAnchoredRegex(regexStr.replace(/\(\?P</g, '(?<'));
  } catch {
    ev.error(`invalid regular expression in label_replace(): ${regexStr}`);
  }
  if (!isValidLabelNameUtf8(dst)) ev.error(`invalid destination label name in label_replace(): ${dst}`);
  const series = await ev.vectorSeries(e.args[0]!);
  const out: StepSeries[] = [];
  for (const s of series) {
    const srcVal = labelValue(s.labels, src);
    const m = re.exec(srcVal);
    if (m) {
      const res = expandTemplate(repl, m);
      const labels = setLabel(s.labels, dst, res);
      out.push({ labels, ts: s.ts, vs: s.vs, dropName: dst === '__name__' ? false : s.dropName });
    } else out.push(s);
  }
  return mergeSameLabelsets(ev, out);
}

async function labelJoin(ev: Evaluator, e: Call): Promise<StepSeries[]> {
  const dst = stringArg(e.args[1]!);
  const sep = stringArg(e.args[2]!);
  const srcLabels: string[] = [];
  for (let i = 3; i < e.args.length; i++) {
    const src = stringArg(e.args[i]!);
    if (!isValidLabelNameUtf8(src)) ev.error(`invalid source label name in label_join(): ${src}`);
    srcLabels.push(src);
  }
  if (!isValidLabelNameUtf8(dst)) ev.error(`invalid destination label name in label_join(): ${dst}`);
  const series = await ev.vectorSeries(e.args[0]!);
  const out: StepSeries[] = [];
  for (const s of series) {
    const val = srcLabels.map((l) => labelValue(s.labels, l)).join(sep);
    out.push({ labels: setLabel(s.labels, dst, val), ts: s.ts, vs: s.vs, dropName: dst === '__name__' ? false : s.dropName });
  }
  return mergeSameLabelsets(ev, out);
}

function labelValue(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return '';
}
