/**
 * The success envelope of `/api/v1/query` and `/query_range`, written straight to JSON text.
 *
 * Building the API's object shape first (a record per series, a two-element array per point)
 * and handing it to `JSON.stringify` allocates several objects per sample; for a range result of
 * thousands of points that garbage costs more than the writing. The text is what
 * `JSON.stringify` gives for the API's object shape (`{status, data: {resultType, result},
 * warnings?, infos?}`), except that labels keep their sorted order even when a name looks like an
 * array index (an object would move those first) and a label named `__proto__` is written like
 * any other.
 */
import type { Labels } from '../../model/labels.js';
import type { QueryResult, QueryValue } from '../../promql/engine/index.js';
import { formatSampleValue } from './format.js';

/** `s` as a JSON string literal; the scan avoids `JSON.stringify`'s work for the usual plain strings. */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Control characters, quote, backslash and surrogates (a lone one must be escaped).
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return `"${s}"`;
}

function metricJson(ls: Labels): string {
  let out = '{';
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (i > 0) out += ',';
    out += `${jsonString(l.name)}:${jsonString(l.value)}`;
  }
  return `${out}}`;
}

/** `[seconds,"value"]`: timestamps as float seconds, values as Go formats them (see format.ts). */
function pointJson(t: number, v: number): string {
  return `[${t / 1000},"${formatSampleValue(v)}"]`;
}

function dataJson(value: QueryValue): string {
  switch (value.type) {
    case 'vector': {
      let out = '{"resultType":"vector","result":[';
      const samples = value.samples;
      for (let i = 0; i < samples.length; i++) {
        const s = samples[i]!;
        if (i > 0) out += ',';
        out += `{"metric":${metricJson(s.labels)},"value":${pointJson(s.t, s.v)}}`;
      }
      return `${out}]}`;
    }
    case 'matrix': {
      let out = '{"resultType":"matrix","result":[';
      const series = value.series;
      for (let i = 0; i < series.length; i++) {
        const s = series[i]!;
        if (i > 0) out += ',';
        out += `{"metric":${metricJson(s.labels)},"values":[`;
        const points = s.samples;
        for (let j = 0; j < points.length; j++) {
          const p = points[j]!;
          if (j > 0) out += ',';
          out += pointJson(p.t, p.v);
        }
        out += ']}';
      }
      return `${out}]}`;
    }
    case 'scalar':
      return `{"resultType":"scalar","result":${pointJson(value.t, value.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${value.t / 1000},${jsonString(value.v)}]}`;
  }
}

export function querySuccessJson(result: QueryResult): string {
  let out = `{"status":"success","data":${dataJson(result.value)}`;
  if (result.warnings.length > 0) out += `,"warnings":${JSON.stringify(result.warnings)}`;
  if (result.infos.length > 0) out += `,"infos":${JSON.stringify(result.infos)}`;
  return `${out}}`;
}
