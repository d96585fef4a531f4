/**
 * A recursive-descent parser for LogQL log queries and the metric queries Grafana sends over
 * them (see README.md for what is supported and how it differs from Loki).
 *
 * Grammar, informally (keywords are case-insensitive, as in Loki):
 *
 *   expr        = logQuery | metricExpr | "(" expr ")"
 *   logQuery    = selector stage*
 *   selector    = "{" matcher ("," matcher)* "}"
 *   matcher     = IDENT ("=" | "!=" | "=~" | "!~") STRING
 *   stage       = ("|=" | "!=" | "|~" | "!~") STRING
 *               | "|" ( "json" extractions? | "logfmt" FLAG* extractions? | "regexp" STRING
 *                     | "line_format" STRING | "decolorize" | ("drop" | "keep") named ("," named)*
 *                     | labelFilter )
 *   extractions = IDENT ("=" STRING)? ("," IDENT ("=" STRING)?)*
 *   labelFilter = and ("or" and)*
 *   and         = primary (("and" | ",")? primary)*
 *   primary     = "(" labelFilter ")" | IDENT op value
 *   metricExpr  = rangeOp "(" logRange ")"
 *               | vectorOp grouping? "(" (NUMBER ",")? expr ")" grouping?
 *   logRange    = logQuery RANGE offset? | selector RANGE offset? stage* | "(" logRange ")"
 *               | "(" logQuery ")" RANGE offset?
 *   grouping    = ("by" | "without") "(" (IDENT ("," IDENT)*)? ")"
 */
import { Matcher, RegexSyntaxError, type MatchType } from '../../../model/matcher.js';
import { Re2SyntaxError } from '../../../model/re2.js';
import type { LineFilterOp } from '../interface.js';
import type {
  ComparisonOp,
  Grouping,
  LabelExtraction,
  LabelFilterExpr,
  LabelMatcherNode,
  LogQuery,
  LogqlExpr,
  MetricExpr,
  NamedLabel,
  PipelineStage,
  RangeAggregation,
  RangeAggregationOp,
  Span,
  StreamSelector,
  VectorAggregation,
  VectorAggregationOp,
} from './ast.js';
import { LogqlParseError } from './errors.js';
import { JsonPathError, parseJsonPath } from './json.js';
import { Lexer, type Token } from './lexer.js';
import { compileUnanchoredRe2, namedGroups } from './line-filter.js';
import { parseTemplate, TemplateError } from './template.js';

/** Loki refuses longer queries; so do we. */
export const MAX_QUERY_LENGTH = 131072;

/** Parentheses and aggregations nested deeper than this are refused rather than recursed into. */
export const MAX_NESTING_DEPTH = 256;

/** Loki's wording, so that users searching for it find Loki's explanations. */
export const ERR_EMPTY_COMPATIBLE_SELECTOR =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
  'For instance, app=~".*" does not meet this requirement, but app=~".+" will';

const RANGE_OPS: ReadonlySet<string> = new Set<RangeAggregationOp>([
  'count_over_time',
  'rate',
  'bytes_over_time',
  'bytes_rate',
  'absent_over_time',
]);
/** Loki range functions that need `| unwrap`, which is not supported. */
const UNWRAP_RANGE_OPS = new Set([
  'rate_counter',
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stdvar_over_time',
  'stddev_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
]);
const VECTOR_OPS: ReadonlySet<string> = new Set<VectorAggregationOp>(['sum', 'count', 'avg', 'min', 'max', 'topk', 'bottomk']);
const UNSUPPORTED_FUNCTIONS = new Set(['stddev', 'stdvar', 'sort', 'sort_desc', 'approx_topk', 'label_replace', 'vector']);

/** Words Loki's lexer always reads as keywords; its messages name them as written. */
const LOKI_KEYWORDS = new Set([
  'by', 'without', 'bool', 'offset', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless',
  'json', 'regexp', 'logfmt', 'unpack', 'pattern', 'label_format', 'line_format', 'ip', 'decolorize',
  'drop', 'keep', 'unwrap',
]);

const LINE_FILTER_OPS: ReadonlySet<string> = new Set<LineFilterOp>(['|=', '!=', '|~', '!~']);
const MATCH_OPS: ReadonlySet<string> = new Set<MatchType>(['=', '!=', '=~', '!~']);
const COMPARISON_OPS: ReadonlySet<string> = new Set(['==', '>', '>=', '<', '<=']);
const BINARY_OPS = new Set(['+', '-', '*', '/', '%', '^', '==', '!=', '>', '>=', '<', '<=', 'or', 'and', 'unless']);

/** Parses a LogQL log or metric query. Throws `LogqlParseError`. */
export function parseLogql(query: string): LogqlExpr {
  return new Parser(query).parseTop();
}

/** Parses a LogQL log query (`{…} | …`); a metric query is an error. */
export function parseLogQuery(query: string): LogQuery {
  const e = parseLogql(query);
  if (e.kind !== 'LogQuery') {
    throw new LogqlParseError(query, e.span.start, 'expected a log query, found a metric query');
  }
  return e;
}

/** Parses a LogQL metric query (`count_over_time(…)`, `sum by (…) (…)`); a log query is an error. */
export function parseMetricQuery(query: string): MetricExpr {
  const e = parseLogql(query);
  if (e.kind === 'LogQuery') {
    throw new LogqlParseError(query, e.span.start, 'expected a metric query, found a log query');
  }
  return e;
}

class Parser {
  readonly #query: string;
  readonly #lex: Lexer;
  #prevEnd = 0;
  #depth = 0;

  constructor(query: string) {
    this.#query = query;
    this.#lex = new Lexer(query);
  }

  parseTop(): LogqlExpr {
    if (this.#query.length > MAX_QUERY_LENGTH) {
      this.#fail(0, `input size too long (${this.#query.length} > ${MAX_QUERY_LENGTH})`);
    }
    const e = this.#expr();
    const t = this.#peek();
    if (t.kind === 'EOF') return e;
    const op = t.kind === 'IDENT' ? t.text.toLowerCase() : t.kind === 'PUNCT' ? t.text : '';
    if (BINARY_OPS.has(op)) {
      this.#fail(t.start, `syntax error: unexpected ${this.#describe(t)}: binary operations are not supported`);
    }
    this.#unexpected(t);
  }

  // Tokens.

  #peek(): Token {
    return this.#lex.peek();
  }

  #next(): Token {
    const t = this.#lex.next();
    this.#prevEnd = t.end;
    return t;
  }

  #isPunct(t: Token, text: string): boolean {
    return t.kind === 'PUNCT' && t.text === text;
  }

  #isWord(t: Token, word: string): boolean {
    return t.kind === 'IDENT' && t.text.toLowerCase() === word;
  }

  #expectPunct(text: string, expected: readonly string[] = [text]): Token {
    const t = this.#peek();
    if (!this.#isPunct(t, text)) this.#unexpected(t, expected);
    return this.#next();
  }

  #expectKind(kind: Token['kind'], expected: readonly string[]): Token {
    const t = this.#peek();
    if (t.kind !== kind) this.#unexpected(t, expected);
    return this.#next();
  }

  #fail(pos: number, detail: string): never {
    throw new LogqlParseError(this.#query, pos, detail);
  }

  /** Loki's yacc wording: the expected tokens are listed only when there are at most four. */
  #unexpected(t: Token, expected: readonly string[] = []): never {
    let msg = `syntax error: unexpected ${this.#describe(t)}`;
    if (expected.length > 0 && expected.length <= 4) msg += `, expecting ${expected.join(' or ')}`;
    this.#fail(t.start, msg);
  }

  #describe(t: Token): string {
    switch (t.kind) {
      case 'EOF':
        return '$end';
      case 'IDENT': {
        const lower = t.text.toLowerCase();
        if (LOKI_KEYWORDS.has(lower)) return lower;
        if (this.#isFunctionCall(t)) return lower.toUpperCase();
        return 'IDENTIFIER';
      }
      case 'FLAG':
        return 'FUNCTION_FLAG';
      case 'PUNCT':
        return t.text;
      default:
        return t.kind;
    }
  }

  /** A known function name directly followed by `(` (or `by (…)`), as Loki's lexer decides. */
  #isFunctionCall(t: Token): boolean {
    if (t !== this.#peek() || t.kind !== 'IDENT') return false;
    const name = t.text.toLowerCase();
    if (!RANGE_OPS.has(name) && !UNWRAP_RANGE_OPS.has(name) && !VECTOR_OPS.has(name) && !UNSUPPORTED_FUNCTIONS.has(name)) {
      return false;
    }
    const second = this.#lex.peekSecond();
    if (this.#isPunct(second, '(')) return true;
    return (this.#isWord(second, 'by') || this.#isWord(second, 'without')) && this.#isPunct(this.#lex.peekThird(), '(');
  }

  #enter(t: Token): void {
    if (++this.#depth > MAX_NESTING_DEPTH) {
      this.#fail(t.start, `query nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`);
    }
  }

  #leave(): void {
    this.#depth--;
  }

  // Expressions.

  #expr(): LogqlExpr {
    const t = this.#peek();
    if (this.#isPunct(t, '{')) return this.#logQuery();
    if (this.#isPunct(t, '(')) {
      this.#enter(t);
      this.#next();
      const e = this.#expr();
      this.#expectPunct(')');
      this.#leave();
      return e;
    }
    if (t.kind === 'IDENT' && this.#isFunctionCall(t)) {
      const name = t.text.toLowerCase();
      if (RANGE_OPS.has(name)) return this.#rangeAggregation();
      if (VECTOR_OPS.has(name)) return this.#vectorAggregation();
      if (UNWRAP_RANGE_OPS.has(name)) this.#fail(t.start, `${name} needs | unwrap, which is not supported`);
      this.#fail(t.start, `${name} is not supported`);
    }
    this.#unexpected(t);
  }

  #logQuery(): LogQuery {
    const selector = this.#selector();
    const stages = this.#pipeline();
    return { kind: 'LogQuery', selector, stages, span: { start: selector.span.start, end: this.#prevEnd } };
  }

  #selector(): StreamSelector {
    const open = this.#expectPunct('{');
    const matchers: LabelMatcherNode[] = [];
    if (this.#isPunct(this.#peek(), '}')) {
      this.#next();
      this.#fail(open.start, ERR_EMPTY_COMPATIBLE_SELECTOR);
    }
    for (;;) {
      matchers.push(this.#matcher(['IDENTIFIER']));
      const t = this.#peek();
      if (this.#isPunct(t, ',')) {
        this.#next();
        continue;
      }
      if (this.#isPunct(t, '}')) break;
      this.#unexpected(t, ['}', ',']);
    }
    this.#next();
    if (!matchers.some((m) => !m.matcher.matchesEmpty())) this.#fail(open.start, ERR_EMPTY_COMPATIBLE_SELECTOR);
    return { kind: 'StreamSelector', matchers, span: { start: open.start, end: this.#prevEnd } };
  }

  #matcher(expectedName: readonly string[]): LabelMatcherNode {
    const name = this.#expectKind('IDENT', expectedName);
    const op = this.#peek();
    if (op.kind !== 'PUNCT' || !MATCH_OPS.has(op.text)) this.#unexpected(op, ['=', '!=', '=~', '!~']);
    this.#next();
    const value = this.#expectKind('STRING', ['STRING']);
    const matcher = this.#newMatcher(op.text as MatchType, name.text, value);
    return { kind: 'LabelMatcher', matcher, span: { start: name.start, end: value.end } };
  }

  #newMatcher(type: MatchType, name: string, value: Token): Matcher {
    try {
      return new Matcher(type, name, value.value!);
    } catch (err) {
      this.#fail(value.start, regexMessage(err));
    }
  }

  // Pipeline stages.

  #pipeline(): PipelineStage[] {
    const stages: PipelineStage[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.kind !== 'PUNCT') return stages;
      if (LINE_FILTER_OPS.has(t.text)) stages.push(this.#lineFilter());
      else if (t.text === '|>' || t.text === '!>') this.#fail(t.start, `pattern line filters (${t.text}) are not supported`);
      else if (t.text === '|') stages.push(this.#pipeStage());
      else return stages;
    }
  }

  #lineFilter(): PipelineStage {
    const op = this.#next();
    const value = this.#peek();
    if (this.#isWord(value, 'ip') && this.#isPunct(this.#lex.peekSecond(), '(')) {
      this.#fail(value.start, 'ip() line filters are not supported');
    }
    this.#expectKind('STRING', ['STRING']);
    if (op.text === '|~' || op.text === '!~') {
      try {
        compileUnanchoredRe2(value.value!);
      } catch (err) {
        this.#fail(value.start, regexMessage(err));
      }
    }
    if (this.#isWord(this.#peek(), 'or')) this.#fail(this.#peek().start, 'line filter alternatives (or) are not supported');
    return { kind: 'LineFilter', op: op.text as LineFilterOp, value: value.value!, span: { start: op.start, end: value.end } };
  }

  #pipeStage(): PipelineStage {
    const pipe = this.#next();
    const t = this.#peek();
    if (t.kind === 'IDENT') {
      switch (t.text.toLowerCase()) {
        case 'json':
          this.#next();
          return { kind: 'JsonParser', extractions: this.#extractions('json'), span: this.#spanFrom(pipe) };
        case 'logfmt':
          return this.#logfmt(pipe);
        case 'regexp':
          return this.#regexp(pipe);
        case 'line_format':
          return this.#lineFormat(pipe);
        case 'decolorize':
          this.#next();
          return { kind: 'Decolorize', span: this.#spanFrom(pipe) };
        case 'drop':
        case 'keep': {
          const kind = t.text.toLowerCase() === 'drop' ? 'Drop' : 'Keep';
          this.#next();
          const labels = this.#namedLabels();
          return { kind, labels, span: this.#spanFrom(pipe) };
        }
        case 'unpack':
        case 'pattern':
        case 'label_format':
        case 'unwrap':
          this.#fail(t.start, `${t.text.toLowerCase()} is not supported`);
      }
    }
    if (t.kind === 'IDENT' || this.#isPunct(t, '(')) {
      const filter = this.#labelFilterOr();
      return { kind: 'LabelFilter', filter, span: this.#spanFrom(pipe) };
    }
    this.#unexpected(t);
  }

  #spanFrom(t: Token): Span {
    return { start: t.start, end: this.#prevEnd };
  }

  #extractions(parser: 'json' | 'logfmt'): LabelExtraction[] {
    const out: LabelExtraction[] = [];
    if (this.#peek().kind !== 'IDENT') return out;
    for (;;) {
      const name = this.#expectKind('IDENT', ['IDENTIFIER']);
      let expression = name.text;
      let exprTok = name;
      if (this.#isPunct(this.#peek(), '=')) {
        this.#next();
        exprTok = this.#expectKind('STRING', ['STRING']);
        expression = exprTok.value!;
      }
      let path: (string | number)[];
      if (parser === 'json') {
        try {
          path = parseJsonPath(expression);
        } catch (err) {
          if (!(err instanceof JsonPathError)) throw err;
          this.#fail(exprTok.start, `cannot parse expression [${expression}]: ${err.message}`);
        }
      } else {
        if (expression === '') this.#fail(exprTok.start, 'cannot parse expression []: empty key');
        path = [expression];
      }
      out.push({ label: name.text, expression, path, span: { start: name.start, end: this.#prevEnd } });
      if (!this.#isPunct(this.#peek(), ',')) return out;
      this.#next();
    }
  }

  #logfmt(pipe: Token): PipelineStage {
    this.#next();
    let strict = false;
    let keepEmpty = false;
    while (this.#peek().kind === 'FLAG') {
      const f = this.#next();
      if (f.text === '--strict') strict = true;
      else if (f.text === '--keep-empty') keepEmpty = true;
      else this.#fail(f.start, `invalid logfmt flag ${f.text}, expecting --strict or --keep-empty`);
    }
    const extractions = this.#extractions('logfmt');
    return { kind: 'LogfmtParser', strict, keepEmpty, extractions, span: this.#spanFrom(pipe) };
  }

  #regexp(pipe: Token): PipelineStage {
    this.#next();
    const value = this.#expectKind('STRING', ['STRING']);
    const pattern = value.value!;
    const names = namedGroups(pattern);
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) this.#fail(value.start, `duplicate extracted label name '${n}'`);
      seen.add(n);
    }
    try {
      compileUnanchoredRe2(pattern);
    } catch (err) {
      this.#fail(value.start, regexMessage(err));
    }
    if (names.length === 0) this.#fail(value.start, 'at least one named capture must be supplied');
    return { kind: 'RegexpParser', pattern, names, span: this.#spanFrom(pipe) };
  }

  #lineFormat(pipe: Token): PipelineStage {
    this.#next();
    const value = this.#expectKind('STRING', ['STRING']);
    try {
      const parts = parseTemplate(value.value!);
      return { kind: 'LineFormat', template: value.value!, parts, span: this.#spanFrom(pipe) };
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      this.#fail(value.start, `invalid line template: ${err.message}`);
    }
  }

  #namedLabels(): NamedLabel[] {
    const out: NamedLabel[] = [];
    for (;;) {
      const name = this.#expectKind('IDENT', ['IDENTIFIER']);
      const op = this.#peek();
      if (op.kind === 'PUNCT' && MATCH_OPS.has(op.text)) {
        this.#next();
        const value = this.#expectKind('STRING', ['STRING']);
        const matcher = this.#newMatcher(op.text as MatchType, name.text, value);
        out.push({ name: name.text, matcher, span: { start: name.start, end: value.end } });
      } else {
        out.push({ name: name.text, span: { start: name.start, end: name.end } });
      }
      if (!this.#isPunct(this.#peek(), ',')) return out;
      this.#next();
    }
  }

  // Label filters: `or` binds loosest; `and`, a comma and plain juxtaposition all mean `and`.

  #labelFilterOr(): LabelFilterExpr {
    let left = this.#labelFilterAnd();
    while (this.#isWord(this.#peek(), 'or')) {
      this.#next();
      const right = this.#labelFilterAnd();
      left = { kind: 'Or', left, right, span: { start: left.span.start, end: right.span.end } };
    }
    return left;
  }

  #labelFilterAnd(): LabelFilterExpr {
    let left = this.#labelFilterPrimary();
    for (;;) {
      const t = this.#peek();
      if (this.#isWord(t, 'and') || this.#isPunct(t, ',')) {
        this.#next();
      } else if (!this.#isPunct(t, '(') && !(t.kind === 'IDENT' && !this.#isWord(t, 'or'))) {
        return left;
      }
      const right = this.#labelFilterPrimary();
      left = { kind: 'And', left, right, span: { start: left.span.start, end: right.span.end } };
    }
  }

  #labelFilterPrimary(): LabelFilterExpr {
    const t = this.#peek();
    if (this.#isPunct(t, '(')) {
      this.#enter(t);
      this.#next();
      const inner = this.#labelFilterOr();
      this.#expectPunct(')', [')', 'and', 'or']);
      this.#leave();
      return inner;
    }
    if (t.kind !== 'IDENT' || this.#isWord(t, 'and') || this.#isWord(t, 'or')) this.#unexpected(t, ['IDENTIFIER', '(']);
    const name = this.#next();
    const op = this.#peek();
    const isMatch = op.kind === 'PUNCT' && MATCH_OPS.has(op.text);
    const isCompare = op.kind === 'PUNCT' && COMPARISON_OPS.has(op.text);
    if (!isMatch && !isCompare) this.#unexpected(op);
    this.#next();
    const value = this.#peek();
    const span = (): Span => ({ start: name.start, end: this.#prevEnd });
    if (value.kind === 'STRING' && isMatch) {
      this.#next();
      return { kind: 'StringFilter', matcher: this.#newMatcher(op.text as MatchType, name.text, value), span: span() };
    }
    if (this.#isWord(value, 'ip') && this.#isPunct(this.#lex.peekSecond(), '(')) {
      this.#fail(value.start, 'ip() label filters are not supported');
    }
    if (op.text === '=~' || op.text === '!~') this.#unexpected(value, ['STRING']);
    const cmp = (op.text === '=' ? '==' : op.text) as ComparisonOp;
    let sign = 1;
    let v = value;
    if (this.#isPunct(value, '-') || this.#isPunct(value, '+')) {
      sign = value.text === '-' ? -1 : 1;
      this.#next();
      v = this.#peek();
      if (v.kind !== 'NUMBER' && v.kind !== 'DURATION') this.#unexpected(v, ['NUMBER', 'DURATION']);
    }
    switch (v.kind) {
      case 'NUMBER':
        this.#next();
        if (!Number.isFinite(v.num!)) this.#fail(v.start, `unable to parse literal as a float: ${v.text}: value out of range`);
        return { kind: 'NumberFilter', name: name.text, op: cmp, value: sign * v.num!, span: span() };
      case 'DURATION':
        this.#next();
        return { kind: 'DurationFilter', name: name.text, op: cmp, valueNs: BigInt(sign) * v.ns!, span: span() };
      case 'BYTES':
        this.#next();
        return { kind: 'BytesFilter', name: name.text, op: cmp, value: v.num!, span: span() };
      default:
        this.#unexpected(v, isMatch ? ['STRING', 'NUMBER', 'DURATION', 'BYTES'] : ['NUMBER', 'DURATION', 'BYTES']);
    }
  }

  // Metric queries.

  #rangeAggregation(): RangeAggregation {
    const fn = this.#next();
    const op = fn.text.toLowerCase() as RangeAggregationOp;
    this.#enter(fn);
    this.#expectPunct('(');
    const first = this.#peek();
    if (first.kind === 'NUMBER' && this.#isPunct(this.#lex.peekSecond(), ',')) {
      this.#fail(first.start, `parameter ${first.text} not supported for operation ${op}`);
    }
    const r = this.#logRange();
    this.#expectPunct(')');
    this.#leave();
    const after = this.#peek();
    if (this.#isWord(after, 'by') || this.#isWord(after, 'without')) {
      this.#fail(after.start, `grouping not allowed for ${op} aggregation`);
    }
    return { kind: 'RangeAggregation', op, query: r.query, rangeNs: r.rangeNs, offsetNs: r.offsetNs, span: this.#spanFrom(fn) };
  }

  #logRange(): { query: LogQuery; rangeNs: bigint; offsetNs: bigint } {
    const t = this.#peek();
    if (!this.#isPunct(t, '(')) {
      const body = this.#logRangeBody(false);
      return { query: body.query, ...body.range! };
    }
    // `( logRange )`, or `( logQuery ) RANGE`.
    this.#enter(t);
    this.#next();
    if (this.#isPunct(this.#peek(), '(')) {
      const r = this.#logRange();
      this.#expectPunct(')');
      this.#leave();
      return r;
    }
    const body = this.#logRangeBody(true);
    this.#expectPunct(')', body.range ? [')'] : ['RANGE', ')']);
    this.#leave();
    return { query: body.query, ...(body.range ?? this.#rangeAndOffset()) };
  }

  /** `selector stage* RANGE offset?` or `selector RANGE offset? stage*` (Loki takes either, not both). */
  #logRangeBody(rangeOptional: boolean): { query: LogQuery; range?: { rangeNs: bigint; offsetNs: bigint } } {
    const selector = this.#selector();
    let stages = this.#pipeline();
    let end = this.#prevEnd;
    const query = (): LogQuery => ({ kind: 'LogQuery', selector, stages, span: { start: selector.span.start, end } });
    if (this.#peek().kind !== 'RANGE') {
      if (rangeOptional) return { query: query() };
      this.#unexpected(this.#peek(), ['RANGE']);
    }
    const range = this.#rangeAndOffset();
    if (stages.length === 0) {
      stages = this.#pipeline();
      if (stages.length > 0) end = this.#prevEnd;
    } else {
      const next = this.#peek();
      if (next.kind === 'PUNCT' && (LINE_FILTER_OPS.has(next.text) || next.text === '|')) this.#unexpected(next, [')']);
    }
    return { query: query(), range };
  }

  #rangeAndOffset(): { rangeNs: bigint; offsetNs: bigint } {
    const range = this.#expectKind('RANGE', ['RANGE']);
    if (range.ns! <= 0n) this.#fail(range.start, 'range must be greater than 0');
    let offsetNs = 0n;
    if (this.#isWord(this.#peek(), 'offset')) {
      this.#next();
      let sign = 1n;
      if (this.#isPunct(this.#peek(), '-')) {
        this.#next();
        sign = -1n;
      }
      const d = this.#expectKind('DURATION', ['DURATION']);
      offsetNs = sign * d.ns!;
    }
    return { rangeNs: range.ns!, offsetNs };
  }

  #vectorAggregation(): VectorAggregation {
    const fn = this.#next();
    const op = fn.text.toLowerCase() as VectorAggregationOp;
    this.#enter(fn);
    let grouping = this.#optionalGrouping();
    const open = this.#expectPunct('(');
    let param: number | undefined;
    const first = this.#peek();
    if (first.kind === 'NUMBER' && this.#isPunct(this.#lex.peekSecond(), ',')) {
      this.#next();
      this.#next();
      if (op !== 'topk' && op !== 'bottomk') this.#fail(first.start, `unsupported parameter for operation ${op}(${first.text},`);
      if (!/^\d+$/.test(first.text)) this.#fail(first.start, `invalid parameter ${op}(${first.text},`);
      param = Number(first.text);
      if (!Number.isSafeInteger(param)) this.#fail(first.start, `invalid parameter ${op}(${first.text},`);
      if (param <= 0) this.#fail(first.start, `invalid parameter (must be greater than 0) ${op}(${first.text},`);
    } else if (op === 'topk' || op === 'bottomk') {
      if (first.kind === 'IDENT' && !this.#isFunctionCall(first)) this.#unexpected(first, ['NUMBER']);
      this.#fail(open.start, `parameter required for operation ${op}`);
    }
    const inner = this.#expr();
    if (inner.kind === 'LogQuery') this.#unexpected(this.#peek());
    this.#expectPunct(')');
    this.#leave();
    if (grouping === undefined) grouping = this.#optionalGrouping();
    return {
      kind: 'VectorAggregation',
      op,
      ...(param !== undefined ? { param } : {}),
      ...(grouping !== undefined ? { grouping } : {}),
      expr: inner,
      span: this.#spanFrom(fn),
    };
  }

  #optionalGrouping(): Grouping | undefined {
    const t = this.#peek();
    const without = this.#isWord(t, 'without');
    if (!without && !this.#isWord(t, 'by')) return undefined;
    this.#next();
    this.#expectPunct('(');
    const labels: string[] = [];
    if (!this.#isPunct(this.#peek(), ')')) {
      for (;;) {
        const t = this.#peek();
        if (t.kind !== 'IDENT' || this.#isFunctionCall(t)) this.#unexpected(t, ['IDENTIFIER', ')']);
        labels.push(this.#next().text);
        if (!this.#isPunct(this.#peek(), ',')) break;
        this.#next();
      }
    }
    this.#expectPunct(')', [',', ')']);
    return { without, labels };
  }
}

function regexMessage(err: unknown): string {
  if (err instanceof RegexSyntaxError) {
    if (err.cause instanceof Re2SyntaxError) return err.cause.message;
    return `error parsing regexp: ${err.reason}: \`${err.pattern}\``;
  }
  throw err;
}
