/**
 * The remote_write receiver's column path (`decodeWriteRequestColumns` + `ingestColumns` with a
 * `SeriesCache`) must give exactly what the object path (`decodeWriteRequestProto` + `ingest`)
 * gives: same result, same errors, same series and samples in the head, across repeated requests
 * (cache hits), cache rotation, labels split by samples, bad labels and truncated bodies.
 */
import { describe, expect, it } from 'vitest';
import { ingest, ingestColumns, SeriesCache } from './ingest.js';
import { decodeWriteRequestColumns, decodeWriteRequestProto } from './remote/proto.js';
import { Head } from './tsdb/head.js';

function varint(n: number | bigint): number[] {
  let x = BigInt(n);
  if (x < 0n) x += 1n << 64n;
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}
const lenField = (field: number, bytes: number[]): number[] => [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
const str = (s: string): number[] => [...Buffer.from(s)];
const label = (n: string, v: string): number[] => lenField(1, [...lenField(1, str(n)), ...lenField(2, str(v))]);
function sample(t: number, v: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return lenField(2, [0x09, ...b, 0x10, ...varint(t)]);
}

describe('ingestColumns', () => {
  it('matches ingest on randomised requests', async () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const names = ['__name__', 'job', 'instance', 'a', 'b', 'x'];
    const randomLabels = (): Array<[string, string]> => {
      const ls: Array<[string, string]> = [];
      const n = 1 + Math.floor(rnd() * 4);
      for (let i = 0; i < n; i++) ls.push([rnd() < 0.15 && i > 0 ? ls[0]![0] : pick(names), rnd() < 0.1 ? '' : pick(['m1', 'm2', 'v', 'w', 'm12', 'é', 'wé'])]);
      return ls;
    };
    const base = 1_700_000_000_000;
    for (let trial = 0; trial < 150; trial++) {
      const pool = Array.from({ length: 6 }, randomLabels);
      const clock = () => base + 3600_000;
      const headA = new Head({ retentionMs: 2 * 3600_000, clock });
      const headB = new Head({ retentionMs: 2 * 3600_000, clock });
      const cache = new SeriesCache(3); // tiny, so generations rotate
      for (let req = 0; req < 8; req++) {
        const parts: number[] = [];
        const nSeries = 1 + Math.floor(rnd() * 5);
        for (let s = 0; s < nSeries; s++) {
          const ls = pick(pool);
          const samples: number[][] = [];
          const nSamples = Math.floor(rnd() * 4);
          for (let k = 0; k < nSamples; k++) {
            const t = rnd() < 0.05 ? base - 10 * 3600_000 : base + Math.floor(rnd() * 100) * 1000 * (req + 1);
            samples.push(sample(t, pick([1, 2, NaN])));
          }
          const lb = ls.map(([n, v]) => label(n, v));
          // Sometimes a sample sits between the labels: legal protobuf, and not cacheable.
          const body = rnd() < 0.2 && lb.length > 1 && samples.length > 0 ? [...lb[0]!, ...samples[0]!, ...lb.slice(1).flat(), ...samples.slice(1).flat()] : [...lb.flat(), ...samples.flat()];
          parts.push(...lenField(1, body));
        }
        let buf = Buffer.from(parts);
        if (rnd() < 0.1) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
        const viaObjects = await (async () => {
          try {
            const d = decodeWriteRequestProto(buf);
            const series = d.timeseries.map((ts) => ({ labels: ts.labels, samples: ts.samples.map((x) => ({ t: x.timestamp, v: x.value })) }));
            return { result: await ingest({ appender: () => headA.appender() }, series) };
          } catch (err) {
            return { error: String(err) };
          }
        })();
        const viaColumns = await (async () => {
          try {
            const batch = decodeWriteRequestColumns(buf, (b, f, t) => cache.get(b, f, t));
            return { result: await ingestColumns({ appender: () => headB.appender() }, batch, cache) };
          } catch (err) {
            return { error: String(err) };
          }
        })();
        expect(viaColumns).toEqual(viaObjects);
      }
      const dump = (h: Head) => [...h.series()].map((s) => [s.ref, s.labels, s.lastT, s.lastV, s.numSamples]);
      expect(dump(headB)).toEqual(dump(headA));
    }
  });

  it('falls back to the labels when a cached series was garbage-collected', async () => {
    const base = 1_700_000_000_000;
    const head = new Head({ clock: () => base });
    const app = { appender: () => head.appender() };
    const cache = new SeriesCache();
    const body = (t: number) => Buffer.from(lenField(1, [...label('__name__', 'up'), ...label('job', 'x'), ...sample(t, 1)]));
    await ingestColumns(app, decodeWriteRequestColumns(body(base), (b, f, t) => cache.get(b, f, t)), cache);
    const first = [...head.series()][0]!.ref;
    expect(head.truncate(base + 1).series).toBe(1);
    const r = await ingestColumns(app, decodeWriteRequestColumns(body(base + 10), (b, f, t) => cache.get(b, f, t)), cache);
    expect(r.accepted).toBe(1);
    const [s] = [...head.series()];
    expect(s!.ref).not.toBe(first);
    expect(s!.labels).toEqual([
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'x' },
    ]);
  });
});

describe('SeriesCache', () => {
  const known = (name: string, value: string, ref: number) => ({ labels: [{ name, value }], ref });
  const bytes = (name: string, value: string) => Buffer.from(label(name, value));
  const key = (b: Buffer) => b.toString('latin1');

  it('confirms a hit by the label set or, for labels it cannot spell, by the bytes', () => {
    const cache = new SeriesCache();
    for (const [n, v, ref] of [['job', 'x', 1], ['job', 'xé', 2], ['job', 'xy', 3]] as const) cache.set(key(bytes(n, v)), known(n, v, ref));
    for (const [n, v, ref] of [['job', 'x', 1], ['job', 'xé', 2], ['job', 'xy', 3]] as const) {
      const b = bytes(n, v);
      expect(cache.get(b, 0, b.length)?.ref).toBe(ref);
    }
    for (const [n, v] of [['job', 'y'], ['jo', 'bx'], ['job', 'xz'], ['job', 'é']] as const) {
      const b = bytes(n, v);
      expect(cache.get(b, 0, b.length)).toBeUndefined();
    }
    // Bytes inside a larger buffer.
    const inner = bytes('job', 'xy');
    const outer = Buffer.concat([Buffer.from([1, 2, 3]), inner, Buffer.from([4])]);
    expect(cache.get(outer, 3, 3 + inner.length)?.ref).toBe(3);
  });
});
