/**
 * The head's series by label set, keyed by a 32-bit hash of the labels rather than by the label
 * set rendered as a string: that string (~180 bytes for a typical series) was the largest thing
 * the head kept per series after its chunks, and lookups only happen for series an appender has
 * no ref for. Hash collisions share a bucket array and are told apart by comparing labels.
 */
import { labelsEqual, type Labels } from '../../../model/labels.js';

/** FNV-1a over names and values, with separators so ("ab","c") and ("a","bc") differ. */
export function labelsHash(ls: Labels): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < ls.length; i++) {
    const { name, value } = ls[i]!;
    for (let k = 0; k < name.length; k++) h = Math.imul(h ^ name.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0xffff, 0x01000193);
    for (let k = 0; k < value.length; k++) h = Math.imul(h ^ value.charCodeAt(k), 0x01000193);
    h = Math.imul(h ^ 0xfffe, 0x01000193);
  }
  // Signed, so the Map key is a small integer rather than a heap number.
  return h | 0;
}

interface HasLabels {
  readonly labels: Labels;
}

export class SeriesByLabels<S extends HasLabels> {
  readonly #buckets = new Map<number, S | S[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(labels: Labels): S | undefined {
    const b = this.#buckets.get(labelsHash(labels));
    if (b === undefined) return undefined;
    if (!Array.isArray(b)) return labelsEqual((b as S).labels, labels) ? (b as S) : undefined;
    for (const s of b) if (labelsEqual(s.labels, labels)) return s;
    return undefined;
  }

  /** Adds `s`, whose labels must not be present yet. */
  add(s: S): void {
    const h = labelsHash(s.labels);
    const b = this.#buckets.get(h);
    if (b === undefined) this.#buckets.set(h, s);
    else if (Array.isArray(b)) b.push(s);
    else this.#buckets.set(h, [b as S, s]);
    this.#size++;
  }

  /** Removes `s` itself (not merely an equal label set); false when absent. */
  delete(s: S): boolean {
    const h = labelsHash(s.labels);
    const b = this.#buckets.get(h);
    if (b === undefined) return false;
    if (!Array.isArray(b)) {
      if (b !== s) return false;
      this.#buckets.delete(h);
    } else {
      const i = b.indexOf(s);
      if (i < 0) return false;
      b.splice(i, 1);
      if (b.length === 1) this.#buckets.set(h, b[0]!);
    }
    this.#size--;
    return true;
  }
}
