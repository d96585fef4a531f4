/**
 * logfmt decoding for `| logfmt`, following the decoder Loki adapted from go-logfmt, because the
 * edge cases decide which labels users get:
 * - pairs are separated by any run of characters up to and including the space (controls too);
 * - `key=value`, `key="quoted value"` (JSON escapes), `key=` and a bare `key` (no value);
 * - a `"` inside a key or an unquoted value, an `=` inside an unquoted value, and a pair with no
 *   key are malformed: that pair is skipped (non-strict), or decoding stops (strict).
 */
import { unescapeJsonString } from './json.js';

export class LogfmtDecoder {
  #line = '';
  #pos = 0;
  /** The key of the last pair read; undefined when it had none. */
  key: string | undefined;
  /** The value of the last pair; undefined for a bare key, `key=` and `key=""`. */
  value: string | undefined;
  /** The first error met, worded as Loki's. */
  error: string | undefined;

  reset(line: string): void {
    this.#line = line;
    this.#pos = 0;
    this.error = undefined;
  }

  get eol(): boolean {
    return this.#pos >= this.#line.length;
  }

  #syntaxError(msg: string): void {
    this.error = `logfmt syntax error at pos ${this.#pos + 1} : ${msg}`;
  }

  /** Go's `%q` of a byte: `'='`. */
  #unexpected(c: string): void {
    this.#syntaxError(`unexpected '${c}'`);
  }

  /** Reads the next pair; false when there is none or it was malformed. */
  next(): boolean {
    this.key = undefined;
    this.value = undefined;
    const s = this.#line;
    const n = s.length;
    let p = this.#pos;
    while (p < n && s.charCodeAt(p) <= 0x20) p++;
    if (p >= n) {
      this.#pos = n;
      return false;
    }
    // Key.
    const keyStart = p;
    for (; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c === 0x3d /* = */) break;
      if (c === 0x22 /* " */) {
        this.#pos = p;
        this.#unexpected('"');
        return this.#skipValue();
      }
      if (c <= 0x20) {
        this.#pos = p;
        this.key = s.slice(keyStart, p);
        return true;
      }
    }
    if (p >= n) {
      this.#pos = n;
      this.key = s.slice(keyStart, n);
      return true;
    }
    this.#pos = p;
    if (p === keyStart) {
      this.#unexpected('=');
      return this.#skipValue();
    }
    this.key = s.slice(keyStart, p);
    // Value.
    p++;
    this.#pos = p;
    if (p >= n) return true;
    const first = s.charCodeAt(p);
    if (first <= 0x20) return true;
    if (first === 0x22) return this.#quoted();
    const valueStart = p;
    for (; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c === 0x3d || c === 0x22) {
        this.#pos = p;
        this.#unexpected(s[p]!);
        return this.#skipValue();
      }
      if (c <= 0x20) break;
    }
    this.#pos = p;
    if (p > valueStart) this.value = s.slice(valueStart, p);
    return true;
  }

  #skipValue(): false {
    const s = this.#line;
    let p = this.#pos;
    while (p < s.length && s.charCodeAt(p) > 0x20) p++;
    this.#pos = p;
    return false;
  }

  #quoted(): boolean {
    const s = this.#line;
    const start = this.#pos;
    let hasEscape = false;
    let escaped = false;
    for (let p = start + 1; p < s.length; p++) {
      const c = s.charCodeAt(p);
      if (escaped) {
        escaped = false;
      } else if (c === 0x5c /* \ */) {
        hasEscape = true;
        escaped = true;
      } else if (c === 0x22) {
        this.#pos = p + 1;
        if (hasEscape) {
          const v = unescapeJsonString(s.slice(start + 1, p));
          if (v === undefined) {
            this.#syntaxError('invalid quoted value');
            return false;
          }
          this.value = v;
        } else if (p > start + 1) {
          this.value = s.slice(start + 1, p);
        }
        return true;
      }
    }
    this.#pos = s.length;
    this.#syntaxError('unterminated quoted value');
    return false;
  }
}

