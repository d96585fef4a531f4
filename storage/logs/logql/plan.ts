/**
 * Planning a log query: what the store runs (`LogSelection`: matchers, line filters, time range)
 * and what runs on the records it returns (the residual `Pipeline`).
 *
 * Pushed down to the store:
 * - the stream selector's matchers;
 * - line filters before the first parser, `line_format` or `decolorize` (after those, the line
 *   or what the query means by it may differ from the stored message);
 * - string label filters on `namespace`, `pod`, `container`, `node`, `stream` and `level`,
 *   before the first parser, `drop` or `keep` (until then these labels are the record's own),
 *   as far as they are conjuncts: `| level="error" and latency > 1s` pushes `level`, an `or`
 *   stays in the pipeline.
 * Pushed-down stages leave the pipeline: a store must apply them exactly (see interface.ts).
 *
 * Scope: `restrictToNamespaces` adds a namespace matcher to the selection, the way
 * prom-label-proxy injects one, so a query never reaches records outside the caller's scope.
 */
import { Matcher } from '../../../model/matcher.js';
import { LOG_STREAM_LABELS } from '../../../model/logs.js';
import type { LineFilter, LogSelection } from '../interface.js';
import type { LabelFilterExpr, LogQuery, PipelineStage } from './ast.js';
import { Pipeline } from './pipeline.js';

export interface TimeRange {
  /** Inclusive, nanoseconds. */
  readonly startNs: bigint;
  /** Exclusive, nanoseconds. */
  readonly endNs: bigint;
}

export interface LogQueryPlan {
  /**
   * What the store runs; undefined when no record can match (an empty scope, or a query for
   * namespaces outside it): answer empty without asking the store.
   */
  readonly selection: LogSelection | undefined;
  /** Run on every record the store returns. */
  readonly pipeline: Pipeline;
}

/** Labels the stores match natively: the stream labels and the record's level. */
const STORE_LABELS: ReadonlySet<string> = new Set([...LOG_STREAM_LABELS, 'level']);

export function planLogQuery(query: LogQuery, range: TimeRange): LogQueryPlan {
  const matchers: Matcher[] = query.selector.matchers.map((m) => m.matcher);
  const lineFilters: LineFilter[] = [];
  const residual: PipelineStage[] = [];
  let lineIsMessage = true;
  let labelsAreRecords = true;
  for (const stage of query.stages) {
    switch (stage.kind) {
      case 'LineFilter':
        if (lineIsMessage) lineFilters.push({ op: stage.op, value: stage.value });
        else residual.push(stage);
        break;
      case 'LabelFilter': {
        if (!labelsAreRecords) {
          residual.push(stage);
          break;
        }
        const rest: LabelFilterExpr[] = [];
        for (const c of conjuncts(stage.filter)) {
          if (c.kind === 'StringFilter' && STORE_LABELS.has(c.matcher.name)) matchers.push(c.matcher);
          else rest.push(c);
        }
        if (rest.length > 0) residual.push({ ...stage, filter: rest.reduce((left, right) => and(left, right)) });
        break;
      }
      case 'JsonParser':
      case 'LogfmtParser':
      case 'RegexpParser':
        lineIsMessage = false;
        labelsAreRecords = false;
        residual.push(stage);
        break;
      case 'LineFormat':
      case 'Decolorize':
        lineIsMessage = false;
        residual.push(stage);
        break;
      case 'Drop':
      case 'Keep':
        labelsAreRecords = false;
        residual.push(stage);
        break;
    }
  }
  return {
    selection: { matchers, lineFilters, startNs: range.startNs, endNs: range.endNs },
    pipeline: new Pipeline(residual),
  };
}

function conjuncts(f: LabelFilterExpr): LabelFilterExpr[] {
  return f.kind === 'And' ? [...conjuncts(f.left), ...conjuncts(f.right)] : [f];
}

function and(left: LabelFilterExpr, right: LabelFilterExpr): LabelFilterExpr {
  return { kind: 'And', left, right, span: { start: left.span.start, end: right.span.end } };
}

/** Go's `regexp.QuoteMeta`: a regex matching exactly `s`. */
export function quoteRe2(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * Restricts a selection to the namespaces a caller may read: `'all'` leaves it as is; otherwise
 * a `namespace` matcher is added, exact for one namespace and an anchored alternation of quoted
 * names for several. Namespaces that the selection's own namespace matchers exclude are left
 * out; when none is left (or the scope is empty) the result is undefined: nothing can match.
 */
export function restrictToNamespaces(
  selection: LogSelection,
  namespaces: readonly string[] | 'all',
): LogSelection | undefined {
  if (namespaces === 'all') return selection;
  const own = selection.matchers.filter((m) => m.name === 'namespace');
  // A namespace is never empty; an empty name in a scope must not select records lacking one.
  const allowed = [...new Set(namespaces)].filter((ns) => ns !== '' && own.every((m) => m.matches(ns))).sort();
  if (allowed.length === 0) return undefined;
  const scope =
    allowed.length === 1
      ? new Matcher('=', 'namespace', allowed[0]!)
      : new Matcher('=~', 'namespace', allowed.map(quoteRe2).join('|'));
  return { ...selection, matchers: [...selection.matchers, scope] };
}

/** `restrictToNamespaces` applied to a plan. */
export function restrictPlan(plan: LogQueryPlan, namespaces: readonly string[] | 'all'): LogQueryPlan {
  if (plan.selection === undefined || namespaces === 'all') return plan;
  return { ...plan, selection: restrictToNamespaces(plan.selection, namespaces) };
}
