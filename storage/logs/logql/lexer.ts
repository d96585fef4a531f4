/**
 * The LogQL lexer, on demand: the parser pulls one token at a time, so an error late in a query is
 * never reported before a syntax error earlier in it.
 *
 * It follows Loki's lexer where that is visible to users: a number directly followed by a unit is
 * one DURATION (`250ms`, `1.5s`, `1d`) or BYTES (`10KB`, `1MiB`) token; `[…]` is scanned whole
 * as a RANGE; `--strict` is one flag token; `#` starts a comment to the end of the line; strings
 * are double-quoted with Go escapes, or raw between backticks. Words are IDENTIFIERs; the parser
 * decides which are keywords where, so a label may be called `json` or `rate` in a selector.
 * Characters that start no token become one-character PUNCT tokens for the parser to reject.
 */
import { parseDuration } from '../../../model/duration.js';
import { LogqlParseError } from './errors.js';
import { parseBytes, parseDurationLiteral } from './values.js';

export type TokenKind = 'EOF' | 'IDENT' | 'STRING' | 'NUMBER' | 'DURATION' | 'BYTES' | 'RANGE' | 'FLAG' | 'PUNCT';

export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** STRING: the decoded value. */
  readonly value?: string;
  /** NUMBER: the number; BYTES: the size in bytes. */
  readonly num?: number;
  /** DURATION and RANGE: nanoseconds. */
  readonly ns?: bigint;
}

/** Multi-character operators, longest first where they share a prefix. */
const OPERATORS = ['!=', '!~', '!>', '=~', '==', '|=', '|~', '|>', '>=', '<='];

/** Go's one-character escapes in a double-quoted string (`\'` is only valid in single quotes). */
const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['a', '\x07'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
  ['v', '\v'],
  ['\\', '\\'],
  ['"', '"'],
]);

const NUMBER_RE = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const DURATION_RUNES = new Set(['n', 'u', 'µ', 'm', 's', 'h', 'd', 'w', 'y']);
const BYTES_RUNES = new Set(['B', 'i', 'k', 'K', 'M', 'G', 'T', 'P']);

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

export class Lexer {
  readonly #src: string;
  #pos = 0;
  #peeked: Token | undefined;

  constructor(src: string) {
    this.#src = src;
  }

  get source(): string {
    return this.#src;
  }

  peek(): Token {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  next(): Token {
    const t = this.peek();
    this.#peeked = undefined;
    return t;
  }

  /**
   * The token after the next one, without consuming either. Needed to tell a function name from
   * a label name (`rate(` versus `| rate > 5`).
   */
  peekSecond(): Token {
    const first = this.peek();
    const saved = this.#pos;
    const second = this.#scan();
    this.#pos = saved;
    this.#peeked = first;
    return second;
  }

  /** The token after the next two (for `sum by (` versus a label named `sum`). */
  peekThird(): Token {
    const first = this.peek();
    const saved = this.#pos;
    this.#scan();
    const third = this.#scan();
    this.#pos = saved;
    this.#peeked = first;
    return third;
  }

  #fail(pos: number, detail: string): never {
    throw new LogqlParseError(this.#src, pos, detail);
  }

  #skipSpaceAndComments(): void {
    const s = this.#src;
    while (this.#pos < s.length) {
      const c = s[this.#pos]!;
      if (isSpace(c)) {
        this.#pos++;
      } else if (c === '#') {
        while (this.#pos < s.length && s[this.#pos] !== '\n') this.#pos++;
      } else {
        return;
      }
    }
  }

  #scan(): Token {
    this.#skipSpaceAndComments();
    const s = this.#src;
    const start = this.#pos;
    if (start >= s.length) return { kind: 'EOF', text: '', start, end: start };
    const c = s[start]!;
    if (isIdentStart(c)) {
      let i = start + 1;
      while (i < s.length && isIdentPart(s[i]!)) i++;
      this.#pos = i;
      return { kind: 'IDENT', text: s.slice(start, i), start, end: i };
    }
    if (isDigit(c) || (c === '.' && isDigit(s[start + 1] ?? ''))) return this.#number(start);
    if (c === '"') return this.#quoted(start);
    if (c === '`') return this.#raw(start);
    if (c === '[') return this.#range(start);
    if (c === '-' && s[start + 1] === '-') {
      let i = start + 2;
      while (i < s.length && /[A-Za-z-]/.test(s[i]!)) i++;
      if (i > start + 2) {
        this.#pos = i;
        return { kind: 'FLAG', text: s.slice(start, i), start, end: i };
      }
    }
    for (const op of OPERATORS) {
      if (s.startsWith(op, start)) {
        this.#pos = start + op.length;
        return { kind: 'PUNCT', text: op, start, end: this.#pos };
      }
    }
    const cp = s.codePointAt(start)!;
    const len = cp > 0xffff ? 2 : 1;
    this.#pos = start + len;
    return { kind: 'PUNCT', text: s.slice(start, start + len), start, end: start + len };
  }

  /** A number, or a DURATION / BYTES when a unit follows it directly, as Loki's lexer decides. */
  #number(start: number): Token {
    const s = this.#src;
    NUMBER_RE.lastIndex = start;
    const m = NUMBER_RE.exec(s)!;
    const numEnd = start + m[0].length;
    const numText = m[0];
    const unit = (allowed: Set<string>): string => {
      let i = numEnd;
      while (i < s.length && !isSpace(s[i]!) && (isDigit(s[i]!) || s[i] === '.' || allowed.has(s[i]!))) i++;
      return s.slice(numEnd, i);
    };
    const durUnit = unit(DURATION_RUNES);
    if (durUnit !== '') {
      const ns = parseDurationLiteral(numText + durUnit);
      if (ns !== undefined) {
        this.#pos = numEnd + durUnit.length;
        return { kind: 'DURATION', text: s.slice(start, this.#pos), start, end: this.#pos, ns };
      }
    }
    const bytesUnit = unit(BYTES_RUNES);
    if (bytesUnit !== '') {
      const b = parseBytes(numText + bytesUnit);
      if (b !== undefined) {
        this.#pos = numEnd + bytesUnit.length;
        return { kind: 'BYTES', text: s.slice(start, this.#pos), start, end: this.#pos, num: b };
      }
    }
    this.#pos = numEnd;
    return { kind: 'NUMBER', text: numText, start, end: numEnd, num: Number(numText) };
  }

  /** `[5m]`: scanned whole, as Loki does, and read as a Prometheus duration. */
  #range(start: number): Token {
    const s = this.#src;
    const close = s.indexOf(']', start + 1);
    if (close < 0) this.#fail(start, "missing closing ']' in duration");
    const text = s.slice(start + 1, close);
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch {
      this.#fail(start + 1, `not a valid duration string: ${JSON.stringify(text)}`);
    }
    this.#pos = close + 1;
    return { kind: 'RANGE', text: s.slice(start, close + 1), start, end: close + 1, ns: BigInt(ms) * 1_000_000n };
  }

  #raw(start: number): Token {
    const s = this.#src;
    const close = s.indexOf('`', start + 1);
    if (close < 0) this.#fail(start, 'literal not terminated');
    this.#pos = close + 1;
    // Go drops carriage returns from raw strings.
    const value = s.slice(start + 1, close).replaceAll('\r', '');
    return { kind: 'STRING', text: s.slice(start, close + 1), start, end: close + 1, value };
  }

  /** A double-quoted string with Go's escapes; `\x`/octal bytes must form valid UTF-8. */
  #quoted(start: number): Token {
    const s = this.#src;
    let out = '';
    let bytes: number[] = [];
    const flushBytes = (at: number): void => {
      if (bytes.length === 0) return;
      try {
        out += new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
      } catch {
        this.#fail(at, 'invalid UTF-8 encoding');
      }
      bytes = [];
    };
    let i = start + 1;
    for (;;) {
      if (i >= s.length || s[i] === '\n') this.#fail(start, 'literal not terminated');
      const c = s[i]!;
      if (c === '"') break;
      if (c !== '\\') {
        flushBytes(i);
        out += c;
        i++;
        continue;
      }
      const escAt = i;
      const e = s[i + 1] ?? '';
      const simple = SIMPLE_ESCAPES.get(e);
      if (simple !== undefined) {
        flushBytes(escAt);
        out += simple;
        i += 2;
      } else if (e === 'x') {
        const hex = s.slice(i + 2, i + 4);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.#fail(escAt, 'invalid char escape');
        bytes.push(parseInt(hex, 16));
        i += 4;
      } else if (e >= '0' && e <= '7') {
        const oct = s.slice(i + 1, i + 4);
        if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) this.#fail(escAt, 'invalid char escape');
        bytes.push(parseInt(oct, 8));
        i += 4;
      } else if (e === 'u' || e === 'U') {
        const n = e === 'u' ? 4 : 8;
        const hex = s.slice(i + 2, i + 2 + n);
        const cp = parseInt(hex, 16);
        if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(hex) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          this.#fail(escAt, 'invalid char escape');
        }
        flushBytes(escAt);
        out += String.fromCodePoint(cp);
        i += 2 + n;
      } else {
        this.#fail(escAt, 'invalid char escape');
      }
    }
    flushBytes(i);
    this.#pos = i + 1;
    return { kind: 'STRING', text: s.slice(start, i + 1), start, end: i + 1, value: out };
  }
}
