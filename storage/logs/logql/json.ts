/**
 * JSON for LogQL's `| json`: flattening a line into labels, and extracting values by path.
 *
 * Loki's rules (pkg/logql/log/parser.go), kept here because users see them in label names:
 * - strings, numbers and booleans become labels; numbers keep their text (`1.50` stays `1.50`);
 *   `null` and arrays are skipped;
 * - nested objects are flattened with `_` (`{"a":{"b":1}}` → `a_b`); a key part that is blank is
 *   left out;
 * - every character that is not an ASCII letter, digit or `_` becomes `_`, and a name starting
 *   with a digit gets a leading `_`;
 * - the line must be a JSON object; otherwise, or when the JSON is malformed, the caller adds
 *   `__error__="JSONParserErr"` and keeps the labels read before the fault. Text after the
 *   closing brace is ignored, as Loki's parser ignores it.
 *
 * A hand-written scanner rather than `JSON.parse`, to keep number text, to report pairs in
 * document order with the first of duplicate keys reachable, and to stop at a nesting limit
 * instead of overflowing the stack on hostile input.
 */

/** Deeper nesting than this is treated as malformed. */
export const MAX_JSON_DEPTH = 512;

class JsonSyntaxError extends Error {}

/** Loki's `sanitizeLabelKey(key, true)`: trims, maps invalid characters to `_`, guards a leading digit. */
export function sanitizeLabelName(key: string): string {
  return appendPart('', key);
}

const VALID_NAME = /^[A-Za-z0-9_]*$/;

function mapInvalid(s: string): string {
  if (VALID_NAME.test(s)) return s;
  let out = '';
  // By code point: one `_` per character, as Loki maps runes.
  for (const ch of s) out += ch.length === 1 && VALID_NAME.test(ch) ? ch : '_';
  return out;
}

/** Appends one sanitized key part to a flattened name, as Loki's `appendSanitized`. */
function appendPart(prefix: string, part: string): string {
  const trimmed = part.trim();
  if (trimmed === '') return prefix;
  if (prefix === '') return mapInvalid(trimmed[0]! >= '0' && trimmed[0]! <= '9' ? `_${trimmed}` : trimmed);
  return `${prefix}_${mapInvalid(trimmed)}`;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  fail(what: string): never {
    const found = this.pos < this.s.length ? JSON.stringify(this.s[this.pos]) : 'end of line';
    throw new JsonSyntaxError(`${what} at offset ${this.pos}, found ${found}`);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  expect(ch: string, what: string): void {
    if (this.s[this.pos] !== ch) this.fail(what);
    this.pos++;
  }

  /**
   * A string at `pos` (which is `"`). Returns its value; an escape Loki cannot decode makes the
   * value "" (as Loki's `readValue` does) without making the JSON malformed.
   */
  string(): string {
    const s = this.s;
    const start = ++this.pos;
    let hasEscape = false;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s[this.pos]!;
      if (c === '"') break;
      if (c === '\\') {
        hasEscape = true;
        this.pos += 2;
      } else {
        this.pos++;
      }
    }
    const raw = s.slice(start, this.pos);
    this.pos++;
    const value = hasEscape ? (unescapeJsonString(raw) ?? '') : raw;
    // Loki replaces the Unicode replacement character (a decoding failure) with a space.
    return value.includes('\ufffd') ? value.replaceAll('\ufffd', ' ') : value;
  }

  number(): string {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail('invalid number');
    this.pos += m[0].length;
    return m[0];
  }

  literal(word: string): void {
    if (!this.s.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
  }

  /** Skips any value, checking it is well formed. */
  skipValue(depth: number): void {
    this.ws();
    const c = this.s[this.pos];
    if (c === '{') this.object(depth + 1, () => this.skipValue(depth + 1));
    else if (c === '[') this.array(depth + 1);
    else if (c === '"') this.string();
    else if (c === 't') this.literal('true');
    else if (c === 'f') this.literal('false');
    else if (c === 'n') this.literal('null');
    else this.number();
  }

  array(depth: number): void {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep');
    this.pos++; // [
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.skipValue(depth);
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect(']', "expecting ',' or ']'");
      return;
    }
  }

  /** Walks an object at `pos`; `onValue(key)` must consume the value after the colon. */
  object(depth: number, onValue: (key: string) => void): void {
    if (depth > MAX_JSON_DEPTH) this.fail('nesting too deep');
    this.pos++; // {
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail('expecting a string key');
      const key = this.string();
      this.ws();
      this.expect(':', "expecting ':'");
      this.ws();
      onValue(key);
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}', "expecting ',' or '}'");
      return;
    }
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The body of a JSON string literal (between the quotes) with its escapes resolved; undefined when
 * an escape is invalid. logfmt's quoted values use the same escapes (go-logfmt's `unquoteBytes`).
 */
export function unescapeJsonString(raw: string): string | undefined {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw[i + 1] ?? '';
    if (Object.hasOwn(ESCAPES, e)) {
      out += ESCAPES[e];
      i++;
    } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(raw.slice(i + 2, i + 6))) {
      // Lone surrogates stay as they are: JavaScript strings can carry them, and they are rare.
      out += String.fromCharCode(parseInt(raw.slice(i + 2, i + 6), 16));
      i += 5;
    } else {
      return undefined;
    }
  }
  return out;
}

/**
 * Flattens a JSON object line into labels, calling `emit(name, value)` in document order
 * (duplicates included: the caller keeps the first). Returns undefined, or what was wrong.
 */
export function flattenJson(line: string, emit: (name: string, value: string) => void): string | undefined {
  const sc = new Scanner(line);
  sc.ws();
  if (line[sc.pos] !== '{') return 'expecting a JSON object';
  const walk = (prefix: string, depth: number) => (key: string) => {
    const c = line[sc.pos];
    if (c === '{') {
      sc.object(depth + 1, walk(appendPart(prefix, key), depth + 1));
      return;
    }
    if (c === '[' || c === 'n') {
      sc.skipValue(depth);
      return;
    }
    let value: string;
    if (c === '"') value = sc.string();
    else if (c === 't') {
      sc.literal('true');
      value = 'true';
    } else if (c === 'f') {
      sc.literal('false');
      value = 'false';
    } else value = sc.number();
    const name = appendPart(prefix, key);
    if (name !== '') emit(name, value);
  };
  try {
    sc.object(1, walk('', 1));
    return undefined;
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err.message;
    throw err;
  }
}

/** A path step of `| json a="x.y[0][\"z\"]"`: an object key or an array index. */
export type JsonPathStep = string | number;

export class JsonPathError extends Error {}

/**
 * Parses an extraction expression as Loki's jsonexpr does: `field`, `.field`, `["key"]`, `[0]`,
 * in any combination (`my.list[0]["field"]`).
 */
export function parseJsonPath(expr: string): JsonPathStep[] {
  const steps: JsonPathStep[] = [];
  let i = 0;
  const field = (): void => {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i));
    if (!m) throw new JsonPathError(`unexpected ${describe(expr, i)} in json path ${JSON.stringify(expr)}`);
    steps.push(m[0]);
    i += m[0].length;
  };
  const ws = (): void => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  ws();
  if (expr[i] !== '[') field();
  for (;;) {
    ws();
    if (i >= expr.length) break;
    if (expr[i] === '.') {
      i++;
      ws();
      field();
    } else if (expr[i] === '[') {
      i++;
      ws();
      const idx = /^\d+/.exec(expr.slice(i));
      if (idx) {
        steps.push(Number(idx[0]));
        i += idx[0].length;
      } else if (expr[i] === '"') {
        // Loki's jsonexpr ends a quoted key at the next `"` or `]`; there are no escapes.
        const end = expr.slice(i + 1).search(/["\]]/);
        if (end < 0) throw new JsonPathError(`unterminated key in json path ${JSON.stringify(expr)}`);
        steps.push(expr.slice(i + 1, i + 1 + end));
        i += end + 2;
      } else {
        throw new JsonPathError(`unexpected ${describe(expr, i)} in json path ${JSON.stringify(expr)}`);
      }
      ws();
      if (expr[i] !== ']') throw new JsonPathError(`expecting ']' in json path ${JSON.stringify(expr)}`);
      i++;
    } else {
      throw new JsonPathError(`unexpected ${describe(expr, i)} in json path ${JSON.stringify(expr)}`);
    }
  }
  if (steps.length === 0) throw new JsonPathError('empty json path');
  return steps;
}

function describe(s: string, i: number): string {
  return i < s.length ? JSON.stringify(s[i]) : 'end of expression';
}

export interface JsonPathResult {
  /** One value per path: undefined when absent, "" for null, raw JSON text for objects and arrays. */
  readonly values: (string | undefined)[];
  readonly error?: string;
}

/**
 * Extracts values by path from one line. The line must start with `{`, `[` or `"` (as in Loki,
 * no leading space); otherwise `error` is set and no value is found. Values found before a
 * malformed part are kept.
 */
export function extractJsonPaths(line: string, paths: readonly (readonly JsonPathStep[])[]): JsonPathResult {
  const values: (string | undefined)[] = paths.map(() => undefined);
  const c = line[0];
  if (c !== '{' && c !== '[' && c !== '"') return { values, error: 'expecting a JSON object or array' };
  const sc = new Scanner(line);
  const found = new Set<number>();
  // Visit the document once, descending only where some path still matches.
  const visit = (active: readonly number[], depth: number, stepIdx: number): void => {
    sc.ws();
    const start = sc.pos;
    const ch = line[sc.pos];
    const deeper = active.filter((p) => paths[p]!.length > stepIdx);
    let scalar: string | undefined;
    if (ch === '{') {
      sc.object(depth + 1, (key) => {
        const next = deeper.filter((p) => paths[p]![stepIdx] === key && !found.has(p));
        if (next.length > 0) visit(next, depth + 1, stepIdx + 1);
        else sc.skipValue(depth + 1);
      });
    } else if (ch === '[') {
      if (depth + 1 > MAX_JSON_DEPTH) sc.fail('nesting too deep');
      sc.pos++;
      sc.ws();
      if (line[sc.pos] === ']') sc.pos++;
      else {
        for (let index = 0; ; index++) {
          const next = deeper.filter((p) => paths[p]![stepIdx] === index && !found.has(p));
          if (next.length > 0) visit(next, depth + 1, stepIdx + 1);
          else sc.skipValue(depth + 1);
          sc.ws();
          if (line[sc.pos] !== ',') break;
          sc.pos++;
        }
        sc.expect(']', "expecting ',' or ']'");
      }
    } else if (ch === '"') {
      scalar = sc.string();
    } else if (ch === 'n') {
      sc.literal('null');
      scalar = '';
    } else if (ch === 't') {
      sc.literal('true');
      scalar = 'true';
    } else if (ch === 'f') {
      sc.literal('false');
      scalar = 'false';
    } else {
      scalar = sc.number();
    }
    for (const p of active) {
      if (paths[p]!.length === stepIdx && !found.has(p)) {
        values[p] = scalar ?? line.slice(start, sc.pos);
        found.add(p);
      }
    }
  };
  try {
    visit(
      paths.map((_, i) => i),
      0,
      0,
    );
    return { values };
  } catch (err) {
    if (err instanceof JsonSyntaxError) return { values, error: err.message };
    throw err;
  }
}
