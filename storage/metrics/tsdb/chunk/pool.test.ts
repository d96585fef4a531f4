import { describe, expect, it } from 'vitest';
import { OpenChunkPool } from './pool.js';
import { XorChunk } from './xor.js';
import { ChunkArena } from './arena.js';

describe('OpenChunkPool', () => {
  it('hands a released region out again, zeroed', () => {
    const pool = new OpenChunkPool();
    const a = pool.alloc(64);
    const off = pool.lastOffset;
    a.fill(0xff, off, off + 64);
    pool.release(a, off, 64);
    const b = pool.alloc(40); // same class (64)
    expect(b).toBe(a);
    expect(pool.lastOffset).toBe(off);
    expect([...b.subarray(off, off + 64)].every((x) => x === 0)).toBe(true);
  });

  it('keeps regions released while a reader is open until every such reader has ended', () => {
    const pool = new OpenChunkPool();
    const r1 = pool.beginRead();
    const a = pool.alloc(128);
    const off = pool.lastOffset;
    pool.release(a, off, 128);
    const r2 = pool.beginRead();
    expect(pool.waiting).toBe(1);
    // Not reusable while r1 (open at release) lives: a fresh region is carved instead.
    pool.alloc(128);
    expect(pool.lastOffset).not.toBe(off);
    pool.endRead(r2); // r2 opened after the release, but r1 is still open
    expect(pool.waiting).toBe(1);
    pool.endRead(r1);
    pool.endRead(r1); // twice is harmless
    expect(pool.waiting).toBe(0);
    expect(pool.alloc(128)).toBe(a);
    expect(pool.lastOffset).toBe(off);
  });

  it('a snapshot taken before a chunk is sealed reads the same samples after its region is reused', () => {
    const pool = new OpenChunkPool();
    const sealed = new ChunkArena();
    const c = new XorChunk(32, pool);
    for (let i = 0; i < 100; i++) c.append(1000 * i, Math.sin(i));
    const reader = pool.beginRead();
    const snap = c.snapshot();
    c.seal(sealed);
    // Other open chunks take regions (and grow) while the reader is open.
    const others = Array.from({ length: 50 }, () => new XorChunk(32, pool));
    for (const o of others) for (let i = 0; i < 100; i++) o.append(i, i * 7.5);
    const it = snap.iterator();
    for (let i = 0; i < 100; i++) {
      expect(it.next()).toBe(true);
      expect(it.t).toBe(1000 * i);
      expect(it.v).toBe(Math.sin(i));
    }
    expect(it.next()).toBe(false);
    pool.endRead(reader);
  });

  it('stops reserving once chunks are recycled: memory follows the open chunks, not the samples', () => {
    const pool = new OpenChunkPool();
    const sealed = new ChunkArena();
    const open = Array.from({ length: 100 }, () => new XorChunk(32, pool));
    const cycle = (base: number) => {
      for (let i = 0; i < open.length; i++) {
        for (let k = 0; k < 120; k++) open[i]!.append(base + k * 15_000, Math.random());
        open[i]!.seal(sealed);
        open[i] = new XorChunk(32, pool);
      }
    };
    cycle(0);
    const after = pool.reserved;
    for (let r = 1; r <= 20; r++) cycle(r * 120 * 15_000);
    expect(pool.reserved).toBe(after);
  });

  it('merges released blocks with their buddies, so small leftovers serve large requests again', () => {
    const pool = new OpenChunkPool();
    const sealed = new ChunkArena();
    // Chunks growing from 32 bytes leave 32…512-byte blocks behind on their way up.
    const chunks = Array.from({ length: 300 }, () => new XorChunk(32, pool));
    for (const c of chunks) for (let i = 0; i < 120; i++) c.append(i * 15_000, Math.random());
    const reserved = pool.reserved;
    for (const c of chunks) c.seal(sealed);
    expect(pool.freeBytes).toBe(reserved);
    // The same number of large chunks again fits in what was reserved.
    const again = Array.from({ length: 300 }, () => new XorChunk(1024, pool));
    expect(pool.reserved).toBe(reserved);
    for (const c of again) c.discard();
  });
});
