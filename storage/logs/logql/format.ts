/**
 * Prints a LogQL tree back as a query, one line, canonically: what parses back to the same tree.
 * Used to show users the query that actually ran (after scope restrictions, say), and by the
 * tests as a round-trip check of the parser.
 */
import type { Matcher } from '../../../model/matcher.js';
import { formatDuration } from '../../../model/duration.js';
import type { LabelExtraction, LabelFilterExpr, LogQuery, LogqlExpr, NamedLabel, PipelineStage } from './ast.js';

export function formatLogql(e: LogqlExpr): string {
  switch (e.kind) {
    case 'LogQuery':
      return formatLogQuery(e);
    case 'RangeAggregation': {
      const offset = e.offsetNs === 0n ? '' : ` offset ${formatGoDuration(e.offsetNs)}`;
      return `${e.op}(${formatLogQuery(e.query)} [${formatDuration(Number(e.rangeNs / 1_000_000n))}]${offset})`;
    }
    case 'VectorAggregation': {
      const grouping = e.grouping ? ` ${e.grouping.without ? 'without' : 'by'} (${e.grouping.labels.join(', ')})` : '';
      const param = e.param !== undefined ? `${e.param}, ` : '';
      return `${e.op}${grouping} (${param}${formatLogql(e.expr)})`;
    }
  }
}

export function formatLogQuery(q: LogQuery): string {
  const selector = `{${q.selector.matchers.map((m) => formatMatcher(m.matcher)).join(', ')}}`;
  return [selector, ...q.stages.map(formatStage)].join(' ');
}

function formatStage(s: PipelineStage): string {
  switch (s.kind) {
    case 'LineFilter':
      return `${s.op} ${quote(s.value)}`;
    case 'JsonParser':
      return `| json${formatExtractions(s.extractions)}`;
    case 'LogfmtParser':
      return `| logfmt${s.strict ? ' --strict' : ''}${s.keepEmpty ? ' --keep-empty' : ''}${formatExtractions(s.extractions)}`;
    case 'RegexpParser':
      return `| regexp ${quote(s.pattern)}`;
    case 'LabelFilter':
      return `| ${formatLabelFilter(s.filter)}`;
    case 'LineFormat':
      return `| line_format ${quote(s.template)}`;
    case 'Drop':
      return `| drop ${s.labels.map(formatNamed).join(', ')}`;
    case 'Keep':
      return `| keep ${s.labels.map(formatNamed).join(', ')}`;
    case 'Decolorize':
      return '| decolorize';
  }
}

function formatExtractions(xs: readonly LabelExtraction[]): string {
  return xs.length === 0 ? '' : ` ${xs.map((x) => `${x.label}=${quote(x.expression)}`).join(', ')}`;
}

function formatNamed(n: NamedLabel): string {
  return n.matcher ? formatMatcher(n.matcher) : n.name;
}

export function formatLabelFilter(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'And':
    case 'Or': {
      const word = f.kind === 'And' ? 'and' : 'or';
      // Parentheses wherever the tree is not the left-leaning chain the parser builds.
      const binary = (g: LabelFilterExpr): boolean => g.kind === 'And' || g.kind === 'Or';
      const left = binary(f.left) && f.left.kind !== f.kind ? `(${formatLabelFilter(f.left)})` : formatLabelFilter(f.left);
      const right = binary(f.right) ? `(${formatLabelFilter(f.right)})` : formatLabelFilter(f.right);
      return `${left} ${word} ${right}`;
    }
    case 'StringFilter':
      return formatMatcher(f.matcher);
    case 'NumberFilter':
      return `${f.name} ${f.op} ${String(f.value)}`;
    case 'DurationFilter':
      return `${f.name} ${f.op} ${formatGoDuration(f.valueNs)}`;
    case 'BytesFilter':
      return `${f.name} ${f.op} ${String(f.value)}B`;
  }
}

function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${quote(m.value)}`;
}

const NS_UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ['h', 3_600_000_000_000n],
  ['m', 60_000_000_000n],
  ['s', 1_000_000_000n],
  ['ms', 1_000_000n],
  ['us', 1_000n],
  ['ns', 1n],
];

/** A nanosecond duration in the largest unit that holds it exactly (`1500ms`, `2h`, `-5s`). */
export function formatGoDuration(ns: bigint): string {
  if (ns < 0n) return `-${formatGoDuration(-ns)}`;
  if (ns === 0n) return '0s';
  for (const [unit, size] of NS_UNITS) if (ns % size === 0n) return `${ns / size}${unit}`;
  return `${ns}ns`;
}

/** A double-quoted LogQL string: Go escapes for quotes, backslashes and control characters. */
export function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
