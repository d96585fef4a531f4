/**
 * The Elasticsearch log store against a real cluster, through the contract every `LogStore`
 * passes: only when `ELASTICSEARCH_URL` points at one (e.g. `http://localhost:9200` after
 * `docker compose up -d elasticsearch`). Without it the contract registers nothing, so it is
 * neither run nor counted; the checks below that need no cluster always run.
 *
 * Each store under test gets its own index prefix (and so its own template and indices), removed
 * again by name: Elasticsearch refuses wildcard deletes by default.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS, parseTimeNs, type LogRecord } from '../../../model/logs.js';
import { describeLogStoreContract, testLogRecord } from '../store-contract.js';
import { fromSource, LogDocumentError, recordProblem, toDocument } from './documents.js';
import { dayIndexName, dayOf, dayOfIndex, dayStartNs, DATE_NANOS_MAX } from './indices.js';
import { ElasticsearchLogStore } from './store.js';

const ELASTICSEARCH_URL = process.env.ELASTICSEARCH_URL;

if (ELASTICSEARCH_URL !== undefined && ELASTICSEARCH_URL !== '') {
  const admin = new Client({ node: ELASTICSEARCH_URL });

  async function removeAll(prefix: string): Promise<void> {
    const { indices } = await admin.indices.resolveIndex({ name: `${prefix}-*`, expand_wildcards: ['open', 'closed'] });
    const names = indices.map((i) => i.name);
    if (names.length > 0) await admin.indices.delete({ index: names, ignore_unavailable: true });
    await admin.indices.deleteIndexTemplate({ name: prefix }, { ignore: [404] });
  }

  async function openStore() {
    const prefix = `vigil-test-${randomUUID().slice(0, 8)}`;
    const store = await ElasticsearchLogStore.open({ node: ELASTICSEARCH_URL!, indexPrefix: prefix });
    return {
      store,
      prefix,
      refresh: () => store.refresh(),
      cleanup: async () => {
        await store.close();
        await removeAll(prefix);
      },
    };
  }

  describeLogStoreContract('ElasticsearchLogStore', openStore);

  describe('ElasticsearchLogStore on a real cluster', () => {
    it('gives each new daily index the template’s mappings', async () => {
      const h = await openStore();
      try {
        await h.store.append([testLogRecord({ t: parseTimeNs('2025-03-10T10:00:00.123456789Z'), offset: 0, message: 'x' })]);
        const mapping = await admin.indices.getMapping({ index: `${h.prefix}-2025.03.10` });
        const props = Object.values(mapping)[0]!.mappings.properties!;
        expect(props['@timestamp']).toMatchObject({ type: 'date_nanos' });
        expect(props.message).toMatchObject({ type: 'match_only_text', fields: { wildcard: { type: 'wildcard' } } });
      } finally {
        await h.cleanup();
      }
    });
  });
}

describe('Elasticsearch log documents', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 40 });
  const record = fc
    .record({
      t: fc.bigInt({ min: 0n, max: DATE_NANOS_MAX }),
      offset: fc.nat(),
      message: fc.string({ unit: 'binary', maxLength: 200 }),
      ns: text,
      pod: text,
      uid: text,
      container: text,
      restart: fc.nat({ max: 2 ** 31 - 1 }),
      node: text,
      stream: fc.constantFrom('stdout' as const, 'stderr' as const),
      level: fc.constantFrom(...LOG_LEVELS),
      fields: fc.option(fc.dictionary(text, text), { nil: undefined }),
    })
    .map((spec) => testLogRecord(spec));

  it('reads back, through JSON, exactly the record that was written', () => {
    fc.assert(
      fc.property(record, (r) => {
        const source = JSON.parse(JSON.stringify(toDocument(r))) as unknown;
        expect(fromSource(r.id, source)).toEqual({
          id: r.id,
          timeNs: r.timeNs,
          stream: r.stream,
          level: r.level,
          message: r.message,
          ...(r.fields !== undefined && { fields: r.fields }),
          namespace: r.source.namespace,
          pod: r.source.pod,
          podUid: r.source.podUid,
          container: r.source.container,
          restart: r.source.restart,
          node: r.source.node,
          fileKey: r.source.fileKey,
          offset: r.offset,
        });
        expect(recordProblem(r, 1 << 20)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any other source with LogDocumentError naming the field, and nothing else', () => {
    const valid = toDocument(testLogRecord({ t: 1n, offset: 0, message: 'm' })) as unknown as Record<string, unknown>;
    expect(() => fromSource('x', { ...valid, stream: 'stdin' })).toThrow(/stream "stdin" is unknown/);
    expect(() => fromSource('x', { ...valid, '@timestamp': 'yesterday' })).toThrow(/@timestamp/);
    expect(() => fromSource('x', { ...valid, kubernetes: { pod: 1 } })).toThrow(/kubernetes\.namespace is not a string/);
    expect(() => fromSource('x', { ...valid, fields: { a: 1 } })).toThrow(/fields is not an object of strings/);
    fc.assert(
      fc.property(fc.anything(), fc.string(), fc.anything(), (junk, key, value) => {
        for (const source of [junk, { ...valid, [key]: value }]) {
          try {
            fromSource('x', source);
          } catch (err) {
            expect(err).toBeInstanceOf(LogDocumentError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('names what Elasticsearch could not hold', () => {
    const r = testLogRecord({ t: 1n, offset: 0, message: 'm' });
    const problem = (over: Partial<LogRecord>) => recordProblem({ ...r, ...over }, 100);
    expect(problem({ timeNs: -1n })).toMatch(/date_nanos/);
    expect(problem({ timeNs: DATE_NANOS_MAX + 1n })).toMatch(/date_nanos/);
    expect(problem({ timeNs: DATE_NANOS_MAX })).toBeUndefined();
    expect(problem({ message: 'é'.repeat(51) })).toMatch(/102 bytes exceeds the limit of 100/);
    expect(problem({ offset: -1 })).toMatch(/offset/);
    expect(problem({ id: 'x'.repeat(513) })).toMatch(/id/);
    expect(problem({ source: { ...r.source, restart: 2 ** 31 } })).toMatch(/restart/);
    expect(problem({ source: { ...r.source, pod: 'p'.repeat(40_000) } })).toMatch(/source\.pod exceeds/);
  });
});

describe('daily index names', () => {
  it('name the UTC day of a timestamp and read back as that day, for every day date_nanos holds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: DATE_NANOS_MAX }), (t) => {
        const day = dayOf(t);
        expect(dayStartNs(day) <= t && t < dayStartNs(day + 1n)).toBe(true);
        const name = dayIndexName('vigil-logs', day);
        expect(name).toMatch(/^vigil-logs-\d{4}\.\d{2}\.\d{2}$/);
        expect(dayOfIndex('vigil-logs', name)).toBe(day);
      }),
    );
    expect(dayIndexName('vigil-logs', dayOf(parseTimeNs('2025-03-10T23:59:59.999999999Z')))).toBe('vigil-logs-2025.03.10');
    expect(dayIndexName('vigil-logs', dayOf(parseTimeNs('2025-03-11T00:00:00Z')))).toBe('vigil-logs-2025.03.11');
  });

  it('read no day from names that are not ours', () => {
    for (const name of ['vigil-logs-2025.02.30', 'vigil-logs-2025.3.10', 'vigil-logs-archive', 'other-2025.03.10', 'vigil-logs-x-2025.03.10', 'vigil-logs2025.03.10']) {
      expect(dayOfIndex('vigil-logs', name)).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.string(), (name) => {
        const day = dayOfIndex('vigil-logs', name);
        if (day !== undefined) expect(dayIndexName('vigil-logs', day)).toBe(name);
      }),
    );
  });
});

describe('the store without a cluster', () => {
  it('needs a node or a client', () => {
    expect(() => new ElasticsearchLogStore({})).toThrow(/node URL or a client/);
  });
});
