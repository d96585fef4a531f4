/**
 * Planning: which parts of a query go to the store and which stay in the pipeline; that the split
 * never changes a result (checked on generated records); and scope restriction: a caller never
 * sees a record from a namespace outside its scope, whatever the query, including namespace
 * names full of regex syntax.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Matcher } from '../../../model/matcher.js';
import { LOG_LEVELS, type LogLevel } from '../../../model/logs.js';
import type { LogSelection, StoredLogRecord } from '../interface.js';
import { formatLogQuery } from './format.js';
import { parseLogQuery } from './parser.js';
import { Pipeline, type PipelineResult } from './pipeline.js';
import { planLogQuery, quoteRe2, restrictPlan, restrictToNamespaces, type LogQueryPlan } from './plan.js';
import { compileSelection } from './selection.js';

const RANGE = { startNs: 1_000n, endNs: 2_000n };

function describePlan(query: string): { matchers: string[]; lineFilters: string[]; residual: string } {
  const plan = planLogQuery(parseLogQuery(query), RANGE);
  const sel = plan.selection!;
  return {
    matchers: sel.matchers.map(String),
    lineFilters: sel.lineFilters.map((f) => `${f.op} ${JSON.stringify(f.value)}`),
    // The residual stages, printed after a placeholder selector.
    residual: formatLogQuery({ ...parseLogQuery('{x="y"}'), stages: plan.pipeline.stages }).slice('{x="y"}'.length).trim(),
  };
}

describe('push-down', () => {
  const rows: ReadonlyArray<readonly [string, string[], string[], string]> = [
    ['{namespace="a"}', ['namespace="a"'], [], ''],
    ['{namespace="a"} |= "x" != "y" |~ "z" !~ "w"', ['namespace="a"'], ['|= "x"', '!= "y"', '|~ "z"', '!~ "w"'], ''],
    ['{namespace="a"} |= "x" | json |= "y"', ['namespace="a"'], ['|= "x"'], '| json |= "y"'],
    ['{namespace="a"} | logfmt |= "y"', ['namespace="a"'], [], '| logfmt |= "y"'],
    ['{namespace="a"} | regexp "(?P<a>.)" |= "y"', ['namespace="a"'], [], '| regexp "(?P<a>.)" |= "y"'],
    ['{namespace="a"} | line_format "{{.pod}}" |= "x"', ['namespace="a"'], [], '| line_format "{{.pod}}" |= "x"'],
    ['{namespace="a"} | decolorize |= "x"', ['namespace="a"'], [], '| decolorize |= "x"'],
    ['{namespace="a"} | level="error" |= "x"', ['namespace="a"', 'level="error"'], ['|= "x"'], ''],
    [
      '{namespace="a"} | level="error" and latency > 5 | pod=~"api.*", stream!="stderr"',
      ['namespace="a"', 'level="error"', 'pod=~"api.*"', 'stream!="stderr"'],
      [],
      '| latency > 5',
    ],
    ['{namespace="a"} | x > 1 and level="error" and y > 2', ['namespace="a"', 'level="error"'], [], '| x > 1 and y > 2'],
    ['{namespace="a"} | level="error" or pod="x"', ['namespace="a"'], [], '| level="error" or pod="x"'],
    ['{namespace="a"} | (level="error" or pod="x") and node="n"', ['namespace="a"', 'node="n"'], [], '| level="error" or pod="x"'],
    ['{namespace="a"} | json | level="error"', ['namespace="a"'], [], '| json | level="error"'],
    ['{namespace="a"} | drop pod | pod="x"', ['namespace="a"'], [], '| drop pod | pod="x"'],
    ['{namespace="a"} | keep pod | level="x"', ['namespace="a"'], [], '| keep pod | level="x"'],
    ['{namespace="a"} | foo="bar"', ['namespace="a"'], [], '| foo="bar"'],
    ['{namespace="a"} | line_format "x" | level="error"', ['namespace="a"', 'level="error"'], [], '| line_format "x"'],
    ['{namespace="a"} | __error__=""', ['namespace="a"'], [], '| __error__=""'],
    ['{namespace="a", level=~"warn|error"} |= "x"', ['namespace="a"', 'level=~"warn|error"'], ['|= "x"'], ''],
  ];
  it.each(rows)('%s', (query, matchers, lineFilters, residual) => {
    expect(describePlan(query)).toEqual({ matchers, lineFilters, residual });
  });

  it('copies the time range', () => {
    const plan = planLogQuery(parseLogQuery('{a="b"}'), RANGE);
    expect([plan.selection!.startNs, plan.selection!.endNs]).toEqual([1_000n, 2_000n]);
    expect(plan.pipeline.isEmpty).toBe(true);
  });
});

// Generated records against a store that does exactly what a selection says.
const NAMESPACES = ['shop', 'team-a', 'team-b', 'a.b', 'x+y', '(z)'];
const WORDS = ['error', 'timeout', 'GET', 'POST', 'level=warn', 'status=503', 'latency=1.5s', 'msg="disk full"', '{"a":1}', 'healthz'];
const recordArb: fc.Arbitrary<StoredLogRecord> = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    pod: fc.constantFrom('api-1', 'api-2', 'web-1'),
    stream: fc.constantFrom('stdout', 'stderr') as fc.Arbitrary<'stdout' | 'stderr'>,
    level: fc.constantFrom(...LOG_LEVELS) as fc.Arbitrary<LogLevel>,
    words: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 4 }),
    json: fc.boolean(),
    t: fc.bigInt({ min: 900n, max: 2_100n }),
    id: fc.uuid(),
    offset: fc.nat(),
  })
  .map((r) => ({
    id: r.id,
    timeNs: r.t,
    stream: r.stream,
    level: r.level,
    message: r.json ? JSON.stringify({ level: r.level, msg: r.words.join(' '), status: r.words.length * 100 }) : r.words.join(' '),
    namespace: r.ns,
    pod: r.pod,
    podUid: `${r.pod}-uid`,
    container: 'app',
    restart: 0,
    node: 'node-1',
    fileKey: 'fk',
    offset: r.offset,
  }));

/** What a store plus the residual pipeline return for a plan. */
function execute(plan: LogQueryPlan, records: readonly StoredLogRecord[]): PipelineResult[] {
  if (plan.selection === undefined) return [];
  const matches = compileSelection(plan.selection);
  return records.filter(matches).flatMap((r) => plan.pipeline.process(r) ?? []);
}

function streamLabels(r: StoredLogRecord): Record<string, string> {
  return { namespace: r.namespace, pod: r.pod, container: r.container, node: r.node, stream: r.stream };
}

/** The unplanned meaning: selector, time range, then every stage on every record. */
function reference(query: string, records: readonly StoredLogRecord[]): PipelineResult[] {
  const q = parseLogQuery(query);
  const whole = new Pipeline(q.stages);
  return records
    .filter((r) => r.timeNs >= RANGE.startNs && r.timeNs < RANGE.endNs)
    .filter((r) => q.selector.matchers.every((m) => m.matcher.matches(streamLabels(r)[m.matcher.name] ?? '')))
    .flatMap((r) => whole.process(r) ?? []);
}

const QUERIES = [
  '{namespace=~".+"} |= "error"',
  '{namespace="shop"} |= "error" != "timeout" |~ "GET|POST"',
  '{pod=~"api-.*"} | level="error" |= "status"',
  '{namespace=~"team-.*"} | level=~"warn|error" or pod="web-1"',
  '{stream="stderr"} | json | level="error" | status >= 200',
  '{stream="stdout"} | logfmt | level="warn" and latency > 1s',
  '{namespace=~".+"} | line_format "{{.level}} {{.pod}}" |= "error api"',
  '{namespace=~".+"} | pod="api-1", stream="stderr" | decolorize !~ "healthz"',
  '{namespace=~".+"} | drop pod | pod="api-1"',
  '{namespace=~".+"} | json | __error__="" | keep level, namespace',
];

describe('planning changes no result', () => {
  it.each(QUERIES)('%s', (query) => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 40 }), (records) => {
        expect(execute(planLogQuery(parseLogQuery(query), RANGE), records)).toEqual(reference(query, records));
      }),
      { numRuns: 200 },
    );
  });
});

const selection = (...ms: Matcher[]): LogSelection => ({ matchers: ms, lineFilters: [], startNs: 0n, endNs: 1n });

describe('restrictToNamespaces', () => {
  const base = selection(new Matcher('=', 'pod', 'api'));

  it("'all' leaves the selection alone", () => {
    expect(restrictToNamespaces(base, 'all')).toBe(base);
  });

  it('an empty scope matches nothing', () => {
    expect(restrictToNamespaces(base, [])).toBeUndefined();
    expect(restrictToNamespaces(base, [''])).toBeUndefined();
  });

  const rows: ReadonlyArray<readonly [string, Matcher[], string[], string | undefined]> = [
    ['one namespace: an exact matcher', [], ['team-a'], 'namespace="team-a"'],
    ['several: an alternation, sorted and deduplicated', [], ['team-b', 'team-a', 'team-b'], 'namespace=~"team-a|team-b"'],
    ['regex syntax in names is quoted', [], ['a.b', 'x+y', '(z)'], String.raw`namespace=~"\\(z\\)|a\\.b|x\\+y"`],
    ['a query for a namespace outside the scope matches nothing', [new Matcher('=', 'namespace', 'other')], ['team-a'], undefined],
    ['a query for namespaces partly in scope is narrowed', [new Matcher('=~', 'namespace', 'team-.*|shop')], ['team-b', 'kube-system'], 'namespace="team-b"'],
    ['exclusions in the query narrow the scope', [new Matcher('!=', 'namespace', 'team-a')], ['team-a', 'team-b'], 'namespace="team-b"'],
    ['a regex that matches no scoped name matches nothing', [new Matcher('=~', 'namespace', 'team-.')], ['team-ab'], undefined],
  ];
  it.each(rows)('%s', (_name, own, scope, added) => {
    const got = restrictToNamespaces(selection(...own), scope);
    if (added === undefined) {
      expect(got).toBeUndefined();
    } else {
      expect(got!.matchers.map(String)).toEqual([...own.map(String), added]);
    }
  });

  it('quoted names match themselves and nothing else', () => {
    const names = ['a.b', 'x+y', 'p|q', '(z)', 'r*', '^s$', 'w\\v', '[k]', '{1}', 'n?', 'é.ü', 'a\nb'];
    const m = restrictToNamespaces(selection(), names)!.matchers.at(-1)!;
    for (const n of names) expect(m.matches(n), n).toBe(true);
    for (const other of ['aXb', 'xxy', 'p', 'q', 'z', '', 'rrr', 's', 'w\\\\v', 'k', '1', 'n', 'éXü', 'a.b.c', 'a.bx']) {
      expect(m.matches(other), other).toBe(false);
    }
    expect(quoteRe2('a.b*c\\d')).toBe('a\\.b\\*c\\\\d');
  });

  it('no record outside the scope gets through, whatever the names and the query', () => {
    const char = fc.constantFrom('a', 'b', '.', '*', '+', '?', '|', '(', ')', '[', ']', '{', '}', '^', '$', '\\', '-', 'é');
    const special = fc.string({ unit: char, minLength: 1, maxLength: 5 });
    const matcherArb = fc.tuple(fc.constantFrom('=', '!=', '=~', '!~'), special).map(([op, v]) => {
      try {
        return new Matcher(op as '=' | '!=' | '=~' | '!~', 'namespace', v);
      } catch {
        return new Matcher('=', 'namespace', v);
      }
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(special, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(matcherArb, { maxLength: 2 }),
        (pool, picks, own) => {
          const scope = picks.map((i) => pool[i % pool.length]!);
          const restricted = restrictToNamespaces(selection(...own), scope);
          for (const ns of pool) {
            const r = { namespace: ns, timeNs: 0n, message: '', level: 'info', stream: 'stdout' } as StoredLogRecord;
            const inScope = scope.includes(ns);
            const wanted = own.every((m) => m.matches(ns));
            const passes = restricted !== undefined && compileSelection(restricted)(r);
            // Never outside the scope; and nothing in scope that the query wanted is lost.
            expect(passes).toBe(inScope && wanted);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('restricted plans', () => {
  it('queries cannot reach records of other namespaces, however they are written', () => {
    const escapes = [
      '{namespace=~".+"}',
      '{namespace=~"team-a|team-b"}',
      '{namespace="team-b"}',
      '{pod=~".+"} | namespace="team-b"',
      '{pod=~".+"} | namespace="team-b" or namespace="team-a"',
      '{pod=~".+"} | json | namespace_extracted="team-b"',
      '{pod=~".+"} | drop namespace',
      '{pod=~".+"} | keep pod | line_format "{{.namespace}}"',
      '{pod=~".+", namespace!="team-a"}',
    ];
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 40 }), (records) => {
        for (const query of escapes) {
          const plan = restrictPlan(planLogQuery(parseLogQuery(query), RANGE), ['team-a']);
          const visible = new Set(records.filter((r) => r.namespace === 'team-a').map((r) => r.id));
          if (plan.selection === undefined) continue;
          const matches = compileSelection(plan.selection);
          for (const r of records) if (matches(r)) expect(visible.has(r.id), `${query} let ${r.namespace} through`).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a plan that matches nothing stays so, and an empty scope makes one', () => {
    const plan = planLogQuery(parseLogQuery('{namespace="shop"} |= "x"'), RANGE);
    const none = restrictPlan(plan, []);
    expect(none.selection).toBeUndefined();
    expect(restrictPlan(none, 'all').selection).toBeUndefined();
    expect(restrictPlan(plan, ['team-a']).selection).toBeUndefined();
    expect(restrictPlan(plan, ['shop', 'team-a']).selection!.matchers.map(String)).toEqual(['namespace="shop"', 'namespace="shop"']);
    expect(restrictPlan(plan, 'all')).toBe(plan);
  });
});
