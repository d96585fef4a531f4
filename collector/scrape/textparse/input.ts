/**
 * Turns a response body into the string the scanners work on.
 *
 * Valid UTF-8 (the normal case) goes through Node's native decoder. Invalid byte sequences must
 * not be silently replaced by U+FFFD, because Prometheus rejects label values and help texts
 * that are not valid UTF-8 while tolerating such bytes in comments; so each invalid byte is kept
 * as a lone surrogate U+DC80..U+DCFF ("surrogateescape"), which no valid input can contain and
 * which the parsers treat as invalid UTF-8.
 */

import { Buffer, isAscii, isUtf8 } from 'node:buffer';
import type { TextInput } from './types.js';

export function decodeInput(input: TextInput): string {
  if (typeof input === 'string') return input;
  const buf = toBuffer(input);
  if (isUtf8(buf)) return buf.toString('utf8');
  return decodeSurrogateEscape(buf);
}

function toBuffer(input: Uint8Array): Buffer {
  return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

/**
 * A body that is all ASCII as a Buffer over the same memory (one byte per character, so the
 * byte scanner can read it and cut strings from it at the same indices); null otherwise. It is
 * the caller's memory, not a copy: it must not change while the parser runs.
 */
export function asciiInput(input: Uint8Array): Buffer | null {
  const buf = toBuffer(input);
  return isAscii(buf) ? buf : null;
}

const encoder = new TextEncoder();

/**
 * One scratch buffer handed from parser to parser (`asciiBytes` takes it, `releaseBytes` gives it
 * back): writing a multi-megabyte body into freshly mapped memory costs page faults worth several
 * times the copy itself. A parser that is dropped before the end simply never returns it.
 */
let spare: Buffer | null = null;
/** Larger scratch buffers are not kept, so one huge body does not pin its size for good. */
const SPARE_MAX = 32 << 20;
/** Small inputs come from Node's shared pool (whose memory is not ours to keep) and fault little. */
const SPARE_MIN = 64 << 10;

/**
 * The bytes of `s` if it is all ASCII (one byte per UTF-16 unit, at the same index), else null.
 * The caller owns the buffer until it passes it to `releaseBytes`.
 */
export function asciiBytes(s: string): Buffer | null {
  const n = s.length;
  let b: Buffer;
  if (n < SPARE_MIN) {
    b = Buffer.allocUnsafe(n);
  } else if (spare !== null && spare.length >= n) {
    b = spare.subarray(0, n);
    spare = null;
  } else {
    // Not from Node's shared pool: the whole ArrayBuffer is ours to hand on.
    b = Buffer.allocUnsafeSlow(n);
  }
  // A non-ASCII character needs more than one byte, so it cannot all fit.
  if (encoder.encodeInto(s, b).read === n) return b;
  releaseBytes(b);
  return null;
}

/** Returns a buffer from `asciiBytes` for reuse; the caller must not read it afterwards. */
export function releaseBytes(b: Buffer): void {
  const size = b.buffer.byteLength;
  if (b.length < SPARE_MIN || size > SPARE_MAX || (spare !== null && spare.length >= size)) return;
  spare = Buffer.from(b.buffer, 0, size);
}

function decodeSurrogateEscape(b: Uint8Array): string {
  const units: number[] = [];
  const parts: string[] = [];
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    let cp = -1;
    let len = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xc2 && c <= 0xdf) {
      if (isCont(b, i + 1)) { cp = ((c & 0x1f) << 6) | (b[i + 1]! & 0x3f); len = 2; }
    } else if (c >= 0xe0 && c <= 0xef) {
      const c1 = i + 1 < n ? b[i + 1]! : 0;
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (c1 >= lo && c1 <= hi && isCont(b, i + 2)) {
        cp = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (b[i + 2]! & 0x3f);
        len = 3;
      }
    } else if (c >= 0xf0 && c <= 0xf4) {
      const c1 = i + 1 < n ? b[i + 1]! : 0;
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (c1 >= lo && c1 <= hi && isCont(b, i + 2) && isCont(b, i + 3)) {
        cp = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((b[i + 2]! & 0x3f) << 6) | (b[i + 3]! & 0x3f);
        len = 4;
      }
    }
    if (cp < 0) {
      units.push(0xdc00 + c);
    } else if (cp >= 0x10000) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      units.push(cp);
    }
    i += len;
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units));
      units.length = 0;
    }
  }
  parts.push(String.fromCharCode(...units));
  return parts.join('');
}

function isCont(b: Uint8Array, i: number): boolean {
  return i < b.length && (b[i]! & 0xc0) === 0x80;
}

/** True when s[from, to) is well-formed UTF-16, i.e. came from valid UTF-8. */
export function isWellFormedRange(s: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = s.charCodeAt(k);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const d = k + 1 < to ? s.charCodeAt(k + 1) : 0;
    if (d < 0xdc00 || d > 0xdfff) return false;
    k++;
  }
  return true;
}
