import { describe, expect, it } from 'vitest';
import { labelsFromRecord, labelsToString, type Labels } from '../../model/labels.js';
import type { Queryable, Querier, Series } from '../../storage/metrics/interface.js';
import { Engine, type EngineOptions } from './engine.js';
import { QueryCanceledError, QueryExecutionError, QueryTimeoutError, QueryTypeError, StorageError, TooManySamplesError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import { STALE_NAN, isStaleNaN } from '../../model/stale.js';
import type { QueryValue } from './values.js';

const S = 1000;
const M = 60 * S;

function storage(series: Record<string, [number, number][]>): MemoryStorage {
  const st = new MemoryStorage();
  for (const [text, points] of Object.entries(series)) {
    const m = /^(\w+)(?:\{(.*)\})?$/.exec(text)!;
    const rec: Record<string, string> = { __name__: m[1]! };
    for (const part of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = part.split('=');
      rec[k!.trim()] = v!.trim().replace(/^"|"$/g, '');
    }
    const ls = labelsFromRecord(rec);
    for (const [t, v] of points) st.add(ls, t, v);
  }
  return st;
}

/** `{labels} value` lines of an instant vector, sorted. */
function vec(v: QueryValue): string[] {
  if (v.type !== 'vector') throw new Error(`expected vector, got ${v.type}`);
  return v.samples.map((s) => `${labelsToString(s.labels)} ${s.v}`).sort();
}

function engine(opts: EngineOptions = {}): Engine {
  return new Engine(opts);
}

describe('stale markers', () => {
  it('keeps the payload and tells it from other NaNs', () => {
    expect(isStaleNaN(STALE_NAN)).toBe(true);
    expect(isStaleNaN(NaN)).toBe(false);
    expect(isStaleNaN(0)).toBe(false);
    const arr = [1.5];
    arr.push(STALE_NAN);
    expect(isStaleNaN(arr[1]!)).toBe(true);
  });
});

describe('rate extrapolation', () => {
  it('extrapolates to the window start by at most the threshold', async () => {
    // 0, 10, 20, … every 15s.
    const pts: [number, number][] = [];
    for (let i = 0; i <= 20; i++) pts.push([i * 15 * S, i * 10]);
    const st = storage({ x_total: pts });
    const r = await engine().instantQuery(st, 'rate(x_total[1m])', 120 * S);
    expect(vec(r.value)).toEqual([`{} ${10 / 15}`]);
    const inc = await engine().instantQuery(st, 'increase(x_total[1m])', 120 * S);
    expect(r.warnings).toEqual([]);
    expect(vec(inc.value)[0]).toMatch(/^\{\} 40(\.0+\d*)?$/);
  });

  it('does not extrapolate a counter below zero', async () => {
    const st = storage({ c_total: [[30 * S, 2], [45 * S, 15], [60 * S, 25]] });
    const r = await engine().instantQuery(st, 'increase(c_total[1m])', 60 * S);
    const v = r.value.type === 'vector' ? r.value.samples[0]!.v : NaN;
    // Zero point 2.6s before the first sample, closer than half an interval (7.5s).
    expect(v).toBeCloseTo(23 * (30 + 30 * (2 / 23)) / 30, 10);
  });

  it('corrects counter resets and needs two samples', async () => {
    const st = storage({ r_total: [[0, 10], [15 * S, 20], [30 * S, 5], [45 * S, 15]] });
    const r = await engine().instantQuery(st, 'increase(r_total[45s])', 45 * S);
    // Window (0s, 45s]: 20, 5, 15 → 15 - 20 + 20 (reset) = 15 over 30s of samples, extrapolated
    // by 15s to the window start (below the 16.5s threshold): 15 * 45/30.
    expect(vec(r.value)).toEqual(['{} 22.5']);
    const one = await engine().instantQuery(st, 'rate(r_total[10s])', 45 * S);
    expect(vec(one.value)).toEqual([]);
  });

  it('adds an info for metric names that do not look like counters', async () => {
    const st = storage({ temp: [[0, 1], [60 * S, 2]] });
    const r = await engine().instantQuery(st, 'rate(temp[5m])', 60 * S);
    expect(r.infos).toEqual(['PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "temp" (1:6)']);
  });

  it('adds that info once for every such metric name, whatever the order of series', async () => {
    const st = storage({
      'a{i="1"}': [[0, 1], [60 * S, 2]],
      'a{i="2"}': [[0, 1], [60 * S, 2]],
      'b_total{i="3"}': [[0, 1], [60 * S, 2]],
      'c{i="4"}': [[0, 1], [60 * S, 2]],
      'c{i="5"}': [[0, 1], [60 * S, 2]],
    });
    for (const fn of ['rate', 'increase']) {
      const r = await engine().instantQuery(st, `sum by (i) (${fn}({__name__=~"a|b_total|c"}[5m]))`, 60 * S);
      const info = (m: string) => `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "${m}" (1:${fn.length + 14})`;
      expect([...r.infos].sort(), fn).toEqual([info('a'), info('c')]);
    }
  });
});

describe('lookback and staleness', () => {
  const st = storage({
    up: [[0, 1], [60 * S, 1], [120 * S, STALE_NAN], [300 * S, 1]],
    old: [[0, 7]],
  });

  it('stops a series at its stale marker', async () => {
    const r = await engine().rangeQuery(st, 'up', 0, 300 * S, 60 * S);
    expect(r.value.type).toBe('matrix');
    if (r.value.type !== 'matrix') return;
    expect(r.value.series[0]!.samples.map((p) => p.t / S)).toEqual([0, 60, 300]);
  });

  it('looks back 5 minutes, left-open', async () => {
    expect(vec((await engine().instantQuery(st, 'old', 5 * M - 1)).value)).toEqual(['old{} 7']);
    expect(vec((await engine().instantQuery(st, 'old', 5 * M)).value)).toEqual([]);
    expect(vec((await engine({ lookbackDeltaMs: 10 * M }).instantQuery(st, 'old', 5 * M)).value)).toEqual(['old{} 7']);
  });

  it('uses left-open range windows', async () => {
    const r = await engine().instantQuery(st, 'count_over_time(up[1m])', 60 * S);
    expect(vec(r.value)).toEqual(['{} 1']);
  });
});

describe('vector matching errors', () => {
  const st = storage({
    a: [[0, 1]],
    'b{x="1"}': [[0, 1]],
    'b{x="2"}': [[0, 2]],
  });

  it('rejects duplicates on the one side', async () => {
    await expect(engine().instantQuery(st, 'a + on() b', 0)).rejects.toThrow(
      'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="b", x="1"}, {__name__="b", x="2"}];many-to-many matching not allowed: matching labels must be unique on one side',
    );
  });

  it('requires group_left for many-to-one', async () => {
    await expect(engine().instantQuery(st, 'b + on() a', 0)).rejects.toThrow(
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
    const r = await engine().instantQuery(st, 'b + on() group_left a', 0);
    expect(vec(r.value)).toEqual(['{x="1"} 2', '{x="2"} 3']);
  });

  it('reports duplicate output series as an execution error', async () => {
    const err = await engine()
      .instantQuery(st, 'label_replace(b, "x", "same", "x", ".*")', 0)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryExecutionError);
    expect((err as Error).message).toBe('vector cannot contain metrics with the same labelset');
  });
});

describe('aggregations folded as their input is produced', () => {
  const st = storage({
    'c_total{i="1",g="a"}': [[0, 0], [60 * S, 60], [120 * S, 30], [180 * S, 90]],
    'c_total{i="2",g="a"}': [[0, 1e16], [60 * S, 1e16 + 4], [120 * S, 1e16 + 8], [180 * S, 1e16 + 12]],
    'c_total{i="3",g="b"}': [[60 * S, 5], [120 * S, 7]],
    'd_total{i="1",g="a"}': [[0, 1], [60 * S, 2], [120 * S, 3], [180 * S, 4]],
  });

  it('give what the same aggregation of the materialized input gives, at every step', async () => {
    for (const op of ['sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar']) {
      for (const inner of ['rate(c_total[2m])', 'c_total', 'max_over_time(c_total[90s])']) {
        const streamed = await engine().rangeQuery(st, `${op} by (g) (${inner})`, 0, 180 * S, 30 * S);
        // Wrapping the input in a binary operation makes it a materialized vector.
        const held = await engine().rangeQuery(st, `${op} by (g) (${inner} * 1)`, 0, 180 * S, 30 * S);
        expect(streamed.value, `${op} ${inner}`).toEqual(held.value);
      }
    }
  });

  it('group alike under every grouping, including ones that read or drop the metric name', async () => {
    for (const grouping of ['by (g)', 'by (__name__, g)', 'by (__name__)', 'without (i)', 'without (__name__)', 'by ()', 'without ()']) {
      for (const inner of ['rate(c_total[2m])', 'rate({__name__=~"c_total|d_total", g="b"}[2m])']) {
        const streamed = await engine().rangeQuery(st, `sum ${grouping} (${inner})`, 0, 180 * S, 30 * S);
        const held = await engine().rangeQuery(st, `sum ${grouping} (${inner} * 1)`, 0, 180 * S, 30 * S);
        expect(streamed.value, `${grouping} ${inner}`).toEqual(held.value);
      }
    }
  });

  it('reject a series that keeps only its name once another of the same name loses more metadata', async () => {
    const typed = storage({
      'c_total{i="1",g="a"}': [[0, 0], [60 * S, 60]],
      'c_total{i="1",g="a",__type__="counter"}': [[0, 0], [60 * S, 30]],
    });
    for (const q of ['sum by (g) (rate(c_total[2m]))', 'sum without (g) (rate(c_total[2m]))']) {
      const err = await engine()
        .instantQuery(typed, q, 60 * S)
        .catch((e: unknown) => e);
      expect(err, q).toBeInstanceOf(QueryExecutionError);
      expect((err as Error).message).toBe('vector cannot contain metrics with the same labelset');
    }
  });

  it('still reject series that collide once the metric name is dropped', async () => {
    const err = await engine()
      .instantQuery(st, 'sum(rate({__name__=~"c_total|d_total", i="1"}[2m]))', 180 * S)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryExecutionError);
    expect((err as Error).message).toBe('vector cannot contain metrics with the same labelset');
  });
});

describe('aggregations', () => {
  const st = storage({
    'v{i="1"}': [[0, 1]],
    'v{i="2"}': [[0, 5]],
    'v{i="3"}': [[0, NaN]],
    'v{i="4"}': [[0, 3]],
  });

  it('topk/bottomk order results and rank NaN last', async () => {
    const top = await engine().instantQuery(st, 'topk(3, v)', 0);
    expect(top.value.type === 'vector' && top.value.samples.map((s) => s.v)).toEqual([5, 3, 1]);
    const bottom = await engine().instantQuery(st, 'bottomk(4, v)', 0);
    const got = bottom.value.type === 'vector' ? bottom.value.samples.map((s) => s.v) : [];
    expect(got.slice(0, 3)).toEqual([1, 3, 5]);
    expect(got[3]).toBeNaN();
  });

  it('quantile interpolates and warns on bad parameters', async () => {
    const q = await engine().instantQuery(st, 'quantile(0.5, v{i!="3"})', 0);
    expect(vec(q.value)).toEqual(['{} 3']);
    const bad = await engine().instantQuery(st, 'quantile(2, v)', 0);
    expect(vec(bad.value)).toEqual(['{} Infinity']);
    expect(bad.warnings).toEqual(['PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)']);
  });
});

describe('limit_ratio', () => {
  it('splits series into complementary subsets', async () => {
    const series: Record<string, [number, number][]> = {};
    for (let i = 0; i < 50; i++) series[`s{i="${i}"}`] = [[0, i]];
    const st = storage(series);
    const a = vec((await engine().instantQuery(st, 'limit_ratio(0.3, s)', 0)).value);
    const b = vec((await engine().instantQuery(st, 'limit_ratio(-0.7, s)', 0)).value);
    expect(a.length + b.length).toBe(50);
    expect(new Set([...a, ...b]).size).toBe(50);
    expect(a.length).toBeGreaterThan(5);
    expect(a.length).toBeLessThan(30);
  });
});

describe('histogram_quantile on classic buckets', () => {
  it('interpolates within the bucket and fixes non-monotonic buckets with an info', async () => {
    const st = storage({
      'h_bucket{le="1"}': [[0, 10]],
      'h_bucket{le="2"}': [[0, 8]],
      'h_bucket{le="4"}': [[0, 20]],
      'h_bucket{le="+Inf"}': [[0, 20]],
    });
    const r = await engine().instantQuery(st, 'histogram_quantile(0.75, h_bucket)', 0);
    // Buckets become 10, 10, 20, 20: rank 15 falls halfway into (2, 4].
    expect(vec(r.value)).toEqual(['{} 3']);
    expect(r.infos).toHaveLength(1);
    expect(r.infos[0]).toMatch(/^PromQL info: input to histogram_quantile needed to be fixed for monotonicity .*from buckets 2 to 2, with a max diff of 2, over 1 samples/);
  });

  it('warns about a malformed le label', async () => {
    const st = storage({ 'h_bucket{le="x"}': [[0, 1]] });
    const r = await engine().instantQuery(st, 'histogram_quantile(0.5, h_bucket)', 0);
    expect(r.warnings).toEqual(['PromQL warning: bucket label "le" is missing or has a malformed value of "x" (1:25)']);
  });
});

describe('subqueries', () => {
  it('aligns steps to absolute multiples of the subquery step', async () => {
    const pts: [number, number][] = [];
    for (let t = 0; t <= 200; t += 10) pts.push([t * S, t]);
    const st = storage({ m: pts });
    // Window (65s, 95s]: only 80s is a multiple of 20s.
    const r = await engine().instantQuery(st, 'sum_over_time(m[30s:20s])', 95 * S);
    expect(vec(r.value)).toEqual(['{} 80']);
    // Range query: each step sees the same absolute grid.
    const rr = await engine().rangeQuery(st, 'count_over_time(m[30s:20s])', 95 * S, 105 * S, 5 * S);
    expect(rr.value.type === 'matrix' && rr.value.series[0]!.samples.map((p) => p.v)).toEqual([1, 2, 2]);
  });
});

describe('results and types', () => {
  const st = storage({ a: [[0, 1], [60 * S, 2]] });

  it('returns scalars, strings and matrices', async () => {
    expect((await engine().instantQuery(st, '1 + 2', 0)).value).toEqual({ type: 'scalar', t: 0, v: 3 });
    expect((await engine().instantQuery(st, '"x"', 5)).value).toEqual({ type: 'string', t: 5, v: 'x' });
    const m = await engine().instantQuery(st, 'a[2m]', 60 * S);
    expect(m.value.type === 'matrix' && m.value.series[0]!.samples).toEqual([
      { t: 0, v: 1 },
      { t: 60 * S, v: 2 },
    ]);
    const rs = await engine().rangeQuery(st, 'time()', 0, 2 * M, M);
    expect(rs.value.type === 'matrix' && rs.value.series[0]!.samples.map((p) => p.v)).toEqual([0, 60, 120]);
  });

  it('rejects range vectors in range queries', async () => {
    await expect(engine().rangeQuery(st, 'a[1m]', 0, M, M)).rejects.toBeInstanceOf(QueryTypeError);
  });

  it('drops metric names eagerly by default, as Prometheus without delayed name removal', async () => {
    const st2 = storage({ a_total: [[0, 1], [60 * S, 5]], b_total: [[0, 1], [60 * S, 2]] });
    const q = 'rate(a_total[2m]) > rate(b_total[2m])';
    expect(vec((await engine().instantQuery(st2, q, 60 * S)).value)[0]).toMatch(/^\{\} /);
    expect(vec((await engine({ delayedNameRemoval: true }).instantQuery(st2, q, 60 * S)).value)[0]).toMatch(/^a_total\{\} /);
  });
});

/** A Queryable whose select waits until released or aborted. */
function slowStorage(delayMs: number): Queryable & { selects: number } {
  const self = {
    selects: 0,
    async querier(): Promise<Querier> {
      return {
        async select(_m, _h, signal): Promise<Series[]> {
          self.selects++;
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, delayMs);
            signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(signal.reason);
            });
          });
          const labels: Labels = labelsFromRecord({ __name__: 'x' });
          return [{ labels, samples: () => [{ t: 0, v: 1 }] }];
        },
        async labelNames() {
          return [];
        },
        async labelValues() {
          return [];
        },
        async close() {},
      };
    },
  };
  return self;
}

describe('limits', () => {
  it('times out', async () => {
    const err = await engine({ timeoutMs: 20 })
      .instantQuery(slowStorage(5000), 'x', 0)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
  });

  it('times out during evaluation (checked synchronously)', async () => {
    const pts: [number, number][] = [];
    for (let i = 0; i < 20000; i++) pts.push([i * S, i]);
    const st = storage({ big: pts });
    const err = await engine({ timeoutMs: 1 })
      .rangeQuery(st, 'quantile_over_time(0.5, big[3h])', 0, 20000 * S, S)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
  });

  it('is canceled by the caller', async () => {
    const ac = new AbortController();
    const p = engine().instantQuery(slowStorage(5000), 'x', 0, { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    await expect(p).rejects.toBeInstanceOf(QueryCanceledError);
    const pre = new AbortController();
    pre.abort();
    await expect(engine().instantQuery(slowStorage(1), 'x', 0, { signal: pre.signal })).rejects.toBeInstanceOf(QueryCanceledError);
  });

  it('is canceled by the caller during evaluation, and lets other work run meanwhile', async () => {
    const pts: [number, number][] = [];
    for (let i = 0; i < 20000; i++) pts.push([i * S, i]);
    const st = storage({ big: pts });
    const ac = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    setTimeout(() => ac.abort(), 30);
    const err = await engine()
      .rangeQuery(st, 'quantile_over_time(0.5, big[3h])', 0, 20000 * S, S, { signal: ac.signal })
      .catch((e: unknown) => e);
    clearInterval(timer);
    expect(err).toBeInstanceOf(QueryCanceledError);
    expect(ticks).toBeGreaterThan(0);
  });

  it('limits samples in memory', async () => {
    const pts: [number, number][] = [];
    for (let i = 0; i <= 100; i++) pts.push([i * S, i]);
    const st = storage({ 'a{i="1"}': pts, 'a{i="2"}': pts });
    const e = engine({ maxSamples: 50 });
    await expect(e.rangeQuery(st, 'a', 0, 100 * S, S)).rejects.toBeInstanceOf(TooManySamplesError);
    await expect(e.instantQuery(st, 'sum(a)', 100 * S)).resolves.toBeDefined();
  });

  it('wraps storage failures', async () => {
    const broken: Queryable = {
      async querier() {
        throw new Error('disk on fire');
      },
    };
    const err = await engine()
      .instantQuery(broken, 'x', 0)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
  });

  it('queues queries beyond maxConcurrent', async () => {
    const e = engine({ maxConcurrent: 1 });
    const st = slowStorage(50);
    const order: number[] = [];
    const p1 = e.instantQuery(st, 'x', 0).then(() => order.push(1));
    const p2 = e.instantQuery(st, 'x', 0).then(() => order.push(2));
    await new Promise((r) => setTimeout(r, 10));
    expect(e.load).toEqual({ active: 1, queued: 1 });
    expect(st.selects).toBe(1);
    await Promise.all([p1, p2]);
    expect(order).toEqual([1, 2]);
    expect(e.load).toEqual({ active: 0, queued: 0 });
  });

  it('lets a queued query be canceled', async () => {
    const e = engine({ maxConcurrent: 1 });
    const st = slowStorage(50);
    const p1 = e.instantQuery(st, 'x', 0);
    const ac = new AbortController();
    const p2 = e.instantQuery(st, 'x', 0, { signal: ac.signal });
    ac.abort();
    await expect(p2).rejects.toBeInstanceOf(QueryCanceledError);
    await p1;
    expect(e.load).toEqual({ active: 0, queued: 0 });
  });
});

describe('selection', () => {
  it('selects each selector once for a whole range query', async () => {
    const st = storage({ a: [[0, 1]] });
    let selects = 0;
    const counting: Queryable = {
      async querier(mint, maxt) {
        const q = await st.querier(mint, maxt);
        return {
          ...q,
          select: (m, h, s) => {
            selects++;
            return q.select(m, h, s);
          },
          labelNames: (m) => q.labelNames(m),
          labelValues: (n, m) => q.labelValues(n, m),
          close: () => q.close(),
        };
      },
    };
    await engine().rangeQuery(counting, 'rate(a[5m]) + a', 0, 60 * M, 15 * S);
    expect(selects).toBe(2);
  });
});
