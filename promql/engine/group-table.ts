/**
 * Dense group numbers for the input series of an aggregation.
 *
 * Under `by (…)` a group is found through nested maps keyed by each grouping label's value
 * (undefined when the label is absent) instead of by a signature string: label values are
 * long-lived strings whose hashes V8 keeps, while a signature is a new string to build and hash
 * for every series of every query. Other groupings use their signature.
 */
import type { Labels } from '../../model/labels.js';

export interface GroupTable {
  /** The group number of `ls`; when its group is new, it is given `next`, which is returned. */
  groupOf(ls: Labels, next: number): number;
}

type Level = Map<string | undefined, unknown>;

class ByValues implements GroupTable {
  readonly #names: readonly string[];
  readonly #root: Level = new Map();

  constructor(names: readonly string[]) {
    this.#names = names;
  }

  groupOf(ls: Labels, next: number): number {
    const names = this.#names;
    const last = names.length - 1;
    let level = this.#root;
    for (let i = 0; i < last; i++) {
      const v = valueOf(ls, names[i]!);
      let sub = level.get(v) as Level | undefined;
      if (sub === undefined) {
        sub = new Map();
        level.set(v, sub);
      }
      level = sub;
    }
    const v = valueOf(ls, names[last]!);
    const gi = level.get(v) as number | undefined;
    if (gi !== undefined) return gi;
    level.set(v, next);
    return next;
  }
}

class BySignature implements GroupTable {
  readonly #index = new Map<string, number>();

  constructor(readonly key: (ls: Labels) => string) {}

  groupOf(ls: Labels, next: number): number {
    const k = this.key(ls);
    const gi = this.#index.get(k);
    if (gi !== undefined) return gi;
    this.#index.set(k, next);
    return next;
  }
}

function valueOf(ls: Labels, name: string): string | undefined {
  for (let i = 0; i < ls.length; i++) if (ls[i]!.name === name) return ls[i]!.value;
  return undefined;
}

/** The table for grouping `by (names)` or `without (names)`; `key` is that grouping's signature. */
export function groupTable(names: readonly string[], without: boolean, key: (ls: Labels) => string): GroupTable {
  if (without || names.length === 0) return new BySignature(key);
  return new ByValues([...new Set(names)]);
}
