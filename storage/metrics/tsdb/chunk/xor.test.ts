import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STALE_NAN, isStaleNaN } from '../../../../model/stale.js';
import { ChunkArena } from './arena.js';
import { BitReader, BitWriter } from './bstream.js';
import { SealedChunk, XorChunk, type ChunkReader } from './xor.js';
import { WasmXorDecoder } from './xor-wasm.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
function bits(v: number): string {
  f64[0] = v;
  return u32[1]!.toString(16).padStart(8, '0') + u32[0]!.toString(16).padStart(8, '0');
}
function fromBits(hi: number, lo: number): number {
  u32[1] = hi;
  u32[0] = lo;
  return f64[0]!;
}

function roundTrip(samples: ReadonlyArray<{ t: number; v: number }>): Array<{ t: number; v: string }> {
  const c = new XorChunk();
  for (const s of samples) c.append(s.t, s.v);
  const out: Array<{ t: number; v: string }> = [];
  // Both the open chunk and its sealed copy must decode identically.
  for (const it of [c.iterator(), c.seal(new ChunkArena()).iterator()]) {
    const got: Array<{ t: number; v: string }> = [];
    while (it.next()) got.push({ t: it.t, v: bits(it.v) });
    out.push(...got);
  }
  return out;
}

/** Strictly increasing timestamps built from random positive gaps, small and huge. */
const timestamps = (n: number) =>
  fc
    .tuple(
      fc.integer({ min: -1e12, max: 2e12 }),
      fc.array(
        fc.oneof(
          fc.constant(15_000),
          fc.integer({ min: 1, max: 100 }),
          fc.integer({ min: 14_990, max: 15_010 }),
          fc.integer({ min: 1, max: 2 ** 40 }),
        ),
        { minLength: n, maxLength: n },
      ),
    )
    .map(([start, gaps]) => {
      const ts: number[] = [];
      let t = start;
      for (const g of gaps) ts.push((t += g));
      return ts;
    });

const values = fc.oneof(
  fc.double(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, STALE_NAN, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([h, l]) => fromBits(h, l)),
);

describe('bstream', () => {
  it('writes and reads arbitrary bit fields', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }))), (fields) => {
        const w = new BitWriter(1);
        for (const [v, n] of fields) w.writeBits(v, n);
        const r = new BitReader(w.buffer);
        for (const [v, n] of fields) {
          const mask = n === 32 ? 0xffffffff : 2 ** n - 1;
          expect(r.readBits(n)).toBe((v & mask) >>> 0);
        }
      }),
    );
  });
});

describe('XorChunk', () => {
  it('round-trips random timestamps and values bit-exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(timestamps(n), fc.array(values, { minLength: n, maxLength: n }))),
        ([ts, vs]) => {
          const samples = ts.map((t, i) => ({ t, v: vs[i]! }));
          const want = samples.map((s) => ({ t: s.t, v: bits(s.v) }));
          expect(roundTrip(samples)).toEqual([...want, ...want]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodeInto yields exactly what the iterator yields within [lo, hi]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(timestamps(n), fc.array(values, { minLength: n, maxLength: n }), fc.nat(n), fc.nat(n))),
        ([ts, vs, a, b]) => {
          const c = new XorChunk();
          ts.forEach((t, i) => c.append(t, vs[i]!));
          const lo = ts[Math.min(a, b, ts.length - 1)]! - (a % 2);
          const hi = ts[Math.min(Math.max(a, b), ts.length - 1)]! + (b % 2);
          // Arena neighbours must not leak in: seal next to other bytes.
          const arena = new ChunkArena(64 * 1024);
          const pad = new XorChunk();
          pad.append(1, 1);
          pad.seal(arena);
          // An exact-size copy makes the decoder read up to the very end of its buffer.
          const exact = new SealedChunk(c.bytes.slice(), 0, c.size, c.numSamples, c.minT, c.maxT);
          const readers: ChunkReader[] = [c, c.seal(arena), c.snapshot(), exact];
          for (const r of readers) {
            const wantT: number[] = [];
            const wantV: string[] = [];
            const it = r.iterator();
            while (it.next()) {
              if (it.t > hi) break;
              if (it.t >= lo) {
                wantT.push(it.t);
                wantV.push(bits(it.v));
              }
            }
            const gotT = new Float64Array(r.numSamples + 1).fill(-1);
            const gotV = new Float64Array(r.numSamples + 1);
            const end = r.decodeInto(lo, hi, gotT, gotV, 1);
            expect(end).toBe(wantT.length + 1);
            expect(gotT[0]).toBe(-1);
            expect(Array.from(gotT.subarray(1, end))).toEqual(wantT);
            expect(Array.from(gotV.subarray(1, end), bits)).toEqual(wantV);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the WebAssembly decoder yields what the iterator yields, over several chunks at once', () => {
    const wasm = new WasmXorDecoder();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }).chain((n) => fc.tuple(timestamps(n), fc.array(values, { minLength: n, maxLength: n }), fc.integer({ min: 1, max: 130 }), fc.nat(n), fc.nat(n))),
        ([ts, vs, perChunk, a, b]) => {
          const arena = new ChunkArena(4096);
          const chunks: ChunkReader[] = [];
          let c = new XorChunk();
          ts.forEach((t, i) => {
            if (c.numSamples === perChunk) {
              chunks.push(c.seal(arena));
              c = new XorChunk();
            }
            c.append(t, vs[i]!);
          });
          // The open chunk as queries see it: a snapshot of its live buffer.
          chunks.push(c.snapshot());
          const lo = ts[Math.min(a, b, ts.length - 1)]! - (a % 2);
          const hi = ts[Math.min(Math.max(a, b), ts.length - 1)]! + (b % 2);
          const wantT: number[] = [];
          const wantV: string[] = [];
          for (const r of chunks) {
            const it = r.iterator();
            while (it.next()) {
              if (it.t >= lo && it.t <= hi) {
                wantT.push(it.t);
                wantV.push(bits(it.v));
              }
            }
          }
          const gotT = new Float64Array(ts.length + 1).fill(-1);
          const gotV = new Float64Array(ts.length + 1);
          const end = wasm.decode(chunks, lo, hi, gotT, gotV, 1);
          expect(end).toBe(wantT.length + 1);
          expect(gotT[0]).toBe(-1);
          expect(Array.from(gotT.subarray(1, end))).toEqual(wantT);
          expect(Array.from(gotV.subarray(1, end), bits)).toEqual(wantV);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps the staleness marker payload', () => {
    const c = new XorChunk();
    c.append(1000, 1);
    c.append(2000, STALE_NAN);
    c.append(3000, NaN);
    const it = c.iterator();
    const vs: number[] = [];
    while (it.next()) vs.push(it.v);
    expect(vs.map(isStaleNaN)).toEqual([false, true, false]);
    expect(bits(STALE_NAN)).toBe('7ff0000000000002');
  });

  it('packs many sealed chunks into shared arena slabs and reads each back', () => {
    const arena = new ChunkArena(16 * 1024);
    const sealed: SealedChunk[] = [];
    for (let k = 0; k < 200; k++) {
      const c = new XorChunk();
      for (let i = 0; i < 1 + (k % 40); i++) c.append(k * 1e6 + i * 1000 + (i % 7), k + Math.sin(i));
      sealed.push(c.seal(arena));
    }
    expect(arena.allocated).toBeLessThan(sealed.reduce((n, c) => n + c.size, 0) + 16 * 1024);
    expect(new Set(sealed.map((c) => c.buf)).size).toBeLessThan(10);
    sealed.forEach((c, k) => {
      const it = c.iterator();
      let i = 0;
      while (it.next()) {
        expect(it.t).toBe(k * 1e6 + i * 1000 + (i % 7));
        expect(it.v).toBe(k + Math.sin(i));
        i++;
      }
      expect(i).toBe(1 + (k % 40));
    });
  });

  it('seeks forward and reports exhaustion', () => {
    const c = new XorChunk();
    for (let i = 0; i < 120; i++) c.append(i * 15_000, i);
    const it = c.iterator();
    expect(it.seek(45_001)).toBe(true);
    expect(it.t).toBe(60_000);
    expect(it.v).toBe(4);
    expect(it.seek(0)).toBe(true); // never moves backwards
    expect(it.t).toBe(60_000);
    expect(it.seek(119 * 15_000)).toBe(true);
    expect(it.v).toBe(119);
    expect(it.seek(119 * 15_000 + 1)).toBe(false);
    expect(it.next()).toBe(false);
  });

  it('rebuilds an appendable chunk from its bytes', () => {
    const c = new XorChunk();
    for (let i = 0; i < 50; i++) c.append(i * 10_000 + (i % 3), Math.sqrt(i));
    const r = XorChunk.fromBytes(c.seal(new ChunkArena()).bytes, c.numSamples);
    c.append(600_000, 42);
    r.append(600_000, 42);
    expect(Buffer.from(r.seal(new ChunkArena()).bytes)).toEqual(Buffer.from(c.seal(new ChunkArena()).bytes));
  });

  it('compresses a regularly scraped counter to under 2 bytes per sample', () => {
    // Deterministic LCG: a counter that is flat 30% of scrapes and otherwise grows by 0..99.
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let bytes = 0;
    for (let k = 0; k < 50; k++) {
      const c = new XorChunk();
      let v = 1_000_000 + k * 7919;
      for (let i = 0; i < 120; i++) {
        if (rand() >= 0.3) v += Math.floor(rand() * 100);
        c.append(1_700_000_000_000 + (k * 120 + i) * 15_000, v);
      }
      bytes += c.size;
    }
    expect(bytes / (50 * 120)).toBeLessThan(2);
  });
});
