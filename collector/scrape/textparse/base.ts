/**
 * State and behaviour common to the text 0.0.4 and OpenMetrics parsers: the entry getters, lazy
 * label construction, the duplicate-label check and error construction.
 *
 * Positions are kept as offsets into the decoded input (`offsets`), as Prometheus does with byte
 * offsets, so a line is scanned once and strings are cut only for what the caller reads.
 */

import { METRIC_NAME } from '../../../model/labels.js';
import type { Label, Labels } from '../../../model/labels.js';
import { TextParseError, goQuote } from './errors.js';
import { normalizeFloatLabelValue } from './float.js';
import { hashText, textKeyCode, textMatches, writeTextKey } from './serieskey.js';
import { tokenName, C_BACKSLASH, C_DQUOTE, C_LF, C_NUL } from './tokens.js';
import type { EntryKind, Exemplar, ExpositionFormat, MetricType, TextParser } from './types.js';

/** Undoes label-value escaping (`\\`, `\"`, `\n`); other backslashes stay, as in Prometheus. */
export function unescapeLabel(raw: string): string {
  let k = raw.indexOf('\\');
  if (k < 0) return raw;
  let out = '';
  let last = 0;
  while (k >= 0 && k < raw.length - 1) {
    const d = raw.charCodeAt(k + 1);
    const rep = d === 0x22 ? '"' : d === 0x5c ? '\\' : d === 0x6e ? '\n' : null;
    if (rep === null) {
      k = raw.indexOf('\\', k + 1);
      continue;
    }
    out += raw.slice(last, k) + rep;
    last = k + 2;
    k = raw.indexOf('\\', last);
  }
  return out + raw.slice(last);
}

/** Text 0.0.4 HELP escaping knows only `\\` and `\n`. */
export function unescapeHelp(raw: string): string {
  let k = raw.indexOf('\\');
  if (k < 0) return raw;
  let out = '';
  let last = 0;
  while (k >= 0 && k < raw.length - 1) {
    const d = raw.charCodeAt(k + 1);
    const rep = d === 0x5c ? '\\' : d === 0x6e ? '\n' : null;
    if (rep === null) {
      k = raw.indexOf('\\', k + 1);
      continue;
    }
    out += raw.slice(last, k) + rep;
    last = k + 2;
    k = raw.indexOf('\\', last);
  }
  return out + raw.slice(last);
}

function compareLabelNames(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export abstract class BaseParser implements TextParser {
  /**
   * Whether sample lines try the fast scanner before the token-by-token path. Only tests turn it
   * off, to check that both paths agree.
   */
  static fastPath = true;

  abstract readonly format: ExpositionFormat;

  /**
   * The decoded input (text 0.0.4: with a `\n` appended, as Prometheus does, but only once the
   * token-by-token path needs it: appending copies the whole body, see `PromParser`).
   */
  protected s: string;
  protected n: number;
  /** Lexer position, start of the current token and lexer state. */
  protected i = 0;
  protected start = 0;
  protected state = 0;
  /** Start of the current line (Prometheus's `p.start`). */
  protected lineStart = 0;
  /** [nameStart, nameEnd, (lnStart, lnEnd, lvStart, lvEnd)*] of the current entry. */
  protected offsets: number[] = [];
  /**
   * The same layout filled by the byte scanner of text 0.0.4 (`PromParser.fastBytes`), valid for
   * the current entry when `foLen >= 0`; a typed array written in place costs far less per line
   * than resetting and pushing onto `offsets`. Names there are always unquoted legacy names.
   */
  protected fo = new Int32Array(64);
  protected foLen = -1;
  /** Whether a label value of the `fo` entry contains a backslash, so values need unescaping. */
  protected foEscaped = false;
  protected seriesEnd = 0;
  protected val = 0;
  protected ts = 0;
  protected hasTs = false;
  protected mtype: MetricType | undefined = undefined;
  /** Raw HELP/UNIT/TYPE text or comment of the current entry. */
  protected text = '';
  protected kind: EntryKind | null = null;
  /** Set when a quoted token contained a UTF-16 surrogate, so it must be checked for validity. */
  protected sawSurrogate = false;
  /**
   * Whether the input holds any UTF-16 surrogate (if not, no label value needs a UTF-8 check):
   * -1 until first asked, because the scan would force the deferred copy of the input.
   */
  private surrogates = -1;
  /** Cache for the fast path: first backslash at or after `bsFrom` (Infinity if none). */
  private bsFrom = -1;
  private nextBs = -1;
  private err: TextParseError | null = null;
  private done = false;
  private cachedLabels: Labels | null = null;
  /** `seriesHash()` of the current entry once asked for, else -1. */
  protected hashOf = -1;

  constructor(s: string) {
    this.s = s;
    this.n = s.length;
  }

  protected get hasSurrogates(): boolean {
    if (this.surrogates < 0) this.surrogates = /[\ud800-\udfff]/.test(this.s) ? 1 : 0;
    return this.surrogates === 1;
  }

  /**
   * Fast path for a label value starting at the quote `q0`: when the value has no escapes (and the
   * input no surrogates) its end is found with native `indexOf`. Returns the index after the
   * closing quote, or -1 to send the line through the full lexer. `limit`: the value must close
   * before it (OpenMetrics values may not span lines).
   */
  protected fastQuoted(q0: number, limit: number): number {
    if (this.hasSurrogates) return -1;
    const s = this.s;
    const from = q0 + 1;
    const q = s.indexOf('"', from);
    if (q < 0 || q > limit) return -1;
    if (from < this.bsFrom || from > this.nextBs) {
      const k = s.indexOf('\\', from);
      this.bsFrom = from;
      this.nextBs = k < 0 ? Infinity : k;
    }
    if (this.nextBs < q) return -1;
    return q + 1;
  }

  /** Parses the next entry, throwing `TextParseError`; does not record sticky state. */
  protected abstract advance(): EntryKind;

  next(): EntryKind {
    if (this.err !== null) throw this.err;
    if (this.done) return 'eof';
    this.cachedLabels = null;
    this.hashOf = -1;
    this.foLen = -1;
    this.resetEntry();
    try {
      const k = this.advance();
      this.kind = k;
      if (k === 'eof') {
        this.done = true;
        this.release();
      }
      return k;
    } catch (e) {
      this.kind = null;
      if (e instanceof TextParseError) {
        this.err = e;
        this.release();
      }
      throw e;
    }
  }

  /** Hook for per-entry state a subclass clears before each `next()`. */
  protected resetEntry(): void {}

  /** Hook run once `advance` will not be called again (end of input or a sticky error). */
  protected release(): void {}

  /**
   * `cut` for the `fo` offset at `slot` (metric name, a label name or a raw value): a subclass
   * may hand out the string of the same position of an earlier line when the text is equal.
   */
  protected cutLabel(slot: number, from: number, to: number): string {
    return this.cut(from, to);
  }

  /** The input's text from `from` to `to`; a subclass may cut it from elsewhere than `s`. */
  protected cut(from: number, to: number): string {
    return this.s.slice(from, to);
  }

  protected fail(reason: string, pos: number): never {
    throw new TextParseError(reason, this.s, pos);
  }

  /** Prometheus's `parseError`: names the offending token and echoes the line so far. */
  protected parseError(expected: string, got: number): never {
    const e = Math.min(this.n, this.i + 1);
    this.fail(
      `${expected}, got ${goQuote(this.s.slice(this.start, e))} (${goQuote(tokenName(got))}) while parsing: ${goQuote(this.s.slice(this.lineStart, e))}`,
      this.start,
    );
  }

  /** `… while parsing: "<line so far>"` suffix used for value and timestamp errors. */
  protected whileParsing(reason: string, pos: number): never {
    this.fail(`${reason} while parsing: ${goQuote(this.s.slice(this.lineStart, this.i))}`, pos);
  }

  /**
   * Scans a double-quoted token starting at the opening quote. Returns the index after the
   * closing quote, or -1 with `this.i` set to where the golex automaton would have stopped.
   * `allowLF`: raw newlines may appear inside; `skipNul`: NUL bytes are swallowed (the
   * lexer does so in label values and help text).
   */
  protected scanQuoted(from: number, allowLF: boolean, skipNul: boolean): number {
    const s = this.s;
    const n = this.n;
    let i = from + 1;
    for (;;) {
      if (i >= n) {
        this.i = n;
        return -1;
      }
      const c = s.charCodeAt(i);
      if (c === C_DQUOTE) return i + 1;
      if (c === C_BACKSLASH) {
        i++;
        if (skipNul) while (i < n && s.charCodeAt(i) === C_NUL) i++;
        if (i >= n) {
          this.i = n;
          return -1;
        }
        const d = s.charCodeAt(i);
        if (d === C_NUL || d === C_LF) {
          this.i = i;
          return -1;
        }
        if (d >= 0xd800 && d <= 0xdfff) this.sawSurrogate = true;
        i++;
        continue;
      }
      if (c === C_NUL) {
        if (skipNul) {
          i++;
          continue;
        }
        this.i = i;
        return -1;
      }
      if (c === C_LF && !allowLF) {
        this.i = i;
        return -1;
      }
      if (c >= 0xd800 && c <= 0xdfff) this.sawSurrogate = true;
      i++;
    }
  }

  /** Rejects a series whose label names repeat (including a `__name__` label). */
  protected checkDuplicateLabels(): void {
    const o = this.offsets;
    const m = o.length;
    if (m <= 2) return;
    const s = this.s;
    let escaped = false;
    for (let a = 2; a < m; a += 4) {
      if (s.charCodeAt(o[a]! - 1) === C_DQUOTE && s.lastIndexOf('\\', o[a + 1]! - 1) >= o[a]!) escaped = true;
    }
    if (!escaped) {
      // Usually names arrive sorted: strictly increasing raw names cannot repeat.
      let ok = true;
      for (let a = 2; a < m && ok; a += 4) {
        const as = o[a]!;
        const len = o[a + 1]! - as;
        if (len === 8 && s.startsWith(METRIC_NAME, as)) ok = false;
        else if (a + 4 < m) {
          const bs = o[a + 4]!;
          const blen = o[a + 5]! - bs;
          const l = len < blen ? len : blen;
          let k = 0;
          while (k < l && s.charCodeAt(as + k) === s.charCodeAt(bs + k)) k++;
          if (k < l ? s.charCodeAt(as + k) > s.charCodeAt(bs + k) : len >= blen) ok = false;
        }
      }
      if (ok) return;
    }
    // Many unsorted labels: a set keeps the check linear instead of quadratic.
    if (escaped || m > 2 + 4 * 16) {
      const seen = new Set<string>([METRIC_NAME]);
      for (let a = 2; a < m; a += 4) {
        const name = unescapeLabel(s.slice(o[a], o[a + 1]));
        if (seen.has(name)) this.duplicate(name, o[a]!);
        seen.add(name);
      }
      return;
    }
    for (let a = 2; a < m; a += 4) {
      const as = o[a]!;
      const len = o[a + 1]! - as;
      if (len === 8 && s.startsWith(METRIC_NAME, as)) this.duplicate(METRIC_NAME, as);
      for (let b = a + 4; b < m; b += 4) {
        const bs = o[b]!;
        if (o[b + 1]! - bs !== len) continue;
        let k = 0;
        while (k < len && s.charCodeAt(as + k) === s.charCodeAt(bs + k)) k++;
        if (k === len) this.duplicate(s.slice(bs, bs + len), bs);
      }
    }
  }

  private duplicate(name: string, pos: number): never {
    const quoted = this.s.charCodeAt(pos - 1) === C_DQUOTE;
    this.fail(`label name ${goQuote(name)} is not unique`, quoted ? pos - 1 : pos);
  }

  // ---- getters -------------------------------------------------------------------------------

  metricName(): string {
    if (this.kind === 'comment' || this.kind === 'eof' || this.kind === null) return '';
    if (this.foLen >= 0) return this.foLen < 2 ? '' : this.cut(this.fo[0]!, this.fo[1]!);
    const o = this.offsets;
    if (o.length < 2) return '';
    return unescapeLabel(this.s.slice(o[0], o[1]));
  }

  labels(): Labels {
    if (this.cachedLabels !== null) return this.cachedLabels;
    if (this.kind !== 'series') return [];
    if (this.foLen >= 0) return (this.cachedLabels = this.fastLabels());
    const o = this.offsets;
    const s = this.s;
    const out: Label[] = [{ name: METRIC_NAME, value: this.metricName() }];
    let sorted = true;
    for (let k = 2; k < o.length; k += 4) {
      const name = unescapeLabel(s.slice(o[k], o[k + 1]));
      if (name < out[out.length - 1]!.name) sorted = false;
      out.push({ name, value: normalizeFloatLabelValue(this.mtype, name, unescapeLabel(s.slice(o[k + 2], o[k + 3]))) });
    }
    // Expositions almost always list labels sorted (with __name__ in place), so this rarely runs.
    if (!sorted) out.sort(compareLabelNames);
    this.cachedLabels = out;
    return out;
  }

  /** `labels()` from the byte scanner's offsets: names need no unescaping there. */
  private fastLabels(): Labels {
    const o = this.fo;
    const m = this.foLen;
    const esc = this.foEscaped;
    const mtype = this.mtype;
    const out: Label[] = [{ name: METRIC_NAME, value: this.cutLabel(0, o[0]!, o[1]!) }];
    let prev = METRIC_NAME;
    let sorted = true;
    for (let k = 2; k < m; k += 4) {
      const name = this.cutLabel(k, o[k]!, o[k + 1]!);
      if (name < prev) sorted = false;
      prev = name;
      const raw = this.cutLabel(k + 2, o[k + 2]!, o[k + 3]!);
      const value = esc ? unescapeLabel(raw) : raw;
      out.push({ name, value: mtype === 'histogram' || mtype === 'summary' ? normalizeFloatLabelValue(mtype, name, value) : value });
    }
    if (!sorted) out.sort(compareLabelNames);
    return out;
  }

  seriesText(): string {
    return this.kind === 'series' ? this.cut(this.lineStart, this.seriesEnd) : '';
  }

  // The series getters below read the text through `lineStart`/`seriesEnd`; for any other
  // entry they see the empty text.

  seriesHash(): number {
    if (this.hashOf < 0) this.hashOf = hashText(this.s, this.lineStart, this.kind === 'series' ? this.seriesEnd : this.lineStart);
    return this.hashOf;
  }

  /** Hint of the series expected next; only the text 0.0.4 byte scanner uses it. */
  expectSeries(words: Int32Array, at: number, code: number): void {}

  seriesKeyCode(): number {
    return this.kind === 'series' ? textKeyCode(this.s, this.lineStart, this.seriesEnd) : 0;
  }

  seriesMatches(words: Int32Array, at: number, code: number): boolean {
    return this.kind === 'series' ? textMatches(this.s, this.lineStart, this.seriesEnd, words, at, code) : code === 0;
  }

  writeSeriesKey(words: Int32Array, at: number): number {
    return this.kind === 'series' ? writeTextKey(this.s, this.lineStart, this.seriesEnd, words, at) : 0;
  }

  value(): number {
    return this.val;
  }

  timestamp(): number | undefined {
    return this.kind === 'series' && this.hasTs ? this.ts : undefined;
  }

  exemplar(): Exemplar | undefined {
    return undefined;
  }

  type(): MetricType | undefined {
    return this.mtype;
  }

  help(): string {
    return this.kind === 'help' ? this.helpText() : '';
  }

  protected abstract helpText(): string;

  unit(): string {
    return this.kind === 'unit' ? this.text : '';
  }

  comment(): string {
    return this.kind === 'comment' ? this.text : '';
  }

  startTimestamp(): number {
    return 0;
  }
}
