/** UTF-8 sizes of JavaScript strings, for byte limits on records that are held as strings. */

/** UTF-8 length of `s` (a lone surrogate counts as the 3 bytes of U+FFFD, as Buffer encodes it). */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * A cheap upper bound: no UTF-16 code unit takes more than 3 UTF-8 bytes (a surrogate pair is
 * 2 units for 4 bytes). Lets the common short line skip measuring.
 */
export function utf8Bound(chars: number): number {
  return chars * 3;
}

export interface Utf8Piece {
  readonly text: string;
  /** UTF-8 bytes of `s` before this piece. */
  readonly byteOffset: number;
}

/**
 * Cuts `s` into pieces of at most `maxBytes` UTF-8 bytes, never inside a code point. A code
 * point larger than `maxBytes` still makes a piece of its own, so the cut always progresses.
 */
export function cutUtf8(s: string, maxBytes: number): Utf8Piece[] {
  const pieces: Utf8Piece[] = [];
  let start = 0;
  let startBytes = 0;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    let units = 1;
    let size: number;
    if (c < 0x80) size = 1;
    else if (c < 0x800) size = 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      size = 4;
      units = 2;
    } else size = 3;
    if (bytes - startBytes + size > maxBytes && i > start) {
      pieces.push({ text: s.slice(start, i), byteOffset: startBytes });
      start = i;
      startBytes = bytes;
    }
    bytes += size;
    i += units;
  }
  if (start < s.length || pieces.length === 0) pieces.push({ text: s.slice(start), byteOffset: startBytes });
  return pieces;
}
