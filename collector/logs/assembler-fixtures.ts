/**
 * Test helpers for the record assembler: runtime lines as a node writes them, and a fake file
 * that hands lines to an assembler with the byte offsets a tailer would compute.
 */
import { formatTimeNs, type LogRecord, type LogSource } from '../../model/logs.js';
import type { RecordAssembler } from './record-assembler.js';

export const TEST_SOURCE: LogSource = {
  node: 'node-1',
  namespace: 'shop',
  pod: 'api-0',
  podUid: '5f2b7c1e-0000-4000-8000-000000000001',
  container: 'api',
  restart: 0,
  path: '/var/log/pods/shop_api-0_5f2b7c1e-0000-4000-8000-000000000001/api/0.log',
  fileKey: '0123456789abcdef',
};

/** 2024-01-31T10:00:00Z in nanoseconds. */
export const T0 = BigInt(Date.UTC(2024, 0, 31, 10)) * 1_000_000n;

export function criLine(timeNs: bigint, stream: 'stdout' | 'stderr', tag: string, content: string): string {
  return `${formatTimeNs(timeNs)} ${stream} ${tag} ${content}`;
}

export function dockerLine(timeNs: bigint, stream: 'stdout' | 'stderr', log: string): string {
  return JSON.stringify({ log, stream, time: formatTimeNs(timeNs) });
}

/** CRI lines for `content` written on `stream`, one F line per text line, one ms apart from `start`. */
export function criLines(start: bigint, stream: 'stdout' | 'stderr', text: string): string[] {
  return text.split('\n').map((line, i) => criLine(start + BigInt(i) * 1_000_000n, stream, 'F', line));
}

/** A log file being written: lines go to the assembler with their byte offsets; the bytes are kept. */
export class FakeLogFile {
  offset: number;
  readonly lines: Array<{ text: string; offset: number; endOffset: number }> = [];
  readonly records: LogRecord[] = [];
  #bytes: Buffer[] = [];

  constructor(
    readonly assembler: RecordAssembler,
    startOffset = 0,
  ) {
    this.offset = startOffset;
  }

  /** Hands `line` on at `nowMs`; returns the records it completed (also kept in `records`). */
  push(line: string, nowMs = 0): LogRecord[] {
    const bytes = Buffer.from(`${line}\n`);
    const endOffset = this.offset + bytes.length;
    this.lines.push({ text: line, offset: this.offset, endOffset });
    this.#bytes.push(bytes);
    const out = this.assembler.push(line, this.offset, endOffset, nowMs);
    this.offset = endOffset;
    this.records.push(...out);
    return out;
  }

  pushAll(lines: readonly string[], nowMs = 0): LogRecord[] {
    return lines.flatMap((l) => this.push(l, nowMs));
  }

  flushDue(nowMs: number): LogRecord[] {
    const out = this.assembler.flushDue(nowMs);
    this.records.push(...out);
    return out;
  }

  flushAll(): LogRecord[] {
    const out = this.assembler.flushAll();
    this.records.push(...out);
    return out;
  }

  /** The file's bytes, as written so far. */
  bytes(): Buffer {
    return Buffer.concat(this.#bytes);
  }

  messages(): string[] {
    return this.records.map((r) => r.message);
  }
}
