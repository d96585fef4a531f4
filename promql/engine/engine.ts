/**
 * The PromQL engine: query admission (concurrency gate, timeout, cancellation), loading the
 * series of every selector once for the whole query range, evaluation, and shaping the result
 * like Prometheus's API expects it.
 */
import { labelsCompare } from '../../model/labels.js';
import type { Queryable, Querier } from '../../storage/metrics/interface.js';
import type { Expr, VectorSelector } from '../parser/index.js';
import { parseExpr, typeOf } from '../parser/index.js';
import { Annotations } from './annotations.js';
import { QueryCanceledError, QueryTimeoutError, QueryTypeError, StorageError } from './errors.js';
import { Evaluator, type QueryContext } from './evaluator.js';
import { loadedSeries, type LoadedSeries } from './samples.js';
import { cleanupNames } from './result.js';
import type { EvalValue } from './types.js';
import type { MatrixSeries, QueryResult, QueryValue, VectorSample } from './values.js';

export interface EngineOptions {
  /** Per-query time limit in ms (default 2 minutes, as Prometheus). */
  readonly timeoutMs?: number;
  /** Most samples a query may hold in memory at once (default 50 million, as Prometheus). */
  readonly maxSamples?: number;
  /** How far back an instant selector looks for a sample (default 5 minutes). */
  readonly lookbackDeltaMs?: number;
  /** Queries evaluated at once; further ones wait their turn (default 20). */
  readonly maxConcurrent?: number;
  /** Step of subqueries written without one, `[1h:]` (default 1 minute). */
  readonly noStepSubqueryIntervalMs?: number;
  /**
   * Prometheus's `--enable-feature=promql-delayed-name-removal` (default off, as in Prometheus;
   * promqltest runs with it on).
   */
  readonly delayedNameRemoval?: boolean;
}

export interface QueryOptions {
  /** Aborting it cancels the query with a `QueryCanceledError`. */
  readonly signal?: AbortSignal;
  /** A shorter timeout for this query (the API's `timeout` parameter); never longer than the engine's. */
  readonly timeoutMs?: number;
}

/** Counting semaphore with a FIFO queue; waiting is abortable. */
class Gate {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.#active < this.limit) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(signal.reason);
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.#active++;
        resolve();
      };
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  release(): void {
    this.#active--;
    const next = this.#waiting.shift();
    if (next) next();
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }
}

export class Engine {
  readonly timeoutMs: number;
  readonly maxSamples: number;
  readonly lookbackDeltaMs: number;
  readonly maxConcurrent: number;
  readonly noStepSubqueryIntervalMs: number;
  readonly delayedNameRemoval: boolean;
  readonly #gate: Gate;

  constructor(opts: EngineOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.lookbackDeltaMs = opts.lookbackDeltaMs ?? 5 * 60_000;
    this.maxConcurrent = opts.maxConcurrent ?? 20;
    this.noStepSubqueryIntervalMs = opts.noStepSubqueryIntervalMs ?? 60_000;
    this.delayedNameRemoval = opts.delayedNameRemoval ?? false;
    this.#gate = new Gate(this.maxConcurrent);
  }

  /** Queries running now and waiting for a slot. */
  get load(): { active: number; queued: number } {
    return { active: this.#gate.active, queued: this.#gate.queued };
  }

  /** Evaluates `expr` at `tsMs`. Throws `ParseError` for invalid text. */
  instantQuery(queryable: Queryable, expr: string | Expr, tsMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return this.#run(queryable, expr, tsMs, tsMs, 0, opts);
  }

  /** Evaluates `expr` at `startMs`, `startMs + stepMs`, … up to `endMs`. */
  rangeQuery(queryable: Queryable, expr: string | Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    if (!(stepMs > 0)) throw new RangeError('range query step must be positive');
    if (endMs < startMs) throw new RangeError('range query end must not be before start');
    return this.#run(queryable, expr, startMs, endMs, stepMs, opts);
  }

  async #run(queryable: Queryable, exprIn: string | Expr, start: number, end: number, step: number, opts: QueryOptions): Promise<QueryResult> {
    const query = typeof exprIn === 'string' ? exprIn : '';
    const expr = typeof exprIn === 'string' ? parseExpr(exprIn) : exprIn;
    const isRange = step > 0;
    const type = typeOf(expr);
    if (isRange && type !== 'scalar' && type !== 'vector') {
      throw new QueryTypeError(`invalid expression type "${type === 'matrix' ? 'range vector' : type}" for range query, must be Scalar or instant Vector`);
    }
    const controller = new AbortController();
    const timeoutMs = Math.min(opts.timeoutMs ?? this.timeoutMs, this.timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const timer = setTimeout(() => controller.abort(new QueryTimeoutError('expression evaluation')), timeoutMs);
    const onCallerAbort = (): void => controller.abort(new QueryCanceledError('expression evaluation'));
    if (opts.signal?.aborted) onCallerAbort();
    opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      await this.#gate.acquire(controller.signal);
      try {
        return await this.#exec(queryable, expr, query, start, end, step, controller.signal, deadline);
      } finally {
        this.#gate.release();
      }
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  async #exec(
    queryable: Queryable,
    expr: Expr,
    query: string,
    start: number,
    end: number,
    step: number,
    signal: AbortSignal,
    deadline: number,
  ): Promise<QueryResult> {
    const ranges = selectorRanges(expr, start, end, this.lookbackDeltaMs);
    // Samples are decoded as nodes consume them (see `samples.ts`), so the querier stays open
    // until evaluation is done.
    const querier = ranges.size === 0 ? undefined : await this.#open(queryable, ranges, signal);
    try {
      const data = querier === undefined ? new Map<VectorSelector, LoadedSeries[]>() : await this.#select(querier, ranges, step, signal);
      const q: QueryContext = {
        query,
        annos: new Annotations(query),
        data,
        lookbackMs: this.lookbackDeltaMs,
        noStepSubqueryIntervalMs: this.noStepSubqueryIntervalMs,
        maxSamples: this.maxSamples,
        signal,
        deadline,
        queryStart: start,
        queryEnd: end,
        queryStep: step,
        currentSamples: 0,
        ticks: 0,
        lastYield: Date.now(),
        delayedNameRemoval: this.delayedNameRemoval,
      };
      const ev = new Evaluator(q, start, end, step > 0 ? step : 1);
      const v = await ev.eval(expr);
      const value = shape(ev, v, step > 0);
      return { value, warnings: q.annos.warnings, infos: q.annos.infos };
    } finally {
      await querier?.close();
    }
  }

  /** One querier over the union of every selector's range. */
  async #open(queryable: Queryable, ranges: Map<VectorSelector, [number, number]>, signal: AbortSignal): Promise<Querier> {
    let mint = Infinity;
    let maxt = -Infinity;
    for (const [lo, hi] of ranges.values()) {
      mint = Math.min(mint, lo);
      maxt = Math.max(maxt, hi);
    }
    signal.throwIfAborted();
    try {
      return await queryable.querier(mint, maxt);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw new StorageError(`opening querier: ${(err as Error).message}`, { cause: err });
    }
  }

  async #select(querier: Querier, ranges: Map<VectorSelector, [number, number]>, step: number, signal: AbortSignal): Promise<Map<VectorSelector, LoadedSeries[]>> {
    const data = new Map<VectorSelector, LoadedSeries[]>();
    await Promise.all(
      [...ranges].map(async ([vs, [lo, hi]]) => {
        let series;
        try {
          // Like Prometheus's engine, evaluation needs no label order: range results are sorted
          // once at the end (see `shape`), so storage is spared sorting every selector's series.
          series = await querier.select(vs.matchers, { start: lo, end: hi, ...(step > 0 ? { step } : {}), sortSeries: false }, signal);
        } catch (err) {
          if (signal.aborted) throw signal.reason;
          throw new StorageError(`expanding series: ${(err as Error).message}`, { cause: err });
        }
        data.set(vs, series.map((s) => loadedSeries(s, lo, hi)));
      }),
    );
    signal.throwIfAborted();
    return data;
  }
}

/** The time range each selector must load, covering lookback, ranges, offsets, `@` and subqueries. */
export function selectorRanges(expr: Expr, start: number, end: number, lookback: number): Map<VectorSelector, [number, number]> {
  const out = new Map<VectorSelector, [number, number]>();
  const resolve = (at: VectorSelector['at']): number | undefined => (at === undefined ? undefined : at === 'start' ? start : at === 'end' ? end : at);
  const add = (vs: VectorSelector, lo: number, hi: number): void => {
    const cur = out.get(vs);
    out.set(vs, cur ? [Math.min(cur[0], lo), Math.max(cur[1], hi)] : [lo, hi]);
  };
  const walk = (e: Expr, s: number, en: number): void => {
    switch (e.kind) {
      case 'VectorSelector': {
        const at = resolve(e.at);
        const lo = (at ?? s) - e.originalOffset - lookback;
        const hi = (at ?? en) - e.originalOffset;
        add(e, lo, hi);
        return;
      }
      case 'MatrixSelector': {
        const vs = e.vectorSelector;
        const at = resolve(vs.at);
        add(vs, (at ?? s) - vs.originalOffset - e.range, (at ?? en) - vs.originalOffset);
        return;
      }
      case 'SubqueryExpr': {
        const at = resolve(e.at);
        walk(e.expr, (at ?? s) - e.originalOffset - e.range, (at ?? en) - e.originalOffset);
        return;
      }
      case 'ParenExpr':
      case 'UnaryExpr':
        walk(e.expr, s, en);
        return;
      case 'BinaryExpr':
        walk(e.lhs, s, en);
        walk(e.rhs, s, en);
        return;
      case 'AggregateExpr':
        walk(e.expr, s, en);
        if (e.param) walk(e.param, s, en);
        return;
      case 'Call':
        for (const a of e.args) walk(a, s, en);
        return;
      case 'NumberLiteral':
      case 'StringLiteral':
        return;
    }
  };
  walk(expr, start, end);
  return out;
}

function shape(ev: Evaluator, v: EvalValue, isRange: boolean): QueryValue {
  switch (v.kind) {
    case 'string':
      return { type: 'string', t: ev.start, v: v.value };
    case 'scalar':
      if (!isRange) return { type: 'scalar', t: ev.start, v: v.values[0] ?? NaN };
      return {
        type: 'matrix',
        series: [{ labels: [], samples: Array.from(v.values, (val, i) => ({ t: ev.stepTime(i), v: val })) }],
      };
    case 'matrix': {
      // A range vector result (instant queries only) is listed in label order, as it was when
      // selectors returned sorted series.
      const series = cleanupNames(ev, v.series).sort((a, b) => labelsCompare(a.labels, b.labels));
      return { type: 'matrix', series: series.map((s) => toMatrixSeries(s.labels, s.ts, s.vs)) };
    }
    case 'vector': {
      const series = cleanupNames(ev, v.series);
      if (!isRange) {
        const samples: VectorSample[] = series.map((s) => ({ labels: s.labels, t: s.ts[0]!, v: s.vs[0]! }));
        return { type: 'vector', samples };
      }
      series.sort((a, b) => labelsCompare(a.labels, b.labels));
      return { type: 'matrix', series: series.map((s) => toMatrixSeries(s.labels, s.ts, s.vs)) };
    }
  }
}

function toMatrixSeries(labels: MatrixSeries['labels'], ts: number[], vs: number[]): MatrixSeries {
  const samples = new Array<{ t: number; v: number }>(ts.length);
  for (let i = 0; i < ts.length; i++) samples[i] = { t: ts[i]!, v: vs[i]! };
  return { labels, samples };
}
