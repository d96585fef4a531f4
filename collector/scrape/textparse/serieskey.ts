/**
 * Hashing and comparing a series' exposed text (`seriesText()`) without cutting it out of the
 * body. A scrape cache keyed by that substring pays, per sample, for the substring, for V8
 * hashing it one character at a time and for comparing it with the stored key; reading the
 * body's bytes four at a time does the same work several times faster. A hash only finds a
 * candidate: a hit is always confirmed by comparing the whole text with the stored key.
 *
 * A stored key is the text as 32-bit little-endian words of four code units each, the last one
 * zero-padded, in a caller's `Int32Array` (a cache keeps all its keys in one, so that a scrape
 * walks them in order instead of chasing one small array per series), with a length code: the
 * text's length. A text with a code unit beyond 0xff (only possible in a non-ASCII body, which
 * the byte scanner never sees) is stored one unit per word with code `~length` (negative), so it
 * never matches a text read from bytes. Hashes and keys therefore depend neither on where the
 * text lies in the body nor on whether it was read from bytes or from a string.
 */

/** How many words a key with length code `code` takes. */
export function keyWords(code: number): number {
  return code >= 0 ? (code + 3) >> 2 : ~code;
}

// Two independent lanes (even and odd words) halve the multiply chain the hash waits on.
const M1 = 0x9e3779b1 | 0;
const M2 = 0x85ebca77 | 0;
const SEED2 = 0x2545f491;

/** The final mix; 30 bits, so the hash is always a small integer in V8. */
function finish(h1: number, h2: number): number {
  let h = Math.imul(h1 ^ (h2 >>> 16), 0x27d4eb2d) ^ h2;
  h = Math.imul(h ^ (h >>> 15), M2);
  return (h ^ (h >>> 13)) >>> 2;
}

/** Zero-padded little-endian word of the 1–3 bytes b[i, e). */
function tailWord(b: Uint8Array, i: number, e: number): number {
  let t = 0;
  for (let sh = 0; i < e; i++, sh += 8) t |= b[i]! << sh;
  return t;
}

/** Hash of the text whose bytes are b[s, e); `dv` views the same memory as `b`. */
export function hashBytes(dv: DataView, b: Uint8Array, s: number, e: number): number {
  let h1 = e - s;
  let h2 = SEED2;
  let i = s;
  for (; i + 8 <= e; i += 8) {
    h1 = Math.imul(h1 ^ dv.getInt32(i, true), M1);
    h2 = Math.imul(h2 ^ dv.getInt32(i + 4, true), M2);
    h1 ^= h1 >>> 15;
    h2 ^= h2 >>> 13;
  }
  if (i + 4 <= e) {
    h1 = Math.imul(h1 ^ dv.getInt32(i, true), M1);
    h1 ^= h1 >>> 15;
    i += 4;
    if (i < e) {
      h2 = Math.imul(h2 ^ tailWord(b, i, e), M2);
      h2 ^= h2 >>> 13;
    }
  } else if (i < e) {
    h1 = Math.imul(h1 ^ tailWord(b, i, e), M1);
    h1 ^= h1 >>> 15;
  }
  return finish(h1, h2);
}

/** Whether b[s, e) is the key stored at words[at] with length code `code`. */
export function bytesMatch(dv: DataView, b: Uint8Array, s: number, e: number, words: Int32Array, at: number, code: number): boolean {
  if (code !== e - s) return false;
  let i = s;
  let j = at;
  for (; i + 4 <= e; i += 4, j++) if (dv.getInt32(i, true) !== words[j]) return false;
  return i === e || tailWord(b, i, e) === words[j];
}

/** Stores b[s, e) as a key at words[at]; its length code is `e - s`. */
export function writeBytesKey(dv: DataView, b: Uint8Array, s: number, e: number, words: Int32Array, at: number): void {
  let i = s;
  let j = at;
  for (; i + 4 <= e; i += 4, j++) words[j] = dv.getInt32(i, true);
  if (i < e) words[j] = tailWord(b, i, e);
}

/** The length code of t[s, e). */
export function textKeyCode(t: string, s: number, e: number): number {
  for (let k = s; k < e; k++) if (t.charCodeAt(k) > 0xff) return ~(e - s);
  return e - s;
}

/** Stores t[s, e) as a key at words[at]; returns its length code. */
export function writeTextKey(t: string, s: number, e: number, words: Int32Array, at: number): number {
  const code = textKeyCode(t, s, e);
  if (code < 0) {
    for (let k = s; k < e; k++) words[at + k - s] = t.charCodeAt(k);
    return code;
  }
  words.fill(0, at, at + keyWords(code));
  for (let k = s; k < e; k++) words[at + ((k - s) >> 2)]! |= t.charCodeAt(k) << (((k - s) & 3) << 3);
  return code;
}

/**
 * `hashBytes` for text taken from a string (inputs the byte scanner does not read); the same
 * value for the same latin-1 text. One pass, building each word from four code units.
 */
export function hashText(t: string, s: number, e: number): number {
  let h1 = e - s;
  let h2 = SEED2;
  let j = 0;
  let k = s;
  for (; k + 4 <= e; k += 4, j++) {
    const c0 = t.charCodeAt(k);
    const c1 = t.charCodeAt(k + 1);
    const c2 = t.charCodeAt(k + 2);
    const c3 = t.charCodeAt(k + 3);
    if ((c0 | c1 | c2 | c3) > 0xff) return hashWide(t, s, e);
    const w = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    if ((j & 1) === 0) {
      h1 = Math.imul(h1 ^ w, M1);
      h1 ^= h1 >>> 15;
    } else {
      h2 = Math.imul(h2 ^ w, M2);
      h2 ^= h2 >>> 13;
    }
  }
  if (k < e) {
    let w = 0;
    for (let sh = 0; k < e; k++, sh += 8) {
      const c = t.charCodeAt(k);
      if (c > 0xff) return hashWide(t, s, e);
      w |= c << sh;
    }
    if ((j & 1) === 0) {
      h1 = Math.imul(h1 ^ w, M1);
      h1 ^= h1 >>> 15;
    } else {
      h2 = Math.imul(h2 ^ w, M2);
      h2 ^= h2 >>> 13;
    }
  }
  return finish(h1, h2);
}

/** `hashText` of a text with a code unit beyond 0xff: one unit per word. */
function hashWide(t: string, s: number, e: number): number {
  let h1 = ~(e - s);
  let h2 = SEED2;
  for (let k = s; k < e; k++) {
    const w = t.charCodeAt(k);
    if (((k - s) & 1) === 0) {
      h1 = Math.imul(h1 ^ w, M1);
      h1 ^= h1 >>> 15;
    } else {
      h2 = Math.imul(h2 ^ w, M2);
      h2 ^= h2 >>> 13;
    }
  }
  return finish(h1, h2);
}

/** Whether t[s, e) is the key stored at words[at] with length code `code`. */
export function textMatches(t: string, s: number, e: number, words: Int32Array, at: number, code: number): boolean {
  if (code < 0) {
    if (~code !== e - s) return false;
    for (let k = s; k < e; k++) if (t.charCodeAt(k) !== words[at + k - s]) return false;
    return true;
  }
  if (code !== e - s) return false;
  let k = s;
  let j = at;
  for (; k + 4 <= e; k += 4, j++) {
    const c0 = t.charCodeAt(k);
    const c1 = t.charCodeAt(k + 1);
    const c2 = t.charCodeAt(k + 2);
    const c3 = t.charCodeAt(k + 3);
    if ((c0 | (c1 << 8) | (c2 << 16) | (c3 << 24)) !== words[j] || (c0 | c1 | c2 | c3) > 0xff) return false;
  }
  let w = 0;
  for (let sh = 0; k < e; k++, sh += 8) {
    const c = t.charCodeAt(k);
    if (c > 0xff) return false;
    w |= c << sh;
  }
  return k === s + (j - at) * 4 || w === words[j];
}
