/**
 * Metric ingestion over HTTP: the Prometheus remote_write 1.0 receiver (`POST /api/v1/write`) and
 * backfill import of exposition text with timestamps (`POST /api/v1/import/prometheus`, the
 * VictoriaMetrics API shape). Each request is decoded as a whole first (a malformed body is
 * rejected and stores nothing), then appended with per-sample accounting; refused samples are
 * reported with reasons and a 400, which tells Prometheus not to retry them.
 */
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Counter } from 'prom-client';
import type { AppContext } from '../context.js';
import { prometheusError } from '../errors.js';
import { createParser, TextParseError } from '../../collector/scrape/textparse/index.js';
import { ingest, ingestColumns, describeRejections, rejectedCount, SeriesCache, type ColumnarBatch, type IngestResult, type KnownSeries, type PushedSeries } from '../../storage/metrics/ingest.js';
import type { Label } from '../../model/labels.js';
import type { Appendable } from '../../storage/metrics/interface.js';
import { BodyPool } from './body-pool.js';
import { decodeWriteRequestColumns, DEFAULT_MAX_DECODED_BYTES, RemoteWriteDecodeError, snappyDecompress } from '../../storage/metrics/remote/codec.js';

export interface IngestCounters {
  readonly samples: Counter<'handler' | 'outcome'>;
}

/** Decode buffers one remote_write request at a time reuses (see the route). */
interface SpareColumns {
  raw: Buffer;
  sampleEnd: Int32Array;
  ts: Float64Array;
  vs: Float64Array;
  labels: Array<Label[] | undefined>;
  known: Array<KnownSeries | undefined>;
  keys: Array<string | undefined>;
}

export function ingestCounters(ctx: AppContext): IngestCounters {
  return {
    samples: new Counter({
      name: 'vigil_ingest_samples_total',
      help: 'Samples received over HTTP (remote_write, import) by handler and outcome (accepted or the reject reason).',
      labelNames: ['handler', 'outcome'],
      registers: [ctx.registry],
    }),
  };
}

export function countIngest(counters: IngestCounters, handler: string, r: IngestResult): void {
  counters.samples.inc({ handler, outcome: 'accepted' }, r.accepted);
  for (const [reason, n] of Object.entries(r.rejected)) counters.samples.inc({ handler, outcome: reason }, n ?? 0);
}

/** 204 when everything was stored; 400 with the reasons when anything was refused. */
export function replyIngest(reply: FastifyReply, r: IngestResult): FastifyReply {
  if (rejectedCount(r) === 0) return reply.code(204).send();
  return reply.code(400).send(prometheusError('bad_data', describeRejections(r)));
}

export function decodeBody(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === undefined || encoding === 'identity') return body;
  if (encoding === 'gzip') return gunzipSync(body);
  throw new Error(`unsupported Content-Encoding "${encoding}"`);
}

/** Parses exposition text into pushed series, one sample per line; `now` for lines without timestamps. */
export function parseImport(text: Buffer, now: number, extraLabels: ReadonlyArray<readonly [string, string]>): PushedSeries[] {
  const p = createParser(text, 'prometheus-text');
  const out: PushedSeries[] = [];
  for (let kind = p.next(); kind !== 'eof'; kind = p.next()) {
    if (kind !== 'series') continue;
    const labels = p.labels().filter((l) => !extraLabels.some(([n]) => n === l.name));
    out.push({
      labels: [...labels, ...extraLabels.map(([name, value]) => ({ name, value }))],
      samples: [{ t: p.timestamp() ?? now, v: p.value() }],
    });
  }
  return out;
}

function extraLabelParams(query: unknown): Array<[string, string]> {
  const raw = (query as Record<string, string | string[] | undefined>).extra_label;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return list.map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`extra_label "${item}" is not name=value`);
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

export interface IngestRouteOptions {
  readonly appendable: Appendable;
  /** Durability barrier awaited before a request is acknowledged. */
  readonly flush: () => Promise<void>;
  readonly counters: IngestCounters;
}

export async function ingestRoutes(app: FastifyInstance, opts: IngestRouteOptions): Promise<void> {
  // Bodies are read raw whatever their type (exposition text, protobuf), since they may be
  // compressed; into recycled buffers, which remote_write hands back once decompressed.
  const bodies = new BodyPool();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', bodies.parser());

  // Label bytes → validated labels and series ref, for the series senders re-send every request.
  const cache = new SeriesCache();
  const lookup = (buf: Uint8Array, from: number, to: number) => cache.get(buf, from, to);
  /**
   * Decode buffers kept between requests: the decompressed body and the sample columns are dead
   * once a batch is appended, and reallocating them per request (hundreds of KB off-heap each)
   * churned malloc enough to show in RSS. Only one request uses them at a time; a request
   * arriving while they are busy (the appender's commit may wait on WAL back-pressure) allocates.
   * The per-series arrays are kept too: held until the batch is appended, fresh ones were often
   * promoted to the old generation, growing it between full GCs.
   */
  let spare: SpareColumns | undefined = {
    raw: Buffer.allocUnsafe(0),
    sampleEnd: new Int32Array(64),
    ts: new Float64Array(1024),
    vs: new Float64Array(1024),
    labels: [],
    known: [],
    keys: [],
  };
  /** Largest decompressed body worth keeping a buffer for; rarer giants allocate their own. */
  const MAX_SPARE_RAW = 8 * 1024 * 1024;
  /** Most series per request whose per-series arrays are kept. */
  const MAX_SPARE_SERIES = 1 << 16;

  app.post('/api/v1/write', async (req, reply) => {
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'snappy') {
      return reply.code(415).send(prometheusError('bad_data', `unsupported Content-Encoding "${encoding}"; remote_write bodies are snappy-compressed`));
    }
    const contentType = req.headers['content-type'] ?? '';
    if (/proto=io\.prometheus\.write\.v2/.test(contentType)) {
      return reply.code(415).send(prometheusError('bad_data', 'remote_write 2.0 is not supported; send remote_write 1.0 (prometheus.WriteRequest)'));
    }
    const mine = spare;
    spare = undefined;
    let result: IngestResult;
    try {
      let batch: ColumnarBatch;
      try {
        let raw: Uint8Array;
        try {
          raw = snappyDecompress((req.body as Buffer | undefined) ?? Buffer.alloc(0), DEFAULT_MAX_DECODED_BYTES, mine?.raw);
        } finally {
          bodies.release(req.body);
          req.body = undefined;
        }
        if (mine !== undefined && raw.buffer !== mine.raw.buffer && raw.length <= MAX_SPARE_RAW) mine.raw = raw as Buffer;
        batch = decodeWriteRequestColumns(raw, lookup, mine);
      } catch (err) {
        if (!(err instanceof RemoteWriteDecodeError)) throw err;
        opts.counters.samples.inc({ handler: 'remote_write', outcome: 'decode_error' });
        return reply.code(400).send(prometheusError('bad_data', `cannot decode remote_write request: ${err.message}`));
      }
      if (mine !== undefined) {
        // Keep whatever the decoder grew the columns to.
        mine.sampleEnd = batch.sampleEnd;
        mine.ts = batch.ts;
        mine.vs = batch.vs;
        // Stale entries past a batch's count stay behind; a giant batch's arrays are not kept.
        if (mine.labels.length > MAX_SPARE_SERIES) {
          mine.labels = [];
          mine.known = [];
          mine.keys = [];
        }
      }
      result = await ingestColumns(opts.appendable, batch, cache);
    } finally {
      if (mine !== undefined) spare = mine;
    }
    // The decoded batch is out of scope before the durability wait: held across it (while other
    // requests allocate), it would be promoted to the old generation and inflate the heap.
    await opts.flush();
    countIngest(opts.counters, 'remote_write', result);
    return replyIngest(reply, result);
  });

  app.post('/api/v1/import/prometheus', async (req, reply) => {
    let series: PushedSeries[];
    try {
      const extra = extraLabelParams(req.query);
      const body = decodeBody((req.body as Buffer | undefined) ?? Buffer.alloc(0), req.headers['content-encoding']);
      series = parseImport(body, Date.now(), extra);
    } catch (err) {
      const message = err instanceof TextParseError ? `cannot parse exposition text: ${err.message}` : (err as Error).message;
      opts.counters.samples.inc({ handler: 'import', outcome: 'parse_error' });
      return reply.code(400).send(prometheusError('bad_data', message));
    }
    const result = await ingest(opts.appendable, series);
    // An acknowledged sample must survive a crash: wait for the WAL to reach the disk.
    await opts.flush();
    countIngest(opts.counters, 'import', result);
    return replyIngest(reply, result);
  });
}
