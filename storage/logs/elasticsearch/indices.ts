/**
 * The Elasticsearch side of the log store's storage layout: one index per UTC day,
 * `<prefix>-YYYY.MM.DD`, all created from one composable index template.
 *
 * Daily indices rather than a data stream: in a data stream `_id` is unique only within a backing
 * index, so a replay that lands after a rollover would store a record twice. Here a record always
 * goes to the index of its own timestamp's day, so bulk `create` with `_id` = the record's id is
 * idempotent for every replay, and retention is deleting whole indices.
 */
import type { estypes } from '@elastic/elasticsearch';

/** Bumped whenever the template below changes, so an operator can see which one is installed. */
export const TEMPLATE_VERSION = 1;

const DAY_NS = 86_400_000_000_000n;
const DAY_MS = 86_400_000;

/** `date_nanos` holds nanoseconds since the epoch as a signed 64-bit integer. */
export const DATE_NANOS_MAX = 2n ** 63n - 1n;

/** The day number (days since 1970-01-01 UTC) of a timestamp. */
export function dayOf(timeNs: bigint): bigint {
  return timeNs >= 0n ? timeNs / DAY_NS : -((-timeNs + DAY_NS - 1n) / DAY_NS);
}

export function dayStartNs(day: bigint): bigint {
  return day * DAY_NS;
}

export function dayIndexName(prefix: string, day: bigint): string {
  const d = new Date(Number(day) * DAY_MS);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  return `${prefix}-${d.getUTCFullYear()}.${mm}.${dd}`;
}

/** The day an index of this prefix holds, or undefined for any other name. */
export function dayOfIndex(prefix: string, name: string): bigint | undefined {
  if (!name.startsWith(`${prefix}-`)) return undefined;
  const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(name.slice(prefix.length + 1));
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(ms) || ms % DAY_MS !== 0) return undefined;
  const day = BigInt(ms / DAY_MS);
  // Rejects names like 2025.02.30 that Date.UTC would roll over into March.
  return dayIndexName(prefix, day) === name ? day : undefined;
}

/** The pattern every index of the store matches, for the template and for wide searches. */
export function indexPattern(prefix: string): string {
  return `${prefix}-*`;
}

/**
 * Field names: ECS where ECS has one (`@timestamp`, `message`, `log.*`, `kubernetes.*`), under
 * `vigil.*` what is ours.
 */
export const FIELDS = {
  timestamp: '@timestamp',
  message: 'message',
  /** `message` as a `wildcard` field: exact, case-sensitive substring and regexp matching. */
  messageExact: 'message.wildcard',
  stream: 'stream',
  level: 'log.level',
  offset: 'log.offset',
  path: 'log.file.path',
  id: 'vigil.id',
  fileKey: 'vigil.file_key',
  namespace: 'kubernetes.namespace',
  pod: 'kubernetes.pod.name',
  podUid: 'kubernetes.pod.uid',
  container: 'kubernetes.container.name',
  restart: 'kubernetes.container.restart_count',
  node: 'kubernetes.node.name',
} as const;

/** A flattened leaf longer than this is kept in `_source` but not indexed, instead of failing the document. */
const FLATTENED_IGNORE_ABOVE = 8191;

const keyword = { type: 'keyword' } as const;

/**
 * Explicit mappings with `dynamic: false`: unknown fields stay in `_source` but create no
 * mappings, so a chatty application cannot explode the mapping.
 *
 * `message` is `match_only_text` (ECS's choice: full-text search for Kibana users, without the
 * positions a log line rarely needs) with a `wildcard` subfield. LogQL's `|=` is an exact,
 * case-sensitive substring test and `|~` an unanchored regexp over the whole line; analysed
 * text cannot answer either (tokens lose punctuation, case and order). `wildcard` indexes n-grams
 * to find candidates and checks each against the exact value, so it answers both exactly, for
 * lines of any length (a `keyword` would have to give up on lines over 32 KiB).
 */
export function logMappings(): estypes.MappingTypeMapping {
  return {
    // The spec's DynamicMapping is a string enum; Elasticsearch reads "false" like false.
    dynamic: 'false',
    properties: {
      '@timestamp': { type: 'date_nanos' },
      message: { type: 'match_only_text', fields: { wildcard: { type: 'wildcard' } } },
      stream: keyword,
      log: {
        properties: {
          level: keyword,
          offset: { type: 'long' },
          file: { properties: { path: keyword } },
        },
      },
      vigil: { properties: { id: keyword, file_key: keyword } },
      kubernetes: {
        properties: {
          namespace: keyword,
          pod: { properties: { name: keyword, uid: keyword } },
          container: { properties: { name: keyword, restart_count: { type: 'integer' } } },
          node: { properties: { name: keyword } },
          // Label and annotation keys contain `.` and `/`: one field each would explode the mapping.
          labels: { type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE },
          annotations: { type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE },
        },
      },
      fields: { type: 'flattened', ignore_above: FLATTENED_IGNORE_ABOVE },
    },
  };
}

/**
 * Line filters become regexps longer than what the user typed (`.*` wrappers, `[xX]` classes for
 * `(?i)`); the default limit of 1000 characters would refuse reasonable ones.
 */
const MAX_REGEX_LENGTH = 10_000;

/**
 * The component template an operator may create for shards, replicas, refresh interval or an
 * ILM policy, like Elastic's own `logs@custom`. It may be absent; what it sets applies where the
 * template below sets nothing (an index template's own block wins over its components).
 */
export function customComponentTemplate(prefix: string): string {
  return `${prefix}@custom`;
}

/** The body of `PUT /_index_template/<prefix>`. */
export function indexTemplate(prefix: string): Omit<estypes.IndicesPutIndexTemplateRequest, 'name'> {
  return {
    index_patterns: [indexPattern(prefix)],
    // Above Elasticsearch's built-in templates (priority 100 and below), so ours wins for our names.
    priority: 200,
    version: TEMPLATE_VERSION,
    composed_of: [customComponentTemplate(prefix)],
    ignore_missing_component_templates: [customComponentTemplate(prefix)],
    template: {
      settings: { index: { max_regex_length: MAX_REGEX_LENGTH } },
      mappings: logMappings(),
    },
  };
}
