/**
 * The residual pipeline on real records: json flattening and extraction, logfmt, regexp, typed
 * label filters and their errors, `and`/`or`, line_format, drop/keep, decolorize. Every row is
 * also run through the planner (store-side selection plus residual pipeline) and must give the
 * same result as running the whole pipeline on the record: pushing work down changes nothing.
 */
import { describe, expect, it } from 'vitest';
import type { LogLevel } from '../../../model/logs.js';
import type { StoredLogRecord } from '../interface.js';
import { parseLogQuery } from './parser.js';
import { Pipeline, type PipelineResult } from './pipeline.js';
import { planLogQuery } from './plan.js';
import { compileSelection } from './selection.js';

const STREAM = { namespace: 'shop', pod: 'api-1', container: 'app', node: 'node-1', stream: 'stdout' };

function record(message: string, level: LogLevel = 'info'): StoredLogRecord {
  return {
    id: 'r1',
    timeNs: 1_700_000_000_000_000_000n,
    stream: 'stdout',
    level,
    message,
    namespace: STREAM.namespace,
    pod: STREAM.pod,
    podUid: 'uid-1',
    container: STREAM.container,
    restart: 0,
    node: STREAM.node,
    fileKey: 'fk',
    offset: 0,
  };
}

/** Runs `pipeline` (the text after the selector) on a line, both whole and as planned. */
function run(pipeline: string, message: string, level: LogLevel = 'info'): PipelineResult | undefined {
  const q = parseLogQuery(`{namespace="shop"} ${pipeline}`);
  const r = record(message, level);
  const whole = new Pipeline(q.stages).process(r);
  const plan = planLogQuery(q, { startNs: 0n, endNs: 2n ** 62n });
  const planned = plan.selection && compileSelection(plan.selection)(r) ? plan.pipeline.process(r) : undefined;
  expect(planned, 'planned and whole pipeline disagree').toEqual(whole);
  return whole;
}

/** Only the labels a pipeline added or changed, for short expectations. */
function extracted(res: PipelineResult | undefined): Record<string, string> | undefined {
  if (res === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.labels)) if ((STREAM as Record<string, string>)[k] !== v) out[k] = v;
  return out;
}

const NGINX_JSON = JSON.stringify({
  protocol: 'HTTP/2.0',
  servers: ['129.0.1.1', '10.2.1.3'],
  request: { time: '6.032', method: 'GET', host: 'foo.grafana.net', size: '55', headers: { Accept: '*/*', 'User-Agent': 'curl/7.68.0' } },
  response: { status: 401, size: '228', latency_seconds: '6.031' },
});

describe('json', () => {
  const cases: ReadonlyArray<readonly [string, string, Record<string, string> | undefined]> = [
    [
      "Loki's documented example",
      NGINX_JSON,
      {
        protocol: 'HTTP/2.0',
        request_time: '6.032',
        request_method: 'GET',
        request_host: 'foo.grafana.net',
        request_size: '55',
        request_headers_Accept: '*/*',
        request_headers_User_Agent: 'curl/7.68.0',
        response_status: '401',
        response_size: '228',
        response_latency_seconds: '6.031',
      },
    ],
    [
      'nested objects joined by _, stream-label names suffixed _extracted',
      '{"app":"foo","namespace":"prod","pod":{"uuid":"u1","deployment":{"ref":"r"}}}',
      { app: 'foo', namespace_extracted: 'prod', pod_uuid: 'u1', pod_deployment_ref: 'r' },
    ],
    [
      'numbers keep their text; booleans; arrays and nulls skipped',
      '{"counter":1, "price": {"_net_":5.56909}, "big": 1.50, "e": -1e3, "ok": true, "no": false, "list": [1, {"a": 2}], "gone": null, "deep": {"arr": [{"x": 1}]}}',
      { counter: '1', price__net_: '5.56909', big: '1.50', e: '-1e3', ok: 'true', no: 'false' },
    ],
    [
      'invalid label characters become _, a leading digit gets _',
      '{"cou-nter":1, "1st":"x", "a.b":{"c":"d"}, "ü":"u", "User-Agent":"curl", "x":{"2y":"z"}}',
      { cou_nter: '1', _1st: 'x', a_b_c: 'd', _: 'u', User_Agent: 'curl', x_2y: 'z' },
    ],
    ['blank key parts are left out', '{" ": {"foo":"bar"}, "  k ": "v"}', { foo: 'bar', k: 'v' }],
    ['escapes decoded', String.raw`{"msg":"a\"b\\c\n\u00e9\/"}`, { msg: 'a"b\\c\né/' }],
    ['the first of duplicate keys stays', '{"a":"1","a":"2","b":{"c":"3"},"b_c":"4"}', { a: '1', b_c: '3' }],
    ['text after the object is ignored', '{"foo":{"cou-nter":1}}"', { foo_cou_nter: '1' }],
    [
      'malformed JSON keeps the line, marks it and keeps what was read',
      '{"a":"1", "b": }',
      { a: '1', __error__: 'JSONParserErr', __error_details__: 'invalid number at offset 15, found "}"' },
    ],
    ['a plain line is an error', 'GET /healthz 200', { __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object' }],
    ['a JSON array is an error', '[1,2]', { __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object' }],
    [
      'unterminated string',
      '{"a": "x',
      { __error__: 'JSONParserErr', __error_details__: 'unterminated string at offset 8, found end of line' },
    ],
    ['an extracted level replaces the record level', '{"level":"ERROR"}', { level: 'ERROR' }],
  ];
  it.each(cases)('%s', (_name, line, want) => {
    expect(extracted(run('| json', line))).toEqual(want);
  });

  it('an extracted level is the result level; otherwise the record level is, outside the labels', () => {
    expect(run('| json', '{"level":"ERROR"}', 'error')!.level).toBe('ERROR');
    const plain = run('| json', '{"msg":"x"}', 'warn')!;
    expect(plain.level).toBe('warn');
    expect(plain.labels.level).toBeUndefined();
  });

  it('| __error__="" drops lines that did not parse', () => {
    expect(run('| json | __error__=""', '{"a":1}')).toBeDefined();
    expect(run('| json | __error__=""', 'not json')).toBeUndefined();
    expect(run('| json | __error__="JSONParserErr"', 'not json')).toBeDefined();
    expect(run('| json | __error__!=""', '{"a":1}')).toBeUndefined();
  });

  it('typed filters cannot read __error__, as Loki documents', () => {
    expect(run('| json | __error__ > 0', 'not json')).toBeUndefined();
  });

  it('extracts by path: fields, indexes, quoted keys, objects and arrays as JSON, missing as ""', () => {
    const got = run(
      '| json first="servers[0]", ua=`request.headers["User-Agent"]`, h="request.headers", list="servers", status="response.status", missing="nope.x", servers',
      NGINX_JSON,
    );
    expect(extracted(got)).toEqual({
      first: '129.0.1.1',
      ua: 'curl/7.68.0',
      h: '{"Accept":"*/*","User-Agent":"curl/7.68.0"}',
      list: '["129.0.1.1","10.2.1.3"]',
      status: '401',
      missing: '',
      servers: '["129.0.1.1","10.2.1.3"]',
    });
  });

  it('path extraction: a label named like a stream label is suffixed, null is "", the first duplicate wins', () => {
    expect(extracted(run('| json pod="p", n="n", d="d"', '{"p":"x","n":null,"d":1,"d":2}'))).toEqual({ pod_extracted: 'x', n: '', d: '1' });
  });

  it('path extraction on a line that is not JSON marks it; an empty line is left alone', () => {
    expect(extracted(run('| json a="x"', 'plain text'))).toEqual({ __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object or array' });
    expect(extracted(run('| json a="x"', ''))).toEqual({});
    expect(extracted(run('| json a="x", b="y"', '{"x": 1, "y": '))).toEqual({
      a: '1',
      b: '',
      __error__: 'JSONParserErr',
      __error_details__: 'invalid number at offset 14, found end of line',
    });
  });

  it('a second parser does not overwrite what the first extracted', () => {
    expect(extracted(run('| json | logfmt', '{"a":"1"}'))).toEqual({ a: '1' });
    expect(extracted(run('| logfmt | json', 'a=1'))).toEqual({ a: '1', __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object' });
  });
});

describe('logfmt', () => {
  const cases: ReadonlyArray<readonly [string, string, string, Record<string, string> | undefined]> = [
    [
      "Loki's documented example",
      '| logfmt',
      'at=info method=GET path=/ host=grafana.net fwd="124.133.124.161" service=8ms status=200',
      { at: 'info', method: 'GET', path: '/', host: 'grafana.net', fwd: '124.133.124.161', service: '8ms', status: '200' },
    ],
    ['quoted values with escapes', '| logfmt', String.raw`msg="hello \"world\"\n\u00e9" k=v`, { msg: 'hello "world"\né', k: 'v' }],
    ['bare keys and empty values are skipped', '| logfmt', 'debug a= b="" c=1', { c: '1' }],
    ['--keep-empty keeps them', '| logfmt --keep-empty', 'debug a= b="" c=1', { debug: '', a: '', b: '', c: '1' }],
    ['malformed pairs are skipped without an error', '| logfmt', '=bad foo=bar=buzz fo"o=x ok=1 x="y', { ok: '1' }],
    [
      '--strict stops at the first malformed pair and marks the line',
      '| logfmt --strict',
      'a=1 =bad ok=1',
      { a: '1', __error__: 'LogfmtParserErr', __error_details__: "logfmt syntax error at pos 5 : unexpected '='" },
    ],
    [
      '--strict: unterminated quote',
      '| logfmt --strict',
      'a=1 b="x',
      { a: '1', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 9 : unterminated quoted value' },
    ],
    [
      '--strict: quote in a key',
      '| logfmt --strict',
      'fo"o=bar',
      { __error__: 'LogfmtParserErr', __error_details__: `logfmt syntax error at pos 3 : unexpected '"'` },
    ],
    ['the first of duplicate keys stays', '| logfmt', 'a=1 a=2', { a: '1' }],
    ['stream-label names are suffixed', '| logfmt', 'pod=x namespace=y', { pod_extracted: 'x', namespace_extracted: 'y' }],
    ['keys are sanitized', '| logfmt', 'user-id=5 1x=y trace.id=z', { user_id: '5', _1x: 'y', trace_id: 'z' }],
    ['tabs and other controls separate pairs', '| logfmt', 'a=1\tb=2\u0001c=3', { a: '1', b: '2', c: '3' }],
    [
      'extraction picks and renames; a missing key is ""',
      '| logfmt host, fwd_ip="fwd", gone',
      'at=info host=grafana.net fwd="124.133.124.161"',
      { host: 'grafana.net', fwd_ip: '124.133.124.161', gone: '' },
    ],
    ['a plain line yields bare keys only, which are skipped', '| logfmt', 'GET /healthz 200', {}],
  ];
  it.each(cases)('%s', (_name, pipeline, line, want) => {
    expect(extracted(run(pipeline, line))).toEqual(want);
  });
});

describe('regexp', () => {
  it('extracts named groups', () => {
    const got = run(
      '| regexp "(?P<method>\\\\w+) (?P<path>[\\\\w|/]+) \\\\((?P<status>\\\\d+?)\\\\) (?P<duration>.*)"',
      'POST /api/prom/api/v1/query_range (200) 1.5s',
    );
    expect(extracted(got)).toEqual({ method: 'POST', path: '/api/prom/api/v1/query_range', status: '200', duration: '1.5s' });
  });

  it('leaves a line that does not match alone; an unmatched optional group is ""; stream names are suffixed', () => {
    expect(extracted(run('| regexp "^(?P<a>\\\\d+)$"', 'abc'))).toEqual({});
    expect(extracted(run('| regexp "(?P<a>x)|(?P<pod>y)"', 'y'))).toEqual({ a: '', pod_extracted: 'y' });
  });
});

describe('label filters', () => {
  type Row = readonly [string, string, boolean, Record<string, string>?];
  const rows: readonly Row[] = [
    // Numbers.
    ['| logfmt | status >= 500', 'status=503', true],
    ['| logfmt | status >= 500', 'status=200', false],
    ['| logfmt | status >= 500', 'other=1', false],
    ['| logfmt | status == 500', 'status=500.0', true],
    ['| logfmt | status = 500', 'status=5e2', true],
    ['| logfmt | status != 500', 'status=501', true],
    ['| logfmt | x < -1.5', 'x=-2', true],
    ['| logfmt | x > 10', 'x=0x10', true],
    ['| logfmt | x > 10', 'x=+Inf', true],
    ['| logfmt | status >= 500', 'status=abc', true, { status: 'abc', __error__: 'LabelFilterErr', __error_details__: 'cannot parse "abc" as a number' }],
    // Durations: Go syntax in the label value.
    ['| logfmt | latency > 250ms', 'latency=1.5s', true],
    ['| logfmt | latency > 250ms', 'latency=100ms', false],
    ['| logfmt | latency > 250ms', 'latency=1h2m', true],
    ['| logfmt | latency > 250ms', 'latency=300000us', true],
    ['| logfmt | latency > 250ms', 'latency=300000µs', true],
    ['| logfmt | latency == 1.5s', 'latency=1500ms', true],
    ['| logfmt | latency < 0s', 'latency=-1ns', true],
    ['| logfmt | latency > 250ms', 'latency=5', true, { latency: '5', __error__: 'LabelFilterErr', __error_details__: 'cannot parse "5" as a duration' }],
    ['| logfmt | latency > 1d', 'latency=1d', true, { latency: '1d', __error__: 'LabelFilterErr', __error_details__: 'cannot parse "1d" as a duration' }],
    // Bytes: humanized sizes in the label value.
    ['| logfmt | size > 10KB', 'size=20KB', true],
    ['| logfmt | size > 10KB', 'size=1KiB', false],
    ['| logfmt | size > 10KB', 'size="10 kb"', false],
    ['| logfmt | size >= 10KiB', 'size=10240', true],
    ['| logfmt | size == 1MiB', 'size=1mib', true],
    ['| logfmt | size < 1GB', 'size=1.5MB', true],
    ['| logfmt | size > 10KB', 'size=big', true, { size: 'big', __error__: 'LabelFilterErr', __error_details__: 'cannot parse "big" as a byte size' }],
    // Strings: a missing label reads as "".
    ['| logfmt | x=""', 'y=1', true],
    ['| logfmt | x!=""', 'y=1', false],
    ['| logfmt | method=~"GET|POST"', 'method=POST', true],
    ['| logfmt | method=~"GET|POST"', 'method=POSTED', false],
    ['| logfmt | method!~"G.*"', 'method=PUT', true],
    // `and` before `or`; parentheses; comma and space as `and`.
    ['| logfmt | a="1" or b="1" and c="1"', 'a=1 b=0 c=0', true],
    ['| logfmt | a="1" or b="1" and c="1"', 'a=0 b=1 c=0', false],
    ['| logfmt | a="1" or b="1" and c="1"', 'a=0 b=1 c=1', true],
    ['| logfmt | (a="1" or b="1") and c="1"', 'a=1 b=0 c=0', false],
    ['| logfmt | (a="1" or b="1") and c="1"', 'a=1 b=0 c=1', true],
    ['| logfmt | a="1", b="1"', 'a=1 b=0', false],
    ['| logfmt | a="1" b="1"', 'a=1 b=1', true],
    ['| logfmt | a="1" | b="1"', 'a=1 b=0', false],
    // `or` stops at the first true side, so only a side that runs can mark an error.
    ['| logfmt | x > 5 or y > 5', 'x=10 y=abc', true, { x: '10', y: 'abc' }],
    ['| logfmt | x > 5 or y > 5', 'x=1 y=abc', true, { x: '1', y: 'abc', __error__: 'LabelFilterErr', __error_details__: 'cannot parse "abc" as a number' }],
    // An earlier error is kept: it says more.
    [
      '| logfmt --strict | x > 5',
      'x=abc y="',
      true,
      { x: 'abc', __error__: 'LogfmtParserErr', __error_details__: 'logfmt syntax error at pos 10 : unterminated quoted value' },
    ],
    // Stream labels and the record's level.
    ['| pod=~"api-.*" | container="app"', 'x', true],
    ['| pod="web"', 'x', false],
    ['| level="info"', 'x', true],
    ['| level="error"', 'x', false],
    ['| logfmt | level="error"', 'level=error', true],
  ];
  for (const [pipeline, line, passes, labels] of rows) {
    it(`${pipeline} on ${line}`, () => {
      const got = run(pipeline, line);
      expect(got !== undefined).toBe(passes);
      if (labels) expect(extracted(got)).toEqual(labels);
    });
  }
});

describe('line_format', () => {
  const rows: ReadonlyArray<readonly [string, string, string, LogLevel?]> = [
    ['| logfmt | line_format "{{.level}} {{.msg}}"', 'level=warn msg="disk full"', 'warn disk full'],
    ['| logfmt | line_format "{{ .level }}: {{ .msg }}"', 'level=warn msg="disk full"', 'warn: disk full'],
    ['| line_format "[{{.nope}}]"', 'x', '[]'],
    ['| line_format "{{.level}}: {{__line__}}"', 'boom', 'error: boom', 'error'],
    ['| line_format "{{.namespace}}/{{.pod}}/{{.container}}"', 'x', 'shop/api-1/app'],
    ['| line_format "a {{- .pod -}} b"', 'x', 'aapi-1b'],
    ['| json | line_format "{{.request_method}} {{.response_status}}"', NGINX_JSON, 'GET 401'],
    ['| json | line_format "{{.__error__}}"', 'oops', 'JSONParserErr'],
  ];
  for (const [pipeline, line, want, level] of rows) {
    it(pipeline, () => {
      expect(run(pipeline, line, level)?.line).toBe(want);
    });
  }

  it('line filters after line_format see the new line', () => {
    expect(run('| logfmt | line_format "{{.msg}}" |= "disk"', 'level=warn msg="disk full"')?.line).toBe('disk full');
    expect(run('| logfmt | line_format "{{.msg}}" |= "level"', 'level=warn msg="disk full"')).toBeUndefined();
    expect(run('| logfmt | line_format "{{.msg}}" |~ "^disk"', 'level=warn msg="disk full"')).toBeDefined();
  });
});

describe('drop and keep', () => {
  const rows: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
    ['| logfmt | drop a, b', 'a=1 b=2 c=3', { ...STREAM, c: '3' }],
    ['| drop pod, node', 'x', { namespace: 'shop', container: 'app', stream: 'stdout' }],
    ['| logfmt | drop a="1", b="1"', 'a=1 b=2', { ...STREAM, b: '2' }],
    ['| logfmt | drop a=~"[0-9]+"', 'a=12', { ...STREAM }],
    ['| logfmt | keep a', 'a=1 b=2', { a: '1' }],
    ['| logfmt | keep namespace, a="1", b="1"', 'a=1 b=2', { namespace: 'shop', a: '1' }],
    ['| json | keep a', 'oops', { __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object' }],
    ['| json | drop __error__', 'oops', { ...STREAM, __error_details__: 'expecting a JSON object' }],
    ['| json | drop __error__, __error_details__', 'oops', { ...STREAM }],
    ['| json | drop __error__="JSONParserErr"', 'oops', { ...STREAM, __error_details__: 'expecting a JSON object' }],
    ['| json | drop __error__="other"', 'oops', { ...STREAM, __error__: 'JSONParserErr', __error_details__: 'expecting a JSON object' }],
  ];
  it.each(rows)('%s', (pipeline, line, labels) => {
    expect(run(pipeline, line)?.labels).toEqual(labels);
  });

  it('drop and keep also remove the record level from what filters see', () => {
    expect(run('| drop level | level=""', 'x', 'error')?.level).toBeUndefined();
    expect(run('| keep pod | level="error"', 'x', 'error')).toBeUndefined();
    expect(run('| keep pod, level | level="error"', 'x', 'error')?.level).toBe('error');
  });
});

describe('line changes', () => {
  it('decolorize removes ANSI sequences', () => {
    expect(run('| decolorize', '\u001b[31merror\u001b[0m at \u001b[1;32mmain\u001b[0m')?.line).toBe('error at main');
    expect(run('| decolorize |= "error at"', '\u001b[31merror\u001b[0m at')?.line).toBe('error at');
  });

  it('an empty pipeline returns the message and the stream labels', () => {
    const p = new Pipeline([]);
    expect(p.isEmpty).toBe(true);
    expect(p.process(record('hello', 'warn'))).toEqual({ line: 'hello', labels: STREAM, level: 'warn' });
  });
});
