import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { MappedChunkArena, mappedChunksAvailable, segmentFiles } from './mapped-arena.js';
import { XorChunk, type SealedChunk } from './xor.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'vigil-mapped-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A 120-sample chunk of a noisy counter starting at `t0`, sealed into `arena`. */
function sealedChunk(arena: MappedChunkArena, seed: number, t0: number): { chunk: SealedChunk; samples: Array<[number, number]> } {
  const c = new XorChunk();
  const samples: Array<[number, number]> = [];
  let v = seed * 1000;
  for (let i = 0; i < 120; i++) {
    v += ((seed * 7919 + i * 104729) % 1000) / 7;
    samples.push([t0 + i * 15_000, v]);
    c.append(t0 + i * 15_000, v);
  }
  return { chunk: c.seal(arena), samples };
}

function decode(chunk: SealedChunk): Array<[number, number]> {
  const it = chunk.iterator();
  const out: Array<[number, number]> = [];
  while (it.next()) out.push([it.t, it.v]);
  return out;
}

/** Resident bytes of the mappings of `file` in this process, from /proc/self/smaps. */
function residentBytesOf(file: string): number {
  let total = 0;
  let inFile = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inFile = line.endsWith(file);
    else if (inFile && line.startsWith('Rss:')) total += Number(/(\d+) kB/.exec(line)![1]) * 1024;
  }
  return total;
}

describe('MappedChunkArena', () => {
  it('has its native addon built (npm install builds it; without it chunks stay on the heap)', () => {
    expect(mappedChunksAvailable()).toEqual({ available: true });
  });

  it('reads back every sealed chunk across segment boundaries', () => {
    const dir = tempDir();
    const arena = new MappedChunkArena({ dir, segmentBytes: 128 << 10 });
    const sealed = [];
    for (let s = 0; s < 2000; s++) sealed.push(sealedChunk(arena, s, 1_700_000_000_000 + s * 1000));
    expect(arena.fellBack).toBe(false);
    // ~190 bytes per chunk: 2000 chunks fill several 128 KiB segments.
    expect(arena.segments).toBeGreaterThan(2);
    expect(segmentFiles(dir).length).toBe(arena.segments);
    for (const { chunk, samples } of sealed) expect(decode(chunk)).toEqual(samples);
    arena.close();
    // Closing removes the files; the chunks already sealed stay readable.
    expect(segmentFiles(dir)).toEqual([]);
    expect(decode(sealed[1999]!.chunk)).toEqual(sealed[1999]!.samples);
    expect(decode(sealed[0]!.chunk)).toEqual(sealed[0]!.samples);
  });

  it('drops filled pages from the process while the data stays readable', () => {
    const dir = tempDir();
    const arena = new MappedChunkArena({ dir, segmentBytes: 4 << 20 });
    const sealed = [];
    for (let s = 0; s < 8000; s++) sealed.push(sealedChunk(arena, s, s));
    const file = path.join(dir, segmentFiles(dir)[0]!);
    const written = sealed.reduce((n, x) => n + x.chunk.size, 0);
    expect(written).toBeGreaterThan(1 << 20);
    // Only the stretch being filled may be resident: everything else went back to the page cache.
    expect(residentBytesOf(file)).toBeLessThanOrEqual(128 << 10);
    let mismatches = 0;
    for (const { chunk, samples } of sealed) {
      const got = decode(chunk);
      if (got.length !== samples.length || got.some(([t, v], i) => t !== samples[i]![0] || v !== samples[i]![1])) mismatches++;
    }
    expect(mismatches).toBe(0);
    // Reading mapped them in again.
    expect(residentBytesOf(file)).toBeGreaterThan(1 << 20);
    arena.close();
  });

  it('removes leftover segment files of an earlier process when it opens', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '000001'), 'stale');
    writeFileSync(path.join(dir, '000007'), 'stale');
    const arena = new MappedChunkArena({ dir });
    expect(segmentFiles(dir)).toEqual([]);
    const { chunk, samples } = sealedChunk(arena, 1, 0);
    expect(segmentFiles(dir)).toEqual(['000001']);
    expect(decode(chunk)).toEqual(samples);
  });

  it('deletes a segment file once no chunk in it is reachable', async () => {
    const dir = tempDir();
    const arena = new MappedChunkArena({ dir, segmentBytes: 64 << 10 });
    let held: SealedChunk[] = [];
    for (let s = 0; s < 1200; s++) held.push(sealedChunk(arena, s, s).chunk);
    const before = segmentFiles(dir);
    expect(before.length).toBeGreaterThan(2);
    // Keep only chunks of the newest segment.
    held = held.slice(-5);
    for (let i = 0; i < 10 && segmentFiles(dir).length > 1; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(segmentFiles(dir)).toEqual([before[before.length - 1]]);
    expect(decode(held[4]!)).toHaveLength(120);
  });

  it('falls back to heap slabs, once and saying why, when a segment cannot be created', () => {
    const dir = tempDir();
    const reasons: string[] = [];
    const arena = new MappedChunkArena({ dir, onFallback: (r) => reasons.push(r) });
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a directory');
    const a = sealedChunk(arena, 1, 0);
    const b = sealedChunk(arena, 2, 0);
    expect(arena.fellBack).toBe(true);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^head chunks are kept on the heap: cannot map a chunk segment in .*vigil-mapped-.*: ENOTDIR/);
    expect(decode(a.chunk)).toEqual(a.samples);
    expect(decode(b.chunk)).toEqual(b.samples);
    rmSync(dir);
  });

  it('rejects a segment size that is not a multiple of the release step', () => {
    expect(() => new MappedChunkArena({ dir: tempDir(), segmentBytes: 100_000 })).toThrow(/multiple of 65536/);
  });
});
