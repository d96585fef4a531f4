import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { Label, Labels } from '../../../model/labels.js';
import { BaseParser } from './base.js';
import { TextParseError } from './errors.js';
import { formatGoFloat } from './float.js';
import { createParser } from './parse.js';
import { keyWords } from './serieskey.js';
import type { Exemplar, ExpositionFormat, MetricType } from './types.js';

const FORMATS: readonly ExpositionFormat[] = ['prometheus-text', 'openmetrics'];
const cadvisor = readFileSync(new URL('../../../../shared/reference/fixtures/cadvisor/prometheus_metrics', import.meta.url), 'utf8');

/**
 * Drains a parser; returns 'ok' or 'parse-error' and fails on anything else. Every `next()` must
 * consume input, so more calls than characters would mean a loop that does not progress.
 */
function outcome(input: string | Uint8Array, format: ExpositionFormat): 'ok' | 'parse-error' {
  const budget = input.length + 10;
  try {
    const p = createParser(input, format, { skipCreatedSeries: format === 'openmetrics' });
    for (let n = 0; ; n++) {
      if (n > budget) throw new Error('parser did not make progress');
      const k = p.next();
      if (k === 'eof') return 'ok';
      if (k === 'series') {
        p.labels();
        p.exemplar();
        p.startTimestamp();
        p.seriesText();
        const words = new Int32Array(keyWords(p.seriesKeyCode()) + 1);
        const code = p.writeSeriesKey(words, 1);
        if (code !== p.seriesKeyCode() || !p.seriesMatches(words, 1, code)) throw new Error('a series does not match its own key');
      }
      p.metricName();
      p.help();
    }
  } catch (e) {
    if (e instanceof TextParseError) {
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
      return 'parse-error';
    }
    throw e;
  }
}

/** Series keys announced to a parser: the k-th before the k-th sample line, shifted by `shift`. */
interface Hints {
  readonly words: Int32Array;
  readonly keys: readonly (readonly [number, number])[];
  readonly shift: number;
}

/** Everything observable about a parse, to compare the fast and the token-by-token paths. */
function transcript(input: string | Uint8Array, format: ExpositionFormat, hints?: Hints): unknown[] {
  const out: unknown[] = [];
  try {
    const p = createParser(input, format, { skipCreatedSeries: format === 'openmetrics' });
    let series = 0;
    const next = (): ReturnType<typeof p.next> => {
      const key = hints?.keys[series + hints.shift];
      if (key !== undefined) p.expectSeries(hints!.words, key[0], key[1]);
      return p.next();
    };
    for (let k = next(); k !== 'eof'; k = next()) {
      if (k === 'series') {
        // Cached-series callers ask first whether the series is the one they expected.
        const key = hints?.keys[series + hints.shift];
        const expected = key !== undefined && p.seriesMatches(hints!.words, key[0], key[1]);
        out.push([k, p.seriesText(), p.seriesHash(), expected ? 'expected' : '', p.metricName(), p.labels(), p.value(), p.timestamp(), p.exemplar(), p.startTimestamp()]);
        series++;
      } else {
        out.push([k, p.metricName(), p.help(), p.type(), p.unit(), p.comment()]);
      }
    }
  } catch (e) {
    out.push(e instanceof TextParseError ? e.message : e);
  }
  return out;
}

/** The keys of the series of `input`, in order, as a scrape cache stores them. */
function seriesKeys(input: string, shift: number): Hints {
  let words = new Int32Array(64);
  let used = 0;
  const keys: [number, number][] = [];
  try {
    const p = createParser(input, 'prometheus-text');
    for (let k = p.next(); k !== 'eof'; k = p.next()) {
      if (k !== 'series') continue;
      const n = keyWords(p.seriesKeyCode());
      if (used + n > words.length) {
        const g = new Int32Array((used + n) * 2);
        g.set(words);
        words = g;
      }
      keys.push([used, p.writeSeriesKey(words, used)]);
      used += n;
    }
  } catch {
    // Keys up to the error.
  }
  return { words, keys, shift };
}

/**
 * The fast paths (text 0.0.4: the byte scanner for ASCII input given as a string or as bytes, the
 * string scanner otherwise) must agree with the token-by-token path on everything.
 */
function bothPaths(input: string, format: ExpositionFormat): void {
  const fast = transcript(input, format);
  // ASCII bytes take their own route into the parser (no UTF-8 decoding).
  const bytes = /^[\x00-\x7f]*$/.test(input) ? transcript(Buffer.from(input, 'latin1'), format) : fast;
  BaseParser.fastPath = false;
  try {
    const slow = transcript(input, format);
    expect(fast).toEqual(slow);
    expect(bytes).toEqual(slow);
  } finally {
    BaseParser.fastPath = true;
  }
  if (format === 'prometheus-text') {
    // Announcing the series expected next (a scrape cache does) never changes the result, whether
    // the guess is right or off by one; only whether the match was confirmed early may differ.
    const plain = fast.map(unflag);
    for (const shift of [0, 1, -1]) {
      const hints = seriesKeys(input, shift);
      expect(transcript(input, format, hints).map(unflag)).toEqual(plain);
      if (/^[\x00-\x7f]*$/.test(input)) {
        expect(transcript(Buffer.from(input, 'latin1'), format, hints).map(unflag)).toEqual(plain);
      }
    }
  }
}

/** A transcript entry without the "expected" flag, which only hinted parses set. */
function unflag(e: unknown): unknown {
  return Array.isArray(e) && e[0] === 'series' ? e.filter((_, k) => k !== 3) : e;
}

// ---- ASCII line soup for the text 0.0.4 byte scanner -----------------------------------------

/** Mostly the canonical form (so lines get past the first error), sometimes a variant. */
function mostly<T>(canonical: T, ...variants: T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 6, arbitrary: fc.constant(canonical) }, { weight: 1, arbitrary: fc.constantFrom(...variants) });
}

/** Sample values: the plain decimals it converts itself and everything it must hand over. */
const valueText = fc.oneof(
  fc.double().map(formatGoFloat),
  fc.double().map((d) => String(d)),
  fc.integer({ min: -1e9, max: 1e9 }).map(String),
  fc.tuple(
    fc.constantFrom('', '-', '+'),
    fc.stringMatching(/^[0-9]{0,20}$/),
    fc.constantFrom('', '.'),
    fc.stringMatching(/^[0-9]{0,20}$/),
    fc.constantFrom('', 'e', 'E', 'e+', 'e-', 'E-'),
    fc.stringMatching(/^[0-9]{0,5}$/),
  ).map((p) => p.join('')),
  fc.constantFrom('NaN', '+Inf', '-Inf', 'inf', '1_0', '0x1p3', '1e', '.', '-', '1.2.3', '1e400', '-0', '0.0', '007'),
);
const asciiLabelValue = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-zA-Z0-9 /._-]{0,10}$/) },
  { weight: 1, arbitrary: fc.constantFrom('\\\\', '\\"', '\\n', '\\t', 'a\\', '\\x', '\n', '\\\n', '{}', '#', ',', '=') },
);
const asciiLabelName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'ab', 'A', '_x', '__name__', 'le', 'quantile', '1a', '"q"') },
);
const asciiLabels = fc.array(fc.tuple(asciiLabelName, asciiLabelValue), { maxLength: 5 });
const sep = mostly(' ', '  ', '\t', '');
const sampleLine = fc
  .tuple(
    mostly('m', 'metric_a', 'a:b', '_c', '9x'),
    fc.boolean(),
    mostly('{', ' {', '{ '),
    asciiLabels,
    mostly(',', ', ', ',,', ''),
    mostly('}', ' }', ',}', ''),
    sep,
    fc.oneof({ weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(formatGoFloat) }, { weight: 2, arbitrary: valueText }),
    fc.option(fc.tuple(sep, fc.oneof({ weight: 4, arbitrary: fc.nat().map(String) }, { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{14,21}$/) }, { weight: 1, arbitrary: fc.constantFrom('-1', '1.5', '0001') }))),
    mostly('', ' ', '\t'),
  )
  .map(([name, sortLabels, open, labels, comma, close, s1, value, ts, trail]) => {
    const ls = sortLabels ? [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : labels;
    const block = ls.length === 0 && open === '{' && close === '}' ? '' : `${open}${ls.map(([n, v]) => `${n}="${v}"`).join(comma)}${close}`;
    return `${name}${block}${s1}${value}${ts === null ? '' : ts[0] + ts[1]}${trail}`;
  });
const metaLine = fc
  .tuple(
    mostly('# ', '#', '#  ', '#\t'),
    mostly('HELP', 'TYPE', 'HELPX', 'HEL', 'TYP', 'Hello', 'Text', 'x'),
    mostly(' ', '  ', '\t', ''),
    mostly('m', 'a:b', '"q"', '9x', ''),
    mostly(' ', '', '  ', '\t'),
    fc.constantFrom('', 'counter', 'gauge', 'histogram', 'summary', 'untyped', 'info', 'some help', 'a\\\\b\\\\n', ' x', 'x '),
  )
  .map((p) => p.join(''));
const asciiExposition = fc
  .tuple(fc.array(fc.oneof({ weight: 4, arbitrary: sampleLine }, { weight: 2, arbitrary: metaLine }, { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', '# TYPE m histogram', '# TYPE m summary') }), { maxLength: 10 }), mostly(true, false))
  .map(([lines, lf]) => lines.join('\n') + (lf ? '\n' : ''));

// ---- generators for valid expositions ------------------------------------------------------

interface GenSeries {
  labels: Array<[string, string]>;
  value: number;
  timestampMs?: number;
  exemplar?: { labels: Array<[string, string]>; value: number; timestampMs?: number };
}

interface GenFamily {
  name: string;
  type: MetricType | 'untyped' | null;
  help: string | null;
  series: GenSeries[];
}

// Quoted names may not contain NUL in either format (Prometheus's lexer rejects it there).
const noNul = (v: string): boolean => !v.includes('\x00');
const legacyName = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,12}$/);
const metricName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,15}$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }) },
).filter(noNul);
const labelName = fc
  .oneof({ weight: 4, arbitrary: legacyName }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }) })
  .filter((n) => noNul(n) && n !== '__name__' && n !== 'le' && n !== 'quantile');
const labelValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', '"', '\\', '\n', '\\n', 'a b', '{}', '#'));
const labelSet = fc.uniqueArray(fc.tuple(labelName, labelValue), { maxLength: 5, selector: ([n]) => n });
const sampleValue = fc.oneof(
  fc.double(),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.constantFrom(0, 1, -1, 0.5, 1e-9, NaN, Infinity, -Infinity),
);

function family(format: ExpositionFormat): fc.Arbitrary<GenFamily> {
  const types: Array<MetricType | 'untyped' | null> =
    format === 'openmetrics'
      ? [null, 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']
      : [null, 'counter', 'gauge', 'histogram', 'summary', 'untyped'];
  const exemplar = fc.record(
    {
      // Exemplar label values, unlike sample label values, may not contain NUL.
      labels: fc.uniqueArray(fc.tuple(legacyName, fc.string({ unit: 'binary', maxLength: 8 }).filter(noNul)), { maxLength: 3, selector: ([n]) => n }),
      value: sampleValue,
      timestampMs: fc.integer({ min: 0, max: 4e12 }),
    },
    { requiredKeys: ['labels', 'value'] },
  );
  const series: fc.Arbitrary<GenSeries> =
    format === 'openmetrics'
      ? fc.record(
          { labels: labelSet, value: sampleValue, timestampMs: fc.integer({ min: 0, max: 4e12 }), exemplar },
          { requiredKeys: ['labels', 'value'] },
        )
      : fc.record({ labels: labelSet, value: sampleValue, timestampMs: fc.integer({ min: 0, max: 2 ** 53 - 1 }) }, { requiredKeys: ['labels', 'value'] });
  // Help made only of blanks reads back as '' in text 0.0.4 (Prometheus's lexer), so avoid it.
  const help = fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 20 }).filter((h) => format === 'openmetrics' || !/^[ \t]+$/.test(h)));
  return fc.record({ name: metricName, type: fc.constantFrom(...types), help, series: fc.array(series, { maxLength: 4 }) });
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function isLegacy(n: string, metric: boolean): boolean {
  return (metric ? /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ : /^[a-zA-Z_][a-zA-Z0-9_]*$/).test(n);
}

function renderName(n: string, metric: boolean): string {
  return isLegacy(n, metric) ? n : `"${escapeValue(n)}"`;
}

function renderLabels(pairs: Array<[string, string]>): string {
  return pairs.map(([n, v]) => `${renderName(n, false)}="${escapeValue(v)}"`).join(',');
}

/** Timestamps: text 0.0.4 carries integer ms; OpenMetrics float seconds. */
function render(families: GenFamily[], format: ExpositionFormat): string {
  let out = '';
  for (const f of families) {
    const fam = renderName(f.name, true);
    if (f.help !== null) {
      const h = format === 'openmetrics' ? escapeValue(f.help) : f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
      out += `# HELP ${fam} ${h}\n`;
    }
    if (f.type !== null) out += `# TYPE ${fam} ${f.type}\n`;
    for (const s of f.series) {
      const legacy = isLegacy(f.name, true);
      if (legacy) out += s.labels.length > 0 ? `${f.name}{${renderLabels(s.labels)}}` : f.name;
      else out += `{${[fam, ...(s.labels.length > 0 ? [renderLabels(s.labels)] : [])].join(',')}}`;
      out += ` ${formatGoFloat(s.value)}`;
      if (s.timestampMs !== undefined) out += format === 'openmetrics' ? ` ${s.timestampMs / 1000}` : ` ${s.timestampMs}`;
      if (s.exemplar !== undefined) {
        out += ` # {${renderLabels(s.exemplar.labels)}} ${formatGoFloat(s.exemplar.value)}`;
        if (s.exemplar.timestampMs !== undefined) out += ` ${s.exemplar.timestampMs / 1000}`;
      }
      out += '\n';
    }
  }
  return format === 'openmetrics' ? out + '# EOF\n' : out;
}

function sorted(pairs: Array<[string, string]>): Labels {
  const out: Label[] = pairs.map(([name, value]) => ({ name, value }));
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

type Sample = { name: string; labels: Labels; value: number; timestamp?: number; exemplar?: Exemplar };
type Meta = { help: [string, string][]; types: [string, string][] };

function expected(families: GenFamily[], format: ExpositionFormat): { samples: Sample[]; meta: Meta } {
  const samples: Sample[] = [];
  const meta: Meta = { help: [], types: [] };
  const ts = (ms: number): number => (format === 'openmetrics' ? Math.trunc((ms / 1000) * 1000) : ms);
  for (const f of families) {
    if (f.help !== null) meta.help.push([f.name, f.help]);
    if (f.type !== null) meta.types.push([f.name, f.type === 'untyped' ? 'unknown' : f.type]);
    for (const s of f.series) {
      const sample: Sample = { name: f.name, labels: sorted([['__name__', f.name], ...s.labels]), value: s.value };
      if (s.timestampMs !== undefined) sample.timestamp = ts(s.timestampMs);
      if (s.exemplar !== undefined) {
        const e = s.exemplar;
        sample.exemplar = e.timestampMs !== undefined
          ? { labels: sorted(e.labels), value: e.value, timestamp: ts(e.timestampMs) }
          : { labels: sorted(e.labels), value: e.value };
      }
      samples.push(sample);
    }
  }
  return { samples, meta };
}

function actual(text: string, format: ExpositionFormat): { samples: Sample[]; meta: Meta } {
  const p = createParser(Buffer.from(text, 'utf8'), format);
  const samples: Sample[] = [];
  const meta: Meta = { help: [], types: [] };
  for (let k = p.next(); k !== 'eof'; k = p.next()) {
    if (k === 'series') {
      const s: Sample = { name: p.metricName(), labels: p.labels(), value: p.value() };
      const t = p.timestamp();
      if (t !== undefined) s.timestamp = t;
      const e = p.exemplar();
      if (e !== undefined) s.exemplar = e;
      samples.push(s);
    } else if (k === 'help') meta.help.push([p.metricName(), p.help()]);
    else if (k === 'type') meta.types.push([p.metricName(), p.type()!]);
  }
  return { samples, meta };
}

// A family name that is a prefix of nothing matters only for OpenMetrics' _created handling,
// which is off by default; family names may repeat, as they may in a real exposition.
describe('property tests', () => {
  test('prometheus-text: the byte scanner agrees with the token path on ASCII line soup', () => {
    fc.assert(
      fc.property(asciiExposition, (text) => {
        bothPaths(text, 'prometheus-text');
      }),
      { numRuns: 3000 },
    );
  });

  test('prometheus-text: sample values convert exactly as Number() does', () => {
    fc.assert(
      fc.property(valueText, (v) => {
        const p = createParser(`m ${v}\n`, 'prometheus-text');
        let got: unknown;
        try {
          p.next();
          got = p.value();
        } catch (e) {
          got = e instanceof TextParseError ? 'error' : e;
        }
        BaseParser.fastPath = false;
        try {
          const q = createParser(`m ${v}\n`, 'prometheus-text');
          let want: unknown;
          try {
            q.next();
            want = q.value();
          } catch (e) {
            want = e instanceof TextParseError ? 'error' : e;
          }
          expect(Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))).toBe(true);
          if (typeof want === 'number') expect(Object.is(want, Number(v.toLowerCase().includes('inf') ? (v.startsWith('-') ? -Infinity : Infinity) : v)) || Number.isNaN(want)).toBe(true);
        } finally {
          BaseParser.fastPath = true;
        }
      }),
      { numRuns: 3000 },
    );
  });

  for (const format of FORMATS) {
    test(`${format}: generated metric families round-trip`, () => {
      fc.assert(
        fc.property(fc.array(family(format), { maxLength: 5 }), (families) => {
          const text = render(families, format);
          expect(actual(text, format)).toEqual(expected(families, format));
          bothPaths(text, format);
        }),
        { numRuns: 300 },
      );
    });

    test(`${format}: random strings and bytes only ever raise TextParseError`, () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary-ascii', maxLength: 200 }), (s) => {
          outcome(s, format);
        }),
        { numRuns: 1000 },
      );
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
          outcome(b, format);
        }),
        { numRuns: 1000 },
      );
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => {
          outcome(s, format);
        }),
        { numRuns: 500 },
      );
    });

    test(`${format}: mutations of valid text only ever raise TextParseError`, () => {
      const alphabet = fc.constantFrom(' ', '\t', '\n', '\r', '\x00', '#', '{', '}', '"', '\\', '=', ',', '.', 'e', '1', 'a', '_', ':', 'EOF', '# EOF\n', '# {', '\xff', '\ud800', 'é');
      const base = fc.oneof(
        fc.array(family(format), { minLength: 1, maxLength: 4 }).map((fs) => render(fs, format)),
        fc.integer({ min: 0, max: cadvisor.length - 2000 }).map((at) => {
          const from = cadvisor.lastIndexOf('\n', at) + 1;
          const slice = cadvisor.slice(from, cadvisor.indexOf('\n', from + 1500) + 1);
          return format === 'openmetrics' ? slice.replace(/ 1395066363000\n/g, ' 1395066363.000\n') + '# EOF\n' : slice;
        }),
      );
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: alphabet }),
        fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 5 }) }),
        fc.record({ op: fc.constant('replace' as const), at: fc.nat(), what: alphabet }),
        fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
      );
      fc.assert(
        fc.property(base, fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, muts) => {
          let t = text;
          for (const m of muts) {
            const at = t.length === 0 ? 0 : m.at % (t.length + 1);
            if (m.op === 'insert') t = t.slice(0, at) + m.what + t.slice(at);
            else if (m.op === 'replace') t = t.slice(0, at) + m.what + t.slice(at + 1);
            else if (m.op === 'delete') t = t.slice(0, at) + t.slice(at + m.len);
            else t = t.slice(0, at) + t.slice(at, at + m.len) + t.slice(at);
          }
          outcome(t, format);
          outcome(Buffer.from(t, 'latin1'), format);
          bothPaths(t, format);
        }),
        { numRuns: 1500 },
      );
    });
  }
});
