/**
 * The Elasticsearch log store against a server that validates every request against Elastic's
 * OpenAPI description and answers with canned responses: what the adapter sends is well-formed
 * for Elasticsearch, and what it does with each kind of answer is right. Search semantics are
 * the contract suite's business (store.test.ts, against a real cluster).
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatTimeNs, parseTimeNs, type LogRecord } from '../../../model/logs.js';
import { Matcher, RegexSyntaxError } from '../../../model/matcher.js';
import {
  bulkActions,
  bulkResponse,
  esError,
  searchResponse,
  startEsOpenApiServer,
  type EsOpenApiServer,
  type EsRequest,
} from '../../../test/support/es-openapi-server.js';
import { Registry } from '../../../util/metrics.js';
import { decodeLogCursor, encodeLogCursor } from '../cursor.js';
import { LogUnavailableError, type LineFilter, type LogSearchRequest } from '../interface.js';
import { testLogRecord } from '../store-contract.js';
import { toDocument } from './documents.js';
import { RegexpTranslationError } from './lucene-regexp.js';
import { ElasticsearchLogStore, ElasticsearchRequestError } from './store.js';

const SECOND = 1_000_000_000n;
const MINUTE = 60n * SECOND;
const HOUR = 60n * MINUTE;
const DAY = 24n * HOUR;
const T0 = parseTimeNs('2025-03-10T00:00:00Z');

/** A parsed request body, read by path in assertions (the validating server already checked its shape). */
type Json = Record<string, any>;

let server: EsOpenApiServer;
let store: ElasticsearchLogStore;
let registry: Registry;

beforeAll(async () => {
  server = await startEsOpenApiServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  server.reset();
  registry = new Registry();
  store = await ElasticsearchLogStore.open({ node: server.url, registry });
});
afterEach(async () => {
  await store.close();
  // Every request any test made, whatever it asserted, was valid.
  expect(server.violations).toEqual([]);
});

function request(over: Partial<LogSearchRequest> = {}): LogSearchRequest {
  return { matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY, direction: 'backward', limit: 100, ...over };
}

/** The search requests' JSON bodies, in order. */
function searchBodies(): Array<Json> {
  return server.requestsOf('search').map((r) => r.body as Json);
}

function hitOf(r: LogRecord) {
  return { _index: 'vigil-logs-2025.03.10', _id: r.id, _source: toDocument(r) };
}

const rec = (i: number, over: Partial<Parameters<typeof testLogRecord>[0]> = {}) =>
  testLogRecord({ pod: 'api-0', t: T0 + 10n * HOUR + BigInt(i) * SECOND, offset: i * 100, message: `line ${i}`, ...over });

describe('index template', () => {
  it('is installed at open, with explicit mappings for every field', () => {
    const [put] = server.requestsOf('indices-put-index-template');
    expect(put).toBeDefined();
    expect(put!.method).toBe('PUT');
    expect(put!.path).toBe('/_index_template/vigil-logs');
    const body = put!.body as Json;
    expect(body.index_patterns).toEqual(['vigil-logs-*']);
    expect(body.composed_of).toEqual(['vigil-logs@custom']);
    expect(body.ignore_missing_component_templates).toEqual(['vigil-logs@custom']);
    const m = body.template.mappings;
    expect(m.dynamic).toBe('false');
    const p = m.properties;
    expect(p['@timestamp']).toEqual({ type: 'date_nanos' });
    expect(p.message).toEqual({ type: 'match_only_text', fields: { wildcard: { type: 'wildcard' } } });
    expect(p.stream.type).toBe('keyword');
    expect(p.log.properties.level.type).toBe('keyword');
    expect(p.log.properties.offset.type).toBe('long');
    expect(p.log.properties.file.properties.path.type).toBe('keyword');
    expect(p.vigil.properties.id.type).toBe('keyword');
    expect(p.vigil.properties.file_key.type).toBe('keyword');
    const k = p.kubernetes.properties;
    expect([k.namespace, k.pod.properties.name, k.pod.properties.uid, k.container.properties.name, k.node.properties.name].map((f) => f.type)).toEqual(
      Array(5).fill('keyword'),
    );
    expect(k.container.properties.restart_count.type).toBe('integer');
    expect([k.labels.type, k.annotations.type, p.fields.type]).toEqual(['flattened', 'flattened', 'flattened']);
  });

  it('is installed under the configured prefix, and a prefix Elasticsearch would refuse fails at once', async () => {
    server.reset();
    const other = await ElasticsearchLogStore.open({ node: server.url, indexPrefix: 'team-a-logs' });
    await other.close();
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /_index_template/team-a-logs']);
    expect((server.requests[0]!.body as { index_patterns: string[] }).index_patterns).toEqual(['team-a-logs-*']);
    for (const bad of ['Logs', 'a*b', '_logs', 'a b', '']) expect(() => new ElasticsearchLogStore({ node: server.url, indexPrefix: bad })).toThrow(RangeError);
  });

  it('fails open with LogUnavailableError while Elasticsearch is overloaded', async () => {
    server.respond('indices-put-index-template', () => esError(503, 'cluster_block_exception', 'no master'));
    await expect(ElasticsearchLogStore.open({ node: server.url })).rejects.toBeInstanceOf(LogUnavailableError);
  });
});

describe('append', () => {
  it('sends bulk create actions into the index of each record’s own day, with the record id as _id', async () => {
    const batch = [rec(1), testLogRecord({ pod: 'p', t: T0 + DAY + HOUR, offset: 7, message: 'next day', fields: { user: 'alice' } }), rec(2)];
    expect(await store.append(batch)).toEqual({ stored: 3, duplicates: 0, rejected: [] });
    const [bulk] = server.requestsOf('bulk');
    expect(bulk!.path).toBe('/_bulk');
    expect(bulkActions(bulk!)).toEqual([
      { kind: 'create', index: 'vigil-logs-2025.03.10', id: batch[0]!.id },
      { kind: 'create', index: 'vigil-logs-2025.03.11', id: batch[1]!.id },
      { kind: 'create', index: 'vigil-logs-2025.03.10', id: batch[2]!.id },
    ]);
    expect(bulk!.ndjson![3]).toEqual({
      '@timestamp': '2025-03-11T01:00:00.000000000Z',
      message: 'next day',
      stream: 'stdout',
      log: { level: 'info', offset: 7, file: { path: batch[1]!.source.path } },
      vigil: { id: batch[1]!.id, file_key: batch[1]!.source.fileKey },
      kubernetes: {
        namespace: 'default',
        pod: { name: 'p', uid: 'uid-p' },
        container: { name: 'app', restart_count: 0 },
        node: { name: 'node-a' },
      },
      fields: { user: 'alice' },
    });
    expect(await registry.getSingleMetricAsString('vigil_elasticsearch_records_total')).toMatch(/result="stored"} 3/);
  });

  it('keeps nanoseconds, pod labels and annotations in the document', async () => {
    const r = testLogRecord({ t: T0 + 123_456_789n, offset: 0, message: 'x' });
    const labelled: LogRecord = { ...r, source: { ...r.source, podLabels: { 'app.kubernetes.io/name': 'api' }, podAnnotations: { 'a/b': 'c' } } };
    await store.append([labelled]);
    const doc = server.requestsOf('bulk')[0]!.ndjson![1] as Json;
    expect(doc['@timestamp']).toBe('2025-03-10T00:00:00.123456789Z');
    expect(doc.kubernetes.labels).toEqual({ 'app.kubernetes.io/name': 'api' });
    expect(doc.kubernetes.annotations).toEqual({ 'a/b': 'c' });
  });

  it('counts 409 as a duplicate and a mapping error as a rejection with Elasticsearch’s reason', async () => {
    server.respond('bulk', (req) =>
      bulkResponse(req, [201, 409, { status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [log.offset] of type [long]' }, 201]),
    );
    const res = await store.append([rec(1), rec(2), rec(3), rec(4)]);
    expect(res.stored).toBe(2);
    expect(res.duplicates).toBe(1);
    expect(res.rejected).toEqual([{ index: 2, reason: 'mapper_parsing_exception: failed to parse field [log.offset] of type [long]' }]);
  });

  it('rejects records Elasticsearch could not hold without sending them, keeping batch positions', async () => {
    const tooOld = { ...rec(1), timeNs: -1n };
    const beyondDateNanos = { ...rec(2), timeNs: 2n ** 63n };
    const res = await store.append([tooOld, rec(3), beyondDateNanos]);
    expect(res.stored).toBe(1);
    expect(res.rejected.map((r) => r.index)).toEqual([0, 2]);
    expect(res.rejected[0]!.reason).toMatch(/date_nanos/);
    expect(bulkActions(server.requestsOf('bulk')[0]!)).toHaveLength(1);
    server.reset();
    expect(await store.append([tooOld])).toEqual({ stored: 0, duplicates: 0, rejected: [{ index: 0, reason: expect.any(String) }] });
    expect(server.requests).toEqual([]);
  });

  it('merges local and Elasticsearch rejections in batch order', async () => {
    server.respond('bulk', (req) => bulkResponse(req, [400, 201]));
    const res = await store.append([rec(1), { ...rec(2), timeNs: -5n }, rec(3)]);
    expect(res.rejected.map((r) => r.index)).toEqual([0, 1]);
  });

  it.each([429, 503])('fails the whole append with LogUnavailableError when an item gets %i', async (status) => {
    server.respond('bulk', (req) => bulkResponse(req, [201, status, 201]));
    const err = await store.append([rec(1), rec(2), rec(3)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`status ${status}`));
  });

  it.each([
    [429, 'es_rejected_execution_exception'],
    [500, 'exception'],
    [503, 'master_not_discovered_exception'],
  ])('fails with LogUnavailableError when the bulk request gets %i', async (status, type) => {
    server.respond('bulk', () => esError(status, type, 'try later'));
    await expect(store.append([rec(1)])).rejects.toBeInstanceOf(LogUnavailableError);
  });

  it('fails with ElasticsearchRequestError, not as unavailable, when the request itself is refused', async () => {
    server.respond('bulk', () => esError(403, 'security_exception', 'action [indices:data/write/bulk] is unauthorized'));
    const err = await store.append([rec(1)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ElasticsearchRequestError);
    expect(err).not.toBeInstanceOf(LogUnavailableError);
    expect((err as ElasticsearchRequestError).status).toBe(403);
    expect((err as Error).message).toMatch(/security_exception/);
  });

  it('sends a large batch in several requests, each within the byte limit', async () => {
    const small = await ElasticsearchLogStore.open({ node: server.url, maxBulkBytes: 2000 });
    try {
      server.reset();
      const batch = Array.from({ length: 20 }, (_, i) => rec(i, { message: `line ${i} ${'x'.repeat(200)}` }));
      expect(await small.append(batch)).toEqual({ stored: 20, duplicates: 0, rejected: [] });
      const bulks = server.requestsOf('bulk');
      expect(bulks.length).toBeGreaterThan(2);
      for (const b of bulks) expect(Buffer.byteLength(b.rawBody)).toBeLessThanOrEqual(2000);
      expect(bulks.flatMap((b) => bulkActions(b).map((a) => a.id))).toEqual(batch.map((r) => r.id));
    } finally {
      await small.close();
    }
  });

  it('sends nothing when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(store.append([rec(1)], ac.signal)).rejects.toThrow();
    expect(server.requestsOf('bulk')).toEqual([]);
  });
});

describe('search', () => {
  const m = (name: string, type: '=' | '!=' | '=~' | '!~', value: string) => new Matcher(type, name, value);

  it.each<[string, Matcher[], LineFilter[], (q: Json) => void]>([
    ['= on each label', ['namespace', 'pod', 'container', 'node', 'stream', 'level'].map((n) => m(n, '=', 'v')), [], (q) => {
      expect(q.bool.filter.slice(1).map((c: Json) => Object.keys(c.term)[0])).toEqual([
        'kubernetes.namespace',
        'kubernetes.pod.name',
        'kubernetes.container.name',
        'kubernetes.node.name',
        'stream',
        'log.level',
      ]);
    }],
    ['!=', [m('namespace', '!=', 'kube-system')], [], (q) => expect(q.bool.must_not).toEqual([{ term: { 'kubernetes.namespace': { value: 'kube-system' } } }])],
    ['=~ of plain alternatives is terms', [m('namespace', '=~', 'shop|billing')], [], (q) =>
      expect(q.bool.filter[1]).toEqual({ terms: { 'kubernetes.namespace': ['shop', 'billing'] } })],
    ['=~ pattern is an anchored regexp', [m('pod', '=~', 'cart-.*')], [], (q) => expect(q.bool.filter[1]).toEqual({ regexp: { 'kubernetes.pod.name': { value: 'cart\\-.*' } } })],
    ['(?i) becomes classes', [m('stream', '=~', '(?i)STDERR')], [], (q) => expect(q.bool.filter[1].regexp.stream.value).toBe('[Ss][Tt][Dd][Ee][Rr][Rr]')],
    ['!~', [m('container', '!~', 'app|side.*')], [], (q) => expect(q.bool.must_not[0]).toEqual({ regexp: { 'kubernetes.container.name': { value: 'app|side.*' } } })],
    ['=~ .* needs no clause', [m('pod', '=~', '.*')], [], (q) => expect(q.bool.filter).toHaveLength(1)],
    ['!~ .* matches nothing', [m('pod', '!~', '.*')], [], (q) => expect(q.bool.filter[1]).toEqual({ match_none: {} })],
    ['a label no record has, = ""', [m('app', '=', '')], [], (q) => expect(q.bool.filter).toHaveLength(1)],
    ['a label no record has, = value', [m('app', '=', 'x')], [], (q) => expect(q.bool.filter[1]).toEqual({ match_none: {} })],
    ['|= is a wildcard on the exact field, escaped', [], [{ op: '|=', value: 'a*b?c\\d' }], (q) =>
      expect(q.bool.filter[1]).toEqual({ wildcard: { 'message.wildcard': { value: '*a\\*b\\?c\\\\d*' } } })],
    ['!=', [], [{ op: '!=', value: 'GET' }], (q) => expect(q.bool.must_not[0]).toEqual({ wildcard: { 'message.wildcard': { value: '*GET*' } } })],
    ['|~ is an unanchored regexp on the exact field', [], [{ op: '|~', value: 'time.*out' }], (q) =>
      expect(q.bool.filter[1]).toEqual({ regexp: { 'message.wildcard': { value: '.*time[^\\\n]*out.*' } } })],
    ['!~', [], [{ op: '!~', value: '^GET' }], (q) => expect(q.bool.must_not[0]).toEqual({ regexp: { 'message.wildcard': { value: 'GET.*' } } })],
    ['|= "" needs no clause', [], [{ op: '|=', value: '' }], (q) => expect(q.bool.filter).toHaveLength(1)],
    ['!= "" matches nothing', [], [{ op: '!=', value: '' }], (q) => expect(q.bool.filter[1]).toEqual({ match_none: {} })],
    ['everything at once', [m('namespace', '=', 'shop'), m('level', '!~', 'debug|info')], [{ op: '|~', value: '(?i)error' }, { op: '!=', value: 'health' }], (q) => {
      expect(q.bool.filter).toHaveLength(3);
      expect(q.bool.must_not).toHaveLength(2);
    }],
  ])('%s', async (_name, matchers, lineFilters, check) => {
    await store.search(request({ matchers, lineFilters }));
    const [body] = searchBodies();
    expect(body!.query.bool.filter[0]).toEqual({
      range: { '@timestamp': { gte: '2025-03-10T00:00:00.000000000Z', lt: '2025-03-11T00:00:00.000000000Z', format: 'strict_date_optional_time_nanos' } },
    });
    check(body!.query);
  });

  it('sorts by time, offset and id in the direction asked, asks for one more than the limit, and counts no totals', async () => {
    for (const direction of ['forward', 'backward'] as const) {
      server.reset();
      await store.search(request({ direction, limit: 25 }));
      const [body] = searchBodies();
      const order = direction === 'forward' ? 'asc' : 'desc';
      expect(body!.sort).toEqual([
        { '@timestamp': { order, format: 'strict_date_optional_time_nanos', unmapped_type: 'date_nanos' } },
        { 'log.offset': { order, unmapped_type: 'long' } },
        { 'vigil.id': { order, unmapped_type: 'keyword' } },
      ]);
      expect(body!.size).toBe(26);
      expect(body!.track_total_hits).toBe(false);
      expect(body!.search_after).toBeUndefined();
    }
  });

  it('names the day indices of a short range and uses the pattern for a long one, tolerating missing days', async () => {
    await store.search(request({ startNs: T0 + HOUR, endNs: T0 + 2n * DAY + HOUR }));
    await store.search(request({ startNs: T0, endNs: T0 + DAY }));
    await store.search(request({ startNs: 0n, endNs: T0 }));
    const [a, b, c] = server.requestsOf('search');
    expect(decodeURIComponent(a!.pathParams.index!)).toBe('vigil-logs-2025.03.10,vigil-logs-2025.03.11,vigil-logs-2025.03.12');
    expect(b!.pathParams.index).toBe('vigil-logs-2025.03.10');
    expect(c!.pathParams.index).toBe('vigil-logs-*');
    for (const r of [a, b, c]) expect(r!.query).toMatchObject({ ignore_unavailable: 'true', allow_no_indices: 'true' });
    // An open start and an end past what date_nanos holds leave the range open on that side.
    server.reset();
    await store.search(request({ startNs: 0n, endNs: 2n ** 64n }));
    expect(searchBodies()[0]!.query.bool.filter[0]).toEqual({ range: { '@timestamp': { format: 'strict_date_optional_time_nanos' } } });
  });

  it('reads hits back into records and pages on with search_after from the cursor', async () => {
    const records = [rec(5), rec(4), rec(3)];
    server.respondOnce('search', () => searchResponse(records.map(hitOf)));
    const page = await store.search(request({ limit: 2 }));
    expect(page.records.map((r) => r.id)).toEqual([records[0]!.id, records[1]!.id]);
    expect(page.records[0]).toEqual({
      id: records[0]!.id,
      timeNs: records[0]!.timeNs,
      stream: 'stdout',
      level: 'info',
      message: 'line 5',
      namespace: 'default',
      pod: 'api-0',
      podUid: 'uid-api-0',
      container: 'app',
      restart: 0,
      node: 'node-a',
      fileKey: records[0]!.source.fileKey,
      offset: 500,
    });
    expect(page.nextCursor).toBe(encodeLogCursor('backward', records[1]!));
    expect(decodeLogCursor(page.nextCursor!, 'backward').timeNs).toBe(records[1]!.timeNs);

    await store.search(request({ limit: 2, cursor: page.nextCursor! }));
    const second = searchBodies()[1]!;
    expect(second.search_after).toEqual([formatTimeNs(records[1]!.timeNs), 400, records[1]!.id]);
  });

  it('gives no cursor when Elasticsearch has no more than the limit', async () => {
    server.respondOnce('search', () => searchResponse([rec(2), rec(1)].map(hitOf)));
    expect((await store.search(request({ limit: 2 }))).nextCursor).toBeUndefined();
  });

  it('fetches a limit above one request’s window in several requests', async () => {
    const big = (from: number, n: number) => Array.from({ length: n }, (_, i) => rec(from + i));
    server.respondOnce('search', () => searchResponse(big(0, 5000).map(hitOf)));
    server.respondOnce('search', () => searchResponse(big(5000, 10).map(hitOf)));
    const res = await store.search(request({ direction: 'forward', limit: 7000 }));
    expect(res.records).toHaveLength(5010);
    const bodies = searchBodies();
    expect(bodies.map((b) => b.size)).toEqual([5000, 2001]);
    expect(bodies[1]!.search_after).toEqual([formatTimeNs(rec(4999).timeNs), 4999 * 100, rec(4999).id]);
  });

  it('rejects invalid regexps with RegexSyntaxError and inexpressible ones with RegexpTranslationError, before sending', async () => {
    await expect(store.search(request({ lineFilters: [{ op: '|~', value: 'a(b' }] }))).rejects.toBeInstanceOf(RegexSyntaxError);
    await expect(store.search(request({ lineFilters: [{ op: '!~', value: '(?<=x)y' }] }))).rejects.toBeInstanceOf(RegexSyntaxError);
    await expect(store.search(request({ lineFilters: [{ op: '|~', value: '\\bword\\b' }] }))).rejects.toBeInstanceOf(RegexpTranslationError);
    await expect(store.search(request({ matchers: [new Matcher('=~', 'pod', '\\pL+')] }))).rejects.toBeInstanceOf(RegexpTranslationError);
    expect(server.requestsOf('search')).toEqual([]);
  });

  it('sends nothing for an empty range, an aborted signal or a bad cursor', async () => {
    expect(await store.search(request({ startNs: T0, endNs: T0 }))).toEqual({ records: [] });
    const ac = new AbortController();
    ac.abort();
    await expect(store.search(request(), ac.signal)).rejects.toThrow();
    await expect(store.search(request({ cursor: 'garbage!' }))).rejects.toThrow(/invalid log cursor/);
    expect(server.requestsOf('search')).toEqual([]);
  });

  it('turns a refused query into ElasticsearchRequestError and an overloaded cluster into LogUnavailableError', async () => {
    server.respondOnce('search', () => esError(400, 'search_phase_execution_exception', 'too_complex_to_determinize_exception'));
    await expect(store.search(request())).rejects.toBeInstanceOf(ElasticsearchRequestError);
    server.respondOnce('search', () => esError(429, 'es_rejected_execution_exception', 'queue full'));
    await expect(store.search(request())).rejects.toBeInstanceOf(LogUnavailableError);
  });
});

describe('context', () => {
  it('finds the anchor by id, then pages backward and forward from it in its container stream', async () => {
    const own = [1, 2, 3, 4, 5].map((i) => rec(i, { uid: 'uid-1', restart: 2 }));
    const anchor = own[2]!;
    const answers: Record<string, ReturnType<typeof searchResponse>> = {
      anchor: searchResponse([hitOf(anchor)]),
      desc: searchResponse([own[1]!, own[0]!].map(hitOf)),
      asc: searchResponse([own[3]!].map(hitOf)),
    };
    server.respond('search', (req: EsRequest) => {
      const body = req.body as Json;
      if (body.query.term) return answers.anchor!;
      return body.sort[0]['@timestamp'].order === 'desc' ? answers.desc! : answers.asc!;
    });
    const res = await store.context({ id: anchor.id, before: 2, after: 3 });
    expect(res.anchor?.id).toBe(anchor.id);
    expect(res.before.map((r) => r.message)).toEqual(['line 1', 'line 2']);
    expect(res.after.map((r) => r.message)).toEqual(['line 4']);

    const [find, ...around] = server.requestsOf('search');
    expect(find!.pathParams.index).toBe('vigil-logs-*');
    expect((find!.body as Json).query).toEqual({ term: { 'vigil.id': { value: anchor.id } } });
    expect(around).toHaveLength(2);
    for (const r of around) {
      const body = r.body as Json;
      expect(body.query.bool.filter).toEqual([
        { term: { 'kubernetes.pod.uid': { value: 'uid-1' } } },
        { term: { 'kubernetes.container.name': { value: 'app' } } },
        { term: { 'kubernetes.container.restart_count': { value: 2 } } },
      ]);
      expect(body.search_after).toEqual([formatTimeNs(anchor.timeNs), anchor.offset, anchor.id]);
      expect(body.size).toBe(body.sort[0]['@timestamp'].order === 'desc' ? 2 : 3);
    }
  });

  it('returns no anchor for an unknown id and skips the searches a zero count needs none of', async () => {
    expect(await store.context({ id: 'nope', before: 5, after: 5 })).toEqual({ before: [], after: [] });
    expect(server.requestsOf('search')).toHaveLength(1);
    server.reset();
    server.respond('search', () => searchResponse([hitOf(rec(1))]));
    const res = await store.context({ id: rec(1).id, before: 0, after: 0 });
    expect(res.anchor?.id).toBe(rec(1).id);
    expect(server.requestsOf('search')).toHaveLength(1);
  });
});

describe('volume', () => {
  it('is a count-only date_histogram with fixed, epoch-aligned intervals and non-empty buckets only', async () => {
    server.respondOnce('search', () =>
      searchResponse([], {
        volume: {
          buckets: [
            { key: Number((T0 + 10n * HOUR) / 1_000_000n), key_as_string: '2025-03-10T10:00:00.000Z', doc_count: 3 },
            { key: Number((T0 + 11n * HOUR) / 1_000_000n), key_as_string: '2025-03-10T11:00:00.000Z', doc_count: 5 },
          ],
        },
      }),
    );
    const buckets = await store.volume({ matchers: [new Matcher('=', 'pod', 'api-0')], lineFilters: [{ op: '|=', value: 'GET' }], startNs: T0, endNs: T0 + DAY }, HOUR);
    expect(buckets).toEqual([
      { startNs: T0 + 10n * HOUR, count: 3 },
      { startNs: T0 + 11n * HOUR, count: 5 },
    ]);
    const [body] = searchBodies();
    expect(body!.size).toBe(0);
    expect(body!.track_total_hits).toBe(false);
    expect(body!.aggregations).toEqual({ volume: { date_histogram: { field: '@timestamp', fixed_interval: '3600000ms', min_doc_count: 1 } } });
    expect(body!.query.bool.filter).toHaveLength(3);
  });

  it('refuses a step finer than a millisecond and is empty on an empty store', async () => {
    await expect(store.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY }, 1500n)).rejects.toBeInstanceOf(RangeError);
    expect(await store.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY }, MINUTE)).toEqual([]);
  });
});

describe('streams', () => {
  it('is a composite aggregation over the stream keys with first and last documents, paged by after_key', async () => {
    const bucket = (i: number) => ({
      key: { namespace: 'ns', pod: `pod-${String(i).padStart(3, '0')}`, container: 'app', pod_uid: `uid-${i}`, node: 'node-a' },
      doc_count: 2,
      first: { hits: { hits: [{ _index: 'vigil-logs-2025.03.10', _id: `f${i}`, _source: { '@timestamp': formatTimeNs(T0 + BigInt(i) * SECOND + 7n) } }] } },
      last: { hits: { hits: [{ _index: 'vigil-logs-2025.03.10', _id: `l${i}`, _source: { '@timestamp': formatTimeNs(T0 + HOUR + BigInt(i)) } }] } },
    });
    const page1 = Array.from({ length: 500 }, (_, i) => bucket(i));
    server.respondOnce('search', () => searchResponse([], { streams: { after_key: page1[499]!.key, buckets: page1 } }));
    server.respondOnce('search', () => searchResponse([], { streams: { buckets: [bucket(500)] } }));
    const streams = await store.streams({
      matchers: [new Matcher('=', 'namespace', 'ns')],
      lineFilters: [{ op: '|=', value: 'ignored' }],
      startNs: T0,
      endNs: T0 + DAY,
    });
    expect(streams).toHaveLength(501);
    expect(streams[7]).toEqual({ namespace: 'ns', pod: 'pod-007', podUid: 'uid-7', container: 'app', node: 'node-a', firstSeenNs: T0 + 7n * SECOND + 7n, lastSeenNs: T0 + HOUR + 7n });
    const [first, second] = searchBodies();
    expect(first!.size).toBe(0);
    const composite = first!.aggregations.streams.composite;
    expect(composite.sources.map((s: Json) => [Object.keys(s)[0], Object.values(s)[0].terms.field])).toEqual([
      ['namespace', 'kubernetes.namespace'],
      ['pod', 'kubernetes.pod.name'],
      ['container', 'kubernetes.container.name'],
      ['pod_uid', 'kubernetes.pod.uid'],
      ['node', 'kubernetes.node.name'],
    ]);
    expect(composite.after).toBeUndefined();
    expect(first!.aggregations.streams.aggregations.first.top_hits).toEqual({ size: 1, sort: [{ '@timestamp': { order: 'asc' } }], _source: { includes: ['@timestamp'] } });
    expect(first!.aggregations.streams.aggregations.last.top_hits.sort).toEqual([{ '@timestamp': { order: 'desc' } }]);
    expect(second!.aggregations.streams.composite.after).toEqual(page1[499]!.key);
    // Line filters do not apply to streams.
    expect(JSON.stringify(first!.query)).not.toContain('ignored');
  });
});

describe('retention', () => {
  it('deletes whole days before the cutoff by name and the older documents of the cutoff’s day', async () => {
    const names = ['2025.03.07', '2025.03.08', '2025.03.09', '2025.03.10', '2025.03.11'].map((d) => `vigil-logs-${d}`);
    server.respond('indices-resolve-index', () => ({
      body: {
        indices: [...names, 'vigil-logs-archive', 'vigil-logs-2025.02.30'].map((name) => ({ name, attributes: ['open'] })),
        aliases: [],
        data_streams: [],
      },
    }));
    const cutoff = T0 + 6n * HOUR;
    expect(await store.applyRetention(cutoff)).toBe(3);
    const [resolve] = server.requestsOf('indices-resolve-index');
    expect(resolve!.path).toBe('/_resolve/index/vigil-logs-*');
    expect(resolve!.query.expand_wildcards).toBe('open,closed');
    const [del] = server.requestsOf('indices-delete');
    expect(decodeURIComponent(del!.pathParams.index!)).toBe('vigil-logs-2025.03.07,vigil-logs-2025.03.08,vigil-logs-2025.03.09');
    const [dbq] = server.requestsOf('delete-by-query');
    expect(dbq!.pathParams.index).toBe('vigil-logs-2025.03.10');
    expect((dbq!.body as Json).query).toEqual({ range: { '@timestamp': { lt: formatTimeNs(cutoff), format: 'strict_date_optional_time_nanos' } } });
    expect(dbq!.query.conflicts).toBe('proceed');
  });

  it('deletes in batches, and needs no delete-by-query when the cutoff is midnight', async () => {
    const names = Array.from({ length: 120 }, (_, i) => `vigil-logs-${new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10).replace(/-/g, '.')}`);
    server.respond('indices-resolve-index', () => ({ body: { indices: names.map((name) => ({ name, attributes: ['open'] })), aliases: [], data_streams: [] } }));
    expect(await store.applyRetention(parseTimeNs('2025-01-01T00:00:00Z'))).toBe(120);
    expect(server.requestsOf('indices-delete').map((r) => decodeURIComponent(r.pathParams.index!).split(',').length)).toEqual([50, 50, 20]);
    expect(server.requestsOf('delete-by-query')).toEqual([]);
  });

  it('does nothing on an empty store', async () => {
    expect(await store.applyRetention(T0)).toBe(0);
    expect(server.requestsOf('indices-delete')).toEqual([]);
  });
});

describe('refresh', () => {
  it('refreshes every index of the store', async () => {
    await store.refresh();
    const [r] = server.requestsOf('indices-refresh');
    expect(r!.path).toBe('/vigil-logs-*/_refresh');
  });
});

describe('when Elasticsearch cannot be reached', () => {
  it('reports LogUnavailableError for connection refused, on every operation', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = new ElasticsearchLogStore({ node: `http://127.0.0.1:${port}`, requestTimeoutMs: 2000 });
    try {
      await expect(ElasticsearchLogStore.open({ node: `http://127.0.0.1:${port}` })).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.append([rec(1)])).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.search(request())).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.context({ id: 'x', before: 1, after: 1 })).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY }, HOUR)).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.streams({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY })).rejects.toBeInstanceOf(LogUnavailableError);
      await expect(down.applyRetention(T0)).rejects.toBeInstanceOf(LogUnavailableError);
    } finally {
      await down.close();
    }
  });
});

describe('the validating server', () => {
  it('reports a malformed request sent directly, and answers it with 400', async () => {
    const res = await fetch(`${server.url}/vigil-logs-*/_search?sizee=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { bool: { filtr: [{ term: { stream: { value: 'stdout' } } }] } }, sort: [{ '@timestamp': { ordr: 'asc' } }] }),
    });
    expect(res.status).toBe(400);
    const found = server.violations.map((v) => `${v.where}: ${v.message}`);
    expect(found).toContain('query.sizee: unknown parameter for search-3');
    expect(found.some((f) => f.startsWith('body:') && f.includes('"filtr"'))).toBe(true);
    server.violations.length = 0;
  });

  it.each<[string, string, string, string, RegExp]>([
    ['an unknown endpoint', 'GET', '/_nope/x/y/z', '', /no operation matches/],
    ['a wrong method', 'DELETE', '/_bulk', '', /not allowed on \/_bulk/],
    ['a bad enum value', 'POST', '/x/_search?expand_wildcards=everything', '', /allowed values/],
    ['a non-number where a number goes', 'POST', '/x/_search', '{"size":"ten"}', /\/size must be number/],
    ['a misspelt range bound', 'POST', '/x/_search', '{"query":{"range":{"@timestamp":{"gtee":"now"}}}}', /gtee/],
    ['a regexp query without value', 'POST', '/x/_search', '{"query":{"regexp":{"f":{"flags":"ALL"}}}}', /value/],
    ['a body that is not JSON', 'POST', '/x/_search', '{"size":', /not JSON/],
    ['a bulk action without a target index', 'POST', '/_bulk', '{"create":{"_id":"1"}}\n{"a":1}\n', /names no _index/],
    ['a bulk action of an unknown kind', 'POST', '/_bulk', '{"upsert":{"_index":"a"}}\n{"a":1}\n', /upsert/],
    ['a bulk source that is not an object', 'POST', '/_bulk', '{"create":{"_index":"a","_id":"1"}}\n"text"\n', /must be a JSON object/],
    ['a bulk body without its final newline', 'POST', '/_bulk', '{"delete":{"_index":"a","_id":"1"}}', /does not end with a newline/],
    ['a mapping type Elasticsearch does not have', 'PUT', '/_index_template/t', '{"template":{"mappings":{"properties":{"a":{"type":"strng"}}}}}', /\/template\/mappings\/properties\/a\/type must be equal to one of/],
    ['two kinds in one aggregation', 'POST', '/x/_search', '{"aggregations":{"a":{"terms":{"field":"x"},"max":{"field":"y"}}}}', /\/aggregations\/a must have exactly one of/],
    ['an unknown aggregation kind', 'POST', '/x/_search', '{"aggregations":{"a":{"termz":{"field":"x"}}}}', /\/aggregations\/a must have exactly one of/],
    ['a misspelt composite source key', 'POST', '/x/_search', '{"aggregations":{"a":{"composite":{"sources":[{"n":{"terms":{"feld":"f"}}}]}}}}', /"feld"/],
    ['a misspelt sort option', 'POST', '/x/_search', '{"sort":[{"@timestamp":{"ordr":"asc"}}]}', /"ordr"/],
    ['an unknown query parameter value', 'POST', '/x/_delete_by_query?conflicts=proceeed', '{"query":{"match_all":{}}}', /query\.conflicts/],
  ])('reports %s', async (_name, method, url, body, expected) => {
    const ndjson = url.includes('_bulk');
    await fetch(`${server.url}${url}`, {
      method,
      headers: { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
      ...(body !== '' && { body }),
    });
    expect(server.violations.length).toBeGreaterThan(0);
    expect(server.violations.map((v) => `${v.where}: ${v.message}`).join('\n')).toMatch(expected);
    server.violations.length = 0;
  });

  it('answers with responses that match the description’s response schemas', async () => {
    await store.append([rec(1)]);
    server.respond('bulk', (req) => bulkResponse(req, [201, 409, 400, 429, 503]));
    await store.append([rec(1), rec(2), rec(3), rec(4), rec(5)]).catch(() => undefined);
    await store.search(request());
    await store.volume({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY }, HOUR);
    await store.streams({ matchers: [], lineFilters: [], startNs: T0, endNs: T0 + DAY });
    server.respondOnce('indices-resolve-index', () => ({
      body: { indices: ['vigil-logs-2025.03.09', 'vigil-logs-2025.03.10'].map((name) => ({ name, attributes: ['open'] })), aliases: [], data_streams: [] },
    }));
    await store.applyRetention(T0 + HOUR);
    await store.refresh();
    const v = server.validator;
    const replay = async (r: EsRequest) => {
      const answer = await server.handle(r.method, r.url, r.headers, r.rawBody);
      return v.checkResponse(r.operationId!, answer.status ?? 200, answer.body);
    };
    const checked = new Set<string>();
    for (const r of [...server.requests]) {
      expect(await replay(r), `${r.method} ${r.url}`).toEqual([]);
      checked.add(r.operation!);
    }
    expect([...checked].sort()).toEqual(['bulk', 'delete-by-query', 'indices-delete', 'indices-put-index-template', 'indices-refresh', 'indices-resolve-index', 'search']);
    // The response check itself can fail.
    expect(v.checkResponse('bulk', 200, { errors: 'no', items: [] })).not.toEqual([]);
  });
});
