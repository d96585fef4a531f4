/**
 * Log selections planned into the Elasticsearch query DSL, with the same meaning the embedded
 * store gives them:
 * - matchers on the stream labels and `level` are `term`/`terms`/`regexp` filters on keywords
 *   (regexps translated from RE2, anchored as in Prometheus); a label no record has is the empty
 *   string, so its matchers are decided here, once, and become nothing or `match_none`;
 * - `|=`/`!=` are `wildcard` queries `*text*` on the exact `message.wildcard` field, `|~`/`!~`
 *   unanchored regexps on it;
 * - the time range is `[start, end)` on `@timestamp`, to the nanosecond;
 * - order is (`@timestamp`, `log.offset`, `vigil.id`), the one order of `record-order.ts`.
 */
import type { estypes } from '@elastic/elasticsearch';
import { formatTimeNs } from '../../../model/logs.js';
import { RegexSyntaxError, type Matcher } from '../../../model/matcher.js';
import type { LogCursor } from '../cursor.js';
import type { LineFilter, LogDirection, LogSelection } from '../interface.js';
import { DATE_NANOS_MAX, FIELDS } from './indices.js';
import { RegexpTranslationError, toLuceneRegexp, type LuceneRegexp, type LuceneRegexpOptions } from './lucene-regexp.js';

type Query = estypes.QueryDslQueryContainer;

/** Label names of `LogSelection` matchers and the keyword fields that hold them. */
export const LABEL_FIELDS: Readonly<Record<string, string>> = {
  namespace: FIELDS.namespace,
  pod: FIELDS.pod,
  container: FIELDS.container,
  node: FIELDS.node,
  stream: FIELDS.stream,
  level: FIELDS.level,
};

/** `date_nanos` dates are written and read in this format, so no precision is lost on the way. */
export const NANOS_FORMAT = 'strict_date_optional_time_nanos';

const MATCHER_REGEXP: LuceneRegexpOptions = { anchored: true, dotAll: true };
const LINE_REGEXP: LuceneRegexpOptions = { anchored: false, dotAll: false };

/**
 * Translates for Elasticsearch. What RE2 itself rejects is a `RegexSyntaxError`, as from every
 * store; valid RE2 that Lucene cannot express stays a `RegexpTranslationError` saying so.
 */
function lucene(pattern: string, options: LuceneRegexpOptions): LuceneRegexp {
  try {
    return toLuceneRegexp(pattern, options);
  } catch (err) {
    if (err instanceof RegexpTranslationError && err.kind === 'invalid') throw new RegexSyntaxError(pattern, err);
    throw err;
  }
}

interface Clauses {
  readonly filter: Query[];
  readonly mustNot: Query[];
}

const MATCH_NONE: Query = { match_none: {} };

function addMatcher(m: Matcher, out: Clauses): void {
  const field = LABEL_FIELDS[m.name];
  if (field === undefined) {
    // No record has this label: its value is the empty string everywhere.
    if (!m.matches('')) out.filter.push(MATCH_NONE);
    return;
  }
  switch (m.type) {
    case '=':
    case '!=': {
      const q: Query = { term: { [field]: { value: m.value } } };
      (m.type === '=' ? out.filter : out.mustNot).push(q);
      return;
    }
    case '=~':
    case '!~': {
      const re = lucene(m.value, MATCHER_REGEXP);
      const positive = m.type === '=~';
      if (re.matchesAll) {
        if (!positive) out.filter.push(MATCH_NONE);
        return;
      }
      const q: Query = re.literals !== undefined ? { terms: { [field]: [...re.literals] } } : { regexp: { [field]: { value: re.source } } };
      (positive ? out.filter : out.mustNot).push(q);
      return;
    }
  }
}

/** A wildcard pattern matching `text` literally: `\`, `*` and `?` are escaped. */
export function containsPattern(text: string): string {
  return `*${text.replace(/[\\*?]/g, (c) => `\\${c}`)}*`;
}

function addLineFilter(f: LineFilter, out: Clauses): void {
  const positive = f.op === '|=' || f.op === '|~';
  let q: Query;
  if (f.op === '|=' || f.op === '!=') {
    // Every line contains the empty string.
    if (f.value === '') {
      if (!positive) out.filter.push(MATCH_NONE);
      return;
    }
    q = { wildcard: { [FIELDS.messageExact]: { value: containsPattern(f.value) } } };
  } else if (f.op === '|~' || f.op === '!~') {
    const re = lucene(f.value, LINE_REGEXP);
    if (re.matchesAll) {
      if (!positive) out.filter.push(MATCH_NONE);
      return;
    }
    q = { regexp: { [FIELDS.messageExact]: { value: re.source } } };
  } else {
    throw new Error(`unknown line filter operator ${JSON.stringify((f as LineFilter).op)}`);
  }
  (positive ? out.filter : out.mustNot).push(q);
}

/** `[startNs, endNs)` on `@timestamp`; bounds outside what `date_nanos` holds are left open. */
export function timeRange(startNs: bigint, endNs: bigint): Query {
  const range: estypes.QueryDslDateRangeQuery = { format: NANOS_FORMAT };
  if (startNs > 0n) range.gte = formatTimeNs(startNs > DATE_NANOS_MAX ? DATE_NANOS_MAX : startNs);
  if (endNs <= DATE_NANOS_MAX) range.lt = formatTimeNs(endNs < 0n ? 0n : endNs);
  return { range: { [FIELDS.timestamp]: range } };
}

export function boolQuery(clauses: Clauses): Query {
  return {
    bool: {
      filter: clauses.filter,
      ...(clauses.mustNot.length > 0 && { must_not: clauses.mustNot }),
    },
  };
}

/**
 * The query for a selection. Line filters are left out when `withLineFilters` is false (streams
 * ignore them).
 */
export function selectionQuery(sel: LogSelection, withLineFilters = true): Query {
  const clauses: Clauses = { filter: [timeRange(sel.startNs, sel.endNs)], mustNot: [] };
  for (const m of sel.matchers) addMatcher(m, clauses);
  if (withLineFilters) for (const f of sel.lineFilters) addLineFilter(f, clauses);
  return boolQuery(clauses);
}

/**
 * The record order, oldest first for `forward`. `@timestamp` sort values come back formatted
 * rather than as epoch nanoseconds, which exceed what a JSON number holds exactly; `search_after`
 * reads them back in the same format. `unmapped_type` keeps an index of the pattern that lacks
 * our mappings from failing the search.
 */
export function recordSort(direction: LogDirection): estypes.SortCombinations[] {
  const order = direction === 'forward' ? 'asc' : 'desc';
  return [
    { [FIELDS.timestamp]: { order, format: NANOS_FORMAT, unmapped_type: 'date_nanos' } },
    { [FIELDS.offset]: { order, unmapped_type: 'long' } },
    { [FIELDS.id]: { order, unmapped_type: 'keyword' } },
  ];
}

/** `search_after` values that start strictly after `key` in `recordSort` order. */
export function searchAfter(key: Pick<LogCursor, 'timeNs' | 'offset' | 'id'>): estypes.SortResults {
  return [formatTimeNs(key.timeNs), key.offset, key.id];
}
