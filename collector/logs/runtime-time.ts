/**
 * RFC 3339 timestamps of runtime log lines, parsed without a regex for the common case.
 *
 * Consecutive lines of a file almost always share the same second, so the second is parsed once
 * (by `parseTimeNs`, which owns the grammar) and remembered; a line of the same second only adds
 * its fraction. Anything unusual (another zone, no fraction, a new second) takes the full parse.
 */
import { parseTimeNs } from '../../model/logs.js';

/** `YYYY-MM-DDThh:mm:ss`: the part of a timestamp the cache keys on. */
const SECOND_PREFIX = 19;

export class RuntimeTimeParser {
  #secondPrefix = '';
  #secondNs = 0n;

  /**
   * Nanoseconds of the timestamp at `text[start, end)`, or undefined if it is not RFC 3339.
   * Avoids slicing when the second is the cached one and the zone is `Z`.
   */
  parse(text: string, start: number, end: number): bigint | undefined {
    const len = end - start;
    // Fast path: `<cached second>.<1-9 digits>Z`.
    if (len >= SECOND_PREFIX + 3 && len <= SECOND_PREFIX + 11 && this.#secondPrefix !== '' && text.charCodeAt(end - 1) === 0x5a /* Z */ && text.charCodeAt(start + SECOND_PREFIX) === 0x2e /* . */ && text.startsWith(this.#secondPrefix, start)) {
      let frac = 0;
      let digits = 0;
      for (let i = start + SECOND_PREFIX + 1; i < end - 1; i++) {
        const d = text.charCodeAt(i) - 0x30;
        if (d < 0 || d > 9) return this.#slow(text, start, end);
        frac = frac * 10 + d;
        digits++;
      }
      for (; digits < 9; digits++) frac *= 10;
      return this.#secondNs + BigInt(frac);
    }
    return this.#slow(text, start, end);
  }

  #slow(text: string, start: number, end: number): bigint | undefined {
    const stamp = text.slice(start, end);
    let ns: bigint;
    try {
      ns = parseTimeNs(stamp);
    } catch {
      return undefined;
    }
    // Remember the second only for UTC stamps, the form the fast path accepts.
    if (stamp.length > SECOND_PREFIX && (stamp.endsWith('Z') || stamp.endsWith('z')) && stamp.charCodeAt(10) === 0x54 /* T */) {
      const prefix = stamp.slice(0, SECOND_PREFIX);
      const frac = ns % 1_000_000_000n;
      this.#secondPrefix = prefix;
      this.#secondNs = ns - (frac < 0n ? frac + 1_000_000_000n : frac);
    }
    return ns;
  }
}
