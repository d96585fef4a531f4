/**
 * Exposition-format parsers for scraping: Prometheus text 0.0.4/1.0.0 and OpenMetrics 1.0 text,
 * behaving like Prometheus's `model/textparse`.
 */

export type {
  EntryKind,
  Exemplar,
  ExpositionFormat,
  MetricType,
  ParsedEntry,
  ParserOptions,
  TextInput,
  TextParser,
} from './types.js';
export { keyWords } from './serieskey.js';
export { TextParseError } from './errors.js';
export { createParser, parseAll } from './parse.js';
export { PromParser } from './promparse.js';
export { OpenMetricsParser } from './openmetricsparse.js';
export {
  DEFAULT_SCRAPE_PROTOCOLS,
  SCRAPE_ACCEPT_HEADER,
  SCRAPE_PROTOCOL_MEDIA_TYPES,
  UnsupportedContentTypeError,
  buildAcceptHeader,
  contentTypeFor,
  resolveContentType,
} from './contenttype.js';
export type { ContentTypeResolution, ScrapeProtocol } from './contenttype.js';
export { formatOpenMetricsFloat } from './float.js';
