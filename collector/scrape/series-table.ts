/**
 * A map keyed by the text of the parser's current series (`seriesText()`), looked up by the
 * parser's hash and confirmed by its comparison with the stored key, so a lookup per sample
 * neither cuts a substring out of the body nor hashes one.
 *
 * Keys are kept packed in one word array in the order they were first seen, and the entries in
 * parallel arrays, so a scrape that lists its series in the usual stable order reads its keys
 * front to back instead of visiting one small object per series, and the keys do not hold on to
 * the bodies they came from. Removed entries leave holes until they outnumber the live ones.
 *
 * For the same reason a lookup first tries the entry after the one found last: a target lists
 * its series in the same order scrape after scrape, so that guess, confirmed by comparing the
 * text with its key, usually saves hashing the text and the hash lookup.
 */
import { keyWords, type TextParser } from './textparse/index.js';

/** The part of a parser positioned on a series that the table reads. */
export type SeriesSource = Pick<TextParser, 'seriesHash' | 'seriesKeyCode' | 'seriesMatches' | 'writeSeriesKey' | 'expectSeries'>;

/** Holes tolerated before compacting, so small tables are not rebuilt for every removal. */
const SLACK = 1024;

export class SeriesTable<V> {
  /** First slot of each hash's chain. */
  readonly #heads = new Map<number, number>();
  #values: (V | undefined)[] = [];
  /** Per slot: the next slot with the same hash (-1: none), its hash (-1: removed), key offset and code. */
  #next = new Int32Array(64);
  #hash = new Int32Array(64);
  #at = new Int32Array(64);
  #code = new Int32Array(64);
  #slots = 0;
  #size = 0;
  #words = new Int32Array(1024);
  #used = 0;
  #deadWords = 0;
  /** The slot after the one last found or added: where the next lookup looks first. */
  #expect = 0;

  get size(): number {
    return this.#size;
  }

  /** The value stored for the current series of `p`. */
  get(p: SeriesSource): V | undefined {
    const words = this.#words;
    const e = this.#expect;
    if (e < this.#slots && this.#hash[e]! >= 0 && p.seriesMatches(words, this.#at[e]!, this.#code[e]!)) {
      this.#expect = e + 1;
      return this.#values[e];
    }
    for (let k = this.#heads.get(p.seriesHash()) ?? -1; k >= 0; k = this.#next[k]!) {
      if (k !== e && p.seriesMatches(words, this.#at[k]!, this.#code[k]!)) {
        this.#expect = k + 1;
        return this.#values[k];
      }
    }
    return undefined;
  }

  /**
   * Announces to `p` the series this table expects next (the one after the last found), so the
   * parser can confirm it instead of scanning it (`TextParser.expectSeries`).
   */
  hint(p: SeriesSource): void {
    const e = this.#expect;
    if (e < this.#slots && this.#hash[e]! >= 0) p.expectSeries(this.#words, this.#at[e]!, this.#code[e]!);
  }

  /** Stores `value` for the current series of `p`, which the table must not hold yet. */
  add(p: SeriesSource, value: V): void {
    const hash = p.seriesHash();
    const n = keyWords(p.seriesKeyCode());
    if (this.#used + n > this.#words.length) this.#words = grow(this.#words, this.#used + n);
    const k = this.#slots;
    if (k === this.#next.length) {
      this.#next = grow(this.#next, k + 1);
      this.#hash = grow(this.#hash, k + 1);
      this.#at = grow(this.#at, k + 1);
      this.#code = grow(this.#code, k + 1);
    }
    this.#code[k] = p.writeSeriesKey(this.#words, this.#used);
    this.#at[k] = this.#used;
    this.#hash[k] = hash;
    this.#next[k] = this.#heads.get(hash) ?? -1;
    this.#heads.set(hash, k);
    this.#values[k] = value;
    this.#used += n;
    this.#slots++;
    this.#size++;
    this.#expect = this.#slots;
  }

  /** Removes every entry whose value `drop` selects. */
  deleteWhere(drop: (value: V) => boolean): void {
    const values = this.#values;
    for (let k = 0; k < this.#slots; k++) {
      if (this.#hash[k]! < 0 || !drop(values[k] as V)) continue;
      this.#unlink(k);
      this.#hash[k] = -1;
      values[k] = undefined;
      this.#deadWords += keyWords(this.#code[k]!);
      this.#size--;
    }
    if (this.#slots - this.#size > this.#size + SLACK) this.#compact();
  }

  *values(): IterableIterator<V> {
    for (let k = 0; k < this.#slots; k++) if (this.#hash[k]! >= 0) yield this.#values[k] as V;
  }

  #unlink(k: number): void {
    const hash = this.#hash[k]!;
    const next = this.#next[k]!;
    let c = this.#heads.get(hash)!;
    if (c === k) {
      if (next < 0) this.#heads.delete(hash);
      else this.#heads.set(hash, next);
      return;
    }
    while (this.#next[c] !== k) c = this.#next[c]!;
    this.#next[c] = next;
  }

  /** Rebuilds the arrays without holes, keeping the order of the live entries. */
  #compact(): void {
    const live = this.#size;
    const cap = Math.max(64, live * 2);
    const next = new Int32Array(cap);
    const hash = new Int32Array(cap);
    const at = new Int32Array(cap);
    const code = new Int32Array(cap);
    const values: (V | undefined)[] = [];
    const words = new Int32Array(Math.max(1024, (this.#used - this.#deadWords) * 2));
    let used = 0;
    let j = 0;
    this.#heads.clear();
    for (let k = 0; k < this.#slots; k++) {
      const h = this.#hash[k]!;
      if (h < 0) continue;
      const n = keyWords(this.#code[k]!);
      words.set(this.#words.subarray(this.#at[k]!, this.#at[k]! + n), used);
      at[j] = used;
      code[j] = this.#code[k]!;
      hash[j] = h;
      next[j] = this.#heads.get(h) ?? -1;
      this.#heads.set(h, j);
      values[j] = this.#values[k];
      used += n;
      j++;
    }
    this.#next = next;
    this.#hash = hash;
    this.#at = at;
    this.#code = code;
    this.#values = values;
    this.#words = words;
    this.#used = used;
    this.#deadWords = 0;
    this.#slots = j;
    this.#expect = 0;
  }
}

function grow(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  const g = new Int32Array(Math.max(need, a.length * 2));
  g.set(a);
  return g;
}
