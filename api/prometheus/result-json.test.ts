import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Labels } from '../../model/labels.js';
import type { QueryResult, QueryValue } from '../../promql/engine/index.js';
import { formatSampleValue } from './format.js';
import { jsonString, querySuccessJson } from './result-json.js';

/** The API's object shape, as `JSON.stringify` would be handed it. */
function apiObject(r: QueryResult): unknown {
  const metric = (ls: Labels) => Object.fromEntries(ls.map((l) => [l.name, l.value]));
  const point = (t: number, v: number) => [t / 1000, formatSampleValue(v)];
  const v = r.value;
  const data =
    v.type === 'vector'
      ? { resultType: 'vector', result: v.samples.map((s) => ({ metric: metric(s.labels), value: point(s.t, s.v) })) }
      : v.type === 'matrix'
        ? { resultType: 'matrix', result: v.series.map((s) => ({ metric: metric(s.labels), values: s.samples.map((p) => point(p.t, p.v)) })) }
        : v.type === 'scalar'
          ? { resultType: 'scalar', result: point(v.t, v.v) }
          : { resultType: 'string', result: [v.t / 1000, v.v] };
  return { status: 'success', data, ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}), ...(r.infos.length > 0 ? { infos: r.infos } : {}) };
}

// Label names as Prometheus allows them (plus UTF-8 names), values of any text.
const name = fc.oneof(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }));
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 10 }), fc.constantFrom('a"b', 'c\\d', 'line\nbreak', '\u0000', '\ud800', '\udc00x', '😀'));
const labels = fc.uniqueArray(fc.record({ name, value: text }), { selector: (l) => l.name, maxLength: 5 }).map((ls) => [...ls].sort((a, b) => (a.name < b.name ? -1 : 1)));
const value = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE));
const time = fc.oneof(fc.integer({ min: -1e13, max: 1e13 }), fc.constantFrom(0, 1, 1_700_000_000_123));
const notes = fc.array(text, { maxLength: 2 });
const queryValue: fc.Arbitrary<QueryValue> = fc.oneof(
  fc.record({ type: fc.constant('vector' as const), samples: fc.array(fc.record({ labels, t: time, v: value }), { maxLength: 4 }) }),
  fc.record({ type: fc.constant('matrix' as const), series: fc.array(fc.record({ labels, samples: fc.array(fc.record({ t: time, v: value }), { maxLength: 4 }) }), { maxLength: 3 }) }),
  fc.record({ type: fc.constant('scalar' as const), t: time, v: value }),
  fc.record({ type: fc.constant('string' as const), t: time, v: text }),
);

describe('querySuccessJson', () => {
  it('writes the text JSON.stringify gives for the API shape', () => {
    fc.assert(
      fc.property(queryValue, notes, notes, (v, warnings, infos) => {
        const r: QueryResult = { value: v, warnings, infos };
        const labelsAreOrdinary = JSON.stringify(v).match(/"name":"(\d+|__proto__)"/) === null;
        const text = querySuccessJson(r);
        // Always valid JSON of the same value; byte for byte the same where objects keep label order.
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(apiObject(r))));
        if (labelsAreOrdinary) expect(text).toBe(JSON.stringify(apiObject(r)));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps sorted label order even for index-like names, and writes __proto__ as a label', () => {
    const r: QueryResult = {
      value: { type: 'vector', samples: [{ labels: [{ name: '10', value: 'x' }, { name: '2', value: 'y' }, { name: '__proto__', value: 'z' }], t: 1500, v: 2 }] },
      warnings: [],
      infos: [],
    };
    expect(querySuccessJson(r)).toBe('{"status":"success","data":{"resultType":"vector","result":[{"metric":{"10":"x","2":"y","__proto__":"z"},"value":[1.5,"2"]}]}}');
  });

  it('escapes what JSON requires and nothing else', () => {
    expect(jsonString('plain')).toBe('"plain"');
    expect(jsonString('😀 ü')).toBe('"😀 ü"');
    expect(jsonString('a"b\\c\n\u0001')).toBe(JSON.stringify('a"b\\c\n\u0001'));
    expect(jsonString('\ud800')).toBe('"\\ud800"');
  });
});
