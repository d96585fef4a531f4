/**
 * LogQL for the log stores and the API: parse, plan (with namespace scope), run the residual
 * pipeline, evaluate metric queries. See README.md.
 */
export type * from './ast.js';
export { logQueriesOf } from './ast.js';
export { LogqlParseError } from './errors.js';
export { formatLogql, formatLogQuery } from './format.js';
export { compileLineFilter, compileUnanchoredRe2 } from './line-filter.js';
export {
  evaluateMetricQuery,
  MetricQueryError,
  storeReader,
  type MetricPoint,
  type MetricQueryOptions,
  type MetricSeries,
  type RecordReader,
} from './metric-eval.js';
export {
  ERR_EMPTY_COMPATIBLE_SELECTOR,
  MAX_NESTING_DEPTH,
  MAX_QUERY_LENGTH,
  parseLogql,
  parseLogQuery,
  parseMetricQuery,
} from './parser.js';
export { ERROR_DETAILS_LABEL, ERROR_LABEL, Pipeline, PIPELINE_ERRORS, type PipelineResult } from './pipeline.js';
export { planLogQuery, quoteRe2, restrictPlan, restrictToNamespaces, type LogQueryPlan, type TimeRange } from './plan.js';
export { compileSelection, selectionLabel } from './selection.js';
