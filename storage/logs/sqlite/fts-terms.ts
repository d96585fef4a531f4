/**
 * The full-text index is a prefilter, not the judge. It holds the words of each line as FTS5's
 * `ascii` tokenizer cuts them (runs of ASCII letters and digits, plus every non-ASCII character;
 * ASCII folded to lower case), without positions (`detail=none`). A `|=` substring test is then
 * narrowed to the lines containing every whole word inside the substring, and the exact,
 * case-sensitive test runs on those lines only.
 *
 * Only words the substring holds whole are certain to be words of the line too: one that touches
 * the substring's start may be the tail of a longer word (`rror` in `error`), and one touching the
 * end the head of one, which a prefix query (`"tok"*`) still catches. A substring that is a single
 * fragment of a word yields no terms, and the search reads the lines without the index.
 */

export interface FtsTerm {
  /** The word as written in the substring (the index folds ASCII case itself). */
  readonly text: string;
  /** True when the line's word only has to start with `text`. */
  readonly prefix: boolean;
}

/** The most terms taken from one substring: the longest words say the most. */
const MAX_TERMS_PER_NEEDLE = 6;
/** Shorter prefixes match so many words that merging their row lists costs more than it saves. */
const MIN_PREFIX_CHARS = 3;

function isTokenUnit(code: number): boolean {
  return (
    code >= 0x80 || // every byte of a non-ASCII UTF-8 sequence is a token character
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a)
  );
}

/** Half a surrogate pair has no UTF-8 form, so the index cannot hold a word containing one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

interface NeedleWord {
  readonly text: string;
  readonly touchesStart: boolean;
  readonly touchesEnd: boolean;
}

function needleWords(needle: string): NeedleWord[] {
  const words: NeedleWord[] = [];
  let i = 0;
  while (i < needle.length) {
    if (!isTokenUnit(needle.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < needle.length && isTokenUnit(needle.charCodeAt(i))) i++;
    const text = needle.slice(start, i);
    if (!LONE_SURROGATE.test(text)) words.push({ text, touchesStart: start === 0, touchesEnd: i === needle.length });
  }
  return words;
}

function longestFirst(terms: FtsTerm[]): FtsTerm[] {
  terms.sort((a, b) => b.text.length - a.text.length || Number(a.prefix) - Number(b.prefix));
  return terms.slice(0, MAX_TERMS_PER_NEEDLE);
}

/** The index terms every line containing `needle` must contain. */
export function substringTerms(needle: string): FtsTerm[] {
  return longestFirst(
    needleWords(needle)
      .filter((w) => !w.touchesStart && !(w.touchesEnd && w.text.length < MIN_PREFIX_CHARS))
      .map((w) => ({ text: w.text, prefix: w.touchesEnd })),
  );
}

/** How many words a substring holds, whole or not. */
export function needleWordCount(needle: string): number {
  return needleWords(needle).length;
}

/**
 * The words a substring starts with, which may be tails of longer words and so cannot filter;
 * counted as whole words they still tell how rare the substring is, which the planner wants.
 */
export function substringEstimateTerms(needle: string): FtsTerm[] {
  return longestFirst(needleWords(needle).filter((w) => w.touchesStart).map((w) => ({ text: w.text, prefix: false })));
}

/** One FTS5 query term: a quoted string (quotes doubled), `*` for a prefix. */
export function ftsTermSyntax(term: FtsTerm): string {
  return `"${term.text.replaceAll('"', '""')}"${term.prefix ? '*' : ''}`;
}

/** The FTS5 MATCH expression requiring every term, or undefined when there are none. */
export function ftsMatchExpression(terms: readonly FtsTerm[]): string | undefined {
  if (terms.length === 0) return undefined;
  return terms.map(ftsTermSyntax).join(' AND ');
}

/** The term as the index stores it: ASCII letters folded to lower case. */
export function foldedTerm(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/**
 * The MATCH expression finding a record id in the index: its words, all required (a base64url
 * id is one to three words, cut at `-` and `_`). The caller compares the id exactly, since the
 * index folds ASCII case and the same words may occur in messages. Undefined when the index
 * cannot find the id (no words, or half a surrogate pair), which leaves a scan.
 */
export function idMatchExpression(id: string): string | undefined {
  const words = needleWords(id);
  if (words.length === 0 || LONE_SURROGATE.test(id)) return undefined;
  return words.map((w) => ftsTermSyntax({ text: w.text, prefix: false })).join(' AND ');
}
