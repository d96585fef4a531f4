/**
 * Prometheus text format 0.0.4 (and 1.0.0, which only adds quoted UTF-8 names) parser.
 *
 * A hand-written equivalent of Prometheus's golex automaton (`promlex.l`) plus `promparse.go`:
 * the same tokens, the same quirks (tabs and spaces between tokens, free trailing commas,
 * `# HELP`/`# TYPE` after any run of blanks, a NUL byte at the start of a line ending the input)
 * and the same error texts, so a target that Prometheus accepts parses here too and vice versa.
 * Deliberate differences: repeated label names are rejected here (Prometheus rejects them later,
 * at append), and blanks before a metric name are not made part of the name.
 *
 * Sample lines in the usual canonical shape take a fast scanner first (`fastLine`); anything it
 * is not sure about is re-read token by token, so errors are always the lexer's.
 */

import { BaseParser, unescapeHelp } from './base.js';
import { goQuote } from './errors.js';
import { parseIntTimestamp, parseValueFloat } from './float.js';
import { asciiBytes, isWellFormedRange, releaseBytes } from './input.js';
import { bytesMatch, hashBytes, writeBytesKey } from './serieskey.js';
import {
  C_BACKSLASH, C_DQUOTE, C_HASH, C_LBRACE, C_LF, C_NUL, C_RBRACE, C_SP, C_TAB, C_COMMA, C_EQUAL,
  S_COMMENT, S_INIT, S_LABELS, S_LVALUE, S_META1, S_META2, S_TIMESTAMP, S_VALUE,
  T_BCLOSE, T_BOPEN, T_COMMA, T_COMMENT, T_EOF, T_EQUAL, T_HELP, T_INVALID, T_LINEBREAK, T_LNAME,
  T_LVALUE, T_MNAME, T_QSTRING, T_TEXT, T_TIMESTAMP, T_TYPE, T_VALUE, T_WHITESPACE,
  isDigit, isLabelChar, isLabelStart, isMetricChar, isMetricStart, tokenName,
  CHAR_CLASS, CC_LABEL_CHAR, CC_LABEL_START, CC_METRIC_CHAR, CC_METRIC_START,
} from './tokens.js';
import type { Labels } from '../../../model/labels.js';
import type { EntryKind, MetricType } from './types.js';

function isBlank(c: number): boolean {
  return c === C_SP || c === C_TAB;
}

/** Characters of an unquoted sample value: anything but NUL, blank, newline and `{`. */
function isValueChar(c: number): boolean {
  return c !== C_NUL && c !== C_SP && c !== C_TAB && c !== C_LF && c !== C_LBRACE && c === c;
}

export class PromParser extends BaseParser {
  readonly format = 'prometheus-text' as const;

  /**
   * The input as bytes, `b[k] === s.charCodeAt(k)`, when it is all ASCII and free of NUL bytes
   * (real expositions are): `fastBytes` reads them, since indexing a byte array is several times
   * cheaper in V8 than `charCodeAt`. Null sends every line through the string paths.
   */
  private b: Buffer | null;
  /** A view of `b` for reading it four bytes at a time. */
  private dv: DataView | null;
  /** Whether `b` is a scratch buffer from `asciiBytes`, to be handed back at the end. */
  private readonly ownsBytes: boolean;
  /** Length of the text as given, and its last `\n`: `fastBytes` never looks past that. */
  private readonly len: number;
  private readonly lastLf: number;
  /** Whether `s` has had its `\n` appended yet (see `pad`). */
  private padded = false;

  /**
   * The body the text is still to be made from (`lazy`): an ASCII body given as bytes is read by
   * the byte scanner directly, and the strings a scrape needs from it (help texts, family names,
   * labels of new series) are cut from the bytes. Turning a multi-megabyte body into one string
   * costs more than parsing a good part of it, and Node makes such a string external, which the
   * garbage collector pays for again (in proportion to the whole heap). So the whole text is
   * made only for the token-by-token path; cuts come straight from the bytes, and where they
   * are many (labels of every line) from strings of `CHUNK`-byte pieces of the body, made when
   * a piece has had `CHUNK_CUTS` cuts (then slicing a string is the cheaper way).
   */
  private readonly src: Buffer | null;
  private lazy: boolean;
  private readonly chunks: (string | undefined)[] = [];
  private readonly chunkCuts: Int32Array;
  /** The series `expectSeries` announced: a key in `hintWords` (code 0: none). */
  private hintWords: Int32Array | null = null;
  private hintAt = 0;
  private hintCode = 0;
  /** Whether the current entry's series is that key, so its offsets were never taken. */
  private hinted = false;
  /** A parser of the hinted series alone, for its name and labels (see `hintedSeries`). */
  private sub: PromParser | null = null;

  /**
   * `input`: the text, or its bytes when they are known to be ASCII. `bytes`, if given with a
   * text, must be the text's bytes with one byte per character (ASCII); otherwise they are
   * derived from the text when it is ASCII.
   */
  constructor(input: string | Buffer, bytes?: Buffer) {
    const fromBytes = typeof input !== 'string';
    super(fromBytes ? '' : input);
    const given = fromBytes || (bytes !== undefined && bytes.length === input.length);
    let b = fromBytes ? input : given ? bytes! : asciiBytes(input);
    if (b !== null && b.indexOf(C_NUL) >= 0) {
      if (!given) releaseBytes(b);
      b = null;
    }
    this.b = b;
    this.dv = b === null ? null : new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.ownsBytes = !given && b !== null;
    this.len = input.length;
    this.src = fromBytes ? input : null;
    this.lazy = fromBytes;
    this.chunkCuts = new Int32Array(fromBytes ? (input.length >> CHUNK_BITS) + 1 : 0);
    if (b === null) this.makeText();
    this.lastLf = b !== null ? b.lastIndexOf(C_LF) : this.s.lastIndexOf('\n');
  }

  /** Makes `s` from the bytes it was deferred for (see `src`). */
  private makeText(): void {
    if (!this.lazy) return;
    this.lazy = false;
    this.s = this.src!.toString('latin1');
    this.n = this.s.length;
  }

  protected override resetEntry(): void {
    this.hinted = false;
    this.sub = null;
  }

  /**
   * A caller that keeps series keys (a scrape cache) names the one it expects next: a sample
   * line that starts with exactly that text followed by a blank is then confirmed by one
   * comparison instead of being scanned label by label, and `seriesMatches` with that key
   * answers without comparing again. The key must be the series of a sample line this parser
   * class accepted (`writeSeriesKey`), and must not change while it is announced.
   */
  override expectSeries(words: Int32Array, at: number, code: number): void {
    this.hintWords = words;
    this.hintAt = at;
    this.hintCode = code;
  }

  /**
   * The name and labels of a hinted series, which were not scanned: from a parser of that text
   * alone, which cuts and checks it exactly as a full scan of this line would (the series part
   * of a line does not depend on what surrounds it). Callers that hint look labels up instead,
   * so this is the rare path.
   */
  private hintedSeries(): PromParser {
    if (this.sub === null) {
      const sub = new PromParser(`${this.cut(this.lineStart, this.seriesEnd)} 0\n`);
      sub.mtype = this.mtype;
      sub.next();
      this.sub = sub;
    }
    return this.sub;
  }

  override labels(): Labels {
    return this.hinted && this.kind === 'series' ? this.hintedSeries().labels() : super.labels();
  }

  override metricName(): string {
    return this.hinted && this.kind === 'series' ? this.hintedSeries().metricName() : super.metricName();
  }

  protected override cut(from: number, to: number): string {
    return this.cutFrom(from, to, CHUNK_CUTS);
  }

  /** `cut`, making the piece a string after `budget` cuts from it (see `src`). */
  private cutFrom(from: number, to: number, budget: number): string {
    if (!this.lazy) return this.s.slice(from, to);
    if (to <= from) return '';
    const k = from >> CHUNK_BITS;
    const src = this.src!;
    // A cut across two pieces is rare enough to come from the bytes.
    if ((to - 1) >> CHUNK_BITS !== k) return src.toString('latin1', from, to);
    let piece = this.chunks[k];
    if (piece === undefined) {
      if (++this.chunkCuts[k]! <= budget) return src.toString('latin1', from, to);
      // Below Node's threshold for external strings, so an ordinary heap string.
      piece = this.chunks[k] = src.toString('latin1', k << CHUNK_BITS, Math.min(src.length, (k + 1) << CHUNK_BITS));
    }
    const base = k << CHUNK_BITS;
    return piece.slice(from - base, to - base);
  }

  /**
   * Consecutive lines mostly repeat their names and many of their values (a metric family's
   * lines differ in a label or two), so the string cut for each position of the last labelled
   * line is handed out again when the bytes are equal: comparing a few bytes costs less than
   * cutting and collecting a string, and callers that build labels for every line allocate
   * little more than the label objects.
   */
  private memoFrom = new Int32Array(64).fill(-1);
  private memoLen = new Int32Array(64);
  private memoStr: string[] = [];

  protected override cutLabel(slot: number, from: number, to: number): string {
    const b = this.b;
    // Slicing a text is cheap; this is for bodies given as bytes.
    if (b === null || !this.lazy) return this.cut(from, to);
    if (slot >= this.memoFrom.length) {
      const f = new Int32Array(slot * 2).fill(-1);
      f.set(this.memoFrom);
      const l = new Int32Array(slot * 2);
      l.set(this.memoLen);
      this.memoFrom = f;
      this.memoLen = l;
    }
    const n = to - from;
    const pf = this.memoFrom[slot]!;
    if (pf >= 0 && this.memoLen[slot] === n) {
      let j = 0;
      while (j < n && b[pf + j] === b[from + j]) j++;
      if (j === n) return this.memoStr[slot]!;
    }
    // Labels are cut for every line or for none (a cache), so the piece is made a string at once.
    const str = this.cutFrom(from, to, 0);
    this.memoFrom[slot] = from;
    this.memoLen[slot] = n;
    this.memoStr[slot] = str;
    return str;
  }

  protected override release(): void {
    if (this.ownsBytes && this.b !== null) releaseBytes(this.b);
    this.b = null;
    this.dv = null;
  }

  // The series text lies within the bytes whenever they exist (padding only adds a final `\n`),
  // whichever path parsed the line.

  override seriesHash(): number {
    if (this.hashOf < 0 && this.kind === 'series' && this.b !== null) this.hashOf = hashBytes(this.dv!, this.b, this.lineStart, this.seriesEnd);
    return super.seriesHash();
  }

  override seriesKeyCode(): number {
    return this.kind === 'series' && this.b !== null ? this.seriesEnd - this.lineStart : super.seriesKeyCode();
  }

  override seriesMatches(words: Int32Array, at: number, code: number): boolean {
    if (this.hinted && words === this.hintWords && at === this.hintAt && code === this.hintCode && this.kind === 'series') return true;
    if (this.kind === 'series' && this.b !== null) return bytesMatch(this.dv!, this.b, this.lineStart, this.seriesEnd, words, at, code);
    return super.seriesMatches(words, at, code);
  }

  override writeSeriesKey(words: Int32Array, at: number): number {
    if (this.kind !== 'series' || this.b === null) return super.writeSeriesKey(words, at);
    writeBytesKey(this.dv!, this.b, this.lineStart, this.seriesEnd, words, at);
    return this.seriesEnd - this.lineStart;
  }

  /**
   * Prometheus appends a newline so that a final line without one still parses. That copies the
   * whole body (milliseconds for a kubelet-sized one, a sizeable share of parsing it), so it is
   * done only when the token-by-token path first runs, which clean ASCII input never needs.
   * Offsets are unchanged.
   */
  private pad(): void {
    if (this.padded) return;
    this.padded = true;
    this.makeText();
    this.s += '\n';
    this.n = this.s.length;
  }

  // ---- lexer ---------------------------------------------------------------------------------

  /** Advances past one character the way golex's `next()` does: NULs vanish in some states. */
  private step(i: number): number {
    i++;
    const st = this.state;
    if (st === S_LVALUE || st === S_META2 || st === S_COMMENT) {
      while (i < this.n && this.s.charCodeAt(i) === C_NUL) i++;
    }
    return i;
  }

  private at(i: number): number {
    return i < this.n ? this.s.charCodeAt(i) : C_NUL;
  }

  private whitespace(i: number): number {
    let c: number;
    do {
      i = this.step(i);
      c = this.at(i);
    } while (c === C_SP || c === C_TAB);
    this.i = i;
    return T_WHITESPACE;
  }

  private lex(): number {
    const s = this.s;
    const n = this.n;
    let i = this.i;
    if (i >= n) return T_EOF;
    this.start = i;
    let c = s.charCodeAt(i);
    switch (this.state) {
      case S_INIT:
        if (isMetricStart(c)) {
          do c = s.charCodeAt(++i);
          while (i < n && isMetricChar(c));
          this.i = i;
          this.state = S_VALUE;
          return T_MNAME;
        }
        if (c === C_LF) {
          this.i = i + 1;
          return T_LINEBREAK;
        }
        if (isBlank(c)) return this.whitespace(i);
        if (c === C_LBRACE) {
          this.i = i + 1;
          this.state = S_LABELS;
          return T_BOPEN;
        }
        if (c === C_HASH) {
          i++;
          c = this.at(i);
          if (!isBlank(c)) {
            this.i = i;
            return this.consumeComment();
          }
          do c = this.at(++i);
          while (isBlank(c));
          this.state = S_COMMENT;
          this.i = i;
          return this.lexCommentKeyword(i);
        }
        if (c === C_NUL) {
          this.i = i + 1;
          return T_EOF;
        }
        return T_INVALID;
      case S_LABELS:
        if (isLabelStart(c)) {
          do c = s.charCodeAt(++i);
          while (i < n && isLabelChar(c));
          this.i = i;
          return T_LNAME;
        }
        if (c === C_EQUAL) {
          this.i = i + 1;
          this.state = S_LVALUE;
          return T_EQUAL;
        }
        if (c === C_COMMA) {
          this.i = i + 1;
          return T_COMMA;
        }
        if (c === C_RBRACE) {
          this.i = i + 1;
          this.state = S_VALUE;
          return T_BCLOSE;
        }
        if (c === C_DQUOTE) {
          const end = this.scanQuoted(i, true, false);
          if (end < 0) return T_INVALID;
          this.i = end;
          return T_QSTRING;
        }
        if (isBlank(c)) return this.whitespace(i);
        return T_INVALID;
      case S_LVALUE:
        if (c === C_DQUOTE) {
          const end = this.scanQuoted(i, true, true);
          if (end < 0) return T_INVALID;
          this.i = end;
          this.state = S_LABELS;
          return T_LVALUE;
        }
        if (isBlank(c)) return this.whitespace(i);
        return T_INVALID;
      case S_VALUE:
        if (isBlank(c)) return this.whitespace(i);
        if (c === C_LBRACE) {
          this.i = i + 1;
          this.state = S_LABELS;
          return T_BOPEN;
        }
        if (isValueChar(c)) {
          do c = s.charCodeAt(++i);
          while (i < n && isValueChar(c));
          this.i = i;
          this.state = S_TIMESTAMP;
          return T_VALUE;
        }
        return T_INVALID;
      case S_TIMESTAMP:
        if (c === C_LF) {
          this.i = i + 1;
          this.state = S_INIT;
          return T_LINEBREAK;
        }
        if (isBlank(c)) return this.whitespace(i);
        if (isDigit(c)) {
          do c = s.charCodeAt(++i);
          while (i < n && isDigit(c));
          this.i = i;
          return T_TIMESTAMP;
        }
        return T_INVALID;
      case S_META1:
        if (isMetricStart(c)) {
          do c = s.charCodeAt(++i);
          while (i < n && isMetricChar(c));
          this.i = i;
          this.state = S_META2;
          return T_MNAME;
        }
        if (c === C_DQUOTE) {
          const end = this.scanQuoted(i, true, false);
          if (end < 0) return T_INVALID;
          this.i = end;
          this.state = S_META2;
          return T_MNAME;
        }
        if (isBlank(c)) return this.whitespace(i);
        return T_INVALID;
      case S_META2: {
        // `{C}*` against `[ \t]+`: blanks followed by the line end are whitespace, the empty
        // text comes next; anything else runs to the end of the line.
        if (isBlank(c)) {
          do {
            i = this.step(i);
            c = this.at(i);
          } while (isBlank(c));
          if (c === C_LF || c === C_NUL) {
            this.i = i;
            return T_WHITESPACE;
          }
        }
        if (c !== C_LF && c !== C_NUL) {
          const lf = s.indexOf('\n', i);
          i = lf < 0 ? n : lf;
        }
        this.i = i;
        this.state = S_INIT;
        return T_TEXT;
      }
      case S_COMMENT:
        return this.lexCommentKeyword(i);
      default:
        return T_INVALID;
    }
  }

  /** After `#` and blanks: `HELP`/`TYPE` plus blanks, or else the line is a plain comment. */
  private lexCommentKeyword(i: number): number {
    let c = this.at(i);
    const word = c === 0x48 ? 'ELP' : c === 0x54 ? 'YPE' : null;
    if (word !== null) {
      let k = 0;
      for (; k < 3; k++) {
        i = this.step(i);
        if (this.at(i) !== word.charCodeAt(k)) break;
      }
      if (k === 3) {
        i = this.step(i);
        c = this.at(i);
        if (isBlank(c)) {
          do {
            i = this.step(i);
            c = this.at(i);
          } while (isBlank(c));
          this.i = i;
          this.state = S_META1;
          return word === 'ELP' ? T_HELP : T_TYPE;
        }
      }
    }
    this.i = i;
    return this.consumeComment();
  }

  /** Swallows the rest of a comment line; a NUL seen directly ends the input, as in Prometheus. */
  private consumeComment(): number {
    let i = this.i;
    let c = this.at(i);
    for (;;) {
      if (c === C_NUL) {
        this.i = i;
        return T_EOF;
      }
      if (c === C_LF) {
        this.i = i;
        this.state = S_INIT;
        return T_COMMENT;
      }
      i = this.step(i);
      c = this.at(i);
    }
  }

  private nextToken(): number {
    let t: number;
    do t = this.lex();
    while (t === T_WHITESPACE);
    return t;
  }

  // ---- byte scanner --------------------------------------------------------------------------

  /**
   * Fast path over `b` for everything a clean exposition consists of: blank lines, the end of
   * input, comments, `# HELP`/`# TYPE name text` and sample lines `name{l="v",…} value [ts]` with
   * single blanks and legacy names. It accepts only lines the token-by-token path accepts with
   * the same result, reading each byte once; anything else (including every error) returns null
   * having changed nothing but `i`/`lineStart` past blank lines and scratch offsets, and the line
   * is read again by the faithful path, so error texts and positions are always the lexer's.
   */
  private fastBytes(): EntryKind | null {
    const b = this.b!;
    const last = this.lastLf;
    let i = this.i;
    while (i <= last && b[i] === C_LF) i++;
    this.i = i;
    this.lineStart = i;
    if (i > last) {
      // Everything consumed and the input ended with `\n`: the padded path would only read
      // that newline and the end of input.
      return i === this.len ? 'eof' : null;
    }
    let c = b[i]!;
    if (c === C_HASH) return this.fastComment(b, i);
    if ((BYTE_CLASS[c]! & B_MSTART) === 0) return null;
    let o = this.fo;
    let m = 2;
    let seriesEnd: number;
    let escaped = false;
    // Labels arrive sorted almost always; checking that each name is greater than the previous
    // one replaces the duplicate check. Otherwise the general check runs below.
    let unsorted = false;
    const hc = this.hintCode;
    if (hc > 0 && i + hc < last && b[i + hc] === C_SP && bytesMatch(this.dv!, b, i, i + hc, this.hintWords!, this.hintAt, hc)) {
      // The series of an earlier sample line (see `expectSeries`): it was checked then, and a
      // blank after it ends its last token, so the lexer would cut the same series here.
      m = -1;
      seriesEnd = i += hc;
      c = C_SP;
    } else {
      o[0] = i;
      do c = b[++i]!;
      while ((BYTE_CLASS[c]! & B_MCHAR) !== 0);
      o[1] = i;
      seriesEnd = i;
      let ps = -1;
      let pl = 0;
      if (c === C_LBRACE) {
        c = b[++i]!;
        while (c !== C_RBRACE) {
          if ((BYTE_CLASS[c]! & B_LSTART) === 0) return null;
          const ls = i;
          do c = b[++i]!;
          while ((BYTE_CLASS[c]! & B_LCHAR) !== 0);
          const ll = i - ls;
          if (c !== C_EQUAL || b[i + 1] !== C_DQUOTE) return null;
          if (ll === 8 && b[ls] === 0x5f && b[ls + 1] === 0x5f && isDunderName(b, ls)) unsorted = true;
          else if (ps >= 0 && !unsorted) {
            // Names mostly differ in their first byte; the loop is for shared prefixes.
            const p0 = b[ps]!;
            const c0 = b[ls]!;
            if (p0 > c0) unsorted = true;
            else if (p0 === c0) {
              const l = ll < pl ? ll : pl;
              let k = 1;
              while (k < l && b[ps + k] === b[ls + k]) k++;
              if (k < l ? b[ps + k]! > b[ls + k]! : pl >= ll) unsorted = true;
            }
          }
          ps = ls;
          pl = ll;
          const vs = i + 2;
          // The closing quote by a byte loop: on the bytes it is cheaper than a native search per
          // value, and it needs no text. The lexer accepts a backslash before anything but NUL and
          // `\n`; raw newlines inside a value are legal too but rare enough to leave to it.
          i = vs;
          c = b[i]!;
          for (;;) {
            while ((BYTE_CLASS[c]! & B_QSTOP) === 0) c = b[++i]!;
            if (c !== C_BACKSLASH) break;
            if (b[i + 1] === C_LF) return null;
            escaped = true;
            i += 2;
            c = b[i]!;
          }
          if (c !== C_DQUOTE) return null;
          if (m + 4 > o.length) {
            const g = new Int32Array(o.length * 2);
            g.set(o);
            this.fo = o = g;
          }
          o[m] = ls;
          o[m + 1] = ls + ll;
          o[m + 2] = vs;
          o[m + 3] = i;
          m += 4;
          c = b[++i]!;
          if (c === C_COMMA) c = b[++i]!;
          else if (c !== C_RBRACE) return null;
        }
        seriesEnd = ++i;
        c = b[i]!;
      }
    }
    if (c !== C_SP) return null;
    const vs = ++i;
    let v: number;
    // Plain decimals ([-]digits[.digits][e±dd]) with at most 15 digits and a power of ten within
    // ±22 convert exactly: mantissa and power are exact doubles and one multiplication or
    // division rounds correctly, which is what Number() and Go's ParseFloat return too.
    c = b[i]!;
    const neg = c === 0x2d;
    if (neg) c = b[++i]!;
    let mant = 0;
    let nd = 0;
    let frac = 0;
    let dot = false;
    for (;;) {
      if (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        nd++;
        if (dot) frac++;
      } else if (c === 0x2e && !dot) dot = true;
      else break;
      c = b[++i]!;
    }
    let e = 0;
    if ((c === 0x65 || c === 0x45) && nd > 0) {
      c = b[++i]!;
      const eneg = c === 0x2d;
      if (eneg || c === 0x2b) c = b[++i]!;
      let ne = 0;
      while (c >= 0x30 && c <= 0x39 && ne < 4) {
        e = e * 10 + (c - 0x30);
        ne++;
        c = b[++i]!;
      }
      if (ne === 0) c = 0; // force the general path, which reports nothing here but rejects
      if (eneg) e = -e;
    }
    const p = e - frac;
    if (nd > 0 && nd <= 15 && (c === C_SP || c === C_LF) && p >= -22 && p <= 22) {
      v = p >= 0 ? mant * POW10[p]! : mant / POW10[-p]!;
      if (neg) v = -v;
    } else {
      // Anything else (NaN, ±Inf, long mantissas, junk): the value token as the lexer cuts it,
      // then Go's float syntax.
      i = vs;
      c = b[i]!;
      while (c !== C_SP && c !== C_LF) {
        if (c === C_TAB || c === C_LBRACE) return null;
        c = b[++i]!;
      }
      if (i === vs) return null;
      const f = parseValueFloat(this.cut(vs, i));
      if (typeof f === 'string') return null;
      v = f;
    }
    let ts = 0;
    let hasTs = false;
    if (c === C_SP) {
      // Two int32 halves (9 digits, then up to 6) instead of one chain of float operations.
      const t0 = ++i;
      c = b[i]!;
      let hi = 0;
      while (c >= 0x30 && c <= 0x39 && i - t0 < 9) {
        hi = hi * 10 + (c - 0x30);
        c = b[++i]!;
      }
      const t1 = i;
      let lo = 0;
      while (c >= 0x30 && c <= 0x39) {
        lo = (lo * 10 + (c - 0x30)) | 0;
        c = b[++i]!;
      }
      // Up to 15 digits the result is exact; longer ones take the int64 check of the slow path.
      if (i === t0 || c !== C_LF || i - t0 > 15) return null;
      ts = i === t1 ? hi : hi * POW10[i - t1]! + lo;
      hasTs = true;
    }
    if (unsorted) {
      // Duplicates are errors; the general check needs the padded text for its message.
      this.pad();
      const off = this.offsets;
      off.length = 0;
      for (let k = 0; k < m; k++) off.push(o[k]!);
      this.checkDuplicateLabels();
    }
    this.i = i + 1;
    this.foLen = m;
    this.hinted = m < 0;
    this.foEscaped = escaped;
    this.seriesEnd = seriesEnd;
    this.val = v;
    this.ts = ts;
    this.hasTs = hasTs;
    return 'series';
  }

  /** `fastBytes` for a line starting with `#` at `i`. */
  private fastComment(b: Buffer, i: number): EntryKind | null {
    const c1 = b[i + 1];
    if (c1 === C_TAB) return null;
    if (c1 === C_SP) {
      const c2 = b[i + 2];
      // `#` plus more blanks, or a word that may be HELP/TYPE: the lexer decides.
      if (c2 === C_SP || c2 === C_TAB) return null;
      if (c2 === 0x48 || c2 === 0x54) return this.fastMeta(b, i, c2 === 0x48);
    }
    // A line at or before `lastLf` ends by then.
    let lf = i + 1;
    while (b[lf] !== C_LF) lf++;
    this.text = this.cut(i, lf);
    this.foLen = 0;
    this.i = lf + 1;
    return 'comment';
  }

  /** `# HELP name text` / `# TYPE name type` with single blanks and a legacy name. */
  private fastMeta(b: Buffer, i: number, help: boolean): EntryKind | null {
    if (help ? b[i + 3] !== 0x45 || b[i + 4] !== 0x4c || b[i + 5] !== 0x50 : b[i + 3] !== 0x59 || b[i + 4] !== 0x50 || b[i + 5] !== 0x45) return null;
    if (b[i + 6] !== C_SP) return null;
    let j = i + 7;
    let c = b[j]!;
    if ((BYTE_CLASS[c]! & B_MSTART) === 0) return null;
    const ns = j;
    do c = b[++j]!;
    while ((BYTE_CLASS[c]! & B_MCHAR) !== 0);
    const ne = j;
    let lf = j;
    if (c === C_SP) {
      // More blanks, or blanks before the line end, are the lexer's quirks to handle.
      const d = b[j + 1];
      if (d === C_SP || d === C_TAB || d === C_LF) return null;
      lf = j + 1;
      while (b[lf] !== C_LF) lf++;
    } else if (c !== C_LF) {
      return null;
    }
    if (help) {
      this.text = lf > j ? this.cut(j + 1, lf) : '';
    } else {
      // Compared in place: cutting the word and looking it up in PROM_TYPES costs more.
      const word = typeWord(b, j + 1, lf);
      if (word === null) return null;
      this.mtype = word === 'untyped' ? 'unknown' : word;
      this.text = word;
    }
    this.fo[0] = ns;
    this.fo[1] = ne;
    this.foLen = 2;
    this.i = lf + 1;
    return help ? 'help' : 'type';
  }

  // ---- parser --------------------------------------------------------------------------------

  /**
   * Fast path for the common sample line `name{l="v",…} value [timestamp]\n` with no blanks
   * beyond single separators, no escapes and no quoted names. It accepts only lines the full lexer
   * would accept with the same result; anything else returns false having changed nothing but
   * `offsets`, and the line is parsed again by the faithful token-by-token path.
   */
  private fastLine(): boolean {
    const s = this.s;
    const o = this.offsets;
    let i = this.i;
    let c = s.charCodeAt(i);
    if (!(c < 128 && (CHAR_CLASS[c]! & CC_METRIC_START) !== 0)) return false;
    do c = s.charCodeAt(++i);
    while (c < 128 && (CHAR_CLASS[c]! & CC_METRIC_CHAR) !== 0);
    o.push(this.i, i);
    let seriesEnd = i;
    if (c === C_LBRACE) {
      i++;
      for (;;) {
        c = s.charCodeAt(i);
        if (c === C_RBRACE) break;
        if (!(c < 128 && (CHAR_CLASS[c]! & CC_LABEL_START) !== 0)) return false;
        const ls = i;
        do c = s.charCodeAt(++i);
        while (c < 128 && (CHAR_CLASS[c]! & CC_LABEL_CHAR) !== 0);
        if (c !== C_EQUAL || s.charCodeAt(i + 1) !== C_DQUOTE) return false;
        const end = this.fastQuoted(i + 1, this.n);
        if (end < 0) return false;
        o.push(ls, i, i + 2, end - 1);
        i = end;
        c = s.charCodeAt(i);
        if (c === C_COMMA) i++;
        else if (c !== C_RBRACE) return false;
      }
      seriesEnd = ++i;
      c = s.charCodeAt(i);
    }
    if (c !== C_SP) return false;
    const vs = ++i;
    c = s.charCodeAt(i);
    while (c !== C_SP && c !== C_LF) {
      if (c === C_NUL || c === C_TAB || c === C_LBRACE || c !== c) return false;
      c = s.charCodeAt(++i);
    }
    if (i === vs) return false;
    const v = parseValueFloat(s.slice(vs, i));
    if (typeof v === 'string') return false;
    let ts = 0;
    let hasTs = false;
    if (c === C_SP) {
      const tsStart = ++i;
      c = s.charCodeAt(i);
      while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
      if (i === tsStart || c !== C_LF || i - tsStart > 15) return false;
      ts = Number(s.slice(tsStart, i));
      hasTs = true;
    }
    this.i = i + 1;
    this.seriesEnd = seriesEnd;
    this.val = v;
    this.ts = ts;
    this.hasTs = hasTs;
    return true;
  }

  protected advance(): EntryKind {
    for (;;) {
      if (this.state === S_INIT && BaseParser.fastPath && this.b !== null) {
        const k = this.fastBytes();
        if (k !== null) return k;
      }
      this.pad();
      const s = this.s;
      this.lineStart = this.i;
      this.offsets.length = 0;
      if (this.state === S_INIT && BaseParser.fastPath && this.b === null) {
        if (this.fastLine()) {
          this.checkDuplicateLabels();
          return 'series';
        }
        this.offsets.length = 0;
      }
      const t = this.nextToken();
      switch (t) {
        case T_EOF:
          return 'eof';
        case T_LINEBREAK:
          continue;
        case T_HELP:
        case T_TYPE: {
          const t2 = this.nextToken();
          if (t2 !== T_MNAME) this.parseError(`expected metric name after ${tokenName(t)}`, t2);
          let ms = this.start;
          let me = this.i;
          if (s.charCodeAt(ms) === C_DQUOTE && s.charCodeAt(me - 1) === C_DQUOTE) {
            ms++;
            me--;
          }
          this.offsets.push(ms, me);
          const t3 = this.nextToken();
          if (t3 !== T_TEXT) this.fail(`expected text in ${tokenName(t)}, got ${tokenName(t3)}`, this.start);
          const textStart = this.start;
          this.text = this.i - this.start > 1 ? s.slice(this.start + 1, this.i) : '';
          if (t === T_TYPE) {
            const mt = PROM_TYPES.get(this.text);
            if (mt === undefined) this.fail(`invalid metric type ${goQuote(this.text)}`, textStart);
            this.mtype = mt;
          } else if (!isWellFormedRange(this.text, 0, this.text.length)) {
            this.fail(`help text ${goQuote(this.text)} is not a valid utf8 string`, textStart);
          }
          const t4 = this.nextToken();
          if (t4 !== T_LINEBREAK) this.parseError('linebreak expected after metadata', t4);
          return t === T_HELP ? 'help' : 'type';
        }
        case T_COMMENT: {
          this.text = s.slice(this.start, this.i);
          const t2 = this.nextToken();
          if (t2 !== T_LINEBREAK) this.parseError('linebreak expected after comment', t2);
          return 'comment';
        }
        case T_BOPEN:
          this.offsets.push(-1, -1);
          this.parseLabelValues();
          this.seriesEnd = this.i;
          return this.parseMetricSuffix(this.nextToken());
        case T_MNAME: {
          // Prometheus takes the line start here, which would put leading blanks into the
          // name; the token start gives the name the target meant.
          this.offsets.push(this.start, this.i);
          this.seriesEnd = this.i;
          let t2 = this.nextToken();
          if (t2 === T_BOPEN) {
            this.parseLabelValues();
            this.seriesEnd = this.i;
            t2 = this.nextToken();
          }
          return this.parseMetricSuffix(t2);
        }
        default:
          this.parseError('expected a valid start token', t);
      }
    }
  }

  private parseLabelValues(): void {
    const s = this.s;
    const o = this.offsets;
    let t = this.nextToken();
    for (;;) {
      const tokStart = this.start;
      const tokEnd = this.i;
      let quoted = false;
      if (t === T_BCLOSE) return;
      if (t === T_QSTRING) quoted = true;
      else if (t !== T_LNAME) this.parseError('expected label name', t);
      t = this.nextToken();
      // A quoted string followed by a comma or brace is the metric name.
      if (quoted && (t === T_COMMA || t === T_BCLOSE)) {
        if (o[0] !== -1 || o[1] !== -1) {
          this.fail(`metric name already set while parsing: ${goQuote(s.slice(this.lineStart, this.i))}`, tokStart);
        }
        o[0] = tokStart + 1;
        o[1] = tokEnd - 1;
        if (t === T_BCLOSE) return;
        t = this.nextToken();
        continue;
      }
      if (quoted) o.push(tokStart + 1, tokEnd - 1);
      else o.push(tokStart, tokEnd);
      if (t !== T_EQUAL) this.parseError('expected equal', t);
      this.sawSurrogate = false;
      const t2 = this.nextToken();
      if (t2 !== T_LVALUE) this.parseError('expected label value', t2);
      if (this.sawSurrogate && !isWellFormedRange(s, this.start, this.i)) {
        this.fail(`invalid UTF-8 label value: ${goQuote(s.slice(this.start, this.i))}`, this.start);
      }
      o.push(this.start + 1, this.i - 1);
      // Free trailing commas are allowed, and so (unlike OpenMetrics) is a missing comma.
      t = this.nextToken();
      if (t === T_COMMA) t = this.nextToken();
    }
  }

  private parseMetricSuffix(t: number): EntryKind {
    if (this.offsets[0] === -1) {
      this.fail(`metric name not set while parsing: ${goQuote(this.s.slice(this.lineStart, this.i))}`, this.lineStart);
    }
    if (t !== T_VALUE) this.parseError('expected value after metric', t);
    const valueStart = this.start;
    const v = parseValueFloat(this.s.slice(this.start, this.i));
    if (typeof v === 'string') this.whileParsing(v, valueStart);
    this.val = v;
    this.hasTs = false;
    const t2 = this.nextToken();
    if (t2 === T_TIMESTAMP) {
      const ts = parseIntTimestamp(this.s.slice(this.start, this.i));
      if (typeof ts === 'string') this.whileParsing(ts, this.start);
      this.ts = ts;
      this.hasTs = true;
      const t3 = this.nextToken();
      if (t3 !== T_LINEBREAK) this.parseError('expected next entry after timestamp', t3);
    } else if (t2 !== T_LINEBREAK) {
      this.parseError('expected timestamp or new record', t2);
    }
    this.checkDuplicateLabels();
    return 'series';
  }

  protected helpText(): string {
    return unescapeHelp(this.text);
  }
}

const PROM_TYPES = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'unknown'],
]);

/** Pieces of a body given as bytes that `cut` turns into strings: 512 KiB. */
const CHUNK_BITS = 19;
/** Cuts from the bytes of a piece before the piece is made a string (about equal costs). */
const CHUNK_CUTS = 1024;

const B_MSTART = 1;
const B_MCHAR = 2;
const B_LSTART = 4;
const B_LCHAR = 8;
/** Bytes that end the plain part of a quoted label value: `"`, `\\`, `\n`. */
const B_QSTOP = 16;

/** Character classes for all 256 byte values, so the byte scanner indexes without a bounds test. */
const BYTE_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 128; c++) {
    const k = CHAR_CLASS[c]!;
    t[c] = (k & CC_METRIC_START ? B_MSTART : 0) | (k & CC_METRIC_CHAR ? B_MCHAR : 0) | (k & CC_LABEL_START ? B_LSTART : 0) | (k & CC_LABEL_CHAR ? B_LCHAR : 0);
  }
  t[C_DQUOTE] |= B_QSTOP;
  t[C_BACKSLASH] |= B_QSTOP;
  t[C_LF] |= B_QSTOP;
  return t;
})();

const POW10: Float64Array = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** The text 0.0.4 type named by b[from, to), as its `PROM_TYPES` key, or null. */
function typeWord(b: Buffer, from: number, to: number): Exclude<MetricType, 'unknown'> | 'untyped' | null {
  const len = to - from;
  const w = len === 7 ? (b[from] === 0x63 ? 'counter' : b[from] === 0x73 ? 'summary' : b[from] === 0x75 ? 'untyped' : null) : len === 5 ? 'gauge' : len === 9 ? 'histogram' : null;
  if (w === null) return null;
  for (let k = 1; k < len; k++) if (b[from + k] !== w.charCodeAt(k)) return null;
  return b[from] === w.charCodeAt(0) ? w : null;
}

/** Whether the 8 bytes at `k` spell `__name__`. */
function isDunderName(b: Buffer, k: number): boolean {
  return b[k + 2] === 0x6e && b[k + 3] === 0x61 && b[k + 4] === 0x6d && b[k + 5] === 0x65 && b[k + 6] === 0x5f && b[k + 7] === 0x5f;
}
