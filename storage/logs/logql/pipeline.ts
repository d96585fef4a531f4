/**
 * The residual pipeline: the stages of a log query a store does not run, evaluated on each record
 * it returns. Semantics follow Loki's (pkg/logql/log), because Grafana users rely on them:
 *
 * - Labels start as the record's stream labels (`namespace`, `pod`, `container`, `node`,
 *   `stream`). Parsers add labels; a parsed name equal to a stream label gets the suffix
 *   `_extracted`; when a line yields the same name twice (in one parser or across parsers),
 *   the first value stays. Explicit extractions (`| json a="x"`) always set their label.
 * - A parse failure does not drop the line: it sets `__error__` (`JSONParserErr`,
 *   `LogfmtParserErr`) and `__error_details__`; `| __error__=""` filters such lines, `| drop
 *   __error__` clears the error.
 * - String label filters read a missing label as ""; numeric, duration and bytes filters drop a
 *   line that lacks the label, and keep one whose value does not convert, marking it with
 *   `__error__="LabelFilterErr"` unless an error is already there.
 * - The record's level (what Vigil detected at ingest, like Loki's `detected_level`) is readable
 *   as `level` by filters and `line_format`, but is not one of the output labels: a label that
 *   varies per line would split each container's stream in Grafana and break "show context". A
 *   parser that extracts `level` replaces it, and that one is an output label, as in Loki.
 */
import type { Matcher } from '../../../model/matcher.js';
import { LOG_STREAM_LABELS } from '../../../model/logs.js';
import type { StoredLogRecord } from '../interface.js';
import type { ComparisonOp, LabelFilterExpr, NamedLabel, PipelineStage } from './ast.js';
import { extractJsonPaths, flattenJson, sanitizeLabelName } from './json.js';
import { compileLineFilter, compileUnanchoredRe2 } from './line-filter.js';
import { LogfmtDecoder } from './logfmt.js';
import { renderTemplate } from './template.js';
import { parseBytes, parseGoDuration, parseNumber } from './values.js';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
/** The values of `__error__`, as Loki names them. */
export const PIPELINE_ERRORS = {
  json: 'JSONParserErr',
  logfmt: 'LogfmtParserErr',
  labelFilter: 'LabelFilterErr',
} as const;

const DUPLICATE_SUFFIX = '_extracted';
const STREAM_LABELS: ReadonlySet<string> = new Set(LOG_STREAM_LABELS);

export interface PipelineResult {
  /** The line after `line_format` / `decolorize`, else the record's message. */
  readonly line: string;
  /** Stream labels and extracted labels, with `__error__` / `__error_details__` when set. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The `level` the pipeline ended with: an extracted one, else the record's; undefined when a
   * `drop`/`keep` removed it. For grouping log volume by level.
   */
  readonly level: string | undefined;
}

/** The labels of one line while it goes through the pipeline. */
class LineLabels {
  readonly labels = new Map<string, string>();
  /** Names a parser has set on this line: the first value stays. */
  readonly extracted = new Set<string>();
  /** The record's level while no parser replaced it and no stage removed it. */
  recordLevel: string | undefined;
  error: string | undefined;
  errorDetails: string | undefined;

  constructor(r: StoredLogRecord) {
    this.labels.set('namespace', r.namespace);
    this.labels.set('pod', r.pod);
    this.labels.set('container', r.container);
    this.labels.set('node', r.node);
    this.labels.set('stream', r.stream);
    this.recordLevel = r.level;
  }

  /** A label as filters and templates read it, `__error__` included; undefined when absent. */
  get(name: string): string | undefined {
    if (name === ERROR_LABEL) return this.error;
    if (name === ERROR_DETAILS_LABEL) return this.errorDetails;
    return this.labels.get(name) ?? (name === 'level' ? this.recordLevel : undefined);
  }

  /** A plain label (what typed filters read: `__error__` is not one). */
  getPlain(name: string): string | undefined {
    if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL) return undefined;
    return this.get(name);
  }

  /** Sets a parsed label: suffixed when it names a stream label, ignored when already parsed. */
  setParsed(name: string, value: string, always = false): void {
    if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL || name === '') return;
    const key = STREAM_LABELS.has(name) ? name + DUPLICATE_SUFFIX : name;
    if (!always && this.extracted.has(key)) return;
    this.extracted.add(key);
    this.labels.set(key, value);
    if (key === 'level') this.recordLevel = undefined;
  }

  setError(error: string, details: string | undefined): void {
    this.error = error;
    if (details !== undefined) this.errorDetails = details;
  }

  delete(name: string): void {
    if (name === ERROR_LABEL) this.error = undefined;
    else if (name === ERROR_DETAILS_LABEL) this.errorDetails = undefined;
    else {
      this.labels.delete(name);
      if (name === 'level') this.recordLevel = undefined;
    }
  }

  /** Names of the labels drop/keep act on (not the error labels). */
  names(): string[] {
    const out = [...this.labels.keys()];
    if (this.recordLevel !== undefined && !this.labels.has('level')) out.push('level');
    return out;
  }

  result(line: string): PipelineResult {
    const labels: Record<string, string> = Object.fromEntries(this.labels);
    if (this.error !== undefined) labels[ERROR_LABEL] = this.error;
    if (this.errorDetails !== undefined) labels[ERROR_DETAILS_LABEL] = this.errorDetails;
    return { line, labels, level: this.labels.get('level') ?? this.recordLevel };
  }
}

/** One compiled stage: returns the (possibly new) line, or undefined to drop the record. */
type Step = (line: string, labels: LineLabels) => string | undefined;

export class Pipeline {
  readonly #steps: readonly Step[];
  /** The stages this pipeline runs (those the store could not). */
  readonly stages: readonly PipelineStage[];

  constructor(stages: readonly PipelineStage[]) {
    this.stages = stages;
    this.#steps = stages.map(compileStage);
  }

  /** True when the pipeline changes nothing: every record passes with its stream labels. */
  get isEmpty(): boolean {
    return this.#steps.length === 0;
  }

  /** The record's line and labels after the pipeline, or undefined when a stage dropped it. */
  process(record: StoredLogRecord): PipelineResult | undefined {
    const labels = new LineLabels(record);
    let line: string | undefined = record.message;
    for (const step of this.#steps) {
      line = step(line, labels);
      if (line === undefined) return undefined;
    }
    return labels.result(line);
  }
}

function compileStage(stage: PipelineStage): Step {
  switch (stage.kind) {
    case 'LineFilter': {
      const test = compileLineFilter(stage);
      return (line) => (test(line) ? line : undefined);
    }
    case 'JsonParser':
      return stage.extractions.length === 0 ? jsonAll() : jsonPaths(stage.extractions.map((e) => [e.label, e.path] as const));
    case 'LogfmtParser':
      return logfmt(stage.strict, stage.keepEmpty, stage.extractions.map((e) => [e.label, String(e.path[0])] as const));
    case 'RegexpParser':
      return regexpParser(stage.pattern);
    case 'LabelFilter': {
      const test = compileLabelFilter(stage.filter);
      return (line, labels) => (test(labels) ? line : undefined);
    }
    case 'LineFormat': {
      const parts = stage.parts;
      return (line, labels) => renderTemplate(parts, line, (name) => labels.get(name));
    }
    case 'Drop':
      return dropLabels(stage.labels);
    case 'Keep':
      return keepLabels(stage.labels);
    case 'Decolorize':
      return (line) => line.replace(ANSI, '');
  }
}

// Loki's pattern (from acarl005/stripansi).
const ANSI =
  /[\u001B\u009B][[\]()#;?]*(?:(?:(?:[a-zA-Z\d]*(?:;[a-zA-Z\d]*)*)?\u0007)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PRZcf-ntqry=><~]))/g;

function jsonAll(): Step {
  return (line, labels) => {
    const error = flattenJson(line, (name, value) => labels.setParsed(name, value));
    if (error !== undefined) labels.setError(PIPELINE_ERRORS.json, error);
    return line;
  };
}

function jsonPaths(extractions: ReadonlyArray<readonly [string, readonly (string | number)[]]>): Step {
  const paths = extractions.map(([, p]) => p);
  return (line, labels) => {
    // Loki leaves an empty line alone, and only marks a line that cannot start a JSON value.
    if (line === '') return line;
    if (line[0] !== '{' && line[0] !== '[' && line[0] !== '"') {
      labels.setError(PIPELINE_ERRORS.json, 'expecting a JSON object or array');
      return line;
    }
    const { values, error } = extractJsonPaths(line, paths);
    extractions.forEach(([label], i) => {
      const v = values[i];
      // Every requested label exists, empty when the document lacks it.
      if (v !== undefined) labels.setParsed(label, v, true);
      else if (labels.get(label) === undefined) labels.setParsed(label, '', true);
    });
    if (error !== undefined) labels.setError(PIPELINE_ERRORS.json, error);
    return line;
  };
}

function logfmt(strict: boolean, keepEmpty: boolean, extractions: ReadonlyArray<readonly [string, string]>): Step {
  const dec = new LogfmtDecoder();
  // For `| logfmt a="key"`: which labels each key feeds.
  const wanted = new Map<string, string[]>();
  for (const [label, key] of extractions) wanted.set(key, [...(wanted.get(key) ?? []), label]);
  return (line, labels) => {
    dec.reset(line);
    const found = new Set<string>();
    while (!dec.eol) {
      if (!dec.next()) {
        if (strict) break;
        continue;
      }
      if (dec.key === undefined) continue;
      const value = dec.value ?? '';
      if (wanted.size > 0) {
        const targets = wanted.get(dec.key) ?? wanted.get(sanitizeLabelName(dec.key)) ?? [];
        for (const label of targets) {
          if (found.has(label)) continue;
          found.add(label);
          labels.setParsed(label, value.includes('\ufffd') ? '' : value, true);
        }
        continue;
      }
      if (!keepEmpty && value === '') continue;
      labels.setParsed(sanitizeLabelName(dec.key), value.includes('\ufffd') ? value.replaceAll('\ufffd', ' ') : value);
    }
    // Every requested label exists, empty when the line lacks its key.
    for (const [label] of extractions) {
      if (!found.has(label) && labels.get(label) === undefined) labels.setParsed(label, '', true);
    }
    if (strict && dec.error !== undefined) labels.setError(PIPELINE_ERRORS.logfmt, dec.error);
    return line;
  };
}

function regexpParser(pattern: string): Step {
  const re = compileUnanchoredRe2(pattern);
  return (line, labels) => {
    const m = re.exec(line);
    if (m?.groups) for (const [name, value] of Object.entries(m.groups)) labels.setParsed(name, value ?? '');
    return line;
  };
}

function compare(op: ComparisonOp, a: number | bigint, b: number | bigint): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/**
 * A typed comparison: a missing label fails; a value that does not convert passes and marks the
 * line with `LabelFilterErr` (keeping an earlier error, which says more).
 */
function typedFilter<T extends number | bigint>(
  name: string,
  op: ComparisonOp,
  want: T,
  convert: (s: string) => T | undefined,
  what: string,
): (labels: LineLabels) => boolean {
  return (labels) => {
    const raw = labels.getPlain(name);
    if (raw === undefined) return false;
    const v = convert(raw);
    if (v === undefined) {
      if (labels.error === undefined) {
        labels.setError(PIPELINE_ERRORS.labelFilter, `cannot parse ${JSON.stringify(raw)} as ${what}`);
      }
      return true;
    }
    return compare(op, v, want);
  };
}

function compileLabelFilter(f: LabelFilterExpr): (labels: LineLabels) => boolean {
  switch (f.kind) {
    case 'And': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      // Both sides run, as in Loki: the right one may mark a conversion error.
      return (labels) => {
        const a = l(labels);
        const b = r(labels);
        return a && b;
      };
    }
    case 'Or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (labels) => l(labels) || r(labels);
    }
    case 'StringFilter': {
      const m: Matcher = f.matcher;
      return (labels) => m.matches(labels.get(m.name) ?? '');
    }
    case 'NumberFilter':
      return typedFilter(f.name, f.op, f.value, parseNumber, 'a number');
    case 'DurationFilter':
      return typedFilter(f.name, f.op, f.valueNs, parseGoDuration, 'a duration');
    case 'BytesFilter':
      return typedFilter(f.name, f.op, f.value, parseBytes, 'a byte size');
  }
}

function dropLabels(named: readonly NamedLabel[]): Step {
  return (line, labels) => {
    for (const n of named) {
      if (n.matcher === undefined) labels.delete(n.name);
      else if (n.matcher.matches(labels.get(n.name) ?? '')) labels.delete(n.name);
    }
    return line;
  };
}

function keepLabels(named: readonly NamedLabel[]): Step {
  return (line, labels) => {
    for (const name of labels.names()) {
      const keep = named.some((n) => n.name === name && (n.matcher === undefined || n.matcher.matches(labels.get(name)!)));
      if (!keep) labels.delete(name);
    }
    return line;
  };
}
