import { describe, expect, test } from 'vitest';
import { SeriesTable, type SeriesSource } from './series-table.js';
import { hashText, textKeyCode, textMatches, writeTextKey } from './textparse/serieskey.js';

/** A parser stand-in positioned on `text`; `hash` overrides the hash to force collisions. */
function on(text: string, hash?: number): SeriesSource {
  const h = hash ?? hashText(text, 0, text.length);
  return {
    seriesHash: () => h,
    seriesKeyCode: () => textKeyCode(text, 0, text.length),
    seriesMatches: (words, at, code) => textMatches(text, 0, text.length, words, at, code),
    writeSeriesKey: (words, at) => writeTextKey(text, 0, text.length, words, at),
    expectSeries: () => {},
  };
}

describe('SeriesTable', () => {
  test('finds values by text, also among texts with the same hash', () => {
    const t = new SeriesTable<number>();
    for (let k = 0; k < 5; k++) t.add(on(`s${k}`, 7), k);
    t.add(on('other'), 9);
    t.add(on('wide \u2603 text'), 10);
    expect(t.size).toBe(7);
    for (let k = 0; k < 5; k++) expect(t.get(on(`s${k}`, 7))).toBe(k);
    expect(t.get(on('s5', 7))).toBeUndefined();
    expect(t.get(on('other'))).toBe(9);
    expect(t.get(on('wide \u2603 text'))).toBe(10);
    expect(t.get(on('wide \u2604 text'))).toBeUndefined();
    expect(t.get(on('s1'))).toBeUndefined();
  });

  test('lookups in any order find the same values as lookups in insertion order', () => {
    const t = new SeriesTable<number>();
    const names = ['a', 'b', 'c', 'd', 'e'];
    names.forEach((n, k) => t.add(on(n, n === 'b' || n === 'd' ? 1 : undefined), k));
    const src = (n: string): SeriesSource => on(n, n === 'b' || n === 'd' ? 1 : undefined);
    for (const order of [['a', 'b', 'c', 'd', 'e'], ['e', 'a', 'c', 'b', 'd'], ['d', 'd', 'b', 'x', 'c', 'e', 'a']]) {
      for (const n of order) expect(t.get(src(n))).toBe(names.includes(n) ? names.indexOf(n) : undefined);
    }
    t.deleteWhere((v) => v === 1);
    // 'b' was the guess after 'a'; removed entries are never guessed.
    expect(t.get(src('a'))).toBe(0);
    expect(t.get(src('b'))).toBeUndefined();
  });

  test('deleteWhere removes heads, middles and tails of collision chains', () => {
    const t = new SeriesTable<number>();
    for (let k = 0; k < 6; k++) t.add(on(`s${k}`, 3), k);
    t.add(on('alone'), 100);
    t.deleteWhere((v) => v % 2 === 0 || v === 100);
    expect(t.size).toBe(3);
    expect([...t.values()]).toEqual([1, 3, 5]);
    for (let k = 0; k < 6; k++) expect(t.get(on(`s${k}`, 3))).toBe(k % 2 === 0 ? undefined : k);
    expect(t.get(on('alone'))).toBeUndefined();
    t.add(on('s0', 3), 50);
    expect(t.get(on('s0', 3))).toBe(50);
    t.deleteWhere(() => true);
    expect(t.size).toBe(0);
    expect([...t.values()]).toEqual([]);
    expect(t.get(on('s1', 3))).toBeUndefined();
  });

  test('survives growth and compaction with its contents intact', () => {
    const t = new SeriesTable<number>();
    // Every fifth text shares one hash, so chains are long too.
    const src = (k: number): SeriesSource => on(`series_${k}{pod="p${k % 97}",container="c${k}"}`, k % 5 === 0 ? 42 : undefined);
    for (let round = 0; round < 4; round++) {
      for (let k = round * 3000; k < round * 3000 + 5000; k++) if (t.get(src(k)) === undefined) t.add(src(k), k);
      // Keep only this round's window.
      t.deleteWhere((v) => v < round * 3000);
      expect(t.size).toBe(5000);
      for (let k = round * 3000 - 10; k < round * 3000 + 5010; k++) {
        const want = k >= round * 3000 && k < round * 3000 + 5000 ? k : undefined;
        expect(t.get(src(k))).toBe(want);
      }
    }
    expect([...t.values()]).toEqual(Array.from({ length: 5000 }, (_, i) => 9000 + i));
  });
});
