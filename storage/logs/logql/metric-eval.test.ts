/**
 * Metric queries over log records: worked examples with exact windows, rates, bytes, grouping,
 * topk and absent_over_time; scope and limits; paging through a store; and agreement with a
 * brute-force evaluation (every step, every record) on generated data.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogLevel, LogStreamName } from '../../../model/logs.js';
import type { LogSearchRequest, LogSearchResult, LogSelection, LogStore, StoredLogRecord } from '../interface.js';
import type { Grouping, MetricExpr, RangeAggregation } from './ast.js';
import { parseLogql, parseMetricQuery } from './parser.js';
import { Pipeline } from './pipeline.js';
import { evaluateMetricQuery, MetricQueryError, storeReader, type MetricQueryOptions, type MetricSeries, type RecordReader } from './metric-eval.js';
import { compileSelection } from './selection.js';

const S = 1_000_000_000n;
const MIN = 60n * S;
const T0 = 1_700_000_000n * S;

let nextId = 0;
function rec(t: bigint, message: string, o: { ns?: string; pod?: string; level?: LogLevel; stream?: LogStreamName } = {}): StoredLogRecord {
  return {
    id: `r${nextId++}`,
    timeNs: t,
    stream: o.stream ?? 'stdout',
    level: o.level ?? 'info',
    message,
    namespace: o.ns ?? 'shop',
    pod: o.pod ?? 'api-1',
    podUid: 'uid',
    container: 'app',
    restart: 0,
    node: 'n1',
    fileKey: 'fk',
    offset: 0,
  };
}

/** Reads from an array the way a store must: exactly the selection, in batches of 3. */
function arrayReader(records: readonly StoredLogRecord[], seen: LogSelection[] = []): RecordReader {
  return async function* (selection) {
    seen.push(selection);
    const matches = compileSelection(selection);
    const hits = records.filter(matches);
    for (let i = 0; i < hits.length; i += 3) yield hits.slice(i, i + 3);
  };
}

const range = (startNs: bigint, endNs: bigint, stepNs: bigint, extra: Partial<MetricQueryOptions> = {}): MetricQueryOptions => ({
  startNs,
  endNs,
  stepNs,
  namespaces: 'all',
  ...extra,
});

/** Series as `labels → [minutes after T0, value][]` for compact expectations. */
function compact(series: readonly MetricSeries[]): Array<[Record<string, string>, Array<[number, number]>]> {
  return series.map((s) => [s.labels, s.points.map((p) => [Number((p.timeNs - T0) / MIN), p.value])]);
}

const SHOP = { container: 'app', namespace: 'shop', node: 'n1', stream: 'stdout' };

describe('range aggregations', () => {
  // Lines at T0+30s, +90s, +150s (api-1, info) and T0+100s (api-2, error).
  const records = [
    rec(T0 + 30n * S, 'GET /a'),
    rec(T0 + 90n * S, 'GET /bé'),
    rec(T0 + 150n * S, 'POST /c'),
    rec(T0 + 100n * S, 'GET /d', { pod: 'api-2', level: 'error' }),
    rec(T0 + 100n * S, 'other', { ns: 'billing' }),
  ];
  const api1 = { ...SHOP, pod: 'api-1', level: 'info' };
  const api2 = { ...SHOP, pod: 'api-2', level: 'error' };

  it('count_over_time counts lines in (t - range, t] at each step; empty steps have no point', async () => {
    const got = await evaluateMetricQuery(parseLogql('count_over_time({namespace="shop"}[1m])'), range(T0, T0 + 4n * MIN, MIN), arrayReader(records));
    expect(compact(got)).toEqual([
      [api2, [[2, 1]]],
      [api1, [[1, 1], [2, 1], [3, 1]]],
    ]);
  });

  it('the window is open at the start and closed at the end', async () => {
    const edge = [rec(T0, 'at t0'), rec(T0 + MIN, 'at t1')];
    const got = await evaluateMetricQuery(parseLogql('count_over_time({namespace="shop"}[1m])'), range(T0, T0 + 2n * MIN, MIN), arrayReader(edge));
    expect(compact(got)).toEqual([[api1, [[0, 1], [1, 1]]]]);
  });

  it('rate divides by the range in seconds; a line filter applies', async () => {
    const got = await evaluateMetricQuery(parseLogql('rate({namespace="shop"} |= "GET" [2m])'), range(T0 + 2n * MIN, T0 + 2n * MIN, MIN), arrayReader(records));
    expect(compact(got)).toEqual([
      [api2, [[2, 1 / 120]]],
      [api1, [[2, 2 / 120]]],
    ]);
  });

  it('bytes_over_time and bytes_rate count UTF-8 bytes of the line after the pipeline', async () => {
    const q = 'bytes_over_time({namespace="shop", pod="api-1"}[3m])';
    expect(compact(await evaluateMetricQuery(parseLogql(q), range(T0 + 3n * MIN, T0 + 3n * MIN, MIN), arrayReader(records)))).toEqual([
      [api1, [[3, 6 + 8 + 7]]],
    ]);
    const formatted = 'bytes_rate({namespace="shop", pod="api-1"} | line_format "x" [3m])';
    expect(compact(await evaluateMetricQuery(parseLogql(formatted), range(T0 + 3n * MIN, T0 + 3n * MIN, MIN), arrayReader(records)))).toEqual([
      [api1, [[3, 3 / 180]]],
    ]);
  });

  it('offset looks further back', async () => {
    const q = parseLogql('count_over_time({namespace="shop", pod="api-2"}[1m] offset 1m)');
    const got = await evaluateMetricQuery(q, range(T0 + 3n * MIN, T0 + 3n * MIN, MIN), arrayReader(records));
    expect(compact(got)).toEqual([[api2, [[3, 1]]]]);
  });

  it('series are split by extracted labels, keep the record level, and drop empty values', async () => {
    const lines = [rec(T0 + S, 'status=200 x='), rec(T0 + 2n * S, 'status=500 level=warn'), rec(T0 + 3n * S, 'status=200')];
    const got = await evaluateMetricQuery(parseLogql('count_over_time({namespace="shop"} | logfmt --keep-empty [1m])'), range(T0 + MIN, T0 + MIN, MIN), arrayReader(lines));
    expect(compact(got)).toEqual([
      [{ ...api1, status: '200' }, [[1, 2]]],
      [{ ...api1, status: '500', level: 'warn' }, [[1, 1]]],
    ]);
  });

  it('absent_over_time is 1 where no line is, labelled by the equality matchers', async () => {
    const got = await evaluateMetricQuery(parseLogql('absent_over_time({namespace="shop", pod=~"api-2"}[1m])'), range(T0, T0 + 3n * MIN, MIN), arrayReader(records));
    expect(compact(got)).toEqual([[{ namespace: 'shop' }, [[0, 1], [1, 1], [3, 1]]]]);
  });
});

describe('vector aggregations', () => {
  const records = [
    rec(T0 + 10n * S, 'a', { pod: 'api-1', level: 'error' }),
    rec(T0 + 20n * S, 'b', { pod: 'api-1', level: 'info' }),
    rec(T0 + 30n * S, 'c', { pod: 'api-2', level: 'error' }),
    rec(T0 + 40n * S, 'd', { pod: 'api-2', level: 'error' }),
    rec(T0 + 50n * S, 'e', { pod: 'api-3', level: 'warn', stream: 'stderr' }),
  ];
  const at1 = range(T0 + MIN, T0 + MIN, MIN);
  const cases: ReadonlyArray<readonly [string, Array<[Record<string, string>, number]>]> = [
    ['sum(count_over_time({namespace="shop"}[1m]))', [[{}, 5]]],
    [
      'sum by (level) (count_over_time({namespace="shop"} | drop __error__[1m]))',
      [
        [{ level: 'error' }, 3],
        [{ level: 'info' }, 1],
        [{ level: 'warn' }, 1],
      ],
    ],
    [
      'sum(count_over_time({namespace="shop"}[1m])) by (pod)',
      [
        [{ pod: 'api-1' }, 2],
        [{ pod: 'api-2' }, 2],
        [{ pod: 'api-3' }, 1],
      ],
    ],
    [
      'sum without (level, stream, node, container) (count_over_time({namespace="shop"}[1m]))',
      [
        [{ namespace: 'shop', pod: 'api-1' }, 2],
        [{ namespace: 'shop', pod: 'api-2' }, 2],
        [{ namespace: 'shop', pod: 'api-3' }, 1],
      ],
    ],
    ['count(count_over_time({namespace="shop"}[1m]))', [[{}, 4]]],
    ['avg(count_over_time({namespace="shop"}[1m]))', [[{}, 5 / 4]]],
    ['min(count_over_time({namespace="shop"}[1m]))', [[{}, 1]]],
    ['max(count_over_time({namespace="shop"}[1m]))', [[{}, 2]]],
    ['topk(1, sum by (pod) (count_over_time({namespace="shop"}[1m])))', [[{ pod: 'api-1' }, 2]]],
    ['bottomk(1, sum by (pod) (count_over_time({namespace="shop"}[1m])))', [[{ pod: 'api-3' }, 1]]],
    [
      'topk(1, count_over_time({namespace="shop"}[1m])) by (level)',
      [
        [{ ...SHOP, pod: 'api-2', level: 'error' }, 2],
        [{ ...SHOP, pod: 'api-1', level: 'info' }, 1],
        [{ ...SHOP, pod: 'api-3', level: 'warn', stream: 'stderr' }, 1],
      ],
    ],
    ['sum by (nope) (count_over_time({namespace="shop"}[1m]))', [[{}, 5]]],
  ];
  it.each(cases)('%s', async (q, want) => {
    const got = await evaluateMetricQuery(parseLogql(q), at1, arrayReader(records));
    expect(got.map((s) => [s.labels, s.points.map((p) => p.value)])).toEqual(want.map(([l, v]) => [l, [v]]));
  });
});

describe('scope and limits', () => {
  const records = [rec(T0 + S, 'x', { ns: 'team-a' }), rec(T0 + S, 'x', { ns: 'team-b' }), rec(T0 + S, 'x', { ns: 'team-b', pod: 'p2' })];

  it('counts only namespaces in scope, and asks the store only for them', async () => {
    const seen: LogSelection[] = [];
    const q = parseLogql('sum by (namespace) (count_over_time({namespace=~".+"}[1m]))');
    const got = await evaluateMetricQuery(q, range(T0 + MIN, T0 + MIN, MIN, { namespaces: ['team-a'] }), arrayReader(records, seen));
    expect(compact(got)).toEqual([[{ namespace: 'team-a' }, [[1, 1]]]]);
    expect(seen.map((s) => s.matchers.map(String))).toEqual([['namespace=~".+"', 'namespace="team-a"']]);
    // The window: (t0 - 1m, t0] as start-inclusive, end-exclusive nanoseconds.
    expect([seen[0]!.startNs, seen[0]!.endNs]).toEqual([T0 + 1n, T0 + MIN + 1n]);
    const none: LogSelection[] = [];
    expect(await evaluateMetricQuery(q, range(T0 + MIN, T0 + MIN, MIN, { namespaces: [] }), arrayReader(records, none))).toEqual([]);
    expect(none).toEqual([]);
  });

  it("refuses more series than allowed, too many steps, bad steps and log queries, in Loki's words", async () => {
    const q = parseLogql('count_over_time({namespace=~".+"}[1m])');
    await expect(evaluateMetricQuery(q, range(T0 + MIN, T0 + MIN, MIN, { maxSeries: 2 }), arrayReader(records))).rejects.toThrow(
      new MetricQueryError('maximum of series (2) reached for a single query'),
    );
    await expect(evaluateMetricQuery(q, range(T0, T0 + 11_000n * S, S), arrayReader(records))).rejects.toThrow(
      'exceeded maximum resolution of 11000 points per timeseries. Try increasing the value of the step parameter',
    );
    await expect(evaluateMetricQuery(q, range(T0, T0 + MIN, 0n), arrayReader(records))).rejects.toThrow(/zero or negative query resolution step/);
    await expect(evaluateMetricQuery(q, range(T0 + MIN, T0, MIN), arrayReader(records))).rejects.toThrow(/end timestamp must not be before start time/);
    await expect(evaluateMetricQuery(parseLogql('{a="b"}'), range(T0, T0, MIN), arrayReader(records))).rejects.toThrow(/a log query has no metric value/);
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('client went away'));
    const q = parseLogql('count_over_time({namespace=~".+"}[1m])');
    await expect(evaluateMetricQuery(q, range(T0 + MIN, T0 + MIN, MIN, { signal: ac.signal }), arrayReader(records))).rejects.toThrow('client went away');
  });
});

describe('storeReader', () => {
  it('pages through LogStore.search with the cursor until the last page', async () => {
    const records = Array.from({ length: 12 }, (_, i) => rec(T0 + BigInt(i) * S, `line ${i}`));
    const requests: LogSearchRequest[] = [];
    // The search side of a store over an array: forward, by time, `limit` per page.
    const store = {
      name: 'array',
      async search(req: LogSearchRequest): Promise<LogSearchResult> {
        requests.push(req);
        const from = req.cursor === undefined ? 0 : Number(req.cursor);
        const hits = records.filter(compileSelection(req));
        const page = hits.slice(from, from + req.limit);
        return from + req.limit < hits.length ? { records: page, nextCursor: String(from + req.limit) } : { records: page };
      },
    } as unknown as LogStore;
    const q = parseLogql('count_over_time({namespace="shop"} |~ "line (1|3|5|7|9|11)$" [1m])');
    const got = await evaluateMetricQuery(q, range(T0 + MIN, T0 + MIN, MIN), storeReader(store, 5));
    expect(compact(got)).toEqual([[{ ...SHOP, pod: 'api-1', level: 'info' }, [[1, 6]]]]);
    expect(requests.map((r) => [r.direction, r.limit, r.cursor])).toEqual([
      ['forward', 5, undefined],
      ['forward', 5, '5'],
    ]);
  });
});

/** Every step, every record, no cleverness. */
function bruteForce(e: MetricExpr, records: readonly StoredLogRecord[], start: bigint, steps: number, step: bigint): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  const put = (labels: Record<string, string>, i: number, v: number) => {
    const key = JSON.stringify(Object.entries(labels).sort());
    if (!out.has(key)) out.set(key, new Map());
    out.get(key)!.set(i, v);
  };
  for (let i = 0; i < steps; i++) {
    const t = start + BigInt(i) * step;
    for (const [labels, v] of evalAt(e, records, t)) put(labels, i, v);
  }
  return out;
}

function evalAt(e: MetricExpr, records: readonly StoredLogRecord[], t: bigint): Array<[Record<string, string>, number]> {
  if (e.kind === 'RangeAggregation') return rangeAt(e, records, t);
  const inner = evalAt(e.expr, records, t);
  const groupOf = (l: Record<string, string>, g: Grouping | undefined) =>
    g === undefined ? {} : Object.fromEntries(Object.entries(l).filter(([k]) => g.labels.includes(k) !== g.without));
  const groups = new Map<string, { labels: Record<string, string>; members: Array<[Record<string, string>, number]> }>();
  for (const [l, v] of inner) {
    const g = groupOf(l, e.grouping);
    const key = JSON.stringify(Object.entries(g).sort());
    if (!groups.has(key)) groups.set(key, { labels: g, members: [] });
    groups.get(key)!.members.push([l, v]);
  }
  const res: Array<[Record<string, string>, number]> = [];
  for (const { labels, members } of groups.values()) {
    const vs = members.map(([, v]) => v);
    switch (e.op) {
      case 'sum':
        res.push([labels, vs.reduce((a, b) => a + b, 0)]);
        break;
      case 'count':
        res.push([labels, vs.length]);
        break;
      case 'avg':
        res.push([labels, vs.reduce((a, b) => a + b, 0) / vs.length]);
        break;
      case 'min':
        res.push([labels, Math.min(...vs)]);
        break;
      case 'max':
        res.push([labels, Math.max(...vs)]);
        break;
      case 'topk':
      case 'bottomk': {
        const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
        const sorted = [...members].sort(([la, a], [lb, b]) => (e.op === 'topk' ? b - a : a - b) || (key(la) < key(lb) ? -1 : 1));
        res.push(...sorted.slice(0, e.param));
        break;
      }
    }
  }
  return res;
}

function rangeAt(e: RangeAggregation, records: readonly StoredLogRecord[], t: bigint): Array<[Record<string, string>, number]> {
  const pipeline = new Pipeline(e.query.stages);
  const counts = new Map<string, { labels: Record<string, string>; n: number; bytes: number }>();
  for (const r of records) {
    if (!(r.timeNs > t - e.offsetNs - e.rangeNs && r.timeNs <= t - e.offsetNs)) continue;
    const stream: Record<string, string> = { namespace: r.namespace, pod: r.pod, container: r.container, node: r.node, stream: r.stream };
    if (!e.query.selector.matchers.every((m) => m.matcher.matches(stream[m.matcher.name] ?? ''))) continue;
    const res = pipeline.process(r);
    if (!res) continue;
    const labels: Record<string, string> = Object.fromEntries(Object.entries(res.labels).filter(([, v]) => v !== ''));
    if (labels.level === undefined && res.level) labels.level = res.level;
    const key = JSON.stringify(Object.entries(labels).sort());
    const c = counts.get(key) ?? { labels, n: 0, bytes: 0 };
    c.n++;
    c.bytes += Buffer.byteLength(res.line, 'utf8');
    counts.set(key, c);
  }
  const secs = Number(e.rangeNs) / 1e9;
  if (e.op === 'absent_over_time') {
    if (counts.size > 0) return [];
    return [[Object.fromEntries(e.query.selector.matchers.filter((m) => m.matcher.type === '=').map((m) => [m.matcher.name, m.matcher.value])), 1]];
  }
  const op = e.op;
  return [...counts.values()].map(({ labels, n, bytes }): [Record<string, string>, number] => {
    const v = op === 'count_over_time' ? n : op === 'rate' ? n / secs : op === 'bytes_over_time' ? bytes : bytes / secs;
    return [labels, v];
  });
}

describe('agreement with a brute-force evaluation', () => {
  const QUERIES = [
    'count_over_time({namespace="shop"}[2m])',
    'rate({namespace=~"shop|ops"} |= "GET" [90s])',
    'bytes_over_time({pod=~"api-.*"} | logfmt | status >= 400 [3m] offset 1m)',
    'bytes_rate({namespace="shop"} | line_format "{{.pod}} {{__line__}}" [1m])',
    'absent_over_time({namespace="shop", pod="api-2"}[1m])',
    'sum by (level) (count_over_time({namespace=~".+"} | drop __error__ [2m]))',
    'sum without (pod) (rate({namespace=~".+"}[1m]))',
    'avg by (namespace) (count_over_time({namespace=~".+"} | logfmt [2m]))',
    'max(count_over_time({namespace=~".+"}[5m]))',
    'min by (stream) (bytes_over_time({namespace=~".+"}[2m]))',
    'count by (namespace) (count_over_time({namespace=~".+"}[1m]))',
    'topk(2, sum by (pod) (count_over_time({namespace=~".+"}[3m])))',
    'bottomk(1, count_over_time({namespace=~".+"}[2m])) by (namespace)',
  ];
  const recordArb = fc
    .record({
      dt: fc.bigInt({ min: -5n * 60n, max: 20n * 60n }),
      ns: fc.constantFrom('shop', 'ops'),
      pod: fc.constantFrom('api-1', 'api-2', 'web'),
      level: fc.constantFrom('info', 'warn', 'error') as fc.Arbitrary<LogLevel>,
      stream: fc.constantFrom('stdout', 'stderr') as fc.Arbitrary<LogStreamName>,
      msg: fc.constantFrom('GET /a status=200', 'POST /é status=500', 'GET status=404 x', 'plain'),
    })
    .map((r) => rec(T0 + r.dt * S, r.msg, { ns: r.ns, pod: r.pod, level: r.level, stream: r.stream }));

  it.each(QUERIES)('%s', async (q) => {
    const e = parseMetricQuery(q);
    await fc.assert(
      fc.asyncProperty(
        fc.array(recordArb, { maxLength: 30 }),
        fc.bigInt({ min: 0n, max: 10n * 60n }),
        fc.constantFrom(15n, 30n, 60n, 150n),
        fc.integer({ min: 1, max: 12 }),
        async (records, startS, stepS, steps) => {
          const start = T0 + startS * S;
          const step = stepS * S;
          const got = await evaluateMetricQuery(e, range(start, start + BigInt(steps - 1) * step, step), arrayReader(records));
          const want = bruteForce(e, records, start, steps, step);
          const gotMap = new Map(
            got.map((s) => [JSON.stringify(Object.entries(s.labels).sort()), new Map(s.points.map((p) => [Number((p.timeNs - start) / step), p.value]))]),
          );
          expect(gotMap.size).toBe(want.size);
          for (const [key, points] of want) {
            const g = gotMap.get(key);
            expect(g, key).toBeDefined();
            expect([...g!.keys()], key).toEqual([...points.keys()].sort((a, b) => a - b));
            for (const [i, v] of points) expect(g!.get(i)!, `${key} @${i}`).toBeCloseTo(v, 9);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
