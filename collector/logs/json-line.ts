/**
 * JSON log lines flattened into fields, as LogQL's `| json` does (grafana/loki
 * pkg/logql/log/parser.go): nested objects become `parent_child` keys, arrays and nulls are
 * skipped, numbers keep their text (`1e3` stays `1e3`, 20-digit IDs keep every digit), booleans
 * become `true`/`false`, and keys are sanitised to `[A-Za-z0-9_]` with a `_` before a leading
 * digit, empty key parts dropped.
 *
 * A scanner rather than JSON.parse: it keeps number text exactly, builds the flat map in one
 * pass, and refuses anything that is not one JSON object (trailing text, bad escapes, raw
 * control characters), in which case the line is treated as plain text.
 */
import type { LogLevel } from '../../model/logs.js';
import { levelFromValue } from './level.js';

/** Deeper objects are validated but not flattened; this also bounds the recursion. */
const MAX_FLATTEN_DEPTH = 32;

/** Fields consulted for the level, in order: `log.level` is ECS's dotted key and also `{"log":{"level"}}`. */
const LEVEL_FIELDS = ['level', 'lvl', 'severity', 'log_level'] as const;

class JsonSyntax extends Error {}

const fail = (): never => {
  throw new JsonSyntax();
};

/**
 * Flattens JSON lines. Keeps the keys of the previous line: lines of one container mostly repeat
 * the same keys in the same order, and a key found again at the same place is reused without
 * slicing, sanitising or interning it anew. One per file.
 */
export class JsonFieldParser {
  readonly #scanner = new Scanner();

  /** The flattened fields of `text` if it is exactly one JSON object (surrounding whitespace allowed), else undefined. */
  parse(text: string): Record<string, string> | undefined {
    try {
      return this.#scanner.document(text);
    } catch (err) {
      if (err instanceof JsonSyntax) return undefined;
      throw err;
    }
  }
}

let shared: JsonFieldParser | undefined;

/** The flattened fields of `text` if it is exactly one JSON object (surrounding whitespace allowed), else undefined. */
export function parseJsonFields(text: string): Record<string, string> | undefined {
  shared ??= new JsonFieldParser();
  return shared.parse(text);
}

/** The level named by the first level field present, or undefined. */
export function levelFromFields(fields: Readonly<Record<string, string>>): LogLevel | undefined {
  for (const name of LEVEL_FIELDS) {
    const value = fields[name];
    if (value !== undefined) {
      const level = levelFromValue(value);
      if (level !== undefined) return level;
    }
  }
  return undefined;
}

/** A key as it appeared at one position of the previous document. */
interface CachedKey {
  /** The key's text between its quotes (only keys without escapes are cached). */
  readonly raw: string;
  readonly prefix: string;
  readonly full: string;
}

/** Keys remembered per document: enough for the members of an ordinary log line. */
const KEY_CACHE_SIZE = 64;

class Scanner {
  #s = '';
  #i = 0;
  /** The n-th key of the previous document, by n. */
  readonly #keys: Array<CachedKey | undefined> = [];
  #keyIndex = 0;

  document(text: string): Record<string, string> {
    this.#s = text;
    this.#i = 0;
    this.#keyIndex = 0;
    const out: Record<string, string> = {};
    this.#ws();
    this.#object(out, '', 0);
    this.#ws();
    if (this.#i !== this.#s.length) fail();
    return out;
  }

  #ws(): void {
    const s = this.#s;
    let i = this.#i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    }
    this.#i = i;
  }

  #expect(c: number): void {
    if (this.#s.charCodeAt(this.#i) !== c) fail();
    this.#i++;
  }

  /** An object at `#i`, its scalar members stored under `prefix` + sanitised key. */
  #object(out: Record<string, string>, prefix: string, depth: number): void {
    this.#expect(0x7b /* { */);
    this.#ws();
    if (this.#s.charCodeAt(this.#i) === 0x7d /* } */) {
      this.#i++;
      return;
    }
    for (;;) {
      this.#ws();
      if (this.#s.charCodeAt(this.#i) !== 0x22) fail();
      const key = this.#key(prefix);
      this.#ws();
      this.#expect(0x3a /* : */);
      this.#ws();
      this.#member(out, key, depth);
      this.#ws();
      const c = this.#s.charCodeAt(this.#i++);
      if (c === 0x7d /* } */) return;
      if (c !== 0x2c /* , */) fail();
    }
  }

  /** The full (prefixed, sanitised) name of the key at `#i`. */
  #key(prefix: string): string {
    const s = this.#s;
    const start = this.#i + 1;
    const n = this.#keyIndex++;
    const cached = n < KEY_CACHE_SIZE ? this.#keys[n] : undefined;
    if (cached !== undefined && cached.prefix === prefix && s.startsWith(cached.raw, start) && s.charCodeAt(start + cached.raw.length) === 0x22) {
      this.#i = start + cached.raw.length + 1;
      return cached.full;
    }
    const raw = this.#string();
    const full = joinKey(prefix, raw);
    // Without escapes the decoded key is its text, so the text can be matched next time.
    if (n < KEY_CACHE_SIZE && this.#i - start === raw.length + 1) this.#keys[n] = { raw, prefix, full };
    return full;
  }

  #member(out: Record<string, string>, key: string, depth: number): void {
    const s = this.#s;
    const c = s.charCodeAt(this.#i);
    if (c === 0x22 /* " */) {
      const value = this.#string();
      if (key !== '') setField(out, key, value);
    } else if (c === 0x7b /* { */) {
      if (depth + 1 < MAX_FLATTEN_DEPTH) this.#object(out, key, depth + 1);
      else this.#skipContainer();
    } else if (c === 0x5b /* [ */) {
      this.#skipContainer();
    } else if (c === 0x74 /* t */) {
      this.#literal('true');
      if (key !== '') setField(out, key, 'true');
    } else if (c === 0x66 /* f */) {
      this.#literal('false');
      if (key !== '') setField(out, key, 'false');
    } else if (c === 0x6e /* n */) {
      this.#literal('null');
    } else {
      const start = this.#i;
      this.#number();
      if (key !== '') setField(out, key, s.slice(start, this.#i));
    }
  }

  #literal(word: string): void {
    if (!this.#s.startsWith(word, this.#i)) fail();
    this.#i += word.length;
  }

  /** RFC 8259 number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. */
  #number(): void {
    const s = this.#s;
    let i = this.#i;
    if (s.charCodeAt(i) === 0x2d /* - */) i++;
    const first = s.charCodeAt(i);
    if (first === 0x30) i++;
    else if (first >= 0x31 && first <= 0x39) i = digits(s, i);
    else fail();
    if (s.charCodeAt(i) === 0x2e /* . */) {
      const after = digits(s, i + 1);
      if (after === i + 1) fail();
      i = after;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      const after = digits(s, i);
      if (after === i) fail();
      i = after;
    }
    this.#i = i;
  }

  /** A string at `#i` (on its opening quote), decoded. */
  #string(): string {
    const s = this.#s;
    const start = this.#i + 1;
    let i = start;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.#i = i + 1;
        return s.slice(start, i);
      }
      if (c === 0x5c) break;
      if (c < 0x20) fail();
    }
    if (i >= s.length) fail();
    // Escapes: decode piece by piece.
    let out = s.slice(start, i);
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.#i = i + 1;
        return out;
      }
      if (c < 0x20) fail();
      if (c !== 0x5c) {
        let j = i + 1;
        while (j < s.length) {
          const d = s.charCodeAt(j);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          j++;
        }
        out += s.slice(i, j);
        i = j;
        continue;
      }
      const e = s.charCodeAt(i + 1);
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const code = hex4(s, i + 2);
          out += String.fromCharCode(code);
          i += 4;
          break;
        }
        default: fail();
      }
      i += 2;
    }
    return fail();
  }

  /** Skips an array or object at `#i`, validating it, without recursion. */
  #skipContainer(): void {
    const s = this.#s;
    // Each open container: true for an object (expects `"key":` before values), false for an array.
    const stack: boolean[] = [];
    const open = (): void => {
      const c = s.charCodeAt(this.#i++);
      stack.push(c === 0x7b);
      this.#ws();
      const close = s.charCodeAt(this.#i);
      if (close === (c === 0x7b ? 0x7d : 0x5d)) {
        this.#i++;
        stack.pop();
        afterValue();
      } else {
        beforeValue();
      }
    };
    const beforeValue = (): void => {
      if (stack[stack.length - 1]) {
        this.#ws();
        if (s.charCodeAt(this.#i) !== 0x22) fail();
        this.#string();
        this.#ws();
        this.#expect(0x3a);
      }
      this.#ws();
    };
    // After a complete value: a separator or closers, until a new value is due or all are closed.
    const afterValue = (): void => {
      while (stack.length > 0) {
        this.#ws();
        const c = s.charCodeAt(this.#i++);
        if (c === 0x2c) {
          beforeValue();
          return;
        }
        if (c !== (stack[stack.length - 1] ? 0x7d : 0x5d)) fail();
        stack.pop();
      }
    };
    open();
    while (stack.length > 0) {
      const c = s.charCodeAt(this.#i);
      if (c === 0x7b || c === 0x5b) {
        open();
        continue;
      }
      if (c === 0x22) this.#string();
      else if (c === 0x74) this.#literal('true');
      else if (c === 0x66) this.#literal('false');
      else if (c === 0x6e) this.#literal('null');
      else this.#number();
      afterValue();
    }
  }
}

function digits(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

function hex4(s: string, i: number): number {
  if (i + 4 > s.length) fail();
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const c = s.charCodeAt(k);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return fail();
    v = v * 16 + d;
  }
  return v;
}

function setField(out: Record<string, string>, key: string, value: string): void {
  // `__proto__` is a valid sanitised key; plain assignment would set the prototype instead.
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** `prefix` + `_` + the sanitised key, the way Loki builds nested keys (empty parts are dropped). */
function joinKey(prefix: string, raw: string): string {
  const part = sanitizeKeyPart(raw, prefix === '');
  if (part === '') return prefix;
  return prefix === '' ? part : `${prefix}_${part}`;
}

function isKeyChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39);
}

function sanitizeKeyPart(raw: string, first: boolean): string {
  let plain = raw.length > 0;
  for (let i = 0; i < raw.length && plain; i++) plain = isKeyChar(raw.charCodeAt(i));
  const leadingDigit = (s: string): boolean => first && s.charCodeAt(0) >= 0x30 && s.charCodeAt(0) <= 0x39;
  if (plain) return leadingDigit(raw) ? `_${raw}` : raw;
  const trimmed = raw.trim();
  if (trimmed === '') return '';
  let out = '';
  // Per code point, as Go's `range` over a string: an astral character becomes one `_`.
  for (const ch of trimmed) out += ch.length === 1 && isKeyChar(ch.charCodeAt(0)) ? ch : '_';
  return leadingDigit(out) ? `_${out}` : out;
}
