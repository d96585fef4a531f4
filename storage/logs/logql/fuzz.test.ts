/**
 * Property tests of everything here that reads untrusted text: the query parser, and the JSON,
 * logfmt and template readers the pipeline runs on log lines. Whatever the input, they end
 * quickly and fail only with their own error (a `LogqlParseError`, an error label); what they
 * accept means what a reference reading of it means.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS } from '../../../model/logs.js';
import type { LogqlExpr } from './ast.js';
import { LogqlParseError } from './errors.js';
import { formatLogql, quote } from './format.js';
import { extractJsonPaths, flattenJson } from './json.js';
import { LogfmtDecoder } from './logfmt.js';
import { parseLogQuery, parseLogql } from './parser.js';
import { Pipeline } from './pipeline.js';
import { parseTemplate, renderTemplate, TemplateError } from './template.js';
import { shape } from './testutil.js';
import { parseBytes, parseGoDuration, parseNumber } from './values.js';

const RUNS = 1500;
const LEVELS = LOG_LEVELS;
/** Generous for a shared machine; a parse takes microseconds, a hang takes forever. */
const SLOW_MS = 1000;

/** Parses; the only failure allowed is a LogqlParseError that points inside the query. */
function parseSafely(input: string): LogqlExpr | undefined {
  const started = performance.now();
  try {
    return parseLogql(input);
  } catch (err) {
    if (!(err instanceof LogqlParseError)) throw err;
    expect(err.position).toBeGreaterThanOrEqual(0);
    expect(err.position).toBeLessThanOrEqual(input.length);
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.column).toBeGreaterThanOrEqual(1);
    expect(err.message).toMatch(/^parse error at line \d+, col \d+: ./);
    return undefined;
  } finally {
    expect(performance.now() - started).toBeLessThan(SLOW_MS);
  }
}

/** What parses must print to a query that parses to the same tree. */
function expectRoundTrip(e: LogqlExpr): void {
  const printed = formatLogql(e);
  expect(shape(parseLogql(printed)), printed).toEqual(shape(e));
}

const SEEDS = [
  '{namespace="payments", pod=~"api-.*", container!="istio-proxy", stream!~"std(err)?"} |= "timeout" != "healthz"',
  '{app="a"} |~ `status=5\\d\\d` | json a="x.y", b="z[0][\\"k\\"]" | a > 250ms or b <= 10KB , c!~"x|y"',
  '{app="a"} | logfmt --strict --keep-empty host | (latency >= 1.5s and status == 500) | line_format "{{.level}} {{ .msg }}"',
  '{app="a"} | regexp "(?P<method>\\\\w+) (?P<path>\\\\S+)" | drop a, b="x" | keep c | __error__="" | decolorize',
  'sum by (level) (count_over_time({app="a"} |= "x" | drop __error__[5m] offset 1h))',
  'topk(5, sum without (pod) (bytes_rate(({app="a"} | json)[1m])))',
  '{a="\\x41\\u00e9\\n"} # comment\n | x > -5 | y = 1e3',
];

const TOKENS = [
  '{', '}', '(', ')', '[5m]', '[1h30m]', '[', ']', ',', '=', '!=', '=~', '!~', '|=', '|~', '|>', '!>', '|', '==',
  '>', '>=', '<', '<=', '+', '-', 'and', 'or', 'by', 'without', 'offset', 'json', 'logfmt', '--strict',
  '--keep-empty', '--x', 'regexp', 'line_format', 'drop', 'keep', 'decolorize', 'unwrap', 'ip', 'sum', 'count',
  'topk', 'rate', 'count_over_time', 'bytes_rate', 'app', 'level', '__error__', '"a"', '"(?P<x>.)"', '"{{.a}}"',
  '`b`', '".*"', '"("', '5', '1.5', '250ms', '1.5s', '10KB', '1MiB', '-5s', '1e999', '#', '\n', ' ', '"', '`',
  '\\', '"\\x', 'é', '😀', '@',
];

describe('parser robustness', () => {
  it('random strings only ever fail with LogqlParseError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const e = parseSafely(s);
        if (e) expectRoundTrip(e);
      }),
      { numRuns: RUNS },
    );
  });

  it('random token soups only ever fail with LogqlParseError, and what parses round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }), fc.boolean(), (toks, spaced) => {
        const e = parseSafely(toks.join(spaced ? ' ' : ''));
        if (e) expectRoundTrip(e);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('token soups behind a valid selector (deep in the grammar) behave too', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 20 }), (toks) => {
        const e = parseSafely(`{app="a"} | ${toks.join(' ')}`);
        if (e) expectRoundTrip(e);
        const m = parseSafely(`sum by (x) (count_over_time({app="a"} ${toks.join(' ')} [1m]))`);
        if (m) expectRoundTrip(m);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('mutations of valid queries only ever fail with LogqlParseError, and what parses round-trips', () => {
    const mutation = fc.record({
      seed: fc.constantFrom(...SEEDS),
      at: fc.nat(),
      cut: fc.nat({ max: 6 }),
      insert: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...TOKENS)),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        let q = ms[0]!.seed;
        for (const m of ms) {
          const at = m.at % (q.length + 1);
          q = q.slice(0, at) + m.insert + q.slice(at + m.cut);
        }
        const e = parseSafely(q);
        if (e) expectRoundTrip(e);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('the seeds themselves parse and round-trip', () => {
    for (const s of SEEDS) expectRoundTrip(parseLogql(s));
  });

  it('long and deeply nested garbage ends quickly with LogqlParseError', () => {
    for (const s of [
      '('.repeat(100_000),
      `{a="b"} | ${'('.repeat(100_000)}`,
      'sum('.repeat(50_000),
      `{a="b"} ${'|= "x" '.repeat(10_000)}`,
      `{a="b"} | x="1"${' or y="2"'.repeat(10_000)}`,
      `{a="${'\\x'.repeat(50_000)}`,
      '{a="b"} |~ "' + '('.repeat(10_000) + '"',
      '[' + '1'.repeat(100_000),
    ]) {
      const started = performance.now();
      try {
        parseLogql(s);
      } catch (err) {
        expect(err).toBeInstanceOf(LogqlParseError);
      }
      expect(performance.now() - started).toBeLessThan(SLOW_MS * 2);
    }
  });
});

// Generated valid queries: every construct, printed, must parse back to the same tree.
const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/).filter((s) => !['and', 'or', 'by', 'without', 'offset'].includes(s));
const anyString = fc.string({ unit: 'grapheme-composite', maxLength: 8 });
const regex = fc.constantFrom('.*', 'a|b', '[0-9]+', '(?i)x', 'a\\.b', '');
const matcher = fc.oneof(
  fc.tuple(ident, fc.constantFrom('=', '!='), anyString).map(([n, op, v]) => `${n}${op}${quote(v)}`),
  fc.tuple(ident, fc.constantFrom('=~', '!~'), regex).map(([n, op, v]) => `${n}${op}${quote(v)}`),
);
const number = fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e300, max: 1e300 }));
const predicate = fc.oneof(
  matcher,
  fc.tuple(ident, fc.constantFrom('==', '!=', '>', '>=', '<', '<=', '='), number).map(([n, op, v]) => `${n} ${op} ${v}`),
  fc.tuple(ident, fc.constantFrom('>', '<=', '=='), fc.constantFrom('250ms', '1.5s', '2h45m', '300us', '1d', '-5s')).map(([n, op, v]) => `${n} ${op} ${v}`),
  fc.tuple(ident, fc.constantFrom('>', '<', '!='), fc.constantFrom('10KB', '1MiB', '20B', '1.5KiB', '3G')).map(([n, op, v]) => `${n} ${op} ${v}`),
);
const { labelFilter } = fc.letrec((tie) => ({
  labelFilter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    predicate,
    fc.tuple(tie('labelFilter'), fc.constantFrom(' and ', ' or ', ', ', ' '), tie('labelFilter')).map(([a, op, b]) => `${a}${op}${b}`),
    tie('labelFilter').map((f) => `(${f})`),
  ) as fc.Arbitrary<string>,
}));
const stage = fc.oneof(
  fc.tuple(fc.constantFrom('|=', '!='), anyString).map(([op, v]) => `${op} ${quote(v)}`),
  fc.tuple(fc.constantFrom('|~', '!~'), regex).map(([op, v]) => `${op} ${quote(v)}`),
  fc.constant('| json'),
  fc
    .array(fc.tuple(ident, fc.constantFrom('a.b', 'a[0]', '["x y"].z', 'k')), { minLength: 1, maxLength: 3 })
    .map((xs) => `| json ${xs.map(([l, p]) => `${l}=${quote(p)}`).join(', ')}`),
  fc
    .tuple(fc.boolean(), fc.boolean(), fc.array(ident, { maxLength: 2 }))
    .map(([s, k, xs]) => `| logfmt${s ? ' --strict' : ''}${k ? ' --keep-empty' : ''}${xs.length ? ' ' + xs.join(', ') : ''}`),
  fc.constant('| regexp "(?P<a>\\\\w+) (?P<b>.*)"'),
  labelFilter.map((f) => `| ${f}`),
  fc.array(fc.oneof(ident.map((n) => `{{.${n}}}`), anyString.filter((s) => !s.includes('{{'))), { maxLength: 4 }).map((parts) => `| line_format ${quote(parts.join(''))}`),
  fc.tuple(fc.constantFrom('drop', 'keep'), fc.array(fc.oneof(ident, matcher), { minLength: 1, maxLength: 3 })).map(([k, ls]) => `| ${k} ${ls.join(', ')}`),
  fc.constant('| decolorize'),
);
const logQuery = fc
  .tuple(fc.array(matcher, { maxLength: 3 }), fc.array(stage, { maxLength: 5 }))
  .map(([ms, stages]) => `{app="x"${ms.map((m) => `, ${m}`).join('')}} ${stages.join(' ')}`);
const metricQuery = fc
  .tuple(
    fc.constantFrom('count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'absent_over_time'),
    logQuery,
    fc.constantFrom('[1m]', '[5m]', '[1h30m]', '[30s] offset 1h', '[1d] offset -5m'),
    fc.array(
      fc.tuple(
        fc.constantFrom('sum', 'count', 'avg', 'min', 'max', 'topk', 'bottomk'),
        fc.option(fc.tuple(fc.boolean(), fc.array(ident, { maxLength: 2 }))),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([fn, q, r, aggs]) =>
    aggs.reduce((inner, [op, g]) => {
      const grouping = g ? ` ${g[0] ? 'without' : 'by'} (${g[1].join(', ')})` : '';
      const param = op === 'topk' || op === 'bottomk' ? '3, ' : '';
      return `${op}${grouping} (${param}${inner})`;
    }, `${fn}(${q} ${r})`),
  );

describe('generated valid queries', () => {
  it('parse, and print back to a query with the same tree', () => {
    fc.assert(
      fc.property(fc.oneof(logQuery, metricQuery), (q) => {
        expectRoundTrip(parseLogql(q));
      }),
      { numRuns: RUNS },
    );
  });
});

/** The flattening Loki documents, written the obvious way over JSON.parse. */
function referenceFlatten(value: unknown, prefix: string, out: Array<[string, string]>): void {
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const part = k.trim();
    let name = prefix;
    if (part !== '') {
      const mapped = [...(prefix === '' && /^[0-9]/.test(part) ? `_${part}` : part)].map((c) => (/^[A-Za-z0-9_]$/.test(c) ? c : '_')).join('');
      name = prefix === '' ? mapped : `${prefix}_${mapped}`;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) referenceFlatten(v, name, out);
    else if (typeof v === 'string') out.push([name, v.replaceAll('\ufffd', ' ')]);
    else if (typeof v === 'number' || typeof v === 'boolean') out.push([name, JSON.stringify(v)]);
  }
}

describe('line readers', () => {
  it('flattenJson agrees with a JSON.parse reference on any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), fc.boolean(), (obj, pretty) => {
        const line = JSON.stringify(obj, null, pretty ? 2 : undefined);
        const got: Array<[string, string]> = [];
        expect(flattenJson(line, (n, v) => got.push([n, v]))).toBeUndefined();
        const want: Array<[string, string]> = [];
        referenceFlatten(JSON.parse(line), '', want);
        expect(got).toEqual(want.filter(([n]) => n !== ''));
      }),
      { numRuns: RUNS },
    );
  });

  it('flattenJson and extractJsonPaths never throw, whatever the line', () => {
    const lines = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.array(fc.constantFrom('{', '}', '[', ']', '"', ':', ',', 'a', '1', '-', 'e', 'true', 'null', '\\', ' ', '"k"', 'é'), { maxLength: 40 }).map((a) => a.join('')),
      fc.jsonValue().map((v) => JSON.stringify(v)).chain((s) => fc.nat({ max: s.length }).map((n) => s.slice(0, n))),
    );
    fc.assert(
      fc.property(lines, (line) => {
        const error = flattenJson(line, (n, v) => {
          expect(n).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
          expect(typeof v).toBe('string');
        });
        if (error !== undefined) expect(typeof error).toBe('string');
        const r = extractJsonPaths(line, [['a'], ['a', 0], ['k', 'x']]);
        expect(r.values).toHaveLength(3);
      }),
      { numRuns: RUNS * 2 },
    );
    expect(flattenJson('['.repeat(100_000), () => {})).toMatch(/^expecting a JSON object/);
    expect(flattenJson(`{"a":${'['.repeat(100_000)}`, () => {})).toMatch(/nesting too deep/);
    expect(flattenJson(`${'{"a":'.repeat(100_000)}1`, () => {})).toMatch(/nesting too deep/);
    expect(extractJsonPaths('['.repeat(100_000), [[0, 0]]).error).toMatch(/nesting too deep/);
  });

  it('logfmt decodes what a logfmt encoder wrote, and never throws on anything else', () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/);
    const value = fc.string({ maxLength: 10 });
    const encode = (v: string): string => (v === '' || /[\s="\\]/.test(v) || [...v].some((c) => c.charCodeAt(0) <= 0x20) ? JSON.stringify(v) : v);
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 6 }), (pairs) => {
        const dec = new LogfmtDecoder();
        dec.reset(pairs.map(([k, v]) => `${k}=${encode(v)}`).join(' '));
        const got: Array<[string, string]> = [];
        while (!dec.eol) if (dec.next() && dec.key !== undefined) got.push([dec.key, dec.value ?? '']);
        expect(got).toEqual(pairs);
        expect(dec.error).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (line) => {
        const dec = new LogfmtDecoder();
        dec.reset(line);
        let steps = 0;
        while (!dec.eol) {
          dec.next();
          expect(++steps).toBeLessThanOrEqual(line.length + 1);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('templates either parse or fail with TemplateError, and render without throwing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('{{', '}}', '.', 'a', ' ', '-', '__line__', 'x', '{', '}', '|'), { maxLength: 20 }), (toks) => {
        try {
          const parts = parseTemplate(toks.join(''));
          expect(typeof renderTemplate(parts, 'line', (n) => (n === 'a' ? 'A' : undefined))).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(TemplateError);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a pipeline with every kind of stage takes any line without throwing', () => {
    const pipelines = [
      '| json | logfmt --strict | regexp "(?P<w>\\\\w+)" | x > 5 or y < 1s and z >= 1KB | decolorize | line_format "{{.w}} {{__line__}}" | drop a | keep w, x',
      '| json a="x.y[0]", b=`["k"]` | logfmt --keep-empty c, d="e" | __error__="" | a=~".+" or b!="" |~ "(?i)err"',
    ].map((p) => new Pipeline(parseLogQuery(`{a="b"} ${p}`).stages));
    const lines = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .array(fc.tuple(fc.constantFrom('x', 'y', 'z', 'k', 'w', '"', '='), fc.constantFrom('5', '1s', '2KB', '"a b"', '', '=', '\\"')), {
          maxLength: 6,
        })
        .map((ps) => ps.map(([k, v]) => `${k}=${v}`).join(' ')),
    );
    fc.assert(
      fc.property(lines, fc.constantFrom(...LEVELS), (message, level) => {
        for (const p of pipelines) {
          const r = p.process({
            ...{ id: 'x', timeNs: 0n, stream: 'stdout', level, message, namespace: 'n', pod: 'p', podUid: 'u' },
            ...{ container: 'c', restart: 0, node: 'nd', fileKey: 'f', offset: 0 },
          });
          if (r !== undefined) {
            expect(typeof r.line).toBe('string');
            for (const v of Object.values(r.labels)) expect(typeof v).toBe('string');
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('value readers return a value or undefined, never throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), (s) => {
        const n = parseNumber(s);
        expect(n === undefined || typeof n === 'number').toBe(true);
        const d = parseGoDuration(s);
        expect(d === undefined || typeof d === 'bigint').toBe(true);
        const b = parseBytes(s);
        expect(b === undefined || (Number.isInteger(b) && b >= 0)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
