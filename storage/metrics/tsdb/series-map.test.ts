import { describe, expect, it } from 'vitest';
import type { Labels } from '../../../model/labels.js';
import { labelsHash, SeriesByLabels } from './series-map.js';

const L = (...pairs: string[]): Labels => {
  const out = [];
  for (let i = 0; i < pairs.length; i += 2) out.push({ name: pairs[i]!, value: pairs[i + 1]! });
  return out;
};

describe('SeriesByLabels', () => {
  it('finds, tells apart and removes label sets, down to the object added', () => {
    const m = new SeriesByLabels<{ labels: Labels; id: number }>();
    const all = Array.from({ length: 20_000 }, (_, i) => ({ labels: L('__name__', `m${i % 7}`, 'pod', `p-${i}`), id: i }));
    for (const s of all) m.add(s);
    expect(m.size).toBe(all.length);
    for (const s of all) expect(m.get(L('__name__', `m${s.id % 7}`, 'pod', `p-${s.id}`))).toBe(s);
    expect(m.get(L('__name__', 'm0', 'pod', 'p-1'))).toBeUndefined();
    expect(m.delete({ labels: all[3]!.labels, id: -1 })).toBe(false); // equal labels, other object
    for (const s of all.slice(0, 10_000)) expect(m.delete(s)).toBe(true);
    expect(m.size).toBe(10_000);
    expect(m.get(all[0]!.labels)).toBeUndefined();
    expect(m.get(all[15_000]!.labels)).toBe(all[15_000]);
  });

  it('keeps label sets whose hashes collide apart', () => {
    // Find a real collision among generated label sets (32-bit hash: a few hundred thousand tries).
    const seen = new Map<number, Labels>();
    let pair: [Labels, Labels] | undefined;
    for (let i = 0; pair === undefined && i < 2_000_000; i++) {
      const ls = L('a', `v${i}`);
      const h = labelsHash(ls);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, ls];
      else seen.set(h, ls);
    }
    expect(pair).toBeDefined();
    const [x, y] = pair!;
    const m = new SeriesByLabels<{ labels: Labels }>();
    const sx = { labels: x };
    const sy = { labels: y };
    m.add(sx);
    expect(m.get(y)).toBeUndefined();
    m.add(sy);
    expect(m.get(x)).toBe(sx);
    expect(m.get(y)).toBe(sy);
    expect(m.delete(sx)).toBe(true);
    expect(m.get(x)).toBeUndefined();
    expect(m.get(y)).toBe(sy);
  });

  it('separates names from values', () => {
    expect(labelsHash(L('ab', 'c'))).not.toBe(labelsHash(L('a', 'bc')));
  });
});
