/**
 * RE2 regular expressions (what LogQL matchers and line filters are written in) translated into
 * Lucene's regexp syntax (what Elasticsearch `regexp` queries take).
 *
 * The two differ in ways that change results, not just spelling:
 * - Lucene regexps always match the whole term. Matchers are anchored anyway (Prometheus
 *   semantics); line filters are not, so each top-level alternative is wrapped in `.*…​.*`, except
 *   on the side where the alternative is anchored by `^`/`$`.
 * - Lucene has no anchors, no word boundaries, no Unicode classes, no scoped flags and no lazy
 *   quantifiers; its `.` matches newlines while RE2's does not unless `(?s)`; and `# @ & < > ~ "`
 *   are operators. So the pattern is parsed as RE2 (Go's `regexp/syntax` rules) and re-rendered:
 *   case-insensitivity becomes `[xX]` classes, Perl and POSIX classes become ranges, `.` becomes
 *   `[^\n]` where RE2 would not match a newline, laziness is dropped (it never changes whether a
 *   string matches), and every literal that is not a letter or digit is backslash-escaped.
 * - What Lucene cannot express (`\b`, `\pL`, `(?m)` anchors, anchors in mid-pattern) is refused
 *   with a `RegexpTranslationError` saying so, rather than silently matching something else.
 */

export class RegexpTranslationError extends Error {
  constructor(
    readonly pattern: string,
    /** `invalid`: RE2 itself rejects the pattern; `unsupported`: valid RE2 Lucene cannot express. */
    readonly kind: 'invalid' | 'unsupported',
    readonly reason: string,
  ) {
    super(
      kind === 'invalid'
        ? `invalid regular expression ${JSON.stringify(pattern)}: ${reason}`
        : `regular expression ${JSON.stringify(pattern)} cannot be searched in Elasticsearch: ${reason}`,
    );
    this.name = 'RegexpTranslationError';
  }
}

export interface LuceneRegexpOptions {
  /** True for label matchers (whole value), false for line filters (anywhere in the line). */
  readonly anchored: boolean;
  /** Whether `.` matches a newline without `(?s)`: Prometheus matchers compile as `(?s:…)`. */
  readonly dotAll: boolean;
}

export interface LuceneRegexp {
  /** Lucene regexp source, for a `regexp` query's `value`. */
  readonly source: string;
  /** True when the pattern matches every string, so the query needs no clause for it. */
  readonly matchesAll: boolean;
  /**
   * Set when an anchored pattern is nothing but an alternation of plain strings (`a|b|c`, what
   * Grafana's multi-value variables produce): a `terms` query is cheaper than a regexp.
   */
  readonly literals?: readonly string[];
}

type Range = readonly [number, number];

type Node =
  | { readonly kind: 'empty' }
  | { readonly kind: 'char'; readonly cp: number }
  | { readonly kind: 'class'; readonly negated: boolean; readonly ranges: readonly Range[] }
  | { readonly kind: 'any'; readonly newline: boolean }
  | { readonly kind: 'bol' }
  | { readonly kind: 'eol' }
  | { readonly kind: 'concat'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly items: readonly Node[] }
  | { readonly kind: 'group'; readonly node: Node }
  | { readonly kind: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

interface Flags {
  readonly i: boolean;
  readonly s: boolean;
  readonly m: boolean;
}

const MAX_CODE_POINT = 0x10ffff;
const MAX_REPEAT = 1000;
const MAX_NESTING = 1000;

const PERL_CLASSES: Record<string, readonly Range[]> = {
  d: [[0x30, 0x39]],
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
};

const POSIX_CLASSES: Record<string, readonly Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** Sorted, non-overlapping, non-adjacent ranges. */
function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

function otherCase(cp: number): number | undefined {
  const ch = String.fromCodePoint(cp);
  const other = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
  if (other === ch || [...other].length !== 1) return undefined;
  return other.codePointAt(0);
}

/** Adds the other case of every letter; wide ranges are folded only in their ASCII part. */
function foldRanges(ranges: readonly Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    const to = hi - lo > 2000 ? Math.min(hi, 0x7f) : hi;
    for (let cp = lo; cp <= to; cp++) {
      const o = otherCase(cp);
      if (o !== undefined) out.push([o, o]);
    }
  }
  return normalize(out);
}

class Parser {
  readonly #p: string;
  #pos = 0;
  #depth = 0;
  #flags: Flags;

  constructor(pattern: string, dotAll: boolean) {
    this.#p = pattern;
    this.#flags = { i: false, s: dotAll, m: false };
  }

  invalid(reason: string): never {
    throw new RegexpTranslationError(this.#p, 'invalid', reason);
  }

  unsupported(reason: string): never {
    throw new RegexpTranslationError(this.#p, 'unsupported', reason);
  }

  parse(): Node {
    const node = this.#alternation();
    if (this.#pos < this.#p.length) this.invalid(`unexpected ) at offset ${this.#pos}`);
    return node;
  }

  /** Matches a sticky regex at the current position, without consuming. */
  #match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.#pos;
    return re.exec(this.#p);
  }

  #peek(offset = 0): string {
    return this.#p[this.#pos + offset] ?? '';
  }

  #codePoint(): number {
    const cp = this.#p.codePointAt(this.#pos)!;
    if (cp >= 0xd800 && cp <= 0xdfff) this.invalid(`invalid UTF-8 (lone surrogate) at offset ${this.#pos}`);
    this.#pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  /** Alternatives up to the end of the pattern or an unmatched `)`; flags set inside stay inside. */
  #alternation(): Node {
    const saved = this.#flags;
    const branches: Node[] = [this.#concat()];
    while (this.#peek() === '|') {
      this.#pos++;
      branches.push(this.#concat());
    }
    this.#flags = saved;
    return branches.length === 1 ? branches[0]! : { kind: 'alt', items: branches };
  }

  #concat(): Node {
    const items: Node[] = [];
    // Whether the last item was produced by a repetition operator: RE2 refuses `a**`.
    let lastRepeated = false;
    while (this.#pos < this.#p.length) {
      const c = this.#peek();
      if (c === '|' || c === ')') break;
      const repeat = this.#repetition();
      if (repeat) {
        const last = items.pop();
        if (last === undefined) this.invalid(`missing argument to repetition operator at offset ${repeat.at}`);
        if (lastRepeated) this.invalid(`invalid nested repetition operator at offset ${repeat.at}`);
        if (last.kind === 'bol' || last.kind === 'eol') this.unsupported('a repeated anchor has no Lucene equivalent');
        items.push({ kind: 'repeat', node: last, min: repeat.min, max: repeat.max });
        lastRepeated = true;
        continue;
      }
      lastRepeated = false;
      const atom = this.#atom();
      if (Array.isArray(atom)) items.push(...atom);
      else if (atom) items.push(atom);
    }
    if (items.length === 0) return { kind: 'empty' };
    return items.length === 1 ? items[0]! : { kind: 'concat', items };
  }

  /** Reads `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` (and a lazy `?` after it, which changes nothing here). */
  #repetition(): { min: number; max: number; at: number } | undefined {
    const at = this.#pos;
    const c = this.#peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.#pos++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      const m = this.#match(/\{(\d+)(,(\d*))?\}/y);
      if (!m) return undefined; // RE2 reads a brace that starts no repeat as a literal
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > MAX_REPEAT || (max !== Infinity && (max > MAX_REPEAT || max < min))) this.invalid(`invalid repeat count ${m[0]}`);
      this.#pos += m[0].length;
    } else {
      return undefined;
    }
    if (this.#peek() === '?') this.#pos++;
    return { min, max, at };
  }

  /** One atom; several for `\Q…\E`, since a repetition after it applies to its last character only. */
  #atom(): Node | Node[] | undefined {
    const c = this.#peek();
    switch (c) {
      case '(':
        return this.#group();
      case '[':
        return this.#class();
      case '\\':
        return this.#escape();
      case '.':
        this.#pos++;
        return { kind: 'any', newline: this.#flags.s };
      case '^':
      case '$':
        this.#pos++;
        if (this.#flags.m) this.unsupported(`${c} in multi-line mode (?m) has no Lucene equivalent`);
        return { kind: c === '^' ? 'bol' : 'eol' };
      default:
        return this.#literal(this.#codePoint());
    }
  }

  #literal(cp: number): Node {
    if (this.#flags.i) {
      const other = otherCase(cp);
      if (other !== undefined) return { kind: 'class', negated: false, ranges: normalize([[cp, cp], [other, other]]) };
    }
    return { kind: 'char', cp };
  }

  #group(): Node | undefined {
    const start = this.#pos;
    this.#pos++; // (
    // RE2 refuses deeper nesting too; it also keeps this recursive parser off the stack limit.
    if (++this.#depth > MAX_NESTING) this.invalid('expression nests too deeply');
    try {
      return this.#groupBody(start);
    } finally {
      this.#depth--;
    }
  }

  #groupBody(start: number): Node | undefined {
    if (this.#peek() === '?') {
      const named = this.#match(/\?P?<([A-Za-z_][A-Za-z0-9_]*)>/y);
      if (named) {
        this.#pos += named[0].length;
      } else {
        const flags = this.#match(/\?([imsU]*)(?:-([imsU]*))?([:)])/y);
        if (!flags || flags[2] === '' || (flags[1] === '' && flags[2] === undefined && flags[3] === ')')) {
          this.invalid(`invalid or unsupported Perl syntax at offset ${start}`);
        }
        const next = { ...this.#flags };
        for (const f of flags[1]!) if (f !== 'U') next[f as keyof Flags] = true;
        for (const f of flags[2] ?? '') if (f !== 'U') next[f as keyof Flags] = false;
        this.#pos += flags[0].length;
        if (flags[3] === ')') {
          // `(?i)`: applies to the rest of the enclosing group.
          this.#flags = next;
          return undefined;
        }
        const saved = this.#flags;
        this.#flags = next;
        const node = this.#alternation();
        this.#flags = saved;
        return this.#closeGroup(start, node);
      }
    }
    return this.#closeGroup(start, this.#alternation());
  }

  #closeGroup(start: number, node: Node): Node {
    if (this.#peek() !== ')') this.invalid(`missing closing ) for the group at offset ${start}`);
    this.#pos++;
    return { kind: 'group', node };
  }

  #escape(): Node | Node[] | undefined {
    const start = this.#pos;
    this.#pos++; // backslash
    if (this.#pos >= this.#p.length) this.invalid('trailing backslash at end of expression');
    const c = this.#peek();
    switch (c) {
      case 'A':
        this.#pos++;
        return { kind: 'bol' };
      case 'z':
        this.#pos++;
        return { kind: 'eol' };
      case 'b':
      case 'B':
        return this.unsupported(`word boundary \\${c} has no Lucene equivalent`);
      case 'Q': {
        this.#pos++;
        const end = this.#p.indexOf('\\E', this.#pos);
        const text = end < 0 ? this.#p.slice(this.#pos) : this.#p.slice(this.#pos, end);
        const items: Node[] = [];
        let i = 0;
        while (i < text.length) {
          const cp = text.codePointAt(i)!;
          if (cp >= 0xd800 && cp <= 0xdfff) this.invalid(`invalid UTF-8 (lone surrogate) in \\Q…\\E at offset ${start}`);
          items.push(this.#literal(cp));
          i += cp > 0xffff ? 2 : 1;
        }
        this.#pos = end < 0 ? this.#p.length : end + 2;
        return items;
      }
      default: {
        const ranges = this.#classEscape(start);
        if (ranges.length === 1 && ranges[0]![0] === ranges[0]![1]) return this.#literal(ranges[0]![0]);
        return { kind: 'class', negated: false, ranges };
      }
    }
  }

  /**
   * An escape that stands for a set of code points (a single literal is a one-element set), as it
   * may appear both inside and outside a class. Position is just past the backslash.
   */
  #classEscape(start: number): Range[] {
    const c = this.#peek();
    if (c === 'd' || c === 's' || c === 'w') {
      this.#pos++;
      return this.#flags.i ? foldRanges(PERL_CLASSES[c]!) : [...PERL_CLASSES[c]!];
    }
    if (c === 'D' || c === 'S' || c === 'W') {
      this.#pos++;
      const set = PERL_CLASSES[c.toLowerCase()]!;
      return complement(this.#flags.i ? foldRanges(set) : set);
    }
    if (c === 'p' || c === 'P') this.unsupported(`Unicode class \\${c} has no Lucene equivalent`);
    const cp = this.#escapedCodePoint(start);
    return [[cp, cp]];
  }

  /** A single-character escape; position is just past the backslash. */
  #escapedCodePoint(start: number): number {
    const c = this.#peek();
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (c in simple) {
      this.#pos++;
      return simple[c]!;
    }
    if (c === 'x') {
      this.#pos++;
      if (this.#peek() === '{') {
        const end = this.#p.indexOf('}', this.#pos);
        const hex = end < 0 ? '' : this.#p.slice(this.#pos + 1, end);
        if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || parseInt(hex, 16) > MAX_CODE_POINT) this.invalid(`invalid escape sequence at offset ${start}`);
        this.#pos = end + 1;
        const cp = parseInt(hex, 16);
        if (cp >= 0xd800 && cp <= 0xdfff) this.invalid(`invalid escape sequence (surrogate) at offset ${start}`);
        return cp;
      }
      const hex = this.#p.slice(this.#pos, this.#pos + 2);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.invalid(`invalid escape sequence at offset ${start}`);
      this.#pos += 2;
      return parseInt(hex, 16);
    }
    if (c >= '0' && c <= '7') {
      const digits = this.#match(/[0-7]{1,3}/y)![0];
      // A single non-zero digit would be a backreference, which RE2 does not have.
      if (digits.length === 1 && digits !== '0') this.invalid(`invalid escape sequence \\${c} (backreference) at offset ${start}`);
      this.#pos += digits.length;
      return parseInt(digits, 8);
    }
    const cp = this.#p.codePointAt(this.#pos)!;
    // RE2 allows escaping ASCII punctuation only.
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) {
      this.#pos++;
      return cp;
    }
    this.invalid(`invalid escape sequence \\${String.fromCodePoint(cp)} at offset ${start}`);
  }

  #class(): Node {
    const start = this.#pos;
    this.#pos++; // [
    let negated = false;
    if (this.#peek() === '^') {
      negated = true;
      this.#pos++;
    }
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      if (this.#pos >= this.#p.length) this.invalid(`missing closing ] for the class at offset ${start}`);
      const c = this.#peek();
      if (c === ']' && !first) {
        this.#pos++;
        break;
      }
      first = false;
      if (c === '[' && this.#peek(1) === ':') {
        const m = this.#match(/\[:(\^?)([a-z]+):\]/y);
        if (m) {
          const set = POSIX_CLASSES[m[2]!];
          if (set === undefined) this.invalid(`invalid character class range [:${m[2]}:] at offset ${this.#pos}`);
          ranges.push(...(m[1] ? complement(set) : set));
          this.#pos += m[0].length;
          continue;
        }
      }
      const lo = this.#classMember();
      if (lo.length !== 1 || lo[0]![0] !== lo[0]![1]) {
        ranges.push(...lo);
        continue;
      }
      if (this.#peek() === '-' && this.#peek(1) !== ']' && this.#peek(1) !== '') {
        const dash = this.#pos;
        this.#pos++;
        const hi = this.#classMember();
        if (hi.length !== 1 || hi[0]![0] !== hi[0]![1]) this.invalid(`invalid character class range at offset ${dash}`);
        if (hi[0]![0] < lo[0]![0]) this.invalid(`invalid character class range at offset ${dash}`);
        ranges.push([lo[0]![0], hi[0]![0]]);
      } else {
        ranges.push(lo[0]!);
      }
    }
    const set = this.#flags.i ? foldRanges(ranges) : normalize(ranges);
    return { kind: 'class', negated, ranges: set };
  }

  /** One member of a class: a code point (as a one-element set) or an escaped class. */
  #classMember(): Range[] {
    if (this.#peek() === '\\') {
      const start = this.#pos;
      this.#pos++;
      if (this.#pos >= this.#p.length) this.invalid('trailing backslash at end of expression');
      const c = this.#peek();
      if (c === 'Q' || c === 'E' || c === 'A' || c === 'z' || c === 'b' || c === 'B') {
        this.invalid(`invalid escape sequence \\${c} in a class at offset ${start}`);
      }
      return this.#classEscape(start);
    }
    const cp = this.#codePoint();
    return [[cp, cp]];
  }
}

/** Letters and digits are themselves in Lucene; anything else is escaped to be a literal. */
function luceneChar(cp: number): string {
  const ch = String.fromCodePoint(cp);
  return /^[0-9A-Za-z]$/.test(ch) ? ch : `\\${ch}`;
}

function renderRanges(ranges: readonly Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? luceneChar(lo) : `${luceneChar(lo)}-${luceneChar(hi)}`)).join('');
}

function render(node: Node): string {
  switch (node.kind) {
    case 'empty':
      return '()';
    case 'char':
      return luceneChar(node.cp);
    case 'class': {
      // `\D`, `[^…]` folded into a bigger class and the like are shorter as a negation.
      const inverse = complement(node.ranges);
      if (inverse.length > 0 && inverse.length < node.ranges.length) return `[${node.negated ? '' : '^'}${renderRanges(inverse)}]`;
      return `[${node.negated ? '^' : ''}${renderRanges(node.ranges)}]`;
    }
    case 'any':
      // Lucene's `.` is any code point, newline included.
      return node.newline ? '.' : '[^\\\n]';
    case 'bol':
    case 'eol':
      throw new Error('anchors are placed by the caller');
    case 'concat':
      return node.items.map(render).join('');
    case 'alt':
      return node.items.map((b) => (b.kind === 'empty' ? '()' : render(b))).join('|');
    case 'group':
      return node.node.kind === 'empty' ? '()' : `(${render(node.node)})`;
    case 'repeat': {
      const inner = node.node.kind === 'concat' || node.node.kind === 'alt' ? `(${render(node.node)})` : render(node.node);
      if (node.min === 0 && node.max === Infinity) return `${inner}*`;
      if (node.min === 1 && node.max === Infinity) return `${inner}+`;
      if (node.min === 0 && node.max === 1) return `${inner}?`;
      if (node.max === Infinity) return `${inner}{${node.min},}`;
      if (node.min === node.max) return `${inner}{${node.min}}`;
      return `${inner}{${node.min},${node.max}}`;
    }
  }
}

function containsAnchor(node: Node): boolean {
  switch (node.kind) {
    case 'bol':
    case 'eol':
      return true;
    case 'concat':
    case 'alt':
      return node.items.some(containsAnchor);
    case 'group':
    case 'repeat':
      return containsAnchor(node.node);
    default:
      return false;
  }
}

interface Branch {
  readonly body: readonly Node[];
  readonly startAnchored: boolean;
  readonly endAnchored: boolean;
}

/** Splits a top-level alternative into leading anchors, body and trailing anchors. */
function branchOf(node: Node, fail: (reason: string) => never): Branch {
  const items = node.kind === 'concat' ? [...node.items] : node.kind === 'empty' ? [] : [node];
  let startAnchored = false;
  let endAnchored = false;
  while (items.length > 0 && items[0]!.kind === 'bol') {
    items.shift();
    startAnchored = true;
  }
  while (items.length > 0 && items[items.length - 1]!.kind === 'eol') {
    items.pop();
    endAnchored = true;
  }
  if (items.some(containsAnchor)) fail('^, $, \\A and \\z are only supported at the start or end of the pattern or of a top-level alternative');
  return { body: items, startAnchored, endAnchored };
}

function literalText(items: readonly Node[]): string | undefined {
  let out = '';
  for (const n of items) {
    if (n.kind === 'char') out += String.fromCodePoint(n.cp);
    else if (n.kind === 'group') {
      const inner = literalText(n.node.kind === 'concat' ? n.node.items : n.node.kind === 'empty' ? [] : [n.node]);
      if (inner === undefined) return undefined;
      out += inner;
    } else return undefined;
  }
  return out;
}

/** True for bodies that match any string at all: `.*` with newlines, or nothing but such. */
function matchesEverything(items: readonly Node[]): boolean {
  return items.length > 0 && items.every((n) => n.kind === 'repeat' && n.min === 0 && n.max === Infinity && n.node.kind === 'any' && n.node.newline);
}

/** Translates an RE2 pattern; throws `RegexpTranslationError` and nothing else. */
export function toLuceneRegexp(pattern: string, options: LuceneRegexpOptions): LuceneRegexp {
  const parser = new Parser(pattern, options.dotAll);
  let root: Node;
  try {
    root = parser.parse();
  } catch (err) {
    if (err instanceof RegexpTranslationError) throw err;
    // A parser bug must still surface as the documented error type, with the cause kept.
    throw new RegexpTranslationError(pattern, 'invalid', `could not be parsed (${(err as Error).message})`);
  }
  const fail = (reason: string): never => parser.unsupported(reason);
  const branches = (root.kind === 'alt' ? root.items : [root]).map((b) => branchOf(b, fail));

  if (options.anchored) {
    const literals = branches.map((b) => literalText(b.body));
    const source = branches.map((b) => (b.body.length === 0 ? '()' : b.body.map(render).join(''))).join('|');
    return {
      source,
      matchesAll: branches.some((b) => matchesEverything(b.body)),
      ...(literals.every((l) => l !== undefined) ? { literals: literals as string[] } : {}),
    };
  }
  const parts = branches.map((b) => {
    const body = b.body.map(render).join('');
    return `${b.startAnchored ? '' : '.*'}${body}${b.endAnchored ? '' : '.*'}`;
  });
  const matchesAll = branches.some((b) => (b.body.length === 0 ? !b.startAnchored || !b.endAnchored : matchesEverything(b.body)));
  return { source: parts.map((p) => (p === '' ? '()' : p)).join('|'), matchesAll };
}
