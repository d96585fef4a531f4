import type { IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testLogRecord } from '../../storage/logs/store-contract.js';
import type { StoredLogRecord } from '../../storage/logs/interface.js';
import { LogRequestError } from '../logs/params.js';
import type { LogHit } from '../logs/query.js';
import { logApiFixture, qs, SCOPE_HEADER, SECOND, T0, type LogApiFixture } from '../logs/testutil.js';
import { closeReason, LokiTailFramer, parseDelayFor, type LokiTailMessage } from './loki-tail.js';

const TAIL = '/loki/api/v1/tail';

/** The parts of the `ws` client these tests use (the package ships no types of its own). */
interface WsClient {
  on(event: 'open', listener: () => void): WsClient;
  on(event: 'message', listener: (data: Buffer) => void): WsClient;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): WsClient;
  on(event: 'unexpected-response', listener: (req: unknown, res: IncomingMessage) => void): WsClient;
  on(event: 'error', listener: (err: Error) => void): WsClient;
  close(): void;
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, opts?: { headers?: Record<string, string> }) => WsClient;

const nowNs = () => BigInt(Date.now()) * 1_000_000n;

/** A Loki tail client over a real socket, collecting messages until closed. */
function openTail(baseUrl: string, params: Record<string, string | bigint | number>, scope?: string) {
  const messages: LokiTailMessage[] = [];
  let closed: { code: number; reason: string } | undefined;
  let refused: { status: number; body: string } | undefined;
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${TAIL}?${qs(params)}`, { headers: scope === undefined ? {} : { [SCOPE_HEADER]: scope } });
  ws.on('message', (data) => messages.push(JSON.parse(data.toString('utf8')) as LokiTailMessage));
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString('utf8') }));
  ws.on('error', () => undefined);
  const settled = new Promise<'open' | 'refused'>((resolve) => {
    ws.on('open', () => resolve('open'));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        refused = { status: res.statusCode ?? 0, body };
        resolve('refused');
      });
    });
  });
  opened.push(ws);
  const lines = () => messages.flatMap((m) => m.streams.flatMap((s) => s.values.map((v) => v[1])));
  return {
    messages,
    lines,
    settled,
    closed: () => closed,
    refused: () => refused,
    async waitFor(pred: () => boolean, what: string, timeoutMs = 5000) {
      const until = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; received ${JSON.stringify(lines())}`);
        await sleep(20);
      }
    },
    /** Closes from the client side and waits for the closing handshake. */
    async close() {
      ws.close();
      const until = Date.now() + 5000;
      while (closed === undefined && Date.now() < until) await sleep(10);
    },
  };
}

/** Every client opened, so a failed test leaves no tail polling into the next one. */
const opened: WsClient[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) ws.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function listen(f: LogApiFixture): Promise<string> {
  await f.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(f.app.server.address() as AddressInfo).port}`;
}

/** Counts the store's searches (the real store answers them). */
function countSearches(f: LogApiFixture): () => number {
  let n = 0;
  const search = f.store.search.bind(f.store);
  f.store.search = (req, signal) => {
    n++;
    return search(req, signal);
  };
  return () => n;
}

let f: LogApiFixture;
let baseUrl: string;
let searches: () => number;
beforeAll(async () => {
  f = await logApiFixture();
  searches = countSearches(f);
  baseUrl = await listen(f);
});
afterAll(async () => {
  await f.close();
});

describe('GET /loki/api/v1/tail over a WebSocket', () => {
  it('sends the history since start as Loki messages, then a line appended after connecting', async () => {
    const tail = openTail(baseUrl, { query: '{pod="api-1"} |= "timeout"', start: T0, limit: 2 });
    expect(await tail.settled).toBe('open');
    await tail.waitFor(() => tail.lines().length >= 2, 'the history');
    // The newest `limit` lines since start, oldest first; no dropped_entries key when nothing was dropped.
    expect(tail.messages[0]).toEqual({
      streams: [
        {
          stream: { namespace: 'team-a', pod: 'api-1', container: 'app', node: 'node-1', stream: 'stderr' },
          values: [12, 16].map((i) => [(T0 + BigInt(i) * SECOND).toString(), `request ${i} failed: upstream timeout`]),
        },
      ],
    });
    const t = nowNs();
    await f.store.append([
      testLogRecord({ t, offset: 50_000, message: 'live: upstream timeout again', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
      testLogRecord({ t, offset: 50_100, message: 'live: fine', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
    ]);
    await tail.waitFor(() => tail.lines().length >= 3, 'the live line');
    const live = tail.messages.at(-1)!;
    expect(live.streams).toEqual([
      // testLogRecord's default node.
      { stream: { namespace: 'team-a', pod: 'api-1', container: 'app', node: 'node-a', stream: 'stdout' }, values: [[t.toString(), 'live: upstream timeout again']] },
    ]);
    // Polls go on, but a line already sent is never sent again.
    await sleep(1200);
    expect(tail.lines()).toEqual(['request 12 failed: upstream timeout', 'request 16 failed: upstream timeout', 'live: upstream timeout again']);
    await tail.close();
  });

  it('starts an hour ago by default, and holds live lines for delay_for seconds', async () => {
    // The fixture's lines are from 2025: none is within the default hour.
    const tail = openTail(baseUrl, { query: '{pod="api-1"} |= "delayed"', delay_for: 2 });
    expect(await tail.settled).toBe('open');
    const t = nowNs();
    await f.store.append([testLogRecord({ t, offset: 60_000, message: 'delayed line', ns: 'team-a', pod: 'api-1', uid: 'a1' })]);
    await sleep(1000);
    expect(tail.messages).toEqual([]);
    await tail.waitFor(() => tail.lines().length === 1, 'the delayed line');
    // Not before its timestamp was two seconds old.
    expect(nowNs() - t).toBeGreaterThanOrEqual(2n * SECOND);
    expect(tail.lines()).toEqual(['delayed line']);
    await tail.close();
  });

  it('refuses a bad request before the upgrade with HTTP 400 and the message, as Loki does', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ query: '{pod=' }, /^parse error at line 1, col \d+: /],
      [{ query: 'count_over_time({pod="api-1"}[1m])' }, /expected a log query/],
      [{ query: '{pod="api-1"}', delay_for: '6' }, /^delay_for can't be greater than 5$/],
      [{ query: '{pod="api-1"}', limit: '5001' }, /above the limit of 5000/],
      [{ query: '{pod="api-1"}', start: 'yesterday' }, /invalid parameter "start"/],
    ];
    for (const [params, message] of cases) {
      const tail = openTail(baseUrl, params);
      expect(await tail.settled).toBe('refused');
      expect(tail.refused()!.status).toBe(400);
      expect(tail.refused()!.body).toMatch(message);
      expect(tail.messages).toEqual([]);
    }
  });

  it('answers a plain HTTP GET with 400 saying a WebSocket is needed', async () => {
    const res = await f.app.inject({ method: 'GET', url: `${TAIL}?${qs({ query: '{pod="api-1"}' })}` });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/WebSocket/);
    // Parameters are checked first, as for a WebSocket client.
    expect((await f.app.inject({ method: 'GET', url: `${TAIL}?${qs({ query: '{pod=' })}` })).body).toMatch(/^parse error/);
  });

  it('stops polling the store when the client closes: no read, no timer left', async () => {
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const tail = openTail(baseUrl, { query: '{pod="api-1"}', start: T0, limit: 1 }, 'team-a');
    expect(await tail.settled).toBe('open');
    await tail.waitFor(() => tail.lines().length >= 1, 'the history');
    const before = searches();
    await sleep(1200);
    // The tail is polling (500 ms): the probe below is meaningful.
    expect(searches()).toBeGreaterThan(before);
    await tail.close();
    expect(tail.closed()?.code).toBe(1005);
    await sleep(100);
    const atClose = searches();
    await sleep(1500);
    expect(searches()).toBe(atClose);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
  });
});

describe('Loki tail: log scope', () => {
  it('a client scoped to team-a gets team-a lines, history and live, and never team-b ones', async () => {
    const query = '{namespace=~"team-a|team-b"} |~ "timeout|live scope"';
    // Unscoped, the same query does find team-b's lines: the probe is meaningful.
    const open = openTail(baseUrl, { query, start: T0, limit: 1000 });
    expect(await open.settled).toBe('open');
    await open.waitFor(() => open.lines().length > 0, 'the unscoped history');
    expect(open.messages.flatMap((m) => m.streams).some((s) => s.stream.namespace === 'team-b')).toBe(true);
    await open.close();

    const tail = openTail(baseUrl, { query, start: T0 - 3600n * SECOND, limit: 1000 }, 'team-a');
    expect(await tail.settled).toBe('open');
    await tail.waitFor(() => tail.lines().length > 0, 'the scoped history');
    const t = nowNs();
    // team-b's line is older, so a leak would arrive before team-a's.
    await f.store.append([
      testLogRecord({ t: t - SECOND, offset: 90_000, message: 'live scope SECRET-B', ns: 'team-b', pod: 'vault-1', uid: 'b1' }),
      testLogRecord({ t, offset: 90_000, message: 'live scope team-a', ns: 'team-a', pod: 'api-1', uid: 'a1' }),
    ]);
    await tail.waitFor(() => tail.lines().includes('live scope team-a'), 'the team-a line');
    await sleep(700);
    const streams = tail.messages.flatMap((m) => m.streams);
    expect(streams.filter((s) => s.stream.namespace !== 'team-a')).toEqual([]);
    expect(tail.lines().filter((l) => l.includes('SECRET-B') || l.startsWith('vault'))).toEqual([]);
    expect(tail.lines()).toEqual(expect.arrayContaining(['old replica 0 timeout', 'request 4 failed: upstream timeout', 'live scope team-a']));
    await tail.close();
  });

  it('an empty scope never reads the store', async () => {
    const before = searches();
    const tail = openTail(baseUrl, { query: '{pod="api-1"}', start: T0 }, ',');
    expect(await tail.settled).toBe('open');
    await sleep(1200);
    expect(searches()).toBe(before);
    expect(tail.messages).toEqual([]);
    await tail.close();
  });
});

describe('Loki tail: failures and shutdown', () => {
  it('closes with 1011 and the error as reason when the store fails after the upgrade', async () => {
    const g = await logApiFixture();
    try {
      const url = await listen(g);
      const tail = openTail(url, { query: '{pod="api-1"}', start: T0, limit: 1 });
      expect(await tail.settled).toBe('open');
      await tail.waitFor(() => tail.lines().length === 1, 'the history');
      await g.store.close();
      await tail.waitFor(() => tail.closed() !== undefined, 'the close');
      expect(tail.closed()).toEqual({ code: 1011, reason: 'log store unavailable: log store is closed' });
    } finally {
      await g.close();
    }
  });

  it('closing the app closes open tails instead of waiting for them', async () => {
    const g = await logApiFixture();
    const url = await listen(g);
    const tail = openTail(url, { query: '{pod="api-1"}', start: T0, limit: 1 });
    expect(await tail.settled).toBe('open');
    const started = Date.now();
    await g.close();
    expect(Date.now() - started).toBeLessThan(3000);
    await tail.waitFor(() => tail.closed() !== undefined, 'the close');
  });
});

describe('WebSocket upgrades elsewhere', () => {
  it('an upgrade request to another route gets its HTTP answer on a socket that is then closed', async () => {
    const port = new URL(baseUrl).port;
    for (const path of ['/api/vigil/v1/logs/labels', '/loki/api/v1/labels', '/nonesuch']) {
      const s = net.connect(Number(port), '127.0.0.1');
      let data = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (data += d));
      const outcome = new Promise<string>((resolve) => {
        s.on('close', () => resolve('closed'));
        setTimeout(() => resolve('left open'), 2000);
      });
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
      expect(await outcome).toBe('closed');
      expect(data).toMatch(path === '/nonesuch' ? /^HTTP\/1\.1 404 / : /^HTTP\/1\.1 200 /);
      s.destroy();
    }
  });
});

function hit(t: bigint, line: string, labels: Record<string, string>): LogHit {
  return { record: { timeNs: t } as StoredLogRecord, line, labels };
}

describe('LokiTailFramer', () => {
  const a = { namespace: 'team-a', pod: 'api-1' };
  const b = { namespace: 'team-a', pod: 'api-2' };

  it('groups consecutive lines of one label set, keeping the order across streams', () => {
    const msg = new LokiTailFramer().message([hit(1n, 'a1', a), hit(2n, 'a2', { pod: 'api-1', namespace: 'team-a' }), hit(3n, 'b1', b), hit(4n, 'a3', a)]);
    expect(msg).toEqual({
      streams: [
        { stream: a, values: [['1', 'a1'], ['2', 'a2']] },
        { stream: b, values: [['3', 'b1']] },
        { stream: a, values: [['4', 'a3']] },
      ],
    });
  });

  it('reports dropped lines in the next message only, at most 1000', () => {
    const framer = new LokiTailFramer();
    framer.drop([hit(1n, 'x', a), hit(2n, 'y', b)]);
    expect(framer.message([hit(3n, 'z', a)])).toEqual({
      streams: [{ stream: a, values: [['3', 'z']] }],
      dropped_entries: [
        { labels: a, timestamp: '1' },
        { labels: b, timestamp: '2' },
      ],
    });
    expect(framer.message([hit(4n, 'w', a)])).toEqual({ streams: [{ stream: a, values: [['4', 'w']] }] });
    framer.drop(Array.from({ length: 1500 }, (_, i) => hit(BigInt(i), 'x', a)));
    expect(framer.message([]).dropped_entries!.length).toBe(1000);
  });
});

describe('Loki tail parameters', () => {
  it('delay_for: whole seconds 0 to 5; anything else is a LogRequestError naming the parameter', () => {
    expect(parseDelayFor(undefined)).toBe(0);
    expect(parseDelayFor('')).toBe(0);
    expect(parseDelayFor('5')).toBe(5);
    expect(() => parseDelayFor('1.5')).toThrow(/invalid parameter "delay_for"/);
    expect(() => parseDelayFor('-1')).toThrow(/invalid parameter "delay_for"/);
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          const n = parseDelayFor(s);
          expect(Number.isInteger(n) && n >= 0 && n <= 5).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(LogRequestError);
          expect((err as Error).message).toMatch(/delay_for/);
        }
      }),
    );
  });

  it('a close reason fits a close frame: at most 123 bytes, a prefix of the message', () => {
    expect(closeReason('log store unavailable')).toBe('log store unavailable');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
        const r = closeReason(s);
        expect(Buffer.byteLength(r)).toBeLessThanOrEqual(123);
        if (r !== s) expect(s.startsWith(r.slice(0, -3))).toBe(true);
      }),
    );
  });
});
