/**
 * The evaluator: walks the AST once for the whole query range, like Prometheus's `evaluator`.
 * Every node yields its values at all steps (`start`, `start+interval`, …, `end`); an instant
 * query is the one-step case. Series data were loaded once per selector before evaluation
 * (see `engine.ts`), so evaluating a range query never goes back to storage per step.
 */
import { EMPTY_LABELS, labelsGet, labelsKey, METRIC_NAME, type Labels } from '../../model/labels.js';
import type { Expr, MatrixSelector, SubqueryExpr, VectorSelector, Call, AggregateExpr, BinaryExpr } from '../parser/index.js';
import type { Annotations } from './annotations.js';
import { QueryExecutionError, QueryTimeoutError, TooManySamplesError } from './errors.js';
import type { El, EvalValue, StepSeries } from './types.js';
import { evalAggregate } from './aggregate.js';
import { evalBinary } from './binop.js';
import { evalCall, evalRangeCall, isStreamableRangeCall } from './call.js';
import { dropMetadata, onlyNameMetadata } from './labels-util.js';
import { mergeSameLabelsets } from './result.js';
import { isRangeCall, unwrapParens } from './ast-util.js';
import { SampleBuffer, type LoadedSeries } from './samples.js';
import { refillAt, refillEnd } from './refill.js';
import { SelectorStepper } from './selector-steps.js';

export type { LoadedSeries } from './samples.js';

/** State shared by the evaluators of one query (the top level and its subqueries). */
export interface QueryContext {
  readonly query: string;
  readonly annos: Annotations;
  readonly data: ReadonlyMap<VectorSelector, LoadedSeries[]>;
  readonly lookbackMs: number;
  readonly noStepSubqueryIntervalMs: number;
  readonly maxSamples: number;
  readonly signal: AbortSignal;
  /** Date.now() limit; checked synchronously because timers cannot fire during evaluation. */
  readonly deadline: number;
  /** The query's own start/end, for `@ start()`/`@ end()`. */
  readonly queryStart: number;
  readonly queryEnd: number;
  /** The range query's step (0 for instant queries), for `step()`. */
  readonly queryStep: number;
  currentSamples: number;
  /** Loop iterations since the last abort check. */
  ticks: number;
  /** Date.now() when evaluation last yielded to the event loop. */
  lastYield: number;
  /**
   * Prometheus's `promql-delayed-name-removal`: keep `__name__` on series marked for dropping
   * until the end. Off (Prometheus's default) drops it as soon as a node produces the series.
   */
  readonly delayedNameRemoval: boolean;
}

/** Receives series one at a time; the series is only valid during the call. */
export type SeriesSink = (s: StepSeries) => void;
/** Evaluates an expression, handing its series to `sink` instead of returning them. */
export type SeriesStream = (sink: SeriesSink) => Promise<void>;

/** How long evaluation may hold the event loop before yielding. */
const YIELD_EVERY_MS = 20;

export class Evaluator {
  readonly numSteps: number;

  constructor(
    readonly q: QueryContext,
    readonly start: number,
    readonly end: number,
    /** Milliseconds between steps; 1 for instant evaluation (Prometheus does the same). */
    readonly interval: number,
  ) {
    this.numSteps = end < start ? 0 : Math.floor((end - start) / interval) + 1;
  }

  get isInstant(): boolean {
    return this.start === this.end;
  }

  stepTime(i: number): number {
    return this.start + i * this.interval;
  }

  #allSteps: number[] | undefined;

  /**
   * Every step time, shared as the `ts` of all output series that have a point at every step
   * (the common case for selectors and range functions), instead of one identical array per
   * series. Safe because no node mutates the `ts` of a series once produced.
   */
  allSteps(): number[] {
    if (this.#allSteps === undefined) {
      const a: number[] = [];
      for (let i = 0; i < this.numSteps; i++) a.push(this.start + i * this.interval);
      this.#allSteps = a;
    }
    return this.#allSteps;
  }

  /** Throws the abort reason (timeout or cancellation) if the query was stopped. */
  checkAbort(): void {
    if (this.q.signal.aborted) throw this.q.signal.reason;
    if (Date.now() > this.q.deadline) throw new QueryTimeoutError('expression evaluation');
  }

  /** True when evaluation has held the event loop long enough that it should let others run. */
  dueForYield(): boolean {
    return Date.now() - this.q.lastYield >= YIELD_EVERY_MS;
  }

  /**
   * Lets the event loop run (timers, I/O, the caller's abort), then checks for abort. Loops call
   * it when {@link dueForYield} says so, so a long query neither blocks the process nor misses a
   * cancellation.
   */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.q.lastYield = Date.now();
    this.checkAbort();
  }

  /** Cheap periodic abort check for hot loops. */
  tick(): void {
    if (++this.q.ticks >= 4096) {
      this.q.ticks = 0;
      this.checkAbort();
    }
  }

  addSamples(n: number): void {
    this.q.currentSamples += n;
    if (this.q.currentSamples > this.q.maxSamples) throw new TooManySamplesError();
  }

  releaseSamples(n: number): void {
    this.q.currentSamples -= n;
  }

  error(msg: string): never {
    throw new QueryExecutionError(msg);
  }

  resolveAt(at: VectorSelector['at']): number | undefined {
    if (at === undefined) return undefined;
    if (at === 'start') return this.q.queryStart;
    if (at === 'end') return this.q.queryEnd;
    return at;
  }

  /**
   * Evaluates a node. Samples of its children count towards the limit only while it runs; once
   * it returns, only its own result is held (as Prometheus resets `currentSamples`).
   */
  async eval(e: Expr): Promise<EvalValue> {
    const before = this.q.currentSamples;
    const v = await this.#evalNode(e);
    let held = 0;
    if (v.kind === 'vector' || v.kind === 'matrix') for (const s of v.series) held += s.ts.length;
    else if (v.kind === 'scalar') held = v.values.length;
    this.q.currentSamples = before;
    this.addSamples(held);
    return v;
  }

  async #evalNode(e: Expr): Promise<EvalValue> {
    if (this.dueForYield()) await this.pause();
    this.checkAbort();
    switch (e.kind) {
      case 'NumberLiteral':
        return { kind: 'scalar', values: new Float64Array(this.numSteps).fill(e.val) };
      case 'StringLiteral':
        return { kind: 'string', value: e.val };
      case 'ParenExpr':
        return this.eval(e.expr);
      case 'UnaryExpr':
        return this.evalUnary(e.op, e.expr);
      case 'VectorSelector':
        return { kind: 'vector', series: await this.evalVectorSelector(e, false) };
      case 'MatrixSelector':
        return { kind: 'matrix', series: this.matrixSelectorSeries(e) };
      case 'SubqueryExpr':
        return { kind: 'matrix', series: (await this.evalSubqueryRaw(e)).series };
      case 'Call':
        return this.#dropNamesNow(await evalCall(this, e as Call), isRangeCall(e as Call));
      case 'AggregateExpr':
        return evalAggregate(this, e as AggregateExpr);
      case 'BinaryExpr':
        return this.#dropNamesNow(await evalBinary(this, e as BinaryExpr), false);
    }
  }

  /**
   * Without delayed name removal, names are dropped where a node produces its series; series
   * that then coincide are merged, or are an error where they collide (for range-vector
   * functions any coincidence is, as in Prometheus).
   */
  #dropNamesNow(v: EvalValue, strict: boolean): EvalValue {
    if (this.q.delayedNameRemoval || v.kind !== 'vector') return v;
    let any = false;
    // Series that all lose just `__name__`, the same name for all, stay as distinct as they were
    // (the usual case: a function of one metric), so they need no keys to look for coincidences.
    let distinct = true;
    let name: string | undefined;
    for (const s of v.series) {
      if (s.dropName) {
        if (distinct) {
          if (!onlyNameMetadata(s.labels)) distinct = false;
          else {
            const n = labelsGet(s.labels, METRIC_NAME);
            if (name === undefined) name = n;
            else if (n !== name) distinct = false;
          }
        }
        s.labels = dropMetadata(s.labels);
        s.dropName = false;
        any = true;
      } else distinct = false;
    }
    if (!any || distinct) return v;
    if (strict) {
      const seen = new Set<string>();
      for (const s of v.series) {
        const k = labelsKey(s.labels);
        if (seen.has(k)) this.error('vector cannot contain metrics with the same labelset');
        seen.add(k);
      }
      return v;
    }
    return { kind: 'vector', series: mergeSameLabelsets(this, v.series) };
  }

  async evalUnary(op: '+' | '-', inner: Expr): Promise<EvalValue> {
    const v = await this.eval(inner);
    if (op === '+') return v;
    if (v.kind === 'scalar') {
      const out = new Float64Array(v.values.length);
      for (let i = 0; i < out.length; i++) out[i] = -v.values[i]!;
      return { kind: 'scalar', values: out };
    }
    if (v.kind === 'vector') {
      for (const s of v.series) {
        s.dropName = true;
        const vs = s.vs;
        for (let i = 0; i < vs.length; i++) vs[i] = -vs[i]!;
      }
      return this.#dropNamesNow(v, false);
    }
    this.error('unary minus on a non-numeric value');
  }

  /**
   * Instant vector selector: at each step the newest sample within the lookback window
   * `(t - lookback, t]`, unless it is a stale marker. With `timestampValues` the value is the
   * sample's timestamp in seconds (for `timestamp(selector)`).
   */
  async evalVectorSelector(vs: VectorSelector, timestampValues: boolean, sink?: SeriesSink): Promise<StepSeries[]> {
    const data = this.q.data.get(vs) ?? [];
    const at = this.resolveAt(vs.at);
    const offset = vs.originalOffset;
    const lookback = this.q.lookbackMs;
    const out: StepSeries[] = [];
    const n = this.numSteps;
    const allSteps = this.allSteps();
    const buf = new SampleBuffer();
    const vbuf: number[] = [];
    const stepper = new SelectorStepper(n, this.start, this.interval, at, offset, lookback, timestampValues, allSteps);
    for (const s of data) {
      if (this.dueForYield()) await this.pause();
      this.tick();
      buf.read(s);
      // Values go to a refilled buffer (see `refill.ts`); a sink consumes each series at once,
      // anything else gets an exact-size copy rather than an array grown push by push.
      const k = stepper.run(buf.ts, buf.vs, buf.n, vbuf);
      if (k > 0) {
        refillEnd(vbuf, k);
        const ts = stepper.ts ?? allSteps;
        this.addSamples(ts.length);
        const series: StepSeries = { labels: s.labels, ts, vs: sink !== undefined ? vbuf : vbuf.slice(), dropName: false };
        if (sink !== undefined) sink(series);
        else out.push(series);
      }
    }
    return out;
  }

  /**
   * The series of `e` one at a time, for a consumer that folds them as they come (aggregations):
   * a selector, or a range function of one range selector. Returns undefined for any other
   * expression. Each series handed to the sink is valid only during the call. Everything else is
   * as `eval` would have it: the same series, names dropped the same way, samples counted alike.
   *
   * `nameBlind`: the consumer's grouping never reads `__name__` (`by` without it, or `without`,
   * which drops it anyway). Then a series of a range function whose only metadata label is
   * `__name__` is handed over with it, which groups and labels its output exactly as the name-less
   * copy would, without making that copy for every series.
   */
  streamSeries(e: Expr, nameBlind = false): SeriesStream | undefined {
    const u = unwrapParens(e);
    if (u.kind === 'VectorSelector') {
      return async (sink) => {
        if (this.dueForYield()) await this.pause();
        this.checkAbort();
        await this.evalVectorSelector(u, false, sink);
      };
    }
    if (u.kind !== 'Call' || !isStreamableRangeCall(u)) return undefined;
    return async (sink) => {
      if (this.dueForYield()) await this.pause();
      this.checkAbort();
      if (this.q.delayedNameRemoval) {
        await evalRangeCall(this, u, 0, sink);
        return;
      }
      // As `#dropNamesNow` in strict mode: names go now, and a collision is an error (raised once
      // the whole input is evaluated, as there). Series of one metric name that lose just that
      // label cannot collide, which spares building keys in the common case.
      const sel = (unwrapParens(u.args[0]!) as MatrixSelector).vectorSelector;
      const oneName = sel.matchers.some((m) => m.name === '__name__' && m.type === '=' && m.value !== '');
      const labelSets: Labels[] = [];
      let dropped = false;
      let mayCollide = !oneName;
      await evalRangeCall(this, u, 0, (s) => {
        if (s.dropName && oneName && nameBlind && onlyNameMetadata(s.labels)) {
          // Cannot collide with another such series; kept for the check below in case others can.
          s.dropName = false;
          dropped = true;
          labelSets.push(s.labels);
          sink(s);
          return;
        }
        if (s.dropName) {
          const before = s.labels.length;
          s.labels = dropMetadata(s.labels);
          s.dropName = false;
          dropped = true;
          if (s.labels.length !== before - 1) mayCollide = true;
        }
        labelSets.push(s.labels);
        sink(s);
      });
      if (!dropped || !mayCollide) return;
      const keys = new Set<string>();
      for (const ls of labelSets) {
        const k = labelsKey(dropMetadata(ls));
        if (keys.has(k)) this.error('vector cannot contain metrics with the same labelset');
        keys.add(k);
      }
    };
  }

  /**
   * A range selector evaluated as a value (only possible for instant queries): the samples in
   * `(t - range, t]` of each series.
   */
  matrixSelectorSeries(ms: MatrixSelector): StepSeries[] {
    const vs = ms.vectorSelector;
    const at = this.resolveAt(vs.at);
    const ref = (at ?? this.start) - vs.originalOffset;
    const out: StepSeries[] = [];
    const c = new SampleBuffer();
    for (const s of this.q.data.get(vs) ?? []) {
      c.readClean(s);
      const ts: number[] = [];
      const vals: number[] = [];
      for (let i = 0; i < c.n; i++) {
        const t = c.ts[i]!;
        if (t > ref - ms.range && t <= ref) {
          ts.push(t);
          vals.push(c.vs[i]!);
        }
      }
      if (ts.length > 0) {
        this.addSamples(ts.length);
        out.push({ labels: s.labels, ts, vs: vals, dropName: false });
      }
    }
    return out;
  }

  /**
   * The time range and step of a subquery's inner evaluation: steps are absolute multiples of the
   * subquery step, the first one strictly after `start - offset - range`.
   */
  subqueryTimes(e: SubqueryExpr): { start: number; end: number; interval: number } {
    const interval = e.step !== undefined && e.step !== 0 ? e.step : this.q.noStepSubqueryIntervalMs;
    const at = this.resolveAt(e.at);
    const outerStart = at ?? this.start;
    let outerEnd = at ?? this.end;
    if (at === undefined && this.interval > 0) outerEnd = this.start + Math.floor((this.end - this.start) / this.interval) * this.interval;
    const offset = e.originalOffset;
    const lowest = outerStart - offset - e.range;
    let start = interval * Math.trunc(lowest / interval);
    if (start <= lowest) start += interval;
    return { start, end: outerEnd - offset, interval };
  }

  /** Evaluates a subquery's inner expression at its own steps; the result is a raw range vector. */
  async evalSubqueryRaw(e: SubqueryExpr): Promise<{ series: StepSeries[] }> {
    const { start, end, interval } = this.subqueryTimes(e);
    const child = new Evaluator(this.q, start, end, interval);
    const v = await child.eval(e.expr);
    if (v.kind === 'scalar') {
      const ts: number[] = [];
      const vs: number[] = [];
      for (let i = 0; i < child.numSteps; i++) {
        ts.push(child.stepTime(i));
        vs.push(v.values[i]!);
      }
      return { series: ts.length > 0 ? [{ labels: EMPTY_LABELS, ts, vs, dropName: false }] : [] };
    }
    if (v.kind !== 'vector') this.error('subquery over a non-vector expression');
    return { series: v.series };
  }

  /**
   * Gathers the input vectors of each step and calls `fn`, assembling the outputs into series
   * (Prometheus's `rangeEval`). For one-step evaluation the output order is kept, so `sort` and
   * `topk` results stay ordered. Two outputs with the same labels at one step are an error.
   * The returned elements are read before the next call, so callbacks may recycle them.
   */
  async rangeEval(inputs: readonly StepSeries[][], fn: (vectors: El[][], ts: number, step: number) => El[]): Promise<StepSeries[]> {
    const cursors = inputs.map((m) => new Int32Array(m.length));
    const els = inputs.map((m) => m.map((s, sid): El => ({ labels: s.labels, v: 0, t: 0, dropName: s.dropName, sid })));
    const vectors: El[][] = inputs.map(() => []);
    const out: StepSeries[] = [];
    const byIdentity = new Map<Labels, { s: StepSeries; last: number }>();
    const byKey = new Map<string, { s: StepSeries; last: number }>();
    for (let step = 0; step < this.numSteps; step++) {
      if (this.dueForYield()) await this.pause();
      this.checkAbort();
      const ts = this.stepTime(step);
      for (let a = 0; a < inputs.length; a++) {
        const m = inputs[a]!;
        const cur = cursors[a]!;
        const vec = vectors[a]!;
        let k = 0;
        const e = els[a]!;
        for (let i = 0; i < m.length; i++) {
          const s = m[i]!;
          const c = cur[i]!;
          if (c < s.ts.length && s.ts[c] === ts) {
            const el = e[i]!;
            el.v = s.vs[c]!;
            el.t = ts;
            refillAt(vec, k++, el);
            cur[i] = c + 1;
          }
        }
        refillEnd(vec, k);
      }
      const res = fn(vectors, ts, step);
      if (this.isInstant) {
        // Duplicates are only an error once names are dropped (delayed name removal), so the
        // final result assembly checks them.
        for (const el of res) out.push({ labels: el.labels, ts: [ts], vs: [el.v], dropName: el.dropName });
        this.addSamples(res.length);
        return out;
      }
      this.addSamples(res.length);
      for (const el of res) {
        let slot = byIdentity.get(el.labels);
        if (!slot) {
          const k = labelsKey(el.labels);
          slot = byKey.get(k);
          if (!slot) {
            slot = { s: { labels: el.labels, ts: [], vs: [], dropName: el.dropName }, last: NaN };
            byKey.set(k, slot);
            out.push(slot.s);
          }
          byIdentity.set(el.labels, slot);
        }
        if (slot.last === ts) this.error('vector cannot contain metrics with the same labelset');
        slot.last = ts;
        slot.s.ts.push(ts);
        slot.s.vs.push(el.v);
      }
    }
    return out;
  }

  /** Scalar value array of a scalar-typed expression. */
  async scalarValues(e: Expr): Promise<Float64Array> {
    const v = await this.eval(e);
    if (v.kind !== 'scalar') this.error(`expected scalar, got ${v.kind}`);
    return v.values;
  }

  /** Step matrix of an instant-vector expression. */
  async vectorSeries(e: Expr): Promise<StepSeries[]> {
    const v = await this.eval(e);
    if (v.kind !== 'vector') this.error(`expected instant vector, got ${v.kind}`);
    return v.series;
  }
}
