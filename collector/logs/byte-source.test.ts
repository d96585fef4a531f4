import fc from 'fast-check';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GzipFileSource, PlainFileSource, gzipTrailerSize, type ByteSource } from './byte-source.js';

async function readAll(src: ByteSource, chunk: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (;;) {
    const r = await src.read(chunk);
    if (r.kind !== 'data') return Buffer.concat(parts);
    expect(r.data.length).toBeLessThanOrEqual(chunk);
    parts.push(Buffer.from(r.data));
  }
}

describe('byte sources', () => {
  let dir: string;
  let n = 0;
  const file = () => path.join(dir, `f${n++}`);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-bytes-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a gzip source from any offset yields exactly the plain bytes from that offset, in chunks of at most the asked size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200_000 }), fc.nat(), fc.integer({ min: 1, max: 100_000 }), async (bytes, at, chunk) => {
        const content = Buffer.from(bytes);
        const start = content.length === 0 ? 0 : at % (content.length + 1);
        const p = file();
        writeFileSync(p, gzipSync(content));
        const gz = new GzipFileSource(p, start);
        expect(await readAll(gz, chunk)).toEqual(content.subarray(start));
        expect(gz.position).toBe(content.length);
        await gz.close();
        expect(await gzipTrailerSize(p)).toBe(content.length);
      }),
      { numRuns: 40 },
    );
  });

  it('a corrupt or cut gzip file makes read reject, never hang', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 5000 }), fc.nat(), async (bytes, cutAt) => {
        const whole = gzipSync(Buffer.from(bytes));
        const p = file();
        // Either garbage or a real stream cut short before its trailer.
        writeFileSync(p, cutAt % 2 === 0 ? Buffer.from(bytes) : whole.subarray(0, cutAt % (whole.length - 8)));
        const gz = new GzipFileSource(p, 0);
        let failed = false;
        try {
          await readAll(gz, 4096);
        } catch {
          failed = true;
        }
        await gz.close();
        // Random bytes can form a valid gzip stream only with the magic header.
        if (!(cutAt % 2 === 0 && bytes[0] === 0x1f && bytes[1] === 0x8b)) expect(failed).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('a plain source reads new data as it is appended, and reports truncation', async () => {
    const p = file();
    writeFileSync(p, 'hello\n');
    const src = await PlainFileSource.open(p, 2);
    expect(await src.read(100)).toEqual({ kind: 'data', data: Buffer.from('llo\n') });
    expect(await src.read(100)).toEqual({ kind: 'eof' });
    appendFileSync(p, 'more\n');
    expect(await src.read(2)).toEqual({ kind: 'data', data: Buffer.from('mo') });
    truncateSync(p, 3);
    expect(await src.read(100)).toEqual({ kind: 'truncated', size: 3 });
    await src.close();
  });

  it('a guarded plain source reports a rewritten first line as truncation, even when the file grew', async () => {
    const p = file();
    writeFileSync(p, 'first line\nsecond\n');
    const src = await PlainFileSource.open(p, 0);
    await src.guardFirstLine(11);
    await readAll(src, 100);
    appendFileSync(p, 'third\n');
    expect(await src.read(100)).toEqual({ kind: 'data', data: Buffer.from('third\n') });
    writeFileSync(p, 'other content that is longer than before\n');
    expect((await src.read(100)).kind).toBe('truncated');
    await src.close();
  });
});
