import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileKeyOf, fingerprintGzip, fingerprintHandle } from './fingerprint.js';

const sha = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 16);

describe('file fingerprints', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-fp-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function ofPlain(content: string | Buffer, max = 1024, scope?: string) {
    const p = path.join(dir, `f${Math.random()}`);
    await writeFile(p, content);
    const fh = await open(p, 'r');
    try {
      return await fingerprintHandle(fh, max, scope);
    } finally {
      await fh.close();
    }
  }

  it('is the SHA-1 of the first line with its newline, the same for the plain file and its gzip copy', async () => {
    const first = '2024-05-01T10:00:00.000000001Z stdout F hello\n';
    const content = `${first}2024-05-01T10:00:00.000000002Z stdout F world\n`;
    const plain = await ofPlain(content);
    expect(plain).toEqual({ fileKey: sha(first), firstLineBytes: Buffer.byteLength(first) });
    const gz = path.join(dir, 'copy.gz');
    await writeFile(gz, gzipSync(content));
    expect(await fingerprintGzip(gz, 1024)).toEqual(plain);
  });

  it('has no key while the first line is unfinished', async () => {
    expect(await ofPlain('')).toBeUndefined();
    expect(await ofPlain('2024-05-01T10:00:00Z stdout P no newline yet')).toBeUndefined();
    const gz = path.join(dir, 'partial.gz');
    await writeFile(gz, gzipSync('no newline'));
    expect(await fingerprintGzip(gz, 1024)).toBeUndefined();
  });

  it('reads past the first 4 KiB for a long first line, and cuts a first line over the limit', async () => {
    const long = `${'x'.repeat(10_000)}\nnext\n`;
    expect(await ofPlain(long, 20_000)).toEqual({ fileKey: sha(`${'x'.repeat(10_000)}\n`), firstLineBytes: 10_001 });
    expect(await ofPlain(long, 5000)).toEqual({ fileKey: sha('x'.repeat(5000)), firstLineBytes: 5000 });
  });

  it('separates scopes', async () => {
    const a = await ofPlain('starting\n', 1024, '/data/a/app.log');
    const b = await ofPlain('starting\n', 1024, '/data/b/app.log');
    expect(a!.fileKey).not.toBe(b!.fileKey);
    expect(a!.fileKey).toBe(fileKeyOf(Buffer.from('starting\n'), '/data/a/app.log'));
  });

  it('rejects a file that is not gzip', async () => {
    const p = path.join(dir, 'not.gz');
    await writeFile(p, 'plain text\n');
    await expect(fingerprintGzip(p, 1024)).rejects.toThrow();
  });
});

describe('firstLineOf', () => {
  it('agrees with LineBuffer on what the first line is', async () => {
    const fc = (await import('fast-check')).default;
    const { LineBuffer } = await import('./line-buffer.js');
    const { firstLineOf } = await import('./fingerprint.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a.map((b) => (b % 7 === 0 ? 0x0a : b)))), fc.integer({ min: 1, max: 100 }), (bytes, max) => {
        const lb = new LineBuffer(0, max);
        lb.append(bytes);
        const line = lb.next();
        const first = firstLineOf(bytes, max);
        if (line === undefined) expect(first).toBeUndefined();
        else expect(first).toEqual(bytes.subarray(0, line.endOffset));
      }),
      { numRuns: 500 },
    );
  });
});
