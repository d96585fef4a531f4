/**
 * The LogQL parser: a table of valid queries and the trees they give (every construct), a table
 * of invalid queries and the exact error (message, line, column), positions, and the printer
 * round trip of every valid query.
 */
import { describe, expect, it } from 'vitest';
import type { LogQuery } from './ast.js';
import { LogqlParseError } from './errors.js';
import { formatLogql } from './format.js';
import { ERR_EMPTY_COMPATIBLE_SELECTOR, MAX_NESTING_DEPTH, MAX_QUERY_LENGTH, parseLogQuery, parseLogql, parseMetricQuery } from './parser.js';
import { shape } from './testutil.js';

const sel = (...ms: string[]) => ({ kind: 'StreamSelector', matchers: ms.map((matcher) => ({ kind: 'LabelMatcher', matcher })) });
const lq = (ms: string[], ...stages: unknown[]) => ({ kind: 'LogQuery', selector: sel(...ms), stages });
const APP = ['app="a"'];
const lf = (op: string, value: string) => ({ kind: 'LineFilter', op, value });
const x = (label: string, expression: string, path: (string | number)[]) => ({ label, expression, path });
const json = (...extractions: unknown[]) => ({ kind: 'JsonParser', extractions });
const logfmt = (strict: boolean, keepEmpty: boolean, ...extractions: unknown[]) => ({ kind: 'LogfmtParser', strict, keepEmpty, extractions });
const filter = (f: unknown) => ({ kind: 'LabelFilter', filter: f });
const str = (matcher: string) => ({ kind: 'StringFilter', matcher });
const num = (name: string, op: string, value: number) => ({ kind: 'NumberFilter', name, op, value });
const dur = (name: string, op: string, ns: bigint) => ({ kind: 'DurationFilter', name, op, valueNs: `${ns}n` });
const bytes = (name: string, op: string, value: number) => ({ kind: 'BytesFilter', name, op, value });
const and = (left: unknown, right: unknown) => ({ kind: 'And', left, right });
const or = (left: unknown, right: unknown) => ({ kind: 'Or', left, right });
const named = (name: string, matcher?: string) => (matcher ? { name, matcher } : { name });
const range = (op: string, query: unknown, rangeNs: bigint, offsetNs = 0n) => ({
  kind: 'RangeAggregation',
  op,
  query,
  rangeNs: `${rangeNs}n`,
  offsetNs: `${offsetNs}n`,
});
const agg = (op: string, expr: unknown, grouping?: { without: boolean; labels: string[] }, param?: number) => ({
  kind: 'VectorAggregation',
  op,
  ...(param !== undefined ? { param } : {}),
  ...(grouping ? { grouping } : {}),
  expr,
});
const by = (...labels: string[]) => ({ without: false, labels });
const S = 1_000_000_000n;
const MIN = 60n * S;

const VALID: ReadonlyArray<readonly [string, unknown]> = [
  // Stream selectors.
  [
    '{namespace="payments", pod=~"api-.*", container!="istio-proxy", stream!~"std(err)?"}',
    lq(['namespace="payments"', 'pod=~"api-.*"', 'container!="istio-proxy"', 'stream!~"std(err)?"']),
  ],
  ['{ app = "a" }', lq(APP)],
  ['{app=`a`}', lq(APP)],
  ['{app!="", pod!="x"}', lq(['app!=""', 'pod!="x"'])],
  ['{app=~".+"}', lq(['app=~".+"'])],
  // Labels may share a name with a keyword or function where a label is expected.
  ['{json="x", rate="y", by="z"}', lq(['json="x"', 'rate="y"', 'by="z"'])],
  // Go escapes in double quotes; raw strings keep backslashes.
  ['{app="\\x41\\u00e9\\101\\n\\t\\"\\\\\\U0001F600"}', lq([`app=${JSON.stringify('Aé\u0041\n\t"\\\u{1f600}')}`])],
  ['{app="\\xc3\\xa9"}', lq(['app="é"'])],
  ['{app=`\\d+`}', lq(['app="\\\\d+"'])],
  // Line filters, chained.
  [
    '{app="a"} |= "timeout" != "healthz" |~ "status=5\\\\d\\\\d" !~ `(?i)debug`',
    lq(APP, lf('|=', 'timeout'), lf('!=', 'healthz'), lf('|~', 'status=5\\d\\d'), lf('!~', '(?i)debug')),
  ],
  ['{app="a"}|="x"|~"y"', lq(APP, lf('|=', 'x'), lf('|~', 'y'))],
  ['{app="a"} |= ""', lq(APP, lf('|=', ''))],
  // Parsers.
  ['{app="a"} | json', lq(APP, json())],
  ['{app="a"} | JSON', lq(APP, json())],
  ['{app="a"} | json a="x.y", b="z"', lq(APP, json(x('a', 'x.y', ['x', 'y']), x('b', 'z', ['z'])))],
  ['{app="a"} | json servers', lq(APP, json(x('servers', 'servers', ['servers'])))],
  [
    '{app="a"} | json first="servers[0]", ua="request.headers[\\"User-Agent\\"]"',
    lq(APP, json(x('first', 'servers[0]', ['servers', 0]), x('ua', 'request.headers["User-Agent"]', ['request', 'headers', 'User-Agent']))),
  ],
  ['{app="a"} | json x=`["a b"][2].c`', lq(APP, json(x('x', '["a b"][2].c', ['a b', 2, 'c'])))],
  ['{app="a"} | logfmt', lq(APP, logfmt(false, false))],
  ['{app="a"} | logfmt --strict', lq(APP, logfmt(true, false))],
  [
    '{app="a"} | logfmt --keep-empty --strict host, fwd_ip="fwd"',
    lq(APP, logfmt(true, true, x('host', 'host', ['host']), x('fwd_ip', 'fwd', ['fwd']))),
  ],
  [
    '{app="a"} | regexp "(?P<method>\\\\w+) (?<path>\\\\S+) \\\\(?P<not>x\\\\)"',
    lq(APP, { kind: 'RegexpParser', pattern: '(?P<method>\\w+) (?<path>\\S+) \\(?P<not>x\\)', names: ['method', 'path'] }),
  ],
  // Label filters: string, number, duration and bytes comparisons.
  ['{app="a"} | level="error"', lq(APP, filter(str('level="error"')))],
  ['{app="a"} | level!="debug" | pod=~"api-.+" | x!~"a|b"', lq(APP, filter(str('level!="debug"')), filter(str('pod=~"api-.+"')), filter(str('x!~"a|b"')))],
  ['{app="a"} | latency_ms > 500', lq(APP, filter(num('latency_ms', '>', 500)))],
  [
    '{app="a"} | a >= 1.5 | b < -2 | c <= 1e3 | d == 0.25 | e != 7 | f = 8 | g > +3',
    lq(
      APP,
      filter(num('a', '>=', 1.5)),
      filter(num('b', '<', -2)),
      filter(num('c', '<=', 1000)),
      filter(num('d', '==', 0.25)),
      filter(num('e', '!=', 7)),
      filter(num('f', '==', 8)),
      filter(num('g', '>', 3)),
    ),
  ],
  [
    '{app="a"} | d > 250ms | e <= 1.5s | f == 1h30m | g != 2d | h < 300us | i > -5s',
    lq(
      APP,
      filter(dur('d', '>', 250_000_000n)),
      filter(dur('e', '<=', 1_500_000_000n)),
      filter(dur('f', '==', 90n * MIN)),
      filter(dur('g', '!=', 48n * 60n * MIN)),
      filter(dur('h', '<', 300_000n)),
      filter(dur('i', '>', -5n * S)),
    ),
  ],
  [
    '{app="a"} | s > 10KB | t < 1MiB | u == 20B | v >= 1.5KiB | w > 10k',
    lq(
      APP,
      filter(bytes('s', '>', 10_000)),
      filter(bytes('t', '<', 1024 * 1024)),
      filter(bytes('u', '==', 20)),
      filter(bytes('v', '>=', 1536)),
      filter(bytes('w', '>', 10_000)),
    ),
  ],
  // `and` before `or`; a comma or a space also mean `and`; parentheses group.
  ['{app="a"} | status >= 500 and method="GET"', lq(APP, filter(and(num('status', '>=', 500), str('method="GET"'))))],
  [
    '{app="a"} | d >= 20ms or s == 20KB and m!~"2.."',
    lq(APP, filter(or(dur('d', '>=', 20_000_000n), and(bytes('s', '==', 20_000), str('m!~"2.."'))))),
  ],
  [
    '{app="a"} | d >= 20ms or s == 20KB , m!~"2.."',
    lq(APP, filter(or(dur('d', '>=', 20_000_000n), and(bytes('s', '==', 20_000), str('m!~"2.."'))))),
  ],
  [
    '{app="a"} | d >= 20ms or s == 20KB m!~"2.."',
    lq(APP, filter(or(dur('d', '>=', 20_000_000n), and(bytes('s', '==', 20_000), str('m!~"2.."'))))),
  ],
  [
    '{app="a"} | (d >= 20ms or s == 20KB) and m!~"2.."',
    lq(APP, filter(and(or(dur('d', '>=', 20_000_000n), bytes('s', '==', 20_000)), str('m!~"2.."')))),
  ],
  ['{app="a"} | a="1" AND b="2" OR c="3"', lq(APP, filter(or(and(str('a="1"'), str('b="2"')), str('c="3"'))))],
  ['{app="a"} | a="1" or b="2" or c="3"', lq(APP, filter(or(or(str('a="1"'), str('b="2"')), str('c="3"'))))],
  ['{app="a"} | ((a="1"))', lq(APP, filter(str('a="1"')))],
  ['{app="a"} | json | __error__=""', lq(APP, json(), filter(str('__error__=""')))],
  // A label may be named like a function when it is not called.
  ['{app="a"} | rate > 5 | sum="x"', lq(APP, filter(num('rate', '>', 5)), filter(str('sum="x"')))],
  // line_format, drop, keep, decolorize.
  [
    '{app="a"} | line_format "{{.level}} {{ .msg }}"',
    lq(APP, {
      kind: 'LineFormat',
      template: '{{.level}} {{ .msg }}',
      parts: [{ kind: 'label', name: 'level' }, { kind: 'text', text: ' ' }, { kind: 'label', name: 'msg' }],
    }),
  ],
  [
    '{app="a"} | line_format `a {{- .x -}} b {{__line__}}`',
    lq(APP, {
      kind: 'LineFormat',
      template: 'a {{- .x -}} b {{__line__}}',
      parts: [{ kind: 'text', text: 'a' }, { kind: 'label', name: 'x' }, { kind: 'text', text: 'b ' }, { kind: 'line' }],
    }),
  ],
  ['{app="a"} | drop a, b', lq(APP, { kind: 'Drop', labels: [named('a'), named('b')] })],
  ['{app="a"} | keep a, b="x", c=~"y.*"', lq(APP, { kind: 'Keep', labels: [named('a'), named('b', 'b="x"'), named('c', 'c=~"y.*"')] })],
  ['{app="a"} | drop __error__, __error_details__', lq(APP, { kind: 'Drop', labels: [named('__error__'), named('__error_details__')] })],
  ['{app="a"} | decolorize', lq(APP, { kind: 'Decolorize' })],
  // A whole pipeline, across lines, with comments.
  [
    '{app="a"}  # the app\n  |= "timeout"\n  | logfmt   # parse\n  | level="error"\n',
    lq(APP, lf('|=', 'timeout'), logfmt(false, false), filter(str('level="error"'))),
  ],
  ['({app="a"} |= "x")', lq(APP, lf('|=', 'x'))],
  // Metric queries over log queries.
  ['count_over_time({app="a"} |= "x" [5m])', range('count_over_time', lq(APP, lf('|=', 'x')), 5n * MIN)],
  ['rate({app="a"}[1m])', range('rate', lq(APP), MIN)],
  ['bytes_over_time({app="a"} | json | x > 1 [1h30m])', range('bytes_over_time', lq(APP, json(), filter(num('x', '>', 1))), 90n * MIN)],
  ['bytes_rate({app="a"}[30s] offset 1h)', range('bytes_rate', lq(APP), 30n * S, 60n * MIN)],
  ['absent_over_time({app="a"}[1d])', range('absent_over_time', lq(APP), 24n * 60n * MIN)],
  ['RATE({app="a"}[1m] offset -5m)', range('rate', lq(APP), MIN, -5n * MIN)],
  ['count_over_time({app="a"}[5m] | json)', range('count_over_time', lq(APP, json()), 5n * MIN)],
  ['count_over_time(({app="a"} | json)[5m])', range('count_over_time', lq(APP, json()), 5n * MIN)],
  ['count_over_time(({app="a"} | json [5m]))', range('count_over_time', lq(APP, json()), 5n * MIN)],
  ['sum(count_over_time({app="a"}[1m]))', agg('sum', range('count_over_time', lq(APP), MIN))],
  ['sum by (level) (count_over_time({app="a"}[1m]))', agg('sum', range('count_over_time', lq(APP), MIN), by('level'))],
  ['sum(count_over_time({app="a"}[1m])) by (level, pod)', agg('sum', range('count_over_time', lq(APP), MIN), by('level', 'pod'))],
  [
    'sum without (pod) (rate({app="a"}[1m]))',
    agg('sum', range('rate', lq(APP), MIN), { without: true, labels: ['pod'] }),
  ],
  ['count by () (rate({app="a"}[1m]))', agg('count', range('rate', lq(APP), MIN), by())],
  ['avg(rate({app="a"}[1m]))', agg('avg', range('rate', lq(APP), MIN))],
  ['min(rate({app="a"}[1m]))', agg('min', range('rate', lq(APP), MIN))],
  ['max(rate({app="a"}[1m]))', agg('max', range('rate', lq(APP), MIN))],
  ['topk(5, rate({app="a"}[1m]))', agg('topk', range('rate', lq(APP), MIN), undefined, 5)],
  ['bottomk(2, rate({app="a"}[1m])) by (pod)', agg('bottomk', range('rate', lq(APP), MIN), by('pod'), 2)],
  [
    'topk(10, sum by (pod) (rate({app="a"} |= "error" [5m])))',
    agg('topk', agg('sum', range('rate', lq(APP, lf('|=', 'error')), 5n * MIN), by('pod')), undefined, 10),
  ],
  // What Grafana's Loki data source sends for the logs volume histogram.
  [
    'sum by (level, detected_level) (count_over_time({app="a"} |= "x" | drop __error__[1m]))',
    agg('sum', range('count_over_time', lq(APP, lf('|=', 'x'), { kind: 'Drop', labels: [named('__error__')] }), MIN), by('level', 'detected_level')),
  ],
  ['(sum(rate({app="a"}[1m])))', agg('sum', range('rate', lq(APP), MIN))],
];

describe('valid queries', () => {
  it.each(VALID)('%s', (query, expected) => {
    const e = parseLogql(query);
    expect(shape(e)).toEqual(expected);
    // The printer gives a query that parses to the same tree.
    const printed = formatLogql(e);
    expect(shape(parseLogql(printed)), printed).toEqual(expected);
  });
});

function failure(query: string): LogqlParseError {
  try {
    parseLogql(query);
  } catch (err) {
    if (err instanceof LogqlParseError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(query)} to fail`);
}

/** [query, line, column, message after `parse error at line L, col C: `]. */
const INVALID: ReadonlyArray<readonly [string, number, number, string]> = [
  ['', 1, 1, 'syntax error: unexpected $end'],
  ['   ', 1, 4, 'syntax error: unexpected $end'],
  ['{foo="bar"', 1, 11, 'syntax error: unexpected $end, expecting } or ,'],
  ['{foo="bar"} |~', 1, 15, 'syntax error: unexpected $end, expecting STRING'],
  ['{foo="bar"} "foo"', 1, 13, 'syntax error: unexpected STRING'],
  ['{foo="bar"} foo', 1, 13, 'syntax error: unexpected IDENTIFIER'],
  ['{foo="bar}', 1, 6, 'literal not terminated'],
  ['{foo=`bar}', 1, 6, 'literal not terminated'],
  ['{foo="a\nb"}', 1, 6, 'literal not terminated'],
  ['{namespace=foo}', 1, 12, 'syntax error: unexpected IDENTIFIER, expecting STRING'],
  ['{namespace~"foo"}', 1, 11, 'syntax error: unexpected ~, expecting = or != or =~ or !~'],
  ['{="foo"}', 1, 2, 'syntax error: unexpected =, expecting IDENTIFIER'],
  ['{a="b",}', 1, 8, 'syntax error: unexpected }, expecting IDENTIFIER'],
  ['{a="b" c="d"}', 1, 8, 'syntax error: unexpected IDENTIFIER, expecting } or ,'],
  ['{}', 1, 1, ERR_EMPTY_COMPATIBLE_SELECTOR],
  ['{foo!="bar"}', 1, 1, ERR_EMPTY_COMPATIBLE_SELECTOR],
  ['{app=~".*"}', 1, 1, ERR_EMPTY_COMPATIBLE_SELECTOR],
  ['{app!~"bar|baz", x=""}', 1, 1, ERR_EMPTY_COMPATIBLE_SELECTOR],
  ['count_over_time({app=~".*"}[5m])', 1, 17, ERR_EMPTY_COMPATIBLE_SELECTOR],
  ['{a="\\q"}', 1, 5, 'invalid char escape'],
  ['{a="\\x4"}', 1, 5, 'invalid char escape'],
  ['{a="\\ud800"}', 1, 5, 'invalid char escape'],
  ['{a="\\xff"}', 1, 9, 'invalid UTF-8 encoding'],
  ['{app="x", pod=~"(a"}', 1, 16, 'error parsing regexp: missing closing ): `(a`'],
  ['{app="x"} |~ "a(?=b)"', 1, 14, 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`: `a(?=b)`'],
  ['{app="x"} !~ "\\\\"', 1, 14, 'error parsing regexp: trailing backslash at end of expression: `\\`'],
  ['{a="b"} |= "x" or "y"', 1, 16, 'line filter alternatives (or) are not supported'],
  ['{a="b"} |= ip("1.2.3.4")', 1, 12, 'ip() line filters are not supported'],
  ['{a="b"} |> "<_> x"', 1, 9, 'pattern line filters (|>) are not supported'],
  ['{a="b"} |', 1, 10, 'syntax error: unexpected $end'],
  ['{a="b"} | "x"', 1, 11, 'syntax error: unexpected STRING'],
  ['{a="b"} | json a=', 1, 18, 'syntax error: unexpected $end, expecting STRING'],
  ['{a="b"} | json a="x..y"', 1, 18, 'cannot parse expression [x..y]: unexpected "." in json path "x..y"'],
  ['{a="b"} | json a="x[0"', 1, 18, `cannot parse expression [x[0]: expecting ']' in json path "x[0"`],
  ['{a="b"} | json a, ', 1, 19, 'syntax error: unexpected $end, expecting IDENTIFIER'],
  ['{a="b"} | logfmt --lax', 1, 18, 'invalid logfmt flag --lax, expecting --strict or --keep-empty'],
  ['{a="b"} | regexp "(\\\\w+)"', 1, 18, 'at least one named capture must be supplied'],
  ['{a="b"} | regexp "(?P<a>x)(?P<a>y)"', 1, 18, "duplicate extracted label name 'a'"],
  ['{a="b"} | regexp "(?P<a>x"', 1, 18, 'error parsing regexp: missing closing ): `(?P<a>x`'],
  ['{a="b"} | regexp', 1, 17, 'syntax error: unexpected $end, expecting STRING'],
  ['{a="b"} | line_format "{{ .a | upper }}"', 1, 23, 'invalid line template: unsupported action {{.a | upper}}: only {{.label}} and {{__line__}} are supported'],
  ['{a="b"} | line_format "x {{ .a "', 1, 23, 'invalid line template: unclosed action'],
  ['{a="b"} | line_format "{{if .a}}x{{end}}"', 1, 23, 'invalid line template: unsupported action {{if .a}}: only {{.label}} and {{__line__}} are supported'],
  ['{a="b"} | drop', 1, 15, 'syntax error: unexpected $end, expecting IDENTIFIER'],
  ['{a="b"} | keep a=', 1, 18, 'syntax error: unexpected $end, expecting STRING'],
  ['{a="b"} | unpack', 1, 11, 'unpack is not supported'],
  ['{a="b"} | pattern "<a>"', 1, 11, 'pattern is not supported'],
  ['{a="b"} | label_format a=b', 1, 11, 'label_format is not supported'],
  ['{a="b"} | x > "5"', 1, 15, 'syntax error: unexpected STRING, expecting NUMBER or DURATION or BYTES'],
  ['{a="b"} | x =~ 5', 1, 16, 'syntax error: unexpected NUMBER, expecting STRING'],
  ['{a="b"} | x = y', 1, 15, 'syntax error: unexpected IDENTIFIER, expecting STRING or NUMBER or DURATION or BYTES'],
  ['{a="b"} | x > - "1"', 1, 17, 'syntax error: unexpected STRING, expecting NUMBER or DURATION'],
  ['{a="b"} | x', 1, 12, 'syntax error: unexpected $end'],
  ['{a="b"} | x > 1e999', 1, 15, 'unable to parse literal as a float: 1e999: value out of range'],
  ['{a="b"} | x = ip("1.2.3.4")', 1, 15, 'ip() label filters are not supported'],
  ['{a="b"} | (x="1"', 1, 17, 'syntax error: unexpected $end, expecting ) or and or or'],
  ['{a="b"} | x="1" and', 1, 20, 'syntax error: unexpected $end, expecting IDENTIFIER or ('],
  ['{a="b"} | x="1" or or', 1, 20, 'syntax error: unexpected or, expecting IDENTIFIER or ('],
  ['{a="b"}\n  | json\n  | x >', 3, 8, 'syntax error: unexpected $end, expecting NUMBER or DURATION or BYTES'],
  ['{a="é"} foo', 1, 9, 'syntax error: unexpected IDENTIFIER'],
  ['{a="😀"}\t@', 1, 9, 'syntax error: unexpected @'],
  ['{a="b"} | unwrap x', 1, 11, 'unwrap is not supported'],
  // Metric queries.
  ['rate({ foo = "bar" }[5minutes])', 1, 22, 'not a valid duration string: "5minutes"'],
  ['rate({ foo = "bar" }[5)', 1, 21, "missing closing ']' in duration"],
  ['count_over_time({a="b"}[0s])', 1, 24, 'range must be greater than 0'],
  ['min({ foo = "bar" }[5m])', 1, 20, 'syntax error: unexpected RANGE'],
  ['sum({a="b"})', 1, 12, 'syntax error: unexpected )'],
  ['count_over_time({a="b"})', 1, 24, 'syntax error: unexpected ), expecting RANGE'],
  ['count_over_time({a="b"} | json)', 1, 31, 'syntax error: unexpected ), expecting RANGE'],
  ['count_over_time({a="b"}[5m]', 1, 28, 'syntax error: unexpected $end, expecting )'],
  ['count_over_time({a="b"} | json [5m] | x="y")', 1, 37, 'syntax error: unexpected |, expecting )'],
  ['count_over_time(({a="b"} | json [5m] | x="y"))', 1, 38, 'syntax error: unexpected |, expecting )'],
  ['count_over_time(({a="b"} | json) | x="y" [5m])', 1, 34, 'syntax error: unexpected |, expecting RANGE'],
  ['count_over_time({a="b"}[5m] offset)', 1, 35, 'syntax error: unexpected ), expecting DURATION'],
  ['count_over_time({a="b"}[5m]) by (a)', 1, 30, 'grouping not allowed for count_over_time aggregation'],
  ['count_over_time(5, {a="b"}[5m])', 1, 17, 'parameter 5 not supported for operation count_over_time'],
  ['count without (rate({namespace="apps"}[15s]))', 1, 16, 'syntax error: unexpected RATE, expecting IDENTIFIER or )'],
  ['sum by (a (rate({a="b"}[1m]))', 1, 11, 'syntax error: unexpected (, expecting , or )'],
  ['sum by (a) (rate({a="b"}[1m])) by (b)', 1, 32, 'syntax error: unexpected by'],
  ['topk(count_over_time({ foo = "bar" }[5h]))', 1, 5, 'parameter required for operation topk'],
  ['bottomk(he,count_over_time({ foo = "bar" }[5h]))', 1, 9, 'syntax error: unexpected IDENTIFIER, expecting NUMBER'],
  ['bottomk(1.2,count_over_time({ foo = "bar" }[5h]))', 1, 9, 'invalid parameter bottomk(1.2,'],
  ['topk(0, count_over_time({ foo = "bar" }[5h]))', 1, 6, 'invalid parameter (must be greater than 0) topk(0,'],
  ['sum(3 ,count_over_time({ foo = "bar" }[5h]))', 1, 5, 'unsupported parameter for operation sum(3,'],
  ['sum_over_time({a="b"} | unwrap x [5m])', 1, 1, 'sum_over_time needs | unwrap, which is not supported'],
  ['stddev(rate({a="b"}[1m]))', 1, 1, 'stddev is not supported'],
  ['unk({ foo = "bar" }[5m])', 1, 1, 'syntax error: unexpected IDENTIFIER'],
  ['sum(rate({a="b"}[1m])) + 1', 1, 24, 'syntax error: unexpected +: binary operations are not supported'],
  ['sum(rate({a="b"}[1m])) or sum(rate({a="c"}[1m]))', 1, 24, 'syntax error: unexpected or: binary operations are not supported'],
  ['{a="b"} > 1', 1, 9, 'syntax error: unexpected >: binary operations are not supported'],
];

describe('invalid queries', () => {
  it.each(INVALID)('%j', (query, line, column, detail) => {
    const err = failure(query);
    expect({ line: err.line, column: err.column, detail: err.detail }).toEqual({ line, column, detail });
    expect(err.message).toBe(`parse error at line ${line}, col ${column}: ${detail}`);
  });

  it('names the place of over-long input and too deep nesting', () => {
    const long = `{a="${'x'.repeat(MAX_QUERY_LENGTH)}"}`;
    expect(failure(long).message).toBe(`parse error at line 1, col 1: input size too long (${long.length} > ${MAX_QUERY_LENGTH})`);
    const deep = `{a="b"} | ${'('.repeat(MAX_NESTING_DEPTH + 1)}x="1"${')'.repeat(MAX_NESTING_DEPTH + 1)}`;
    const err = failure(deep);
    expect(err.detail).toBe(`query nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`);
    expect(err.column).toBe(11 + MAX_NESTING_DEPTH);
    const shallow = `{a="b"} | ${'('.repeat(MAX_NESTING_DEPTH)}x="1"${')'.repeat(MAX_NESTING_DEPTH)}`;
    expect(shape(parseLogql(shallow))).toEqual(lq(['a="b"'], filter(str('x="1"'))));
    const deepAgg = `${'sum('.repeat(MAX_NESTING_DEPTH + 1)}rate({a="b"}[1m])${')'.repeat(MAX_NESTING_DEPTH + 1)}`;
    expect(failure(deepAgg).detail).toBe(`query nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`);
  });
});

describe('entry points', () => {
  it('parseLogQuery refuses metric queries and parseMetricQuery log queries', () => {
    expect(parseLogQuery('{a="b"}').kind).toBe('LogQuery');
    expect(() => parseLogQuery('rate({a="b"}[1m])')).toThrow('parse error at line 1, col 1: expected a log query, found a metric query');
    expect(parseMetricQuery('rate({a="b"}[1m])').kind).toBe('RangeAggregation');
    expect(() => parseMetricQuery(' {a="b"}')).toThrow('parse error at line 1, col 2: expected a metric query, found a log query');
  });
});

describe('positions', () => {
  it('spans cover each node in UTF-16 offsets of the query', () => {
    const q = '{a="é", b=~"x"} |= "y" | json k="p" | n > 5 or m="z" | drop c';
    const e = parseLogql(q) as LogQuery;
    const text = (s: { start: number; end: number }) => q.slice(s.start, s.end);
    expect(text(e.span)).toBe(q);
    expect(text(e.selector.span)).toBe('{a="é", b=~"x"}');
    expect(e.selector.matchers.map((m) => text(m.span))).toEqual(['a="é"', 'b=~"x"']);
    expect(e.stages.map((s) => text(s.span))).toEqual(['|= "y"', '| json k="p"', '| n > 5 or m="z"', '| drop c']);
    const f = e.stages[2]!;
    if (f.kind !== 'LabelFilter' || f.filter.kind !== 'Or') throw new Error('expected an or');
    expect([text(f.filter.left.span), text(f.filter.right.span)]).toEqual(['n > 5', 'm="z"']);
  });

  it('metric spans start at the function name', () => {
    const q = 'sum by (x) (count_over_time({a="b"} [1m]))';
    const e = parseLogql(q);
    if (e.kind !== 'VectorAggregation') throw new Error('expected an aggregation');
    expect(q.slice(e.span.start, e.span.end)).toBe(q);
    expect(q.slice(e.expr.span.start, e.expr.span.end)).toBe('count_over_time({a="b"} [1m])');
  });

  it('the log query inside a range aggregation spans the selector and its stages', () => {
    const q = 'count_over_time({a="b"} | json [5m] offset 1m)';
    const e = parseLogql(q);
    if (e.kind !== 'RangeAggregation') throw new Error('expected a range aggregation');
    expect(q.slice(e.query.span.start, e.query.span.end)).toBe('{a="b"} | json');
    const q2 = 'rate(({a="b"} |= "x")[1m])';
    const e2 = parseLogql(q2);
    if (e2.kind !== 'RangeAggregation') throw new Error('expected a range aggregation');
    expect(q2.slice(e2.query.span.start, e2.query.span.end)).toBe('{a="b"} |= "x"');
  });

  it('columns count characters, not UTF-16 units, and restart after a newline', () => {
    expect(failure('{a="😀😀"} x').column).toBe(10);
    expect(failure('{a="b"}\n\n   x').line).toBe(3);
    expect(failure('{a="b"}\n\n   x').column).toBe(4);
  });
});
