import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logApiFixture, MINUTE, qs, SCOPE_HEADER, SECOND, T0, type LogApiFixture } from '../logs/testutil.js';

const LOKI = '/loki/api/v1';
// Grafana sends nanosecond start/end.
const RANGE = { start: T0 - 60n * MINUTE, end: T0 + 60n * MINUTE };

let f: LogApiFixture;
beforeAll(async () => {
  f = await logApiFixture();
});
afterAll(async () => {
  await f.close();
});

async function get(path: string, scope?: string) {
  return f.app.inject({ method: 'GET', url: path, headers: scope === undefined ? {} : { [SCOPE_HEADER]: scope } });
}

interface StreamsData {
  resultType: 'streams';
  result: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
}
interface MatrixData {
  resultType: 'matrix';
  result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
}

describe('Loki API: query_range', () => {
  it('answers a log query as Grafana sends it with streams of [ns, line], newest first', async () => {
    const res = await get(`${LOKI}/query_range?${qs({ query: '{namespace="team-a", pod="api-1"} |= "timeout"', direction: 'backward', limit: 1000, step: 2, ...RANGE })}`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { status: string; data: StreamsData & { stats: object } };
    expect(body.status).toBe('success');
    expect(body.data.resultType).toBe('streams');
    expect(body.data.stats).toEqual({});
    expect(body.data.result).toEqual([
      {
        stream: { namespace: 'team-a', pod: 'api-1', container: 'app', node: 'node-1', stream: 'stderr' },
        values: [16, 12, 8, 4].map((i) => [(T0 + BigInt(i) * SECOND).toString(), `request ${i} failed: upstream timeout`]),
      },
    ]);
  });

  it('splits streams by the labels a parser extracted, and honours forward and limit', async () => {
    const res = await get(`${LOKI}/query_range?${qs({ query: '{pod="api-1"} | json | __error__=""', direction: 'forward', limit: 3, ...RANGE })}`);
    const data = res.json().data as StreamsData;
    expect(data.result.flatMap((s) => s.values.map((v) => v[0]))).toEqual([0n, 5n, 10n].map((i) => (T0 + i * SECOND).toString()));
    expect(data.result.map((s) => s.stream.msg)).toEqual(['request 0', 'request 5', 'request 10']);
  });

  it('answers the logs-volume metric query with a matrix split by level', async () => {
    const res = await get(
      `${LOKI}/query_range?${qs({ query: 'sum by (level) (count_over_time({namespace="team-a"}[1m]))', start: T0, end: T0 + 2n * MINUTE, step: 60 })}`,
    );
    expect(res.statusCode).toBe(200);
    const data = res.json().data as MatrixData;
    expect(data.resultType).toBe('matrix');
    const t1 = Number((T0 + MINUTE) / SECOND);
    // At T0+1m the window (T0, T0+1m] holds api-1's lines 1..19: 4 errors (4, 8, 12, 16), 15 info.
    expect(data.result).toEqual([
      { metric: { level: 'error' }, values: [[t1 - 60, '1'], [t1, '4']] },
      { metric: { level: 'info' }, values: [[t1, '15']] },
    ]);
  });

  it('accepts POST forms as logcli and Grafana may send', async () => {
    const res = await f.app.inject({
      method: 'POST',
      url: `${LOKI}/query_range`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: qs({ query: '{pod="api-0"}', limit: 2, ...RANGE }),
    });
    expect(res.statusCode).toBe(200);
    expect((res.json().data as StreamsData).result[0]!.values.map((v) => v[1])).toEqual(['old replica 4 timeout', 'old replica 3 timeout']);
  });

  it('answers parse errors with 400 and a plain-text message naming the position', async () => {
    const res = await get(`${LOKI}/query_range?${qs({ query: '{namespace="team-a"} |~ ', ...RANGE })}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^parse error at line 1, col \d+: /);
    const wide = await get(`${LOKI}/query_range?${qs({ query: 'count_over_time({container="app"} |= "x" [1h])', start: T0 - 72n * 60n * MINUTE, end: T0, step: 3600 })}`);
    expect(wide.statusCode).toBe(400);
    expect(wide.body).toMatch(/at most 24h/);
  });
});

describe('Loki API: query, labels, series, tail', () => {
  it('answers an instant metric query with a vector, and refuses an instant log query', async () => {
    const t = T0 + MINUTE;
    const res = await get(`${LOKI}/query?${qs({ query: 'sum(count_over_time({pod="api-1"} |= "timeout" [5m]))', time: t })}`);
    expect(res.json()).toEqual({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Number(t / SECOND), '4'] }], stats: {} } });
    const log = await get(`${LOKI}/query?${qs({ query: '{pod="api-1"}', time: t })}`);
    expect(log.statusCode).toBe(400);
    expect(log.body).toMatch(/log queries are not supported as an instant query/);
  });

  it('lists label names and values, including the output stream', async () => {
    expect((await get(`${LOKI}/labels?${qs(RANGE)}`)).json()).toEqual({ status: 'success', data: ['container', 'namespace', 'node', 'pod', 'stream'] });
    expect((await get(`${LOKI}/label/namespace/values?${qs(RANGE)}`)).json().data).toEqual(['team-a', 'team-b']);
    expect((await get(`${LOKI}/label/pod/values?${qs({ ...RANGE, query: '{namespace="team-a"}' })}`)).json().data).toEqual(['api-0', 'api-1']);
    expect((await get(`${LOKI}/label/stream/values?${qs({ ...RANGE, query: '{namespace="team-b"}' })}`)).json().data).toEqual(['stdout']);
    expect((await get(`${LOKI}/label/nonesuch/values?${qs(RANGE)}`)).json().data).toEqual([]);
  });

  it('lists series for match[] selectors', async () => {
    const res = await get(`${LOKI}/series?${qs({ 'match[]': '{pod="api-1"}', ...RANGE })}`);
    expect(res.json()).toEqual({
      status: 'success',
      data: [
        { container: 'app', namespace: 'team-a', node: 'node-1', pod: 'api-1', stream: 'stderr' },
        { container: 'app', namespace: 'team-a', node: 'node-1', pod: 'api-1', stream: 'stdout' },
      ],
    });
    expect((await get(`${LOKI}/series?${qs(RANGE)}`)).statusCode).toBe(400);
  });

  it('answers tail without a WebSocket upgrade with 400, naming the Server-Sent Events tail', async () => {
    const res = await get(`${LOKI}/tail?${qs({ query: '{pod="api-1"}' })}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/\/api\/vigil\/v1\/logs\/tail/);
  });
});

describe('Loki API: a request scoped to team-a reads nothing of team-b', () => {
  const A = 'team-a';

  it('query_range, log and metric queries', async () => {
    for (const query of ['{namespace="team-b"}', '{namespace=~"team-.*"} |= "SECRET-B"', '{pod="vault-1"}', '{container="app"} | namespace="team-b"']) {
      const res = await get(`${LOKI}/query_range?${qs({ query, limit: 1000, ...RANGE })}`, A);
      expect(res.statusCode).toBe(200);
      expect(res.json().data.result).toEqual([]);
      const unscoped = await get(`${LOKI}/query_range?${qs({ query, limit: 1000, ...RANGE })}`);
      expect(unscoped.json().data.result.length).toBeGreaterThan(0);
    }
    const all = await get(`${LOKI}/query_range?${qs({ query: '{namespace=~".+"}', limit: 1000, ...RANGE })}`, A);
    expect((all.json().data as StreamsData).result.map((s) => s.stream.namespace)).toEqual(expect.arrayContaining(['team-a']));
    expect((all.json().data as StreamsData).result.every((s) => s.stream.namespace === 'team-a')).toBe(true);

    for (const query of [
      'sum by (namespace) (count_over_time({namespace=~".+"} |= "SECRET-B" [1m]))',
      'count_over_time({namespace="team-b"}[5m])',
      'sum by (level) (rate({pod=~"vault.*"}[1m]))',
    ]) {
      const res = await get(`${LOKI}/query_range?${qs({ query, start: T0, end: T0 + 2n * MINUTE, step: 60 })}`, A);
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toEqual({ resultType: 'matrix', result: [], stats: {} });
    }
    const byNs = await get(`${LOKI}/query_range?${qs({ query: 'sum by (namespace) (count_over_time({namespace=~".+"}[1m]))', start: T0, end: T0 + MINUTE, step: 60 })}`, A);
    expect((byNs.json().data as MatrixData).result.map((s) => s.metric.namespace)).toEqual(['team-a']);
  });

  it('query (instant)', async () => {
    const res = await get(`${LOKI}/query?${qs({ query: 'sum by (namespace) (count_over_time({namespace=~"team-.*"}[10m]))', time: T0 + MINUTE })}`, A);
    expect(res.json().data.result).toEqual([{ metric: { namespace: 'team-a' }, value: [Number((T0 + MINUTE) / SECOND), '20'] }]);
  });

  it('labels, label values and series', async () => {
    expect((await get(`${LOKI}/label/namespace/values?${qs(RANGE)}`, A)).json().data).toEqual(['team-a']);
    expect((await get(`${LOKI}/label/pod/values?${qs({ ...RANGE, query: '{namespace="team-b"}' })}`, A)).json().data).toEqual([]);
    expect((await get(`${LOKI}/label/stream/values?${qs({ ...RANGE, query: '{pod="vault-1"}' })}`, A)).json().data).toEqual([]);
    expect((await get(`${LOKI}/labels?${qs(RANGE)}`, 'team-c')).json().data).toEqual([]);
    const series = await get(`${LOKI}/series?${qs({ 'match[]': '{namespace=~".+"}', ...RANGE })}`, A);
    expect(series.json().data.map((s: Record<string, string>) => s.namespace)).toEqual(['team-a', 'team-a', 'team-a']);
    expect((await get(`${LOKI}/series?${qs({ 'match[]': '{namespace="team-b"}', ...RANGE })}`, A)).json().data).toEqual([]);
  });
});
