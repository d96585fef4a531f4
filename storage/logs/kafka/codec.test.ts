import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LOG_LEVELS, logRecordId, type LogRecord, type LogSource } from '../../../model/logs.js';
import { decodeLogMessage, encodeLogMessages, LogMessageDecodeError, MAX_MESSAGE_BYTES } from './codec.js';

const SOURCE: LogSource = {
  node: 'node-a',
  namespace: 'shop',
  pod: 'cart-7d9f',
  podUid: '0b6e2f3c-uid',
  container: 'app',
  restart: 2,
  path: '/var/log/pods/shop_cart-7d9f_0b6e2f3c-uid/app/2.log',
  fileKey: 'fk1',
};

function record(source: LogSource, offset: number, message: string, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    id: logRecordId(source.node, source.fileKey, offset),
    timeNs: 1_700_000_000_123_456_789n + BigInt(offset),
    stream: 'stdout',
    level: 'info',
    message,
    source,
    offset,
    endOffset: offset + Buffer.byteLength(message) + 40,
    ...extra,
  };
}

function decodeError(value: Uint8Array | string | null): LogMessageDecodeError {
  try {
    decodeLogMessage(value);
  } catch (err) {
    if (err instanceof LogMessageDecodeError) return err;
    throw err;
  }
  throw new Error('expected a LogMessageDecodeError');
}

// Strings of any code point, plus lone surrogates, which JSON.stringify escapes and must survive.
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\ud800', 'a\udfffb', '"\\\n\t\u0000'));
const stringMap = fc.dictionary(text, text, { maxKeys: 4 });

const sourceArb: fc.Arbitrary<LogSource> = fc
  .record(
    {
      node: text,
      namespace: text,
      pod: text,
      podUid: text,
      container: text,
      restart: fc.nat(),
      path: text,
      fileKey: text,
      podLabels: stringMap,
      podAnnotations: stringMap,
    },
    { requiredKeys: ['node', 'namespace', 'pod', 'podUid', 'container', 'restart', 'path', 'fileKey'] },
  )
  .map((s) => s as LogSource);

const lineArb = fc.record(
  {
    timeNs: fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n),
    stream: fc.constantFrom('stdout' as const, 'stderr' as const),
    level: fc.constantFrom(...LOG_LEVELS),
    message: text,
    fields: stringMap,
    offset: fc.nat({ max: Number.MAX_SAFE_INTEGER - 10_000 }),
    length: fc.nat({ max: 10_000 }),
  },
  { requiredKeys: ['timeNs', 'stream', 'level', 'message', 'offset', 'length'] },
);

/** Records from 1–3 sources, interleaved as a tailer reading several files would emit them. */
const batchArb = fc
  .tuple(fc.array(sourceArb, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(fc.nat(), lineArb), { maxLength: 30 }))
  .map(([sources, lines]) =>
    lines.map(([which, l]): LogRecord => {
      const source = sources[which % sources.length]!;
      const r: LogRecord = {
        id: logRecordId(source.node, source.fileKey, l.offset),
        timeNs: l.timeNs,
        stream: l.stream,
        level: l.level,
        message: l.message,
        source,
        offset: l.offset,
        endOffset: l.offset + l.length,
      };
      return l.fields === undefined ? r : { ...r, fields: l.fields };
    }),
  );

/** Sources equal in content travel as one: group by content, as the encoder does. */
function sourceKey(s: LogSource): string {
  return JSON.stringify([s.node, s.namespace, s.pod, s.podUid, s.container, s.restart, s.path, s.fileKey, s.podLabels ?? null, s.podAnnotations ?? null]);
}

function bySource(records: readonly LogRecord[]): Map<string, LogRecord[]> {
  const m = new Map<string, LogRecord[]>();
  for (const r of records) {
    const key = sourceKey(r.source);
    m.set(key, [...(m.get(key) ?? []), r]);
  }
  return m;
}

describe('log message codec', () => {
  it('encodes to the documented JSON, byte for byte', () => {
    const r = record(SOURCE, 120, 'GET /cart 200', { level: 'info', fields: { status: '200' } });
    const [msg] = encodeLogMessages([r]);
    expect(msg!.value.toString('utf8')).toBe(
      '{"v":1,"src":{"node":"node-a","namespace":"shop","pod":"cart-7d9f","podUid":"0b6e2f3c-uid","container":"app",' +
        '"restart":2,"path":"/var/log/pods/shop_cart-7d9f_0b6e2f3c-uid/app/2.log","fileKey":"fk1"},' +
        '"lines":[{"ts":"1700000000123456909","stream":"stdout","level":"info","msg":"GET /cart 200",' +
        '"fields":{"status":"200"},"off":120,"end":173}]}',
    );
    expect(msg!.records).toBe(1);
    expect(msg!.oversized).toBe(false);
  });

  it('round-trips any batch: one source per message, per-source order kept, nothing lost or added', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 200, max: 4000 }), (records, maxBytes) => {
        const messages = encodeLogMessages(records, maxBytes);
        const decoded = new Map<string, LogRecord[]>();
        for (const m of messages) {
          if (m.oversized) expect(m.records).toBe(1);
          else expect(m.value.length).toBeLessThanOrEqual(maxBytes);
          const d = decodeLogMessage(m.value);
          expect(d.records).toHaveLength(m.records);
          expect(d.source).toEqual(m.source);
          for (const r of d.records) expect(r.source).toBe(d.source);
          const key = sourceKey(d.source);
          decoded.set(key, [...(decoded.get(key) ?? []), ...d.records]);
        }
        expect(decoded).toEqual(bySource(records));
      }),
      { numRuns: 300 },
    );
  });

  it('splits a large batch of one file into messages under the limit, in order', () => {
    const records = Array.from({ length: 5000 }, (_, i) => record(SOURCE, i * 1000, `line ${i} ${'x'.repeat(500)}`));
    const messages = encodeLogMessages(records);
    expect(messages.length).toBeGreaterThan(2);
    const back: LogRecord[] = [];
    for (const m of messages) {
      expect(m.value.length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(m.oversized).toBe(false);
      back.push(...decodeLogMessage(m.value).records);
    }
    expect(back.map((r) => r.offset)).toEqual(records.map((r) => r.offset));
    // Messages are filled, not cut early: all but the last are within one line of the limit.
    for (const m of messages.slice(0, -1)) expect(m.value.length).toBeGreaterThan(MAX_MESSAGE_BYTES - 700);
  });

  it('sends a record larger than the limit alone, flagged oversized', () => {
    const big = record(SOURCE, 1000, 'y'.repeat(3000));
    const messages = encodeLogMessages([record(SOURCE, 0, 'a'), big, record(SOURCE, 5000, 'b')], 1000);
    expect(messages.map((m) => [m.records, m.oversized])).toEqual([
      [1, false],
      [1, true],
      [1, false],
    ]);
    expect(decodeLogMessage(messages[1]!.value).records[0]!.message).toBe('y'.repeat(3000));
  });

  it('encodes an empty batch to no messages', () => {
    expect(encodeLogMessages([])).toEqual([]);
  });

  it('keeps "__proto__" as an ordinary key of fields and labels', () => {
    const value = '{"v":1,"src":{"node":"n","namespace":"","pod":"","podUid":"","container":"","restart":0,"path":"","fileKey":"k","podLabels":{"__proto__":"x"}},' +
      '"lines":[{"ts":"1","stream":"stderr","level":"error","msg":"m","fields":{"__proto__":"y","a":"b"},"off":0,"end":1}]}';
    const d = decodeLogMessage(value);
    expect(Object.keys(d.source.podLabels!)).toEqual(['__proto__']);
    expect(d.source.podLabels!['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(d.records[0]!.fields)).toBe(Object.prototype);
    expect(Object.keys(d.records[0]!.fields!)).toEqual(['__proto__', 'a']);
    expect(d.records[0]!.id).toBe(logRecordId('n', 'k', 0));
  });

  describe('rejects corrupt messages, naming the place', () => {
    const good = () => JSON.parse(encodeLogMessages([record(SOURCE, 0, 'a'), record(SOURCE, 60, 'b')])[0]!.value.toString()) as {
      v: unknown;
      src: Record<string, unknown>;
      lines: Record<string, unknown>[];
    };
    const cases: [string, () => Uint8Array | string | null, string, RegExp][] = [
      ['a tombstone', () => null, '', /tombstone/],
      ['invalid UTF-8', () => Uint8Array.of(0x7b, 0xff, 0x7d), '', /UTF-8/],
      ['not JSON', () => '{"v":1,', '', /not JSON/],
      ['not an object', () => '[1,2]', '', /expected an object, got an array/],
      ['another version', () => JSON.stringify({ ...good(), v: 2 }), 'v', /unsupported version number 2/],
      ['an unknown top-level key', () => JSON.stringify({ ...good(), extra: 1 }), '', /unknown key "extra"/],
      ['no source', () => JSON.stringify({ ...good(), src: undefined }), 'src', /expected an object, got nothing/],
      ['a numeric node', () => { const g = good(); g.src.node = 5; return JSON.stringify(g); }, 'src.node', /expected a string, got number 5/],
      ['a negative restart', () => { const g = good(); g.src.restart = -1; return JSON.stringify(g); }, 'src.restart', /non-negative integer/],
      ['a non-string label', () => { const g = good(); g.src.podLabels = { app: 1 }; return JSON.stringify(g); }, 'src.podLabels["app"]', /expected a string/],
      ['lines not an array', () => JSON.stringify({ ...good(), lines: {} }), 'lines', /expected an array/],
      ['no lines', () => JSON.stringify({ ...good(), lines: [] }), 'lines', /at least one line/],
      ['a numeric timestamp', () => { const g = good(); g.lines[1]!.ts = 17; return JSON.stringify(g); }, 'lines[1].ts', /expected a string, got number 17/],
      ['a non-decimal timestamp', () => { const g = good(); g.lines[1]!.ts = '1.5e9'; return JSON.stringify(g); }, 'lines[1].ts', /decimal string/],
      ['a timestamp beyond int64', () => { const g = good(); g.lines[0]!.ts = '9999999999999999999'; return JSON.stringify(g); }, 'lines[0].ts', /int64/],
      ['an unknown stream', () => { const g = good(); g.lines[0]!.stream = 'stdin'; return JSON.stringify(g); }, 'lines[0].stream', /stdout or stderr/],
      ['an unknown level', () => { const g = good(); g.lines[0]!.level = 'WARN'; return JSON.stringify(g); }, 'lines[0].level', /one of trace/],
      ['a fractional offset', () => { const g = good(); g.lines[0]!.off = 1.5; return JSON.stringify(g); }, 'lines[0].off', /non-negative integer/],
      ['an end before the offset', () => { const g = good(); g.lines[1]!.end = 10; return JSON.stringify(g); }, 'lines[1].end', /before off 60/],
      ['an id that is not the recomputed one', () => { const g = good(); g.lines[1]!.id = logRecordId('node-a', 'fk1', 0); return JSON.stringify(g); }, 'lines[1].id', /is not the id of \(node, fileKey, off\)/],
      ['an unknown line key', () => { const g = good(); g.lines[0]!.labels = {}; return JSON.stringify(g); }, 'lines[0]', /unknown key "labels"/],
      ['a nested field value', () => { const g = good(); g.lines[0]!.fields = { a: { b: 'c' } }; return JSON.stringify(g); }, 'lines[0].fields["a"]', /got an object/],
    ];
    for (const [what, value, path, message] of cases) {
      it(what, () => {
        const err = decodeError(value());
        expect(err.path).toBe(path);
        expect(err.message).toMatch(message);
      });
    }
  });

  it('accepts a line that states its id, when it is the recomputed one', () => {
    const g = JSON.parse(encodeLogMessages([record(SOURCE, 99, 'x')])[0]!.value.toString()) as { lines: Record<string, unknown>[] };
    expect(g.lines[0]!.id).toBeUndefined();
    g.lines[0]!.id = logRecordId('node-a', 'fk1', 99);
    expect(decodeLogMessage(JSON.stringify(g)).records[0]!.id).toBe(logRecordId('node-a', 'fk1', 99));
  });

  it('never throws anything but LogMessageDecodeError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeLogMessage(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(LogMessageDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but LogMessageDecodeError on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (doc) => {
        try {
          decodeLogMessage(JSON.stringify(doc));
        } catch (err) {
          expect(err).toBeInstanceOf(LogMessageDecodeError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('either decodes a mutated valid message to well-formed records or rejects it', () => {
    const valid = encodeLogMessages([record(SOURCE, 0, 'héllo'), record(SOURCE, 80, 'wörld', { fields: { k: 'v' } })])[0]!.value;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = Buffer.from(valid);
        for (const [at, b] of edits) bytes[at] = b;
        try {
          const d = decodeLogMessage(bytes);
          for (const r of d.records) {
            expect(r.id).toBe(logRecordId(d.source.node, d.source.fileKey, r.offset));
            expect(r.endOffset).toBeGreaterThanOrEqual(r.offset);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(LogMessageDecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects deeply nested garbage quickly', () => {
    const started = Date.now();
    const err = decodeError('['.repeat(200_000) + ']'.repeat(200_000));
    expect(err.path).toBe('');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
