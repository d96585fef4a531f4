/**
 * The scale-out log store: Elasticsearch 8, one index per UTC day (`indices.ts`), queries planned
 * into the query DSL (`query.ts`), with the semantics every `LogStore` shares
 * (`store-contract.ts`).
 *
 * Appends are `_bulk` `create` actions with `_id` = the record's id, into the index of the
 * record's own day, so any replay is idempotent: 201 is stored, 409 a duplicate. An item refused
 * for being overloaded or unavailable (429, 5xx) fails the whole append with `LogUnavailableError`
 * and the caller retries the batch (the stored part then comes back as duplicates); any other
 * item error (a mapping conflict) rejects that record with Elasticsearch's reason.
 */
import { Client, errors, type estypes, type TransportRequestOptions } from '@elastic/elasticsearch';
import { Counter, Histogram, Registry } from 'prom-client';
import { parseTimeNs, type LogRecord } from '../../../model/logs.js';
import { decodeLogCursor, encodeLogCursor } from '../cursor.js';
import { compareLogStreams } from '../record-order.js';
import {
  LogUnavailableError,
  type AppendResult,
  type LogContextRequest,
  type LogContextResult,
  type LogSearchRequest,
  type LogSearchResult,
  type LogSelection,
  type LogStore,
  type LogStreamInfo,
  type LogVolumeBucket,
  type RejectedRecord,
  type StoredLogRecord,
} from '../interface.js';
import type { LogRecordKey } from '../record-order.js';
import { fromSource, LogDocumentError, recordProblem, STORED_RECORD_SOURCE, toDocument } from './documents.js';
import { dayIndexName, dayOf, dayOfIndex, dayStartNs, FIELDS, indexPattern, indexTemplate } from './indices.js';
import { boolQuery, recordSort, searchAfter, selectionQuery, timeRange } from './query.js';

export interface ElasticsearchLogStoreOptions {
  /** Base URL of the cluster; ignored when `client` is given. */
  readonly node?: string;
  readonly auth?: { readonly username: string; readonly password: string } | { readonly apiKey: string };
  /** A client to use instead of creating one; the store does not close it. */
  readonly client?: Client;
  /** Indices are `<prefix>-YYYY.MM.DD` (`storage.logs.elasticsearch.index_prefix`). */
  readonly indexPrefix?: string;
  /** Per-request timeout. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Retries of the client itself on connection errors and 502/503/504. Default 0: the store
   * reports `LogUnavailableError` and its caller, which knows about backoff and pausing
   * consumption, decides when to try again.
   */
  readonly maxRetries?: number;
  /** Largest `_bulk` body; a bigger batch is sent in several requests. Default 5 MB. */
  readonly maxBulkBytes?: number;
  /** Longest message accepted, in UTF-8 bytes; longer records are rejected. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  readonly registry?: Registry;
}

/** A request Elasticsearch refused for a reason retrying cannot fix (a bad query, no permission). */
export class ElasticsearchRequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly type: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`elasticsearch ${operation} failed with status ${status}: ${type}: ${reason}`, options);
    this.name = 'ElasticsearchRequestError';
  }
}

const DEFAULT_PREFIX = 'vigil-logs';
const DEFAULT_MAX_BULK_BYTES = 5_000_000;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Elasticsearch's `index.max_result_window` caps one page at 10 000 hits. */
const MAX_HITS_PER_REQUEST = 5000;
/**
 * A search names each day's index while the list stays short (the request line is limited to
 * 4 KiB); wider ranges use the pattern and let the time filter skip the other shards.
 */
const MAX_NAMED_INDICES = 62;
const STREAMS_PAGE = 500;
const DELETE_BATCH = 50;
const MAX_REASON_CHARS = 1000;

type Operation =
  | 'put_template'
  | 'bulk'
  | 'search'
  | 'context'
  | 'volume'
  | 'streams'
  | 'resolve_index'
  | 'delete_index'
  | 'delete_by_query'
  | 'refresh';

interface StoreMetrics {
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly duration: Histogram<'operation'>;
  readonly records: Counter<'result'>;
}

function createMetrics(registry: Registry): StoreMetrics {
  return {
    requests: new Counter({
      name: 'vigil_elasticsearch_requests_total',
      help: 'Requests of the log store to Elasticsearch, by operation and outcome (ok, unavailable, error, aborted).',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'vigil_elasticsearch_request_duration_seconds',
      help: 'Duration of the log store’s requests to Elasticsearch.',
      labelNames: ['operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    records: new Counter({
      name: 'vigil_elasticsearch_records_total',
      help: 'Log records appended, by result: stored, duplicate (already present) or rejected.',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}

/** Elasticsearch's rules for index names, checked up front so a bad prefix fails at start. */
function checkPrefix(prefix: string): void {
  if (
    prefix.length === 0 ||
    Buffer.byteLength(prefix, 'utf8') > 200 ||
    prefix !== prefix.toLowerCase() ||
    /[\\/*?"<>| ,#:]/.test(prefix) ||
    /^[-_+.]/.test(prefix)
  ) {
    throw new RangeError(
      `invalid Elasticsearch index prefix ${JSON.stringify(prefix)}: lowercase, at most 200 bytes, none of \\ / * ? " < > | space , # :, not starting with - _ + .`,
    );
  }
}

interface EsErrorCause {
  readonly type?: string;
  readonly reason?: string | null;
  readonly caused_by?: EsErrorCause;
}

function describeCause(cause: EsErrorCause | undefined): { type: string; reason: string } {
  const type = cause?.type ?? 'unknown';
  let reason = cause?.reason ?? '';
  if (cause?.caused_by?.reason) reason += ` (caused by ${cause.caused_by.type ?? 'unknown'}: ${cause.caused_by.reason})`;
  return { type, reason: reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason };
}

function isUnavailableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function keyOf(r: StoredLogRecord): LogRecordKey {
  return { timeNs: r.timeNs, offset: r.offset, id: r.id };
}

export class ElasticsearchLogStore implements LogStore {
  readonly name = 'elasticsearch';
  readonly indexPrefix: string;
  readonly #client: Client;
  readonly #ownsClient: boolean;
  readonly #requestTimeoutMs: number;
  readonly #maxBulkBytes: number;
  readonly #maxMessageBytes: number;
  readonly #metrics: StoreMetrics;
  #closed = false;

  /** Creates the store and installs its index template. */
  static async open(opts: ElasticsearchLogStoreOptions): Promise<ElasticsearchLogStore> {
    const store = new ElasticsearchLogStore(opts);
    try {
      await store.installTemplate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  constructor(opts: ElasticsearchLogStoreOptions) {
    this.indexPrefix = opts.indexPrefix ?? DEFAULT_PREFIX;
    checkPrefix(this.indexPrefix);
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.#maxBulkBytes = opts.maxBulkBytes ?? DEFAULT_MAX_BULK_BYTES;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#metrics = createMetrics(opts.registry ?? new Registry());
    if (opts.client) {
      this.#client = opts.client;
      this.#ownsClient = false;
    } else {
      if (opts.node === undefined) throw new RangeError('Elasticsearch log store needs a node URL or a client');
      this.#client = new Client({
        node: opts.node,
        ...(opts.auth !== undefined && { auth: opts.auth }),
        maxRetries: opts.maxRetries ?? 0,
        requestTimeout: this.#requestTimeoutMs,
      });
      this.#ownsClient = true;
    }
  }

  /** `PUT /_index_template/<prefix>`: daily indices created from now on get these mappings. */
  async installTemplate(signal?: AbortSignal): Promise<void> {
    await this.#request('put_template', signal, (o) => this.#client.indices.putIndexTemplate({ name: this.indexPrefix, ...indexTemplate(this.indexPrefix) }, o));
  }

  /** Makes everything appended so far searchable; for tests and tools, never on the write path. */
  async refresh(signal?: AbortSignal): Promise<void> {
    await this.#request('refresh', signal, (o) =>
      this.#client.indices.refresh({ index: indexPattern(this.indexPrefix), ignore_unavailable: true, allow_no_indices: true }, o),
    );
  }

  async append(batch: readonly LogRecord[], signal?: AbortSignal): Promise<AppendResult> {
    this.#checkOpen();
    signal?.throwIfAborted();
    const rejected: RejectedRecord[] = [];
    // One chunk = NDJSON lines for one `_bulk` request, and the batch position of each action.
    const chunks: Array<{ lines: string[]; positions: number[] }> = [];
    let chunk = { lines: [] as string[], positions: [] as number[] };
    let chunkBytes = 0;
    for (const [index, r] of batch.entries()) {
      const problem = recordProblem(r, this.#maxMessageBytes);
      if (problem !== undefined) {
        rejected.push({ index, reason: problem });
        continue;
      }
      const action = JSON.stringify({ create: { _index: dayIndexName(this.indexPrefix, dayOf(r.timeNs)), _id: r.id } });
      const doc = JSON.stringify(toDocument(r));
      const bytes = Buffer.byteLength(action, 'utf8') + Buffer.byteLength(doc, 'utf8') + 2;
      if (chunk.positions.length > 0 && chunkBytes + bytes > this.#maxBulkBytes) {
        chunks.push(chunk);
        chunk = { lines: [], positions: [] };
        chunkBytes = 0;
      }
      chunk.lines.push(action, doc);
      chunk.positions.push(index);
      chunkBytes += bytes;
    }
    if (chunk.positions.length > 0) chunks.push(chunk);
    this.#metrics.records.inc({ result: 'rejected' }, rejected.length);

    let stored = 0;
    let duplicates = 0;
    for (const { lines, positions } of chunks) {
      const res = await this.#request('bulk', signal, (o) => this.#client.bulk({ operations: lines }, o));
      if (res.items.length !== positions.length) {
        throw new Error(`elasticsearch bulk answered ${res.items.length} items for ${positions.length} actions`);
      }
      let unavailable: string | undefined;
      let chunkStored = 0;
      let chunkDuplicates = 0;
      const chunkRejected: RejectedRecord[] = [];
      for (const [i, item] of res.items.entries()) {
        const result = item.create ?? Object.values(item)[0];
        const status = result?.status ?? 0;
        if (status === 200 || status === 201) chunkStored++;
        else if (status === 409) chunkDuplicates++;
        else {
          const { type, reason } = describeCause(result?.error);
          if (isUnavailableStatus(status) || status === 0) unavailable ??= `status ${status}: ${type}: ${reason}`;
          else chunkRejected.push({ index: positions[i]!, reason: `${type}: ${reason}` });
        }
      }
      this.#metrics.records.inc({ result: 'stored' }, chunkStored);
      this.#metrics.records.inc({ result: 'duplicate' }, chunkDuplicates);
      this.#metrics.records.inc({ result: 'rejected' }, chunkRejected.length);
      if (unavailable !== undefined) {
        throw new LogUnavailableError(`elasticsearch refused part of a bulk request and may accept it later: ${unavailable}`);
      }
      stored += chunkStored;
      duplicates += chunkDuplicates;
      rejected.push(...chunkRejected);
    }
    rejected.sort((a, b) => a.index - b.index);
    return { stored, duplicates, rejected };
  }

  async search(req: LogSearchRequest, signal?: AbortSignal): Promise<LogSearchResult> {
    this.#checkOpen();
    if (!Number.isSafeInteger(req.limit) || req.limit < 1) throw new RangeError(`search limit must be a positive integer, got ${req.limit}`);
    const query = selectionQuery(req);
    const cursor = req.cursor !== undefined ? decodeLogCursor(req.cursor, req.direction) : undefined;
    signal?.throwIfAborted();
    if (req.startNs >= req.endNs) return { records: [] };
    const found = await this.#hits(
      'search',
      { index: this.#indicesFor(req.startNs, req.endNs), query, direction: req.direction, ...(cursor !== undefined && { after: cursor }), limit: req.limit + 1 },
      signal,
    );
    const records = found.slice(0, req.limit);
    if (found.length <= req.limit) return { records };
    return { records, nextCursor: encodeLogCursor(req.direction, keyOf(records[records.length - 1]!)) };
  }

  async context(req: LogContextRequest, signal?: AbortSignal): Promise<LogContextResult> {
    this.#checkOpen();
    for (const [what, n] of [['before', req.before], ['after', req.after]] as const) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`context ${what} must be a non-negative integer, got ${n}`);
    }
    signal?.throwIfAborted();
    const all = indexPattern(this.indexPrefix);
    const [anchor] = await this.#hits('context', { index: all, query: { term: { [FIELDS.id]: { value: req.id } } }, direction: 'forward', limit: 1 }, signal);
    if (anchor === undefined) return { before: [], after: [] };
    // The anchor's container stream: same pod instance, container and restart. Filters do not apply.
    const stream = boolQuery({
      filter: [
        { term: { [FIELDS.podUid]: { value: anchor.podUid } } },
        { term: { [FIELDS.container]: { value: anchor.container } } },
        { term: { [FIELDS.restart]: { value: anchor.restart } } },
      ],
      mustNot: [],
    });
    const around = (direction: 'forward' | 'backward', limit: number) =>
      limit === 0 ? Promise.resolve([]) : this.#hits('context', { index: all, query: stream, direction, after: keyOf(anchor), limit }, signal);
    const [before, after] = await Promise.all([around('backward', req.before), around('forward', req.after)]);
    return { anchor, before: before.reverse(), after };
  }

  async volume(sel: LogSelection, stepNs: bigint, signal?: AbortSignal): Promise<LogVolumeBucket[]> {
    this.#checkOpen();
    if (typeof stepNs !== 'bigint' || stepNs <= 0n) throw new RangeError(`volume step must be a positive number of nanoseconds, got ${stepNs}`);
    // date_histogram intervals are milliseconds at the finest.
    if (stepNs % 1_000_000n !== 0n) throw new RangeError(`volume step must be a whole number of milliseconds for Elasticsearch, got ${stepNs} ns`);
    const query = selectionQuery(sel);
    signal?.throwIfAborted();
    if (sel.startNs >= sel.endNs) return [];
    const res = await this.#request('volume', signal, (o) =>
      this.#client.search(
        {
          index: this.#indicesFor(sel.startNs, sel.endNs),
          ignore_unavailable: true,
          allow_no_indices: true,
          size: 0,
          track_total_hits: false,
          query,
          aggregations: {
            volume: {
              // Epoch-aligned fixed buckets, only the non-empty ones, as every store reports them.
              date_histogram: { field: FIELDS.timestamp, fixed_interval: `${stepNs / 1_000_000n}ms`, min_doc_count: 1 },
            },
          },
        },
        o,
      ),
    );
    const agg = res.aggregations?.volume as estypes.AggregationsDateHistogramAggregate | undefined;
    const buckets = (Array.isArray(agg?.buckets) ? agg.buckets : []) as estypes.AggregationsDateHistogramBucket[];
    return buckets
      .filter((b) => b.doc_count > 0)
      .map((b) => ({ startNs: BigInt(Math.round(Number(b.key))) * 1_000_000n, count: b.doc_count }))
      .sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  }

  async streams(sel: LogSelection, signal?: AbortSignal): Promise<LogStreamInfo[]> {
    this.#checkOpen();
    const query = selectionQuery(sel, false);
    signal?.throwIfAborted();
    if (sel.startNs >= sel.endNs) return [];
    const index = this.#indicesFor(sel.startNs, sel.endNs);
    const out: LogStreamInfo[] = [];
    // First and last `@timestamp` come from the documents themselves: min/max aggregations would
    // round nanoseconds through a double.
    const edge = (order: 'asc' | 'desc'): estypes.AggregationsAggregationContainer => ({
      top_hits: { size: 1, sort: [{ [FIELDS.timestamp]: { order } }], _source: { includes: [FIELDS.timestamp] } },
    });
    let after: estypes.AggregationsCompositeAggregateKey | undefined;
    for (;;) {
      const res = await this.#request('streams', signal, (o) =>
        this.#client.search(
          {
            index,
            ignore_unavailable: true,
            allow_no_indices: true,
            size: 0,
            track_total_hits: false,
            query,
            aggregations: {
              streams: {
                composite: {
                  size: STREAMS_PAGE,
                  sources: [
                    { namespace: { terms: { field: FIELDS.namespace } } },
                    { pod: { terms: { field: FIELDS.pod } } },
                    { container: { terms: { field: FIELDS.container } } },
                    { pod_uid: { terms: { field: FIELDS.podUid } } },
                    { node: { terms: { field: FIELDS.node } } },
                  ],
                  ...(after !== undefined && { after }),
                },
                aggregations: { first: edge('asc'), last: edge('desc') },
              },
            },
          },
          o,
        ),
      );
      const agg = res.aggregations?.streams as estypes.AggregationsCompositeAggregate | undefined;
      const buckets = (Array.isArray(agg?.buckets) ? agg.buckets : []) as Array<estypes.AggregationsCompositeBucket & Record<string, unknown>>;
      for (const b of buckets) {
        const seen = (name: string): bigint => {
          return topHitTime((b[name] as estypes.AggregationsTopHitsAggregate | undefined)?.hits.hits[0]);
        };
        out.push({
          namespace: String(b.key.namespace),
          pod: String(b.key.pod),
          podUid: String(b.key.pod_uid),
          container: String(b.key.container),
          node: String(b.key.node),
          firstSeenNs: seen('first'),
          lastSeenNs: seen('last'),
        });
      }
      if (buckets.length < STREAMS_PAGE || agg?.after_key === undefined) break;
      after = agg.after_key;
    }
    return out.sort(compareLogStreams);
  }

  /**
   * Deletes every daily index whose whole day is older than the cutoff, and the older documents of
   * the day the cutoff falls into. Returns the number of indices deleted.
   */
  async applyRetention(cutoffNs: bigint): Promise<number> {
    this.#checkOpen();
    const resolved = await this.#request('resolve_index', undefined, (o) =>
      this.#client.indices.resolveIndex({ name: indexPattern(this.indexPrefix), expand_wildcards: ['open', 'closed'] }, o),
    );
    const expired: string[] = [];
    let boundary: string | undefined;
    for (const { name } of resolved.indices) {
      const day = dayOfIndex(this.indexPrefix, name);
      if (day === undefined) continue;
      const start = dayStartNs(day);
      if (start + dayStartNs(1n) <= cutoffNs) expired.push(name);
      else if (start < cutoffNs) boundary = name;
    }
    expired.sort();
    for (let i = 0; i < expired.length; i += DELETE_BATCH) {
      const names = expired.slice(i, i + DELETE_BATCH);
      await this.#request('delete_index', undefined, (o) => this.#client.indices.delete({ index: names, ignore_unavailable: true }, o));
    }
    if (boundary !== undefined) {
      await this.#request('delete_by_query', undefined, (o) =>
        this.#client.deleteByQuery({ index: boundary, ignore_unavailable: true, conflicts: 'proceed', query: timeRange(0n, cutoffNs) }, o),
      );
    }
    return expired.length;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient) await this.#client.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('elasticsearch log store is closed');
  }

  /** The day indices of `[startNs, endNs)` by name while they are few, else the pattern. */
  #indicesFor(startNs: bigint, endNs: bigint): string | string[] {
    const first = dayOf(startNs < 0n ? 0n : startNs);
    const last = dayOf(endNs - 1n);
    if (last < first || last - first >= BigInt(MAX_NAMED_INDICES)) return indexPattern(this.indexPrefix);
    const names: string[] = [];
    for (let d = first; d <= last; d++) names.push(dayIndexName(this.indexPrefix, d));
    return names;
  }

  /** Records matching `query` in record order after `after`, at most `limit`, in pages. */
  async #hits(
    operation: Operation,
    q: { index: string | string[]; query: estypes.QueryDslQueryContainer; direction: 'forward' | 'backward'; after?: LogRecordKey; limit: number },
    signal: AbortSignal | undefined,
  ): Promise<StoredLogRecord[]> {
    const out: StoredLogRecord[] = [];
    let after = q.after;
    while (out.length < q.limit) {
      const size = Math.min(MAX_HITS_PER_REQUEST, q.limit - out.length);
      const res = await this.#request(operation, signal, (o) =>
        this.#client.search(
          {
            index: q.index,
            ignore_unavailable: true,
            allow_no_indices: true,
            size,
            track_total_hits: false,
            query: q.query,
            sort: recordSort(q.direction),
            _source: { includes: STORED_RECORD_SOURCE },
            ...(after !== undefined && { search_after: searchAfter(after) }),
          },
          o,
        ),
      );
      const hits = res.hits.hits;
      for (const h of hits) out.push(fromSource(h._id ?? undefined, h._source));
      if (hits.length < size) break;
      after = keyOf(out[out.length - 1]!);
    }
    return out;
  }

  /** Runs one request with the store's accounting, turning the client's errors into the store's. */
  async #request<T>(operation: Operation, signal: AbortSignal | undefined, run: (options: TransportRequestOptions) => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    const end = this.#metrics.duration.startTimer({ operation });
    try {
      const res = await run({ requestTimeout: this.#requestTimeoutMs, ...(signal !== undefined && { signal }) });
      this.#metrics.requests.inc({ operation, outcome: 'ok' });
      return res;
    } catch (err) {
      const mapped = classify(operation, err, signal);
      const outcome = mapped instanceof LogUnavailableError ? 'unavailable' : signal?.aborted ? 'aborted' : 'error';
      this.#metrics.requests.inc({ operation, outcome });
      throw mapped;
    } finally {
      end();
    }
  }
}

/** The `@timestamp` of a `top_hits` hit, which asked for nothing else. */
function topHitTime(hit: estypes.SearchHit<unknown> | undefined): bigint {
  const ts = (hit?._source as { '@timestamp'?: unknown } | undefined)?.['@timestamp'];
  if (typeof ts !== 'string') throw new LogDocumentError(hit?._id ?? undefined, '@timestamp is not a string');
  try {
    return parseTimeNs(ts);
  } catch (err) {
    throw new LogDocumentError(hit?._id ?? undefined, `@timestamp: ${(err as Error).message}`);
  }
}

function classify(operation: string, err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const body = err.body as { error?: EsErrorCause | string } | undefined;
    const cause = typeof body?.error === 'string' ? { type: 'error', reason: body.error } : body?.error;
    const { type, reason } = describeCause(cause);
    if (isUnavailableStatus(status)) {
      return new LogUnavailableError(`elasticsearch ${operation} failed with status ${status}: ${type}: ${reason}`, { cause: err });
    }
    return new ElasticsearchRequestError(operation, status, type, reason, { cause: err });
  }
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) {
    return new LogUnavailableError(`elasticsearch ${operation}: ${err.message}`, { cause: err });
  }
  return err;
}

