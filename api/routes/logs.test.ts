import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTimeNs } from '../../model/logs.js';
import { testLogRecord } from '../../storage/logs/store-contract.js';
import { fixtureRecords, logApiFixture, MINUTE, qs, SCOPE_HEADER, SECOND, T0, type LogApiFixture } from '../logs/testutil.js';

const BASE = '/api/vigil/v1/logs';
const RANGE = { start: T0 - 60n * MINUTE, end: T0 + 60n * MINUTE };

interface RecordJson {
  id: string;
  time: string;
  timeNs: string;
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
  node: string;
  stream: string;
  level: string;
  line: string;
  labels: Record<string, string>;
}

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

async function search(params: Record<string, string | bigint | number>, scope?: string) {
  const res = await get(`${BASE}/search?${qs({ ...RANGE, ...params })}`, scope);
  return { res, body: res.json() as { records: RecordJson[]; nextCursor?: string } };
}

describe('GET /api/vigil/v1/logs/search', () => {
  it('returns the matching lines newest first, with their stream and record fields', async () => {
    const { res, body } = await search({ query: '{namespace="team-a", pod="api-1"} |= "timeout"' });
    expect(res.statusCode).toBe(200);
    // i = 4, 8, 12, 16 (0 is a JSON line): "request i failed: upstream timeout".
    expect(body.records.map((r) => r.line)).toEqual([16, 12, 8, 4].map((i) => `request ${i} failed: upstream timeout`));
    expect(body.nextCursor).toBeUndefined();
    const r = body.records[0]!;
    const t = T0 + 16n * SECOND;
    expect(r).toEqual({
      id: r.id,
      time: formatTimeNs(t),
      timeNs: t.toString(),
      namespace: 'team-a',
      pod: 'api-1',
      podUid: 'a1',
      container: 'app',
      node: 'node-1',
      stream: 'stderr',
      level: 'error',
      line: 'request 16 failed: upstream timeout',
      labels: { namespace: 'team-a', pod: 'api-1', container: 'app', node: 'node-1', stream: 'stderr' },
    });
    expect(r.id).toMatch(/^[A-Za-z0-9_-]{20}$/);
  });

  it('runs the residual pipeline: parsed fields filter and become labels', async () => {
    const { body } = await search({ query: '{namespace="team-a"} | json | latency_ms > 400', direction: 'forward' });
    // JSON lines are i = 0, 5, 10, 15 with latency i*50: 500 and 750 pass.
    expect(body.records.map((r) => r.labels.msg)).toEqual(['request 10', 'request 15']);
    expect(body.records[0]!.labels).toMatchObject({ latency_ms: '500', level: 'error', namespace: 'team-a' });
  });

  it('pages with cursors: every matching line once, in order, across pages', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { res, body } = await search({ query: '{namespace="team-a", pod="api-1"}', direction: 'forward', limit: 7, ...(cursor && { cursor }) });
      expect(res.statusCode).toBe(200);
      seen.push(...body.records.map((r) => r.timeNs));
      cursor = body.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => (T0 + BigInt(i) * SECOND).toString()));
  });

  it('keeps paging the store until the limit passed the pipeline, and continues after dropped lines', async () => {
    // Only 2 of api-1's 20 lines pass; a page of 1 must skip the others and a cursor must resume after them.
    const query = '{pod="api-1"} | json | __error__="" | level="error"';
    const first = await search({ query, limit: 1, direction: 'forward' });
    expect(first.body.records.map((r) => r.labels.msg)).toEqual(['request 0']);
    const second = await search({ query, limit: 1, direction: 'forward', cursor: first.body.nextCursor! });
    expect(second.body.records.map((r) => r.labels.msg)).toEqual(['request 10']);
    const third = await search({ query, limit: 1, direction: 'forward', cursor: second.body.nextCursor! });
    expect(third.body.records).toEqual([]);
    expect(third.body.nextCursor).toBeUndefined();
  });

  it('answers a LogQL parse error with 400 naming the position', async () => {
    const { res } = await search({ query: '{namespace="team-a"} |= ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_LOGQL_PARSE', error: expect.stringMatching(/^parse error at line 1, col \d+: /) });
    const missing = await get(`${BASE}/search`);
    expect(missing.statusCode).toBe(400);
  });

  it('refuses a bad cursor, a metric query and bad times with 400', async () => {
    expect((await search({ query: '{namespace="team-a"}', cursor: 'garbage!' })).res.json().code).toBe('VIGIL_ERR_BAD_CURSOR');
    const metric = await search({ query: 'count_over_time({namespace="team-a"}[1m])' });
    expect(metric.res.statusCode).toBe(400);
    expect(metric.res.json().error).toMatch(/expected a log query/);
    const badTime = await get(`${BASE}/search?${qs({ query: '{namespace="a"}', start: 'yesterday' })}`);
    expect(badTime.statusCode).toBe(400);
    expect(badTime.json().error).toMatch(/invalid parameter "start"/);
  });

  it('accepts RFC 3339, Unix seconds and nanoseconds for start and end', async () => {
    const query = '{pod="api-1"}';
    const counts = [];
    for (const [start, end] of [
      [formatTimeNs(T0 + 5n * SECOND), formatTimeNs(T0 + 10n * SECOND)],
      [String((T0 + 5n * SECOND) / SECOND), String((T0 + 10n * SECOND) / SECOND)],
      [`${(T0 + 5n * SECOND) / SECOND}.0`, `${(T0 + 10n * SECOND) / SECOND}.000000000`],
      [String(T0 + 5n * SECOND), String(T0 + 10n * SECOND)],
    ]) {
      const res = await get(`${BASE}/search?${qs({ query, start: start!, end: end! })}`);
      counts.push((res.json() as { records: unknown[] }).records.length);
    }
    expect(counts).toEqual([5, 5, 5, 5]);
  });

  it('enforces the limits with 400s naming them', async () => {
    const tooMany = await search({ query: '{namespace="team-a"}', limit: 5001 });
    expect(tooMany.res.statusCode).toBe(400);
    expect(tooMany.res.json().error).toMatch(/limit of 5000/);
    const wide = { start: T0 - 48n * 60n * MINUTE, end: T0 + MINUTE };
    const unscoped = await get(`${BASE}/search?${qs({ query: '{stream="stdout"} |= "timeout"', ...wide })}`);
    expect(unscoped.statusCode).toBe(400);
    expect(unscoped.json().error).toMatch(/at most 24h/);
    // Naming a namespace, or being scoped to one, narrows the scan: allowed.
    expect((await get(`${BASE}/search?${qs({ query: '{namespace="team-a"} |= "timeout"', ...wide })}`)).statusCode).toBe(200);
    expect((await get(`${BASE}/search?${qs({ query: '{stream="stdout"} |= "timeout"', ...wide })}`, 'team-a')).statusCode).toBe(200);
  });
});

describe('GET /api/vigil/v1/logs/volume', () => {
  it('counts matching lines per step, from the store or through the pipeline', async () => {
    const res = await get(`${BASE}/volume?${qs({ query: '{pod="api-1"}', start: T0, end: T0 + 20n * SECOND, step: '10s' })}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      stepNs: (10n * SECOND).toString(),
      buckets: [
        { start: formatTimeNs(T0), startNs: T0.toString(), count: 10 },
        { start: formatTimeNs(T0 + 10n * SECOND), startNs: (T0 + 10n * SECOND).toString(), count: 10 },
      ],
    });
    const piped = await get(`${BASE}/volume?${qs({ query: '{pod="api-1"} | json | latency_ms >= 250', start: T0, end: T0 + 20n * SECOND, step: 10 })}`);
    expect(piped.json().buckets.map((b: { count: number }) => b.count)).toEqual([1, 2]);
  });
});

describe('GET /api/vigil/v1/logs/context', () => {
  it('returns lines before and after the anchor in its container stream, like grep -C', async () => {
    const { body } = await search({ query: '{pod="api-1"} |= "request 8 "' });
    const anchor = body.records[0]!;
    const res = await get(`${BASE}/context?${qs({ id: anchor.id, before: 3, after: 2 })}`);
    expect(res.statusCode).toBe(200);
    const ctx = res.json() as { anchor: RecordJson; before: RecordJson[]; after: RecordJson[] };
    expect(ctx.anchor.id).toBe(anchor.id);
    expect(ctx.before.map((r) => r.timeNs)).toEqual([5n, 6n, 7n].map((i) => (T0 + i * SECOND).toString()));
    expect(ctx.after.map((r) => r.timeNs)).toEqual([9n, 10n].map((i) => (T0 + i * SECOND).toString()));
    expect(ctx.before[1]!.line).toBe('request 6 ok');
    expect([...ctx.before, ...ctx.after].every((r) => r.podUid === 'a1')).toBe(true);
  });

  it('answers 404 for an unknown id', async () => {
    const res = await get(`${BASE}/context?id=nope`);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'no log record with id "nope"', code: 'VIGIL_ERR_NOT_FOUND' });
  });
});

describe('GET /api/vigil/v1/logs/labels and /streams', () => {
  it('lists namespaces, pods (including a replica that no longer writes) and containers with first and last seen', async () => {
    const res = await get(`${BASE}/labels`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['team-a', 'team-b']);
    const teamA = body.namespaces[0];
    expect(teamA.firstSeen).toBe(formatTimeNs(T0 - 30n * MINUTE));
    expect(teamA.lastSeen).toBe(formatTimeNs(T0 + 19n * SECOND));
    expect(teamA.pods).toEqual([
      {
        pod: 'api-0',
        podUid: 'a0',
        node: 'node-1',
        firstSeen: formatTimeNs(T0 - 30n * MINUTE),
        lastSeen: formatTimeNs(T0 - 30n * MINUTE + 4n * SECOND),
        containers: [{ container: 'app', firstSeen: formatTimeNs(T0 - 30n * MINUTE), lastSeen: formatTimeNs(T0 - 30n * MINUTE + 4n * SECOND) }],
      },
      {
        pod: 'api-1',
        podUid: 'a1',
        node: 'node-1',
        firstSeen: formatTimeNs(T0),
        lastSeen: formatTimeNs(T0 + 19n * SECOND),
        containers: [{ container: 'app', firstSeen: formatTimeNs(T0), lastSeen: formatTimeNs(T0 + 19n * SECOND) }],
      },
    ]);
  });

  it('lists the streams a selector matches in a range', async () => {
    const res = await get(`${BASE}/streams?${qs({ query: '{namespace="team-a"}', ...RANGE })}`);
    expect(res.json().streams.map((s: { pod: string }) => s.pod)).toEqual(['api-0', 'api-1']);
  });
});

describe('GET /api/vigil/v1/logs/export', () => {
  it('streams the full result of a query with more lines than one page, oldest first, as an attachment', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) =>
      testLogRecord({ t: T0 + 2n * MINUTE + BigInt(i) * 1_000_000n, offset: i * 80, message: `bulk ${i}`, ns: 'team-a', pod: 'bulk-1', uid: 'k1' }),
    );
    await f.store.append(many);
    const res = await get(`${BASE}/export?${qs({ query: '{pod="bulk-1"}', ...RANGE })}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="vigil-logs-.*\.ndjson"$/);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as RecordJson);
    expect(lines.length).toBe(12_000);
    expect(lines.every((r, i) => r.line === `bulk ${i}`)).toBe(true);

    const text = await get(`${BASE}/export?${qs({ query: '{pod="api-1"} |= "timeout"', ...RANGE, format: 'text' })}`);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.body).toBe(
      [4, 8, 12, 16].map((i) => `${formatTimeNs(T0 + BigInt(i) * SECOND)} team-a/api-1/app request ${i} failed: upstream timeout\n`).join(''),
    );
    expect((await get(`${BASE}/export?${qs({ query: '{pod="api-1"}', format: 'csv' })}`)).statusCode).toBe(400);
  });
});

/** An SSE client over a real socket: collects `record` events until closed. */
function openTail(baseUrl: string, params: Record<string, string | bigint | number>, scope?: string) {
  const records: RecordJson[] = [];
  const comments: string[] = [];
  let buffer = '';
  let status = 0;
  const req = http.get(`${baseUrl}${BASE}/tail?${qs(params)}`, { headers: scope === undefined ? {} : { [SCOPE_HEADER]: scope } });
  const ready = new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.startsWith(':')) comments.push(event);
          else if (event.startsWith('event: record\n')) records.push(JSON.parse(event.split('\n').find((l) => l.startsWith('data: '))!.slice(6)));
        }
        if (comments.length > 0) resolve();
      });
    });
  });
  return {
    records,
    ready,
    status: () => status,
    async waitFor(pred: () => boolean, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > until) throw new Error(`timed out; received ${JSON.stringify(records.map((r) => r.line))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => req.destroy(),
  };
}

describe('GET /api/vigil/v1/logs/tail', () => {
  let baseUrl: string;
  beforeAll(async () => {
    await f.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
  });

  it('sends the recent history, then a record appended after the tail started', async () => {
    const tail = openTail(baseUrl, { query: '{pod="api-1"} |= "timeout"', start: T0, limit: 2 });
    await tail.ready;
    expect(tail.status()).toBe(200);
    // The newest two of the history, oldest first.
    await tail.waitFor(() => tail.records.length >= 2);
    expect(tail.records.map((r) => r.line)).toEqual(['request 12 failed: upstream timeout', 'request 16 failed: upstream timeout']);
    const now = BigInt(Date.now()) * 1_000_000n;
    await f.store.append([
      testLogRecord({ t: now, offset: 50_000, message: 'live: upstream timeout again', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
      testLogRecord({ t: now, offset: 50_100, message: 'live: fine', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
    ]);
    await tail.waitFor(() => tail.records.length >= 3);
    expect(tail.records[2]!.line).toBe('live: upstream timeout again');
    await new Promise((r) => setTimeout(r, 700));
    expect(tail.records.length).toBe(3);
    tail.close();
  });

  it('answers a bad query with 400 before streaming', async () => {
    const res = await get(`${BASE}/tail?${qs({ query: '{pod=' })}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VIGIL_ERR_LOGQL_PARSE');
  });
});

describe('log scope: a request scoped to team-a reads nothing of team-b', () => {
  const A = 'team-a';
  const probes = [
    '{namespace="team-b"}',
    '{namespace=~"team-.*"} |= "SECRET-B"',
    '{namespace=~".+"}',
    '{pod="vault-1"}',
    '{namespace!="team-a", container="app"}',
    '{container="app"} | namespace="team-b"',
  ];

  it('search', async () => {
    for (const query of probes) {
      const { res, body } = await search({ query, limit: 5000 }, A);
      expect(res.statusCode).toBe(200);
      expect(body.records.filter((r) => r.namespace !== 'team-a' || r.line.includes('SECRET-B'))).toEqual([]);
    }
    // The same queries unscoped do find team-b: the probes are meaningful.
    expect((await search({ query: '{namespace=~"team-.*"} |= "SECRET-B"' })).body.records.length).toBe(20);
    expect((await search({ query: '{namespace=~".+"}', limit: 5000 }, A)).body.records.some((r) => r.namespace === 'team-a')).toBe(true);
  });

  it('volume', async () => {
    for (const query of probes) {
      const res = await get(`${BASE}/volume?${qs({ query, ...RANGE, step: '1m' })}`, A);
      expect(res.statusCode).toBe(200);
      const counts = res.json().buckets.map((b: { count: number }) => b.count);
      // '{namespace=~"team-.*"} |= "SECRET-B"' etc.: nothing of team-b; team-a lines never hold SECRET-B.
      if (query !== '{namespace=~".+"}') expect(counts).toEqual([]);
      // Everything the scope allows is exactly team-a's volume.
      else expect(res.json()).toEqual((await get(`${BASE}/volume?${qs({ query: '{namespace="team-a"}', ...RANGE, step: '1m' })}`)).json());
    }
    const piped = await get(`${BASE}/volume?${qs({ query: '{namespace="team-b"} | logfmt', ...RANGE, step: '1m' })}`, A);
    expect(piped.json().buckets).toEqual([]);
  });

  it('context: a team-b anchor is 404 exactly as an unknown id', async () => {
    const b = (await search({ query: '{namespace="team-b"}', limit: 1 })).body.records[0]!;
    const res = await get(`${BASE}/context?${qs({ id: b.id, before: 5, after: 5 })}`, A);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: `no log record with id ${JSON.stringify(b.id)}`, code: 'VIGIL_ERR_NOT_FOUND' });
    expect((await get(`${BASE}/context?${qs({ id: b.id })}`, 'team-b')).statusCode).toBe(200);
  });

  it('export', async () => {
    for (const query of probes) {
      const res = await get(`${BASE}/export?${qs({ query, ...RANGE, format: 'text' })}`, A);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/team-b|SECRET-B/);
    }
  });

  it('labels and streams', async () => {
    const labels = (await get(`${BASE}/labels`, A)).json();
    expect(labels.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['team-a']);
    expect(JSON.stringify(labels)).not.toMatch(/team-b|vault/);
    for (const query of probes) {
      const streams = (await get(`${BASE}/streams?${qs({ query, ...RANGE })}`, A)).json().streams;
      expect(streams.filter((s: { namespace: string }) => s.namespace !== 'team-a')).toEqual([]);
    }
    expect((await get(`${BASE}/labels`, 'nobody-here')).json()).toEqual({ namespaces: [] });
  });

  it('tail: a team-b record appended live never arrives, a team-a one does', async () => {
    await f.app.listen({ port: 0, host: '127.0.0.1' }).catch(() => undefined);
    const baseUrl = `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
    const tail = openTail(baseUrl, { query: '{namespace=~"team-.*"} |~ "SECRET|live"', start: T0, limit: 100 }, A);
    await tail.ready;
    const now = BigInt(Date.now()) * 1_000_000n;
    // team-b's record is older, so a leak would arrive before team-a's.
    await f.store.append([
      testLogRecord({ t: now - SECOND, offset: 90_000, message: 'live SECRET-B', ns: 'team-b', pod: 'vault-1', uid: 'b1' }),
      testLogRecord({ t: now, offset: 90_000, message: 'live team-a', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
    ]);
    await tail.waitFor(() => tail.records.some((r) => r.line === 'live team-a'));
    expect(tail.records.filter((r) => r.namespace !== 'team-a')).toEqual([]);
    tail.close();
  });
});

describe('log scope: an empty plan never touches the store', () => {
  it('answers empty for a scope with no namespace, even with the store closed', async () => {
    const g = await logApiFixture({ records: fixtureRecords().slice(0, 4) });
    try {
      await g.store.close();
      const scoped = { [SCOPE_HEADER]: ',' }; // the empty scope
      const probe = (url: string, headers: Record<string, string> = scoped) => g.app.inject({ method: 'GET', url, headers });
      // Unscoped, the closed store answers 503: the scoped answers below did not ask it.
      expect((await probe(`${BASE}/search?${qs({ query: '{namespace="team-a"}' })}`, {})).statusCode).toBe(503);
      expect((await probe(`${BASE}/search?${qs({ query: '{namespace="team-a"}' })}`)).json()).toEqual({ records: [] });
      expect((await probe(`${BASE}/volume?${qs({ query: '{namespace="team-a"}' })}`)).json().buckets).toEqual([]);
      expect((await probe(`${BASE}/labels`)).json()).toEqual({ namespaces: [] });
      expect((await probe(`${BASE}/streams?${qs({ query: '{namespace="team-a"}' })}`)).json()).toEqual({ streams: [] });
      expect((await probe(`${BASE}/export?${qs({ query: '{namespace="team-a"}' })}`)).body).toBe('');
      // A scope that the query's own matcher excludes is just as empty.
      expect((await probe(`${BASE}/search?${qs({ query: '{namespace="team-b"}' })}`, { [SCOPE_HEADER]: 'team-a' })).json()).toEqual({ records: [] });
    } finally {
      await g.close().catch(() => undefined);
    }
  });
});
