import { describe, expect, test } from 'vitest';
import { TextParseError } from './errors.js';
import { createParser } from './parse.js';
import { L, firstError, parse } from './testutil.js';
import type { Got } from './testutil.js';

// Mirrors Prometheus's model/textparse/promparse_test.go (TestPromParse and friends).
describe('Prometheus text format', () => {
  test('parses the Prometheus reference input', () => {
    const input =
      `# HELP go_gc_duration_seconds A summary of the GC invocation durations.
# \tTYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 4.9351e-05
go_gc_duration_seconds{quantile="0.25",} 7.424100000000001e-05
go_gc_duration_seconds{quantile="0.5",a="b"} 8.3835e-05
go_gc_duration_seconds{quantile="0.8", a="b"} 8.3835e-05
go_gc_duration_seconds{ quantile="0.9", a="b"} 8.3835e-05
# HELP prometheus_http_request_duration_seconds Histogram of latencies for HTTP requests.
# TYPE prometheus_http_request_duration_seconds histogram
prometheus_http_request_duration_seconds_bucket{handler="/",le="1"} 423
prometheus_http_request_duration_seconds_bucket{handler="/",le="2"} 1423
prometheus_http_request_duration_seconds_bucket{handler="/",le="+Inf"} 1423
prometheus_http_request_duration_seconds_sum{handler="/"} 2000
prometheus_http_request_duration_seconds_count{handler="/"} 1423
# Hrandom comment starting with prefix of HELP
#
wind_speed{A="2",c="3"} 12345
# comment with escaped \\n newline
# comment with escaped \\ escape character
# HELP nohelp1
# HELP nohelp2 
go_gc_duration_seconds{ quantile="1.0", a="b" } 8.3835e-05
go_gc_duration_seconds { quantile="1.0", a="b" } 8.3835e-05
go_gc_duration_seconds { quantile= "1.0", a= "b", } 8.3835e-05
go_gc_duration_seconds { quantile = "1.0", a = "b" } 8.3835e-05
go_gc_duration_seconds { quantile = "2.0" a = "b" } 8.3835e-05
go_gc_duration_seconds_count 99
some:aggregate:rate5m{a_b="c"}\t1
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 33  \t123123
# TYPE some_counter_total counter
# HELP some_counter_total Help after type.
some_counter_total 12
# HELP nohelp3
_metric_starting_with_underscore 1
testmetric{_label_starting_with_underscore="foo"} 1
testmetric{label="\\"bar\\""} 1
testmetric{le="10"} 1` +
      '\n# HELP metric foo\x00bar' +
      '\nnull_byte_metric{a="abc\x00"} 1';

    const exp: Got[] = [
      { m: 'go_gc_duration_seconds', help: 'A summary of the GC invocation durations.' },
      { m: 'go_gc_duration_seconds', typ: 'summary' },
      { m: 'go_gc_duration_seconds{quantile="0"}', v: 4.9351e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '0.0') },
      { m: 'go_gc_duration_seconds{quantile="0.25",}', v: 7.424100000000001e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '0.25') },
      { m: 'go_gc_duration_seconds{quantile="0.5",a="b"}', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '0.5', 'a', 'b') },
      { m: 'go_gc_duration_seconds{quantile="0.8", a="b"}', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '0.8', 'a', 'b') },
      { m: 'go_gc_duration_seconds{ quantile="0.9", a="b"}', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '0.9', 'a', 'b') },
      { m: 'prometheus_http_request_duration_seconds', help: 'Histogram of latencies for HTTP requests.' },
      { m: 'prometheus_http_request_duration_seconds', typ: 'histogram' },
      { m: 'prometheus_http_request_duration_seconds_bucket{handler="/",le="1"}', v: 423, lset: L('__name__', 'prometheus_http_request_duration_seconds_bucket', 'handler', '/', 'le', '1.0') },
      { m: 'prometheus_http_request_duration_seconds_bucket{handler="/",le="2"}', v: 1423, lset: L('__name__', 'prometheus_http_request_duration_seconds_bucket', 'handler', '/', 'le', '2.0') },
      { m: 'prometheus_http_request_duration_seconds_bucket{handler="/",le="+Inf"}', v: 1423, lset: L('__name__', 'prometheus_http_request_duration_seconds_bucket', 'handler', '/', 'le', '+Inf') },
      { m: 'prometheus_http_request_duration_seconds_sum{handler="/"}', v: 2000, lset: L('__name__', 'prometheus_http_request_duration_seconds_sum', 'handler', '/') },
      { m: 'prometheus_http_request_duration_seconds_count{handler="/"}', v: 1423, lset: L('__name__', 'prometheus_http_request_duration_seconds_count', 'handler', '/') },
      { comment: '# Hrandom comment starting with prefix of HELP' },
      { comment: '#' },
      { m: 'wind_speed{A="2",c="3"}', v: 12345, lset: L('A', '2', '__name__', 'wind_speed', 'c', '3') },
      { comment: '# comment with escaped \\n newline' },
      { comment: '# comment with escaped \\ escape character' },
      { m: 'nohelp1', help: '' },
      { m: 'nohelp2', help: '' },
      { m: 'go_gc_duration_seconds{ quantile="1.0", a="b" }', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '1.0', 'a', 'b') },
      { m: 'go_gc_duration_seconds { quantile="1.0", a="b" }', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '1.0', 'a', 'b') },
      { m: 'go_gc_duration_seconds { quantile= "1.0", a= "b", }', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '1.0', 'a', 'b') },
      { m: 'go_gc_duration_seconds { quantile = "1.0", a = "b" }', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '1.0', 'a', 'b') },
      // Unlike OpenMetrics, the text format tolerates a missing comma between labels.
      { m: 'go_gc_duration_seconds { quantile = "2.0" a = "b" }', v: 8.3835e-5, lset: L('__name__', 'go_gc_duration_seconds', 'quantile', '2.0', 'a', 'b') },
      { m: 'go_gc_duration_seconds_count', v: 99, lset: L('__name__', 'go_gc_duration_seconds_count') },
      { m: 'some:aggregate:rate5m{a_b="c"}', v: 1, lset: L('__name__', 'some:aggregate:rate5m', 'a_b', 'c') },
      { m: 'go_goroutines', help: 'Number of goroutines that currently exist.' },
      { m: 'go_goroutines', typ: 'gauge' },
      { m: 'go_goroutines', v: 33, t: 123123, lset: L('__name__', 'go_goroutines') },
      { m: 'some_counter_total', typ: 'counter' },
      { m: 'some_counter_total', help: 'Help after type.' },
      { m: 'some_counter_total', v: 12, lset: L('__name__', 'some_counter_total') },
      { m: 'nohelp3', help: '' },
      { m: '_metric_starting_with_underscore', v: 1, lset: L('__name__', '_metric_starting_with_underscore') },
      { m: 'testmetric{_label_starting_with_underscore="foo"}', v: 1, lset: L('__name__', 'testmetric', '_label_starting_with_underscore', 'foo') },
      { m: 'testmetric{label="\\"bar\\""}', v: 1, lset: L('__name__', 'testmetric', 'label', '"bar"') },
      // `le` is normalised only for histograms; the current type is counter.
      { m: 'testmetric{le="10"}', v: 1, lset: L('__name__', 'testmetric', 'le', '10') },
      { m: 'metric', help: 'foo\x00bar' },
      { m: 'null_byte_metric{a="abc\x00"}', v: 1, lset: L('__name__', 'null_byte_metric', 'a', 'abc\x00') },
    ];
    expect(parse(input, 'prometheus-text')).toEqual(exp);
  });

  test('parses quoted UTF-8 metric and label names', () => {
    const input = `# HELP "go.gc_duration_seconds" A summary of the GC invocation durations.
# \tTYPE "go.gc_duration_seconds" summary
{"go.gc_duration_seconds",quantile="0"} 4.9351e-05
{"go.gc_duration_seconds",quantile="0.25",} 7.424100000000001e-05
{"go.gc_duration_seconds",quantile="0.5",a="b"} 8.3835e-05
{"go.gc_duration_seconds", quantile="0.9", a="b"} 8.3835e-05
{ "go.gc_duration_seconds", quantile = "1.0", a = "b" } 8.3835e-05
{"go.gc_duration_seconds_count"} 99
{"Heizölrückstoßabdämpfung 10€ metric with \\"interesting\\" {character\\nchoices}","strange©™\\n'quoted' \\"name\\""="6"} 10.0`;
    const exp: Got[] = [
      { m: 'go.gc_duration_seconds', help: 'A summary of the GC invocation durations.' },
      { m: 'go.gc_duration_seconds', typ: 'summary' },
      { m: '{"go.gc_duration_seconds",quantile="0"}', v: 4.9351e-5, lset: L('__name__', 'go.gc_duration_seconds', 'quantile', '0.0') },
      { m: '{"go.gc_duration_seconds",quantile="0.25",}', v: 7.424100000000001e-5, lset: L('__name__', 'go.gc_duration_seconds', 'quantile', '0.25') },
      { m: '{"go.gc_duration_seconds",quantile="0.5",a="b"}', v: 8.3835e-5, lset: L('__name__', 'go.gc_duration_seconds', 'quantile', '0.5', 'a', 'b') },
      { m: '{"go.gc_duration_seconds", quantile="0.9", a="b"}', v: 8.3835e-5, lset: L('__name__', 'go.gc_duration_seconds', 'quantile', '0.9', 'a', 'b') },
      { m: '{ "go.gc_duration_seconds", quantile = "1.0", a = "b" }', v: 8.3835e-5, lset: L('__name__', 'go.gc_duration_seconds', 'quantile', '1.0', 'a', 'b') },
      { m: '{"go.gc_duration_seconds_count"}', v: 99, lset: L('__name__', 'go.gc_duration_seconds_count') },
      {
        m: '{"Heizölrückstoßabdämpfung 10€ metric with \\"interesting\\" {character\\nchoices}","strange©™\\n\'quoted\' \\"name\\""="6"}',
        v: 10,
        lset: L('__name__', 'Heizölrückstoßabdämpfung 10€ metric with "interesting" {character\nchoices}', "strange©™\n'quoted' \"name\"", '6'),
      },
    ];
    expect(parse(input, 'prometheus-text')).toEqual(exp);
  });

  // [input, Prometheus's error text, line, column]
  const errorCases: Array<[string | Uint8Array, string, number, number]> = [
    ['a', 'expected value after metric, got "\\n" ("INVALID") while parsing: "a\\n"', 1, 2],
    ["a{b='c'} 1\n", 'expected label value, got "\'" ("INVALID") while parsing: "a{b=\'"', 1, 5],
    ['a{b=\n', 'expected label value, got "\\n" ("INVALID") while parsing: "a{b=\\n"', 1, 5],
    [Buffer.from([0x61, 0x7b, 0xff, 0x3d, 0x22, 0x66, 0x22, 0x7d, 0x20, 0x31, 0x0a]), 'expected label name, got "\\xff" ("INVALID") while parsing: "a{\\xff"', 1, 3],
    [Buffer.from('a{b="\xff"} 1\n', 'latin1'), 'invalid UTF-8 label value: "\\"\\xff\\""', 1, 5],
    ['{"a", "b = "c"}', 'expected equal, got "c\\"" ("LNAME") while parsing: "{\\"a\\", \\"b = \\"c\\""', 1, 13],
    ['{"a",b\\nc="d"} 1', 'expected equal, got "\\\\" ("INVALID") while parsing: "{\\"a\\",b\\\\"', 1, 7],
    ['a true\n', 'strconv.ParseFloat: parsing "true": invalid syntax while parsing: "a true"', 1, 3],
    ['something_weird{problem="', 'expected label value, got "\\"\\n" ("INVALID") while parsing: "something_weird{problem=\\"\\n"', 1, 25],
    ['empty_label_name{=""} 0', 'expected label name, got "=\\"" ("EQUAL") while parsing: "empty_label_name{=\\""', 1, 18],
    ['{A}0', 'expected equal, got "}0" ("BCLOSE") while parsing: "{A}0"', 1, 3],
    ['foo 1_2\n', 'unsupported character in float while parsing: "foo 1_2"', 1, 5],
    ['foo 0x1p-3\n', 'unsupported character in float while parsing: "foo 0x1p-3"', 1, 5],
    ['foo 0x1P-3\n', 'unsupported character in float while parsing: "foo 0x1P-3"', 1, 5],
    ['foo 0 1_2\n', 'expected next entry after timestamp, got "_" ("INVALID") while parsing: "foo 0 1_"', 1, 8],
    ['{a="ok"} 1', 'metric name not set while parsing: "{a=\\"ok\\"} 1"', 1, 1],
    ['# TYPE #\n#EOF\n', 'expected metric name after TYPE, got "#" ("INVALID") while parsing: "# TYPE #"', 1, 8],
    ['# HELP #\n#EOF\n', 'expected metric name after HELP, got "#" ("INVALID") while parsing: "# HELP #"', 1, 8],
    // NUL handling (TestPromNullByteHandling).
    ['a{b=\x00"ssss"} 1\n', 'expected label value, got "\\x00" ("INVALID") while parsing: "a{b=\\x00"', 1, 5],
    ['a{b="\x00', 'expected label value, got "\\"\\x00\\n" ("INVALID") while parsing: "a{b=\\"\\x00\\n"', 1, 5],
    ['a{b\x00="hiih"}\t1', 'expected equal, got "\\x00" ("INVALID") while parsing: "a{b\\x00"', 1, 4],
    ['a\x00{b="ddd"} 1', 'expected value after metric, got "\\x00" ("INVALID") while parsing: "a\\x00"', 1, 2],
    ['a 0 1\x00', 'expected next entry after timestamp, got "\\x00" ("INVALID") while parsing: "a 0 1\\x00"', 1, 6],
    // Beyond Prometheus's table: positions on later lines, metadata and limits.
    ['a 1\nb 2\nc{x="1" 3\n', 'expected label name, got "3" ("INVALID") while parsing: "c{x=\\"1\\" 3"', 3, 9],
    ['# TYPE a counterx\n', 'invalid metric type "counterx"', 1, 9],
    ['# TYPE a  counter\n', 'invalid metric type " counter"', 1, 9],
    ['a 1 99999999999999999999\n', 'strconv.ParseInt: parsing "99999999999999999999": value out of range while parsing: "a 1 99999999999999999999"', 1, 5],
    ['a 1 -5\n', 'expected timestamp or new record, got "-" ("INVALID") while parsing: "a 1 -"', 1, 5],
    ['a 1e999\n', 'strconv.ParseFloat: parsing "1e999": value out of range while parsing: "a 1e999"', 1, 3],
    ['a 1\r\n', 'strconv.ParseFloat: parsing "1\\r": invalid syntax while parsing: "a 1\\r"', 1, 3],
    ['a{b="1",b="2"} 1\n', 'label name "b" is not unique', 1, 9],
    ['a{__name__="b"} 1\n', 'label name "__name__" is not unique', 1, 3],
    ['{"a","b"} 1\n', 'metric name already set while parsing: "{\\"a\\",\\"b\\"}"', 1, 6],
    ['a{b="c"}{d="e"} 1\n', 'expected value after metric, got "{d" ("BOPEN") while parsing: "a{b=\\"c\\"}{d"', 1, 9],
    [Buffer.from('# HELP a \xff\n', 'latin1'), 'help text "\\xff" is not a valid utf8 string', 1, 9],
  ];

  test.each(errorCases)('rejects %j', (input, reason, line, column) => {
    const err = firstError(input, 'prometheus-text');
    expect(err).toBeInstanceOf(TextParseError);
    const e = err as TextParseError;
    expect(e.reason).toBe(reason);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toBe(`line ${line}, column ${column}: ${reason}`);
  });

  test.each([
    'null_byte_metric{a="abc\x00"} 1',
    'a{b="\x00ss"} 1\n',
    'a{b="\x00"} 1\n',
    '{A} 0\n'.replace('{A} 0', 'a 1'),
  ])('accepts NUL bytes where Prometheus does: %j', (input) => {
    expect(firstError(input, 'prometheus-text')).toBeNull();
  });

  test('a bare identifier in braces is an error, not a crash', () => {
    expect(firstError('{A} 0\n', 'prometheus-text')).toBeInstanceOf(TextParseError);
  });

  test('errors are sticky and eof is sticky', () => {
    const p = createParser('a 1\nb{\n', 'prometheus-text');
    expect(p.next()).toBe('series');
    expect(() => p.next()).toThrow(TextParseError);
    expect(() => p.next()).toThrow(/line 2, column 3/);
    const q = createParser('a 1', 'prometheus-text');
    expect(q.next()).toBe('series');
    expect(q.next()).toBe('eof');
    expect(q.next()).toBe('eof');
  });

  test('values: Go float syntax, specials and canonical forms', () => {
    const vals = ['1', '-1.5', '+2', '.5', '5.', '1e3', '1E-3', '+Inf', '-Inf', 'inf', 'Infinity', '-infinity', 'NaN', 'nan', '0x']
      .map((v) => {
        try {
          return parse(`m ${v}\n`, 'prometheus-text')[0]!.v;
        } catch {
          return 'error';
        }
      });
    expect(vals).toEqual([1, -1.5, 2, 0.5, 5, 1000, 0.001, Infinity, -Infinity, Infinity, Infinity, -Infinity, NaN, NaN, 'error']);
    for (const bad of ['+NaN', 'infin', '1e', 'e1', '.', '1..2', '--1', '0b1', '1 2 3']) {
      expect(firstError(`m ${bad}\n`, 'prometheus-text'), bad).toBeInstanceOf(TextParseError);
    }
  });

  test('HELP escapes only \\\\ and \\n; label values also \\"', () => {
    const got = parse('# HELP m a\\\\b\\nc\\"d\\x\nm{l="a\\\\b\\nc\\"d\\x"} 1\n', 'prometheus-text');
    expect(got[0]).toEqual({ m: 'm', help: 'a\\b\nc\\"d\\x' });
    expect(got[1]!.lset).toEqual(L('__name__', 'm', 'l', 'a\\b\nc"d\\x'));
  });

  test('empty lines, leading blanks and trailing whitespace are tolerated', () => {
    const got = parse('\n\n  a 1  \n\t\nb{c="d"}\t2\t3 \n', 'prometheus-text');
    expect(got).toEqual([
      { m: '  a', v: 1, lset: L('__name__', 'a') },
      { m: 'b{c="d"}', v: 2, t: 3, lset: L('__name__', 'b', 'c', 'd') },
    ]);
  });

  test('untyped is reported as unknown; a NUL at a line start ends the input', () => {
    expect(parse('# TYPE a untyped\na 1\n\x00garbage{\n', 'prometheus-text')).toEqual([
      { m: 'a', typ: 'unknown' },
      { m: 'a', v: 1, lset: L('__name__', 'a') },
    ]);
  });

  test('summary quantile and histogram le values are normalised', () => {
    const got = parse('# TYPE s summary\ns{quantile="0.50"} 1\n# TYPE h histogram\nh_bucket{le="1e6"} 1\nh_bucket{le="0x1p-3"} 1\nh_bucket{le="abc"} 1\n', 'prometheus-text');
    expect(got.filter((g) => g.lset).map((g) => g.lset!.find((l) => l.name !== '__name__')!.value)).toEqual(['0.5', '1e+06', '0.125', 'abc']);
  });

  test('a multi-megabyte body given as bytes parses as the same body given as text', () => {
    // Values of many lengths, so some cross the boundaries of the pieces strings are cut from.
    const lines: string[] = ['# HELP m A help text.', '# TYPE m gauge'];
    let size = 0;
    for (let k = 0; size < 1_300_000; k++) {
      const line = `m{a="${'v'.repeat(k % 37)}${k}",b="same",c="${k % 3}"} ${k} ${1700000000000 + k}`;
      lines.push(line);
      size += line.length + 1;
    }
    const text = `${lines.join('\n')}\n`;
    const read = (input: string | Uint8Array): unknown[] => {
      const p = createParser(input, 'prometheus-text');
      const out: unknown[] = [];
      for (let k = p.next(); k !== 'eof'; k = p.next()) {
        out.push(k === 'series' ? [p.seriesText(), p.metricName(), p.labels(), p.value(), p.timestamp()] : [k, p.metricName(), p.help()]);
      }
      return out;
    };
    const fromText = read(text);
    expect(read(Buffer.from(text))).toEqual(fromText);
    expect(fromText.length).toBe(lines.length);
  });
});
