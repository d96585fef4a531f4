/**
 * A log file's `fileKey`: the identity of its content, independent of its name and inode.
 *
 * It is the hex SHA-1 (first 16 characters) of the file's first line including its `\n`, so it
 * is the same for `0.log`, its rotated name `0.log.20060102-150405` and the gzipped
 * `0.log.20060102-150405.gz`: checkpoints follow the content through every rotation, and a
 * re-read of any copy yields the same record IDs. A CRI or docker first line starts with a
 * nanosecond timestamp, which makes two different files with the same first line implausible.
 *
 * Files from `extra_globs` often start with a line without a timestamp ("starting server"), the
 * same in every pod; their key also covers a `scope` (the path shared by a file and its rotated
 * copies, see discovery.ts), so two such files never share record IDs.
 *
 * A first line longer than `maxLineBytes` is cut exactly as `LineBuffer` cuts it. A file whose
 * first line is not complete yet has no key yet (undefined): nothing of it can be read anyway.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export interface Fingerprint {
  readonly fileKey: string;
  /** Bytes of the first line including its `\n`: re-hashing that prefix re-checks the key. */
  readonly firstLineBytes: number;
}

export function fileKeyOf(firstLine: Buffer, scope?: string): string {
  const h = createHash('sha1');
  if (scope !== undefined) h.update(`${scope}\u0000`);
  return h.update(firstLine).digest('hex').slice(0, 16);
}

/** The first line of `head` (the file's first bytes), or undefined when it may continue beyond. */
export function firstLineOf(head: Buffer, maxLineBytes: number): Buffer | undefined {
  const nl = head.subarray(0, maxLineBytes + 1).indexOf(0x0a);
  if (nl >= 0) return head.subarray(0, nl + 1);
  if (head.length > maxLineBytes) return head.subarray(0, maxLineBytes);
  return undefined;
}

/** Fingerprint of a plain file through an open handle (positional reads; the handle's position is untouched). */
export async function fingerprintHandle(fh: FileHandle, maxLineBytes: number, scope?: string): Promise<Fingerprint | undefined> {
  let size = 4096;
  for (;;) {
    const want = Math.min(size, maxLineBytes + 1);
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, 0);
    const head = buf.subarray(0, bytesRead);
    const line = firstLineOf(head, maxLineBytes);
    if (line !== undefined) return { fileKey: fileKeyOf(line, scope), firstLineBytes: line.length };
    if (bytesRead < want || want === maxLineBytes + 1) return undefined;
    size *= 8;
  }
}

/** Fingerprint of a gzipped file: decompresses only as far as the end of the first line. */
export async function fingerprintGzip(path: string, maxLineBytes: number, scope?: string): Promise<Fingerprint | undefined> {
  const input = createReadStream(path);
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  const parts: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      parts.push(chunk);
      length += chunk.length;
      if (parts.length > 1) parts.splice(0, parts.length, Buffer.concat(parts, length));
      const head = parts[0]!;
      const line = firstLineOf(head, maxLineBytes);
      if (line !== undefined) return { fileKey: fileKeyOf(line, scope), firstLineBytes: line.length };
    }
    return undefined;
  } finally {
    input.destroy();
    gunzip.destroy();
  }
}
